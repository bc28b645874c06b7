"""The small measurements behind bench/README.md's profile notes, rerunnable in one go.

    .venv/bin/python bench/micro.py --store .data/bench/100000-20261127

Starts the embedded Neo4j of a store `python -m bench` left, then prints:

1. Neo4j's warm-up: right after the start, 8 s bursts of checks (the product's query
   through the driver, 16 at a time) and Neo4j's CPU per check in each burst;
2. the driver's own CPU per query (this process's CPU time, 16 concurrent tasks under
   uvloop, session to records): `RETURN 1` and the check;
0. (before Neo4j starts) the request log line's CPU as `configure_logging` sets it up,
   and with the logging module's lookups of caller, thread and process back on;
3. packing one parameter in the driver's packstream: an aware datetime, a date, and the
   epoch pair the product sends instead;
4. Neo4j's CPU per 1,000 CheckRecords written by `WRITE_RECORDS`, then in alternated
   rounds: random check ids (as before 2026-11-27 afternoon), time-ordered ones, only the
   id, and the whole rows under a label with no index (the rows are deleted afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import cpu  # noqa: E402
from bench.harness.world import memory_for  # noqa: E402
from testkit.neo4j import store_neo4j  # noqa: E402

AREA = "CONVENIENCE_SERVICES"
CONCURRENCY = 16
MICRO_KEY = "bench-micro"
WARM_UP_BURSTS = 10
BURST_SECONDS = 8.0
RECORD_ROUNDS = 250  # the write path warms up too: the first rounds cost 10-20x the last
ID_ROUNDS = 10
ROUND_WRITES = 5
UNINDEXED_LABEL = "MicroRecord"  # no constraint or index in the migrations


def log_line() -> None:
    """The request log line (`api.http._log_request`'s call) as `configure_logging` sets it
    up, and with the logging module's per-record lookups of caller, thread and process
    switched back on (its defaults), written to memory."""
    import io
    import logging

    from api.logging_setup import configure_logging

    configure_logging("INFO")
    handler = logging.getLogger().handlers[0]
    stream = io.StringIO()
    handler.setStream(stream)  # type: ignore[attr-defined]
    log = logging.getLogger("creditlink.http")
    extra = {
        "request_id": "0" * 32,
        "operation": "jointSanctionCheck",
        "operation_name": None,
        "role": "APPROVAL_SYSTEM",
        "key": "bench",
        "duration_ms": 1.23,
        "error_codes": [],
    }
    configured = (logging._srcfile, logging.logThreads, logging.logProcesses)
    rounds = 20_000
    print("the request log line (µs of CPU per line):")
    for label, lookups in (("as configured", configured), ("with lookups", (__file__, True, True))):
        logging._srcfile, logging.logThreads, logging.logProcesses = lookups
        started = time.process_time()
        for _ in range(rounds):
            log.info("graphql", extra=extra)
            stream.seek(0)
            stream.truncate()
        print(f"  {label:15} {(time.process_time() - started) / rounds * 1e6:6.1f}")
    logging._srcfile, logging.logThreads, logging.logProcesses = configured


def packing() -> None:
    import datetime as dt

    from neo4j._codec.hydration.bolt.v2 import HydrationHandler
    from neo4j._codec.packstream.v1 import PackableBuffer, Packer

    from domain.time import epoch_pair

    hooks = HydrationHandler().dehydration_hooks
    buffer = PackableBuffer()
    packer = Packer(buffer)
    at = dt.datetime.now(dt.UTC)
    rounds = 20_000
    print("packing one parameter (µs):")
    for label, value in (
        ("aware datetime", at),
        ("date", at.date()),
        ("epoch pair", epoch_pair(at)),
    ):
        started = time.perf_counter()
        for _ in range(rounds):
            buffer.clear()
            packer.pack(value, dehydration_hooks=hooks)
        print(f"  {label:15} {(time.perf_counter() - started) / rounds * 1e6:6.1f}")


async def _concurrently(work: list[object], run: object, seconds: float | None = None) -> int:
    """Run `run` over `work` with CONCURRENCY tasks (cycling for `seconds` if given);
    returns how many ran."""
    queue = list(work)
    done = 0
    deadline = time.monotonic() + seconds if seconds is not None else None

    async def worker() -> None:
        nonlocal done
        while queue:
            item = queue.pop()
            if deadline is not None:
                if time.monotonic() > deadline:
                    return
                queue.insert(0, item)
            await run(item)  # type: ignore[operator]
            done += 1

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return done


async def measure(uri: str, auth: tuple[str, str], neo4j_pid: int) -> None:
    import neo4j

    from domain.time import time_ordered_ids, utc_now
    from domain.vocabulary import Label
    from graph_model.check_records import WRITE_RECORDS, record_row
    from graph_model.checks import CheckEngine
    from rules.loader import load_catalogue

    engine = CheckEngine(load_catalogue())
    driver = neo4j.AsyncGraphDatabase.driver(uri, auth=auth, notifications_min_severity="OFF")

    async def read(query: str, params: dict[str, object]) -> None:
        async with driver.session(default_access_mode=neo4j.READ_ACCESS) as session:
            result = await session.run(query, params)
            [record async for record in result]

    async def check(subject_id: str) -> None:
        await read(*engine.statement(AREA, [subject_id], utc_now()))

    try:
        async with driver.session() as session:
            result = await session.run(
                "MATCH (x:Subject) WITH x, rand() AS r ORDER BY r LIMIT 500 RETURN x.id AS id"
            )
            ids = [record["id"] async for record in result]

        print(
            f"Neo4j's warm-up: {WARM_UP_BURSTS} bursts of {BURST_SECONDS:g} s of checks right after its start"
        )
        for burst in range(1, WARM_UP_BURSTS + 1):
            before = cpu.snapshot({"neo4j": neo4j_pid})
            done = await _concurrently(ids, check, BURST_SECONDS)
            per = cpu.per_request_ms(before, cpu.snapshot({"neo4j": neo4j_pid}), done)
            print(f"  burst {burst}: {done} checks, Neo4j {per['neo4j']} ms of CPU per check")

        print(f"the driver's own CPU per query ({CONCURRENCY} concurrent tasks, µs):")
        for label, work, run in (
            ("RETURN 1", [None] * 5000, lambda _: read("RETURN 1 AS x", {})),
            ("the check", random.Random(1).choices(ids, k=5000), check),
        ):
            started = time.process_time()
            await _concurrently(work, run)
            print(f"  {label:10} {(time.process_time() - started) / len(work) * 1e6:6.0f}")

        print(f"Neo4j's CPU per 1,000 CheckRecords written, {RECORD_ROUNDS} rounds of 1,000 (ms):")
        now = utc_now()

        async def write_records(
            make_ids: Callable[[int], list[str]], query: str = WRITE_RECORDS, transactions: int = 1
        ) -> float:
            """Neo4j's CPU per 1,000 records over `transactions` writes of 1,000 (CPU time is
            counted in 10 ms ticks, so one write alone is a coarse figure)."""
            batches = [
                [
                    record_row(check_id=check_id, subject_id=ids[0], subject_known=True,
                               area=AREA, at=now, decision="CLEAR", measure_ids=[],
                               sanction_ids=[], department=None, key_name=MICRO_KEY,
                               asked_at=now)
                    for check_id in make_ids(1000)
                ]
                for _ in range(transactions)
            ]  # fmt: skip
            before = cpu.snapshot({"neo4j": neo4j_pid})
            for rows in batches:
                async with driver.session() as session:
                    await session.execute_write(lambda tx, rows=rows: tx.run(query, rows=rows))
            spent = cpu.per_request_ms(before, cpu.snapshot({"neo4j": neo4j_pid}), transactions)
            return float(spent["neo4j"])

        def random_ids(count: int) -> list[str]:
            return ["C" + os.urandom(16).hex() for _ in range(count)]

        def ordered_ids(count: int) -> list[str]:
            return time_ordered_ids("C", count)

        spent = [await write_records(ordered_ids) for _ in range(RECORD_ROUNDS)]
        print(f"  first 10: {', '.join(f'{ms:.0f}' for ms in spent[:10])}")
        print(f"  median of the last 20: {statistics.median(spent[-20:]):.0f}")
        record_label = f":{Label.CHECK_RECORD.value}"
        variants = {
            "random ids (as before)": (random_ids, WRITE_RECORDS),
            "time-ordered ids": (ordered_ids, WRITE_RECORDS),
            "only the id": (
                ordered_ids,
                f"UNWIND $rows AS row CREATE ({record_label} {{id: row.id, keyName: row.keyName}})",
            ),
            "no index": (
                ordered_ids,
                WRITE_RECORDS.replace(record_label, f":{UNINDEXED_LABEL}"),
            ),
        }
        print(
            f"  {ID_ROUNDS} alternated rounds of {ROUND_WRITES} writes each: random against "
            "time-ordered ids, and what the indexes cost (only the id, under its constraint; "
            "the whole rows under a label with no index):"
        )
        by_kind: dict[str, list[float]] = {kind: [] for kind in variants}
        for _ in range(ID_ROUNDS):
            for kind, (make_ids, query) in variants.items():
                by_kind[kind].append(await write_records(make_ids, query, ROUND_WRITES))
        for kind, values in by_kind.items():
            print(
                f"  {kind:24} median {statistics.median(values):5.1f}"
                f" (min {min(values):.1f}, max {max(values):.1f})"
            )
        async with driver.session() as session:
            await session.run(
                f"MATCH (c:CheckRecord|{UNINDEXED_LABEL} {{keyName: $key}}) "
                "CALL (c) { DETACH DELETE c } IN TRANSACTIONS OF 5000 ROWS",
                key=MICRO_KEY,
            )
    finally:
        await driver.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="a `python -m bench` data dir")
    args = parser.parse_args()
    import uvloop

    log_line()
    packing()
    scale = json.loads((args.store / "bench-world.json").read_text())["scale"]
    heap, pagecache = memory_for(int(scale))
    with store_neo4j(args.store.resolve(), heap_mb=heap, pagecache_mb=pagecache) as embedded:
        pid = embedded.running_pid()
        assert pid is not None
        uvloop.run(measure(embedded.uri, embedded.auth, pid))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
