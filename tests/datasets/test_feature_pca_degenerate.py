"""PCA of repeated and near-repeated images: axes without variance are dropped, never
blown up (the Gram path divides by the square root of each eigenvalue)."""

from __future__ import annotations

import numpy as np
import pytest

from vislab.datasets import feature_pca
from vislab.datasets.feature_pca import fit_pca
from vislab.errors import InvalidInputError


@pytest.mark.parametrize(
    ("n", "d", "exact_max_dim"),
    [(12, 60, 1024), (80, 40, 1024), (80, 40, 16)],
    ids=["gram-eigh", "covariance-eigh", "randomized"],
)
def test_repeated_photos_do_not_blow_up_the_axes(n, d, exact_max_dim, monkeypatch):
    # Three distinct images, each repeated (one once more with a 1e-7 change): the data span
    # 2 directions; the other axes would be 1 / sqrt(rounding) ~ 1e141 without the tolerance.
    monkeypatch.setattr(feature_pca, "EXACT_MAX_DIM", exact_max_dim)
    distinct = np.random.default_rng(1).random((3, d)).astype(np.float32)
    x = distinct[np.arange(n) % 3]
    x[-1] += 1e-7
    pca = fit_pca(x, num_components=8)
    assert pca.components.shape == (d, 2)
    np.testing.assert_allclose(pca.components.T @ pca.components, np.eye(2), atol=1e-6)
    projected = pca.transform(x)
    assert np.isfinite(projected).all()
    spread = np.linalg.norm(x - x.mean(axis=0), axis=1).max()
    assert np.abs(projected).max() <= spread * (1 + 1e-5)


def test_identical_photos_keep_one_zero_axis_and_bad_values_are_refused():
    pca = fit_pca(np.ones((4, 6), np.float32), num_components=3)
    assert pca.components.shape == (6, 1)
    np.testing.assert_array_equal(pca.transform(np.ones((2, 6))), np.zeros((2, 1)))
    with pytest.raises(InvalidInputError, match="NaN or infinite"):
        fit_pca(np.array([[1.0, np.inf], [0.0, 1.0]]))
