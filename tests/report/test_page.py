"""The report page: relative image links, escaping, table of contents, error sections."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vislab.report import Figure, Section, Table, write_report


def _png(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(path)
    return path


def test_page_links_figures_relatively_and_escapes_text(tmp_path):
    absolute = _png(tmp_path / "step" / "a.png")
    _png(tmp_path / "b.png")
    sections = [
        Section(
            "Captions <&>",
            intro="x < y",
            figures=[Figure(absolute, "first"), Figure(Path("b.png"), "second")],
            tables=[Table("scores", ["model", "BLEU-4"], [["rnn", 0.123456], ["nn", 3]])],
            notes=["quick budget"],
        ),
        Section("Broken step", error="RuntimeError: boom"),
    ]
    page = write_report(sections, tmp_path / "report.html", "title").read_text()
    assert 'src="step/a.png"' in page and 'src="b.png"' in page
    assert str(tmp_path) not in page  # no absolute paths: the folder can move
    assert "Captions &lt;&amp;&gt;" in page and "x &lt; y" in page
    assert '<a href="#captions">' in page and "Broken step</a> (failed)" in page
    assert "0.1235" in page and "This step failed: RuntimeError: boom" in page
    assert "http" not in page.replace('name="viewport"', "")


def test_duplicate_titles_get_distinct_anchors(tmp_path):
    page = write_report([Section("A"), Section("A")], tmp_path / "r.html", "t").read_text()
    assert 'id="a"' in page and 'id="a-2"' in page


def test_missing_figure_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="gone.png"):
        write_report(
            [Section("A", figures=[Figure(Path("gone.png"), "x")])], tmp_path / "r.html", "t"
        )


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.mark.browser
def test_wide_tables_scroll_inside_their_box_on_a_phone(tmp_path):
    """At 390 px the page itself never scrolls sideways; a wide table scrolls in its box."""
    chromedriver = shutil.which("chromedriver")
    if chromedriver is None or shutil.which("chromium") is None:
        pytest.fail("Debian's chromium and chromium-driver are missing: run `make setup` as root")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    header = ["captioner", *(f"BLEU-{n}" for n in range(1, 5)), "CIDEr-D", "most frequent class"]
    rows = [[f"lstm, beam {n}", 0.61, 0.42, 0.28, 0.19, 0.87, "dress (34%)"] for n in range(4)]
    caption = "BLEU-1..4 and CIDEr-D on the 400 validation scenes (higher is better)"
    page = write_report(
        [Section("Scores", tables=[Table(caption, header, rows)])], tmp_path / "report.html", "t"
    )
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    try:
        # A phone's viewport (windows of headless Chromium are at least 500 px wide).
        phone = {"width": 390, "height": 900, "deviceScaleFactor": 1, "mobile": True}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", phone)
        driver.get(page.as_uri())
        page_width, view_width = driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]"
        )
        box, table, caption_width = driver.execute_script(
            "const box = document.querySelector('.table-wrap');"
            "box.scrollLeft = 100;"
            "return [[box.clientWidth, box.scrollLeft], box.scrollWidth,"
            " document.querySelector('figure.table figcaption').scrollWidth];"
        )
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "report-390px-scrolled-table.png"))
    finally:
        driver.quit()
    assert view_width == 390 and page_width <= view_width  # no sideways scrolling of the page
    assert table > box[0] and box[1] > 0  # the table is wider than its box and scrolls in it
    assert caption_width <= box[0]  # the caption wraps to the box instead of being cut off
