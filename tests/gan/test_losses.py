"""Losses against the notebook's expected values, their definitions, and at extreme logits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vislab.gan import (
    LOSSES,
    bce_loss,
    discriminator_loss,
    generator_loss,
    hinge_discriminator_loss,
    hinge_generator_loss,
    ls_discriminator_loss,
    ls_generator_loss,
)

# The course notebook's expected values, copied from its gan-checks.npz.
REFERENCE = Path(__file__).parent / "data" / "gan-checks.npz"


def rel_error(x, y):
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


@pytest.fixture(scope="module")
def answers():
    return dict(np.load(REFERENCE, allow_pickle=False))


def test_bce_losses_match_the_notebook(answers):
    real = torch.tensor(answers["logits_real"], dtype=torch.float64)
    fake = torch.tensor(answers["logits_fake"], dtype=torch.float64)
    assert rel_error(answers["d_loss_true"], discriminator_loss(real, fake).numpy()) < 1e-7
    assert rel_error(answers["g_loss_true"], generator_loss(fake).numpy()) < 1e-7


def test_least_squares_losses_match_the_notebook(answers):
    real = torch.tensor(answers["logits_real"], dtype=torch.float64)
    fake = torch.tensor(answers["logits_fake"], dtype=torch.float64)
    assert rel_error(answers["d_loss_lsgan_true"], ls_discriminator_loss(real, fake).numpy()) < 1e-7
    assert rel_error(answers["g_loss_lsgan_true"], ls_generator_loss(fake).numpy()) < 1e-7


def test_float32_inputs_as_in_the_notebook(answers):
    real = torch.Tensor(answers["logits_real"])
    fake = torch.Tensor(answers["logits_fake"])
    assert rel_error(answers["d_loss_true"], discriminator_loss(real, fake).numpy()) < 1e-7


def test_bce_loss_agrees_with_torch_and_its_definition():
    torch.manual_seed(0)
    logits = torch.randn(50, 1, dtype=torch.float64) * 3
    target = (torch.rand(50, 1) > 0.5).double()
    expected = F.binary_cross_entropy_with_logits(logits, target)
    assert torch.allclose(bce_loss(logits, target), expected, rtol=1e-12, atol=0)
    s = torch.sigmoid(logits)
    naive = (-target * torch.log(s) - (1 - target) * torch.log(1 - s)).mean()
    assert torch.allclose(bce_loss(logits, target), naive, rtol=1e-10, atol=0)


def test_bce_loss_is_stable_at_huge_logits():
    logits = torch.tensor([[1e4], [-1e4]], requires_grad=True)
    right = bce_loss(logits, torch.tensor([[1.0], [0.0]]))
    wrong = bce_loss(logits, torch.tensor([[0.0], [1.0]]))
    assert right.item() == 0.0
    assert wrong.item() == pytest.approx(1e4, rel=1e-6)
    wrong.backward()
    assert torch.isfinite(logits.grad).all()


def test_hinge_losses_follow_their_definition():
    real = torch.tensor([[2.0], [0.5], [-1.0]])
    fake = torch.tensor([[-2.0], [0.0], [1.0]])
    # relu(1 - real) = [0, .5, 2] -> 5/6 ; relu(1 + fake) = [0, 1, 2] -> 1
    assert hinge_discriminator_loss(real, fake).item() == pytest.approx(5 / 6 + 1, abs=1e-7)
    assert hinge_generator_loss(fake).item() == pytest.approx(1 / 3, abs=1e-7)


def test_every_registered_loss_prefers_a_correct_discriminator():
    assert set(LOSSES) == {"bce", "ls", "hinge"}
    for d_loss, g_loss in LOSSES.values():
        confident = d_loss(torch.full((4, 1), 3.0), torch.full((4, 1), -3.0))
        fooled = d_loss(torch.full((4, 1), -3.0), torch.full((4, 1), 3.0))
        assert confident < fooled
        assert g_loss(torch.full((4, 1), 3.0)) < g_loss(torch.full((4, 1), -3.0))
