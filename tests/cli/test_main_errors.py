"""The top of `vislab`: every failure is one sentence and an exit code, never a traceback."""

from __future__ import annotations

import argparse
import errno

import pytest

from vislab.cli import main as cli_main
from vislab.errors import InvalidInputError, RunInterrupted


def _run_raising(error: BaseException, monkeypatch, tmp_path, capsys) -> tuple[int, str]:
    """Run `vislab boom` whose handler raises `error`; return (exit code, stderr)."""

    def raise_it():
        raise error

    return _run_raising_from(raise_it, monkeypatch, tmp_path, capsys)


def _run_raising_from(work, monkeypatch, tmp_path, capsys) -> tuple[int, str]:
    """Run `vislab boom` whose handler calls `work`; return (exit code, stderr)."""

    def build_parser() -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(prog="vislab")
        parser.add_argument("-v", "--verbose", action="store_true")
        commands = parser.add_subparsers()
        boom = commands.add_parser("boom")

        def handler(args):
            work()

        boom.set_defaults(handler=handler)
        return parser

    monkeypatch.setattr(cli_main, "build_parser", build_parser)
    monkeypatch.setenv("VISLAB_LOG_DIR", str(tmp_path / "logs"))
    code = cli_main.main(["boom"])
    return code, capsys.readouterr().err


def test_an_unexpected_error_is_one_sentence_with_its_traceback_in_a_log(
    monkeypatch, tmp_path, capsys
):
    code, err = _run_raising(RuntimeError("the\nwheels fell off"), monkeypatch, tmp_path, capsys)
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("vislab: error: unexpected RuntimeError: the wheels fell off;")
    logs = list((tmp_path / "logs").iterdir())
    assert len(logs) == 1 and f"the full traceback is in {logs[0]}" in err
    log = logs[0].read_text()
    assert log.startswith("Traceback") and "RuntimeError: the\nwheels fell off" in log


def test_a_full_disk_names_the_file(monkeypatch, tmp_path, capsys):
    full = OSError(errno.ENOSPC, "No space left on device", "runs/lstm/last.pt")
    code, err = _run_raising(full, monkeypatch, tmp_path, capsys)
    assert code == 1
    assert err.startswith("vislab: error: runs/lstm/last.pt: No space left on device;")


def test_vislab_errors_are_their_own_sentence_without_a_log(monkeypatch, tmp_path, capsys):
    error = InvalidInputError("--epochs must be a positive integer, not 0")
    code, err = _run_raising(error, monkeypatch, tmp_path, capsys)
    assert (code, err) == (1, "vislab: error: --epochs must be a positive integer, not 0\n")
    assert not (tmp_path / "logs").exists()


def test_an_interrupted_run_says_what_it_kept(monkeypatch, tmp_path, capsys):
    kept = RunInterrupted(
        "interrupted at iteration 40; checkpoint kept at runs/lstm/last.pt "
        "(continue with --resume)",
        checkpoint="runs/lstm/last.pt",
    )
    code, err = _run_raising(kept, monkeypatch, tmp_path, capsys)
    assert code == 130
    assert err == (
        "vislab: interrupted at iteration 40; checkpoint kept at runs/lstm/last.pt "
        "(continue with --resume)\n"
    )


def test_ctrl_c_elsewhere_claims_no_checkpoint(monkeypatch, tmp_path, capsys):
    code, err = _run_raising(KeyboardInterrupt(), monkeypatch, tmp_path, capsys)
    assert (code, err) == (130, "vislab: interrupted\n")


def test_an_error_inside_a_progress_bar_starts_its_own_line(monkeypatch, tmp_path, capsys):
    from tqdm import tqdm

    def fail_midway():
        bar = tqdm(total=10, desc="working")  # a bar updated by hand, as training loops do
        bar.update(3)
        raise InvalidInputError("step 3 is bad")

    code, err = _run_raising_from(fail_midway, monkeypatch, tmp_path, capsys)
    assert code == 1 and err.endswith("\nvislab: error: step 3 is bad\n"), err


def test_a_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main.main(["paint"])
    assert exit_info.value.code == 2
    assert "'paint'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["gan", "train", "--out", "new dir/run", "--epochs", "-1"],
        ["data", "build-scenes", "--out", "data/scenes", "--num-train", "0"],
        ["caption", "sample", "--out", "new/g.png", "--checkpoint", "absent.pt"],
    ],
)
def test_a_refused_command_leaves_no_folder_behind(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        cli_main.main(argv)
    assert exit_info.value.code == 2 and capsys.readouterr().err.startswith("vislab: error:")
    assert list(tmp_path.iterdir()) == []
