"""The course loop `run_a_gan` on a tiny in-memory loader, and the shared step."""

from __future__ import annotations

import torch

from vislab.gan import (
    ChunkSampler,
    TensorBatches,
    build_models,
    discriminator_loss,
    gan_step,
    generator_loss,
    get_optimizer,
    ls_discriminator_loss,
    ls_generator_loss,
    run_a_gan,
)


def tiny_loader(count=40, batch_size=8):
    torch.manual_seed(0)
    images = torch.rand(count, 1, 28, 28)
    return TensorBatches(
        images, torch.zeros(count, dtype=torch.long), batch_size, ChunkSampler(count)
    )


def test_get_optimizer_has_the_course_settings():
    optimizer = get_optimizer(torch.nn.Linear(2, 2))
    group = optimizer.param_groups[0]
    assert isinstance(optimizer, torch.optim.Adam)
    assert group["lr"] == 1e-3 and group["betas"] == (0.5, 0.999)


def test_run_a_gan_snapshots_and_skips_short_batches():
    loader = tiny_loader(count=44, batch_size=8)  # 5 full batches + one of 4, skipped
    D, G = build_models("fc", noise_dim=16, seed=0)
    before = [p.detach().clone() for p in G.parameters()]
    images = run_a_gan(
        D, G, get_optimizer(D), get_optimizer(G), ls_discriminator_loss, ls_generator_loss,
        loader, show_every=2, batch_size=8, noise_size=16, num_epochs=2,
    )  # fmt: skip
    # 10 iterations; snapshots at 0, 2, 4, 6, 8.
    assert len(images) == 5
    assert all(img.shape == (8, 784) or img.shape == (16, 784) for img in images)
    assert images[0].shape == (8, 784)  # fewer than 16 fakes in a batch of 8
    assert all(abs(img).max() <= 1 for img in images)
    assert any(not torch.equal(a, b) for a, b in zip(before, G.parameters(), strict=True))


def test_run_a_gan_is_deterministic_under_a_seed():
    def run():
        torch.manual_seed(5)
        D, G = build_models("dc", noise_dim=8, seed=1)
        return run_a_gan(
            D, G, get_optimizer(D), get_optimizer(G), discriminator_loss, generator_loss,
            tiny_loader(16, 8), show_every=1, batch_size=8, noise_size=8, num_epochs=1,
        )  # fmt: skip

    first, second = run(), run()
    assert len(first) == 2
    for a, b in zip(first, second, strict=True):
        assert (a == b).all()


def test_gan_step_trains_d_on_detached_fakes():
    D, G = build_models("fc", noise_dim=4, seed=0)
    D_solver, G_solver = get_optimizer(D), get_optimizer(G)
    real = torch.rand(6, 1, 28, 28) * 2 - 1
    real_copy = real.clone()
    noise = torch.rand(6, 4) * 2 - 1
    d_loss, g_loss, fakes = gan_step(
        D, G, D_solver, G_solver, discriminator_loss, generator_loss, real, noise, noise
    )
    assert d_loss.shape == () and g_loss.shape == () and fakes.shape == (6, 784)
    assert not d_loss.requires_grad and not fakes.requires_grad
    assert torch.equal(real, real_copy)
