"""Image captioning: numpy RNN/LSTM captioner, solver, captioner registry, data helpers."""

from vislab.captioning.captioners import (
    CAPTIONERS,
    CaptionerType,
    TrainedCaptioner,
    load_captioner,
    train_captioner,
)
from vislab.captioning.numpy_beam_search import beam_search
from vislab.captioning.rnn import CaptioningRNN
from vislab.captioning.solver import CaptioningSolver
from vislab.datasets.coco import (
    decode_captions,
    load_coco_data,
    sample_coco_minibatch,
    write_coco_data,
)
from vislab.datasets.image_urls import image_from_url

__all__ = [
    "CAPTIONERS",
    "CaptionerType",
    "CaptioningRNN",
    "CaptioningSolver",
    "TrainedCaptioner",
    "beam_search",
    "decode_captions",
    "image_from_url",
    "load_captioner",
    "load_coco_data",
    "sample_coco_minibatch",
    "train_captioner",
    "write_coco_data",
]
