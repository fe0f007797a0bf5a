"""Grounding of the attention LSTM's words: where it looked for each word, drawn on the image,
and a check that the looking matters.

`teacher_forced` replays any caption (greedy or beam) through an `AttentionCaptioningLSTM`,
giving each word's probability and the attention over the cells before it. `grounding_figure`
draws one panel per word: the image under a heatmap of that word's attention (cells upsampled
to the image). `faithfulness` blanks, for each generated garment noun, the cell the model
attended most (its features replaced by an empty cell's) and, separately, a random other cell,
and compares how much the noun's probability falls: attention that means something makes the
first fall larger.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from vislab.captioning.truth_metrics import garment_word_positions


def _softmax_rows(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def teacher_forced(model, features: np.ndarray, captions: np.ndarray):
    """Replay captions through the model.

    features: (N, L, D); captions: (N, T) generated word ids (first word first, `<NULL>` after
    `<END>`). Returns probs (N, T), each word's probability given the words before it, and
    alphas (N, T, L), the attention before each word.
    """
    N, T = captions.shape
    h, c, cells, projected = model.initial_state(features)
    words = np.full(N, model._start, dtype=np.int64)
    probs = np.zeros((N, T))
    alphas = np.zeros((N, T, features.shape[1]))
    rows = np.arange(N)
    for t in range(T):
        scores, h, c, alpha = model.step_with_attention(words, h, c, cells, projected)
        probs[:, t] = _softmax_rows(scores.astype(np.float64))[rows, captions[:, t]]
        alphas[:, t] = alpha
        words = captions[:, t]
    return probs, alphas


def empty_cell_feature(grid_features: np.ndarray) -> np.ndarray:
    """The feature vector of an empty cell: the most frequent cell vector of a scene set
    (every blank window has the same CNN features). grid_features: (N, L, D) -> (D,)."""
    cells = grid_features.reshape(-1, grid_features.shape[2])
    values, counts = np.unique(cells.round(4), axis=0, return_counts=True)
    return values[counts.argmax()].astype(grid_features.dtype)


def faithfulness(
    model,
    features: np.ndarray,
    captions: np.ndarray,
    idx_to_word: list[str],
    blank: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, float]:
    """Blank the most-attended cell vs a random other cell for every generated garment noun.

    features: (N, L, D); captions: (N, T) generated ids; blank: (D,) an empty cell's features.
    Returns num_scenes, num_nouns, the mean probability drop of the noun for each blanking,
    their ratio, and the fraction of nouns whose drop is larger for the most-attended cell.
    """
    probs, alphas = teacher_forced(model, features, captions)
    pairs = [
        (n, t)
        for n, row in enumerate(captions)
        for t, _ in garment_word_positions(_words(row, idx_to_word))
    ]
    if not pairs:
        return {"num_scenes": len(captions), "num_nouns": 0}
    scenes, steps = (np.array(a) for a in zip(*pairs, strict=True))
    L = features.shape[1]
    top = alphas[scenes, steps].argmax(axis=1)
    other = (top + rng.integers(1, L, size=len(top))) % L  # uniform over the other cells
    drops = {}
    for name, cell in (("top", top), ("random", other)):
        blanked = features[scenes].copy()
        blanked[np.arange(len(scenes)), cell] = blank
        new_probs, _ = teacher_forced(model, blanked, captions[scenes])
        drops[name] = probs[scenes, steps] - new_probs[np.arange(len(scenes)), steps]
    mean_top, mean_random = float(drops["top"].mean()), float(drops["random"].mean())
    return {
        "num_scenes": len(captions),
        "num_nouns": len(pairs),
        "top_cell_drop": mean_top,
        "random_cell_drop": mean_random,
        "drop_ratio": mean_top / mean_random if mean_random > 0 else float("inf"),
        "fraction_top_lowers_more": float(np.mean(drops["top"] > drops["random"])),
    }


def _words(row: np.ndarray, idx_to_word: list[str]) -> list[str]:
    """Generated ids -> words up to (without) `<END>`, position t = column t."""
    words = []
    for index in row.tolist():
        word = idx_to_word[index]
        if word in ("<END>", "<NULL>"):
            break
        words.append(word)
    return words


def grounding_figure(
    items: list[tuple[np.ndarray, list[str], np.ndarray, str]], grid_shape: tuple[int, int]
) -> Figure:
    """One row per caption: the image with a label under it, then one panel per word showing
    the image under that word's attention (cells upsampled to the image, brightest = most).

    items: (image (H, W) or (H, W, 3) uint8, words, alphas (len(words), rows * columns) in
    reading order, label) per caption.
    """
    rows, columns = grid_shape
    width_panels = 1 + max((len(words) for _, words, _, _ in items), default=1)
    figure = Figure(figsize=(1.05 * width_panels, 1.75 * max(len(items), 1)))
    for row, (image, words, alphas, label) in enumerate(items):
        height, width = image.shape[:2]
        cmap = "gray" if image.ndim == 2 else None
        axes = figure.add_subplot(len(items), width_panels, row * width_panels + 1)
        axes.imshow(image, cmap=cmap, vmin=0, vmax=255)
        axes.set_xlabel(label, fontsize=5, wrap=True)
        axes.set_xticks([])
        axes.set_yticks([])
        for k, word in enumerate(words):
            axes = figure.add_subplot(len(items), width_panels, row * width_panels + k + 2)
            heat = alphas[k].reshape(rows, columns) / max(float(alphas[k].max()), 1e-12)
            heat_image = Image.fromarray((heat * 255).astype(np.uint8)).resize(
                (width, height), Image.Resampling.BILINEAR
            )
            axes.imshow(image, cmap=cmap, vmin=0, vmax=255)
            axes.imshow(np.asarray(heat_image), cmap="inferno", alpha=0.55, vmin=0, vmax=255)
            axes.set_title(word, fontsize=7)
            axes.axis("off")
    figure.subplots_adjust(left=0.01, right=0.99, top=0.9, bottom=0.12, wspace=0.05, hspace=0.8)
    return figure
