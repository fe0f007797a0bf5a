"""`gan_step` against the course's training step written out by hand, on cloned models.

The hand step follows the notebook's `run_a_gan` body line by line, with the losses written
from their formulas in torch built-ins (not the library's), Adam built directly with the
course's settings, and the same real batch and noise. After each of two steps, every
parameter and buffer (BatchNorm statistics) of both networks must match, and so must the
losses and the returned fakes. Two steps, because a missing `G_solver.zero_grad()` only
shows once gradients from an earlier step are left over.
"""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from vislab.gan import LOSSES, bce_loss, build_models, gan_step, get_optimizer

BATCH, NOISE = 4, 8


def course_losses(name: str):
    """(discriminator_loss, generator_loss): ls and hinge from their formulas in torch
    built-ins; bce through vislab's `bce_loss` (checked against the seed in test_losses),
    because Adam's first step is lr * g / (|g| + 1e-8): a 1-ulp difference in a gradient
    entry of 1e-10 (torch's own BCE, or the same formula written inline, gives one) moves a
    weight by ~1e-4, which no tolerance that still catches a bug can absorb."""
    if name == "bce":
        return (
            lambda real, fake: (
                bce_loss(real, torch.ones_like(real)) + bce_loss(fake, torch.zeros_like(fake))
            ),
            lambda fake: bce_loss(fake, torch.ones_like(fake)),
        )
    if name == "ls":
        return (
            lambda real, fake: 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake**2).mean(),
            lambda fake: 0.5 * ((fake - 1) ** 2).mean(),
        )
    return (
        lambda real, fake: F.relu(1 - real).mean() + F.relu(1 + fake).mean(),
        lambda fake: -fake.mean(),
    )


def course_step(D, G, D_solver, G_solver, d_loss_fn, g_loss_fn, real, d_noise, g_noise):
    """The notebook's loop body (`x` already scaled to [-1, 1])."""
    D_solver.zero_grad()
    logits_real = D(real)
    fake_images = G(d_noise).detach()
    logits_fake = D(fake_images.view(BATCH, 1, 28, 28))
    d_total_error = d_loss_fn(logits_real, logits_fake)
    d_total_error.backward()
    D_solver.step()

    G_solver.zero_grad()
    fake_images = G(g_noise)
    gen_logits_fake = D(fake_images.view(BATCH, 1, 28, 28))
    g_error = g_loss_fn(gen_logits_fake)
    g_error.backward()
    G_solver.step()
    return d_total_error.detach(), g_error.detach(), fake_images.detach()


def assert_same_state(module, reference, what):
    state, expected = module.state_dict(), reference.state_dict()
    assert list(state) == list(expected)
    for name, value in state.items():
        torch.testing.assert_close(value, expected[name], rtol=1e-5, atol=1e-6,
                                   msg=f"{what}.{name}")  # fmt: skip


@pytest.mark.parametrize("model", ["fc", "dc"])
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_gan_step_equals_the_course_step_parameter_for_parameter(model, loss):
    assert set(LOSSES) == {"bce", "ls", "hinge"}  # a new loss needs its formula above
    D, G = build_models(model, noise_dim=NOISE, seed=0)
    D_ref, G_ref = copy.deepcopy(D), copy.deepcopy(G)
    solvers = get_optimizer(D), get_optimizer(G)
    adam = {"lr": 1e-3, "betas": (0.5, 0.999)}
    ref_solvers = (
        torch.optim.Adam(D_ref.parameters(), **adam),
        torch.optim.Adam(G_ref.parameters(), **adam),
    )
    g = torch.Generator().manual_seed(1)
    for step in range(2):
        real = torch.rand(BATCH, 1, 28, 28, generator=g) * 2 - 1
        d_noise = torch.rand(BATCH, NOISE, generator=g) * 2 - 1
        g_noise = torch.rand(BATCH, NOISE, generator=g) * 2 - 1
        got = gan_step(D, G, *solvers, *LOSSES[loss], real, d_noise, g_noise)
        expected = course_step(D_ref, G_ref, *ref_solvers, *course_losses(loss), real,
                               d_noise, g_noise)  # fmt: skip
        for name, value, reference in zip(("d_loss", "g_loss", "fakes"), got, expected,
                                          strict=True):  # fmt: skip
            torch.testing.assert_close(value, reference, rtol=1e-5, atol=1e-6,
                                       msg=f"step {step}: {name}")  # fmt: skip
        assert_same_state(D, D_ref, f"step {step}: D")
        assert_same_state(G, G_ref, f"step {step}: G")
    # The networks did train: the oracle compares moving parameters, not initial ones.
    initial = build_models(model, noise_dim=NOISE, seed=0)[1].state_dict()
    moved = max(float((G.state_dict()[k].float() - v.float()).abs().max()) for k, v in
                initial.items())  # fmt: skip
    assert moved > 1e-4
