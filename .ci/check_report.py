"""CI: a demo report exists and every image it references exists beside it (relative links)."""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse


class ImageSources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources += [value or "" for name, value in attrs if name == "src"]


def main(report: Path) -> int:
    if not report.is_file():
        print(f"check_report: {report} was not written", file=sys.stderr)
        return 1
    parser = ImageSources()
    parser.feed(report.read_text(encoding="utf-8"))
    problems = []
    for source in parser.sources:
        link = urlparse(source)
        if link.scheme or link.netloc or source.startswith("/"):
            problems.append(f"not a relative link: {source}")
        elif not (report.parent / unquote(link.path)).is_file():
            problems.append(f"missing image: {source}")
    for problem in problems:
        print(f"check_report: {report}: {problem}", file=sys.stderr)
    if not parser.sources:
        problems.append("no images")
        print(f"check_report: {report} references no images", file=sys.stderr)
    print(f"check_report: {report}: {len(parser.sources)} images, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))
