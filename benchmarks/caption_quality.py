"""Caption quality on the Fashion-MNIST scenes: every captioner vs the baseline, on the truth.

Builds the default scene set (20,000 train / 2,000 val scenes) with 20% of the 2- and
3-garment class combinations held out of train (the val scenes with an unseen combination are
the novel-combination split), trains each registered captioner with the budget below (each
at most 10 minutes on a quiet 2-core machine), and scores greedy captions on all val scenes:
BLEU-4 / CIDEr-D (pycocoevalcap) beside the references' leave-one-out ceiling, and against the
scenes' truth (class F1, count, position, exact-scene) on all, seen and novel scenes, next to
the nearest-neighbour baseline and beside captions naming, at each garment's true cell, the
class the shipped CNN gives its window (what the captioners' features allow). Checks issue
17's targets for the grid models and the attention LSTM's faithfulness. Appends the tables to
RESULTS.md.

Run it on a quiet machine: the budget below is counted in iterations, sized to fit 10
minutes per model there; on a loaded one each model takes longer (the seconds are recorded).

    PYTHONPATH=src:benchmarks nice -n 10 .venv/bin/python benchmarks/caption_quality.py \
        [--work runs/caption_quality] [--models attention-lstm,lstm]

Reuses the scene set and finished training runs found in --work (delete it for a fresh run).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image

from results import report
from vislab.backbones.fmnist_cnn import load_fmnist_cnn
from vislab.captioning.captioners import CAPTIONERS, load_captioner
from vislab.captioning.grounding import empty_cell_feature, faithfulness
from vislab.captioning.nearest_neighbour import NearestNeighbourCaptioner
from vislab.captioning.sets.scenes import read_garments
from vislab.captioning.truth_evaluation import truth_report
from vislab.captioning.truth_metrics import describe_truth, truth_from_array
from vislab.datasets.coco import load_coco_data
from vislab.datasets.grid_data import split_features
from vislab.demo.budgets import CaptioningBudget
from vislab.demo.captioning import ensure_evaluation, ensure_scenes, ensure_trained

NOVEL_FRACTION = 0.2
GRID_MODELS = ("attention-lstm", "transformer-grid")
# lr_decay per epoch: 0.95 ** 4, the decay over a run of 40 epochs of 25,000 captions
_NUMPY = {"batch_size": 100, "learning_rate": 5e-3, "lr_decay": 0.815, "blas_threads": 1}
# The numpy models see every training caption (100,000: 1,000 iterations / epoch). A fixed
# draw of 25,000 (the course's max_train) for 40 epochs overfits them at the same number of
# iterations: the attention LSTM's val loss rose from epoch 3 on (4.7 to 7.2) and it scored
# class F1 0.80 / position 0.68 / exact scene 0.59 against 0.85 / 0.77 / 0.71 on all captions.
# The grid Transformer went the other way (0.86 / 0.85 / 0.74 on the draw, 0.81 / 0.63 / 0.65
# on all captions, 9,000 iterations each), so the Transformers keep the draw.
_SMALL = {"hidden_dim": 128, "wordvec_dim": 64}
_TRANSFORMER = {"epochs": 36, "max_train": 25_000, "batch_size": 100, "wordvec_dim": 64,
                "feedforward_dim": 256}  # fmt: skip
# Issue 17's budget is at most 10 minutes per model on 2 cores. On one quiet core a step of
# 100 captions takes about 30 ms (numpy attention LSTM) and 50 ms (a 64-wide Transformer with
# a 256-wide feed-forward block; 175 ms with the course's 2048), so numpy models get 10,000
# iterations and Transformers 9,000.
BENCHMARK = CaptioningBudget(
    20_000,
    2_000,
    {
        "rnn": {**_NUMPY, **_SMALL, "epochs": 10, "learning_rate": 2.5e-3},
        "lstm": {**_NUMPY, **_SMALL, "epochs": 10},
        "attention-lstm": {**_NUMPY, **_SMALL, "epochs": 10},
        "transformer": {**_TRANSFORMER, "num_layers": 2},
        "transformer-grid": {**_TRANSFORMER, "num_layers": 2},
    },
    "benchmark budget",
    {"epochs": 1, "batch_size": 100},
)
TRUTH = ("class_f1", "count_accuracy", "position_accuracy", "exact_scene_rate")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="runs/caption_quality", help="folder for data and runs")
    parser.add_argument("--models", help="comma-separated captioners (default: all registered)")
    args = parser.parse_args()
    work = Path(args.work)
    models = args.models.split(",") if args.models else list(CAPTIONERS)
    start = time.perf_counter()
    data_dir = ensure_scenes(work / "scenes", BENCHMARK, False, novel_fraction=NOVEL_FRACTION)
    build_seconds = time.perf_counter() - start
    data = load_coco_data(data_dir)
    baseline = NearestNeighbourCaptioner(
        data["train_features"], data["train_captions"], data["train_image_idxs"],
        data["idx_to_word"],
    )  # fmt: skip
    evaluations = {"nearest-neighbour (k=10)": ensure_evaluation(
        baseline, data, work / "nn.json", 1, False, ceiling=True
    )}  # fmt: skip
    reading = _cnn_reading(data_dir, data)
    budgets, captioners = {}, {}
    for model in models:
        options = BENCHMARK.options(model)
        run = ensure_trained(model, data_dir, work / model, options, fresh=False)
        captioners[model] = load_captioner(run["checkpoint"])
        evaluations[model] = ensure_evaluation(
            captioners[model], data, work / model / "eval_beam1.json", 1, False
        )
        captions = options.get("max_train") or len(data["train_captions"])
        width = options.get("hidden_dim", options.get("wordvec_dim"))
        budgets[model] = (
            f"{options['epochs']} epochs x {captions:,} captions (batch "
            f"{options['batch_size']}), width {width}: {run['seconds']:.0f} s"
        )
    body = _tables(data, evaluations, budgets, build_seconds, reading)
    body += "\n\n" + _targets(evaluations, reading)
    if "attention-lstm" in captioners:
        body += "\n\n" + _faithfulness(captioners["attention-lstm"], data)
    # Scores do not depend on the machine's load (only the recorded training seconds do).
    report("Caption quality on Fashion-MNIST scenes: n-grams and the truth", body, noisy=False)


def _cnn_reading(data_dir: Path, data: dict) -> dict:
    """Truth scores of captions naming, at each garment's true cell, the class the shipped CNN
    gives its window. The captioners read that CNN's features, so this is about the best they
    can name garments, and unlike them it is told where each garment is."""
    paths = sorted((data_dir / "images" / "val").glob("*.png"))
    canvases = np.stack([np.asarray(Image.open(path)) for path in paths])
    read = read_garments(load_fmnist_cnn(), canvases, data["val_truth"])
    captions = [describe_truth(garments) for garments in truth_from_array(read)]
    return truth_report(data, "val", list(range(len(captions))), captions)


def _tables(
    data: dict, evaluations: dict, budgets: dict, build_seconds: float, reading: dict
) -> str:
    nn = evaluations["nearest-neighbour (k=10)"]
    ceiling = nn.reference_ceiling
    lines = [
        f"{len(data['train_features']):,} train / {len(data['val_features']):,} val scenes, "
        f"{int(data['val_novel'].sum())} of them novel-combination (built or reused in "
        f"{build_seconds:.0f} s); greedy captions of every val scene.",
        "",
        "| captioner | BLEU-4 | CIDEr-D | budget (measured) |",
        "|---|---|---|---|",
        f"| references, leave-one-out | {ceiling['BLEU-4']:.3f} | {ceiling['CIDEr-D']:.3f} | - |",
    ]
    for name, evaluation in evaluations.items():
        scores = evaluation.scores
        lines.append(
            f"| {name} | {scores['BLEU-4']:.3f} | {scores['CIDEr-D']:.3f} | "
            f"{budgets.get(name, '-')} |"
        )
    lines += [
        "",
        "Against the truth (class F1 / count / position / exact-scene; all, seen, novel scenes):",
        "",
        "| captioner | all | seen | novel |",
        "|---|---|---|---|",
        f"| references | {_truth_cell(nn.reference_truth)} | - | - |",
        "| the CNN's own class at each true cell | "
        + " | ".join(_truth_cell(reading.get(s)) for s in ("all", "seen", "novel"))
        + " |",
    ]
    for name, evaluation in evaluations.items():
        truth = evaluation.truth
        cells = " | ".join(_truth_cell(truth.get(s)) for s in ("all", "seen", "novel"))
        lines.append(f"| {name} | {cells} |")
    return "\n".join(lines)


def _truth_cell(scores: dict | None) -> str:
    return "-" if not scores else " / ".join(f"{scores[name]:.2f}" for name in TRUTH)


def _targets(evaluations: dict, reading: dict) -> str:
    """Issue 17's quality targets for each trained grid model, measured against the baseline,
    each beside what the CNN's own reading of the garments reaches."""
    nn = evaluations["nearest-neighbour (k=10)"].truth
    lines = [
        "Targets (grid models vs the nearest-neighbour baseline; in brackets, the CNN's own "
        "class at each true cell):"
    ]
    for model in GRID_MODELS:
        if model not in evaluations:
            lines.append(f"- {model}: not trained in this run (no measurement)")
            continue
        truth = evaluations[model].truth
        checks = [
            ("exact-scene >= 2x baseline", "all", "exact_scene_rate",
             2 * nn["all"]["exact_scene_rate"]),
        ]  # fmt: skip
        for subset, margin in (("all", 0.10), ("novel", 0.20)):
            for name in ("class_f1", "position_accuracy"):
                checks.append(
                    (f"{name} >= baseline + {margin:.2f}", subset, name,
                     nn[subset][name] + margin)
                )  # fmt: skip
        for label, subset, name, bound in checks:
            value = truth[subset][name]
            verdict = "met" if value >= bound else "NOT met"
            lines.append(
                f"- {model}: {label} ({subset}): {value:.3f} vs {bound:.3f}: {verdict} "
                f"[{reading[subset][name]:.3f}]"
            )
    return "\n".join(lines)


def _faithfulness(captioner, data: dict) -> str:
    features = split_features(data, "val", "grid")
    captions = captioner.sample(features, max_length=data["val_captions"].shape[1] - 1)
    blank = empty_cell_feature(split_features(data, "train", "grid"))
    result = faithfulness(
        captioner.model, features, captions, captioner.idx_to_word, blank,
        np.random.default_rng(0),
    )  # fmt: skip
    return (
        f"Faithfulness of the attention LSTM on {result['num_scenes']} val scenes "
        f"({result['num_nouns']} garment nouns): blanking the most-attended cell lowers the "
        f"noun's probability by {result['top_cell_drop']:.3f} on average, a random other cell "
        f"by {result['random_cell_drop']:.3f}: ratio **{result['drop_ratio']:.2f}**; the "
        f"most-attended cell matters more for {100 * result['fraction_top_lowers_more']:.0f}% "
        "of the nouns."
    )


if __name__ == "__main__":
    main()
