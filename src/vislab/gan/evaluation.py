"""Sample quality as the field reports it, all in the Fashion-MNIST CNN's feature space.

Every number here is computed on the 256-d penultimate features of the project's own
Fashion-MNIST CNN (labelled "Fashion-MNIST CNN features"), not on Inception's: the values
are not comparable with published Inception scores. Each metric sits beside its floor, the
same metric for held-out real images (training images 50,000..59,999, which no GAN trains
on) against the same test images: what a perfect generator would score at that sample size.

- FID (torchmetrics' FrechetInceptionDistance fed the CNN features) with a percentile
  bootstrap interval: both sets resampled with replacement, FID recomputed each time.
- KID (torchmetrics' KernelInceptionDistance, the unbiased MMD^2 with the cubic kernel
  (x.y / D + 1)^3), averaged over random subsets; its interval is mean +- 1.96 standard
  deviations of the subset estimates.
- Precision, recall, density, coverage (`vislab.gan.prdc`, Naeem et al. 2020, k = 5).
- Memorisation: each sample's nearest training image in feature space, against the same
  distance for real test images (which cannot be memorised).
- The CNN's predicted classes of the samples (class balance) and its mean confidence.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import nn
from tqdm import tqdm

from vislab.datasets import FASHION_MNIST_CLASSES
from vislab.errors import InvalidInputError
from vislab.gan.fid import FashionMNISTFeatures
from vislab.gan.prdc import NEAREST_K, PRDC, nearest_distances, precision_recall_density_coverage

FEATURE_SPACE = "Fashion-MNIST CNN features"
Z_95 = 1.959964  # two-sided 95% normal quantile


@dataclass
class SampleFeatures:
    """The CNN's view of a set of images."""

    vectors: torch.Tensor  # (N, 256) penultimate features
    predicted: torch.Tensor  # (N,) predicted class index
    confidence: torch.Tensor  # (N,) probability of the predicted class


@torch.no_grad()
def extract_features(
    images: torch.Tensor, cnn: nn.Module, batch_size: int = 1000, progress: bool = False
) -> SampleFeatures:
    """images: (N, 1, 28, 28) pixels in [0, 1] -> features, predicted classes, confidences."""
    features = FashionMNISTFeatures(cnn)
    device = next(cnn.parameters()).device
    vectors, predicted, confidence = [], [], []
    for part in tqdm(images.split(batch_size), disable=not progress, desc="CNN features"):
        part = part.to(device).float()
        vectors.append(features(part).cpu())
        best = cnn(part).softmax(dim=1).max(dim=1)  # over (n, 10)
        predicted.append(best.indices.cpu())
        confidence.append(best.values.cpu())
    return SampleFeatures(torch.cat(vectors), torch.cat(predicted), torch.cat(confidence))


class FeatureVectors(nn.Module):
    """Hands already extracted (N, D) feature vectors to torchmetrics as its "network"."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward(self, vectors: torch.Tensor) -> torch.Tensor:
        return vectors


@dataclass(frozen=True)
class Interval:
    """An estimate with a 95% interval [low, high]."""

    value: float
    low: float
    high: float

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high

    def format(self, digits: int) -> str:
        return f"{self.value:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"

    def to_dict(self) -> dict:
        return {"value": self.value, "low": self.low, "high": self.high}


def _check_pair(real: torch.Tensor, fake: torch.Tensor, least: int, what: str) -> None:
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise InvalidInputError(
            f"{what}: expected two (N, D) feature sets of the same D, got "
            f"{tuple(real.shape)} and {tuple(fake.shape)}"
        )
    if len(real) < least or len(fake) < least:
        raise InvalidInputError(
            f"{what} needs at least {least} real and {least} generated images, got "
            f"{len(real)} and {len(fake)}"
        )


def frechet_distance(real: torch.Tensor, fake: torch.Tensor) -> float:
    """FID between two feature sets: ||mu_r - mu_f||^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2)).

    real: (N, D), fake: (M, D) feature vectors (torchmetrics computes in float64).
    """
    from torchmetrics.image.fid import FrechetInceptionDistance

    _check_pair(real, fake, 2, "FID")
    metric = FrechetInceptionDistance(feature=FeatureVectors(real.shape[1]))
    metric.update(real, real=True)
    metric.update(fake, real=False)
    return float(metric.compute())


def fid_with_interval(
    real: torch.Tensor, fake: torch.Tensor, num_bootstrap: int = 100, seed: int = 0
) -> Interval:
    """FID and its 95% percentile-bootstrap interval. real: (N, D), fake: (M, D)."""
    if num_bootstrap < 2:
        raise InvalidInputError(f"the bootstrap needs at least 2 resamples, got {num_bootstrap}")
    value = frechet_distance(real, fake)
    rng = torch.Generator().manual_seed(seed)
    replicas = torch.tensor([
        frechet_distance(
            real[torch.randint(len(real), (len(real),), generator=rng)],
            fake[torch.randint(len(fake), (len(fake),), generator=rng)],
        )
        for _ in range(num_bootstrap)
    ])  # fmt: skip
    low, high = torch.quantile(replicas.double(), torch.tensor([0.025, 0.975]).double())
    return Interval(value, float(low), float(high))


def kernel_distance(
    real: torch.Tensor,
    fake: torch.Tensor,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> Interval:
    """Unbiased KID over `subsets` random subsets of min(subset_size, N, M) vectors each.

    real: (N, D), fake: (M, D). The interval is mean +- 1.96 standard deviations of the
    subset estimates (it holds 0 when the sets come from one distribution).
    """
    from torchmetrics.image.kid import KernelInceptionDistance

    _check_pair(real, fake, 2, "KID")
    size = min(subset_size, len(real), len(fake))
    with warnings.catch_warnings():  # "saves all features in a buffer": they are ours already
        warnings.simplefilter("ignore", UserWarning)
        metric = KernelInceptionDistance(
            feature=FeatureVectors(real.shape[1]), subsets=subsets, subset_size=size
        )
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    with torch.random.fork_rng(devices=[]):  # torchmetrics draws subsets from the global RNG
        torch.manual_seed(seed)
        mean, std = (float(part) for part in metric.compute())
    return Interval(mean, mean - Z_95 * std, mean + Z_95 * std)


@dataclass
class Memorisation:
    """Nearest training images in feature space, for samples and for real test images."""

    sample_distances: torch.Tensor  # (M,) distance of each sample to its nearest train image
    neighbours: torch.Tensor  # (M, k) indices of each sample's k nearest train images
    test_distances: torch.Tensor  # (T,) the same distance for real test images

    def closer_than_test(self, quantile: float = 0.05) -> float:
        """Share of samples nearer to train than the `quantile` of test images' distances."""
        threshold = torch.quantile(self.test_distances.double(), quantile)
        return float((self.sample_distances.double() < threshold).float().mean())

    def to_dict(self) -> dict:
        return {
            "samples_checked": len(self.sample_distances),
            "median_sample_distance": float(self.sample_distances.median()),
            "median_test_distance": float(self.test_distances.median()),
            "share_closer_than_5th_percentile_of_test": self.closer_than_test(0.05),
        }


def memorisation_check(
    samples: torch.Tensor, train: torch.Tensor, test: torch.Tensor, k: int = 5
) -> Memorisation:
    """samples: (M, D), train: (N, D), test: (T, D) feature vectors -> nearest-train distances."""
    distances, neighbours = nearest_distances(samples, train, k)
    return Memorisation(distances[:, 0], neighbours, nearest_distances(test, train, 1)[0][:, 0])


@dataclass
class Evaluation:
    """Every metric for the samples and, beside it, for held-out real images (the floor)."""

    fid: Interval
    fid_floor: Interval
    kid: Interval
    kid_floor: Interval
    prdc: PRDC
    prdc_floor: PRDC
    class_histogram: list[int]
    mean_confidence: float
    mean_confidence_floor: float
    num_generated: int
    num_real: int
    num_held_out: int
    memorisation: Memorisation | None = None

    def rows(self) -> list[tuple[str, str, str]]:
        """(metric, samples vs test, held-out real vs test) for printing or a report table."""
        rows = [
            (f"FID ({FEATURE_SPACE}), 95% bootstrap", self.fid.format(2),
             self.fid_floor.format(2)),
            (f"KID x 1000 ({FEATURE_SPACE}), +-1.96 sd", _milli(self.kid), _milli(self.kid_floor)),
        ]  # fmt: skip
        for name in ("precision", "recall", "density", "coverage"):
            ours, floor = getattr(self.prdc, name), getattr(self.prdc_floor, name)
            rows.append((f"{name} (k={self.prdc.nearest_k})", f"{ours:.3f}", f"{floor:.3f}"))
        confidence = (f"{self.mean_confidence:.3f}", f"{self.mean_confidence_floor:.3f}")
        rows.append(("CNN mean confidence", *confidence))
        top = max(range(len(self.class_histogram)), key=self.class_histogram.__getitem__)
        share = self.class_histogram[top] / max(self.num_generated, 1)
        rows.append(("most frequent CNN class", f"{FASHION_MNIST_CLASSES[top]} ({share:.0%})",
                     "10% each in truth"))  # fmt: skip
        if self.memorisation is not None:
            summary = self.memorisation.to_dict()
            rows.append(("median distance to nearest train image",
                         f"{summary['median_sample_distance']:.2f}",
                         f"{summary['median_test_distance']:.2f} (test images)"))  # fmt: skip
            closer = summary["share_closer_than_5th_percentile_of_test"]
            rows.append(("closer to train than 95% of test images", f"{closer:.1%}", "5.0%"))
        rows.append(("images", f"{self.num_generated} generated vs {self.num_real} test",
                     f"{self.num_held_out} held-out real vs {self.num_real} test"))  # fmt: skip
        return rows

    def to_dict(self) -> dict:
        return {
            "feature_space": FEATURE_SPACE,
            "fid": self.fid.to_dict(), "fid_floor": self.fid_floor.to_dict(),
            "kid": self.kid.to_dict(), "kid_floor": self.kid_floor.to_dict(),
            "prdc": self.prdc.to_dict(), "prdc_floor": self.prdc_floor.to_dict(),
            "class_histogram": dict(zip(FASHION_MNIST_CLASSES, self.class_histogram, strict=True)),
            "mean_confidence": self.mean_confidence,
            "mean_confidence_floor": self.mean_confidence_floor,
            "num_generated": self.num_generated, "num_real": self.num_real,
            "num_held_out": self.num_held_out,
            "memorisation": self.memorisation.to_dict() if self.memorisation else None,
        }  # fmt: skip


def _milli(interval: Interval) -> str:
    return Interval(*(1000 * x for x in (interval.value, interval.low, interval.high))).format(2)


def evaluate_features(
    fake: SampleFeatures,
    real: SampleFeatures,
    held_out: SampleFeatures,
    train: SampleFeatures | None = None,
    num_bootstrap: int = 100,
    num_memorisation: int = 1000,
    seed: int = 0,
) -> Evaluation:
    """All metrics of `fake` against `real` and, as the floor, of `held_out` against `real`.

    `train` (the images the GAN trained on) adds the memorisation check for the first
    `num_memorisation` samples and test images.
    """
    num_classes = len(FASHION_MNIST_CLASSES)
    memorisation = None
    if train is not None:
        memorisation = memorisation_check(
            fake.vectors[:num_memorisation], train.vectors, real.vectors[:num_memorisation]
        )
    k = min(NEAREST_K, len(real.vectors) - 1, len(fake.vectors) - 1, len(held_out.vectors) - 1)
    return Evaluation(
        fid=fid_with_interval(real.vectors, fake.vectors, num_bootstrap, seed),
        fid_floor=fid_with_interval(real.vectors, held_out.vectors, num_bootstrap, seed),
        kid=kernel_distance(real.vectors, fake.vectors, seed=seed),
        kid_floor=kernel_distance(real.vectors, held_out.vectors, seed=seed),
        prdc=precision_recall_density_coverage(real.vectors, fake.vectors, k),
        prdc_floor=precision_recall_density_coverage(real.vectors, held_out.vectors, k),
        class_histogram=torch.bincount(fake.predicted, minlength=num_classes).tolist(),
        mean_confidence=float(fake.confidence.mean()),
        mean_confidence_floor=float(held_out.confidence.mean()),
        num_generated=len(fake.vectors),
        num_real=len(real.vectors),
        num_held_out=len(held_out.vectors),
        memorisation=memorisation,
    )
