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


def _parser_with(*types) -> valid.OneLineParser:
    parser = valid.OneLineParser(prog="vislab test")
    for index, parse in enumerate(types):
        parser.add_argument(f"--out{index}", type=parse)
    parser.add_argument("--epochs", type=valid.positive_int, default=1)
    return parser


def test_output_folder_is_made_only_when_every_option_is_valid(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    parser = _parser_with(valid.output_folder, valid.output_file)
    with pytest.raises(SystemExit):
        parser.parse_args(["--out0", "~/runs/one", "--out1", "~/new/a.json", "--epochs", "0"])
    assert list(tmp_path.iterdir()) == []  # a refused command leaves nothing behind
    args = parser.parse_args(["--out0", "~/runs/one", "--out1", "~/new/a.json"])
    assert args.out0 == tmp_path / "runs" / "one" and args.out0.is_dir()
    assert (tmp_path / "new").is_dir() and not args.out1.exists()


def test_output_folder_is_checked(tmp_path):
    assert valid.output_folder(str(tmp_path / "a" / "b")) == tmp_path / "a" / "b"
    assert not (tmp_path / "a").exists()  # made by the parser, once every option is valid
    (tmp_path / "file").write_text("x")
    with pytest.raises(argparse.ArgumentTypeError, match="exists and is not a folder"):
        valid.output_folder(str(tmp_path / "file"))
    with pytest.raises(argparse.ArgumentTypeError, match="cannot create folder .*file is not a"):
        valid.output_folder(str(tmp_path / "file" / "below"))
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):  # root writes anywhere: the check is then moot, not wrong
        assert valid.output_folder(str(locked / "below")) == locked / "below"
    else:
        with pytest.raises(argparse.ArgumentTypeError, match="locked is not writable"):
            valid.output_folder(str(locked / "below"))


def test_build_folder_makes_its_parent_but_not_itself(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    target = _parser_with(valid.build_folder).parse_args(["--out0", "~/data/my scenes"]).out0
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
    (tmp_path / "new").mkdir()
    with pytest.raises(argparse.ArgumentTypeError, match="must end in .png or .html, not '.jpg'"):
        parse(str(tmp_path / "g.jpg"))
    with pytest.raises(argparse.ArgumentTypeError, match="is a folder, not a file"):
        parse(str(tmp_path / "new"))
