"""`vislab data build-scenes`, `data build-captions` and `caption eval`, run in-process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vislab.captioning import evaluate_checkpoint, train_captioner
from vislab.cli.main import main
from vislab.datasets import write_idx

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scenes_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    idx = folder / "idx"
    rng = np.random.default_rng(0)
    for prefix, count in (("train", 40), ("t10k", 20)):
        write_idx(
            idx / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (count, 28, 28), "u1")
        )
        write_idx(idx / f"{prefix}-labels-idx1-ubyte.gz", (np.arange(count) % 10).astype("u1"))
    out = folder / "scenes"
    argv = ["data", "build-scenes", "--out", str(out), "--num-train", "40", "--num-val", "8"]
    assert main([*argv, "--seed", "1", "--fmnist-dir", str(idx)]) == 0
    return out


def test_build_scenes_then_score_the_baseline(scenes_dir, capsys):
    capsys.readouterr()
    assert (
        main(["caption", "eval", "--baseline", "nearest-neighbour", "--data", str(scenes_dir)]) == 0
    )
    printed = capsys.readouterr().out
    assert "nearest-neighbour on 8 val images" in printed and "CIDEr-D" in printed
    saved = json.loads((scenes_dir / "eval_nearest_neighbour.json").read_text())
    assert set(saved["scores"]) == {"BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "CIDEr-D"}
    assert saved["num_images"] == 8 and len(saved["examples"][0]["references"]) == 5


def test_score_a_trained_checkpoint_with_beam_search(scenes_dir, tmp_path, capsys):
    result = train_captioner(
        "rnn", scenes_dir, tmp_path / "rnn", epochs=1, batch_size=50, hidden_dim=16, wordvec_dim=8
    )
    out = tmp_path / "scores.json"
    argv = ["caption", "eval", "--checkpoint", str(result.best_checkpoint), "--data"]
    assert main([*argv, str(scenes_dir), "--beam-size", "2", "--out", str(out)]) == 0
    saved = json.loads(out.read_text())
    assert saved["model"] == "rnn" and saved["beam_size"] == 2 and saved["num_images"] == 8
    # The CLI's numbers are the library's for the same checkpoint and beam (values, not a range).
    expected = evaluate_checkpoint(result.best_checkpoint, scenes_dir, beam_size=2).scores
    assert saved["scores"] == pytest.approx(expected, rel=1e-12)
    assert saved["scores"]["BLEU-1"] > 0.1  # one epoch already gets the common words right


def test_eval_prints_truth_scores_and_takes_the_decoding_options(scenes_dir, tmp_path, capsys):
    result = train_captioner(
        "attention-lstm", scenes_dir, tmp_path / "att", epochs=1, batch_size=50, hidden_dim=16,
        wordvec_dim=8,
    )  # fmt: skip
    out = tmp_path / "scores.json"
    argv = ["caption", "eval", "--checkpoint", str(result.best_checkpoint), "--data"]
    options = ["--beam-size", "2", "--length-penalty", "0", "--block-trigrams", "--out", str(out)]
    capsys.readouterr()
    assert main([*argv, str(scenes_dir), *options]) == 0
    printed = capsys.readouterr().out
    assert "truth (all val scenes): class P" in printed
    assert "truth (the references themselves): class P 1.000" in printed
    assert "references, leave-one-out: BLEU-1" in printed
    saved = json.loads(out.read_text())
    assert saved["decoding"] == {"length_penalty": 0.0, "block_trigrams": True}
    decoding = {"length_penalty": 0.0, "block_trigrams": True}
    expected = evaluate_checkpoint(
        result.best_checkpoint, scenes_dir, beam_size=2, decoding=decoding
    )
    assert saved["truth"] == expected.truth
    with pytest.raises(SystemExit):
        main([*argv, str(scenes_dir), "--length-penalty", "-1"])
    assert "--length-penalty: must be zero or more" in capsys.readouterr().err


def test_missing_checkpoint_is_one_clear_error(scenes_dir, tmp_path, capsys):
    argv = ["caption", "eval", "--checkpoint", str(tmp_path / "none.pt"), "--data", str(scenes_dir)]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "argument --checkpoint: file not found" in capsys.readouterr().err


def test_build_captions_from_photos_with_efficientnet(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    captions = ["a red photo", "a green photo", "a blue photo"]
    for index in range(3):
        pixels = rng.integers(0, 256, size=(40, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(photos / f"p{index}.jpg")
    annotations = {
        "images": [{"id": i, "file_name": f"p{i}.jpg"} for i in range(3)],
        "annotations": [{"image_id": i, "caption": c} for i, c in enumerate(captions)],
    }
    (tmp_path / "captions.json").write_text(json.dumps(annotations))
    argv = ["data", "build-captions", "--images", str(photos), "--annotations"]
    argv += [str(tmp_path / "captions.json"), "--out", str(tmp_path / "out"), "--min-count", "1"]
    assert main(argv) == 0
    manifest = json.loads((tmp_path / "out" / "photos.json").read_text())
    assert manifest["raw_feature_dim"] == 1280 and manifest["pca_components"] == 1
    # A broken entry is named in one sentence on stderr, exit code 1.
    annotations["annotations"].append({"image_id": 7, "caption": "x"})
    (tmp_path / "captions.json").write_text(json.dumps(annotations))
    assert main(argv) == 1
    assert "annotations[3] refers to image id 7" in capsys.readouterr().err


def test_python_dash_m_help_lists_the_commands():
    done = subprocess.run(
        [sys.executable, "-m", "vislab", "caption", "eval", "--help"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert "--baseline" in done.stdout and "--beam-size" in done.stdout
