"""The captioning part of `vislab demo`: scenes, every registered captioner, scores, figures.

Builds a Fashion-MNIST scene caption set, trains each registered captioner on it (the numpy
RNN and LSTM, and the Transformer), scores greedy and beam-search captions with BLEU and
CIDEr-D against the nearest-neighbour baseline, and draws sample scenes with their captions
and the loss curves. On the scenes' truth it scores which garments, how many and where every
captioner names, and draws the attention LSTM's per-word attention beside each scene's truth
with its faithfulness check. Everything lands under `out_dir/<budget>/` and is reused by the next
run unless `fresh`: a finished build or training run is kept, an interrupted training run
resumes from its `last.pt`, and scores are cached as JSON.
"""

from __future__ import annotations

import json
import shutil
import textwrap
import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure as MplFigure
from tqdm import tqdm

from vislab.atomic_files import atomic_savefig, atomic_write_text
from vislab.captioning.captioners import CAPTIONERS, load_captioner, train_captioner
from vislab.captioning.evaluation import (
    CaptionEvaluation,
    evaluate_captioner,
    generate_captions,
    references_by_image,
    write_evaluation,
)
from vislab.captioning.grounding import (
    empty_cell_feature,
    faithfulness,
    grounding_figure,
    teacher_forced,
)
from vislab.captioning.metrics import METRIC_NAMES
from vislab.captioning.nearest_neighbour import NearestNeighbourCaptioner
from vislab.captioning.sets.scenes import build_scene_captions, is_built
from vislab.captioning.truth_metrics import describe_truth, truth_from_array
from vislab.datasets.coco import load_coco_data
from vislab.datasets.grid_data import split_features
from vislab.datasets.image_urls import image_from_url
from vislab.demo.budgets import CaptioningBudget, budget_for
from vislab.report import Figure, Section, Table

BEAM_SIZE = 3
NUM_SAMPLES = 6
GROUNDED_MODEL = "attention-lstm"
NUM_GROUNDED = 5
TRUTH_COLUMNS = ("class_precision", "class_recall", "class_f1", "count_accuracy")
TRUTH_COLUMNS += ("position_accuracy", "exact_scene_rate")


def ensure_scenes(
    folder: Path, plan: CaptioningBudget, fresh: bool, seed: int = 0, novel_fraction: float = 0.0
) -> Path:
    """Build the scene set into folder unless a finished build of this size is there."""
    if fresh and folder.exists():
        shutil.rmtree(folder)
    if is_built(folder):
        manifest = json.loads((folder / "scenes.json").read_text(encoding="utf-8"))
        size = (manifest["num_train"], manifest["num_val"])
        # Builds from before the grid features and truth existed are rebuilt.
        if (size == (plan.num_train, plan.num_val) and "grid_feature_dim" in manifest
                and manifest["novel_fraction"] == novel_fraction):  # fmt: skip
            return folder
    return build_scene_captions(
        folder, seed=seed, num_train=plan.num_train, num_val=plan.num_val, progress=True,
        novel_fraction=novel_fraction,
    )  # fmt: skip


def ensure_trained(model: str, data_dir: Path, folder: Path, options: dict, fresh: bool) -> dict:
    """Train model into folder (resuming an interrupted run); return {seconds, checkpoint}.

    A finished run is reused when it was trained with the same options; a run with other
    options (a changed budget) is discarded and trained again.
    """
    done = folder / "done.json"
    if done.is_file() and not fresh:
        summary = json.loads(done.read_text(encoding="utf-8"))
        if summary.get("options") == options:
            return summary
        fresh = True
    if fresh and folder.exists():
        shutil.rmtree(folder)
    start = time.perf_counter()
    resume = (folder / "last.pt").is_file()
    result = train_captioner(model, data_dir, folder, resume=resume, progress=True, **options)
    summary = {
        "seconds": round(time.perf_counter() - start, 1),
        "checkpoint": str(result.best_checkpoint),
        "resumed": resume,
        "options": options,
    }
    atomic_write_text(done, json.dumps(summary, indent=2))
    return summary


def ensure_evaluation(
    captioner, data: dict, path: Path, beam_size: int, fresh: bool, ceiling: bool = False
):
    """Score captioner on val (cached in path) -> CaptionEvaluation; with `ceiling`, also the
    references' own scores."""
    if path.is_file() and not fresh:
        return CaptionEvaluation(**json.loads(path.read_text(encoding="utf-8")))
    evaluation = evaluate_captioner(captioner, data, beam_size=beam_size, ceiling=ceiling)
    write_evaluation(evaluation, path)
    return evaluation


def run_section(out_dir: str | Path, budget: str = "quick", fresh: bool = False) -> list[Section]:
    """Build, train, score and draw into out_dir/<budget>; return the report section.

    `budget` is "tiny" (a smoke run), "quick" (the demo's default) or "full".
    """
    plan, out = budget_for(budget).captioning, Path(out_dir) / budget
    data_dir = ensure_scenes(out / "scenes", plan, fresh)
    data = load_coco_data(data_dir)
    baseline = NearestNeighbourCaptioner(
        data["train_features"], data["train_captions"], data["train_image_idxs"],
        data["idx_to_word"],
    )  # fmt: skip
    scores = {
        "nearest-neighbour": ensure_evaluation(
            baseline, data, out / "eval_nn.json", 1, fresh, ceiling=True
        )
    }
    runs, captioners = {}, {}
    for model in tqdm(list(CAPTIONERS), desc="captioning demo", unit="model"):
        runs[model] = ensure_trained(model, data_dir, out / model, plan.options(model), fresh)
        captioners[model] = load_captioner(runs[model]["checkpoint"])
        for beam in (1, BEAM_SIZE):
            path = out / model / f"eval_beam{beam}.json"
            scores[f"{model}, beam {beam}"] = ensure_evaluation(
                captioners[model], data, path, beam, fresh
            )
    figures = [
        Figure(_samples_figure(captioners, data, out / "samples.png"), _SAMPLES_CAPTION),
        Figure(_loss_figure(out, list(runs), out / "loss_curves.png"), _LOSS_CAPTION),
    ]
    section = _section(plan, data, scores, runs, figures)
    section.tables.append(_truth_table(scores))
    if GROUNDED_MODEL in captioners:
        grounded = captioners[GROUNDED_MODEL]
        path = _grounding_figure(grounded, data, out / "grounding.png")
        section.figures.append(Figure(path, _GROUNDING_CAPTION))
        section.notes.append(_faithfulness_note(grounded, data))
    return [section]


_GROUNDING_CAPTION = (
    f"Grounding: the {GROUNDED_MODEL} captioner's greedy caption of validation scenes, one "
    "panel per word with the attention over the nine grid cells it used before emitting that "
    "word (bright = attended), and the scene's truth under the image."
)


def _truth_table(scores: dict) -> Table:
    """Truth scores of every scored captioner (all val scenes, and the novel ones if any)."""
    rows = []
    for name, evaluation in scores.items():
        for subset, values in evaluation.truth.items():
            rows.append([name, subset, *(round(values[c], 3) for c in TRUTH_COLUMNS)])
    references = scores["nearest-neighbour"].reference_truth
    if references:
        rows.append(["the references", "all", *(round(references[c], 3) for c in TRUTH_COLUMNS)])
    return Table(
        "Captions read against each scene's truth (which garments, how many, in which cell): "
        "garment-class precision / recall / F1 (multiset), count accuracy, position accuracy "
        "(a named place holds a garment of that class) and the exact-scene rate (every "
        "garment named, counts right, nothing extra, no wrong place). 'novel': val scenes "
        "whose combination of classes no training scene has; 'seen': the others.",
        ["captioner", "scenes", "class P", "class R", "class F1", "count", "place", "exact"],
        rows,
    )


def _grounding_figure(captioner, data: dict, path: Path) -> Path:
    """The attention captioner's greedy captions of NUM_GROUNDED val scenes, word by word."""
    images = np.unique(data["val_image_idxs"])[:NUM_GROUNDED]
    features = split_features(data, "val", "grid")[images]
    max_length = data["val_captions"].shape[1] - 1
    captions = captioner.sample(features, max_length=max_length)
    _, alphas = teacher_forced(captioner.model, features, captions)
    truths = truth_from_array(data["val_truth"][images])
    items = []
    for row, image in enumerate(images):
        words = [captioner.idx_to_word[i] for i in captions[row]]
        words = words[: words.index("<END>")] if "<END>" in words else words
        pixels = image_from_url(str(data["val_urls"][image]))
        pixels = np.zeros((64, 64), np.uint8) if pixels is None else pixels[..., 0]
        label = textwrap.fill(f"truth: {describe_truth(truths[row])}", 28)
        items.append((pixels, words, alphas[row, : len(words)], label))
    side = int(round(np.sqrt(features.shape[1])))
    return atomic_savefig(grounding_figure(items, (side, side)), path, dpi=110)


def _faithfulness_note(captioner, data: dict) -> str:
    features = split_features(data, "val", "grid")
    captions = captioner.sample(features, max_length=data["val_captions"].shape[1] - 1)
    report = faithfulness(
        captioner.model,
        features,
        captions,
        captioner.idx_to_word,
        empty_cell_feature(split_features(data, "train", "grid")),
        np.random.default_rng(0),
    )
    if not report["num_nouns"]:
        return f"Faithfulness: the {GROUNDED_MODEL} captioner named no garment to test."
    return (
        f"Faithfulness of the {GROUNDED_MODEL} attention over {report['num_scenes']} val "
        f"scenes ({report['num_nouns']} garment nouns): blanking the most-attended cell lowers "
        f"the noun's probability by {report['top_cell_drop']:.3f} on average, blanking a random "
        f"other cell by {report['random_cell_drop']:.3f} (ratio {report['drop_ratio']:.1f}); the "
        f"most-attended cell matters more for {100 * report['fraction_top_lowers_more']:.0f}% "
        "of the nouns."
    )


_SAMPLES_CAPTION = (
    f"Validation scenes (Fashion-MNIST test garments no model saw) with each model's greedy "
    f"caption, the LSTM's beam-search caption (beam {BEAM_SIZE}) and two of the five "
    "reference captions."
)
_LOSS_CAPTION = (
    "Training loss per minibatch and validation loss per epoch (dots) of each model. The "
    "numpy models sum the loss over the words of a caption, the Transformer averages it "
    "over words (as in the course), so compare shapes across panels, not values."
)


def _samples_figure(captioners: dict, data: dict, path: Path) -> Path:
    """Draw NUM_SAMPLES val scenes beside their generated and reference captions."""
    references = references_by_image(
        data["val_captions"], data["val_image_idxs"], data["idx_to_word"]
    )
    images = sorted(references)[:NUM_SAMPLES]
    max_length = data["val_captions"].shape[1] - 1

    def features(captioner):
        return split_features(data, "val", getattr(captioner, "feature_layout", "vector"))[images]

    lines = [[] for _ in images]
    for model, captioner in captioners.items():
        generated = generate_captions(captioner, features(captioner), max_length=max_length)
        for row, text in enumerate(generated):
            lines[row].append(f"{model} (greedy): {text}")
    beam_model = "lstm" if "lstm" in captioners else next(iter(captioners))
    beamed = generate_captions(
        captioners[beam_model],
        features(captioners[beam_model]),
        max_length=max_length,
        beam_size=BEAM_SIZE,
    )
    figure = MplFigure(figsize=(11, 2.1 * len(images)))
    for row, image in enumerate(images):
        lines[row].append(f"{beam_model} (beam {BEAM_SIZE}): {beamed[row]}")
        lines[row] += [f"reference: {text}" for text in references[image][:2]]
        pixels = image_from_url(str(data["val_urls"][image]))
        pixels = np.zeros((64, 64, 3), np.uint8) if pixels is None else pixels
        picture = figure.add_subplot(len(images), 4, 4 * row + 1)
        picture.imshow(pixels, cmap="gray", interpolation="nearest", vmin=0, vmax=255)
        picture.set_axis_off()
        text = figure.add_subplot(len(images), 4, (4 * row + 2, 4 * row + 4))
        text.set_axis_off()
        wrapped = "\n".join(textwrap.fill(line, 95) for line in lines[row])
        text.text(0, 0.5, wrapped, va="center", ha="left", fontsize=9, family="monospace")
    figure.tight_layout()
    return atomic_savefig(figure, path, dpi=90)


def _loss_figure(out: Path, models: list[str], path: Path) -> Path:
    """Training and validation loss of each model (its own panel) from its history.json."""
    figure = MplFigure(figsize=(4 * len(models), 3.6))
    for index, model in enumerate(models):
        history = json.loads((out / model / "history.json").read_text(encoding="utf-8"))
        train, val = history.get("train_loss", []), history.get("val_loss", [])
        axes = figure.add_subplot(1, len(models), index + 1)
        axes.plot(np.arange(1, len(train) + 1), train, lw=0.6, alpha=0.7, label="training")
        if val:
            x = len(train) / len(val) * np.arange(1, len(val) + 1)
            axes.plot(x, val, "o-", label="validation")
        axes.set(xlabel="iteration", title=model)
        axes.legend()
    figure.axes[0].set_ylabel("loss")
    figure.tight_layout()
    return atomic_savefig(figure, path, dpi=90)


def _section(
    plan: CaptioningBudget, data: dict, scores: dict, runs: dict, figures: list
) -> Section:
    rows = [[name, *(round(e.scores[m], 3) for m in METRIC_NAMES)] for name, e in scores.items()]
    baseline = scores["nearest-neighbour"].scores["CIDEr-D"]
    beaten = [m for m in runs if scores[f"{m}, beam 1"].scores["CIDEr-D"] > baseline]
    budget_rows = [
        [
            m,
            r["options"].get("epochs"),
            r["options"].get("hidden_dim", r["options"].get("wordvec_dim")),
            r["seconds"],
        ]
        for m, r in runs.items()
    ]
    num_val = len(data["val_features"])
    return Section(
        title="Image captioning",
        intro=(
            f"Captioners trained on {len(data['train_features']):,} Fashion-MNIST scenes "
            "(64x64 canvases holding 1-3 real garments; five template-written reference "
            "captions each; features from the project's Fashion-MNIST CNN on nine windows, "
            f"PCA to {data['train_features'].shape[1]} dimensions) and scored on "
            f"{num_val:,} validation scenes built from test images. This run used the "
            f"{plan.note}."
        ),
        figures=figures,
        tables=[
            Table(
                f"BLEU-1..4 and CIDEr-D on the {num_val:,} validation scenes (pycocoevalcap, "
                "all five references per scene; higher is better). The nearest-neighbour "
                "baseline returns the consensus caption of the 10 closest training scenes.",
                ["captioner", *METRIC_NAMES],
                rows,
            ),
            Table(
                "Training budgets (width: hidden size of the numpy models, model width of the "
                "Transformer; seconds the training took on this machine, kept from the run "
                "that trained it when a later demo reuses the checkpoint).",
                ["model", "epochs", "width", "train seconds"],
                budget_rows,
            ),
        ],
        notes=[
            f"Greedy captions beat the baseline's CIDEr-D ({baseline:.3f}) for: "
            f"{', '.join(beaten) or 'none'}."
            + ("" if len(beaten) == len(runs) else " The others need a longer budget.")
        ],
    )
