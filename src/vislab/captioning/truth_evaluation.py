"""What `vislab caption eval` adds on scene sets: truth scores per split and the references'
own ceiling.

Truth scores (`truth_metrics`) are reported on every scored val image, on the scenes whose
class combination train also shows ("seen") and on the novel-combination scenes ("novel",
when the folder marks any). The leave-one-out reference ceiling scores each reference caption
against the other references of its image with BLEU/CIDEr-D, averaged over which one is left
out: what a captioner that writes like one more annotator would get.
"""

from __future__ import annotations

import numpy as np

from vislab.captioning.metrics import caption_scores
from vislab.captioning.truth_metrics import score_against_truth, truth_from_array


def truth_report(data: dict, split: str, images: list[int], generated: list[str]) -> dict:
    """Truth scores of generated captions (one per image row in `images`) ->
    {"all": scores, "seen": scores, "novel": scores}; {} when the folder has no truth."""
    if f"{split}_truth" not in data:
        return {}
    truths = truth_from_array(data[f"{split}_truth"][images])
    report = {"all": score_against_truth(generated, truths)}
    novel = data.get(f"{split}_novel")
    if novel is not None and novel[images].any():
        for name, keep in (("seen", ~novel[images]), ("novel", novel[images])):
            rows = np.flatnonzero(keep)
            report[name] = score_against_truth(
                [generated[i] for i in rows], [truths[i] for i in rows]
            )
    return report


def reference_ceiling(references: dict[int, list[str]]) -> dict[str, float]:
    """Leave-one-out BLEU-1..4 / CIDEr-D of the references themselves, averaged over which
    reference is held out; images with a single reference are skipped."""
    images = [image for image, refs in references.items() if len(refs) > 1]
    rounds = min(len(references[image]) for image in images) if images else 0
    totals: dict[str, float] = {}
    for k in range(rounds):
        held = {image: references[image][k] for image in images}
        others = {image: references[image][:k] + references[image][k + 1 :] for image in images}
        for name, value in caption_scores(others, held).items():
            totals[name] = totals.get(name, 0.0) + value / rounds
    return totals


def reference_truth_scores(data: dict, split: str, references: dict[int, list[str]]) -> dict:
    """Truth scores of the reference captions themselves (every reference of every image)."""
    if f"{split}_truth" not in data:
        return {}
    truths = truth_from_array(data[f"{split}_truth"])
    captions = [caption for image in references for caption in references[image]]
    rows = [image for image in references for _ in references[image]]
    return score_against_truth(captions, [truths[i] for i in rows])


def format_truth(scores: dict) -> str:
    """One line: 'class P 0.93 R 0.81 F1 0.87  count 0.75  place 0.66  exact 0.41 (n=400)'."""
    return (
        f"class P {scores['class_precision']:.3f} R {scores['class_recall']:.3f} "
        f"F1 {scores['class_f1']:.3f}  count {scores['count_accuracy']:.3f}  "
        f"place {scores['position_accuracy']:.3f}  exact {scores['exact_scene_rate']:.3f} "
        f"(n={scores['num_scenes']})"
    )
