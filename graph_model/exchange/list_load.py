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
from graph_model.driver import Graph
from graph_model.exchange.apply import apply_events
from graph_model.exchange.list_file import Checked, Line, Report, Scanner, Stamp
from rules.models import Catalogue


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
    # apply_events skips, under the source's lock, what an entry's history shows applied
    done = await apply_events(graph, catalogue, source, [line.event for line in batch])
    loaded.lines += len(batch)
    loaded.already += done.unchanged
    loaded.applied += done.applied
    loaded.registered += done.registered
    loaded.kept_aside.extend(done.kept_aside)
