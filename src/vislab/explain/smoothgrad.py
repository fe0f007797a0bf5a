"""SmoothGrad (Smilkov et al. 2017): the mean of vanilla saliency maps over noisy copies.

    M(x) = 1/n sum_i S(x + e_i),  e_i ~ N(0, sigma^2),  sigma = noise_level * (max x - min x)

captum's NoiseTunnel draws the noise and averages; the inner attribution is the course's
saliency map (channel-max of |gradient|), so the mean is over maps as the paper writes it.
captum is the engine because it measured faster than the former hand-written loop at equal
memory (benchmarks/bench_attribution.py). Noisy copies go through the model in chunks of at
most `batch_size` images, so memory stays flat however many samples are asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from captum.attr import NoiseTunnel, Saliency
from captum.log import log_usage
from torch import nn

from vislab.backbones.classifier import require_model
from vislab.errors import InvalidInputError
from vislab.explain.targets import Target, target_tensor


class _SaliencyMap(Saliency):
    """captum's Saliency reduced to the course's map: channel-max of |gradient|, repeated over
    the channels so that NoiseTunnel sees the input's shape (N, C, H, W)."""

    @log_usage()  # NoiseTunnel calls the undecorated method through __wrapped__
    def attribute(self, inputs, target=None, abs=True, additional_forward_args=None):
        gradients = super().attribute(inputs, target=target, abs=True)
        return gradients.amax(dim=1, keepdim=True).expand_as(gradients)


def smoothgrad_saliency_maps(
    X: torch.Tensor,
    y: torch.Tensor | Sequence[Target],
    model: nn.Module,
    num_samples: int = 25,
    noise_level: float = 0.15,
    batch_size: int = 16,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """SmoothGrad saliency: X (N, C, H, W), y (N,) -> (N, H, W), nonnegative; X untouched.

    generator seeds the noise (captum draws from torch's global generator, which is forked
    and restored, so the caller's random state is left alone).
    """
    model = require_model(model, "smoothgrad_saliency_maps")
    if X.ndim != 4:
        raise InvalidInputError(f"expected images (N, C, H, W), got shape {tuple(X.shape)}")
    if num_samples < 1 or batch_size < 1:
        raise InvalidInputError("num_samples and batch_size must be at least 1")
    y = target_tensor(y, model, len(X)).to(X.device)
    X = X.detach()
    seed = int(torch.randint(2**62, (1,), generator=generator))
    tunnel = NoiseTunnel(_SaliencyMap(model))
    maps = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        # One image at a time: its own sigma, and chunks of batch_size noisy copies.
        for x, target in zip(X, y, strict=True):
            sigma = noise_level * float(x.max() - x.min())
            smooth = tunnel.attribute(
                x[None].clone().requires_grad_(True),
                nt_type="smoothgrad",
                nt_samples=num_samples,
                nt_samples_batch_size=batch_size,
                stdevs=sigma,
                target=target[None],
            )
            maps.append(smooth.detach()[0, 0])
    return torch.stack(maps)
