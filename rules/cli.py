"""`creditlink rules check [DIR] [--jurisdiction J]`: validate a catalogue and say what is
wrong or what it holds."""

from __future__ import annotations

import sys
from typing import TextIO

from rules.issues import CatalogueInvalid
from rules.loader import load_catalogue


def main_check(
    directory: str | None = None, jurisdiction: str | None = None, out: TextIO | None = None
) -> int:
    """Print every issue (`file:line: code: message`) and return 1, or a summary and 0.

    Without `directory`, the packaged catalogue of `jurisdiction` (else Wenzhou's); with
    `jurisdiction`, the catalogue must also be that jurisdiction's own."""
    stream = out if out is not None else sys.stdout
    try:
        catalogue = load_catalogue(directory, jurisdiction=jurisdiction)
    except ValueError as exc:  # CatalogueInvalid is not one: a jurisdiction id that is no id
        print(f"--jurisdiction: {exc}", file=stream)
        return 2
    except CatalogueInvalid as exc:
        for issue in exc.issues:
            print(issue, file=stream)
        return 1
    print(
        f"catalogue of {catalogue.local_jurisdiction.id} OK: {len(catalogue.areas)} areas, "
        f"{len(catalogue.departments)} departments, {len(catalogue.list_types)} list types, "
        f"{len(catalogue.measures)} measures, {len(catalogue.roles)} roles, "
        f"{len(catalogue.jurisdictions)} jurisdictions",
        file=stream,
    )
    return 0
