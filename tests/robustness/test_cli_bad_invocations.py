"""Bad invocations of every command: an exit code, exactly one line `vislab: error: ...` on
stderr naming the option or file, no traceback and nothing logged as unexpected.

Run in-process through `vislab.cli.main.main` from a temporary working directory holding the
files the table names (relative paths, as a user types them).
"""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import pytest
import torch

from vislab.cli.main import main
from vislab.datasets.coco import write_coco_data
from vislab.datasets.idx import write_idx

USAGE, ERROR = 2, 1

# (argv, exit code, text the one stderr line must contain)
CASES = [
    ("caption train --batch-size 0 --out run", USAGE, "argument --batch-size: must be a positive"),
    ("caption train --learning-rate -1 --out run", USAGE, "argument --learning-rate: must lie"),
    ("caption train --learning-rate 1e300 --out run", USAGE, "--learning-rate: must lie above 0"),
    ("caption train --checkpoint-every ٣it --out run", USAGE, "argument --checkpoint-every: give"),
    ("caption train --out ~nosuchuserxyz/run", USAGE, "argument --out: cannot expand the ~"),
    (f"caption train --out {'a' * 300}/run", USAGE, "File name too long"),
    ("caption train --epochs 1_0 --out run", USAGE, "argument --epochs: expected a whole number"),
    ("caption train --epochs 0 --out run", USAGE, "argument --epochs: must be a positive"),
    ("caption train --epochs ten --out run", USAGE, "argument --epochs: expected a whole number"),
    ("caption train --lr-decay 1.5 --out run", USAGE, "argument --lr-decay: must lie above 0"),
    ("caption train --device tpu --out run", USAGE, "argument --device: unknown device 'tpu'"),
    ("caption train --device cuda:99 --out run", USAGE, "argument --device: cuda:99"),
    ("caption train --out notes.txt", USAGE, "argument --out: notes.txt exists and is not a"),
    ("caption train --max-train 0 --out run", USAGE, "argument --max-train: must be a positive"),
    ("caption train --seed -1 --out run", USAGE, "argument --seed: must be zero or more"),
    ("caption train --seed 99999999999 --out run", USAGE, "argument --seed: must be at most"),
    ("caption train --model gru --out run", USAGE, "argument --model: invalid choice: 'gru'"),
    ("caption train --blas-threads 0 --out run", USAGE, "argument --blas-threads: must be"),
    ("caption train --data absent --out run", ERROR, "COCO captioning folder absent does not"),
    ("caption train --data '' --out run", ERROR, "the COCO captioning folder's name is empty"),
    ("caption train --data coco --out run --batch-size 1e3", USAGE, "expected a whole number"),
    ("caption sample --checkpoint absent.pt", USAGE, "argument --checkpoint: file not found"),
    ("caption sample --checkpoint .", USAGE, "argument --checkpoint: . is not a regular file"),
    ("caption sample --checkpoint junk.pt --data coco", ERROR, "junk.pt is not a readable"),
    ("caption sample --checkpoint foreign.pt --data coco", ERROR, "foreign.pt"),
    ("caption sample --checkpoint headless.pt --data coco", ERROR, "headless.pt"),
    ("caption sample --checkpoint junk.pt --max-length -1", USAGE, "argument --max-length"),
    ("caption sample --checkpoint junk.pt --beam-size 0", USAGE, "argument --beam-size"),
    ("caption sample --checkpoint junk.pt --beam-size 999999", USAGE, "--beam-size: must be at"),
    ("caption sample --checkpoint junk.pt --out new/c.png", ERROR, "junk.pt is not a readable"),
    ("caption sample --checkpoint junk.pt --out .png", USAGE, "a name that starts with a dot"),
    ("caption sample --checkpoint junk.pt --num 0", USAGE, "argument --num: must be a positive"),
    ("caption sample --checkpoint junk.pt --out c.txt", USAGE, "argument --out: c.txt must end"),
    ("caption eval --data coco --baseline nearest-neighbour --max-images 0", USAGE, "--max-images"),
    ("caption eval --data coco", USAGE, "one of the arguments --checkpoint --baseline is required"),
    ("caption eval --data coco --baseline nearest-neighbour --neighbours 0", USAGE, "--neighbours"),
    ("caption eval --data coco --checkpoint junk.pt", ERROR, "junk.pt is not a readable"),
    ("caption eval --data absent --baseline nearest-neighbour", ERROR, "absent does not exist"),
    ("caption eval --data coco --checkpoint junk.pt --out s.csv", USAGE, "s.csv must end in .json"),
    ("data train-fmnist-cnn --epochs 0", USAGE, "argument --epochs: must be a positive"),
    ("data train-fmnist-cnn --batch-size -5", USAGE, "argument --batch-size: must be a positive"),
    ("data train-fmnist-cnn --learning-rate inf", USAGE, "--learning-rate: must be a finite"),
    ("data train-fmnist-cnn --data-dir absent", USAGE, "argument --data-dir: folder not found"),
    ("data train-fmnist-cnn --out weights.bin", USAGE, "weights.bin must end in .safetensors"),
    ("data train-fmnist-cnn --data-dir idx32", ERROR, "holds 32x32 images; MNIST-format"),
    ("data train-fmnist-judge --epochs 0", USAGE, "argument --epochs: must be a positive"),
    ("data train-fmnist-judge --out judge.pt", USAGE, "judge.pt must end in .safetensors"),
    ("data build-scenes --out scenes --num-train 0", USAGE, "argument --num-train: must be"),
    ("data build-scenes --out new/scenes --num-train 99999999999", USAGE, "must be at most"),
    ("data build-scenes --out scenes --num-train 1", USAGE, "--num-train: must be at least 2"),
    ("data build-scenes --out scenes --novel-fraction 1", USAGE, "--novel-fraction: must lie in"),
    ("data build-scenes --out notes.txt", USAGE, "argument --out: notes.txt exists"),
    ("data build-scenes --out scenes --fmnist-dir absent", USAGE, "--fmnist-dir: folder not"),
    ("data build-scenes --out mine", ERROR, "mine is not empty and holds no finished build"),
    (
        "data build-captions --images photos --annotations captions.json --out c "
        "--val-fraction 1.5",
        USAGE,
        "argument --val-fraction: must lie strictly between 0 and 1",
    ),
    (
        "data build-captions --images photos --annotations absent.json --out c",
        USAGE,
        "argument --annotations: file not found",
    ),
    (
        "data build-captions --images photos --annotations escape.json --out c",
        ERROR,
        "file_name '../notes.txt'; it must be a path inside the images folder",
    ),
    (
        "data build-captions --images photos --annotations badid.json --out c",
        ERROR,
        "has 'id' [1]; ids are whole numbers or strings",
    ),
    (
        "data build-captions --images photos --annotations notjson.json --out c",
        ERROR,
        "notjson.json is not valid JSON",
    ),
    (
        "data build-captions --images photos --annotations captions.json --out c --min-count 0",
        USAGE,
        "argument --min-count",
    ),
    ("explain class tarantula --iterations 0", USAGE, "argument --iterations: must be a positive"),
    ("explain class tarantula --iterations 1000000", USAGE, "--iterations: must be at most"),
    ("explain judge 3 --model efficientnet_lite0 --judge fmnist_judge --out j", ERROR, "cannot"),
    ("explain robustness --epsilons 300", USAGE, "--epsilons: must lie above 0 and at most 255"),
    ("explain robustness --epsilons 2 2 --out r", ERROR, "--epsilons must increase"),
    ("explain class ²", USAGE, "argument CLASS: '²' is not a class index"),
    ("explain class unicorn --model fmnist_cnn", ERROR, "unknown class name 'unicorn'"),
    ("explain class 5 --weights absent.pth", USAGE, "argument --weights: file not found"),
    ("explain class 5 --out notes.txt", USAGE, "argument --out: notes.txt exists"),
    ("explain saliency huge.png --model fmnist_cnn", ERROR, "huge.png: too many pixels"),
    ("explain saliency strip.png --model fmnist_cnn", ERROR, "strip.png: 4000x2 pixels"),
    ("explain saliency notes.txt --model fmnist_cnn", ERROR, "notes.txt: not a readable image"),
    ("explain saliency notes.txt --model fmnist_cnn --out new/out", ERROR, "notes.txt: not a"),
    ("explain saliency . --model fmnist_cnn", ERROR, ". is a folder, not an image file"),
    ("explain fool --target stingray --max-iterations 0", USAGE, "argument --max-iterations"),
    ("explain fool --target '' ", USAGE, "argument --target: expected a class name"),
    ("gan train --epochs 0 --out run", USAGE, "argument --epochs: must be a positive"),
    ("gan train --model dc --batch-size 1 --out run", ERROR, "BatchNorm layers need a batch"),
    ("gan train --learning-rate nan --out run", USAGE, "argument --learning-rate: must be a"),
    ("gan train --show-every 0 --out run", USAGE, "argument --show-every"),
    ("gan train --out notes.txt", USAGE, "argument --out: notes.txt exists"),
    ("gan train --num-train -3 --out run", USAGE, "argument --num-train"),
    ("gan sample --checkpoint junk.pt", ERROR, "junk.pt is not a readable"),
    ("gan sample --checkpoint headless.pt", ERROR, "headless.pt"),
    ("gan sample --checkpoint junk.pt --num 0", USAGE, "argument --num: must be a positive"),
    ("gan sample --checkpoint junk.pt --num 99999999", USAGE, "argument --num: must be at most"),
    ("gan sample --checkpoint junk.pt --out a/b/grid.png", ERROR, "junk.pt is not a readable"),
    ("gan sample --checkpoint junk.pt --out grid.jpg", USAGE, "grid.jpg must end in .png"),
    ("gan eval --checkpoint junk.pt --num-samples 0", USAGE, "argument --num-samples"),
    ("gan eval --checkpoint junk.pt --num-bootstrap 1", USAGE, "--num-bootstrap: must be at least"),
    ("gan eval --checkpoint junk.pt --device gpu", USAGE, "argument --device: unknown device"),
    ("demo --out notes.txt", USAGE, "argument --out: notes.txt exists and is not a folder"),
    ("demo --budget huge", USAGE, "argument --budget: invalid choice: 'huge'"),
    ("serve --workers 0", USAGE, "argument --workers"),
    ("serve --port 70000", USAGE, "argument --port: must be at most 65535"),
    ("serve --host ''", USAGE, "argument --host: an empty address would listen on every"),
    ("paint", USAGE, "invalid choice: 'paint'"),
]


def _png_header(path, width, height):
    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A working directory with every file the table names."""
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VISLAB_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.delenv("VISLAB_COCO_DIR", raising=False)
    (tmp_path / "notes.txt").write_text("not an image, not a folder")
    (tmp_path / "junk.pt").write_bytes(b"PK\x03\x04 not really a zip")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    torch.save({"format": "vislab-captioner", "format_version": 1}, tmp_path / "headless.pt")
    _png_header(tmp_path / "huge.png", 20000, 10000)
    Image.new("RGB", (4000, 2)).save(tmp_path / "strip.png")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("years of work")
    write_idx(tmp_path / "idx32" / "train-images-idx3-ubyte", np.zeros((2, 32, 32), np.uint8))
    write_idx(tmp_path / "idx32" / "train-labels-idx1-ubyte", np.array([1, 2], np.uint8))
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("0.png", "1.png"):
        Image.new("RGB", (8, 8)).save(photos / name)
    images = [{"id": i, "file_name": f"{i}.png"} for i in range(2)]
    annotations = [{"image_id": i, "caption": "a photo"} for i in range(2)]
    for name, changed in (
        ("captions.json", images),
        ("escape.json", [{"id": 0, "file_name": "../notes.txt"}, images[1]]),
        ("badid.json", [{"id": [1], "file_name": "0.png"}, images[1]]),
    ):
        document = {"images": changed, "annotations": annotations}
        (tmp_path / name).write_text(json.dumps(document))
    (tmp_path / "notjson.json").write_text("{'images': [")
    captions = np.array([[1, 4, 2, 0], [1, 4, 4, 2]])
    write_coco_data(
        tmp_path / "coco", train_captions=captions, train_image_idxs=np.array([0, 1]),
        val_captions=captions, val_image_idxs=np.array([0, 1]),
        train_features=np.eye(2, 4, dtype=np.float32), val_features=np.eye(2, 4, dtype=np.float32),
        idx_to_word=["<NULL>", "<START>", "<END>", "<UNK>", "photo"],
        train_urls=["photos/0.png", "photos/1.png"], val_urls=["photos/0.png", "photos/1.png"],
    )  # fmt: skip
    return tmp_path


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit_:  # argparse's usage errors
        return exit_.code


@pytest.mark.parametrize(("command", "code", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_invocation_is_one_sentence(workdir, capsys, command, code, message):
    import shlex

    before = set(workdir.rglob("*"))
    assert _run(shlex.split(command)) == code
    assert set(workdir.rglob("*")) == before, "a refused command left files or folders behind"
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("vislab: error: "), lines[0]
    assert message in lines[0], lines[0]
    assert "Traceback" not in captured.err + captured.out
    assert "unexpected" not in lines[0], "a bug turned into a sentence by main(), not a check"
    assert not (workdir / "logs").exists(), "main() logged an unexpected exception"


def test_the_table_covers_every_command():
    commands = {" ".join(c[0].split()[:2]) for c in CASES}
    expected = {
        "caption train", "caption sample", "caption eval", "data train-fmnist-cnn",
        "data train-fmnist-judge",
        "data build-scenes", "data build-captions", "explain class", "explain saliency",
        "explain fool", "gan train", "gan sample", "gan eval",
    }  # fmt: skip
    assert expected <= commands
    assert {"demo", "serve"} <= {c[0].split()[0] for c in CASES}
    assert len(CASES) >= 40
