"""A gallery of captioned images: generated and ground-truth captions for images of a split,
written as a PNG grid or a self-contained HTML page (what `vislab caption sample` makes)."""

from __future__ import annotations

import base64
import html
import io
import os
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from vislab.atomic_files import atomic_savefig, atomic_write_text
from vislab.captioning.captioners import load_captioner
from vislab.captioning.grounding import grounding_figure, teacher_forced
from vislab.captioning.truth_metrics import describe_truth, truth_from_array
from vislab.datasets.coco import load_coco_data
from vislab.datasets.grid_data import split_features
from vislab.datasets.image_urls import image_from_url
from vislab.datasets.vocabulary import decode_words
from vislab.errors import InvalidInputError

PLACEHOLDER_SIZE = 128
DEFAULT_MAX_LENGTH = 30  # the course's sample() default


@dataclass
class CaptionedImage:
    url: str
    image: np.ndarray | None  # (H, W, 3) uint8, None when the url could not be read
    generated: str
    ground_truth: list[str]
    truth: str = ""  # the scene's garments and places, when the folder has its truth
    grounding: str = ""  # PNG data URI: the per-word attention strip of a grid captioner


def caption_images(
    checkpoint: str | os.PathLike,
    data_dir: str | os.PathLike | None,
    split: str = "val",
    num: int = 8,
    beam_size: int = 3,
    max_length: int | None = None,
    seed: int = 0,
    allow_network: bool = False,
) -> list[CaptionedImage]:
    """Caption `num` random images (distinct, drawn with `seed`) of a split with a checkpoint.

    `max_length` None: 30 words, or fewer when the model was built for shorter captions.
    Images behind http(s) URLs are fetched only with `allow_network`; else they show as
    placeholders.
    """
    if split not in ("train", "val"):
        raise InvalidInputError(f"split must be train or val, not {split!r}")
    captioner = load_captioner(checkpoint)
    data = load_coco_data(data_dir)
    image_idxs = data[f"{split}_image_idxs"]
    images = np.unique(image_idxs)
    chosen = np.random.default_rng(seed).permutation(images)[:num]
    layout = getattr(captioner, "feature_layout", "vector")
    features = split_features(data, split, layout, data_dir)[chosen]
    if max_length is None:
        max_length = min(DEFAULT_MAX_LENGTH, captioner.longest_caption or DEFAULT_MAX_LENGTH)
    sampled = captioner.sample(features, max_length=max_length, beam_size=beam_size)
    # Grid captioners with attention: replay each caption for the attention before each word.
    attends = hasattr(getattr(captioner, "model", None), "step_with_attention")
    alphas = teacher_forced(captioner.model, features, sampled)[1] if attends else None
    truths = truth_from_array(data[f"{split}_truth"][chosen]) if f"{split}_truth" in data else None
    items = []
    for row, (image, caption) in enumerate(zip(chosen, sampled, strict=True)):
        references = data[f"{split}_captions"][image_idxs == image]
        url = str(data[f"{split}_urls"][image])
        item = CaptionedImage(
            url=url,
            image=image_from_url(url, allow_network=allow_network),
            generated=decode_words(caption, captioner.idx_to_word),
            ground_truth=decode_words(references, captioner.idx_to_word),
            truth=describe_truth(truths[row]) if truths is not None else "",
        )
        if alphas is not None:
            item.grounding = _grounding_uri(item, alphas[row])
        items.append(item)
    return items


def _grounding_uri(item: CaptionedImage, alphas: np.ndarray) -> str:
    """The item's per-word attention strip as a PNG data URI. alphas: (T, L), L a square."""
    words = item.generated.split()
    side = int(round(np.sqrt(alphas.shape[1])))
    image = item.image if item.image is not None else _placeholder()
    figure = grounding_figure([(image, words, alphas[: len(words)], "")], (side, side))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _placeholder() -> np.ndarray:
    return np.full((PLACEHOLDER_SIZE, PLACEHOLDER_SIZE, 3), 200, dtype=np.uint8)


def write_gallery_png(items: list[CaptionedImage], out: Path, title: str = "") -> Path:
    columns = min(4, max(len(items), 1))
    rows = -(-len(items) // columns)
    figure = Figure(figsize=(4 * columns, 5.2 * rows))
    for k, item in enumerate(items):
        axes = figure.add_subplot(rows, columns, k + 1)
        axes.imshow(item.image if item.image is not None else _placeholder())
        if item.image is None:
            axes.text(0.5, 0.5, "image unavailable", ha="center", transform=axes.transAxes)
        truth = item.ground_truth[0] if item.ground_truth else ""
        text = textwrap.fill(item.generated, 40) + "\n" + textwrap.fill(f"GT: {truth}", 40)
        axes.set_title(text, fontsize=8)
        axes.axis("off")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return atomic_savefig(figure, out, dpi=80)


def _data_uri(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def write_gallery_html(items: list[CaptionedImage], out: Path, title: str = "") -> Path:
    cards = []
    for item in items:
        if item.image is None:
            picture = f'<div class="missing">image unavailable<br>{html.escape(item.url)}</div>'
        else:
            picture = f'<img src="{_data_uri(item.image)}" alt="{html.escape(item.url)}">'
        truths = "".join(f"<li>{html.escape(t)}</li>" for t in item.ground_truth)
        truth = f"<p><i>truth: {html.escape(item.truth)}</i></p>" if item.truth else ""
        strip = (
            f'<img class="grounding" src="{item.grounding}" alt="attention per word">'
            if item.grounding
            else ""
        )
        cards.append(
            f"<figure{' class=wide' if strip else ''}>{picture}<figcaption>"
            f"<b>{html.escape(item.generated)}</b>{strip}"
            f"{truth}<ul>{truths}</ul></figcaption></figure>"
        )
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif}figure{display:inline-block;width:260px;"
        "vertical-align:top;margin:8px}img{max-width:256px}.missing{width:256px;height:160px;"
        "background:#ccc;font-size:11px;overflow:hidden}figure.wide{width:auto;display:block}"
        "img.grounding{display:block;max-width:100%}"
        "</style></head>"
        f"<body><h1>{html.escape(title)}</h1><p>Bold: generated caption; list: ground truth.</p>"
        f"{''.join(cards)}</body></html>"
    )
    return atomic_write_text(out, page)


def write_caption_gallery(
    checkpoint: str | os.PathLike,
    data_dir: str | os.PathLike | None,
    out: str | os.PathLike,
    split: str = "val",
    num: int = 8,
    beam_size: int = 3,
    max_length: int | None = None,
    seed: int = 0,
    allow_network: bool = False,
) -> Path:
    """Caption `num` images of `split` and write `out` (.png grid or .html page)."""
    out = Path(out)
    if out.suffix.lower() not in (".png", ".html"):
        raise InvalidInputError(f"--out must end in .png or .html, not {out.name!r}")
    items = caption_images(
        checkpoint, data_dir, split, num, beam_size, max_length, seed, allow_network
    )
    title = f"{Path(checkpoint).name}: {split} images, beam size {beam_size}"
    if out.suffix.lower() == ".png":
        return write_gallery_png(items, out, title)
    return write_gallery_html(items, out, title)
