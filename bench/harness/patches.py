"""Proposed product changes, applied to a benchmark API process only, to measure them.

`python -m bench.harness --patches a,b` adds an API variant with the named patches on,
interleaved with the default one, so a change's gain is measured side by side before it
goes into the product; `python -m bench.harness.serve --patches=a` serves one by hand.
bench/README.md ("What was tried") records each result.

None is pending. Measured here and now the product's own behaviour: `records-epoch`
(graph_model/check_records.py), `autocommit-read` (graph_model/driver.py) and
`gc-freeze` (api/cli.py). A new candidate is a function registered in PATCHES.
"""

from __future__ import annotations

from collections.abc import Callable

PATCHES: dict[str, Callable[[], None]] = {}


def apply(names: str) -> list[str]:
    applied = []
    for name in filter(None, (n.strip() for n in names.split(","))):
        patch = PATCHES.get(name)
        if patch is None:
            raise SystemExit(f"unknown patch {name!r} (known: {', '.join(PATCHES) or 'none'})")
        patch()
        applied.append(name)
    return applied
