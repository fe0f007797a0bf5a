"""The demo's budgets: one table, a row per budget name, a column per report section.

`budget_for(name)` is the one place an unknown name is rejected; every section module takes
the name and reads its own column (`budget_for(name).captioning`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vislab.explain.attribution import METHODS
from vislab.gan.data import NUM_TRAIN


@dataclass(frozen=True)
class FmnistBudget:
    """How many Fashion-MNIST test images the CNN section evaluates (None: all 10,000)."""

    test_images: int | None


@dataclass(frozen=True)
class CaptioningBudget:
    """Scene counts and, per model, the training keywords of one demo budget."""

    num_train: int
    num_val: int
    training: dict[str, dict]
    note: str
    default_training: dict = field(default_factory=dict)  # models without their own entry

    def options(self, model: str) -> dict:
        return dict(self.training.get(model, self.default_training))


@dataclass(frozen=True)
class ExplainBudget:
    photos: int  # sample photos in the saliency figures
    smoothgrad_samples: int
    fooling_images: int
    class_iterations: int
    imagenet_classes: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class GanBudget:
    """Training images, epochs per model and FID sample count of one demo budget."""

    num_train: int
    batch_size: int
    epochs: dict[str, int]
    show_every: dict[str, int]
    fid_samples: int
    note: str
    test_images: int | None = None  # the real images FID compares against (None: all 10,000)


@dataclass(frozen=True)
class ExplainQualityBudget:
    """Sizes of the explanation-quality studies: images, methods, attack and ascent steps."""

    fmnist_images: int  # sanity + faithfulness
    fmnist_methods: tuple[str, ...]
    lite0_images: int  # 0: the EfficientNet parts are left out
    lite0_methods: tuple[str, ...]
    samples: int  # SmoothGrad/VarGrad samples and IG steps
    robust_fmnist_images: int
    robust_lite0_images: int
    attack_iterations: int
    vis_fmnist_classes: int
    vis_lite0_classes: int
    vis_seeds: tuple[int, ...]
    course_iterations: int
    fourier_iterations: int
    note: str


@dataclass(frozen=True)
class Budget:
    """One row of the table: what every section does under one budget name."""

    note: str  # for the report's subtitle and its timings section
    fmnist_cnn: FmnistBudget
    captioning: CaptioningBudget
    explain: ExplainBudget
    gan: GanBudget
    explain_quality: ExplainQualityBudget


# On Lite0 the full budget leaves out occlusion and VarGrad, which cost the most per image there.
_LITE0_ATTRIBUTIONS = tuple(name for name in METHODS if name not in ("occlusion", "vargrad"))
# The vanilla RNN gets smaller steps than the course's 5e-3 on the larger budgets: at 5e-3 its
# training loss rose again after ~1,000 iterations on the scene set (no gradient clipping).
_NUMPY = {"batch_size": 100, "learning_rate": 5e-3, "lr_decay": 0.95, "blas_threads": 1}
# At width 64 the course's 2048-wide feed-forward block is most of a Transformer step; 256
# (4x the width) makes the quick budget's 200 iterations about 3x faster.
_QUICK_TRANSFORMER = {"epochs": 2, "max_train": 10_000, "batch_size": 100, "wordvec_dim": 64,
                      "num_layers": 2, "feedforward_dim": 256}  # fmt: skip

BUDGETS = {
    "tiny": Budget(
        "tiny budgets (a smoke run): the figures are real but barely trained",
        FmnistBudget(test_images=1000),
        CaptioningBudget(
            200, 30,
            {"rnn": {**_NUMPY, "epochs": 1, "hidden_dim": 32, "wordvec_dim": 16},
             "lstm": {**_NUMPY, "epochs": 1, "hidden_dim": 32, "wordvec_dim": 16},
             "attention-lstm": {**_NUMPY, "epochs": 1, "hidden_dim": 32, "wordvec_dim": 16},
             "transformer": {"epochs": 1, "batch_size": 100, "wordvec_dim": 32,
                             "num_layers": 1},
             "transformer-grid": {"epochs": 1, "batch_size": 100, "wordvec_dim": 32,
                                  "num_layers": 1}},
            "tiny budget (a smoke run): 200 training scenes, one epoch of small models",
            {"epochs": 1, "batch_size": 100},
        ),
        ExplainBudget(2, 4, 1, 10, ("tarantula",), "a tiny budget (smoke run)"),
        GanBudget(128, 32, {"fc": 1, "dc": 1}, {"fc": 2, "dc": 2}, 300,
                  "tiny budget (a smoke run): 4 steps of batch 32 per model, FID on 300 "
                  "samples", test_images=1000),
        ExplainQualityBudget(10, ("saliency", "gradcam"), 0, (), 2, 50, 0, 3, 2, 0, (0,), 10,
                             10, "a tiny budget (smoke run: Fashion-MNIST only)"),
    ),
    "quick": Budget(
        "quick budgets (the default, 3 to 5 minutes on 2 cores): models are trained "
        "briefly, so quality is below what the full course schedules reach",
        FmnistBudget(test_images=None),
        CaptioningBudget(
            4_000, 400,
            {"rnn": {**_NUMPY, "epochs": 4, "hidden_dim": 128, "wordvec_dim": 64,
                     "learning_rate": 2.5e-3},
             "lstm": {**_NUMPY, "epochs": 4, "hidden_dim": 128, "wordvec_dim": 64},
             "attention-lstm": {**_NUMPY, "epochs": 3, "hidden_dim": 128, "wordvec_dim": 64},
             "transformer": {**_QUICK_TRANSFORMER},
             "transformer-grid": {**_QUICK_TRANSFORMER}},
            "quick budget: 4,000 training and 400 validation scenes; the numpy RNN and LSTM "
            "(hidden size 128) train 4 epochs (800 iterations of 100 captions), the attention "
            "LSTM 3 (its step costs ~1.7 LSTM steps), the 64-wide "
            "2-layer Transformers (feed-forward width 256, not the course's 2048) 200 "
            "iterations, so the captions are rougher than with the full budget",
            {"epochs": 4, "batch_size": 100},
        ),
        ExplainBudget(5, 16, 2, 100, ("tarantula",), "a quick budget (about a minute)"),
        GanBudget(9_600, 128, {"fc": 4, "dc": 2}, {"fc": 100, "dc": 50}, 1000,
                  "quick budget: the first 9,600 training images, fc 4 epochs (300 "
                  "steps), dc 2 epochs (150 steps), FID on 1,000 samples against 3,000 "
                  "test images, so FIDs are higher than with the full schedule and the "
                  "DCGAN has had the fewest steps", test_images=3000),
        ExplainQualityBudget(30, METHODS, 2, ("saliency", "gradcam"),
                             4, 50, 2, 10, 10, 1, (0,), 100, 128,
                             "a quick budget: 30 Fashion-MNIST images for sanity and "
                             "faithfulness, 2 Lite0 images, 50 images attacked, one seed"),
    ),
    "full": Budget(
        "the course's full schedules",
        FmnistBudget(test_images=None),
        CaptioningBudget(
            20_000, 2_000,
            {"rnn": {**_NUMPY, "epochs": 8, "hidden_dim": 512, "wordvec_dim": 256,
                     "learning_rate": 1e-3},
             "lstm": {**_NUMPY, "epochs": 8, "hidden_dim": 512, "wordvec_dim": 256},
             "attention-lstm": {**_NUMPY, "epochs": 8, "hidden_dim": 512, "wordvec_dim": 256},
             "transformer": {"epochs": 8, "batch_size": 100, "wordvec_dim": 256,
                             "num_layers": 2},
             "transformer-grid": {"epochs": 8, "batch_size": 100, "wordvec_dim": 256,
                                  "num_layers": 2}},
            "full budget: the default 20,000 / 2,000 scene set, 8 epochs per model with the "
            "course's sizes (hidden 512, word vectors 256)",
            {"epochs": 8, "batch_size": 100},
        ),
        ExplainBudget(5, 50, 5, 200, ("tarantula", "gorilla", "hourglass"), "the full budget"),
        GanBudget(NUM_TRAIN, 128, {"fc": 10, "dc": 5}, {"fc": 250, "dc": 250}, 10000,
                  "the course's schedules: 50,000 images, fc 10 epochs, dc 5 epochs, batch "
                  "128; FID on 10,000 samples against the 10,000 test images"),
        ExplainQualityBudget(100, METHODS, 25, _LITE0_ATTRIBUTIONS, 8, 1000, 25, 10, 10,
                             10, (0, 1), 100, 128,
                             "the issue's sizes (as benchmarks/explain_quality.py)"),
    ),
}  # fmt: skip
BUDGET_NAMES = tuple(BUDGETS)


def budget_for(name: str) -> Budget:
    """The budget row called `name`; an unknown name raises ValueError listing the choices."""
    if name not in BUDGETS:
        raise ValueError(f"unknown budget {name!r}: choose one of {', '.join(BUDGETS)}")
    return BUDGETS[name]
