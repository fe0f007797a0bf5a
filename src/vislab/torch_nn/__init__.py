"""Reusable torch blocks with no task knowledge: attention, positions, data-parallel helpers."""

from vislab.torch_nn.attention import KeyValueCache, MultiHeadAttention
from vislab.torch_nn.positions import GridPositions, PositionalEncoding

__all__ = ["GridPositions", "KeyValueCache", "MultiHeadAttention", "PositionalEncoding"]
