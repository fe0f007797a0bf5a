"""Image captioning: numpy RNN/LSTM captioner, solver, captioner registry, data helpers."""

from vislab.datasets.coco import (
    decode_captions,
    load_coco_data,
    sample_coco_minibatch,
    write_coco_data,
)
from vislab.datasets.image_urls import image_from_url

__all__ = [
    "decode_captions",
    "image_from_url",
    "load_coco_data",
    "sample_coco_minibatch",
    "write_coco_data",
]
