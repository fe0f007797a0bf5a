"""`vislab info`: versions, torch threads, and where data and weights were found."""

from __future__ import annotations

from vislab import system_info


def _info(args) -> None:
    sections = {
        "Versions": system_info.package_versions(),
        "Compute": system_info.torch_summary(),
        "Data and weights": system_info.data_locations(),
    }
    for title, facts in sections.items():
        print(title)
        width = max(len(key) for key in facts)
        for key, value in facts.items():
            print(f"  {key:<{width}}  {value}")


def register(groups) -> None:
    parser = groups[""].add_parser(
        "info", help="print versions and where data and weights were found"
    )
    parser.set_defaults(handler=_info)
