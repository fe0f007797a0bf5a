"""Cascading randomization: the control stays at 1.0, a destroyed model moves the maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vislab.errors import InvalidInputError
from vislab.explain.sanity import (
    CONTROL,
    FLAG_ABOVE,
    SanityResult,
    cascading_randomization,
    randomization_blocks,
    rank_correlations,
)


def test_rank_correlation_is_spearman():
    a = torch.rand(2, 5, 5)
    same_order = a.exp() * 3  # a monotone transform keeps every rank
    np.testing.assert_allclose(rank_correlations(a, same_order), [1.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(rank_correlations(a, -a), [-1.0, -1.0], atol=1e-12)
    assert rank_correlations(a, torch.zeros_like(a)).tolist() == [0.0, 0.0]


def test_cascade_moves_the_maps_and_not_the_control(tiny_cnn):
    X = torch.randn(6, 3, 16, 16)
    y = torch.arange(6) % 5
    weights = [p.clone() for p in tiny_cnn.parameters()]
    result = cascading_randomization(
        tiny_cnn, X, y, ["saliency", "gradcam", "integrated-gradients"], num_steps=4
    )
    # tiny_cnn's blocks with weights, top down: the Linear layer, then the Conv2d.
    assert result.steps == ["trained", "4", "0"]
    assert [name for name, _ in randomization_blocks(tiny_cnn)] == ["4", "0"]
    np.testing.assert_allclose(result.correlations[CONTROL], [1.0, 1.0, 1.0], rtol=0, atol=1e-12)
    for method in ("saliency", "gradcam"):
        assert result.correlations[method][0] == 1.0
        assert result.correlations[method][-1] < 0.8, method
    assert all(torch.equal(a, b) for a, b in zip(weights, tiny_cnn.parameters(), strict=True))


def test_methods_that_do_not_move_are_flagged():
    result = SanityResult("m", ["trained", "top"])
    result.correlations = {CONTROL: [1.0, 1.0], "a": [1.0, FLAG_ABOVE + 0.1], "b": [1.0, 0.1]}
    assert result.flagged() == ["a"]


def test_fmnist_cnn_blocks_are_top_down():
    from vislab.backbones import load_backbone

    names = [name for name, _ in randomization_blocks(load_backbone("fmnist_cnn"))]
    assert names == ["logits", "embedding", "conv block 3", "conv block 2", "conv block 1"]


def test_unknown_method_is_a_clear_error(tiny_cnn):
    with pytest.raises(InvalidInputError, match="unknown methods"):
        cascading_randomization(tiny_cnn, torch.randn(1, 3, 16, 16), [0], ["lime"])
