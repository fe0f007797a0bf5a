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


_CSS = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2430;
background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:1rem 1.25rem 4rem}
header{background:#1d2430;color:#fff;padding:1.5rem 1.25rem}
header h1{margin:0 auto;max-width:1100px;font-size:1.7rem}
header p{margin:.3rem auto 0;max-width:1100px;color:#c9d1dc}
nav{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:.6rem 1.2rem;margin:1rem 0}
nav ol{margin:.3rem 0;padding-left:1.3rem}
section{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:.4rem 1.2rem 1rem;
margin:1.2rem 0}
h2{border-bottom:2px solid #e6e9ee;padding-bottom:.3rem}
figure{margin:1rem 0;text-align:center}
figure img{max-width:100%;height:auto;border:1px solid #e6e9ee;border-radius:4px}
figcaption{font-size:.92rem;color:#4a5363;margin-top:.3rem;text-align:left}
figure.table{text-align:left}
figure.table figcaption{margin:0 0 .3rem}
.table-wrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.95rem}
th,td{border:1px solid #dde1e7;padding:.3rem .6rem;text-align:left;white-space:nowrap}
th{background:#f0f2f5}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.note{background:#f3f7ff;border-left:4px solid #5b8def;padding:.4rem .8rem;margin:.6rem 0}
.error{background:#fff3f3;border-left:4px solid #d64545;padding:.4rem .8rem;margin:.6rem 0;
white-space:pre-wrap}
"""


def _slug(title: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"
    slug, counter = base, 2
    while slug in used:
        slug, counter = f"{base}-{counter}", counter + 1
    used.add(slug)
    return slug


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f'<td class="num">{value:.4g}</td>'
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="num">{value}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def _render_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(str(name))}</th>" for name in table.header)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in table.rows)
    caption = html.escape(table.caption)
    # The caption sits outside the scrolling box so that it wraps to the page's width on a
    # phone while a wide table scrolls sideways inside its box (focusable, for the keyboard).
    return (
        f'<figure class="table"><figcaption>{caption}</figcaption>'
        f'<div class="table-wrap" role="region" tabindex="0" aria-label="{caption}">'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></figure>"
    )


def _relative_src(path: Path, out_dir: Path) -> str:
    """The figure's path relative to the report, with forward slashes (a URL path)."""
    path = Path(path)
    absolute = path if path.is_absolute() else out_dir / path
    return Path(os.path.relpath(absolute.resolve(), out_dir.resolve())).as_posix()


def _render_section(section: Section, slug: str, out_dir: Path) -> str:
    parts = [f'<section id="{slug}"><h2>{html.escape(section.title)}</h2>']
    if section.error:
        parts.append(f'<div class="error">This step failed: {html.escape(section.error)}</div>')
    if section.intro:
        parts.append(f"<p>{html.escape(section.intro)}</p>")
    parts += [f'<p class="note">{html.escape(note)}</p>' for note in section.notes]
    parts += [_render_table(table) for table in section.tables]
    for figure in section.figures:
        src = html.escape(_relative_src(figure.path, out_dir), quote=True)
        caption = html.escape(figure.caption)
        parts.append(
            f'<figure><img src="{src}" alt="{caption}" loading="lazy">'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    parts.append("</section>")
    return "\n".join(parts)


def write_report(
    sections: list[Section], path: str | os.PathLike, title: str, subtitle: str = ""
) -> Path:
    """Render `sections` into a static HTML page at `path` (atomically); return the path.

    Figures must lie inside the report's folder (they are linked relatively) and exist.
    """
    path = Path(path)
    out_dir = path.parent
    for section in sections:
        for figure in section.figures:
            absolute = figure.path if Path(figure.path).is_absolute() else out_dir / figure.path
            if not Path(absolute).is_file():
                raise FileNotFoundError(f"report figure is missing: {absolute}")
    used: set[str] = set()
    slugs = [_slug(section.title, used) for section in sections]
    toc = "".join(
        f'<li><a href="#{slug}">{html.escape(section.title)}</a>'
        + (" (failed)" if section.error else "")
        + "</li>"
        for section, slug in zip(sections, slugs, strict=True)
    )
    body = "\n".join(
        _render_section(section, slug, out_dir)
        for section, slug in zip(sections, slugs, strict=True)
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{_CSS}</style></head>
<body><header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header>
<main><nav><strong>Contents</strong><ol>{toc}</ol></nav>
{body}
</main></body></html>
"""
    return atomic_write_text(path, page)
