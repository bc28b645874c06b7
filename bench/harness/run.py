"""`python -m bench --scale N`: every figure of the benchmark, side by side, in one run.

    python -m bench --scale 100000 [--data-dir D] [--keep] [--loader unwind|admin]

See bench/README.md for what each figure means and how to read the table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import cpu, machine, pauses, tail, world
from bench.harness.httpclient import graphql_request
from bench.harness.stats import summary
from graph_model.driver import Graph, create_driver
from seeds.spec import DEFAULT_SEED
from testkit import free_port
from testkit.api import ApiProcess, start_api_process, wait_ready
from testkit.keys import write_keys_file
from testkit.neo4j import Neo4jServer
from testkit.queries import BATCH_GQL, CHECK_GQL, PEER_GQL

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
PEER = ROOT / "bench" / "peer"
AREA = "CONVENIENCE_SERVICES"  # the most roles (10 branches, up to 3 hops)
KEY = "bench-approval-key"

REL_KEYS = (
    "LEGAL_REPRESENTATIVE_OF", "SHAREHOLDER_OF", "EXECUTIVE_OF", "OPERATOR_OF", "MEMBER_OF",
    "BRANCH_OF", "ACTUAL_CONTROLLER_OF",
)  # fmt: skip
TARGETS = {
    "floor_ratio": 1.3,
    # for the city, with the durable trail and the shipped workers (2 on this box)
    "saturation_per_s": 1300,
    "open_loop_rate_per_s": 500,
    "half_load_p99_ms": 15,
    "batch_subjects_per_s": 30_000,
    "scale_p50_ratio": 1.5,
    "peer_ratio": 2.0,
}
CITY_SCALE = 9_470_000
# the targets that are stated for the city's scale; at another scale they are indicative
CITY_TARGETS = frozenset({"saturation_per_s", "half_load_p99_ms", "batch_subjects_per_s"})


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ processes


@dataclass
class Server:
    """An API or the peer, a process (and its workers) of its own: `url` is its GraphQL
    endpoint, `workers` the processes that serve requests, `env` the settings it was
    started with beyond the harness's own."""

    name: str
    process: ApiProcess
    workers: int = 1
    env: dict[str, str] | None = None
    rss_mb: float | None = None

    @property
    def url(self) -> str:
        return f"{self.process.url}/graphql"

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        return self.process.proc

    @property
    def log_path(self) -> Path:
        assert self.process.log is not None
        return self.process.log

    def stop(self) -> None:
        """SIGTERM, as an operator stops it; then SIGKILL to whatever of its tree outlived
        it (workers left behind by a supervisor that had to be killed)."""
        started = [(s.pid, s.started) for s in cpu.tree(self.proc.pid, tracker=True)]
        self.process.stop()
        for pid, at in started:
            now = cpu.read_stat(pid)
            if now is not None and now.started == at:  # the same process, not a reused pid
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def scrape_metrics(server: Server) -> str:
    import httpx

    return httpx.get(f"{server.process.url}/metrics", timeout=10).text


# one sample per process; labelled with its pid when the API runs several workers
_PENDING = re.compile(r"^creditlink_check_records_pending(?:\{[^}]*\})? ([0-9.e+-]+)$", re.M)
_WORKER_STARTED = re.compile(r"^creditlink_worker_started_seconds(?:\{[^}]*\})? ", re.M)
# with several workers each sets its gauges once a second (api.metrics.REFRESH_S), and a
# scrape refreshes only the worker answering it: a zero is believed once it has held longer
WORKER_GAUGE_SETTLE_S = 1.5


def pending_records(metrics_text: str) -> int:
    """Check records not yet written to Neo4j, over every worker of a /metrics page."""
    return sum(int(float(x)) for x in _PENDING.findall(metrics_text))


def live_workers(metrics_text: str) -> int:
    """The API processes a /metrics page has a live sample of."""
    return len(_WORKER_STARTED.findall(metrics_text))


def drain_records(server: Server, timeout: float = 60.0) -> tuple[int, float]:
    """Checks whose records were still unwritten when a step ended, and the seconds the
    API took to write them: a rate that left a backlog did not pay for its writes."""
    settle = WORKER_GAUGE_SETTLE_S if server.workers > 1 else 0.0
    started = time.monotonic()
    first: int | None = None
    zero_since: float | None = None
    while True:
        pending = pending_records(scrape_metrics(server))
        now = time.monotonic()
        first = pending if first is None else first
        if pending:
            zero_since = None
        elif zero_since is None:
            zero_since = now
        if zero_since is not None and now - zero_since >= settle:
            return first, round(zero_since - started, 2)
        if now - started > timeout:
            return first, round(now - started, 2)
        time.sleep(0.05)


def shipped_workers() -> int:
    """`CREDITLINK_WORKERS` unset: the CPU count (api.settings)."""
    return os.cpu_count() or 1


def _wait_workers(server: Server, timeout: float = 180.0) -> None:
    """Return once every worker has finished starting (each logs its warmed query plans
    just before it turns ready) and /metrics shows as many live workers as expected."""
    deadline = time.monotonic() + timeout
    while True:
        warmed = server.log_path.read_text(errors="replace").count("query plans warmed")
        if warmed >= server.workers:
            break
        if server.proc.poll() is not None or time.monotonic() > deadline:
            tail_text = server.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(
                f"API {server.name}: {warmed} of {server.workers} workers started:\n{tail_text}"
            )
        time.sleep(0.2)
    while True:
        # a worker's gauges reach the metrics files within a refresh of its start
        live = live_workers(scrape_metrics(server))
        if live == server.workers:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"API {server.name}: /metrics shows {live} live workers, not {server.workers}"
            )
        time.sleep(0.2)


def start_api(
    name: str,
    uri: str,
    data_dir: Path,
    keys: Path,
    logs: Path,
    *,
    auth: tuple[str, str],
    **env: str,
) -> Server:
    """`creditlink serve` (through `bench.harness.serve`) against Neo4j at `uri`, returned
    once every one of its workers is ready.

    `auth`: (user, password) of that Neo4j. `env`: CREDITLINK_* settings, and
    `no_rust="1"` or `patches="a,b"` for the variants. Without CREDITLINK_WORKERS the API
    runs one worker (testkit's default); `CREDITLINK_WORKERS=""` reads as unset, which is
    the shipped default, the CPU count."""
    command = ["-m", "bench.harness.serve"]
    if env.get("no_rust") == "1":
        command.append("--no-rust")
    if env.get("patches"):
        command.append(f"--patches={env['patches']}")
    settings = {k: v for k, v in env.items() if k.startswith("CREDITLINK_")}
    workers = settings.get("CREDITLINK_WORKERS", "1").strip()
    process = start_api_process(
        Neo4jServer(uri, "neo4j", None, *auth),
        keys_file=keys,
        data_dir=data_dir,
        log=logs / f"api-{name}.log",
        extra=settings,
        command=command,
        ready_timeout=180,
    )
    server = Server(
        name, process, workers=int(workers) if workers else shipped_workers(), env=dict(env)
    )
    try:
        _wait_workers(server)
    except BaseException:
        server.stop()
        raise
    server.rss_mb = cpu.rss_mb(server.proc.pid)
    return server


def start_peer(store: world.Store, logs: Path) -> Server:
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        raise RuntimeError("node/npm (Node.js 20+) is needed for the peer")
    if not (PEER / "node_modules" / "@neo4j" / "graphql").is_dir():
        log("installing the peer (npm ci in bench/peer)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PEER, check=True)
    port = free_port()
    log_path = logs / "peer.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [node, "server.mjs"],
            cwd=PEER,
            env={
                **os.environ,
                "NEO4J_URI": store.uri,
                "NEO4J_USER": store.auth[0],
                "NEO4J_PASSWORD": store.auth[1],
                "PORT": str(port),
            },
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = Server("peer", ApiProcess(f"http://127.0.0.1:{port}", proc, log_path))
    try:
        # Apollo may refuse a plain GET 400 (its CSRF guard): it is up either way
        wait_ready(
            f"{server.url}?query=%7B__typename%7D",
            timeout=180,
            accept=frozenset({200, 400}),
            process=proc,
            log=log_path,
            interval=0.3,
        )
    except BaseException:
        server.stop()
        raise
    return server


def _python_module(module: str, spec: dict[str, Any], *extra: str) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
        path = f.name
    try:
        out = subprocess.run(
            [sys.executable, "-m", module, path, *extra],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.unlink(path)
    if out.returncode != 0:
        raise RuntimeError(f"{module} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def loadgen(
    url: str,
    bodies: list[bytes],
    pids: dict[str, int] | None = None,
    *,
    workers: int = 1,
    **spec: Any,
) -> dict[str, Any]:
    """Run the load generator process; with `pids`, also the CPU each server (its whole
    process tree) spent per request (warm-up requests included in both counts) and, for
    the "api", the cores each of its processes kept busy. `workers`: the API's worker
    processes, for the idle-box estimate."""
    api = (pids or {}).get("api")
    split_before = cpu.tree_seconds(api) if api else {}
    clock = time.monotonic()
    before = cpu.snapshot(pids or {})
    result = _python_module(
        "bench.harness.loadgen",
        {"url": url, "bodies": [b.decode("latin-1") for b in bodies], **spec},
    )
    after = cpu.snapshot(pids or {})
    if api:
        result["api_cores_by_process"] = cpu.cores_by_process(
            split_before, cpu.tree_seconds(api), time.monotonic() - clock
        )
    if result["errors"] > 0.01 * max(1, result["requests"]):
        raise RuntimeError(
            f"{url}: {result['errors']} of {result['requests']} requests failed; "
            f"first: {result['first_error']}"
        )
    total = result["requests"] + int(spec.get("warmup", 0))
    per = cpu.per_request_ms(before, after, total)
    per["client"] = round(result["client_cpu_s"] * 1000 / max(1, total), 3)
    result["cpu_ms_per_request"] = per
    result["workers"] = workers
    result["idle_box_estimate_per_s"] = idle_estimate(per, workers)
    return result


def idle_estimate(per: dict[str, float | None], workers: int = 1) -> float | None:
    """Requests/s this box could serve if nothing else ran on it: each Python (or Node)
    process uses at most one core, so the API at most `workers` of them; it and Neo4j
    share all cores. Clients not counted (in production they are elsewhere)."""
    server = per.get("api") or per.get("peer")
    neo = per.get("neo4j")
    if not server or neo is None:
        return None
    cores = os.cpu_count() or 1
    return round(min(min(workers, cores) * 1000 / server, cores * 1000 / (server + neo)), 1)


# ------------------------------------------------------------------------------ samples


SAMPLE_RANDOM = (
    "MATCH (s:Subject) WITH s, rand() AS r ORDER BY r LIMIT $n "
    "RETURN s.id AS id, s.kind AS kind, COUNT { (s)--() } AS degree"
)
SAMPLE_SANCTIONED = (
    "MATCH (x:Sanction)-[:AGAINST]->(u:Subject) WITH DISTINCT u LIMIT $n "
    "OPTIONAL MATCH (p:Person)-[:LEGAL_REPRESENTATIVE_OF]->(u) "
    "RETURN u.id AS unit, u.kind AS kind, COUNT { (u)--() } AS degree, "
    "collect(p.id)[0] AS rep, COUNT { (p)--() } AS repDegree"
)
SAMPLE_UNITS_WITH_REP = (
    "MATCH (p:Person)-[:LEGAL_REPRESENTATIVE_OF]->(u:Subject) WITH DISTINCT u, rand() AS r "
    "ORDER BY r LIMIT $n RETURN u.id AS id"
)


async def _read(store: world.Store, query: str, **params: Any) -> list[dict[str, Any]]:
    driver = create_driver(store.uri, *store.auth)
    try:
        return await Graph(driver, "neo4j").read(query, params, name="bench")
    finally:
        await driver.close()


@dataclass
class Samples:
    check: list[dict[str, Any]]  # {id, kind, degree, group}
    batch_pool: list[str]
    peer_units: list[str]


def take_samples(store: world.Store, seed: int) -> Samples:
    rng = random.Random(seed)
    rand = asyncio.run(_read(store, SAMPLE_RANDOM, n=5000))
    sanctioned = asyncio.run(_read(store, SAMPLE_SANCTIONED, n=200))
    units = asyncio.run(_read(store, SAMPLE_UNITS_WITH_REP, n=400))
    check: list[dict[str, Any]] = [
        {"id": r["id"], "kind": r["kind"], "degree": r["degree"], "group": "random"}
        for r in rand[:120]
    ]
    hits = rng.sample(sanctioned, min(40, len(sanctioned)))
    check += [
        {"id": r["unit"], "kind": r["kind"], "degree": r["degree"], "group": "sanctioned"}
        for r in hits
    ]
    check += [
        {"id": r["rep"], "kind": "PERSON", "degree": r["repDegree"], "group": "rep-of-sanctioned"}
        for r in hits
        if r["rep"]
    ]
    seen: set[str] = set()
    unique = [c for c in check if not (c["id"] in seen or seen.add(c["id"]))]  # type: ignore[func-returns-value]
    rng.shuffle(unique)
    # the peer's nested read starts at a unit with a legal representative; half of them
    # sanctioned units' neighbours so that the sanctions level is not always empty
    peer_units = [r["id"] for r in units[:200]]
    peer_units += [r["unit"] for r in sanctioned if r["kind"] != "PERSON"][:100]
    return Samples(unique, [r["id"] for r in rand], peer_units)


def check_bodies(url: str, ids: list[str]) -> list[bytes]:
    return [graphql_request(url, CHECK_GQL, {"id": i, "area": AREA}, KEY) for i in ids]


# ------------------------------------------------------------------------------ measures


def _merge(into: dict[str, Any] | None, raw: dict[str, Any]) -> dict[str, Any]:
    if into is None:
        return raw
    into["driver_ms"] += raw["driver_ms"]
    into["driver_managed_ms"] += raw["driver_managed_ms"]
    into["transport_ms"] += raw.get("transport_ms", [])
    for name, values in raw["http_ms"].items():
        into["http_ms"][name] += values
    for sid, timings in raw["per_id"].items():
        into["per_id"][sid] += timings
    into["http_errors"] += raw["http_errors"]
    into["first_error"] = into["first_error"] or raw["first_error"]
    return into


def measure_floors(
    store: world.Store,
    with_rust: dict[str, Server],
    without_rust: dict[str, Server],
    ids: list[str],
    rounds: int,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Floor runs with and without the rust ext in the client, alternated round by round;
    each run also times the check over HTTP against its group of API servers."""
    merged: list[dict[str, Any] | None] = [None, None]
    for _ in range(rounds):
        for n, (group, extra) in enumerate(((with_rust, []), (without_rust, ["--no-rust"]))):
            spec = {
                "uri": store.uri,
                "auth": list(store.auth),
                "area": AREA,
                "ids": ids,
                "rounds": 1,
                "key": KEY,
                "urls": {name: s.url for name, s in group.items()},
            }
            raw = _python_module("bench.harness.floor", spec, *extra)
            if raw["http_errors"]:
                raise RuntimeError(f"{raw['http_errors']} checks failed: {raw['first_error']}")
            merged[n] = _merge(merged[n], raw)
    a, b = merged
    assert a is not None and b is not None
    return a, b


def floor_summary(raw: dict[str, Any], name: str) -> dict[str, Any]:
    d, h = raw["driver_ms"], raw["http_ms"][name]
    return {
        "rust_ext_in_client": raw["rust_ext"],
        "driver_ms": summary(d),
        "driver_managed_ms": summary(raw["driver_managed_ms"]),
        "http_ms": summary(h),
        "ratio_p50": round(statistics.median(h) / statistics.median(d), 3),
        "ratio_p99": round(summary(h)["p99"] / summary(d)["p99"], 3),
        # the ratio per id, then its median: robust to a neighbour's burst hitting one side
        "paired_ratio_p50": round(
            statistics.median(x / y for x, y in zip(h, d, strict=True) if y > 0), 3
        ),
    }


def by_degree(raw: dict[str, Any], samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    buckets = [(0, 2), (3, 5), (6, 10), (11, 10**9)]
    rows = []
    for lo, hi in buckets:
        chosen = [s for s in samples if lo <= s["degree"] <= hi]
        d = [t[0] for s in chosen for t in raw["per_id"].get(s["id"], [])]
        h = [t[1] for s in chosen for t in raw["per_id"].get(s["id"], [])]
        if d:
            rows.append(
                {
                    "degree": f"{lo}-{hi}" if hi < 10**9 else f">={lo}",
                    "ids": len(chosen),
                    "driver_p50_ms": summary(d)["p50"],
                    "http_p50_ms": summary(h)["p50"],
                    "ratio_p50": round(statistics.median(h) / statistics.median(d), 3),
                }
            )
    return rows


# A Neo4j just started runs its first tens of thousands of queries before its JIT has
# compiled the hot paths: on the 100k store, 8 s bursts of checks right after a start cost
# Neo4j 4.6, 2.7, 2.7, 2.1, 1.2, 0.76, 0.59, 0.57 ms per check, level from the ~60th second.
# Each API is warmed for 20 s, so the first of them warms Neo4j for a full minute.
WARM_UP_SECONDS = 20.0


def warm_up(servers: list[Server], ids: list[str], seconds: float) -> None:
    """Untimed closed-loop checks on every API, so every figure is of a warm system."""
    log(f"warm-up: {seconds:g} s of checks on each of {len(servers)} APIs, not recorded")
    for server in servers:
        loadgen(server.url, check_bodies(server.url, ids), mode="closed", concurrency=16,
                duration=seconds, warmup=0)  # fmt: skip


Variant = tuple[str, Server, list[bytes], dict[str, int]]


def sweep(
    variants: list[Variant], levels: list[int], duration: float
) -> dict[str, list[dict[str, Any]]]:
    """The closed loop at each number of clients, every variant at each level in turn
    (the order reversed level by level, so neither always runs first)."""
    out: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in variants}
    for n, c in enumerate(levels):
        for name, server, bodies, pids in variants if n % 2 == 0 else variants[::-1]:
            r = loadgen(
                server.url, bodies, pids, workers=server.workers, mode="closed", concurrency=c,
                duration=duration, warmup=50,
            )  # fmt: skip
            log(
                f"  {name}, {c:>3} clients: {r['rate_per_s']:,.0f}/s, "
                f"p50 {r['latency_ms']['p50']} ms, p99 {r['latency_ms']['p99']} ms; "
                f"CPU ms/request {r['cpu_ms_per_request']}; "
                f"API cores by process {r.get('api_cores_by_process')}"
            )
            out[name].append(r)
    return out


def best(results: list[dict[str, Any]]) -> dict[str, Any]:
    return max(results, key=lambda r: r["rate_per_s"])


def interleaved(
    variants: list[Variant],
    concurrency: int,
    rounds: int,
    duration: float,
    *,
    alternate: bool = False,
) -> dict[str, dict[str, Any]]:
    """Closed-loop bursts of each variant in turn, `rounds` times: A/B/C/A/B/C…, so a
    neighbour's burst of load falls on all of them alike (with `alternate`, every other
    round in reverse: A/B/B/A…, so a drift of the box favours neither). Medians per
    variant, and the whole box's CPU per request (kernel threads included)."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in variants}
    for n in range(rounds):
        order = variants[::-1] if alternate and n % 2 else variants
        for name, server, bodies, pids in order:
            runs[name].append(
                loadgen(
                    server.url, bodies, pids, workers=server.workers, mode="closed",
                    concurrency=concurrency, duration=duration, warmup=20,
                )
            )  # fmt: skip
    workers = {name: server.workers for name, server, *_ in variants}
    out: dict[str, dict[str, Any]] = {}
    for name, rs in runs.items():
        cpu_keys = rs[0]["cpu_ms_per_request"].keys()
        cpu_ms = {
            k: round(statistics.median(r["cpu_ms_per_request"][k] or 0.0 for r in rs), 3)
            for k in cpu_keys
        }
        out[name] = {
            "concurrency": concurrency,
            "workers": workers[name],
            "rates_per_s": [round(r["rate_per_s"], 1) for r in rs],
            "rate_per_s": round(statistics.median(r["rate_per_s"] for r in rs), 1),
            "p50_ms": round(statistics.median(r["latency_ms"]["p50"] for r in rs), 3),
            "p99_ms": round(statistics.median(r["latency_ms"]["p99"] for r in rs), 3),
            "cpu_ms_per_request": cpu_ms,
            # all cores' busy time over the burst per request: everything the API and
            # Neo4j cost, the disk flushes the kernel does for them included, but also the
            # client's share and whatever else ran on the box
            "box_cpu_ms_per_request": round(
                statistics.median(
                    r["box_cpu"]["busy_core_s"] * 1000 / max(1, r["requests"]) for r in rs
                ),
                3,
            ),
            "api_cores_by_process": [r.get("api_cores_by_process") for r in rs],
            "idle_box_estimate_per_s": idle_estimate(dict(cpu_ms), workers[name]),
        }
        log(
            f"  {name}: {out[name]['rate_per_s']:,.0f}/s (runs {out[name]['rates_per_s']}), "
            f"CPU ms/request {cpu_ms}, idle-box estimate {out[name]['idle_box_estimate_per_s']}/s"
        )
    return out


# The durable trail's cost is a fraction of a millisecond per check: more bursts than the
# variants' three, alternated, so that its median stands clear of the box's drift.
DURABLE_ROUNDS = 4
IDLE_SECONDS = 5.0


def _env_text(env: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" if v else f"{k} unset" for k, v in env.items())


def background(
    servers: list[Server], neo_pid: int, seconds: float = IDLE_SECONDS
) -> dict[str, float | None]:
    """CPU ms per second each server and Neo4j spend with no request at all: every API
    process reads the event log (CREDITLINK_EVENT_POLL_MS) and refreshes its metrics
    whatever the traffic. Neo4j's share of it is inside every step's Neo4j CPU."""
    named = {s.name: s.proc.pid for s in servers} | {"neo4j": neo_pid}
    started = time.monotonic()
    before = cpu.snapshot(named)
    time.sleep(seconds)  # the window measured, not a wait for something
    after = cpu.snapshot(named)
    elapsed = time.monotonic() - started
    out: dict[str, float | None] = {}
    for name, b in before.items():
        a = after.get(name)
        out[name] = None if a is None or b is None else round((a - b) * 1000 / elapsed, 1)
    return out


def workers_summary(
    sweeps: dict[str, list[dict[str, Any]]],
    floor_default: dict[str, Any],
    floor_single: dict[str, Any],
    default: Server,
    single: Server,
) -> dict[str, Any]:
    """1 worker against the shipped workers: each API's best point of the interleaved
    sweep, and its check one request at a time."""
    out: dict[str, Any] = {}
    for name, server, floor in (
        ("default", default, floor_default),
        ("1-worker", single, floor_single),
    ):
        top = best(sweeps[name])
        out[name] = {
            "workers": server.workers,
            "concurrency": top["concurrency"],
            "rate_per_s": round(top["rate_per_s"], 1),
            "latency_ms": top["latency_ms"],
            "cpu_ms_per_request": top["cpu_ms_per_request"],
            "api_cores_by_process": top.get("api_cores_by_process"),
            "idle_box_estimate_per_s": top["idle_box_estimate_per_s"],
            "one_at_a_time_http_ms": floor["http_ms"],
        }
    # the default API's sweep is the throughput step's
    out["1-worker"]["sweep"] = sweeps["1-worker"]
    out["rate_ratio"] = round(out["default"]["rate_per_s"] / out["1-worker"]["rate_per_s"], 3)
    return out


def durable_summary(
    bursts: dict[str, dict[str, Any]], windows: dict[str, dict[str, dict[str, Any]]]
) -> dict[str, Any]:
    """The journal's cost: CPU per check with it and without it at saturation (the
    alternated bursts), and latency in the open-loop windows of both."""
    on, off = bursts["default"], bursts["no-journal"]

    def added(key: str) -> float | None:
        a, b = on["cpu_ms_per_request"].get(key), off["cpu_ms_per_request"].get(key)
        return None if a is None or b is None else round(a - b, 3)

    def window_cpu(step: dict[str, Any], key: str) -> float | None:
        found = [w["cpu_ms_per_request"].get(key) for w in step["per_window"]]
        values = [x for x in found if x is not None]
        return round(statistics.median(values), 3) if values else None

    open_loop = {
        rate_name: {
            name: {
                "target_rate_per_s": by_variant[variant]["target_rate_per_s"],
                "latency_ms": by_variant[variant]["latency_ms"],
                "tail": by_variant[variant]["tail"],
                "api_cpu_ms": window_cpu(by_variant[variant], "api"),
                "neo4j_cpu_ms": window_cpu(by_variant[variant], "neo4j"),
            }
            for name, variant in (("journal", "default"), ("no_journal", "no-journal"))
        }
        for rate_name, by_variant in windows.items()
        if "no-journal" in by_variant
    }
    return {
        "bursts": bursts,
        "api_ms_added": added("api"),
        "neo4j_ms_added": added("neo4j"),
        "box_ms_added": round(on["box_cpu_ms_per_request"] - off["box_cpu_ms_per_request"], 3),
        "open_loop": open_loop,
    }


# Each (rate, variant) of the half-load step gets this many open-loop windows, the
# windows of all of them interleaved: a spell of a slow box (one stopped this API for
# 1.5 s in a hand run) falls on one window of one variant, not on a whole figure.
HALF_LOAD_WINDOWS = 2


def half_load(
    variants: list[Variant],
    rates: dict[str, float],
    windows: int,
    duration: float,
    gc_log: Path,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Open-loop windows of every variant at every rate, interleaved window by window.

    Per rate and variant: the latencies of its windows pooled (the figure), and per
    window its tail (`tail.episodes` over the target), the box's busy share, the CPU
    per request of the API and Neo4j, and the pauses of both inside it."""
    threshold = float(TARGETS["half_load_p99_ms"])
    runs: dict[tuple[str, str], list[tuple[dict[str, Any], list[tuple[float, float]]]]] = {}
    for _ in range(windows):
        for rate_name, rate in rates.items():
            for name, server, bodies, pids in variants:
                metrics_before, started = scrape_metrics(server), time.time()
                r = loadgen(
                    server.url, bodies, pids, workers=server.workers, mode="open", rate=rate,
                    concurrency=64, duration=duration, samples=True,
                )  # fmt: skip
                r["neo4j_gc"] = pauses.summary(gc_log, started, time.time())
                r["api_gc"] = pauses.python_gc_summary(metrics_before, scrape_metrics(server))
                samples = [(at, ms) for at, ms in r.pop("samples")]
                r["tail"] = tail.episodes(samples, threshold)
                runs.setdefault((rate_name, name), []).append((r, samples))
                log(
                    f"  {name} at {rate:,.0f}/s: p50 {r['latency_ms']['p50']} ms, "
                    f"p99 {r['latency_ms']['p99']} ms, max {r['latency_ms']['max']} ms; "
                    f"{r['tail']['over']} over {threshold:g} ms in {r['tail']['episodes']} "
                    f"episodes; box busy {r['box_cpu']['busy_share']:.0%}; "
                    f"CPU ms/request {r['cpu_ms_per_request']}; Neo4j GC {r['neo4j_gc']}; "
                    f"API GC {r['api_gc']}"
                )
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for (rate_name, name), pairs in runs.items():
        results = [r for r, _ in pairs]
        pooled = [sample for _, samples in pairs for sample in samples]
        out.setdefault(rate_name, {})[name] = {
            "mode": "open",
            "target_rate_per_s": rates[rate_name],
            "windows": len(results),
            "duration_s": duration,
            "requests": len(pooled),
            "latency_ms": summary([ms for _, ms in pooled]),
            "tail": {
                "over": sum(r["tail"]["over"] for r in results),
                "episodes": sum(r["tail"]["episodes"] for r in results),
            },
            "neo4j_gc": _sum_pauses([r["neo4j_gc"] for r in results]),
            "api_gc": _sum_api_gc([r["api_gc"] for r in results]),
            "per_window": [
                {
                    "rate_per_s": round(r["rate_per_s"], 1),
                    "latency_ms": r["latency_ms"],
                    "tail": r["tail"],
                    "box_cpu": r["box_cpu"],
                    "cpu_ms_per_request": r["cpu_ms_per_request"],
                    "neo4j_gc": r["neo4j_gc"],
                    "api_gc": r["api_gc"],
                }
                for r in results
            ],
        }
    return out


def _sum_pauses(windows: list[dict[str, Any]]) -> dict[str, Any]:
    longest = max(windows, key=lambda w: w["max_ms"])
    return {
        "pauses": sum(w["pauses"] for w in windows),
        "total_ms": round(sum(w["total_ms"] for w in windows), 1),
        "max_ms": longest["max_ms"],
        "max_kind": longest["max_kind"],
    }


def _sum_api_gc(windows: list[dict[str, Any]]) -> dict[str, Any]:
    bounds = [w["max_under_ms"] for w in windows]
    return {
        "pauses": sum(w["pauses"] for w in windows),
        "over_10ms": sum(w["over_10ms"] for w in windows),
        "max_under_ms": None if None in bounds else max(bounds),
    }


# ------------------------------------------------------------------------------ report


def _previous(scale: int) -> tuple[Path, dict[str, Any]] | None:
    """The latest result of another scale (100k for a larger run; the largest for 100k)."""
    found: list[tuple[int, str, Path]] = []
    for path in RESULTS.glob("*.json"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        other = data.get("scale")
        if isinstance(other, int) and other != scale and data.get("floor"):
            found.append((other, data.get("started_at", ""), path))
    if not found:
        return None
    if scale != 100_000 and any(s == 100_000 for s, _, _ in found):
        candidates = [f for f in found if f[0] == 100_000]
    else:
        candidates = found
    _, _, path = max(candidates, key=lambda f: (f[0], f[1]))
    return path, json.loads(path.read_text())


def _fmt(x: Any, digits: int = 2) -> str:
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def _pauses(step: dict[str, Any]) -> str:
    """The stop-the-world pauses inside a step, for its table row (absent in old results)."""
    jvm, api = step.get("neo4j_gc"), step.get("api_gc")
    if jvm is None or api is None:
        return "pauses not recorded"
    bound = api["max_under_ms"]
    return (
        f"Neo4j GC {jvm['pauses']} pauses, longest {jvm['max_ms']} ms; "
        f"API GC {api['pauses']}, {api['over_10ms']} over 10 ms, "
        f"longest ≤ {'?' if bound is None else bound} ms"
    )


def _database(neo: dict[str, Any]) -> str:
    return f" (database files {neo['database_mb']} MB)" if "database_mb" in neo else ""


def _windows(step: dict[str, Any]) -> str:
    if "windows" not in step:
        return ""
    return f"; {step['windows']} windows of {step['duration_s']:g} s"


def _tail(step: dict[str, Any]) -> str:
    if "tail" not in step:
        return ""
    return (
        f"{step['tail']['over']} of {step['requests']:,} over {TARGETS['half_load_p99_ms']} ms "
        f"in {step['tail']['episodes']} episodes; "
    )


def _window_rows(windows: dict[str, dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    """(rate, variant, window) in the order the windows ran: window by window, rate by
    rate, variant by variant."""
    count = max(v["windows"] for by_variant in windows.values() for v in by_variant.values())
    return [
        (rate_name, name, v["per_window"][w])
        for w in range(count)
        for rate_name, by_variant in windows.items()
        for name, v in by_variant.items()
        if w < len(v["per_window"])
    ]


def _backlog(batch: dict[str, Any]) -> str:
    if "records_unwritten_after" not in batch:
        return ""
    return (
        f" ({batch['records_unwritten_after']:,} checks' records unwritten at the end, "
        f"written {batch['records_drained_s']} s later)"
    )


def _met(value: float | None, target: float, higher: bool) -> str:
    if value is None:
        return "n/a"
    ok = value >= target if higher else value <= target
    return "met" if ok else "NOT met"


def _target(tg: dict[str, Any], key: str, text: str, scale: int) -> str:
    """A target as the table shows it: those stated for the city say so at other scales."""
    return f"{text} (city)" if key in CITY_TARGETS and scale != CITY_SCALE else text


def _api_server(r: dict[str, Any]) -> str:
    m = r["machine"]
    rest = f"strawberry {m['strawberry']}, graphql-core {m['graphql_core']}, orjson {m['orjson']}"
    loop = f"uvloop {m['uvloop']}, httptools {m['httptools']}"
    servers = r.get("servers")
    if not servers:
        return f"one uvicorn {m['uvicorn']} process ({loop}), {rest}"
    workers = servers["default"]["workers"]
    return f"uvicorn {m['uvicorn']} ({loop}), {rest}; the default API runs {workers} workers"


def _default_api(r: dict[str, Any]) -> str:
    servers = r.get("servers")
    return f", default API ({servers['default']['workers']} workers)" if servers else ""


def _peer_ours(r: dict[str, Any]) -> str:
    return ", 1-worker API" if r.get("servers") else ""


def _signed(x: float | None) -> str:
    return "?" if x is None else f"{x:+.3f}"


def _servers_section(r: dict[str, Any]) -> list[str]:
    servers = r.get("servers")
    if not servers:
        return []
    lines = [
        "## APIs",
        "",
        "Each exactly `creditlink serve` against the same Neo4j, with these settings beyond the "
        'harness\'s own (bench/README.md, "Servers"):',
        "",
        "| API | workers | settings | resident MB (its processes summed) |",
        "|---|---|---|---|",
    ]
    for name, s in servers.items():
        lines.append(
            f"| {name} | {s['workers']} | {_env_text(s['settings'] or {}) or '-'} | {_fmt(s['rss_mb'], 0)} |"
        )
    available = r.get("memory_available_gib_with_apis_up")
    if available is not None:
        lines += ["", f"Memory available with every API up (and Neo4j): {available} GiB."]
    idle = r.get("idle_cpu_ms_per_s")
    if idle:
        lines += [
            "",
            "With no request at all, CPU ms per second (each API process reads the event log "
            "and refreshes its metrics whatever the traffic): "
            + ", ".join(f"{k} {v}" for k, v in idle.items())
            + f"; Neo4j before any API started {r.get('idle_neo4j_alone_cpu_ms_per_s')}.",
        ]
        lines += _idle_share(r)
    return [*lines, ""]


def _idle_share(r: dict[str, Any]) -> list[str]:
    """What the idle APIs' reads add to a step's Neo4j CPU per check, at most."""
    alone, up = r.get("idle_neo4j_alone_cpu_ms_per_s"), r["idle_cpu_ms_per_s"].get("neo4j")
    if alone is None or up is None:
        return []
    extra = max(0.0, up - alone)
    rates = {"at saturation": r["throughput"]["saturation"]["rate_per_s"]}
    target = r["throughput"].get("half_target_load")
    if target:
        rates[f"at {target['target_rate_per_s']:,.0f}/s"] = target["target_rate_per_s"]
    shares = ", ".join(f"{what} +{extra / rate:.3f} ms" for what, rate in rates.items() if rate)
    return [
        f"Neo4j spends {extra:.1f} ms a second more on the APIs' idle reads than alone; every "
        f"step's Neo4j CPU per check holds at most that much of it ({shares}), and the "
        "variants compared side by side hold it alike."
    ]


def _workers_rows(r: dict[str, Any]) -> list[str]:
    wk = r.get("workers")
    if not wk:
        return []
    one, many = wk["1-worker"], wk["default"]

    def point(x: dict[str, Any]) -> str:
        cm = x["cpu_ms_per_request"]
        return (
            f"{x['rate_per_s']:,.0f}/s at {x['concurrency']} clients (CPU ms API {cm.get('api')} "
            f"+ Neo4j {cm.get('neo4j')}; cores by process {x.get('api_cores_by_process')})"
        )

    return [
        f"| 1 vs {many['workers']} workers: checks/s at saturation, best of the interleaved sweep (1 → {many['workers']}) | "
        f"{one['latency_ms']['p50']} → {many['latency_ms']['p50']} | {one['latency_ms']['p99']} → {many['latency_ms']['p99']} | "
        f"1 worker {point(one)} → {many['workers']} workers {point(many)}: ×{wk['rate_ratio']}; "
        f"one request at a time, HTTP p50 {one['one_at_a_time_http_ms']['p50']} → {many['one_at_a_time_http_ms']['p50']} ms | | | "
        f"{_fmt(one['idle_box_estimate_per_s'], 0)}/s → {_fmt(many['idle_box_estimate_per_s'], 0)}/s |"
    ]


def _durable_rows(r: dict[str, Any]) -> list[str]:
    du = r.get("durable")
    if not du:
        return []
    on, off = du["bursts"]["default"], du["bursts"]["no-journal"]
    con, coff = on["cpu_ms_per_request"], off["cpu_ms_per_request"]
    rows = [
        f"| durable trail: CPU per check, journal vs no journal, bursts at {on['concurrency']} clients alternated "
        f"({len(on['rates_per_s'])} each; ms, journal / none) | {on['p50_ms']} / {off['p50_ms']} | {on['p99_ms']} / {off['p99_ms']} | "
        f"API {con.get('api')} vs {coff.get('api')} ({_signed(du['api_ms_added'])}); Neo4j {con.get('neo4j')} vs {coff.get('neo4j')} "
        f"({_signed(du['neo4j_ms_added'])}); whole box {on['box_cpu_ms_per_request']} vs {off['box_cpu_ms_per_request']} "
        f"({_signed(du['box_ms_added'])}); {on['rate_per_s']:,.0f}/s vs {off['rate_per_s']:,.0f}/s | | | "
        f"{_fmt(on['idle_box_estimate_per_s'], 0)}/s / {_fmt(off['idle_box_estimate_per_s'], 0)}/s |"
    ]
    threshold = {**TARGETS, **r.get("targets", {})}["half_load_p99_ms"]
    for step in du["open_loop"].values():
        j, n = step["journal"], step["no_journal"]
        rows.append(
            f"| durable trail at {j['target_rate_per_s']:,.0f}/s, open loop: journal / none (ms) | "
            f"{j['latency_ms']['p50']} / {n['latency_ms']['p50']} | {j['latency_ms']['p99']} / {n['latency_ms']['p99']} | "
            f"over {threshold} ms: {j['tail']['over']} / {n['tail']['over']}; "
            f"CPU ms per check API {j['api_cpu_ms']} / {n['api_cpu_ms']}, Neo4j {j['neo4j_cpu_ms']} / {n['neo4j_cpu_ms']} | | | |"
        )
    return rows


def _sweep_table(r: dict[str, Any]) -> list[str]:
    rows = [(r["throughput"]["sweep"], "default")]
    wk = r.get("workers")
    if wk:
        rows.append((wk["1-worker"]["sweep"], "1-worker"))
    by_level = sorted(
        ((x["concurrency"], n, name, x) for sweep, name in rows for n, x in enumerate(sweep)),
        key=lambda row: (row[1], row[2] != "default"),
    )
    title = (
        "Throughput sweep, the default and 1-worker APIs level by level"
        if wk
        else "Throughput sweep, default API"
    )
    lines = [
        "",
        f"{title} (closed loop: each client sends its next check when the last answered):",
        "",
        "| clients | API | checks/s | p50 ms | p99 ms | API CPU ms | Neo4j CPU ms | API cores by process | idle-box estimate |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for clients, _, name, row in by_level:
        cm = row["cpu_ms_per_request"]
        lines.append(
            f"| {clients} | {name} | {row['rate_per_s']:,.0f} | {row['latency_ms']['p50']} | {row['latency_ms']['p99']} | "
            f"{cm.get('api')} | {cm.get('neo4j')} | {row.get('api_cores_by_process', '')} | {_fmt(row['idle_box_estimate_per_s'], 0)}/s |"
        )
    return lines


def markdown(r: dict[str, Any]) -> str:
    m, neo = r["machine"], r["neo4j"]
    tg = {**TARGETS, **r.get("targets", {})}
    scale = r["scale"]
    sat_target = _target(tg, "saturation_per_s", f"≥ {tg['saturation_per_s']:,}/s", scale)
    p99_target = _target(tg, "half_load_p99_ms", f"≤ {tg['half_load_p99_ms']} ms", scale)
    batch_target = _target(tg, "batch_subjects_per_s", f"≥ {tg['batch_subjects_per_s']:,}/s", scale)
    w = r["world"]
    c = w["counts"]
    links = sum(c.get(rel, 0) for rel in REL_KEYS)
    peak = w["peak_rss_mb"]
    lines = [
        f"# CreditLink bench — {r['scale']:,} subjects, {r['started_at']}",
        "",
        "## Machine",
        "",
        "| what | value |",
        "|---|---|",
        f"| cores / memory | {m['cores']} × {m['cpu']} / {m['memory_gib']} GiB |",
        f"| load average at start → end (1/5/15 min) | {' / '.join(str(x) for x in m['load_average_at_start'])} → "
        f"{' / '.join(str(x) for x in r.get('load_average_at_end', []))} |",
        f"| busiest processes at start (%CPU RSS-KiB name) | {'; '.join(r['busy_processes'][:5])} |",
        f"| Neo4j | {neo['version']} {neo['edition']}, embedded; heap {neo['heap_mb']} MB, page cache {neo['pagecache_mb']} MB; store {neo['store_mb']} MB{_database(neo)} |",
        f"| Python / driver / rust ext | {m['python']} / neo4j {m['neo4j_driver']} / neo4j-rust-ext {m['neo4j_rust_ext']} |",
        f"| API server | {_api_server(r)} |",
        f"| peer | Node {m['node']}; {r.get('peer', {}).get('packages', 'not run')} |",
        "",
        "## World",
        "",
        f"{c.get('Subject', 0):,} subjects, {c.get('Household', 0):,} households, {links:,} links, "
        f"{c.get('Sanction', 0):,} sanctions; loaded by `{w['loader']}` in {w['load_seconds']:,} s "
        f"({'reused, loaded ' + w['loaded_at'] if r['world_reused'] else 'in this run'}; phases {w.get('phases_seconds')}); "
        f"peak RSS: loader {peak.get('loader_python')} MB, Neo4j {peak.get('neo4j')} MB"
        + (
            f", neo4j-admin import {peak['neo4j_admin_import']} MB"
            if peak.get("neo4j_admin_import")
            else ""
        )
        + f". Checks in area `{r['area']}` (the most roles), sample {r['sample']}.",
        "",
        *_servers_section(r),
        "## Figures",
        "",
        "Wall-clock figures are what this shared box did during the run; the last column",
        "estimates an otherwise idle 2-core box from the CPU time the API and Neo4j spent per",
        "request (see bench/README.md). Targets marked (city) are stated for the city's",
        f"{CITY_SCALE:,} subjects; this run has {scale:,}.",
        "",
        "| measurement | p50 | p99 | figure | target | | idle-box estimate |",
        "|---|---|---|---|---|---|---|",
    ]
    f = r["floor"]
    lines.append(
        f"| floor: the check's Cypher via the driver, auto-commit as the product runs it (ms) | {f['driver_ms']['p50']} | {f['driver_ms']['p99']} | | | | |"
    )
    lines.append(
        f"| jointSanctionCheck over HTTP (ms) | {f['http_ms']['p50']} | {f['http_ms']['p99']} | "
        f"ratio of medians {f['ratio_p50']} (paired {f['paired_ratio_p50']}; p99 {f['ratio_p99']}) | ≤ {tg['floor_ratio']} | "
        f"{_met(f['ratio_p50'], tg['floor_ratio'], False)} | |"
    )
    transport = f.get("transport_ms")
    if transport and transport.get("n"):
        added = round(f["http_ms"]["p50"] - f["driver_ms"]["p50"], 3)
        lines.append(
            f"| HTTP round trip alone: GET /healthz on the same API, per id beside the check (ms) | {transport['p50']} | {transport['p99']} | "
            f"the check over HTTP adds {added} ms to the driver's p50; this round trip is {transport['p50']} of it | | | |"
        )
    managed = f.get("driver_managed_ms")
    if managed:
        lines.append(
            f"| the same Cypher in a managed transaction, execute_read (ms) | {managed['p50']} | {managed['p99']} | | | | |"
        )
    pt = r.get("patches") or {}
    if pt.get("floor"):
        pf = pt["floor"]
        lines.append(
            f"| check over HTTP, API with patches `{pt['names']}` (ms) | {pf['http_ms']['p50']} | {pf['http_ms']['p99']} | "
            f"ratio to the driver floor {pf['ratio_p50']} (paired {pf['paired_ratio_p50']}) | ≤ {tg['floor_ratio']} | "
            f"{_met(pf['ratio_p50'], tg['floor_ratio'], False)} | |"
        )
    t = r["throughput"]
    sat, half = t["saturation"], t["half_load"]
    lines.append(
        f"| checks/s at saturation{_default_api(r)} ({sat['concurrency']} clients) | {sat['latency_ms']['p50']} | "
        f"{sat['latency_ms']['p99']} | {sat['rate_per_s']:,.0f}/s | {sat_target} | "
        f"{_met(sat['rate_per_s'], tg['saturation_per_s'], True)} | {_fmt(sat['idle_box_estimate_per_s'], 0)}/s |"
    )
    lines += _workers_rows(r)
    halves = [("the target's rate", t.get("half_target_load")), ("half the saturation", half)]
    for what, step in halves:
        if step is None:  # results from before the target-load windows
            continue
        lines.append(
            f"| checks at {what}{_default_api(r)}, open loop ({step['target_rate_per_s']:,.0f}/s{_windows(step)}) | {step['latency_ms']['p50']} | "
            f"{step['latency_ms']['p99']} | p99 {step['latency_ms']['p99']} ms (max {step['latency_ms']['max']}; {_tail(step)}{_pauses(step)}) | "
            f"{p99_target} | "
            f"{_met(step['latency_ms']['p99'], tg['half_load_p99_ms'], False)} | |"
        )
    lines += _durable_rows(r)
    b = r["batch"]
    lines.append(
        f"| batchCheck, {b['ids_per_call']:,} ids per call ({b['concurrency']} clients; ms per call) | {b['latency_ms']['p50']} | "
        f"{b['latency_ms']['p99']} | {b['subjects_per_s']:,} subjects/s{_backlog(b)} | "
        f"{batch_target} | "
        f"{_met(b['subjects_per_s'], tg['batch_subjects_per_s'], True)} | {b['idle_box_subjects_per_s']:,}/s |"
    )
    if pt.get("batch"):
        pb = pt["batch"]
        lines.append(
            f"| batchCheck, API with patches `{pt['names']}` | {pb['latency_ms']['p50']} | {pb['latency_ms']['p99']} | "
            f"{pb['subjects_per_s']:,} subjects/s | ≥ {tg['batch_subjects_per_s']:,}/s | "
            f"{_met(pb['subjects_per_s'], tg['batch_subjects_per_s'], True)} | {pb['idle_box_subjects_per_s']:,}/s |"
        )
    s = r.get("scale_ratio")
    if s:
        lines.append(
            f"| same check, {s['this_scale']:,} vs {s['other_scale']:,} subjects (HTTP p50 ms) | "
            f"{s['this_p50_ms']} vs {s['other_p50_ms']} | | larger/smaller {s['ratio_p50']} (driver {s['driver_ratio_p50']}) | "
            f"≤ {tg['scale_p50_ratio']} | {_met(s['ratio_p50'], tg['scale_p50_ratio'], False)} | |"
        )
    else:
        lines.append(
            f"| same check at two scales | | | needs a result at another scale | ≤ {tg['scale_p50_ratio']} | n/a | |"
        )
    p = r.get("peer") or {}
    if "ours" in p:
        th, ou = p["theirs"], p["ours"]
        lines.append(
            f"| peer: @neo4j/graphql nested read, one Node process ({th['concurrency']} clients) | {th['p50_ms']} | {th['p99_ms']} | "
            f"{th['rate_per_s']:,.0f}/s | | | {_fmt(th['idle_box_estimate_per_s'], 0)}/s |"
        )
        lines.append(
            f"| ours: jointSanctionCheck on the same units{_peer_ours(r)} ({ou['concurrency']} clients) | {ou['p50_ms']} | {ou['p99_ms']} | "
            f"{ou['rate_per_s']:,.0f}/s: ours/theirs {p['ratio']} (server CPU theirs/ours {p['cpu_ratio']}) | ≥ {tg['peer_ratio']} | "
            f"{_met(p['ratio'], tg['peer_ratio'], True)} | {_fmt(ou['idle_box_estimate_per_s'], 0)}/s |"
        )
    nr, nu = r["records"]["off_http_ms"], r["rust"]["without"]
    off = (r.get("compiled") or {}).get("off")
    if off:
        lines.append(
            f"| check over HTTP, compiled plans off: strawberry executes (ms) | {off['http_ms']['p50']} | {off['http_ms']['p99']} | "
            f"on: {f['http_ms']['p50']} / {f['http_ms']['p99']}; floor ratio off {off['ratio_p50']} | | | |"
        )
    lines.append(
        f"| check over HTTP, CheckRecord writing off (ms) | {nr['p50']} | {nr['p99']} | on: {r['records']['on_http_ms']['p50']} / {r['records']['on_http_ms']['p99']} | | | |"
    )
    windows = r.get("half_load_windows") or {}
    for rate_name, off in (r["records"].get("off_half_load") or {}).items():
        on = windows[rate_name]["default"]
        lines.append(
            f"| checks at {off['target_rate_per_s']:,.0f}/s, open loop, CheckRecord writing off (ms) | {off['latency_ms']['p50']} | "
            f"{off['latency_ms']['p99']} | on: {on['latency_ms']['p50']} / {on['latency_ms']['p99']}; over {tg['half_load_p99_ms']} ms off {off['tail']['over']}, on {on['tail']['over']} | | | |"
        )
    lines.append(
        f"| floor via the driver without rust ext (ms) | {nu['driver_ms']['p50']} | {nu['driver_ms']['p99']} | with: {f['driver_ms']['p50']} / {f['driver_ms']['p99']} | | | |"
    )
    lines.append(
        f"| check over HTTP, API without rust ext (ms) | {nu['http_ms']['p50']} | {nu['http_ms']['p99']} | with: {f['http_ms']['p50']} / {f['http_ms']['p99']} | | | |"
    )
    lines += [
        "",
        f"Saturation of the {len(r['variants'])} API variants, interleaved (each in turn × 3 bursts; CPU ms per check):",
        "",
        "| variant | workers | checks/s (median; runs) | p50 ms | p99 ms | API CPU ms | Neo4j CPU ms | client CPU ms | whole box CPU ms | idle-box estimate |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, v in r["variants"].items():
        cm = v["cpu_ms_per_request"]
        lines.append(
            f"| {name} | {v.get('workers', 1)} | {v['rate_per_s']:,.0f} ({', '.join(f'{x:,.0f}' for x in v['rates_per_s'])}) | {v['p50_ms']} | {v['p99_ms']} | "
            f"{cm.get('api')} | {cm.get('neo4j')} | {cm.get('client')} | {v.get('box_cpu_ms_per_request', '')} | {_fmt(v['idle_box_estimate_per_s'], 0)}/s |"
        )
    if windows:
        lines += [
            "",
            f"Half-load windows, in the order run (open loop; over {tg['half_load_p99_ms']} ms: "
            "requests, in episodes of requests scheduled < 50 ms apart; box busy: all cores):",
            "",
            "| rate | variant | checks/s | p50 ms | p99 ms | max ms | over (episodes; largest, its span) | box busy | API CPU ms | Neo4j CPU ms | Neo4j GC pauses (longest) | API GC > 10 ms |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for rate_name, name, wr in _window_rows(windows):
            tl, cm, lat = wr["tail"], wr["cpu_ms_per_request"], wr["latency_ms"]
            lines.append(
                f"| {rate_name} {windows[rate_name][name]['target_rate_per_s']:,.0f}/s | {name} | {wr['rate_per_s']:,.0f} | "
                f"{lat['p50']} | {lat['p99']} | {lat['max']} | {tl['over']} ({tl['episodes']}; {tl['largest']}, {tl['largest_span_ms']} ms) | "
                f"{wr['box_cpu']['busy_share']:.0%} | {cm.get('api')} | {cm.get('neo4j')} | "
                f"{wr['neo4j_gc']['pauses']} ({wr['neo4j_gc']['max_ms']} ms) | {wr['api_gc']['over_10ms']} |"
            )
    lines += [
        "",
        "Floor by local degree (relationships of the checked subject):",
        "",
        "| degree | ids | driver p50 ms | HTTP p50 ms | ratio |",
        "|---|---|---|---|---|",
    ]
    for row in f["by_degree"]:
        lines.append(
            f"| {row['degree']} | {row['ids']} | {row['driver_p50_ms']} | {row['http_p50_ms']} | {row['ratio_p50']} |"
        )
    lines += _sweep_table(r)
    bc = b["cpu_ms_per_request"]
    lines += [
        "",
        f"batchCheck CPU per call: API {bc.get('api')} ms, Neo4j {bc.get('neo4j')} ms "
        f"(per subject: {b['cpu_ms_per_subject']}).",
        "",
    ]
    if r.get("notes"):
        lines += ["Notes:", "", *[f"- {n}" for n in r["notes"]], ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ main


@contextlib.contextmanager
def running(servers: list[Server]) -> Iterator[list[Server]]:
    try:
        yield servers
    finally:
        for s in servers:
            s.stop()


def _neo4j_info(store: world.Store) -> dict[str, Any]:
    rows = asyncio.run(
        _read(
            store,
            "CALL dbms.components() YIELD name, versions, edition RETURN name, versions, edition",
        )
    )
    return {"version": rows[0]["versions"][0], "edition": rows[0]["edition"]}


def _dir_mb(path: Path) -> float:
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return round(total / 1024 / 1024, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", type=int, default=100_000, help="subjects in the world")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="default .data/bench/<scale>-<seed>"
    )
    parser.add_argument("--keep", action="store_true", help="leave Neo4j running afterwards")
    parser.add_argument("--loader", choices=("unwind", "admin"), default="unwind")
    parser.add_argument("--load-only", action="store_true", help="generate and load, then stop")
    parser.add_argument(
        "--sanction-rates",
        default=None,
        metavar="UNIT,PERSON",
        help="sanction rates of the generated world (default 0.01,0.003; the full city "
        "uses 0.035,0.01 for >= 100k sanctions)",
    )
    parser.add_argument("--heap-mb", type=int, default=None)
    parser.add_argument("--pagecache-mb", type=int, default=None)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per load step")
    parser.add_argument("--rounds", type=int, default=3, help="floor rounds over the sample")
    parser.add_argument("--no-peer", action="store_true", help="skip the @neo4j/graphql peer")
    parser.add_argument(
        "--patches",
        default="",
        help="also measure an API with these proposed changes (bench/harness/patches.py)",
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    parser.add_argument(
        "--render",
        type=Path,
        default=None,
        metavar="JSON",
        help="only rewrite that result's scale ratio and markdown, then stop",
    )
    args = parser.parse_args(argv)
    if args.render:
        print(render(args.render))
        return 0

    started_at = dt.datetime.now().astimezone()
    info = machine.describe()
    busy = machine.busy_processes()
    log(
        f"{info['cores']} cores, {info['memory_gib']} GiB, load average {info['load_average_at_start']}"
    )
    heap, pagecache = world.memory_for(args.scale)
    heap = args.heap_mb or heap
    pagecache = args.pagecache_mb or pagecache
    rates = None
    name = f"{args.scale}-{args.seed}"
    if args.sanction_rates:
        unit, person = (float(x) for x in args.sanction_rates.split(","))
        rates = (unit, person)
        name += f"-rates-{unit}-{person}"
    data_dir = (args.data_dir or ROOT / ".data" / "bench" / name).resolve()
    store = world.prepare(
        args.scale,
        args.seed,
        data_dir,
        heap_mb=heap,
        pagecache_mb=pagecache,
        loader=args.loader,
        rates=rates,
        log=log,
    )
    try:
        if args.load_only:
            print(json.dumps(store.marker, indent=2))
            return 0
        result = run_measurements(args, store, info, busy, started_at, heap, pagecache)
    finally:
        if not args.keep:
            store.neo4j.stop()
            log("Neo4j stopped")
        else:
            log(f"Neo4j kept running at {store.uri} (data in {store.data_dir})")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{started_at:%Y-%m-%d}-{args.scale}"
    (args.results_dir / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    (args.results_dir / f"{stem}.md").write_text(table + "\n")
    print(table)
    log(f"wrote {args.results_dir / (stem + '.json')} and .md")
    return 0


def run_measurements(
    args: argparse.Namespace,
    store: world.Store,
    info: dict[str, Any],
    busy: list[str],
    started_at: dt.datetime,
    heap: int,
    pagecache: int,
) -> dict[str, Any]:
    logs = store.data_dir / "bench-logs"
    logs.mkdir(exist_ok=True)
    keys = write_keys_file(
        store.data_dir / "bench-keys.toml",
        {"bench-approval": ("APPROVAL_SYSTEM", "wz-public-resources", KEY)},
    )
    neo = _neo4j_info(store)
    data = store.data_dir / "neo4j" / "data"
    neo.update(
        heap_mb=heap,
        pagecache_mb=pagecache,
        store_mb=_dir_mb(data),
        database_mb=_dir_mb(data / "databases" / "neo4j"),
    )
    samples = take_samples(store, args.seed)
    ids = [s["id"] for s in samples.check]
    log(f"sampled {len(ids)} ids for single checks, {len(samples.batch_pool)} for batches")
    notes: list[str] = []
    if neo["database_mb"] > pagecache:
        # deleted records leave the store's files (and indexes) their size: a store reused
        # across many runs can outgrow its page cache, and then reads fault to the disk
        notes.append(
            f"the database files ({neo['database_mb']:,.0f} MB) are larger than the page cache "
            f"({pagecache:,} MB), grown by earlier runs' records: reads may fault; a fresh "
            "store (`--data-dir` elsewhere, or delete this one) measures the world alone"
        )
        log(notes[-1])
    d = args.duration
    neo_pid = store.neo4j.running_pid() or store.pid

    # What each API runs, beyond the harness's settings (bench/README.md, "Servers").
    # CREDITLINK_WORKERS="" reads as unset: the shipped default, the CPU count. The
    # variants compared with the default API run its workers; those that change the code
    # of one process (compiled plans, the rust ext, patches) run one worker and are
    # compared with "1-worker", which is the default API but for its workers.
    shipped = {"CREDITLINK_WORKERS": ""}
    one = {"CREDITLINK_WORKERS": "1"}
    plan: list[tuple[str, dict[str, str]]] = [
        ("default", shipped),
        ("1-worker", one),
        ("no-journal", {**shipped, "CREDITLINK_RECORD_JOURNAL": "false"}),
        ("no-records", {**shipped, "CREDITLINK_RECORD_CHECKS": "false"}),
        ("strawberry", {**one, "CREDITLINK_COMPILED_QUERIES": "false"}),
        ("no-rust", {**one, "no_rust": "1"}),
    ]
    if args.patches:
        plan.append(("patched", {**one, "patches": args.patches}))
    api_dir = store.data_dir / "api"
    # records an earlier run's killed APIs left in their journal would be replayed into
    # the store whose records this run has just deleted
    shutil.rmtree(api_dir / "journal", ignore_errors=True)
    shutil.rmtree(api_dir / "run", ignore_errors=True)
    alone = background([], neo_pid)
    log(f"idle, before any API: Neo4j CPU ms per second {alone['neo4j']}")
    log(f"starting {len(plan)} APIs: " + "; ".join(f"{n} {_env_text(e)}" for n, e in plan))
    servers: list[Server] = []
    with running(servers):
        apis: dict[str, Server] = {}
        for name, env in plan:
            apis[name] = start_api(name, store.uri, api_dir, keys, logs, auth=store.auth, **env)
            servers.append(apis[name])
            log(f"  {name}: {apis[name].workers} worker(s), {apis[name].rss_mb:,.0f} MB resident")
        main_api, single, nojournal = apis["default"], apis["1-worker"], apis["no-journal"]
        norec, uncompiled, norust = apis["no-records"], apis["strawberry"], apis["no-rust"]
        patched = apis.get("patched")
        available = machine.mem_available_gib()
        log(f"  memory available with every API up: {available} GiB")
        if "rust=False" not in norust.log_path.read_text():
            notes.append("the no-rust API did not report rust=False: see its log")
        peer: Server | None = None
        if not args.no_peer:
            try:
                peer = start_peer(store, logs)
                servers.append(peer)
            except (RuntimeError, subprocess.CalledProcessError) as exc:
                notes.append(f"peer not measured: {exc}")

        def pids(server: Server) -> dict[str, int]:
            return {"api" if server.name != "peer" else "peer": server.proc.pid, "neo4j": neo_pid}

        def variant(server: Server) -> Variant:
            return (server.name, server, check_bodies(server.url, ids), pids(server))

        warm_up([s for s in servers if s.name != "peer"], ids, WARM_UP_SECONDS)
        idle = background(servers, neo_pid)
        log(f"idle, every server up: CPU ms per second {idle}")
        log(f"floor: driver vs HTTP, one request at a time, {args.rounds} alternated rounds")
        group = {s.name: s for s in (main_api, single, norec, uncompiled)}
        if patched is not None:
            group["patched"] = patched
        raw_rust, raw_norust = measure_floors(store, group, {"no-rust": norust}, ids, args.rounds)
        floor = floor_summary(raw_rust, "default")
        floor["by_degree"] = by_degree(raw_rust, samples.check)
        # GET /healthz on the default API, per id next to the check: the round trip alone
        floor["transport_ms"] = summary(raw_rust["transport_ms"])
        floor_single = floor_summary(raw_rust, "1-worker")
        floor_norec = floor_summary(raw_rust, "no-records")
        floor_uncompiled = floor_summary(raw_rust, "strawberry")
        floor_norust = floor_summary(raw_norust, "no-rust")
        floor_patched = floor_summary(raw_rust, "patched") if patched is not None else None
        log(
            f"  driver p50 {floor['driver_ms']['p50']} ms, HTTP p50 {floor['http_ms']['p50']} ms, "
            f"ratio {floor['ratio_p50']}; 1 worker HTTP p50 {floor_single['http_ms']['p50']} ms; "
            f"no records HTTP p50 {floor_norec['http_ms']['p50']} ms; "
            f"no rust: driver {floor_norust['driver_ms']['p50']}, HTTP {floor_norust['http_ms']['p50']}"
        )

        log("throughput: closed-loop sweep, default and 1-worker APIs level by level")
        sweeps = sweep([variant(main_api), variant(single)], [1, 4, 16, 32], d)
        sw = sweeps["default"]
        sat = best(sw)
        # p99 at 500/s (the target's rate), and at half of what this run saturated at
        rates = {
            "target": float(TARGETS["open_loop_rate_per_s"]),
            "measured": max(1.0, sat["rate_per_s"] / 2),
        }
        tail_variants = [variant(main_api), variant(norec), variant(nojournal)]
        if patched is not None:
            tail_variants.append(variant(patched))
        log(
            f"open loop: at {rates['target']:,.0f}/s and {rates['measured']:,.0f}/s, "
            f"{', '.join(v[0] for v in tail_variants)} APIs, {HALF_LOAD_WINDOWS} windows "
            "each, interleaved"
        )
        halves = half_load(tail_variants, rates, HALF_LOAD_WINDOWS, max(d, 10), store.neo4j.gc_log)
        half = halves["measured"]["default"]

        c = sat["concurrency"]
        log(f"the API variants in interleaved bursts at {c} clients")
        variants = [variant(s) for s in (main_api, single, nojournal, norec, uncompiled, norust)]
        if patched is not None:
            variants.append(variant(patched))
        ab = interleaved(variants, c, 3, max(3.0, d / 2))

        log(
            f"durable trail: default vs no-journal, {DURABLE_ROUNDS} rounds of bursts at "
            f"{c} clients, alternated"
        )
        durable = interleaved(
            [variant(main_api), variant(nojournal)],
            c,
            DURABLE_ROUNDS,
            max(3.0, d / 2),
            alternate=True,
        )
        workers = workers_summary(sweeps, floor, floor_single, main_api, single)

        log("batchCheck: 1,000 ids per call")
        pool = samples.batch_pool
        batches = [pool[i : i + 1000] for i in range(0, len(pool) - 999, 1000)] or [pool[:1000]]
        batch_bodies = [
            graphql_request(main_api.url, BATCH_GQL, {"ids": b, "area": AREA}, KEY) for b in batches
        ]
        batch_runs = [
            loadgen(
                main_api.url, batch_bodies, pids(main_api), workers=main_api.workers,
                mode="closed", concurrency=cc, duration=max(d, 10), warmup=2,
            )
            for cc in (1, 2, 4)
        ]  # fmt: skip
        backlog, drained_s = drain_records(main_api)
        log(f"  {backlog:,} checks' records unwritten after the last run, written in {drained_s} s")
        bb = best(batch_runs)
        per_call = len(batches[0])
        cpu_call = bb["cpu_ms_per_request"]
        batch = {
            **bb,
            "ids_per_call": per_call,
            "subjects_per_s": round(bb["rate_per_s"] * per_call),
            "idle_box_subjects_per_s": round((bb["idle_box_estimate_per_s"] or 0) * per_call),
            "cpu_ms_per_subject": {
                k: round(v / per_call, 4) if v is not None else None for k, v in cpu_call.items()
            },
            "runs": [
                {
                    "concurrency": x["concurrency"],
                    "subjects_per_s": round(x["rate_per_s"] * per_call),
                }
                for x in batch_runs
            ],
            "records_unwritten_after": backlog,
            "records_drained_s": drained_s,
        }
        log(
            f"  {batch['subjects_per_s']:,} subjects/s; CPU ms/call {cpu_call}; "
            f"idle-box estimate {batch['idle_box_subjects_per_s']:,} subjects/s"
        )

        batch_patched = None
        if patched is not None:
            pb = [
                graphql_request(patched.url, BATCH_GQL, {"ids": b, "area": AREA}, KEY)
                for b in batches
            ]
            bp = loadgen(
                patched.url, pb, pids(patched), workers=patched.workers, mode="closed",
                concurrency=bb["concurrency"], duration=max(d, 10), warmup=2,
            )  # fmt: skip
            batch_patched = {
                "subjects_per_s": round(bp["rate_per_s"] * per_call),
                "idle_box_subjects_per_s": round((bp["idle_box_estimate_per_s"] or 0) * per_call),
                "cpu_ms_per_request": bp["cpu_ms_per_request"],
                "latency_ms": bp["latency_ms"],
            }
            log(
                f"  patched: {batch_patched['subjects_per_s']:,} subjects/s; {bp['cpu_ms_per_request']}"
            )

        peer_result: dict[str, Any] = {}
        if peer is not None:
            try:
                # the peer is one Node process: ours is the one-worker API beside it
                peer_result = measure_peer(peer, single, samples, d, pids)
            except RuntimeError as exc:
                notes.append(f"peer not measured: {exc}"[:500])

    load_end = [round(x, 2) for x in os.getloadavg()]
    result: dict[str, Any] = {
        "scale": args.scale,
        "seed": args.seed,
        "started_at": started_at.isoformat(timespec="seconds"),
        "machine": info,
        "load_average_at_end": load_end,
        "busy_processes": busy,
        "neo4j": neo,
        "world": store.marker,
        "world_reused": store.reused,
        "area": AREA,
        "sample": {
            "ids": len(ids),
            "groups": {
                g: sum(1 for s in samples.check if s["group"] == g)
                for g in ("random", "sanctioned", "rep-of-sanctioned")
            },
        },
        "targets": TARGETS,
        "floor": floor,
        "servers": {
            s.name: {"workers": s.workers, "settings": s.env, "rss_mb": s.rss_mb}
            for s in servers
            if s.name != "peer"
        },
        "memory_available_gib_with_apis_up": available,
        "idle_cpu_ms_per_s": idle,
        "idle_neo4j_alone_cpu_ms_per_s": alone["neo4j"],
        "throughput": {
            "sweep": sw,
            "saturation": sat,
            "half_load": half,
            "half_target_load": halves["target"]["default"],
        },
        "half_load_windows": halves,
        "batch": batch,
        "variants": ab,
        "workers": workers,
        "durable": durable_summary(durable, halves),
        "records": {
            "on_http_ms": floor["http_ms"],
            "off_http_ms": floor_norec["http_ms"],
            "off_half_load": {rate: v["no-records"] for rate, v in halves.items()},
        },
        "compiled": {"on": floor, "off": floor_uncompiled},
        "rust": {"with": floor, "without": floor_norust},
        "patches": {
            "names": args.patches,
            "floor": floor_patched,
            "batch": batch_patched,
        }
        if patched is not None
        else None,
        "peer": peer_result,
        "notes": notes,
    }
    add_scale_ratio(result)
    return result


def add_scale_ratio(result: dict[str, Any]) -> None:
    """The same check at this scale vs the newest result at another scale, if any."""
    scale, floor = result["scale"], result["floor"]
    prev = _previous(scale)
    if prev is None:
        result.pop("scale_ratio", None)
        return
    path, other = prev
    mine = (scale, floor["http_ms"]["p50"], floor["driver_ms"]["p50"])
    theirs = (other["scale"], other["floor"]["http_ms"]["p50"], other["floor"]["driver_ms"]["p50"])
    small, large = sorted([mine, theirs])
    result["scale_ratio"] = {
        "this_scale": scale,
        "other_scale": other["scale"],
        "other_result": path.name,
        "this_p50_ms": floor["http_ms"]["p50"],
        "other_p50_ms": other["floor"]["http_ms"]["p50"],
        "ratio_p50": round(large[1] / small[1], 3),
        "driver_ratio_p50": round(large[2] / small[2], 3),
    }


def render(path: Path) -> str:
    """Recompute the scale ratio of a stored result against the current other results
    and rewrite its markdown (after a run at another scale)."""
    result = json.loads(path.read_text())
    add_scale_ratio(result)
    path.write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    path.with_suffix(".md").write_text(table + "\n")
    return table


def measure_peer(
    peer: Server, ours_api: Server, samples: Samples, d: float, pids: Any
) -> dict[str, Any]:
    log("peer: @neo4j/graphql nested read vs our check on the same units, interleaved")
    pbodies = [graphql_request(peer.url, PEER_GQL, {"id": u}, None) for u in samples.peer_units]
    obodies = check_bodies(ours_api.url, samples.peer_units)
    for server, bodies in ((peer, pbodies), (ours_api, obodies)):  # Node's JIT too
        loadgen(server.url, bodies, mode="closed", concurrency=16, duration=WARM_UP_SECONDS / 2,
                warmup=0)  # fmt: skip
    results = {}
    for c in (4, 16):
        results[c] = interleaved(
            [("theirs", peer, pbodies, pids(peer)), ("ours", ours_api, obodies, pids(ours_api))],
            c,
            2,
            max(3.0, d / 2),
        )
    theirs = max((r["theirs"] for r in results.values()), key=lambda r: r["rate_per_s"])
    ours = max((r["ours"] for r in results.values()), key=lambda r: r["rate_per_s"])
    out = {
        "packages": _peer_packages(),
        "query": PEER_GQL,
        "theirs": theirs,
        "ours": ours,
        "ratio": round(ours["rate_per_s"] / theirs["rate_per_s"], 3),
        "cpu_ratio": round(
            (theirs["cpu_ms_per_request"]["peer"] + theirs["cpu_ms_per_request"]["neo4j"])
            / (ours["cpu_ms_per_request"]["api"] + ours["cpu_ms_per_request"]["neo4j"]),
            3,
        ),
        "by_concurrency": {str(c): r for c, r in results.items()},
    }
    log(f"  ours/theirs = {out['ratio']} (server CPU per request, theirs/ours: {out['cpu_ratio']})")
    return out


def _peer_packages() -> str:
    try:
        lock = json.loads((PEER / "package-lock.json").read_text())
        pkgs = lock["packages"]
        names = ("@neo4j/graphql", "@apollo/server", "neo4j-driver", "graphql")
        return ", ".join(f"{n} {pkgs['node_modules/' + n]['version']}" for n in names)
    except (OSError, KeyError, ValueError):
        return ""
