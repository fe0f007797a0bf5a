"""What the runs folder holds: trained GANs, captioners and scene caption sets.

The folder is walked (without following links, at most MAX_DEPTH levels). A run folder holds
a checkpoint (`best.pt`, preferred, or `last.pt` / `checkpoint.pt`); what wrote it is read
from the checkpoint's own tags (a GAN's "format", a captioner's "model" name) without
unpickling anything, once per file version. A scene caption set is a folder with
`scenes.json` (`vislab data build-scenes`). Entries are named by their path relative to the
runs folder; requests name entries, never paths, so nothing outside the folder is read.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from vislab.captioning import CAPTIONERS
from vislab.checkpoints import load_plain

logger = logging.getLogger(__name__)

MAX_DEPTH = 6
CHECKPOINT_FILES = ("best.pt", "last.pt", "checkpoint.pt")  # the first found is the run's
SCENES_FILE = "scenes.json"


@dataclass
class Catalog:
    """Relative name -> absolute path of each kind found under runs_dir."""

    runs_dir: Path
    gans: dict[str, Path] = field(default_factory=dict)
    captioners: dict[str, Path] = field(default_factory=dict)
    scene_sets: dict[str, Path] = field(default_factory=dict)

    def missing(self) -> dict[str, str]:
        """For each kind with nothing found: what is missing and which command makes it."""
        runs = str(self.runs_dir)
        notes = {}
        if not self.gans:
            notes["gan"] = (
                f"No trained GAN under {runs}. Make one with `vislab demo --out {runs}` or "
                f"`vislab gan train --model dc --out {runs}/gan-dc`."
            )
        if not self.captioners:
            notes["caption"] = (
                f"No trained captioner under {runs}. Make them with `vislab demo --out {runs}`, or "
                f"`vislab data build-scenes --out {runs}/scenes` then `vislab caption train "
                f"--model lstm --data {runs}/scenes --out {runs}/lstm`."
            )
        elif not self.scene_sets:
            notes["caption"] = (
                f"No scene caption set under {runs} (the captioners need its vocabulary and "
                f"features). Make it with `vislab data build-scenes --out {runs}/scenes`."
            )
        return notes


@functools.lru_cache(maxsize=256)
def checkpoint_kind(path: Path, mtime_ns: int) -> str | None:
    """ "gan", "captioner" or None (not a checkpoint of either), from the file's tags."""
    try:
        state = load_plain(path, map_location="cpu", mmap=True)
    except Exception as error:  # any unreadable file is simply not a run
        logger.info("skipping %s: %s", path, error)
        return None
    if not isinstance(state, dict):
        return None
    if str(state.get("format", "")).startswith("vislab-gan"):
        return "gan"
    if state.get("model") in CAPTIONERS:
        return "captioner"
    return None


def scan_runs(runs_dir: str | os.PathLike) -> Catalog:
    """Walk runs_dir for GAN and captioner runs and scene caption sets."""
    root = Path(runs_dir).resolve()
    catalog = Catalog(root)
    if not root.is_dir():
        return catalog
    for folder, subfolders, files in os.walk(root, followlinks=False):
        here = Path(folder)
        name = here.relative_to(root).as_posix() or "."
        if len(here.relative_to(root).parts) >= MAX_DEPTH:
            subfolders.clear()
        subfolders[:] = sorted(s for s in subfolders if not s.startswith("."))
        if SCENES_FILE in files and not (here / SCENES_FILE).is_symlink():
            catalog.scene_sets[name] = here
        found = [here / f for f in CHECKPOINT_FILES if f in files]
        found = [path for path in found if not path.is_symlink() and path.is_file()]
        if found:
            kind = checkpoint_kind(found[0], found[0].stat().st_mtime_ns)
            if kind == "gan":
                catalog.gans[name] = found[0]
            elif kind == "captioner":
                catalog.captioners[name] = found[0]
    return catalog
