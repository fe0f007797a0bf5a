"""Images the lab works on: uploads (capped in bytes and pixels, checked like every other
image input) and the scikit-image sample photos, referred to as "upload:ID" / "sample:NAME".

An upload is written to the server's temporary folder, read back through
`vislab.datasets.sample_photos.load_image` (the reader every image input goes through),
shrunk to at most MAX_SIDE pixels a side, kept in memory and its file deleted. Only the
latest `keep` uploads are remembered.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from vislab.datasets.sample_photos import SAMPLE_PHOTOS, load_image, load_sample_photo
from vislab.errors import CorruptFileError, InvalidInputError

MAX_UPLOAD_BYTES = 8 * 2**20
MAX_UPLOAD_PIXELS = 40_000_000  # 40 megapixels: larger photos are refused before decoding
MAX_SIDE = 512  # every classifier here looks at 224 x 224 or less
REFERENCE = re.compile(r"^(sample|upload):([A-Za-z0-9_-]{1,40})$")


class ImageStore:
    """Uploaded images by id, and the sample photos by name."""

    def __init__(self, temp_dir: Path, keep: int = 64):
        self.temp_dir, self.keep = Path(temp_dir), keep
        self._uploads: OrderedDict[str, Image.Image] = OrderedDict()
        self._samples: dict[str, Image.Image] = {}
        self._lock = threading.Lock()

    def add(self, data: bytes) -> str:
        """Check and keep an uploaded file's bytes; return its reference "upload:ID"."""
        if len(data) > MAX_UPLOAD_BYTES:
            raise InvalidInputError(
                f"the upload is larger than {MAX_UPLOAD_BYTES // 2**20} MiB; send a smaller image"
            )
        if not data:
            raise InvalidInputError("the upload is empty; choose an image file")
        upload_id = secrets.token_hex(8)
        path = self.temp_dir / f"{upload_id}.upload"
        path.write_bytes(data)
        try:
            _check_pixels(path)
            image = load_image(path)
        finally:
            path.unlink(missing_ok=True)
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        with self._lock:
            self._uploads[upload_id] = image
            while len(self._uploads) > self.keep:
                self._uploads.popitem(last=False)
        return f"upload:{upload_id}"

    def get(self, reference: str) -> Image.Image:
        """The RGB image a reference names; a clear error for unknown or expired ones."""
        match = REFERENCE.match(reference or "")
        if match is None:
            raise InvalidInputError(
                f"image {reference!r} is neither sample:NAME nor upload:ID; "
                "pick a sample photo or upload one"
            )
        kind, name = match.groups()
        with self._lock:
            if kind == "upload":
                if name not in self._uploads:
                    raise InvalidInputError("that upload has expired; upload the image again")
                return self._uploads[name]
            if name in self._samples:
                return self._samples[name]
        if name not in SAMPLE_PHOTOS:
            raise InvalidInputError(
                f"unknown sample photo {name!r}; choose from {', '.join(SAMPLE_PHOTOS)}"
            )
        image = load_sample_photo(name)
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        with self._lock:
            self._samples[name] = image
        return image


def _check_pixels(path: Path) -> None:
    """Refuse images over MAX_UPLOAD_PIXELS from their header, before decoding them."""
    try:
        with Image.open(path) as image:
            width, height = image.size
    except UnidentifiedImageError as error:
        raise CorruptFileError(
            "the upload is not a readable image (no format Pillow reads)"
        ) from error
    except (OSError, SyntaxError, ValueError) as error:
        raise CorruptFileError(f"the upload is not a readable image ({error})") from error
    except Image.DecompressionBombError as error:
        raise InvalidInputError(f"the upload has too many pixels ({error})") from error
    if width * height > MAX_UPLOAD_PIXELS:
        raise InvalidInputError(
            f"the upload is {width} x {height} pixels, over the {MAX_UPLOAD_PIXELS // 10**6} "
            "megapixel limit; send a smaller image"
        )
