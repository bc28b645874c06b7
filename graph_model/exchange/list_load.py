"""Writing a list file `list_file.check` found good (docs/list-format.md).

`load` reads the file again and applies it in batches of lines, each one transaction of
`apply_events` (no cursor: a file has no position at its source). A line already applied
(the same event id in its entry's history) is skipped, so importing a file again changes
nothing, and a run cut off half-way, which left whole batches, completes when run again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domain.errors import Conflict
from domain.vocabulary import Label
from graph_model.driver import Graph
from graph_model.exchange.apply import apply_events, local_id
from graph_model.exchange.list_file import Checked, Line, Report, Scanner, Stamp
from rules.models import Catalogue

# `apply._plan` records each applied event in its entry's history as
# `<at>|<kind>|exchange:<source>|<event id>`: the events of `$rows` found there
APPLIED_BEFORE = (
    "UNWIND $rows AS row "
    f"MATCH (s:{Label.SANCTION.value} {{id: row.sanction}}) "
    "WHERE any(h IN coalesce(s.history, []) WHERE h ENDS WITH row.mark) "
    "RETURN row.event AS event"
)


def history_mark(source: str, event_id: str) -> str:
    return f"|exchange:{source}|{event_id}"


@dataclass
class Loaded:
    lines: int = 0
    applied: int = 0
    already: int = 0  # lines applied before (an earlier run, or the same line twice)
    registered: int = 0
    kept_aside: list[dict[str, Any]] = field(default_factory=list)


def _batches(path: Path, source: str, catalogue: Catalogue, size: int) -> Iterator[list[Line]]:
    # the per-event rule is apply_events' own: asked there, not twice
    scanner = Scanner(path, source, catalogue, gate=False)
    batch: list[Line] = []
    for line in scanner.lines():
        batch.append(line)
        if len(batch) >= size:
            _unchanged(path, scanner.report)
            yield batch
            batch = []
    _unchanged(path, scanner.report)
    if batch:
        yield batch


def _unchanged(path: Path, report: Report) -> None:
    """The second reading found what the first did: no problem (a line found bad now was
    changed after the check; the batches before it are written, none after)."""
    if not report.ok:
        first = min(report.problems, key=lambda p: p.line)
        raise Conflict(
            f"{path}:{first.line}: {first.field}: {first.reason}: the file changed after it "
            "was checked; the batches before this line are written, the rest is not",
            field="file",
        )


async def load(
    graph: Graph,
    path: Path,
    source: str,
    catalogue: Catalogue,
    checked: Checked,
    *,
    batch_size: int = 5000,
    on_batch: Callable[[int], object] | None = None,
) -> Loaded:
    """Apply the file `check` found good, `batch_size` lines per transaction."""
    if Stamp.of(path) != checked.stamp:
        raise Conflict(f"{path}: the file changed after it was checked: nothing written")
    loaded = Loaded()
    loop = asyncio.get_running_loop()
    batches = _batches(path, source, catalogue, batch_size)
    with ThreadPoolExecutor(1, thread_name_prefix="list-file") as reader:
        # the next batch is read and checked in a thread while this one is written: the
        # reading is Python's work, the writing mostly Neo4j's, so they overlap
        upcoming = loop.run_in_executor(reader, next, batches, None)
        while (batch := await upcoming) is not None:
            upcoming = loop.run_in_executor(reader, next, batches, None)
            await _apply(graph, catalogue, source, batch, loaded)
            if on_batch is not None:
                on_batch(len(batch))
    return loaded


async def _apply(
    graph: Graph, catalogue: Catalogue, source: str, batch: list[Line], loaded: Loaded
) -> None:
    fresh = await _not_applied(graph, source, batch)
    loaded.lines += len(batch)
    loaded.already += len(batch) - len(fresh)
    if fresh:
        done = await apply_events(graph, catalogue, source, [line.event for line in fresh])
        loaded.applied += done.applied
        loaded.registered += done.registered
        loaded.kept_aside.extend(done.kept_aside)


async def _not_applied(graph: Graph, source: str, batch: list[Line]) -> list[Line]:
    """The lines of `batch` not applied before, each event once."""
    rows = [
        {
            "sanction": local_id(source, line.entry_id),
            "mark": history_mark(source, line.event.event_id),
            "event": line.event.event_id,
        }
        for line in batch
    ]
    found = await graph.read(APPLIED_BEFORE, {"rows": rows}, name="listImport.appliedBefore")
    seen = {row["event"] for row in found}
    fresh: list[Line] = []
    for line in batch:
        if line.event.event_id not in seen:
            seen.add(line.event.event_id)
            fresh.append(line)
    return fresh
