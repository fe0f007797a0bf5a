"""EMA of the generator, spectral norm in the discriminator, and the named recipes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vislab.errors import InvalidInputError
from vislab.gan.ema import ema_decay_at, make_ema, update_ema
from vislab.gan.registry import GanConfig, build_models, recipe_choices


def test_ema_follows_the_formula_with_its_warm_up():
    G = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    average = make_ema(G)
    start = [p.detach().clone() for p in average.parameters()]
    assert not any(p.requires_grad for p in average.parameters())
    with torch.no_grad():
        for p in G.parameters():
            p.add_(1.0)
        G[1].running_mean.fill_(7.0)
    update_ema(average, G, decay=0.999, update=0)
    beta = 1 / 10  # (1 + 0) / (10 + 0) < 0.999
    for mean, old, now in zip(average.parameters(), start, G.parameters(), strict=True):
        assert torch.allclose(mean, beta * old + (1 - beta) * now)
    assert torch.equal(average[1].running_mean, torch.full((4,), 7.0))  # buffers copied


def test_ema_decay_warms_up_to_its_ceiling():
    assert ema_decay_at(0.999, 0) == pytest.approx(0.1)
    assert ema_decay_at(0.999, 90) == pytest.approx(91 / 100)
    assert ema_decay_at(0.999, 100_000) == 0.999
    assert ema_decay_at(0.0, 5) == 0.0


def test_ema_of_a_steady_generator_is_the_generator():
    G = nn.Linear(5, 2)
    average = make_ema(G)
    for update in range(20):
        update_ema(average, G, 0.99, update)
    for mean, now in zip(average.parameters(), G.parameters(), strict=True):
        assert torch.allclose(mean, now)


@pytest.mark.parametrize("model", ["fc", "dc"])
def test_spectral_norm_bounds_each_discriminator_layer(model):
    plain, G = build_models(model, noise_dim=8, seed=3)
    normed, G_too = build_models(model, noise_dim=8, seed=3, spectral_norm=True)
    for a, b in zip(G.state_dict().values(), G_too.state_dict().values(), strict=True):
        assert torch.equal(a, b)  # the generator is untouched
    layers = [m for m in normed.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    originals = [m for m in plain.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert len(layers) == len(originals) == (3 if model == "fc" else 4)
    normed.train()
    with torch.no_grad():
        for _ in range(30):  # power iterations run in training forwards
            normed(torch.rand(4, 1, 28, 28))
    for layer, original in zip(layers, originals, strict=True):
        assert torch.equal(layer.parametrizations.weight.original, original.weight)
        sigma = float(torch.linalg.matrix_norm(layer.weight.detach().flatten(1), ord=2))
        assert sigma == pytest.approx(1.0, abs=0.02)


def test_recipes_fix_their_settings_and_the_course_is_the_default():
    strong = recipe_choices("strong")
    assert strong == {"model": "dc", "loss": "hinge", "spectral_norm": True, "ema_decay": 0.999}
    assert recipe_choices("course") == {}
    course = GanConfig()
    assert (course.spectral_norm, course.ema_decay) == (False, 0.0)
    assert GanConfig.from_dict({"model": "dc"}).ema_decay == 0.0  # old checkpoints
    with pytest.raises(InvalidInputError, match="unknown recipe"):
        recipe_choices("weak")
    with pytest.raises(InvalidInputError, match="EMA decay"):
        GanConfig(ema_decay=1.0)
