"""Proposed product changes, applied to a benchmark API process only, to measure them.

`python -m bench --patches a,b` adds an API variant with the named patches on,
interleaved with the default one, so a change's gain is measured side by side before it
goes into the product; `python -m bench.harness.serve --patches=a` serves one by hand.

Measured here and now the product's own behaviour: `records-epoch`
(graph_model/check_records.py), `autocommit-read` (graph_model/driver.py) and
`gc-freeze` (api/cli.py). Kept to rerun what bench/README.md reports of them (not
adopted): `records-250ms` and `records-1s` (the CheckRecorder flushing every 250 ms or
1 s instead of 50 ms) and `records-dropped` (rows built and buffered as usual, then
dropped instead of written: the API's share of recording without its write
transactions). `records-drain` puts back the recorder's flush before it kept to its
interval: each flush wrote until the buffer was empty, so under steady load it chased
the records that arrived during its own writes. A new candidate is a function
registered in PATCHES.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _records_every(seconds: float) -> Callable[[], None]:
    def patch() -> None:
        from graph_model import check_records

        original = check_records.CheckRecorder.__init__

        def init(self: check_records.CheckRecorder, graph: Any, **options: Any) -> None:
            options.setdefault("interval", seconds)
            original(self, graph, **options)

        check_records.CheckRecorder.__init__ = init  # type: ignore[method-assign]

    return patch


def _records_dropped() -> None:
    from graph_model import check_records

    async def drop(self: Any, query: str, rows: list[Any], count: int) -> None:
        del rows[:count]

    check_records.CheckRecorder._write = drop  # type: ignore[method-assign]


def _records_drain() -> None:
    from graph_model import check_records

    flush_buffered = check_records.CheckRecorder.flush

    async def flush(self: check_records.RecordBuffer) -> None:
        # the old flush: until the buffer is empty, arrivals during each write included
        while self.pending:
            await flush_buffered(self)

    check_records.CheckRecorder.flush = flush  # type: ignore[method-assign]


PATCHES: dict[str, Callable[[], None]] = {
    "records-drain": _records_drain,
    "records-250ms": _records_every(0.25),
    "records-1s": _records_every(1.0),
    "records-dropped": _records_dropped,
}


def apply(names: str) -> list[str]:
    applied = []
    for name in filter(None, (n.strip() for n in names.split(","))):
        patch = PATCHES.get(name)
        if patch is None:
            raise SystemExit(f"unknown patch {name!r} (known: {', '.join(PATCHES) or 'none'})")
        patch()
        applied.append(name)
    return applied
