"""The real photos scikit-image ships (read from its data folder; nothing downloads) and a
`load_image` that turns any image file into RGB or a clear error."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import IO

from PIL import Image, UnidentifiedImageError

from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError

# name -> file in skimage's data folder. The ImageNet labels are those a person would give
# (several when ImageNet splits the concept); None where ImageNet has no class for it.
SAMPLE_PHOTOS = {
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    "astronaut": "astronaut.png",
    "rocket": "rocket.jpg",
    "motorcycle": "motorcycle_left.png",
}
# The longest side may be at most this many times the shortest: a 1x80000 strip scaled to a
# short side of 224 would need 18 million columns.
MAX_ASPECT_RATIO = 50
MAX_IMAGE_BYTES = 256 * 2**20  # an encoded image file larger than this is refused
SAMPLE_PHOTO_LABELS: dict[str, tuple[str, ...] | None] = {
    "chelsea": ("tabby", "tiger cat", "Egyptian cat"),
    "coffee": ("espresso", "cup", "coffee mug"),
    "astronaut": None,
    "rocket": ("missile", "projectile", "space shuttle"),
    "motorcycle": ("moped", "motor scooter", "crash helmet", "disc brake"),
}


def _data_dir() -> Path:
    try:
        import skimage.data
    except ModuleNotFoundError as error:
        raise DataNotFoundError(
            "sample photos need scikit-image: pip install scikit-image"
        ) from error
    return Path(skimage.data.data_dir)


def sample_photo_path(name: str) -> Path:
    """Path of a scikit-image sample photo by name (see SAMPLE_PHOTOS)."""
    if name not in SAMPLE_PHOTOS:
        raise InvalidInputError(
            f"unknown sample photo {name!r}; choose from {', '.join(SAMPLE_PHOTOS)}"
        )
    path = _data_dir() / SAMPLE_PHOTOS[name]
    if not path.is_file():
        raise DataNotFoundError(f"{path} is missing; reinstall scikit-image")
    return path


def check_image_size(width: int, height: int, source: object) -> None:
    """Refuse sizes that would blow up a resize to a short side of 224 (Pillow itself bounds
    the pixel count, `Image.MAX_IMAGE_PIXELS`, ~89 million)."""
    if width < 1 or height < 1:
        raise CorruptFileError(f"{source}: an image of {width}x{height} pixels is empty")
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise InvalidInputError(
            f"{source}: {width}x{height} pixels is a more extreme aspect ratio than "
            f"{MAX_ASPECT_RATIO}:1; crop it first"
        )


def open_image(data: IO[bytes] | str | os.PathLike, source: object) -> Image.Image:
    """Decode an image (a path or a binary file object) to RGB, refusing decompression bombs
    and degenerate sizes before any pixel is decoded; every failure names `source`."""
    try:
        with warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS and raises at twice that: both are refusals.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(data) as image:
                check_image_size(image.width, image.height, source)
                image.load()
                return image.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise InvalidInputError(
            f"{source}: too many pixels for an image here, a possible decompression bomb ({error})"
        ) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        if isinstance(error, InvalidInputError | CorruptFileError):
            raise
        if isinstance(error, UnidentifiedImageError):  # its text names a BytesIO, not the file
            raise CorruptFileError(
                f"{source}: not a readable image (no format Pillow reads)"
            ) from error
        raise CorruptFileError(f"{source}: not a readable image ({error})") from error


def load_image(path: str | os.PathLike) -> Image.Image:
    """Open any image file as an RGB PIL image; missing, non-image, too large or extremely
    elongated files raise clearly (see `check_image_size`)."""
    path = Path(path)
    if path.is_dir():
        raise InvalidInputError(f"{path} is a folder, not an image file")
    if not path.is_file():
        raise DataNotFoundError(f"image file not found: {path}")
    if path.stat().st_size > MAX_IMAGE_BYTES:
        raise InvalidInputError(f"{path}: larger than {MAX_IMAGE_BYTES >> 20} MiB, too large")
    # Decoded from memory: a chunk header that declares more bytes than the file holds then
    # costs nothing, where Pillow reading a real file allocates what the header declares.
    return open_image(io.BytesIO(path.read_bytes()), path)


def load_sample_photo(name: str) -> Image.Image:
    """A scikit-image sample photo by name, as an RGB PIL image."""
    return load_image(sample_photo_path(name))
