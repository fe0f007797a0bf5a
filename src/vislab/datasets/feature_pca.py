"""PCA of image features, fitted on the training split only (as the course's `*_pca.h5`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from vislab.errors import InvalidInputError

EXACT_MAX_DIM = 1024
# Axes with less variance than this fraction of the largest are dropped (see fit_pca).
EIGENVALUE_TOLERANCE = 1e-6

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeaturePCA:
    """mean: (D,) training mean; components: (D, K) orthonormal principal axes."""

    mean: np.ndarray
    components: np.ndarray

    def transform(self, features: np.ndarray) -> np.ndarray:
        """features: (N, D) -> (N, K) float32 projections on the principal axes."""
        centred = np.asarray(features, dtype=np.float64) - self.mean
        return (centred @ self.components).astype(np.float32)


def fit_pca(features: np.ndarray, num_components: int = 512, seed: int = 0) -> FeaturePCA:
    """Fit PCA on features: (N, D); keeps K <= min(num_components, N - 1, D) components.

    N points span at most N - 1 directions, hence the cap; axes whose variance is below
    EIGENVALUE_TOLERANCE times the largest are dropped too (repeated or near-repeated images
    span fewer directions, and dividing by the square root of a rounding-level eigenvalue
    would give components of 1e141). The axes are the top eigenvectors of the (D, D)
    covariance, largest first, each with its sign fixed so the result is deterministic. They
    come from a full `eigh` of the covariance when D <= 1024, of the (N, N) Gram matrix when
    N <= D, and otherwise from randomized subspace iteration (Halko et al. 2011; K + 64
    vectors, 3 power steps, seeded), which matches the top eigenvalues to ~1e-4 at a tenth of
    the cost of `eigh`.
    """
    x = np.asarray(features, dtype=np.float32)
    if x.ndim != 2 or len(x) < 2:
        raise InvalidInputError(f"PCA needs features (N, D) with N >= 2, got {x.shape}")
    if not np.isfinite(x).all():
        raise InvalidInputError("PCA features hold NaN or infinite values")
    keep = min(num_components, x.shape[0] - 1, x.shape[1])
    mean = x.mean(axis=0, dtype=np.float64)
    centred = (x - mean.astype(np.float32)).astype(
        np.float64 if len(x) <= x.shape[1] else np.float32
    )
    if len(x) <= x.shape[1]:
        values, vectors = np.linalg.eigh(centred @ centred.T)  # (N, N) Gram, ascending
        values, vectors = values[::-1][:keep], vectors[:, ::-1][:, :keep]
    else:
        covariance = (centred.T @ centred).astype(np.float64) / (len(x) - 1)  # (D, D)
        if x.shape[1] <= EXACT_MAX_DIM:
            values, vectors = np.linalg.eigh(covariance)
            values, vectors = values[::-1][:keep], vectors[:, ::-1][:, :keep]
        else:
            values, vectors = _top_eigenvectors(covariance, keep, np.random.default_rng(seed))
    keep = max(1, int(np.sum(values > EIGENVALUE_TOLERANCE * max(values[0], 0.0))))
    if keep < len(values):
        logger.info(
            "PCA keeps %d of %d axes: the rest have (almost) no variance", keep, len(values)
        )
    values, vectors = values[:keep], vectors[:, :keep]
    if len(x) <= x.shape[1]:
        # Gram eigenvectors u -> covariance eigenvectors X^T u / sqrt(lambda), all lambda kept
        # well above rounding; an all-zero spread (every image the same) keeps one zero axis.
        components = centred.T @ (vectors / np.sqrt(np.maximum(values, np.finfo(float).tiny)))
        if values[0] <= 0:
            components = np.eye(x.shape[1], 1)
    else:
        components = vectors
    signs = np.sign(components[np.abs(components).argmax(axis=0), np.arange(keep)])
    return FeaturePCA(mean=mean, components=components * signs)


def _top_eigenvectors(
    matrix: np.ndarray, k: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k eigenvalues (k,) and eigenvectors (D, k) of a symmetric PSD matrix: (D, D), by
    subspace iteration; largest first."""
    width = min(k + 64, len(matrix))
    basis = _orthonormal(matrix @ rng.standard_normal((len(matrix), width)))  # (D, width)
    for _ in range(3):
        basis = _orthonormal(matrix @ basis)
    values, vectors = np.linalg.eigh(basis.T @ matrix @ basis)  # (width, width), ascending
    return values[::-1][:k], (basis @ vectors)[:, ::-1][:, :k]


def _orthonormal(basis: np.ndarray) -> np.ndarray:
    """Orthonormal columns spanning basis: (D, w), via the eigenvectors of its (w, w) Gram.

    Matrix products and a small eigh only: LAPACK's QR of a tall matrix crawls on a busy
    machine. Fine in float64: every power step is re-orthonormalised, each in two passes.
    """
    for _ in range(2):  # a second pass removes what rounding left ("twice is enough")
        values, vectors = np.linalg.eigh(basis.T @ basis)
        # Directions the columns do not span (a rank-deficient matrix) are dropped, not
        # blown up by 1 / sqrt(rounding noise).
        spanned = values > 1e-12 * max(values[-1], np.finfo(float).tiny)
        basis = basis @ (vectors[:, spanned] / np.sqrt(values[spanned]))
    return basis
