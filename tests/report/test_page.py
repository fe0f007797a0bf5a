"""The report page: relative image links, escaping, table of contents, error sections."""

from __future__ import annotations

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
