"""`creditlink rules check [DIR]`: validate a catalogue and say what is wrong or what it holds."""

from __future__ import annotations

import sys
from typing import TextIO

from rules.issues import CatalogueInvalid
from rules.loader import load_catalogue


def main_check(directory: str | None = None, out: TextIO | None = None) -> int:
    """Print every issue (`file:line: code: message`) and return 1, or a summary and 0."""
    stream = out if out is not None else sys.stdout
    try:
        catalogue = load_catalogue(directory)
    except CatalogueInvalid as exc:
        for issue in exc.issues:
            print(issue, file=stream)
        return 1
    print(
        f"catalogue OK: {len(catalogue.areas)} areas, {len(catalogue.departments)} departments, "
        f"{len(catalogue.list_types)} list types, {len(catalogue.measures)} measures, "
        f"{len(catalogue.roles)} roles, {len(catalogue.jurisdictions)} jurisdictions",
        file=stream,
    )
    return 0
