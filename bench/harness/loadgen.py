"""The load generator, run in its own process so it never shares a GIL with the server.

    python -m bench.harness.loadgen SPEC.json   -> prints one JSON object on stdout

SPEC: {"url", "bodies": [request bodies as latin-1 strings], "mode": "closed"|"open",
"concurrency", "duration", "rate" (open only), "warmup", "samples" (open only)}.

closed: `concurrency` connections each send the next request as soon as the last one
answered, for `duration` seconds; the achieved rate is the saturation throughput at
that concurrency. open: requests are *scheduled* at a fixed rate and each latency is
measured from its scheduled start (so a stalled server is not hidden by the client
waiting: no coordinated omission); a pool of `concurrency` connections serves them.
With "samples", the result also holds every request's (scheduled offset s, latency ms),
for `bench.harness.tail`. Both modes report the whole box's CPU over their window.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from bench.harness import tail
from bench.harness.httpclient import Connection, host_port, ok
from bench.harness.stats import summary


def _figures(
    latencies: list[float],
    errors: int,
    first_error: list[str],
    elapsed: float,
    box: dict[str, float],
) -> dict[str, Any]:
    """What a run of either loop measured: requests, errors, rate, latency, the box's CPU."""
    return {
        "requests": len(latencies),
        "errors": errors,
        "first_error": first_error[0] if first_error else None,
        "elapsed_s": elapsed,
        "rate_per_s": len(latencies) / elapsed,
        "latency_ms": summary([x * 1000 for x in latencies]),
        "box_cpu": box,
    }


async def _closed(spec: dict[str, Any], raws: list[bytes]) -> dict[str, Any]:
    host, port = host_port(spec["url"])
    concurrency = int(spec["concurrency"])
    duration = float(spec["duration"])
    latencies: list[float] = []
    errors = 0
    first_error: list[str] = []
    counter = 0
    conns = [Connection(host, port) for _ in range(concurrency)]
    for c in conns:
        await c.open()

    async def warm(conn: Connection, n: int) -> None:
        nonlocal counter
        for _ in range(n):
            counter += 1
            await conn.request(raws[counter % len(raws)])

    warmup = int(spec.get("warmup", 0))
    if warmup:
        await asyncio.gather(*(warm(c, max(1, warmup // concurrency)) for c in conns))
    deadline = time.perf_counter() + duration

    async def worker(conn: Connection) -> None:
        nonlocal counter, errors
        while True:
            counter += 1
            raw = raws[counter % len(raws)]
            t0 = time.perf_counter()
            if t0 >= deadline:
                return
            status, body = await conn.request(raw)
            latencies.append(time.perf_counter() - t0)
            if not ok(status, body):
                errors += 1
                first_error.append(body[:500].decode(errors="replace"))

    box_before = tail.box_cpu()
    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    elapsed = time.perf_counter() - started
    box = tail.box_share(box_before, tail.box_cpu())
    for c in conns:
        await c.close()
    return {
        "mode": "closed",
        "concurrency": concurrency,
        **_figures(latencies, errors, first_error, elapsed, box),
    }


async def _open(spec: dict[str, Any], raws: list[bytes]) -> dict[str, Any]:
    host, port = host_port(spec["url"])
    concurrency = int(spec["concurrency"])
    duration = float(spec["duration"])
    rate = float(spec["rate"])
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(concurrency):
        conn = Connection(host, port)
        await conn.open()
        pool.put_nowait(conn)
    latencies: list[float] = []
    offsets: list[float] = []
    errors = 0
    first_error: list[str] = []
    total = int(duration * rate)
    tasks: list[asyncio.Task[None]] = []

    async def one(raw: bytes, scheduled: float) -> None:
        nonlocal errors
        conn = await pool.get()
        try:
            status, body = await conn.request(raw)
        finally:
            pool.put_nowait(conn)
        latencies.append(time.perf_counter() - scheduled)
        offsets.append(scheduled - started)
        if not ok(status, body):
            errors += 1
            first_error.append(body[:500].decode(errors="replace"))

    box_before = tail.box_cpu()
    started = time.perf_counter()
    for i in range(total):
        scheduled = started + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(raws[i % len(raws)], scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    box = tail.box_share(box_before, tail.box_cpu())
    while not pool.empty():
        await pool.get_nowait().close()
    result = {
        "mode": "open",
        "target_rate_per_s": rate,
        "concurrency": concurrency,
        **_figures(latencies, errors, first_error, elapsed, box),
    }
    if spec.get("samples"):
        result["samples"] = [
            [round(at, 4), round(x * 1000, 3)] for at, x in zip(offsets, latencies, strict=True)
        ]
    return result


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    raws = [b.encode("latin-1") for b in spec["bodies"]]
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        pass
    run = _closed if spec["mode"] == "closed" else _open
    cpu0 = time.process_time()
    result = asyncio.run(run(spec, raws))
    result["client_cpu_s"] = time.process_time() - cpu0
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
