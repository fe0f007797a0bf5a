"""Precision, recall, density and coverage of generated samples (Naeem et al. 2020), by k-NN.

Each real feature vector x_i gets a radius r_i: the distance to its k-th nearest other real
vector; the real manifold is the union of the balls B(x_i, r_i). Likewise for the fake
vectors y_j with radii s_j. With d(., .) Euclidean and [.] the indicator:

    precision = 1/M sum_j [exists i: d(x_i, y_j) < r_i]     fakes inside the real manifold
    recall    = 1/N sum_i [exists j: d(x_i, y_j) < s_j]     reals inside the fake manifold
    density   = 1/(kM) sum_j sum_i [d(x_i, y_j) < r_i]      how many real balls hold each fake
    coverage  = 1/N sum_i [min_j d(x_i, y_j) < r_i]         real balls that hold any fake

Precision and recall are Kynkaanniemi et al.'s (2019); density and coverage are Naeem et
al.'s answer to their sensitivity to outliers. Identical sets score 1, 1, 1, 1 (density
is about 1 in expectation). Distances are computed in chunks, so 10,000 x 10,000 sets never
hold a full distance matrix. `nearest_distances` also serves the memorisation check.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from vislab.errors import InvalidInputError

NEAREST_K = 5  # the paper's choice for 10,000 samples


@dataclass(frozen=True)
class PRDC:
    """The four k-NN scores of a fake set against a real set (all in [0, 1] but density)."""

    precision: float
    recall: float
    density: float
    coverage: float
    nearest_k: int

    def to_dict(self) -> dict:
        return asdict(self)


def nearest_distances(
    queries: torch.Tensor,
    references: torch.Tensor,
    k: int = 1,
    exclude_self: bool = False,
    chunk_size: int = 1024,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Distances and indices of each query's k nearest references, nearest first.

    queries: (M, D); references: (N, D). exclude_self: queries are the references (the
    same rows), so each row's zero distance to itself is skipped. Returns (M, k) distances
    and (M, k) indices into references.
    """
    extra = 1 if exclude_self else 0
    if k < 1 or k + extra > len(references):
        raise InvalidInputError(
            f"k={k} nearest neighbours need more than {k + extra - 1} reference vectors, "
            f"got {len(references)}"
        )
    distances, indices = [], []
    for start in range(0, len(queries), chunk_size):
        block = torch.cdist(queries[start : start + chunk_size], references)  # (m, N)
        if exclude_self:
            rows = torch.arange(len(block))
            block[rows, rows + start] = float("inf")
        values, where = block.topk(k, dim=1, largest=False)  # (m, k), ascending
        distances.append(values)
        indices.append(where)
    return torch.cat(distances), torch.cat(indices)


def precision_recall_density_coverage(
    real: torch.Tensor, fake: torch.Tensor, nearest_k: int = NEAREST_K, chunk_size: int = 1024
) -> PRDC:
    """The four scores of the module docstring. real: (N, D), fake: (M, D) feature vectors."""
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise InvalidInputError(
            f"expected two (N, D) feature sets of the same D, got {tuple(real.shape)} and "
            f"{tuple(fake.shape)}"
        )
    real, fake = real.float(), fake.float()
    real_radii = nearest_distances(real, real, nearest_k, exclude_self=True)[0][:, -1]  # (N,)
    fake_radii = nearest_distances(fake, fake, nearest_k, exclude_self=True)[0][:, -1]  # (M,)
    balls_holding = torch.zeros(len(fake))  # per fake: number of real balls it lies in
    recalled = torch.zeros(len(real), dtype=torch.bool)
    covered = torch.zeros(len(real), dtype=torch.bool)
    for start in range(0, len(real), chunk_size):
        stop = start + chunk_size
        distance = torch.cdist(real[start:stop], fake)  # (n, M)
        inside_real = distance < real_radii[start:stop, None]  # (n, M)
        balls_holding += inside_real.sum(dim=0)
        recalled[start:stop] = (distance < fake_radii[None, :]).any(dim=1)
        covered[start:stop] = inside_real.any(dim=1)
    return PRDC(
        precision=float((balls_holding > 0).float().mean()),
        recall=float(recalled.float().mean()),
        density=float(balls_holding.mean() / nearest_k),
        coverage=float(covered.float().mean()),
        nearest_k=nearest_k,
    )
