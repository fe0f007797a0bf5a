"""`vislab gan eval`: every metric of `vislab.gan.evaluation` for one checkpoint, with figures.

The samples are `num_samples` images from seeded noise through the chosen weights (the EMA
generator when the checkpoint holds one, unless told otherwise). The real reference is the
test split; the floor is the same number of held-out training images, those after the
run's `num_train` (training images 50,000..59,999 for the course's runs). A run that used
every training image leaves none: then the test split is halved, even rows as the reference
and odd rows as the held-out set. Writes evaluation.json, memorisation.png,
memorisation_distances.png and class_balance.png into `out_dir`.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from vislab.atomic_files import atomic_write_text
from vislab.backbones import load_fmnist_cnn
from vislab.gan.checkpoints import default_weights, load_generator
from vislab.gan.data import load_gan_images
from vislab.gan.evaluation import (
    Evaluation,
    SampleFeatures,
    Scores,
    evaluate_features,
    extract_features,
    score_features,
)
from vislab.gan.evaluation_figures import class_balance_chart, distance_histogram, memorisation_grid
from vislab.gan.images import deprocess_img
from vislab.gan.models import sample_noise
from vislab.gan.sampling import generate

logger = logging.getLogger(__name__)

MIN_HELD_OUT = 1000  # below this many unused training images, the test split is halved


@dataclass
class CheckpointEvaluation:
    """An evaluation, the weights it used and the files it wrote."""

    evaluation: Evaluation
    weights: str
    json_path: Path
    figures: dict[str, Path]


def generated_images(
    checkpoint: str | os.PathLike,
    num_samples: int,
    weights: str | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> tuple[torch.Tensor, object, str]:
    """(num_samples, 1, 28, 28) samples in [0, 1] from seeded noise, the config, the weights."""
    weights = weights or default_weights(checkpoint)
    G, config = load_generator(checkpoint, device, weights=weights)
    noise = sample_noise(
        num_samples, config.noise_dim, generator=torch.Generator().manual_seed(seed)
    )
    images = deprocess_img(generate(G, noise)).view(-1, 1, 28, 28).clamp(0, 1)  # (N, 1, 28, 28)
    return images, config, weights


def real_sets(
    config, data_dir, num_samples: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(test reference, held-out real, the images the run trained on), see the module docstring."""
    train, _ = load_gan_images(config.data, data_dir, split="train")
    test, _ = load_gan_images(config.data, data_dir, split="test")
    held_out = train[config.num_train :][:num_samples]
    if len(held_out) < min(MIN_HELD_OUT, num_samples):
        logger.info("only %d unused training images: halving the test split", len(held_out))
        test, held_out = test[0::2], test[1::2][:num_samples]
    return test, held_out, train[: config.num_train]


@dataclass
class RealReference:
    """The real side of every evaluation, extracted once: test, held-out, train features."""

    cnn: torch.nn.Module
    test: SampleFeatures
    train: SampleFeatures
    floor: Scores
    train_images: torch.Tensor  # (N, 1, 28, 28), for the memorisation grid
    num_bootstrap: int = 50
    num_memorisation: int = 1000
    seed: int = 0

    @classmethod
    def build(
        cls,
        test,
        held_out,
        train,
        cnn,
        num_bootstrap=50,
        num_memorisation=1000,
        seed=0,
        progress=False,
    ) -> RealReference:
        """test, held_out, train: (N, 1, 28, 28) pixels in [0, 1]; the floor is scored here."""
        test_features = extract_features(test, cnn, progress=progress)
        held_features = extract_features(held_out, cnn, progress=progress)
        floor = score_features(test_features, held_features, num_bootstrap, seed)
        train_features = extract_features(train, cnn, progress=progress)
        return cls(cnn, test_features, train_features, floor, train, num_bootstrap,
                   num_memorisation, seed)  # fmt: skip

    def evaluate(self, fake: torch.Tensor, progress: bool = False) -> Evaluation:
        """fake: (M, 1, 28, 28) samples in [0, 1] -> every metric beside the floor."""
        return evaluate_features(
            extract_features(fake, self.cnn, progress=progress), self.test, self.floor,
            self.train, self.num_bootstrap, self.num_memorisation, self.seed,
        )  # fmt: skip


def write_figures(
    evaluation: Evaluation, fake: torch.Tensor, train: torch.Tensor, out_dir: Path
) -> dict[str, Path]:
    """The memorisation grid, its distance histogram and the class balance chart as PNGs."""
    return {
        "memorisation": memorisation_grid(
            fake, train, evaluation.memorisation, out_dir / "memorisation.png"
        ),
        "distances": distance_histogram(
            evaluation.memorisation, out_dir / "memorisation_distances.png"
        ),
        "class_balance": class_balance_chart(
            evaluation.samples.class_histogram, out_dir / "class_balance.png"
        ),
    }


def evaluate_checkpoint(
    checkpoint: str | os.PathLike,
    out_dir: str | os.PathLike,
    weights: str | None = None,
    num_samples: int = 10000,
    num_bootstrap: int = 50,
    num_memorisation: int = 1000,
    data_dir: str | os.PathLike | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> CheckpointEvaluation:
    """Sample, measure against the test split and the floor, write JSON and figures."""
    fake, config, weights = generated_images(checkpoint, num_samples, weights, seed, device)
    test, held_out, train = real_sets(config, data_dir, num_samples)
    reference = RealReference.build(
        test, held_out, train, load_fmnist_cnn(device=device), num_bootstrap,
        num_memorisation, seed, progress,
    )  # fmt: skip
    evaluation = reference.evaluate(fake, progress=progress)
    out_dir = Path(out_dir)
    figures = write_figures(evaluation, fake, reference.train_images, out_dir)
    summary = {"checkpoint": str(checkpoint), "weights": weights, "seed": seed,
               "config": config.to_dict(), **evaluation.to_dict()}  # fmt: skip
    json_path = atomic_write_text(out_dir / "evaluation.json", json.dumps(summary, indent=2))
    return CheckpointEvaluation(evaluation, weights, json_path, figures)
