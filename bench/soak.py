"""Soak: joint sanction checks for N minutes at 70% of the measured maximum throughput.

    .venv/bin/python bench/soak.py                  # 30 minutes (the issue's soak)
    .venv/bin/python bench/soak.py --minutes 3      # a short run
    .venv/bin/python bench/soak.py --help

What it does, all on this machine:

1. Starts an embedded Neo4j of its own (fresh data dir under `.data/bench/`, a free Bolt
   port) and the API exactly as shipped (`creditlink serve`, its own process, INFO JSON
   logging, check records on) with the demo world seeded (`CREDITLINK_SEED=demo`).
2. Measures the maximum check throughput: closed loops of 4, 8, 16 and 32 concurrent
   keep-alive connections, about 20 s in all; the best rate is the maximum.
3. Runs an open loop at `--fraction` (0.7) of that maximum for `--minutes`: requests are
   scheduled at a fixed rate and each latency is measured from its scheduled start, so a
   stalled server shows as latency rather than as a slower client. Every answer must be
   HTTP 200 with a decision and no `errors`.
4. Samples the API process's resident memory (VmRSS) every 10 s from its start onwards.

It prints the figures and exits 1 when any request failed or RSS grew by 10% or more
from the start of the soak to its end (0 otherwise). The load generator is a minimal
HTTP/1.1 client on asyncio streams (far cheaper per request than httpx), in this process;
the server has its own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph_model.driver import open_graph  # noqa: E402
from graph_model.runtime.embedded import EmbeddedNeo4j  # noqa: E402
from seeds.admin_import import proc_memory_mb  # noqa: E402
from testkit.api import start_api_process  # noqa: E402
from testkit.keys import write_keys_file  # noqa: E402
from testkit.neo4j import Neo4jServer, fresh_neo4j  # noqa: E402

AREAS = (
    "ADMINISTRATIVE_APPROVAL",
    "CONVENIENCE_SERVICES",
    "PUBLIC_RESOURCE_TRANSACTIONS",
    "FINANCING_SERVICES",
    "SOCIAL_GOVERNANCE",
)
CHECK = (
    "query($id: ID!, $area: ApplicationArea!) { jointSanctionCheck(subjectId: $id, area: $area) "
    "{ checkId decision measures { role measure { id effect } sanction { id } "
    "path { from relation to } } } }"
)
KEYS = {"soak-approval": ("APPROVAL_SYSTEM", "wz-public-resources"), "soak-admin": ("ADMIN", None)}


def rss_mb(pid: int) -> float | None:
    return proc_memory_mb(pid, "VmRSS")


# -- the stack: embedded Neo4j + `creditlink serve` ------------------------------------------


@dataclass
class Stack:
    """Neo4j and the API, each a process of its own, on free ports."""

    data_dir: Path
    seed: str = "demo"
    heap_mb: int = 1024
    pagecache_mb: int = 256
    keep: bool = False
    key_specs: dict[str, tuple[str, str | None]] = field(default_factory=lambda: dict(KEYS))
    neo4j: EmbeddedNeo4j | None = None
    api: subprocess.Popen[bytes] | None = None
    url: str = ""
    keys: dict[str, str] = field(default_factory=dict)

    @contextlib.contextmanager
    def running(self) -> Iterator[Stack]:
        """Both started on a fresh data dir, stopped when the block ends; the data dir is
        removed then unless `keep`."""
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.data_dir.mkdir(parents=True)
        started = time.monotonic()
        try:
            with fresh_neo4j(
                self.data_dir / "neo4j",
                heap_mb=self.heap_mb,
                pagecache_mb=self.pagecache_mb,
                keep=True,  # the whole data dir goes below, or stays with --keep
            ) as neo4j:
                self.neo4j = neo4j
                print(f"neo4j: {neo4j.uri} up in {time.monotonic() - started:.1f} s", flush=True)
                self.keys = {name: f"{name}-{os.urandom(8).hex()}" for name in self.key_specs}
                keys_file = write_keys_file(
                    self.data_dir / "api-keys.toml",
                    {name: (*spec, self.keys[name]) for name, spec in self.key_specs.items()},
                )
                api = start_api_process(
                    Neo4jServer.of(neo4j),
                    keys_file=keys_file,
                    data_dir=self.data_dir,
                    log=self.data_dir / "api.log",
                    seed=self.seed,
                    # a native crash leaves its tracebacks in api.log
                    extra={"PYTHONFAULTHANDLER": "1"},
                    ready_timeout=600,
                )
                self.api, self.url = api.proc, api.url
                print(
                    f"api: {self.url} (pid {api.proc.pid}) ready in {time.monotonic() - started:.1f} s",
                    flush=True,
                )
                try:
                    yield self
                finally:
                    api.stop(timeout=30)
        finally:
            if not self.keep:
                shutil.rmtree(self.data_dir, ignore_errors=True)


async def subject_ids(neo4j: EmbeddedNeo4j) -> list[str]:
    """Every subject, with the sanctioned ones and their links over-weighted (checks that
    find something cost more than clear ones)."""
    async with open_graph(neo4j.uri, *neo4j.auth, "neo4j") as graph:
        every = [r["id"] for r in await graph.read("MATCH (s:Subject) RETURN s.id AS id")]
        reached = [
            r["id"]
            for r in await graph.read(
                "MATCH (x:Subject)<-[:AGAINST]-(:Sanction) OPTIONAL MATCH (x)-[]-(y:Subject) "
                "UNWIND [x.id, y.id] AS id WITH id WHERE id IS NOT NULL RETURN DISTINCT id"
            )
        ]
    return every + reached * 5


# -- a minimal HTTP/1.1 keep-alive client ------------------------------------------------------


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None or self.writer.is_closing():
            await self.open()
        assert self.writer is not None and self.reader is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        body = await self.reader.readexactly(length)
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def encode(host: str, port: int, key: str, subject: str, area: str) -> bytes:
    body = json.dumps({"query": CHECK, "variables": {"id": subject, "area": area}}).encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {key}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def good(status: int, body: bytes) -> bool:
    return status == 200 and b'"decision"' in body and b'"errors"' not in body


# -- the load ------------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_errors: list[str] = field(default_factory=list)

    def record(self, seconds: float, status: int, body: bytes) -> None:
        self.latencies.append(seconds)
        if not good(status, body):
            self.errors += 1
            if len(self.first_errors) < 5:
                self.first_errors.append(f"HTTP {status}: {body[:300]!r}")


async def closed_loop(
    host: str, port: int, raws: list[bytes], concurrency: int, seconds: float
) -> tuple[float, Tally]:
    tally = Tally()
    conns = [Connection(host, port) for _ in range(concurrency)]
    for conn in conns:
        await conn.open()
    stop_at = time.monotonic() + seconds

    async def client(conn: Connection) -> None:
        while time.monotonic() < stop_at:
            raw = random.choice(raws)
            started = time.monotonic()
            try:
                status, body = await conn.send(raw)
            except (OSError, asyncio.IncompleteReadError) as exc:
                status, body = 0, repr(exc).encode()
                await conn.open()
            tally.record(time.monotonic() - started, status, body)

    started = time.monotonic()
    await asyncio.gather(*(client(c) for c in conns))
    elapsed = time.monotonic() - started
    for conn in conns:
        conn.close()
    return len(tally.latencies) / elapsed, tally


@dataclass
class Minute:
    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)


async def open_loop(
    host: str,
    port: int,
    raws: list[bytes],
    rate: float,
    seconds: float,
    concurrency: int,
    api_pid: int,
    neo4j_pid: int | None,
) -> dict[str, Any]:
    """Requests scheduled every 1/rate s; latency counted from the scheduled moment."""
    queue: asyncio.Queue[float] = asyncio.Queue()
    tally = Tally()
    minutes: dict[int, Minute] = {}
    rss: list[tuple[float, float]] = []
    neo4j_rss: list[float] = []
    start = time.monotonic()
    end = start + seconds
    done = asyncio.Event()

    async def schedule() -> None:
        n = 0
        while True:
            due = start + n / rate
            if due >= end:
                break
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait(due)
            n += 1
        done.set()

    async def worker(conn: Connection) -> None:
        while True:
            due = await queue.get()
            try:
                status, body = await conn.send(random.choice(raws))
            except (OSError, asyncio.IncompleteReadError) as exc:
                status, body = 0, repr(exc).encode()
                await conn.open()
            latency = time.monotonic() - due
            tally.record(latency, status, body)
            minute = minutes.setdefault(int((due - start) // 60), Minute())
            minute.requests += 1
            minute.latencies.append(latency)
            minute.errors += 0 if good(status, body) else 1
            queue.task_done()

    async def sample() -> None:
        while not done.is_set():
            value = rss_mb(api_pid)
            if value is not None:
                rss.append((time.monotonic() - start, value))
            if neo4j_pid is not None and (other := rss_mb(neo4j_pid)) is not None:
                neo4j_rss.append(other)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 10)

    async def progress() -> None:
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 60)
            if not done.is_set():
                elapsed = time.monotonic() - start
                last = rss[-1][1] if rss else float("nan")
                print(
                    f"  {elapsed / 60:5.1f} min: {len(tally.latencies)} requests, {tally.errors} errors, "
                    f"queue {queue.qsize()}, api rss {last:.1f} MiB",
                    flush=True,
                )

    conns = [Connection(host, port) for _ in range(concurrency)]
    for conn in conns:
        await conn.open()
    workers = [asyncio.create_task(worker(c)) for c in conns]
    rss.append((0.0, rss_mb(api_pid) or float("nan")))
    await asyncio.gather(schedule(), sample(), progress())
    await queue.join()
    elapsed = time.monotonic() - start
    rss.append((elapsed, rss_mb(api_pid) or float("nan")))
    for task in workers:
        task.cancel()
    for conn in conns:
        conn.close()
    return {
        "tally": tally,
        "minutes": minutes,
        "rss": rss,
        "neo4j_rss": neo4j_rss,
        "elapsed": elapsed,
    }


def quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan"), "max": float("nan")}

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": ordered[-1] * 1000}


async def run(stack: Stack, args: argparse.Namespace) -> int:
    assert stack.api is not None and stack.neo4j is not None
    host, port = "127.0.0.1", int(stack.url.rsplit(":", 1)[1])
    ids = await subject_ids(stack.neo4j)
    rng = random.Random(args.seed)
    key = stack.keys["soak-approval"]
    raws = [encode(host, port, key, rng.choice(ids), rng.choice(AREAS)) for _ in range(2000)]
    print(f"sample: {len(set(ids))} subjects, {len(raws)} distinct check requests", flush=True)

    rss_at_start = rss_mb(stack.api.pid)
    await closed_loop(host, port, raws, 8, args.warmup)  # warm caches and plans
    print(f"\n== maximum check throughput (closed loop, {args.probe_seconds:.0f} s) ==", flush=True)
    steps = [int(c) for c in args.probe_concurrency.split(",")]
    best, best_at, probe_errors = 0.0, 0, 0
    for concurrency in steps:
        rate, tally = await closed_loop(
            host, port, raws, concurrency, args.probe_seconds / len(steps)
        )
        q = quantiles(tally.latencies)
        probe_errors += tally.errors
        print(
            f"  {concurrency:3d} clients: {rate:8.1f} checks/s  p50 {q['p50']:6.1f} ms  "
            f"p99 {q['p99']:6.1f} ms  errors {tally.errors}",
            flush=True,
        )
        if rate > best:
            best, best_at = rate, concurrency
    target = best * args.fraction
    print(
        f"  maximum {best:.1f} checks/s (at {best_at} clients); soak target {target:.1f}/s ({args.fraction:.0%})"
    )

    print(f"\n== soak: {args.minutes:g} min at {target:.1f} checks/s (open loop) ==", flush=True)
    result = await open_loop(
        host,
        port,
        raws,
        target,
        args.minutes * 60,
        args.concurrency,
        stack.api.pid,
        stack.neo4j.running_pid(),
    )
    tally: Tally = result["tally"]
    rss: list[tuple[float, float]] = result["rss"]
    q = quantiles(tally.latencies)
    achieved = len(tally.latencies) / result["elapsed"]
    start_rss, end_rss = rss[0][1], rss[-1][1]
    peak_rss = max(v for _, v in rss)
    growth = (end_rss - start_rss) / start_rss
    first_minute = [v for t, v in rss if t <= 60] or [start_rss]
    last_minute = [v for t, v in rss if t >= result["elapsed"] - 60] or [end_rss]
    trend = (statistics.mean(last_minute) - statistics.mean(first_minute)) / statistics.mean(
        first_minute
    )

    print("\n  minute  requests  errors   p50 ms   p99 ms")
    for minute, row in sorted(result["minutes"].items()):
        mq = quantiles(row.latencies)
        print(
            f"  {minute + 1:6d}  {row.requests:8d}  {row.errors:6d}  {mq['p50']:7.1f}  {mq['p99']:7.1f}"
        )
    neo4j_rss = result["neo4j_rss"]
    print(
        f"""
== figures ==
  maximum throughput        {best:.1f} checks/s (closed loop, {best_at} clients)
  soak target               {target:.1f} checks/s = {args.fraction:.0%} of the maximum, {args.concurrency} connections
  soak duration             {result["elapsed"] / 60:.2f} min
  requests                  {len(tally.latencies)} ({achieved:.1f}/s achieved)
  errors                    {tally.errors}{" " + "; ".join(tally.first_errors) if tally.errors else ""}
  latency (from schedule)   p50 {q["p50"]:.1f} ms, p95 {q["p95"]:.1f} ms, p99 {q["p99"]:.1f} ms, max {q["max"]:.1f} ms
  api rss                   at launch {rss_at_start:.1f} MiB; soak start {start_rss:.1f} MiB, end {end_rss:.1f} MiB, peak {peak_rss:.1f} MiB
  api rss growth            {growth:+.1%} start to end; {trend:+.1%} first minute's mean to last minute's (limit +10%)
  neo4j rss                 {min(neo4j_rss, default=float("nan")):.0f}..{max(neo4j_rss, default=float("nan")):.0f} MiB
  probe errors              {probe_errors}"""
    )
    failed = tally.errors > 0 or probe_errors > 0 or growth >= 0.10
    print(f"\nresult: {'FAIL' if failed else 'PASS'}", flush=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=30.0, help="soak length (default 30)")
    parser.add_argument("--fraction", type=float, default=0.7, help="share of the maximum (0.7)")
    parser.add_argument(
        "--probe-seconds", type=float, default=20.0, help="max-throughput probe (20)"
    )
    parser.add_argument("--probe-concurrency", default="4,8,16,32", help="closed-loop steps")
    parser.add_argument("--concurrency", type=int, default=32, help="connections in the soak (32)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of warm-up (5)")
    parser.add_argument("--seed", type=int, default=7, help="sample seed")
    parser.add_argument("--keep", action="store_true", help="keep the data dir afterwards")
    parser.add_argument(
        "--data-dir", type=Path, default=ROOT / ".data" / "bench" / f"soak-{os.getpid()}"
    )
    args = parser.parse_args(argv)
    stack = Stack(args.data_dir, keep=args.keep)
    with stack.running():
        return asyncio.run(run(stack, args))


if __name__ == "__main__":
    raise SystemExit(main())
