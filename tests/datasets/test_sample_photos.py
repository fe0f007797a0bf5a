"""scikit-image's sample photos by name, and clear errors for files that are not images."""

from __future__ import annotations

import pytest

from vislab.datasets.sample_photos import SAMPLE_PHOTOS, load_image, load_sample_photo
from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError


def test_every_sample_photo_loads_as_rgb():
    for name in SAMPLE_PHOTOS:
        image = load_sample_photo(name)
        assert image.mode == "RGB" and min(image.size) >= 256
    assert load_sample_photo("chelsea").size == (451, 300)


def test_bad_inputs_are_clear_errors(tmp_path):
    with pytest.raises(InvalidInputError, match="chelsea"):
        load_sample_photo("kitten")
    with pytest.raises(DataNotFoundError, match="missing.png"):
        load_image(tmp_path / "missing.png")
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(CorruptFileError, match="notes.png"):
        load_image(text)
