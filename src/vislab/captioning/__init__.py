"""Image captioning: numpy RNN/LSTM and torch Transformer captioners, solvers, captioner registry,
data helpers."""

from vislab.captioning.captioners import (
    CAPTIONERS,
    CaptionerType,
    TrainedCaptioner,
    load_captioner,
    train_captioner,
)
from vislab.captioning.evaluation import (
    CaptionEvaluation,
    evaluate_captioner,
    evaluate_checkpoint,
    evaluate_nearest_neighbour,
)
from vislab.captioning.metrics import caption_scores
from vislab.captioning.nearest_neighbour import NearestNeighbourCaptioner
from vislab.captioning.numpy_beam_search import beam_search
from vislab.captioning.numpy_rnn import CaptioningRNN
from vislab.captioning.numpy_solver import CaptioningSolver
from vislab.captioning.transformer import CaptioningTransformer
from vislab.captioning.transformer_solver import CaptioningSolverTransformer
from vislab.datasets.coco import (
    decode_captions,
    load_coco_data,
    sample_coco_minibatch,
    write_coco_data,
)
from vislab.datasets.image_urls import image_from_url
from vislab.torch_nn import MultiHeadAttention, PositionalEncoding

__all__ = [
    "CAPTIONERS",
    "CaptionEvaluation",
    "CaptionerType",
    "CaptioningRNN",
    "CaptioningSolver",
    "CaptioningSolverTransformer",
    "CaptioningTransformer",
    "MultiHeadAttention",
    "NearestNeighbourCaptioner",
    "PositionalEncoding",
    "TrainedCaptioner",
    "beam_search",
    "caption_scores",
    "decode_captions",
    "evaluate_captioner",
    "evaluate_checkpoint",
    "evaluate_nearest_neighbour",
    "image_from_url",
    "load_captioner",
    "load_coco_data",
    "sample_coco_minibatch",
    "train_captioner",
    "write_coco_data",
]
