"""The main job end to end: a tiny-budget demo whose report a real browser renders."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from vislab.cli.main import main

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# One worker runs all three tests, so the demo is built once (make test uses --dist loadgroup).
pytestmark = pytest.mark.xdist_group("demo")


@pytest.fixture(scope="session")
def demo_report(tmp_path_factory) -> Path:
    """The demo run as a user types it: from another folder, into a relative one with a space."""
    workdir = tmp_path_factory.mktemp("demo")
    previous = Path.cwd()
    os.chdir(workdir)
    try:
        assert main(["demo", "--budget", "tiny", "--out", "demo out"]) == 0
    finally:
        os.chdir(previous)
    return workdir / "demo out" / "report.html"


def test_every_step_ran_and_every_link_exists(demo_report):
    page = demo_report.read_text(encoding="utf-8")
    assert "This step failed" not in page, re.findall(r"This step failed: [^<]*", page)
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len(sources) >= 8
    for source in sources:
        assert not source.startswith(("/", "http")), source
        assert (demo_report.parent / source).is_file(), source
    for title in ("Fashion-MNIST CNN", "captioning", "GAN", "Timings and versions"):
        assert title.lower() in page.lower()


def test_second_run_reuses_what_is_built(demo_report, capsys):
    before = {p: p.stat().st_mtime_ns for p in demo_report.parent.rglob("*.pt")}
    assert main(["demo", "--budget", "tiny", "--out", str(demo_report.parent)]) == 0
    after = {p: p.stat().st_mtime_ns for p in demo_report.parent.rglob("*.pt")}
    assert before and before == after  # no checkpoint was retrained


@pytest.mark.browser
def test_report_renders_in_chromium(demo_report):
    chromedriver = shutil.which("chromedriver")
    if chromedriver is None or shutil.which("chromium") is None:
        pytest.fail("Debian's chromium and chromium-driver are missing: run `make setup` as root")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,2000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    try:
        driver.get(demo_report.as_uri())
        driver.execute_script("document.querySelectorAll('img').forEach(i => i.loading='eager')")
        images = driver.execute_async_script(
            "const done = arguments[0];"
            "Promise.all(Array.from(document.images).map(i => i.decode().catch(() => null)))"
            ".then(() => done(Array.from(document.images).map(i => [i.src, i.naturalWidth])));"
        )
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "demo-report.png"))
    finally:
        driver.quit()
    assert images, "the report has no images"
    assert [src for src, width in images if width == 0] == []
    assert errors == []
