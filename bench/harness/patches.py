"""Proposed product changes, applied to a benchmark API process only, to measure them.

None of these is on in `creditlink bench` by default: the default figures are the
product as it is. `python -m bench.harness --patches records-epoch,autocommit-read`
adds a fourth API variant with them on, so their gain is measured side by side;
bench/README.md records the results and what each change would be in the product.

- records-epoch (graph_model/check_records.py): CheckRecord rows carry `at`/`askedAt`
  as epoch seconds + nanoseconds and Cypher builds the DateTime; the driver's Python
  dehydration of aware `datetime`s (neo4j.time, ~25 µs each, not covered by the rust
  ext) was the largest single cost of batchCheck.
- autocommit-read (graph_model/driver.py): single-statement reads run as auto-commit
  transactions (`session.run`: RUN+PULL in one write to the socket) instead of
  `execute_read` (BEGIN, RUN+PULL, COMMIT: three writes and three server round trips);
  transient errors are retried by hand so the behaviour callers see is unchanged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

PATCHES = ("records-epoch", "autocommit-read")


def _records_epoch() -> None:
    from graph_model import check_records
    from graph_model.labels import Label

    original = check_records.record_row
    check_records.WRITE_RECORDS = (
        f"UNWIND $rows AS row CREATE (c:{Label.CHECK_RECORD.value}) "
        "SET c = row {.*, at: datetime({epochSeconds: row.at[0], nanosecond: row.at[1]}), "
        "askedAt: datetime({epochSeconds: row.askedAt[0], nanosecond: row.askedAt[1]})}"
    )

    def epoch(moment: dt.datetime) -> list[int]:
        delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return [delta.days * 86400 + delta.seconds, delta.microseconds * 1000]

    def record_row(**kwargs: Any) -> dict[str, Any]:
        row = original(**kwargs)
        row["at"] = epoch(row["at"])
        row["askedAt"] = epoch(row["askedAt"])
        return row

    check_records.record_row = record_row  # type: ignore[assignment]


def _autocommit_read() -> None:
    import neo4j
    from neo4j import exceptions as neo4j_errors

    from graph_model import driver as driver_module
    from graph_model.errors import CreditLinkError

    graph_cls = driver_module.Graph
    original_run = graph_cls._run

    async def _run(
        self: Any, mode: str, query: str, params: dict[str, Any], name: str
    ) -> list[dict[str, Any]]:
        if mode != neo4j.READ_ACCESS:
            return await original_run(self, mode, query, params, name)
        started = time.perf_counter()
        try:
            for attempt in range(5):
                try:
                    async with self.driver.session(
                        database=self.database, default_access_mode=mode
                    ) as session:
                        result = await session.run(query, params)
                        return [record.data() async for record in result]
                except (neo4j_errors.TransientError, neo4j_errors.SessionExpired):
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.05 * 2**attempt)
            raise AssertionError("unreachable")
        except CreditLinkError:
            raise
        except Exception as exc:
            raise driver_module.translate(exc) from exc
        finally:
            self._observe(name, started)

    graph_cls._run = _run  # type: ignore[method-assign]


def apply(names: str) -> list[str]:
    applied = []
    for name in filter(None, (n.strip() for n in names.split(","))):
        if name == "records-epoch":
            _records_epoch()
        elif name == "autocommit-read":
            _autocommit_read()
        else:
            raise SystemExit(f"unknown patch {name!r} (known: {', '.join(PATCHES)})")
        applied.append(name)
    return applied
