"""The console's district names (console/src/labels.ts) are the domain's (domain/districts.py).

The console names districts without asking the API, from a table of its own; this keeps
that table and the one the API validates against the same, code for code and name for name.
"""

from __future__ import annotations

import re

from api.settings import PROJECT_ROOT
from domain.districts import DISTRICTS

LABELS = PROJECT_ROOT / "console" / "src" / "labels.ts"
TABLE = re.compile(r"^export const DISTRICT: Record<string, string> = \{\n(.*?)^\};", re.M | re.S)
ENTRY = re.compile(r'^\s*"(\d{6})": "([^"]+)",?\s*$')


def console_districts(source: str) -> dict[str, str]:
    """The DISTRICT table of labels.ts; every line of it must be a `"code": "name"` entry."""
    table = TABLE.search(source)
    assert table, f"no `export const DISTRICT` table in {LABELS}"
    entries = {}
    for line in table.group(1).splitlines():
        entry = ENTRY.match(line)
        assert entry, f"{LABELS}: a DISTRICT line this test cannot read: {line!r}"
        entries[entry.group(1)] = entry.group(2)
    return entries


def test_the_console_names_the_domains_districts() -> None:
    assert console_districts(LABELS.read_text(encoding="utf-8")) == DISTRICTS


def test_a_district_the_console_names_differently_is_told_apart() -> None:
    source = LABELS.read_text(encoding="utf-8").replace('"330383": "龙港市"', '"330383": "龙港"')
    assert console_districts(source) != DISTRICTS
