"""The course's Transformer captioner: a post-norm decoder over word embeddings that attends to
the projected image feature (a memory of length 1), plus cached one-token-at-a-time decoding.

With `grid_shape=(rows, columns)` (not the course's default) the image is one feature per grid
cell, (N, L = rows * columns, D): each cell is projected, given a learned 2-D position, and
the cross-attention runs over the L cells instead of one memory token.

Shapes: N batch, T caption length, D image-feature dim, W word-vector dim (= E, the attention
width), V vocabulary, L grid cells.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from vislab.captioning.transformer_decoding import beam_search, greedy_decode
from vislab.errors import InvalidInputError
from vislab.torch_nn import GridPositions, KeyValueCache, MultiHeadAttention, PositionalEncoding

FEEDFORWARD_DIM = 2048  # the course's feed-forward width


class TransformerDecoderLayer(nn.Module):
    """Masked self-attention, cross-attention to the memory, feed-forward; each residual + norm."""

    def __init__(
        self, input_dim: int, num_heads: int, dim_feedforward=FEEDFORWARD_DIM, dropout=0.1
    ):
        super().__init__()
        self.self_attn = MultiHeadAttention(input_dim, num_heads, dropout)
        self.multihead_attn = MultiHeadAttention(input_dim, num_heads, dropout)
        self.linear1 = nn.Linear(input_dim, dim_feedforward)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, input_dim)
        self.norm1 = nn.LayerNorm(input_dim)
        self.norm2 = nn.LayerNorm(input_dim)
        self.norm3 = nn.LayerNorm(input_dim)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)
        self.activation = nn.ReLU()

    def forward(self, tgt, memory, tgt_mask=None) -> torch.Tensor:
        """tgt: (N, T, W); memory: (N, M, W); tgt_mask: (T, T), 0 blocks -> (N, T, W)."""
        tgt = self.norm1(tgt + self.dropout1(self.self_attn(tgt, tgt, tgt, attn_mask=tgt_mask)))
        tgt = self.norm2(tgt + self.dropout2(self.multihead_attn(tgt, memory, memory)))
        return self._feed_forward(tgt)

    def forward_step(self, tgt, self_cache: KeyValueCache, cross) -> torch.Tensor:
        """One new position of incremental decoding, in eval mode.

        tgt: (N, 1, W) the newest position; self_cache holds keys/values of the earlier ones
        (no mask needed: the cache only holds the past); cross: (N, 1, W) the cross-attention
        output, the same for every position (see `CaptioningTransformer.start_decoding`), or,
        over a grid, the memory's projected (keys, values), each (N, heads, L, d).
        Returns (N, 1, W).
        """
        keys, values = self_cache.append(*self.self_attn.project_key_value(tgt, tgt))
        tgt = self.norm1(tgt + self.self_attn.attend(tgt, keys, values))
        if isinstance(cross, tuple):
            cross = self.multihead_attn.attend(tgt, *cross)
        tgt = self.norm2(tgt + cross)
        return self._feed_forward(tgt)

    def _feed_forward(self, tgt: torch.Tensor) -> torch.Tensor:
        hidden = self.dropout(self.activation(self.linear1(tgt)))
        return self.norm3(tgt + self.dropout3(self.linear2(hidden)))


class TransformerDecoder(nn.Module):
    """`num_layers` copies of a decoder layer (re-initialised by the captioner), applied in turn."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int):
        super().__init__()
        self.layers = nn.ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers

    def forward(self, tgt, memory, tgt_mask=None) -> torch.Tensor:
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask)
        return output


class DecodingState:
    """What incremental decoding carries between steps: one self-attention cache per layer,
    each layer's cross-attention output (N, 1, W) or, over a grid, its memory keys and values,
    and the next position."""

    def __init__(self, caches: list[KeyValueCache], crosses: list[torch.Tensor]):
        self.caches = caches
        self.crosses = crosses
        self.position = 0

    def reorder(self, index: torch.Tensor) -> None:
        """Keep batch rows `index` (N',) everywhere (beam search)."""
        for cache in self.caches:
            cache.reorder(index)
        self.crosses = [
            tuple(part.index_select(0, index) for part in cross)
            if isinstance(cross, tuple)
            else cross.index_select(0, index)
            for cross in self.crosses
        ]


class CaptioningTransformer(nn.Module):
    """Image feature -> caption scores, with the course's constructor and layer names.

    `dropout` (default 0.1, the course's value) is an addition: 0 makes training deterministic
    across process counts, which the data-parallel equivalence check relies on. `grid_shape`
    (rows, columns) makes the features (N, rows * columns, D), one per grid cell.
    `feedforward_dim` is the width of each layer's feed-forward block: the course's 2048 by
    default; at a word width of 64 that block is most of a step's time, and 4x the width (the
    original Transformer's ratio) trains several times faster.
    """

    def __init__(
        self,
        word_to_idx: dict[str, int],
        input_dim: int,
        wordvec_dim: int,
        num_heads: int = 4,
        num_layers: int = 2,
        max_length: int = 50,
        dropout: float = 0.1,
        grid_shape: tuple[int, int] | None = None,
        feedforward_dim: int = FEEDFORWARD_DIM,
    ):
        super().__init__()
        if feedforward_dim < 1:
            raise InvalidInputError(f"feedforward_dim must be at least 1, got {feedforward_dim}")
        if num_heads < 1 or wordvec_dim % num_heads or wordvec_dim % 2:  # sinusoids pair up
            raise InvalidInputError(
                f"wordvec_dim ({wordvec_dim}) must be even and a multiple of num_heads "
                f"({num_heads})"
            )
        self.word_to_idx = dict(word_to_idx)
        self.config = {
            "input_dim": input_dim,
            "wordvec_dim": wordvec_dim,
            "num_heads": num_heads,
            "num_layers": num_layers,
            "max_length": max_length,
            "dropout": dropout,
        }
        if grid_shape is not None:
            self.config["grid_shape"] = [int(size) for size in grid_shape]
        if feedforward_dim != FEEDFORWARD_DIM:  # the course's models keep their config
            self.config["feedforward_dim"] = int(feedforward_dim)
        vocab_size = len(word_to_idx)
        self.vocab_size = vocab_size
        self._null = word_to_idx["<NULL>"]
        self._start = word_to_idx.get("<START>", None)
        self._end = word_to_idx.get("<END>", None)
        self.max_length = max_length

        self.visual_projection = nn.Linear(input_dim, wordvec_dim)
        self.embedding = nn.Embedding(vocab_size, wordvec_dim, padding_idx=self._null)
        self.positional_encoding = PositionalEncoding(wordvec_dim, dropout, max_len=max_length)
        decoder_layer = TransformerDecoderLayer(wordvec_dim, num_heads, feedforward_dim, dropout)
        self.transformer = TransformerDecoder(decoder_layer, num_layers=num_layers)
        self.apply(self._init_weights)
        # As in the course, the output layer is created after the N(0, 0.02) initialisation
        # and keeps nn.Linear's default initialisation.
        self.output = nn.Linear(wordvec_dim, vocab_size)
        self.grid_positions = (
            None if grid_shape is None else GridPositions(*grid_shape, wordvec_dim)
        )

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            module.weight.data.normal_(mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)

    def forward(self, features: torch.Tensor, captions: torch.Tensor) -> torch.Tensor:
        """Scores of the next word at every position, each seeing only itself and earlier words.

        features: (N, D) image features; captions: (N, T) word ids. Returns scores (N, T, V).
        """
        T = captions.shape[1]
        embeddings = self.positional_encoding(self.embedding(captions))  # (N, T, W)
        memory = self._memory(features)  # (N, 1, W), or (N, L, W) over a grid
        causal = torch.ones(T, T, dtype=torch.bool, device=captions.device).tril()
        return self.output(self.transformer(embeddings, memory, tgt_mask=causal))

    def _memory(self, features: torch.Tensor) -> torch.Tensor:
        """features (N, D) -> (N, 1, W); over a grid (N, L, D) -> (N, L, W) with positions."""
        if self.grid_positions is None:
            return self.visual_projection(features).unsqueeze(1)  # (N, W) -> (N, 1, W)
        expected = self.grid_positions.rows * self.grid_positions.columns
        if features.ndim != 3 or features.shape[1] != expected:
            raise InvalidInputError(
                f"grid features must be (N, {expected}, D), got {tuple(features.shape)}"
            )
        return self.grid_positions(self.visual_projection(features))

    def start_decoding(self, features: torch.Tensor, max_steps: int) -> DecodingState:
        """Project the image once per layer and allocate caches for `max_steps` positions.

        features: (N, D) on the model's device.
        """
        if max_steps > self.max_length:
            raise InvalidInputError(
                f"cannot decode {max_steps} words: the model was built for max_length "
                f"{self.max_length}"
            )
        memory = self._memory(features)  # (N, 1, W), or (N, L, W) over a grid
        caches, crosses = [], []
        for layer in self.transformer.layers:
            attn = layer.self_attn
            caches.append(
                KeyValueCache(len(features), attn.n_head, max_steps, attn.head_dim, memory)
            )
            # The memory has one position, so every query gives it softmax weight exactly 1:
            # cross-attention is proj(value(memory)) for every step, computed once here.
            cross = layer.multihead_attn
            if self.grid_positions is not None:  # L cells: attend at every step
                crosses.append(cross.project_key_value(memory, memory))
            else:
                crosses.append(cross.proj(cross.value(memory)))
        return DecodingState(caches, crosses)

    def decode_step(self, words: torch.Tensor, state: DecodingState) -> torch.Tensor:
        """Feed one word per row, get the scores of the next: words (N,) -> scores (N, V)."""
        # (N,) -> (N, W) -> (N, 1, W): a sequence of one position, the newest
        x = self.positional_encoding(self.embedding(words).unsqueeze(1), start=state.position)
        for layer, cache, cross in zip(
            self.transformer.layers, state.caches, state.crosses, strict=True
        ):
            x = layer.forward_step(x, cache, cross)
        state.position += 1
        return self.output(x[:, 0])  # (N, 1, W) -> (N, W) -> (N, V)

    def sample(
        self,
        features,
        max_length: int = 30,
        beam_size: int = 1,
        use_cache: bool = True,
        length_penalty: float = 1.0,
        block_trigrams: bool = False,
    ) -> np.ndarray:
        """Caption images (greedy, or beam search when beam_size > 1 or block_trigrams; see
        `transformer_decoding.beam_search` for the decoding options), in eval mode.

        features: (N, D) array or tensor. Returns int (N, max_length) word ids, the first
        generated word first, `<NULL>` after `<END>`.
        """
        was_training = self.training
        self.eval()
        try:
            device = next(self.parameters()).device
            features = torch.as_tensor(np.asarray(features), dtype=torch.float32, device=device)
            with torch.no_grad():
                if beam_size > 1 or block_trigrams:
                    captions = beam_search(
                        self, features, max_length, beam_size, length_penalty, block_trigrams
                    )
                else:
                    captions = greedy_decode(self, features, max_length, use_cache)
        finally:
            self.train(was_training)
        return captions.cpu().numpy()
