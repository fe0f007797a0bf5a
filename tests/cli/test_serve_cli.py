"""`vislab serve` as a user starts it: from a working folder, with a relative --runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

import httpx
import pytest

from vislab.cli.main import main


def test_serve_prints_its_loopback_url_serves_and_stops_on_ctrl_c(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "vislab", "serve", "--runs", "runs"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("vislab lab on http://127.0.0.1:"), line + process.stdout.read()
        url = line.split()[3]
        status = httpx.get(f"{url}api/status", timeout=30).json()
        assert status["runs_dir"] == str((tmp_path / "runs").resolve())
        assert "vislab demo --out" in status["missing"]["gan"]
        process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        rest = process.stdout.read()
        assert process.returncode == 130 and rest.strip() == "vislab: interrupted", rest
    finally:
        process.kill()
        process.wait()


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        (["--host", "192.0.2.1"], 1, "cannot listen on 192.0.2.1:0"),
    ],
)
def test_bad_options_are_one_sentence(tmp_path, monkeypatch, capsys, arguments, code, message):
    monkeypatch.chdir(tmp_path)
    temp_before = tempfile.gettempdir()
    assert main(["serve", "--runs", "runs", *arguments]) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    # The lab's temporary folder is gone: the process-wide default must not point there.
    assert tempfile.gettempdir() == temp_before


def test_a_bad_number_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main(["serve", "--workers", "0"])
    assert stop.value.code == 2
    assert "--workers: must be a positive whole number, got 0" in capsys.readouterr().err
