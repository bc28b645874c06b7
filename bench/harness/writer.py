"""A process that writes CheckRecords into Neo4j as an API's recorder does, and nothing else.

    NEO4J_USER=... NEO4J_PASSWORD=... python -m bench.harness.writer URI ROWS PER_SECOND SECONDS

`ROWS` records per write transaction (`graph_model.check_records.WRITE_RECORDS` through
`Graph.write`, as `CheckRecorder` flushes them), `PER_SECOND` transactions a second, for
`SECONDS`. Run beside an API that records nothing (`bench/ab_open_loop.py --b-writer`),
it puts the records' load on Neo4j without putting it on the API process, which tells
apart the two sides' share of what recording does to the tail.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time


async def write(uri: str, rows: int, per_second: float, seconds: float) -> int:
    from domain.check_ids import single_check_ids
    from domain.time import utc_now
    from graph_model.check_records import WRITE_RECORDS, record_row
    from graph_model.driver import open_graph

    written = 0
    user, password = os.environ.get("NEO4J_USER") or "neo4j", os.environ.get("NEO4J_PASSWORD", "")
    async with open_graph(uri, user, password, "neo4j") as graph:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            now = utc_now()
            batch = [
                record_row(
                    check_id=check_id,
                    subject_id="BENCH-WRITER",
                    subject_known=False,
                    area="CONVENIENCE_SERVICES",
                    at=now,
                    decision="CLEAR",
                    measure_ids=[],
                    sanction_ids=[],
                    department=None,
                    key_name="bench-writer",
                    asked_at=now,
                )
                for check_id in single_check_ids(rows)
            ]
            await graph.write(WRITE_RECORDS, {"rows": batch}, name="benchWriter")
            if not written:
                print("writing", flush=True)  # the caller starts its window after this
            written += rows
            await asyncio.sleep(max(0.0, 1 / per_second - (time.perf_counter() - started)))
    return written


def main() -> int:
    uri, rows, per_second, seconds = sys.argv[1:5]
    written = asyncio.run(write(uri, int(rows), float(per_second), float(seconds)))
    print(f"wrote {written} records")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
