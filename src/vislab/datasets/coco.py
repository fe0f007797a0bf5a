"""The course's `coco_captioning` folder: read it, write it, sample from it, decode captions.

Layout (exactly what the course's `get_datasets.sh` downloads):

    coco2014_captions.h5          train_captions (N, T+1) int, train_image_idxs (N,) int,
                                  val_captions, val_image_idxs (`*_image_idxes` also accepted)
    train2014_vgg16_fc7_pca.h5    dataset `features` (num_images, D) float32 (PCA, D=512)
    train2014_vgg16_fc7.h5        dataset `features` (num_images, 4096) raw fc7 (optional)
    val2014_vgg16_fc7_pca.h5      the val pair of the two files above
    val2014_vgg16_fc7.h5
    coco2014_vocab.json           {"idx_to_word": [...], "word_to_idx": {...}}
    train2014_urls.txt            one image URL (or path) per line
    val2014_urls.txt
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from vislab.atomic_files import atomic_write_text
from vislab.datasets.coco_layout import (
    ENV_VAR,
    GET_HINT,
    SPLITS,
    read_features,
    require_file,
    write_h5,
)
from vislab.datasets.grid_data import read_grid_data
from vislab.datasets.hdf5_reading import Hdf5File
from vislab.datasets.vocabulary import SPECIAL_TOKENS, decode_words
from vislab.errors import CorruptFileError, DataNotFoundError, InvalidInputError

CAPTIONS_FILE = "coco2014_captions.h5"
VOCAB_FILE = "coco2014_vocab.json"
# Sane limits for files from anywhere: COCO's captions are 17 ids, its vocabulary JSON 0.2 MB
# and url lists 4 MB (features: coco_layout.MAX_FEATURE_DIM).
MAX_CAPTION_LENGTH = 1000
MAX_TEXT_BYTES = 256 * 2**20


def features_file(split: str, pca: bool) -> str:
    """File name of a split's image features: the PCA (D=512) or the raw fc7 (4096) file."""
    return f"{split}2014_vgg16_fc7{'_pca' if pca else ''}.h5"


def urls_file(split: str) -> str:
    return f"{split}2014_urls.txt"


def _resolve_dir(base_dir: str | os.PathLike | None) -> Path:
    if base_dir is None:
        env = os.environ.get(ENV_VAR)
        if not env:
            raise DataNotFoundError(
                f"no COCO captioning folder given and {ENV_VAR} is not set; it must hold "
                f"{CAPTIONS_FILE}, {features_file('train', True)}, {VOCAB_FILE} and the "
                f"url lists; {GET_HINT}"
            )
        base_dir = env
    if not str(base_dir).strip():
        raise DataNotFoundError(f"the COCO captioning folder's name is empty; {GET_HINT}")
    try:
        folder = Path(base_dir).expanduser()
    except RuntimeError:  # `~user` of no user
        raise DataNotFoundError(f"cannot expand the ~ in {str(base_dir)!r}") from None
    if not folder.is_dir():
        raise DataNotFoundError(f"COCO captioning folder {folder} does not exist; {GET_HINT}")
    return folder


def _read_captions(folder: Path) -> dict[str, np.ndarray]:
    """Both splits' captions (N, T+1) and image rows (N,), their headers checked first."""
    path = require_file(folder / CAPTIONS_FILE)
    with Hdf5File(path, "captions file") as h5:
        names = {}
        for split in SPLITS:
            captions = h5.dataset(f"{split}_captions", 2, "iu")
            key = next(
                (k for k in (f"{split}_image_idxs", f"{split}_image_idxes") if h5.has(k)),
                f"{split}_image_idxs",
            )
            image_idxs = h5.dataset(key, 1, "iu")
            if image_idxs[0] != captions[0]:
                raise CorruptFileError(
                    f"{path}: {split}_captions has {captions[0]} rows but {key} {image_idxs[0]}"
                )
            if not 2 <= captions[1] <= MAX_CAPTION_LENGTH:
                raise CorruptFileError(
                    f"{path}: {split}_captions rows of {captions[1]} word ids; a caption row "
                    f"holds <START>, the words and <END> in 2..{MAX_CAPTION_LENGTH} ids"
                )
            names[f"{split}_captions"], names[f"{split}_image_idxs"] = f"{split}_captions", key
        return {field: h5.read(name) for field, name in names.items()}


def _read_text(path: Path, max_bytes: int) -> str:
    require_file(path)
    if path.stat().st_size > max_bytes:
        raise CorruptFileError(f"{path} is {path.stat().st_size} bytes, over {max_bytes}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise CorruptFileError(f"{path} is not UTF-8 text ({error})") from error


def read_vocabulary(path: Path) -> dict:
    """A vocabulary JSON -> {"idx_to_word": [...], "word_to_idx": {...}}, checked: distinct
    string words, the four special tokens first, `word_to_idx` the inverse of `idx_to_word`."""
    try:
        vocab = json.loads(_read_text(path, MAX_TEXT_BYTES))
        idx_to_word, word_to_idx = vocab["idx_to_word"], vocab["word_to_idx"]
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        if isinstance(error, CorruptFileError):
            raise
        raise CorruptFileError(f"{path} is not a valid vocabulary file: {error!r}") from error
    if not isinstance(idx_to_word, list) or not all(isinstance(w, str) for w in idx_to_word):
        raise CorruptFileError(f"{path}: idx_to_word must be a list of words")
    if tuple(idx_to_word[:4]) != SPECIAL_TOKENS:
        raise CorruptFileError(
            f"{path}: the vocabulary must start with {', '.join(SPECIAL_TOKENS)}"
        )
    if not isinstance(word_to_idx, dict) or word_to_idx != _word_to_idx(idx_to_word):
        raise CorruptFileError(
            f"{path}: word_to_idx must map each word of idx_to_word to its position, once"
        )
    return {"idx_to_word": idx_to_word, "word_to_idx": word_to_idx}


def _read_urls(path: Path) -> np.ndarray:
    lines = _read_text(path, MAX_TEXT_BYTES).splitlines()
    return np.asarray([line.strip() for line in lines], dtype=str)


def load_coco_data(
    base_dir: str | os.PathLike | None = None,
    max_train: int | None = None,
    pca_features: bool = True,
    rng: np.random.Generator | None = None,
) -> dict:
    """Load the course's `coco_captioning` folder into the course's dict.

    Keys: `{train,val}_captions` (N, T+1) int, `{train,val}_image_idxs` (N,) int,
    `{train,val}_features` (num_images, D) float32, `{train,val}_urls` (num_images,) str,
    `idx_to_word` list, `word_to_idx` dict; and, when the folder has them (see
    `vislab.datasets.grid_data`), `{train,val}_grid_features` (num_images, L, F),
    `{train,val}_truth` and `{train,val}_novel`. `base_dir=None` reads VISLAB_COCO_DIR.
    `max_train` subsamples the training captions with replacement (as the course does), drawn
    from `rng` or, when None, from numpy's global generator.
    """
    folder = _resolve_dir(base_dir)
    # Small files first: the url lists give the number of images every array must agree with.
    data = read_vocabulary(require_file(folder / VOCAB_FILE))
    for split in SPLITS:
        data[f"{split}_urls"] = _read_urls(folder / urls_file(split))
    data.update(_read_captions(folder))
    for split in SPLITS:
        urls = (folder / urls_file(split), len(data[f"{split}_urls"]))
        data[f"{split}_features"] = read_features(
            folder / features_file(split, pca_features), urls=urls
        )
        _check_loaded(folder, split, data)
    widths = {split: data[f"{split}_features"].shape[1:] for split in SPLITS}
    if all(len(data[f"{split}_features"]) for split in SPLITS) and len(set(widths.values())) > 1:
        raise CorruptFileError(
            f"{folder}: the train and val features differ in size ({widths['train']} and "
            f"{widths['val']} per image); both splits must come from one extractor and PCA"
        )
    read_grid_data(folder, data)
    if max_train is not None:
        if max_train < 1:
            raise InvalidInputError(f"max_train must be at least 1, got {max_train}")
        num_train = data["train_captions"].shape[0]
        mask = (rng.integers if rng is not None else np.random.randint)(num_train, size=max_train)
        data["train_captions"] = data["train_captions"][mask]
        data["train_image_idxs"] = data["train_image_idxs"][mask]
    return data


def _check_loaded(folder: Path, split: str, data: dict) -> None:
    """Caption rows must point at images of the split and hold ids of the vocabulary."""
    num_images = len(data[f"{split}_features"])
    image_idxs = data[f"{split}_image_idxs"]
    if image_idxs.size and (image_idxs.min() < 0 or image_idxs.max() >= num_images):
        raise CorruptFileError(
            f"{folder / CAPTIONS_FILE}: {split}_image_idxs point outside the {num_images} images"
        )
    captions, vocab_size = data[f"{split}_captions"], len(data["idx_to_word"])
    if captions.size and (captions.min() < 0 or captions.max() >= vocab_size):
        raise CorruptFileError(
            f"{folder / CAPTIONS_FILE}: {split}_captions hold word ids outside the "
            f"{vocab_size}-word vocabulary of {VOCAB_FILE}"
        )


def require_training_data(data: dict, data_dir) -> None:
    """Refuse data a captioner cannot be trained on: a split without captions, caption rows
    that do not begin with <START>, or features that are not finite (which would surface as a
    diverging loss)."""
    start = data["word_to_idx"]["<START>"]
    for split in SPLITS:
        captions = data[f"{split}_captions"]
        if not len(captions):
            raise InvalidInputError(f"{data_dir}: the {split} split holds no captions to train on")
        if not (captions[:, 0] == start).all():
            raise CorruptFileError(
                f"{data_dir}: {split} caption rows must begin with <START> "
                f"(row {int(np.argmax(captions[:, 0] != start))} does not)"
            )
        for name in (f"{split}_features", f"{split}_grid_features"):
            if name in data and not np.isfinite(data[name]).all():
                raise CorruptFileError(f"{data_dir}: {name} hold NaN or infinite values")


def sample_coco_minibatch(
    data: dict, batch_size: int = 100, split: str = "train", rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw `batch_size` captions (with replacement) -> (captions (N, T+1), features (N, D), urls).

    Draws from `rng`, or from numpy's global generator when None (as the course does).
    """
    if split not in SPLITS:
        raise InvalidInputError(f"split must be one of {SPLITS}, got {split!r}")
    split_size = data[f"{split}_captions"].shape[0]
    choice = rng.choice if rng is not None else np.random.choice
    mask = choice(split_size, batch_size)
    captions = data[f"{split}_captions"][mask]
    image_idxs = data[f"{split}_image_idxs"][mask]
    return captions, data[f"{split}_features"][image_idxs], data[f"{split}_urls"][image_idxs]


def decode_captions(captions: np.ndarray, idx_to_word: list[str]) -> str | list[str]:
    """Word ids -> text: skips `<NULL>`, keeps `<START>`, stops after `<END>`.

    captions: (T,) one caption -> one string, or (N, T) -> a list of N strings.
    """
    return decode_words(captions, idx_to_word, keep_special=True)


def write_coco_data(
    out_dir: str | os.PathLike,
    *,
    train_captions: np.ndarray,
    train_image_idxs: np.ndarray,
    val_captions: np.ndarray,
    val_image_idxs: np.ndarray,
    train_features: np.ndarray,
    val_features: np.ndarray,
    idx_to_word: list[str],
    train_urls: list[str],
    val_urls: list[str],
    train_features_raw: np.ndarray | None = None,
    val_features_raw: np.ndarray | None = None,
) -> Path:
    """Write a folder in the course's `coco_captioning` layout (every file atomically).

    train_captions: (N, T+1) int word ids, `<START>` first and `<NULL>`-padded after `<END>`.
    train_image_idxs: (N,) row of each caption's image in train_features / train_urls.
    train_features: (num_images, D) float32, written as the PCA file; `*_features_raw`
    (num_images, D_raw) are written as the raw fc7 files when given.
    idx_to_word: the vocabulary; its first four words must be <NULL>, <START>, <END>, <UNK>.
    """
    if tuple(idx_to_word[:4]) != SPECIAL_TOKENS:
        raise InvalidInputError(f"idx_to_word must start with {SPECIAL_TOKENS}")
    arrays = {
        "train": (train_captions, train_image_idxs, train_features, train_urls, train_features_raw),
        "val": (val_captions, val_image_idxs, val_features, val_urls, val_features_raw),
    }
    for split, (captions, image_idxs, features, urls, _) in arrays.items():
        _check_split(split, captions, image_idxs, features, urls, len(idx_to_word))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    caption_arrays = {}
    for split, (captions, image_idxs, features, urls, raw) in arrays.items():
        caption_arrays[f"{split}_captions"] = np.asarray(captions, dtype=np.int32)
        caption_arrays[f"{split}_image_idxs"] = np.asarray(image_idxs, dtype=np.int32)
        write_h5(out / features_file(split, True), {"features": np.asarray(features, "float32")})
        if raw is not None:
            write_h5(out / features_file(split, False), {"features": np.asarray(raw, "float32")})
        atomic_write_text(out / urls_file(split), "".join(f"{url}\n" for url in urls))
    write_h5(out / CAPTIONS_FILE, caption_arrays)
    vocab = {"idx_to_word": list(idx_to_word), "word_to_idx": _word_to_idx(idx_to_word)}
    atomic_write_text(out / VOCAB_FILE, json.dumps(vocab))
    return out


def _word_to_idx(idx_to_word: list[str]) -> dict[str, int]:
    return {word: index for index, word in enumerate(idx_to_word)}


def _check_split(split, captions, image_idxs, features, urls, vocab_size) -> None:
    captions, image_idxs = np.asarray(captions), np.asarray(image_idxs)
    if captions.ndim != 2 or image_idxs.shape != (captions.shape[0],):
        raise InvalidInputError(
            f"{split}_captions must be (N, T+1) and {split}_image_idxs (N,), got "
            f"{captions.shape} and {image_idxs.shape}"
        )
    if np.asarray(features).ndim != 2 or len(features) != len(urls):
        raise InvalidInputError(f"{split}_features must be (num_images, D) with one url per row")
    if image_idxs.size and (image_idxs.min() < 0 or image_idxs.max() >= len(features)):
        raise InvalidInputError(f"{split}_image_idxs point outside {split}_features")
    if captions.size and (captions.min() < 0 or captions.max() >= vocab_size):
        raise InvalidInputError(f"{split}_captions hold ids outside the vocabulary")
