"""Sinusoidal positional encoding (the course's `PositionalEncoding`).

    P[i, j] = sin(i * 10000^(-j/E))        for even j
    P[i, j] = cos(i * 10000^(-(j-1)/E))    for odd j

The encoding is added to the token embeddings, then dropout is applied.
"""

from __future__ import annotations

import torch
from torch import nn


class PositionalEncoding(nn.Module):
    """Adds the fixed sinusoidal table `pe` (1, max_len, E) to a sequence, then dropout."""

    def __init__(self, embed_dim: int, dropout: float = 0.1, max_len: int = 5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        assert embed_dim % 2 == 0
        positions = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)  # (max_len, 1)
        # 10000^(-j/E) for the even columns j = 0, 2, 4, ...; odd column j+1 shares j's rate.
        rates = torch.pow(10000.0, -torch.arange(0, embed_dim, 2).float() / embed_dim)  # (E/2,)
        pe = torch.zeros(1, max_len, embed_dim)
        pe[0, :, 0::2] = torch.sin(positions * rates)
        pe[0, :, 1::2] = torch.cos(positions * rates)
        self.register_buffer("pe", pe)

    def forward(self, x: torch.Tensor, start: int = 0) -> torch.Tensor:
        """x: (N, S, E) embeddings of positions start .. start+S-1 -> (N, S, E)."""
        S = x.shape[1]
        if start + S > self.pe.shape[1]:
            raise ValueError(
                f"positions up to {start + S} requested, the encoding holds {self.pe.shape[1]}"
            )
        return self.dropout(x + self.pe[:, start : start + S])


class GridPositions(nn.Module):
    """Learned 2-D positions of the cells of a rows x columns grid, added to their vectors:
    cell (r, c) in reading order gets row_embedding[r] + column_embedding[c]."""

    def __init__(self, rows: int, columns: int, embed_dim: int):
        super().__init__()
        self.rows, self.columns = rows, columns
        self.row_embedding = nn.Parameter(torch.randn(rows, embed_dim) * 0.02)
        self.column_embedding = nn.Parameter(torch.randn(columns, embed_dim) * 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, rows * columns, E) cell vectors in reading order -> (N, rows * columns, E)."""
        table = self.row_embedding[:, None, :] + self.column_embedding[None, :, :]  # (r, c, E)
        return x + table.reshape(self.rows * self.columns, -1)  # (r*c, E), reading order
