"""Two API variants side by side, open loops alternated: the tail of each at one rate.

    .venv/bin/python bench/ab_open_loop.py --store .data/bench/100000-20261127 \
        --b CREDITLINK_RECORD_CHECKS=false --rate 420 --seconds 15 --pairs 6

Starts the embedded Neo4j of a store `python -m bench` left (`--store`, its keys file
`bench-keys.toml` inside) or uses NEO4J_URI, then two APIs exactly as `creditlink serve`
(`bench.harness.run.start_api`): A with the environment as it is, B with the `--b`
CREDITLINK_* assignments added (and `--b-args`: `--patches=NAME` or `--no-rust`). A runs
one worker, as testkit starts an API, and so does B unless `--b CREDITLINK_WORKERS=N` (an
empty value is the shipped default, the CPU count); an API's CPU is that of all its
processes. It
checks random subjects in area CONVENIENCE_SERVICES with open loops
(`bench/harness/loadgen.py`: requests scheduled at `--rate`, latency from the scheduled
start) of `--seconds`, alternating A and B `--pairs` times after `--warm-up` seconds of
untimed checks on each and one untimed open loop each, and prints every run's p50, p99
and max, the API's and Neo4j's CPU per check (Neo4j's only when `--store` started it),
the CheckRecord write transactions a second (from the API's own query counts) and the
whole box's busy share, then the medians of each side.
`--b-writer ROWS,PER_SECOND` runs `bench/harness/writer.py` during each of B's runs
(started, and writing, before the run begins):
records written into the same Neo4j by another process, e.g. with both sides
`CREDITLINK_RECORD_CHECKS=false`, the records' load on Neo4j without the API's share.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness.run import (  # noqa: E402
    WARM_UP_SECONDS,
    Server,
    check_bodies,
    loadgen,
    scrape_metrics,
    start_api,
    warm_up,
)
from bench.harness.world import env_auth, memory_for  # noqa: E402
from testkit.neo4j import store_neo4j  # noqa: E402


async def _sample(uri: str, auth: tuple[str, str], count: int) -> list[str]:
    from neo4j import AsyncGraphDatabase

    driver = AsyncGraphDatabase.driver(uri, auth=auth if auth[1] else None)
    try:
        async with driver.session() as session:
            result = await session.run(
                "MATCH (x:Subject) WITH x, rand() AS r ORDER BY r LIMIT $n RETURN x.id AS id",
                n=count,
            )
            return [record["id"] async for record in result]
    finally:
        await driver.close()


_RECORD_WRITES = re.compile(
    r'^creditlink_neo4j_query_seconds_count\{query="checkRecords\.write"\} ([0-9.e+]+)$', re.M
)


def _record_writes(server: Server) -> float:
    """The CheckRecord write transactions the API has sent so far."""
    found = _RECORD_WRITES.search(scrape_metrics(server))
    return float(found[1]) if found else 0.0


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _serve_args(text: str) -> dict[str, str]:
    """`--b-args` as `start_api`'s keywords."""
    args: dict[str, str] = {}
    for arg in text.split():
        if arg == "--no-rust":
            args["no_rust"] = "1"
        elif arg.startswith("--patches="):
            args["patches"] = arg.split("=", 1)[1]
        else:
            raise SystemExit(f"--b-args: {arg!r} is not --no-rust or --patches=NAME")
    return args


def _writer(
    uri: str, auth: tuple[str, str], spec: str, seconds: float
) -> subprocess.Popen[bytes] | None:
    """`bench.harness.writer` for `--b-writer ROWS,PER_SECOND`, started; None without it."""
    if not spec:
        return None
    rows, per_second = spec.split(",")
    writer = subprocess.Popen(
        [sys.executable, "-m", "bench.harness.writer", uri, rows, per_second, str(seconds)],
        cwd=ROOT,
        env={**os.environ, "NEO4J_USER": auth[0], "NEO4J_PASSWORD": auth[1]},
        stdout=subprocess.PIPE,
    )
    # its start-up (imports, connecting) must not fall inside the measured window
    assert writer.stdout is not None
    writer.stdout.readline()
    return writer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, help="a `python -m bench` data dir")
    parser.add_argument("--b", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--b-args", default="", help="--patches=NAME or --no-rust for B")
    parser.add_argument("--rate", type=float, default=420.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--sample", type=int, default=200, help="subjects checked")
    parser.add_argument(
        "--warm-up",
        type=float,
        default=WARM_UP_SECONDS,
        help="seconds of untimed checks on each API first (a Neo4j just started is cold)",
    )
    parser.add_argument(
        "--b-writer", default="", metavar="ROWS,PER_SECOND", help="records written during B"
    )
    args = parser.parse_args()

    with contextlib.ExitStack() as resources:
        return compare(args, resources)


def compare(args: argparse.Namespace, resources: contextlib.ExitStack) -> int:
    neo4j_pid: int | None = None
    uri = os.environ.get("NEO4J_URI")
    auth = env_auth()
    keys = Path(os.environ.get("CREDITLINK_API_KEYS_FILE", ""))
    if args.store is not None:
        scale = json.loads((args.store / "bench-world.json").read_text())["scale"]
        heap, pagecache = memory_for(int(scale))
        embedded = resources.enter_context(
            store_neo4j(args.store.resolve(), heap_mb=heap, pagecache_mb=pagecache)
        )
        neo4j_pid = embedded.running_pid()
        uri = embedded.uri
        auth = embedded.auth
        keys = args.store / "bench-keys.toml"
    if not uri or not keys.is_file():
        raise SystemExit("give --store, or NEO4J_URI and CREDITLINK_API_KEYS_FILE")
    scratch = Path(tempfile.mkdtemp())
    variant_b = dict(assignment.split("=", 1) for assignment in args.b)
    servers: dict[str, Server] = {}
    try:
        keys = keys.resolve()
        servers["A"] = start_api("A", uri, scratch / "a", keys, scratch, auth=auth)
        servers["B"] = start_api(
            "B",
            uri,
            scratch / "b",
            keys,
            scratch,
            auth=auth,
            **variant_b,
            **_serve_args(args.b_args),
        )
        ids = asyncio.run(_sample(uri, auth, args.sample))
        warm_up(list(servers.values()), ids, args.warm_up)
        b_writer = f"writer {args.b_writer}" if args.b_writer else ""
        print(f"A: as is; B: {' '.join([*args.b, args.b_args, b_writer]).strip() or 'the same'}")
        print(f"open loops at {args.rate:g}/s for {args.seconds:g} s, alternated")
        columns = ("p99", "api", "neo4j", "busy", "writes")
        seen: dict[str, dict[str, list[float]]] = {"A": {}, "B": {}}
        for run in range(args.pairs + 1):
            for name, server in servers.items():
                writer = (
                    _writer(uri, auth, args.b_writer, args.seconds + 5) if name == "B" else None
                )
                pids = {"api": server.proc.pid}
                if neo4j_pid is not None:
                    pids["neo4j"] = neo4j_pid
                writes_before = _record_writes(server)
                figures = loadgen(
                    server.url, check_bodies(server.url, ids), pids, mode="open",
                    concurrency=32, rate=args.rate, duration=args.seconds, warmup=200,
                )  # fmt: skip
                if writer is not None:
                    writer.terminate()
                    writer.wait()
                latency, cpu = figures["latency_ms"], figures["cpu_ms_per_request"]
                busy = figures["box_cpu"]["busy_share"]
                writes = (_record_writes(server) - writes_before) / figures["elapsed_s"]
                label = "warm-up" if run == 0 else f"run {run}"
                print(
                    f"  {name} {label:8} p50 {latency['p50']:7.2f} ms  p99 {latency['p99']:7.2f} ms"
                    f"  max {latency['max']:7.2f} ms  errors {figures['errors']}"
                    f"  CPU ms/check API {_ms(cpu.get('api'))} Neo4j {_ms(cpu.get('neo4j'))}"
                    f"  record writes/s {writes:.0f}  box busy {busy:.0%}"
                )
                if run:
                    measured = (latency["p99"], cpu.get("api"), cpu.get("neo4j"), busy, writes)
                    for column, value in zip(columns, measured, strict=True):
                        if value is not None:
                            seen[name].setdefault(column, []).append(value)
        for name, values in seen.items():
            p99 = values["p99"]
            medians = {c: statistics.median(v) for c, v in values.items()}
            print(
                f"{name}: p99 median {medians['p99']:.2f} ms, "
                f"range {min(p99):.2f}-{max(p99):.2f} ms over {len(p99)} runs; medians: "
                f"CPU ms/check API {_ms(medians.get('api'))} Neo4j {_ms(medians.get('neo4j'))}, "
                f"record writes/s {medians['writes']:.0f}, box busy {medians['busy']:.0%}"
            )
    finally:
        for server in servers.values():
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
