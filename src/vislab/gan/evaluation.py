"""Sample quality as the field reports it, all in the Fashion-MNIST CNN's feature space.

Every number here is computed on the 256-d penultimate features of the project's own
Fashion-MNIST CNN (labelled "Fashion-MNIST CNN features"), not on Inception's: the values
are not comparable with published Inception scores. Each metric sits beside its floor, the
same metric for held-out real images (training images 50,000..59,999, which no GAN trains
on) against the same test images: what a perfect generator would score at that sample size.

- FID (torchmetrics' FrechetInceptionDistance fed the CNN features) with a bootstrap
  interval: both sets resampled with replacement, FID recomputed each time (see
  `fid_with_interval` for how the interval is placed).
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

from vislab.backbones import FEATURE_DIM
from vislab.datasets import FASHION_MNIST_CLASSES
from vislab.errors import InvalidInputError
from vislab.gan.prdc import NEAREST_K, PRDC, nearest_distances, precision_recall_density_coverage

FEATURE_SPACE = "Fashion-MNIST CNN features"
Z_95 = 1.959964  # two-sided 95% normal quantile


@dataclass
class SampleFeatures:
    """The CNN's view of a set of images."""

    vectors: torch.Tensor  # (N, 256) penultimate features
    predicted: torch.Tensor  # (N,) predicted class index
    confidence: torch.Tensor  # (N,) probability of the predicted class


class FashionMNISTFeatures(nn.Module):
    """The CNN as a feature network: images (N, 1, 28, 28) in [0, 1] -> (N, 256)."""

    num_features = FEATURE_DIM

    def __init__(self, cnn: nn.Module):
        super().__init__()
        self.cnn = cnn.eval()

    def train(self, mode: bool = True) -> FashionMNISTFeatures:
        return super().train(False)  # always the trained network's inference behaviour

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.cnn.features(images.float())


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


def _resampled_moments(vectors: torch.Tensor, rng: torch.Generator) -> tuple:
    """Mean (D,) and covariance (D, D) of a with-replacement resample of vectors (N, D).

    The resample is carried as multiplicities (N,) so no (N, D) copy is made; float32
    products, float64 results.
    """
    n = len(vectors)
    counts = torch.bincount(torch.randint(n, (n,), generator=rng), minlength=n).float()
    mean = counts @ vectors / n  # (D,)
    centred = vectors - mean  # (N, D)
    covariance = (centred * counts[:, None]).T @ centred / (n - 1)  # (D, D)
    return mean.double(), covariance.double()


def fid_with_interval(
    real: torch.Tensor, fake: torch.Tensor, num_bootstrap: int = 50, seed: int = 0
) -> Interval:
    """FID and a 95% bootstrap interval. real: (N, D), fake: (M, D).

    Each replica resamples both sets with replacement. Duplicated images shrink the
    effective sample, which raises every replica's FID by about the same amount (a
    held-out real set scoring 0.5 gives replicas near 1.1), so the raw percentiles would
    sit above the estimate. The interval is therefore the replicas' 2.5..97.5% spread
    around their own mean, placed on the estimate: value + (q_2.5 - mean, q_97.5 - mean).
    """
    from torchmetrics.image.fid import _compute_fid  # the same closed form as the metric

    if num_bootstrap < 2:
        raise InvalidInputError(f"the bootstrap needs at least 2 resamples, got {num_bootstrap}")
    value = frechet_distance(real, fake)
    rng = torch.Generator().manual_seed(seed)
    real, fake = real.float(), fake.float()
    replicas = torch.stack([
        _compute_fid(*_resampled_moments(real, rng), *_resampled_moments(fake, rng))
        for _ in range(num_bootstrap)
    ])  # fmt: skip
    low, high = torch.quantile(replicas, torch.tensor([0.025, 0.975], dtype=replicas.dtype))
    centre = replicas.mean()
    return Interval(value, value + float(low - centre), value + float(high - centre))


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
class Scores:
    """Every metric of one image set (samples, or held-out real images) against the test set."""

    fid: Interval
    kid: Interval
    prdc: PRDC
    class_histogram: list[int]
    mean_confidence: float
    num_images: int

    def to_dict(self) -> dict:
        return {
            "fid": self.fid.to_dict(), "kid": self.kid.to_dict(), "prdc": self.prdc.to_dict(),
            "class_histogram": dict(zip(FASHION_MNIST_CLASSES, self.class_histogram, strict=True)),
            "mean_confidence": self.mean_confidence, "num_images": self.num_images,
        }  # fmt: skip


def score_features(
    real: SampleFeatures, other: SampleFeatures, num_bootstrap: int = 50, seed: int = 0
) -> Scores:
    """FID, KID, PRDC and the CNN's class balance of `other` against `real` (the test set).

    PRDC compares sets of equal size (Naeem et al.; coverage in particular falls when the
    real set outnumbers the other), so it uses the first len(other) real vectors.
    """
    k = min(NEAREST_K, len(real.vectors) - 1, len(other.vectors) - 1)
    real_for_prdc = real.vectors[: len(other.vectors)]
    histogram = torch.bincount(other.predicted, minlength=len(FASHION_MNIST_CLASSES))
    return Scores(
        fid=fid_with_interval(real.vectors, other.vectors, num_bootstrap, seed),
        kid=kernel_distance(real.vectors, other.vectors, seed=seed),
        prdc=precision_recall_density_coverage(real_for_prdc, other.vectors, k),
        class_histogram=histogram.tolist(),
        mean_confidence=float(other.confidence.mean()),
        num_images=len(other.vectors),
    )


@dataclass
class Evaluation:
    """The samples' scores and, beside them, held-out real images' (the floor)."""

    samples: Scores
    floor: Scores
    num_real: int
    memorisation: Memorisation | None = None

    def rows(self) -> list[tuple[str, str, str]]:
        """(metric, samples vs test, held-out real vs test) for printing or a report table."""
        ours, floor = self.samples, self.floor
        rows = [
            (f"FID ({FEATURE_SPACE}), 95% bootstrap", ours.fid.format(2), floor.fid.format(2)),
            (f"KID x 1000 ({FEATURE_SPACE}), +-1.96 sd", _milli(ours.kid), _milli(floor.kid)),
        ]
        for name in ("precision", "recall", "density", "coverage"):
            values = (f"{getattr(part.prdc, name):.3f}" for part in (ours, floor))
            rows.append((f"{name} (k={ours.prdc.nearest_k})", *values))
        rows.append(("CNN mean confidence", f"{ours.mean_confidence:.3f}",
                     f"{floor.mean_confidence:.3f}"))  # fmt: skip
        rows.append(("most frequent CNN class", _top_class(ours), _top_class(floor)))
        if self.memorisation is not None:
            summary = self.memorisation.to_dict()
            rows.append(("median distance to nearest train image",
                         f"{summary['median_sample_distance']:.2f}",
                         f"{summary['median_test_distance']:.2f} (test images)"))  # fmt: skip
            closer = summary["share_closer_than_5th_percentile_of_test"]
            rows.append(("closer to train than 95% of test images", f"{closer:.1%}", "5.0%"))
        rows.append(("images", f"{ours.num_images} generated vs {self.num_real} test",
                     f"{floor.num_images} held-out real vs {self.num_real} test"))  # fmt: skip
        return rows

    def to_dict(self) -> dict:
        return {
            "feature_space": FEATURE_SPACE,
            "samples": self.samples.to_dict(),
            "floor": self.floor.to_dict(),
            "num_real": self.num_real,
            "memorisation": self.memorisation.to_dict() if self.memorisation else None,
        }


def _milli(interval: Interval) -> str:
    return Interval(*(1000 * x for x in (interval.value, interval.low, interval.high))).format(2)


def _top_class(scores: Scores) -> str:
    top = max(range(len(scores.class_histogram)), key=scores.class_histogram.__getitem__)
    share = scores.class_histogram[top] / max(scores.num_images, 1)
    return f"{FASHION_MNIST_CLASSES[top]} ({share:.0%})"


def evaluate_features(
    fake: SampleFeatures,
    real: SampleFeatures,
    floor: Scores,
    train: SampleFeatures | None = None,
    num_bootstrap: int = 50,
    num_memorisation: int = 1000,
    seed: int = 0,
) -> Evaluation:
    """The samples' scores beside `floor` (`score_features(real, held_out)`, computed once).

    `train` (the images the GAN trained on) adds the memorisation check for the first
    `num_memorisation` samples and test images.
    """
    memorisation = None
    if train is not None:
        memorisation = memorisation_check(
            fake.vectors[:num_memorisation], train.vectors, real.vectors[:num_memorisation]
        )
    samples = score_features(real, fake, num_bootstrap, seed)
    return Evaluation(samples, floor, len(real.vectors), memorisation)
