"""Deletion and insertion AUC on a tiny model whose probabilities are known in closed form."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from vislab.backbones.classifier import ImageClassifier
from vislab.errors import InvalidInputError
from vislab.explain.faithfulness import (
    RANDOM,
    area_under,
    faithfulness_table,
    pixel_order,
    probability_curves,
)


def logistic_classifier(a: torch.Tensor) -> ImageClassifier:
    """Two classes with logits (a . x, 0) on a 1x4x4 image: p(class 0) = sigmoid(a . x).
    Mean 0 and std 1, so black is 0 in the model's input space."""
    linear = nn.Linear(16, 2)
    with torch.no_grad():
        linear.weight.copy_(torch.stack([a.flatten(), torch.zeros(16)]))
        linear.bias.zero_()
    model = nn.Sequential(nn.Flatten(), linear)
    return ImageClassifier("logistic", model, ("yes", "no"), 4, [0.0], [1.0], model[0])


def test_curves_and_auc_are_the_closed_form():
    a = torch.arange(16, dtype=torch.float32).view(1, 4, 4) / 8
    classifier = logistic_classifier(a)
    X = torch.ones(1, 1, 4, 4)
    order = pixel_order(a, torch.Generator().manual_seed(0))
    assert order[0].tolist() == list(range(15, -1, -1))  # largest weight first
    deletion = probability_curves(classifier, X, torch.tensor([0]), order, "deletion", 4)
    insertion = probability_curves(classifier, X, torch.tensor([0]), order, "insertion", 4)
    # After deleting the top 4k pixels, a . x is the sum of the 16 - 4k smallest weights.
    weights = (torch.arange(16, dtype=torch.float64) / 8).tolist()
    kept = [sum(weights[: 16 - 4 * k]) for k in range(5)]
    added = [sum(weights[16 - 4 * k :]) for k in range(5)]
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    np.testing.assert_allclose(deletion[0].numpy(), sigmoid(np.array(kept)), rtol=1e-6)
    np.testing.assert_allclose(insertion[0].numpy(), sigmoid(np.array(added)), rtol=1e-6)
    expected = np.trapezoid(sigmoid(np.array(kept)), dx=0.25)
    np.testing.assert_allclose(area_under(deletion).numpy(), [expected], rtol=1e-6)


def test_the_true_map_beats_random_and_its_reverse_loses():
    torch.manual_seed(0)
    a = torch.randn(1, 4, 4)
    classifier = logistic_classifier(a)
    X = torch.rand(8, 1, 4, 4)
    y = torch.zeros(8, dtype=torch.long)
    evidence = (a * X)[:, 0]  # (N, 4, 4): each pixel's exact contribution to the logit
    rows = {
        r.method: r
        for r in faithfulness_table(
            classifier, X, y, {"true": evidence, "reverse": -evidence}, num_steps=16
        )
    }
    assert rows["true"].beats_random and not rows["reverse"].beats_random
    assert rows["true"].deletion < rows[RANDOM].deletion < rows["reverse"].deletion
    assert rows["true"].insertion > rows[RANDOM].insertion > rows["reverse"].insertion
    assert rows[RANDOM].deletion_vs_random == 0.0


def test_bad_maps_are_clear_errors():
    classifier = logistic_classifier(torch.ones(1, 4, 4))
    X = torch.rand(2, 1, 4, 4)
    with pytest.raises(InvalidInputError, match="expected"):
        faithfulness_table(classifier, X, [0, 0], {"m": torch.rand(2, 3, 3)})
    with pytest.raises(InvalidInputError, match="deletion or insertion"):
        probability_curves(classifier, X, torch.tensor([0, 0]), torch.zeros(2, 16).long(), "x")
