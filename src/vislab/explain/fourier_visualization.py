"""Class visualization in a decorrelated Fourier parameterisation (Olah et al. 2017, "Feature
Visualization"), beside the course's pixel-space method.

The image is not optimised pixel by pixel. Its parameters are a complex spectrum per channel,
scaled by 1 / frequency so that every frequency learns at the same rate (natural images have a
1/f spectrum); the inverse FFT gives decorrelated colour channels that a fixed 3x3 matrix (the
square root of the colour covariance of natural images) maps to RGB, and a sigmoid to [0, 1].
Each step scores a randomly moved copy (translation, scale, rotation), so only what survives
every small transform is reinforced. The objective is the target class's logit; Adam.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from PIL import Image
from tqdm import tqdm

from vislab.backbones.classifier import ImageClassifier, require_classifier
from vislab.errors import InvalidInputError
from vislab.explain.targets import Target, target_tensor

# Square root (U sqrt(S) of the SVD) of the RGB covariance of the 25 course ImageNet images'
# pixels in [0, 1] (tests/explain/test_fourier_visualization.py measures it again); columns
# are the decorrelated channels. Divided by its largest column norm before use.
COLOUR_CORRELATION_SQRT = (
    (0.2767, 0.0577, 0.0371),
    (0.2789, 0.0225, -0.0505),
    (0.2901, -0.0766, 0.0131),
)


class FourierVisualization(NamedTuple):
    pixels: torch.Tensor  # (N, C, H, W) final images in [0, 1]
    images: list[Image.Image]  # the same as PIL images
    scores: torch.Tensor  # (N,) the target logits of the final images


def _frequency_scale(H: int, W: int, decay_power: float) -> torch.Tensor:
    """(H, W//2+1) weights 1 / max(f, 1/max(H, W))^decay_power of the rfft2 frequencies."""
    fy = torch.fft.fftfreq(H)[:, None]
    fx = torch.fft.rfftfreq(W)[None, :]
    frequencies = (fy.square() + fx.square()).sqrt()
    return 1.0 / frequencies.clamp_min(1.0 / max(H, W)) ** decay_power


def spectrum_to_pixels(spectrum: torch.Tensor, scale: torch.Tensor, size: int) -> torch.Tensor:
    """spectrum (N, C, H, W//2+1) complex -> pixels (N, C, H, W) in (0, 1)."""
    decorrelated = torch.fft.irfft2(spectrum * scale, s=(size, size), norm="ortho") / 4.0
    if decorrelated.shape[1] == 3:
        matrix = torch.tensor(COLOUR_CORRELATION_SQRT, dtype=decorrelated.dtype)
        matrix = matrix / matrix.norm(dim=0).max()
        decorrelated = torch.einsum("rc,nchw->nrhw", matrix, decorrelated)
    return torch.sigmoid(decorrelated)


def random_transform(
    pixels: torch.Tensor, generator: torch.Generator, max_shift: float = 0.06
) -> torch.Tensor:
    """A random translation (up to max_shift of the side), scale (0.9-1.1) and rotation
    (-10..10 degrees) per image, reflecting at the borders: (N, C, H, W) -> same shape."""
    N = len(pixels)
    angle = (torch.rand(N, generator=generator) * 20 - 10) * math.pi / 180
    scale = 0.9 + torch.rand(N, generator=generator) * 0.2
    shift = (torch.rand(N, 2, generator=generator) * 2 - 1) * max_shift * 2  # grid is [-1, 1]
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    ).to(pixels.dtype)  # (N, 2, 3)
    grid = F.affine_grid(theta, list(pixels.shape), align_corners=False)
    return F.grid_sample(pixels, grid, padding_mode="reflection", align_corners=False)


def fourier_class_visualization(
    classifier: ImageClassifier,
    targets: Sequence[Target] | torch.Tensor,
    num_iterations: int = 128,
    learning_rate: float = 0.05,
    decay_power: float = 1.0,
    seed: int = 0,
    progress: bool = False,
) -> FourierVisualization:
    """One image per target (all optimised together as a batch) that `classifier` scores
    highly for it. Returns pixels (N, C, S, S), S = classifier.input_size."""
    classifier = require_classifier(classifier, "fourier_class_visualization")
    if num_iterations < 1 or not learning_rate > 0:
        raise InvalidInputError("num_iterations must be at least 1 and learning_rate above 0")
    y = target_tensor(targets, classifier, len(targets))
    N, C, S = len(y), classifier.channels, classifier.input_size
    generator = torch.Generator().manual_seed(seed)
    scale = _frequency_scale(S, S, decay_power)
    real = torch.randn((N, C, S, S // 2 + 1, 2), generator=generator) * 0.01
    real.requires_grad_(True)
    optimizer = torch.optim.Adam([real], lr=learning_rate)
    # Border shift of about 4/28 of the side for Fashion-MNIST, 8/224 for ImageNet networks.
    max_shift = 0.08 if S < 64 else 0.04
    for _ in tqdm(range(num_iterations), desc="Fourier visualization", disable=not progress):
        pixels = spectrum_to_pixels(torch.view_as_complex(real), scale, S)
        moved = random_transform(pixels, generator, max_shift)
        logits = classifier(classifier.normalise(moved))  # (N, K)
        loss = -logits.gather(1, y[:, None]).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        pixels = spectrum_to_pixels(torch.view_as_complex(real), scale, S)
        scores = classifier(classifier.normalise(pixels)).gather(1, y[:, None])[:, 0]
    images = [
        classifier.deprocess(classifier.normalise(p[None]), should_rescale=False) for p in pixels
    ]
    return FourierVisualization(pixels, images, scores)


def judge_top1(judge: ImageClassifier, pixels: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Whether `judge` names each intended class: pixels (N, C, H, W) in [0, 1] -> (N,) bool.

    The pixels are resized to the judge's input size; it sees them as its own input."""
    judge = require_classifier(judge, "judge_top1")
    size = judge.input_size
    pixels = pixels.clamp(0, 1)
    if pixels.shape[-1] != size:
        pixels = F.interpolate(pixels, size=(size, size), mode="bilinear", align_corners=False)
    with torch.no_grad():
        return judge(judge.normalise(pixels)).argmax(dim=1) == torch.as_tensor(targets)
