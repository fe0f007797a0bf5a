"""`max_images=0` is an error, not "every image" (it used to score the whole split)."""

from __future__ import annotations

import pytest

from vislab.captioning.evaluation import evaluate_captioner
from vislab.datasets.coco import load_coco_data
from vislab.errors import InvalidInputError


@pytest.mark.parametrize("max_images", [0, -3])
def test_max_images_below_one_is_refused(tiny_coco_dir, max_images):
    data = load_coco_data(tiny_coco_dir)
    with pytest.raises(InvalidInputError, match=f"max_images must be at least 1, got {max_images}"):
        evaluate_captioner(None, data, max_images=max_images)
