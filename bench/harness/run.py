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
    "saturation_per_s": 1000,
    "half_load_p99_ms": 15,
    "batch_subjects_per_s": 20_000,
    "scale_p50_ratio": 1.5,
    "peer_ratio": 2.0,
}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ processes


@dataclass
class Server:
    """An API or the peer in a process of its own: `url` is its GraphQL endpoint."""

    name: str
    process: ApiProcess

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
        self.process.stop()


def scrape_metrics(server: Server) -> str:
    import httpx

    return httpx.get(f"{server.process.url}/metrics", timeout=10).text


def drain_records(server: Server, timeout: float = 60.0) -> tuple[int, float]:
    """Checks whose records were still unwritten when a step ended, and the seconds the
    API took to write them: a rate that left a backlog did not pay for its writes."""
    started = time.monotonic()
    first: int | None = None
    while True:
        found = re.search(
            r"^creditlink_check_records_pending ([0-9.e+]+)$", scrape_metrics(server), re.M
        )
        pending = int(float(found[1])) if found else 0
        first = pending if first is None else first
        if pending == 0 or time.monotonic() - started > timeout:
            return first, round(time.monotonic() - started, 2)
        time.sleep(0.05)


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
    """`creditlink serve` (through `bench.harness.serve`) against Neo4j at `uri`, ready.

    `auth`: (user, password) of that Neo4j. `env`: CREDITLINK_* settings, and
    `no_rust="1"` or `patches="a,b"` for the variants."""
    command = ["-m", "bench.harness.serve"]
    if env.get("no_rust") == "1":
        command.append("--no-rust")
    if env.get("patches"):
        command.append(f"--patches={env['patches']}")
    process = start_api_process(
        Neo4jServer(uri, "neo4j", None, *auth),
        keys_file=keys,
        data_dir=data_dir,
        log=logs / f"api-{name}.log",
        extra={k: v for k, v in env.items() if k.startswith("CREDITLINK_")},
        command=command,
        ready_timeout=180,
    )
    return Server(name, process)


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
    url: str, bodies: list[bytes], pids: dict[str, int] | None = None, **spec: Any
) -> dict[str, Any]:
    """Run the load generator process; with `pids`, also the CPU each process spent per
    request (warm-up requests included in both counts)."""
    before = cpu.snapshot(pids or {})
    result = _python_module(
        "bench.harness.loadgen",
        {"url": url, "bodies": [b.decode("latin-1") for b in bodies], **spec},
    )
    after = cpu.snapshot(pids or {})
    if result["errors"] > 0.01 * max(1, result["requests"]):
        raise RuntimeError(
            f"{url}: {result['errors']} of {result['requests']} requests failed; "
            f"first: {result['first_error']}"
        )
    total = result["requests"] + int(spec.get("warmup", 0))
    per = cpu.per_request_ms(before, after, total)
    per["client"] = round(result["client_cpu_s"] * 1000 / max(1, total), 3)
    result["cpu_ms_per_request"] = per
    result["idle_box_estimate_per_s"] = idle_estimate(per)
    return result


def idle_estimate(per: dict[str, float | None]) -> float | None:
    """Requests/s this box could serve if nothing else ran on it: one Python (or Node)
    process uses at most one core; it and Neo4j share all cores. Clients not counted
    (in production they are elsewhere)."""
    server = per.get("api") or per.get("peer")
    neo = per.get("neo4j")
    if not server or neo is None:
        return None
    cores = os.cpu_count() or 1
    return round(min(1000 / server, cores * 1000 / (server + neo)), 1)


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


def sweep(
    url: str, bodies: list[bytes], levels: list[int], duration: float, pids: dict[str, int]
) -> list[dict[str, Any]]:
    out = []
    for c in levels:
        r = loadgen(url, bodies, pids, mode="closed", concurrency=c, duration=duration, warmup=50)
        log(
            f"  {c:>3} clients: {r['rate_per_s']:,.0f}/s, p50 {r['latency_ms']['p50']} ms, "
            f"p99 {r['latency_ms']['p99']} ms; CPU ms/request {r['cpu_ms_per_request']}"
        )
        out.append(r)
    return out


def best(results: list[dict[str, Any]]) -> dict[str, Any]:
    return max(results, key=lambda r: r["rate_per_s"])


def interleaved(
    variants: list[tuple[str, Server, list[bytes], dict[str, int]]],
    concurrency: int,
    rounds: int,
    duration: float,
) -> dict[str, dict[str, Any]]:
    """Closed-loop bursts of each variant in turn, `rounds` times: A/B/C/A/B/C…, so a
    neighbour's burst of load falls on all of them alike. Medians per variant."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in variants}
    for _ in range(rounds):
        for name, server, bodies, pids in variants:
            runs[name].append(
                loadgen(
                    server.url, bodies, pids, mode="closed", concurrency=concurrency,
                    duration=duration, warmup=20,
                )
            )  # fmt: skip
    out: dict[str, dict[str, Any]] = {}
    for name, rs in runs.items():
        cpu_keys = rs[0]["cpu_ms_per_request"].keys()
        cpu_ms = {
            k: round(statistics.median(r["cpu_ms_per_request"][k] or 0.0 for r in rs), 3)
            for k in cpu_keys
        }
        out[name] = {
            "concurrency": concurrency,
            "rates_per_s": [round(r["rate_per_s"], 1) for r in rs],
            "rate_per_s": round(statistics.median(r["rate_per_s"] for r in rs), 1),
            "p50_ms": round(statistics.median(r["latency_ms"]["p50"] for r in rs), 3),
            "p99_ms": round(statistics.median(r["latency_ms"]["p99"] for r in rs), 3),
            "cpu_ms_per_request": cpu_ms,
            "idle_box_estimate_per_s": idle_estimate(dict(cpu_ms)),
        }
        log(
            f"  {name}: {out[name]['rate_per_s']:,.0f}/s (runs {out[name]['rates_per_s']}), "
            f"CPU ms/request {cpu_ms}, idle-box estimate {out[name]['idle_box_estimate_per_s']}/s"
        )
    return out


# Each (rate, variant) of the half-load step gets this many open-loop windows, the
# windows of all of them interleaved: a spell of a slow box (one stopped this API for
# 1.5 s in a hand run) falls on one window of one variant, not on a whole figure.
HALF_LOAD_WINDOWS = 2


def half_load(
    variants: list[tuple[str, Server, list[bytes], dict[str, int]]],
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
                    server.url, bodies, pids, mode="open", rate=rate, concurrency=64,
                    duration=duration, samples=True,
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


def markdown(r: dict[str, Any]) -> str:
    m, neo = r["machine"], r["neo4j"]
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
        f"| API server | one uvicorn {m['uvicorn']} process (uvloop {m['uvloop']}, httptools {m['httptools']}), strawberry {m['strawberry']}, graphql-core {m['graphql_core']}, orjson {m['orjson']} |",
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
        "## Figures",
        "",
        "Wall-clock figures are what this shared box did during the run; the last column",
        "estimates an otherwise idle 2-core box from the CPU time the API and Neo4j spent per",
        "request (see bench/README.md).",
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
        f"ratio of medians {f['ratio_p50']} (paired {f['paired_ratio_p50']}; p99 {f['ratio_p99']}) | ≤ {TARGETS['floor_ratio']} | "
        f"{_met(f['ratio_p50'], TARGETS['floor_ratio'], False)} | |"
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
            f"ratio to the driver floor {pf['ratio_p50']} (paired {pf['paired_ratio_p50']}) | ≤ {TARGETS['floor_ratio']} | "
            f"{_met(pf['ratio_p50'], TARGETS['floor_ratio'], False)} | |"
        )
    t = r["throughput"]
    sat, half = t["saturation"], t["half_load"]
    lines.append(
        f"| checks/s at saturation ({sat['concurrency']} clients) | {sat['latency_ms']['p50']} | "
        f"{sat['latency_ms']['p99']} | {sat['rate_per_s']:,.0f}/s | ≥ {TARGETS['saturation_per_s']:,}/s | "
        f"{_met(sat['rate_per_s'], TARGETS['saturation_per_s'], True)} | {_fmt(sat['idle_box_estimate_per_s'], 0)}/s |"
    )
    halves = [("half the 1,000/s target", t.get("half_target_load")), ("half that load", half)]
    for what, step in halves:
        if step is None:  # results from before the target-load windows
            continue
        lines.append(
            f"| checks at {what}, open loop ({step['target_rate_per_s']:,.0f}/s{_windows(step)}) | {step['latency_ms']['p50']} | "
            f"{step['latency_ms']['p99']} | p99 {step['latency_ms']['p99']} ms (max {step['latency_ms']['max']}; {_tail(step)}{_pauses(step)}) | ≤ {TARGETS['half_load_p99_ms']} ms | "
            f"{_met(step['latency_ms']['p99'], TARGETS['half_load_p99_ms'], False)} | |"
        )
    b = r["batch"]
    lines.append(
        f"| batchCheck, {b['ids_per_call']:,} ids per call ({b['concurrency']} clients; ms per call) | {b['latency_ms']['p50']} | "
        f"{b['latency_ms']['p99']} | {b['subjects_per_s']:,} subjects/s{_backlog(b)} | ≥ {TARGETS['batch_subjects_per_s']:,}/s | "
        f"{_met(b['subjects_per_s'], TARGETS['batch_subjects_per_s'], True)} | {b['idle_box_subjects_per_s']:,}/s |"
    )
    if pt.get("batch"):
        pb = pt["batch"]
        lines.append(
            f"| batchCheck, API with patches `{pt['names']}` | {pb['latency_ms']['p50']} | {pb['latency_ms']['p99']} | "
            f"{pb['subjects_per_s']:,} subjects/s | ≥ {TARGETS['batch_subjects_per_s']:,}/s | "
            f"{_met(pb['subjects_per_s'], TARGETS['batch_subjects_per_s'], True)} | {pb['idle_box_subjects_per_s']:,}/s |"
        )
    s = r.get("scale_ratio")
    if s:
        lines.append(
            f"| same check, {s['this_scale']:,} vs {s['other_scale']:,} subjects (HTTP p50 ms) | "
            f"{s['this_p50_ms']} vs {s['other_p50_ms']} | | larger/smaller {s['ratio_p50']} (driver {s['driver_ratio_p50']}) | "
            f"≤ {TARGETS['scale_p50_ratio']} | {_met(s['ratio_p50'], TARGETS['scale_p50_ratio'], False)} | |"
        )
    else:
        lines.append(
            f"| same check at two scales | | | needs a result at another scale | ≤ {TARGETS['scale_p50_ratio']} | n/a | |"
        )
    p = r.get("peer") or {}
    if "ours" in p:
        th, ou = p["theirs"], p["ours"]
        lines.append(
            f"| peer: @neo4j/graphql nested read ({th['concurrency']} clients) | {th['p50_ms']} | {th['p99_ms']} | "
            f"{th['rate_per_s']:,.0f}/s | | | {_fmt(th['idle_box_estimate_per_s'], 0)}/s |"
        )
        lines.append(
            f"| ours: jointSanctionCheck on the same units ({ou['concurrency']} clients) | {ou['p50_ms']} | {ou['p99_ms']} | "
            f"{ou['rate_per_s']:,.0f}/s: ours/theirs {p['ratio']} (server CPU theirs/ours {p['cpu_ratio']}) | ≥ {TARGETS['peer_ratio']} | "
            f"{_met(p['ratio'], TARGETS['peer_ratio'], True)} | {_fmt(ou['idle_box_estimate_per_s'], 0)}/s |"
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
            f"{off['latency_ms']['p99']} | on: {on['latency_ms']['p50']} / {on['latency_ms']['p99']}; over {TARGETS['half_load_p99_ms']} ms off {off['tail']['over']}, on {on['tail']['over']} | | | |"
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
        "| variant | checks/s (median; runs) | p50 ms | p99 ms | API CPU ms | Neo4j CPU ms | client CPU ms | idle-box estimate |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, v in r["variants"].items():
        cm = v["cpu_ms_per_request"]
        lines.append(
            f"| {name} | {v['rate_per_s']:,.0f} ({', '.join(f'{x:,.0f}' for x in v['rates_per_s'])}) | {v['p50_ms']} | {v['p99_ms']} | "
            f"{cm.get('api')} | {cm.get('neo4j')} | {cm.get('client')} | {_fmt(v['idle_box_estimate_per_s'], 0)}/s |"
        )
    if windows:
        lines += [
            "",
            f"Half-load windows, in the order run (open loop; over {TARGETS['half_load_p99_ms']} ms: "
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
    lines += [
        "",
        "Throughput sweep, default API (closed loop: each client sends its next check when the last answered):",
        "",
        "| clients | checks/s | p50 ms | p99 ms | API CPU ms | Neo4j CPU ms | idle-box estimate |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in t["sweep"]:
        cm = row["cpu_ms_per_request"]
        lines.append(
            f"| {row['concurrency']} | {row['rate_per_s']:,.0f} | {row['latency_ms']['p50']} | {row['latency_ms']['p99']} | "
            f"{cm.get('api')} | {cm.get('neo4j')} | {_fmt(row['idle_box_estimate_per_s'], 0)}/s |"
        )
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

    log(
        "starting the API four times (default; CREDITLINK_RECORD_CHECKS=false; "
        "CREDITLINK_COMPILED_QUERIES=false; without rust ext)"
    )
    servers: list[Server] = []
    api_dirs = (store.uri, store.data_dir / "api")
    with running(servers):
        main_api = start_api("default", *api_dirs, keys, logs, auth=store.auth)
        servers.append(main_api)
        norec = start_api(
            "no-records", *api_dirs, keys, logs, auth=store.auth, CREDITLINK_RECORD_CHECKS="false"
        )
        servers.append(norec)
        uncompiled = start_api(
            "strawberry",
            *api_dirs,
            keys,
            logs,
            auth=store.auth,
            CREDITLINK_COMPILED_QUERIES="false",
        )
        servers.append(uncompiled)
        norust = start_api("no-rust", *api_dirs, keys, logs, auth=store.auth, no_rust="1")
        servers.append(norust)
        if "rust=False" not in norust.log_path.read_text():
            notes.append("the no-rust API did not report rust=False: see its log")
        patched: Server | None = None
        if args.patches:
            patched = start_api(
                "patched", *api_dirs, keys, logs, auth=store.auth, patches=args.patches
            )
            servers.append(patched)
        peer: Server | None = None
        if not args.no_peer:
            try:
                peer = start_peer(store, logs)
                servers.append(peer)
            except (RuntimeError, subprocess.CalledProcessError) as exc:
                notes.append(f"peer not measured: {exc}")

        def pids(server: Server) -> dict[str, int]:
            return {"api" if server.name != "peer" else "peer": server.proc.pid, "neo4j": neo_pid}

        warm_up([s for s in servers if s.name != "peer"], ids, WARM_UP_SECONDS)
        log(f"floor: driver vs HTTP, one request at a time, {args.rounds} alternated rounds")
        group = {"default": main_api, "no-records": norec, "strawberry": uncompiled}
        if patched is not None:
            group["patched"] = patched
        raw_rust, raw_norust = measure_floors(store, group, {"no-rust": norust}, ids, args.rounds)
        floor = floor_summary(raw_rust, "default")
        floor["by_degree"] = by_degree(raw_rust, samples.check)
        # GET /healthz on the default API, per id next to the check: the round trip alone
        floor["transport_ms"] = summary(raw_rust["transport_ms"])
        floor_norec = floor_summary(raw_rust, "no-records")
        floor_uncompiled = floor_summary(raw_rust, "strawberry")
        floor_norust = floor_summary(raw_norust, "no-rust")
        floor_patched = floor_summary(raw_rust, "patched") if patched is not None else None
        log(
            f"  driver p50 {floor['driver_ms']['p50']} ms, HTTP p50 {floor['http_ms']['p50']} ms, "
            f"ratio {floor['ratio_p50']}; no records HTTP p50 {floor_norec['http_ms']['p50']} ms; "
            f"no rust: driver {floor_norust['driver_ms']['p50']}, HTTP {floor_norust['http_ms']['p50']}"
        )

        bodies = check_bodies(main_api.url, ids)
        log("throughput: closed-loop sweep (default API)")
        sw = sweep(main_api.url, bodies, [1, 4, 16, 32], d, pids(main_api))
        sat = best(sw)
        # "p99 <= 15 ms at half that load": half the 1,000/s target, and half of what
        # this run saturated at (the stricter reading once saturation passes 1,000/s)
        rates = {
            "target": TARGETS["saturation_per_s"] / 2,
            "measured": max(1.0, sat["rate_per_s"] / 2),
        }
        log(
            f"half load: open loop at {rates['target']:,.0f}/s and {rates['measured']:,.0f}/s, "
            f"default and no-records APIs (and patched, if any), {HALF_LOAD_WINDOWS} windows "
            "each, interleaved"
        )
        tail_variants = [
            ("default", main_api, bodies, pids(main_api)),
            ("no-records", norec, check_bodies(norec.url, ids), pids(norec)),
        ]
        if patched is not None:
            tail_variants.append(
                ("patched", patched, check_bodies(patched.url, ids), pids(patched))
            )
        halves = half_load(tail_variants, rates, HALF_LOAD_WINDOWS, max(d, 10), store.neo4j.gc_log)
        half = halves["measured"]["default"]

        c = sat["concurrency"]
        log(f"default vs no CheckRecords vs no plans vs no rust ext, interleaved at {c} clients")
        variants = [
            ("default", main_api, bodies, pids(main_api)),
            ("no-records", norec, check_bodies(norec.url, ids), pids(norec)),
            ("strawberry", uncompiled, check_bodies(uncompiled.url, ids), pids(uncompiled)),
            ("no-rust", norust, check_bodies(norust.url, ids), pids(norust)),
        ]
        if patched is not None:
            variants.append(("patched", patched, check_bodies(patched.url, ids), pids(patched)))
        ab = interleaved(variants, c, 3, max(3.0, d / 2))

        log("batchCheck: 1,000 ids per call")
        pool = samples.batch_pool
        batches = [pool[i : i + 1000] for i in range(0, len(pool) - 999, 1000)] or [pool[:1000]]
        batch_bodies = [
            graphql_request(main_api.url, BATCH_GQL, {"ids": b, "area": AREA}, KEY) for b in batches
        ]
        batch_runs = [
            loadgen(
                main_api.url, batch_bodies, pids(main_api), mode="closed", concurrency=cc,
                duration=max(d, 10), warmup=2,
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
                patched.url, pb, pids(patched), mode="closed", concurrency=bb["concurrency"],
                duration=max(d, 10), warmup=2,
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
                peer_result = measure_peer(peer, main_api, samples, d, pids)
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
        "throughput": {
            "sweep": sw,
            "saturation": sat,
            "half_load": half,
            "half_target_load": halves["target"]["default"],
        },
        "half_load_windows": halves,
        "batch": batch,
        "variants": ab,
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
