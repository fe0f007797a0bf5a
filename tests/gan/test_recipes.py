"""EMA of the generator, spectral norm in the discriminator, and the named recipes."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from vislab.errors import InvalidInputError
from vislab.gan.ema import ema_decay_at, make_ema, standing_statistics, update_ema
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
    beta = 1 / 3  # (1 + 0) / (3 + 0) < 0.999
    for mean, old, now in zip(average.parameters(), start, G.parameters(), strict=True):
        assert torch.allclose(mean, beta * old + (1 - beta) * now)
    assert torch.equal(average[1].running_mean, torch.zeros(4))  # measured at save, not copied


def test_ema_decay_warms_up_to_its_ceiling():
    assert ema_decay_at(0.999, 0) == pytest.approx(1 / 3)
    assert ema_decay_at(0.999, 90) == pytest.approx(91 / 93)
    assert ema_decay_at(0.999, 100_000) == 0.999
    assert ema_decay_at(0.0, 5) == 0.0
    assert ema_decay_at(0.999, 90, warm_up=10) == pytest.approx(91 / 100)
    assert ema_decay_at(0.99, 0, warm_up=1) == 0.99  # warm-up 1: constant from the start


def test_ema_of_a_steady_generator_is_the_generator():
    G = nn.Linear(5, 2)
    average = make_ema(G)
    for update in range(20):
        update_ema(average, G, 0.99, update)
    for mean, now in zip(average.parameters(), G.parameters(), strict=True):
        assert torch.allclose(mean, now)


def test_standing_statistics_are_the_averages_own_batch_statistics():
    torch.manual_seed(0)
    average = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3, momentum=0.3), nn.ReLU()).eval()
    update_ema(average, nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU()), 0.5, 50)
    standing_statistics(average, noise_dim=4, seed=9, num=512, batch=512)
    noise = torch.rand(512, 4, generator=torch.Generator().manual_seed(9)) * 2 - 1
    features = average[0](noise)  # (512, 3): what the BatchNorm saw
    norm = average[1]
    torch.testing.assert_close(norm.running_mean, features.mean(0))
    torch.testing.assert_close(norm.running_var, features.var(0))  # unbiased, as BatchNorm
    assert norm.momentum == 0.3 and not average.training  # left as found


def test_standing_statistics_average_over_batches_and_skip_models_without_batchnorm():
    average = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)).eval()
    standing_statistics(average, noise_dim=4, seed=1, num=600, batch=256)  # 256 + 256 + 88
    assert int(average[1].num_batches_tracked) == 3
    plain = nn.Linear(4, 3)
    before = copy.deepcopy(plain.state_dict())
    standing_statistics(plain, noise_dim=4, seed=1)
    assert all(torch.equal(before[k], v) for k, v in plain.state_dict().items())


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


def tiny_run(tmp_path, name, **changes):
    from vislab.gan import train_gan

    images = torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    values = dict(model="fc", loss="bce", epochs=2, batch_size=8, noise_dim=8, show_every=100,
                  num_train=32, seed=4)  # fmt: skip
    return train_gan(images, GanConfig(**{**values, **changes}), tmp_path / name)


def test_ema_is_saved_beside_a_generator_trained_exactly_as_without_it(tmp_path):
    from vislab.gan import load_checkpoint, load_generator
    from vislab.gan.checkpoints import default_weights

    plain = tiny_run(tmp_path, "plain", model="dc")
    averaged = tiny_run(tmp_path, "ema", model="dc", ema_decay=0.9)
    assert plain.history == averaged.history
    a, b = load_checkpoint(plain.checkpoint), load_checkpoint(averaged.checkpoint)
    assert "generator_ema" not in a and default_weights(plain.checkpoint) == "raw"
    for part in ("generator", "discriminator"):
        for key, value in a[part].items():
            assert torch.equal(value, b[part][key]), f"{part}.{key}"
    assert default_weights(averaged.checkpoint) == "ema"
    raw, _ = load_generator(averaged.checkpoint, weights="raw")
    ema, _ = load_generator(averaged.checkpoint, weights="ema")
    assert not torch.equal(raw[0].weight, ema[0].weight)
    assert not torch.equal(raw[2].running_mean, ema[2].running_mean)  # its own statistics
    measured = copy.deepcopy(ema)
    standing_statistics(measured, noise_dim=8, seed=4 + 3)
    assert torch.equal(measured[2].running_mean, ema[2].running_mean)
    assert torch.equal(measured[2].running_var, ema[2].running_var)
    with pytest.raises(InvalidInputError, match="no EMA generator"):
        load_generator(plain.checkpoint, weights="ema")


def test_a_resumed_ema_run_equals_the_uninterrupted_one(tmp_path):
    from vislab.gan import load_checkpoint

    whole = tiny_run(tmp_path, "whole", ema_decay=0.99, spectral_norm=True, loss="hinge")
    tiny_run(tmp_path, "split", epochs=1, ema_decay=0.99, spectral_norm=True, loss="hinge")
    from vislab.gan import train_gan

    images = torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    config = GanConfig(model="fc", loss="hinge", epochs=2, batch_size=8, noise_dim=8,
                       show_every=100, num_train=32, seed=4, ema_decay=0.99,
                       spectral_norm=True)  # fmt: skip
    resumed = train_gan(images, config, tmp_path / "split", resume=True)
    a, b = load_checkpoint(whole.checkpoint), load_checkpoint(resumed.checkpoint)
    for part in ("generator", "generator_ema", "discriminator"):
        for key, value in a[part].items():
            assert torch.equal(value, b[part][key]), f"{part}.{key}"


@pytest.mark.parametrize("model", ["fc", "dc"])
@pytest.mark.parametrize("loss", ["bce", "ls", "hinge"])
def test_spectral_norm_trains_with_every_model_and_loss(model, loss):
    from vislab.gan import gan_step, get_optimizer, loss_pair

    D, G = build_models(model, noise_dim=8, seed=1, spectral_norm=True)
    solvers = get_optimizer(D), get_optimizer(G)
    rng = torch.Generator().manual_seed(2)
    for _ in range(2):
        real = torch.rand(6, 1, 28, 28, generator=rng) * 2 - 1
        noise = torch.rand(2, 6, 8, generator=rng) * 2 - 1
        d_loss, g_loss, _ = gan_step(D, G, *solvers, *loss_pair(loss), real, *noise)
        assert torch.isfinite(d_loss) and torch.isfinite(g_loss)
    assert all(hasattr(m, "parametrizations") for m in D if isinstance(m, (nn.Linear, nn.Conv2d)))
