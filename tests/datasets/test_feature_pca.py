"""PCA of image features: the top eigenvectors on every solver path, at most N - 1 axes."""

from __future__ import annotations

import numpy as np
import pytest

from vislab.datasets import feature_pca
from vislab.datasets.feature_pca import fit_pca
from vislab.errors import InvalidInputError


def _low_rank(n: int, d: int, rank: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scales = np.linspace(10, 1, rank)[:, None]
    return rng.standard_normal((n, rank)) @ (
        scales * rng.standard_normal((rank, d))
    ) + 0.01 * rng.standard_normal((n, d))


@pytest.mark.parametrize(
    ("n", "d", "exact_max_dim"),
    [(300, 40, 1024), (30, 60, 1024), (300, 40, 16)],
    ids=["covariance-eigh", "gram-eigh", "randomized"],
)
def test_pca_finds_the_top_eigenvectors_on_every_path(n, d, exact_max_dim, monkeypatch):
    monkeypatch.setattr(feature_pca, "EXACT_MAX_DIM", exact_max_dim)
    x = _low_rank(n, d, rank=8).astype(np.float32)
    pca = fit_pca(x, num_components=8)
    assert pca.components.shape == (d, 8)
    np.testing.assert_allclose(pca.components.T @ pca.components, np.eye(8), atol=1e-6)
    centred = x - x.mean(axis=0)
    exact = np.linalg.eigvalsh(np.cov(centred.T))[::-1][:8]
    captured = np.var(centred @ pca.components, axis=0, ddof=1)
    np.testing.assert_allclose(captured, exact, rtol=1e-3)
    projected = pca.transform(x)
    assert projected.dtype == np.float32 and projected.shape == (n, 8)
    assert np.array_equal(fit_pca(x, 8).components, pca.components)  # deterministic


def test_pca_keeps_at_most_n_minus_one_axes_and_rejects_one_row():
    assert fit_pca(np.random.default_rng(0).random((5, 20)), 512).components.shape == (20, 4)
    with pytest.raises(InvalidInputError, match=r"N >= 2, got \(1, 4\)"):
        fit_pca(np.ones((1, 4)))
