"""A report is a list of sections; each holds text, figures (PNG files) and tables.

`write_report` renders them into one static HTML page that opens from disk: images are
linked by relative paths, the CSS is inline, nothing loads from the network.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from vislab.atomic_files import atomic_write_text


@dataclass
class Figure:
    """A PNG file inside the report folder and a caption saying what it shows."""

    path: Path
    caption: str


@dataclass
class Table:
    """A table: a caption, a header row and rows of cells (numbers are formatted)."""

    caption: str
    header: list[str]
    rows: list[list[object]]


@dataclass
class Section:
    """One part of the report. `error` replaces the content when its step failed."""

    title: str
    intro: str = ""
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
