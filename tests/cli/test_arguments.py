"""The validated argparse types: what each accepts, and the sentence for what it refuses."""

from __future__ import annotations

import argparse
import os

import pytest

from vislab.cli import arguments as valid


@pytest.mark.parametrize(
    ("parse", "text", "value"),
    [
        (valid.positive_int, " 7 ", 7),
        (valid.non_negative_int, "0", 0),
        (valid.seed, "4294967295", 2**32 - 1),
        (valid.positive_float, "1e-4", 1e-4),
        (valid.probability, "1", 1.0),
        (valid.open_fraction, "0.2", 0.2),
        (valid.decay_factor, "1", 1.0),
        (valid.device, "CPU", "cpu"),
        (valid.class_name_or_index, " tabby cat ", "tabby cat"),
    ],
)
def test_accepted_values(parse, text, value):
    assert parse(text) == value


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (valid.positive_int, "0", "must be a positive whole number, got 0"),
        (valid.positive_int, "2.5", "expected a whole number, got '2.5'"),
        (valid.positive_int, "٣", "expected a whole number"),  # a digit, but not ASCII
        (valid.non_negative_int, "-1", "must be zero or more"),
        (valid.seed, "4294967296", r"at most 2\*\*32 - 1"),
        (valid.positive_float, "0", "above zero"),
        (valid.positive_float, "-inf", "finite"),
        (valid.probability, "1.01", "between 0 and 1"),
        (valid.probability, "nan", "finite"),
        (valid.open_fraction, "0", "strictly between"),
        (valid.decay_factor, "0", "above 0 and at most 1"),
        (valid.device, "cuda:x", "unknown device"),
        (valid.device, "mps", "unknown device"),
        (valid.class_name_or_index, "²", "not a class index"),
        (valid.existing_file, "", "empty string"),
        (valid.existing_folder, "absent", "folder not found"),
    ],
)
def test_refused_values(parse, text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        parse(text)


def test_output_folder_is_created_expanded_and_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    made = valid.output_folder("~/runs/one")
    assert made == tmp_path / "runs" / "one" and made.is_dir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(argparse.ArgumentTypeError, match="exists and is not a folder"):
        valid.output_folder(str(tmp_path / "file"))
    with pytest.raises(argparse.ArgumentTypeError, match="cannot create folder"):
        valid.output_folder(str(tmp_path / "file" / "below"))
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):  # root writes anywhere: the check is then moot, not wrong
        assert valid.output_folder(str(locked)) == locked
    else:
        with pytest.raises(argparse.ArgumentTypeError, match="is not writable"):
            valid.output_folder(str(locked))


def test_build_folder_makes_its_parent_but_not_itself(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    target = valid.build_folder("~/data/my scenes")
    assert target == tmp_path / "data" / "my scenes"
    assert (tmp_path / "data").is_dir() and not target.exists()  # a killed build leaves nothing
    (tmp_path / "file").write_text("x")
    with pytest.raises(argparse.ArgumentTypeError, match="exists and is not a folder"):
        valid.build_folder(str(tmp_path / "file"))
    with pytest.raises(argparse.ArgumentTypeError, match="file exists and is not a folder"):
        valid.build_folder(str(tmp_path / "file" / "below"))  # its parent
    with pytest.raises(argparse.ArgumentTypeError, match="empty string"):
        valid.build_folder("")


def test_output_file_suffix_and_parent(tmp_path):
    parse = valid.output_file_with_suffix(".png", ".html")
    assert parse(str(tmp_path / "new" / "g.HTML")) == tmp_path / "new" / "g.HTML"
    assert (tmp_path / "new").is_dir()
    with pytest.raises(argparse.ArgumentTypeError, match="must end in .png or .html, not '.jpg'"):
        parse(str(tmp_path / "g.jpg"))
    with pytest.raises(argparse.ArgumentTypeError, match="is a folder, not a file"):
        parse(str(tmp_path / "new"))
