"""BLEU-1..4 and CIDEr-D with pycocoevalcap's scorers, on already-tokenised captions.

No Java: captions are given as space-separated tokens (what `decode_words` produces), so
pycocoevalcap's PTB tokenizer, METEOR and SPICE are not used.

About the CIDEr-D name: pycocoevalcap 1.2 ships one CIDEr class, `pycocoevalcap.cider.Cider`,
and its scorer *is* the CIDEr-D variant of Vedantam et al. (2015): n-gram counts of the
candidate clipped by the reference's, a Gaussian penalty exp(-(l_c - l_r)^2 / (2 * 6^2)) on
the length difference, and the score times 10. Document frequencies come from the references
of the images being scored (the "corpus" mode of the original CIDEr-D code). Quirks of that
code are kept as published: the "length" in the penalty counts bigrams, and an image set of
one gives idf 0 (CIDEr-D needs at least two images to mean anything).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider

from vislab.errors import InvalidInputError

METRIC_NAMES = ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "CIDEr-D")


def caption_scores(
    references: Mapping[Hashable, Sequence[str]],
    candidates: Mapping[Hashable, str],
    per_image: bool = False,
) -> dict[str, float] | tuple[dict[str, float], dict[str, np.ndarray]]:
    """Corpus BLEU-1..4 and CIDEr-D of candidates against all references of each image.

    references: image id -> its reference captions (tokens joined by spaces, >= 1 each);
    candidates: image id -> one generated caption; both must have the same ids. With
    `per_image`, also returns each metric's per-image scores (in the order of `candidates`).
    """
    ids = list(candidates)
    if set(ids) != set(references):
        missing = sorted(map(str, set(references) ^ set(ids)))[:5]
        raise InvalidInputError(f"references and candidates cover different images: {missing}")
    if not ids:
        raise InvalidInputError("no captions to score")
    gts, res = {}, {}
    for key, image_id in enumerate(ids):
        refs = [str(r) for r in references[image_id]]
        if not refs:
            raise InvalidInputError(f"image {image_id!r} has no reference captions")
        gts[key], res[key] = refs, [str(candidates[image_id])]
    bleu, bleu_each = Bleu(4).compute_score(gts, res, verbose=0)
    cider, cider_each = Cider().compute_score(gts, res)
    scores = {name: float(value) for name, value in zip(METRIC_NAMES, [*bleu, cider], strict=True)}
    if not per_image:
        return scores
    each = [np.asarray(values, dtype=np.float64) for values in [*bleu_each, cider_each]]
    return scores, dict(zip(METRIC_NAMES, each, strict=True))


def format_scores(scores: Mapping[str, float]) -> str:
    """One line: 'BLEU-1 0.612  BLEU-2 0.431  ...  CIDEr-D 0.874'."""
    return "  ".join(f"{name} {scores[name]:.3f}" for name in METRIC_NAMES if name in scores)
