"""GAN losses: the course's vanilla (BCE) and least-squares pairs, plus the hinge pair.

Every discriminator loss takes (logits_real, logits_fake) and every generator loss takes
logits_fake, all of shape (N, 1) or (N,), and returns a scalar mean over the batch; so any
loss trains any model, in `run_a_gan` as in `train_gan`.

Why hinge as the extra loss: it keeps the course's (logits_real, logits_fake) signature, so
it drops into the same loop and registry, costs nothing extra per step, and is the loss of
the SAGAN/BigGAN family that GAN library users expect. WGAN-GP would need the
discriminator itself and the images inside the loss (for the gradient penalty) and several
critic steps per generator step, which is a different training loop.
"""

from __future__ import annotations

import torch


def bce_loss(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean binary cross entropy on logits, stable for large |input|.

    bce(s, y) = -y log sigmoid(s) - (1 - y) log(1 - sigmoid(s))
              = max(s, 0) - s y + log(1 + exp(-|s|))
    input: (N,) or (N, 1) logits; target: same shape, labels in {0, 1}.
    """
    neg_abs = -input.abs()
    loss = input.clamp(min=0) - input * target + torch.log1p(neg_abs.exp())
    return loss.mean()


def discriminator_loss(logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
    """l_D = -E[log D(x)] - E[log(1 - D(G(z)))]; logits: (N, 1) each."""
    real = bce_loss(logits_real, torch.ones_like(logits_real))
    fake = bce_loss(logits_fake, torch.zeros_like(logits_fake))
    return real + fake


def generator_loss(logits_fake: torch.Tensor) -> torch.Tensor:
    """l_G = -E[log D(G(z))]; logits_fake: (N, 1)."""
    return bce_loss(logits_fake, torch.ones_like(logits_fake))


def ls_discriminator_loss(scores_real: torch.Tensor, scores_fake: torch.Tensor) -> torch.Tensor:
    """l_D = 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]; scores: (N, 1) each."""
    return 0.5 * ((scores_real - 1) ** 2).mean() + 0.5 * (scores_fake**2).mean()


def ls_generator_loss(scores_fake: torch.Tensor) -> torch.Tensor:
    """l_G = 1/2 E[(D(G(z)) - 1)^2]; scores_fake: (N, 1)."""
    return 0.5 * ((scores_fake - 1) ** 2).mean()


def hinge_discriminator_loss(scores_real: torch.Tensor, scores_fake: torch.Tensor) -> torch.Tensor:
    """l_D = E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]; scores: (N, 1) each."""
    return torch.relu(1 - scores_real).mean() + torch.relu(1 + scores_fake).mean()


def hinge_generator_loss(scores_fake: torch.Tensor) -> torch.Tensor:
    """l_G = -E[D(G(z))]; scores_fake: (N, 1)."""
    return -scores_fake.mean()
