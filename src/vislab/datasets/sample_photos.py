"""The real photos scikit-image ships (read from its data folder; nothing downloads) and a
`load_image` that turns any image file into RGB or a clear error."""

from __future__ import annotations

import os
from pathlib import Path

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


def load_image(path: str | os.PathLike) -> Image.Image:
    """Open any image file as an RGB PIL image; missing or non-image files raise clearly."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"image file not found: {path}")
    try:
        with Image.open(path) as image:
            image.load()
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise CorruptFileError(f"{path}: not a readable image ({error})") from error


def load_sample_photo(name: str) -> Image.Image:
    """A scikit-image sample photo by name, as an RGB PIL image."""
    return load_image(sample_photo_path(name))
