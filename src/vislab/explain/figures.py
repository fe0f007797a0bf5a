"""Matplotlib figures like the notebook's: saliency grids, fooling panels, class snapshots.

Built on `matplotlib.figure.Figure` (no pyplot state), so they work headless and in threads.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from PIL import Image


def _show(axis, image: Image.Image | np.ndarray, title: str, cmap: str | None = None) -> None:
    array = np.asarray(image)
    axis.imshow(array, cmap=cmap if cmap or array.ndim == 3 else "gray", interpolation="nearest")
    axis.set_title(title, fontsize=9)
    axis.axis("off")


def saliency_figure(
    images: Sequence[Image.Image], maps: np.ndarray, titles: Sequence[str], heading: str
) -> Figure:
    """Images (top row) over their saliency maps (bottom row, 'hot'); maps: (N, H, W).

    Each map's colour scale tops out at its 99th percentile, so a few extreme pixels do not
    leave the rest black.
    """
    N = len(images)
    figure = Figure(figsize=(max(2.6 * N, 6.0), 5.8), layout="constrained")
    axes = figure.subplots(2, N, squeeze=False)
    for n in range(N):
        _show(axes[0, n], images[n], titles[n])
        top = float(np.percentile(maps[n], 99)) or None
        axes[1, n].imshow(maps[n], cmap="hot", vmin=0, vmax=top, interpolation="nearest")
        axes[1, n].set_title("saliency", fontsize=9)
        axes[1, n].axis("off")
    figure.suptitle(heading, fontsize=11)
    return figure


def image_row_figure(
    panels: Sequence[tuple[Image.Image, str]], heading: str, columns: int | None = None
) -> Figure:
    """Titled images in rows of `columns` (default: one row): original, fooling image and
    differences; or the final images of several classes."""
    columns = columns or len(panels)
    rows = -(-len(panels) // columns)
    figure = Figure(figsize=(3.0 * columns, 0.4 + 3.0 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).flatten()
    for axis in axes[len(panels) :]:
        axis.axis("off")
    for axis, (image, title) in zip(axes, panels, strict=False):
        _show(axis, image, title)
    figure.suptitle(heading, fontsize=11)
    return figure


def class_visualization_figure(
    snapshots: Sequence[tuple[int, Image.Image]], num_iterations: int, heading: str
) -> Figure:
    """The snapshots along the ascent, left to right; the last one is the final image."""
    figure = Figure(figsize=(2.6 * len(snapshots), 3.2), layout="constrained")
    axes = figure.subplots(1, len(snapshots), squeeze=False)[0]
    for axis, (iteration, image) in zip(axes, snapshots, strict=True):
        _show(axis, image, f"iteration {iteration} / {num_iterations}")
    figure.suptitle(heading, fontsize=11)
    return figure
