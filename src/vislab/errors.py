"""The errors vislab raises on bad input; the CLI prints their message as one sentence."""


class VislabError(Exception):
    """Base class: a problem the user can fix (bad input, a missing file), not a bug."""


class DataNotFoundError(VislabError, FileNotFoundError):
    """A data set, weights file or input file is missing; the message says how to get it."""


class CorruptFileError(VislabError, ValueError):
    """A file exists but its content is not what its format promises."""


class InvalidInputError(VislabError, ValueError):
    """An argument has the wrong shape, type or value."""


class RunInterrupted(VislabError):
    """A run stopped on SIGINT/SIGTERM; `checkpoint` is the file it kept, or None."""

    def __init__(self, message: str, checkpoint=None):
        super().__init__(message)
        self.checkpoint = checkpoint
