"""Multi-head scaled dot-product attention (the course's `MultiHeadAttention`) with a KV cache.

    Y_i = dropout(softmax((X Q_i)(X K_i)^T / sqrt(E/H))) (X V_i),   Y = [Y_1; ...; Y_H] A

Shapes: N batch, S query length, T key length, E embedding dim, H heads, d = E/H head dim.
The attention itself runs in `torch.nn.functional.scaled_dot_product_attention`, which computes
the same formula (scale 1/sqrt(d), boolean mask where False blocks, dropout on the attention
weights with survivors scaled by 1/(1-p)) in one fused kernel.

`KeyValueCache` keeps the projected keys/values of the positions decoded so far, so that
incremental decoding projects only the newest token instead of the whole prefix.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class KeyValueCache:
    """Preallocated keys and values of one attention layer for incremental decoding.

    keys, values: (N, H, max_len, d); the first `length` positions along dim 2 are filled.
    """

    def __init__(self, batch_size: int, num_heads: int, max_len: int, head_dim: int, like):
        shape = (batch_size, num_heads, max_len, head_dim)
        self.keys = torch.empty(shape, dtype=like.dtype, device=like.device)
        self.values = torch.empty(shape, dtype=like.dtype, device=like.device)
        self.length = 0

    def append(self, keys: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store new positions and return all cached ones.

        keys, values: (N, H, S, d) for the S new positions.
        Returns keys, values: (N, H, length + S, d) views of the cache.
        """
        end = self.length + keys.shape[2]
        if end > self.keys.shape[2]:
            raise ValueError(f"cache holds {self.keys.shape[2]} positions, {end} were asked for")
        self.keys[:, :, self.length : end] = keys
        self.values[:, :, self.length : end] = values
        self.length = end
        return self.keys[:, :, :end], self.values[:, :, :end]

    def reorder(self, index: torch.Tensor) -> None:
        """Keep rows `index` of the batch (beam search: each beam continues its parent's cache).

        index: (N',) int64 rows of the current batch; the cache becomes batch N'.
        """
        self.keys = self.keys.index_select(0, index)
        self.values = self.values.index_select(0, index)


class MultiHeadAttention(nn.Module):
    """Multi-head attention with the course's layer names and creation order."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.1):
        super().__init__()
        assert embed_dim % num_heads == 0
        # Created in this order: the course's expected values depend on the random-number order.
        self.key = nn.Linear(embed_dim, embed_dim)
        self.query = nn.Linear(embed_dim, embed_dim)
        self.value = nn.Linear(embed_dim, embed_dim)
        self.proj = nn.Linear(embed_dim, embed_dim)
        self.attn_drop = nn.Dropout(dropout)
        self.n_head = num_heads
        self.emd_dim = embed_dim
        self.head_dim = embed_dim // num_heads

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        attn_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Attend from `query` to `key`/`value`.

        query: (N, S, E); key, value: (N, T, E).
        attn_mask: (S, T) where 0/False blocks query i from key j.
        Returns (N, S, E).
        """
        keys, values = self.project_key_value(key, value)
        return self.attend(query, keys, values, attn_mask)

    def project_key_value(
        self, key: torch.Tensor, value: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """key, value: (N, T, E) -> projected keys, values split into heads: (N, H, T, d) each."""
        return self._split_heads(self.key(key)), self._split_heads(self.value(value))

    def attend(
        self,
        query: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        attn_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Attention of `query` over already projected keys and values.

        query: (N, S, E); keys, values: (N, H, T, d) from `project_key_value` (or a cache).
        attn_mask: (S, T), 0/False blocks. Returns (N, S, E).
        """
        N, S, E = query.shape
        queries = self._split_heads(self.query(query))  # (N, H, S, d)
        if attn_mask is not None:
            attn_mask = attn_mask.to(device=query.device, dtype=torch.bool)
        dropout = self.attn_drop.p if self.training else 0.0
        heads = F.scaled_dot_product_attention(
            queries, keys, values, attn_mask=attn_mask, dropout_p=dropout
        )  # (N, H, S, d)
        # (N, H, S, d) -> (N, S, H, d) -> (N, S, E): the heads side by side, then A
        return self.proj(heads.transpose(1, 2).reshape(N, S, E))

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        N, L, _ = x.shape
        # (N, L, E) -> (N, L, H, d) -> (N, H, L, d): head i owns columns i*d .. (i+1)*d - 1
        return x.view(N, L, self.n_head, self.head_dim).transpose(1, 2)
