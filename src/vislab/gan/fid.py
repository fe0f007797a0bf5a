"""Sample quality in the feature space of the project's Fashion-MNIST CNN.

"FID (Fashion-MNIST CNN features)": torchmetrics' FrechetInceptionDistance with the
CNN's 256-d penultimate features in place of Inception's; lower is better. It is not
Inception FID and its values are not comparable with published ones. Beside it, the CNN's
mean top-class confidence on the samples and the histogram of their predicted classes
(mode collapse shows as a peaked histogram).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import nn
from tqdm import tqdm

from vislab.backbones import FEATURE_DIM, load_fmnist_cnn
from vislab.datasets import FASHION_MNIST_CLASSES
from vislab.errors import InvalidInputError
from vislab.gan.checkpoints import load_generator
from vislab.gan.data import load_gan_images
from vislab.gan.images import deprocess_img
from vislab.gan.models import sample_noise
from vislab.gan.sampling import generate

FID_LABEL = "FID (Fashion-MNIST CNN features)"


class FashionMNISTFeatures(nn.Module):
    """Feature extractor for torchmetrics: images (N, 1, 28, 28) in [0, 1] -> (N, 256)."""

    num_features = FEATURE_DIM

    def __init__(self, cnn: nn.Module):
        super().__init__()
        self.cnn = cnn.eval()

    def train(self, mode: bool = True) -> FashionMNISTFeatures:
        return super().train(False)  # always the trained network's inference behaviour

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.cnn.features(images.float())


@dataclass
class SampleQuality:
    """FID and classifier statistics of generated images."""

    fid: float
    mean_confidence: float
    class_histogram: list[int]
    num_generated: int
    num_real: int

    def rows(self) -> list[tuple[str, str]]:
        """(name, value) pairs for printing or a report table."""
        histogram = ", ".join(
            f"{name} {count}"
            for name, count in zip(FASHION_MNIST_CLASSES, self.class_histogram, strict=True)
        )
        return [
            (FID_LABEL, f"{self.fid:.2f}"),
            ("classifier mean confidence", f"{self.mean_confidence:.3f}"),
            ("predicted classes", histogram),
            ("images", f"{self.num_generated} generated vs {self.num_real} test"),
        ]


def measure_quality(
    fake: torch.Tensor,
    real: torch.Tensor,
    cnn: nn.Module | None = None,
    batch_size: int = 1000,
    progress: bool = False,
) -> SampleQuality:
    """fake, real: (N, 1, 28, 28) pixels in [0, 1] -> FID and classifier statistics."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    if len(fake) < 2 or len(real) < 2:
        raise InvalidInputError("FID needs at least 2 generated and 2 real images")
    cnn = cnn if cnn is not None else load_fmnist_cnn()
    device = next(cnn.parameters()).device
    metric = FrechetInceptionDistance(feature=FashionMNISTFeatures(cnn)).to(device)
    confidences, predictions = [], []
    chunks = [(part, True) for part in real.split(batch_size)]
    chunks += [(part, False) for part in fake.split(batch_size)]
    for part, is_real in tqdm(chunks, disable=not progress, desc="FID features", unit="batch"):
        part = part.to(device)
        metric.update(part, real=is_real)
        if not is_real:
            with torch.no_grad():
                probabilities = cnn(part).softmax(dim=1)  # (n, 10)
            best = probabilities.max(dim=1)
            confidences.append(best.values.cpu())
            predictions.append(best.indices.cpu())
    histogram = torch.bincount(torch.cat(predictions), minlength=len(FASHION_MNIST_CLASSES))
    return SampleQuality(
        fid=float(metric.compute()),
        mean_confidence=float(torch.cat(confidences).mean()),
        class_histogram=histogram.tolist(),
        num_generated=len(fake),
        num_real=len(real),
    )


def evaluate_checkpoint(
    checkpoint: str | os.PathLike,
    num_samples: int = 10000,
    data_dir: str | os.PathLike | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> SampleQuality:
    """FID of `num_samples` generated images against the whole test split, and CNN statistics."""
    G, config = load_generator(checkpoint, device)
    noise = sample_noise(
        num_samples, config.noise_dim, generator=torch.Generator().manual_seed(seed)
    )
    fake = deprocess_img(generate(G, noise)).view(-1, 1, 28, 28).clamp(0, 1)
    real, _ = load_gan_images(config.data, data_dir, split="test")
    return measure_quality(fake, real, load_fmnist_cnn(device=device), progress=progress)
