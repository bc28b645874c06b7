"""Latency of the related-party risk queries on a generated world.

    .venv/bin/python bench/risk_latency.py --scale 100000            # embedded Neo4j
    .venv/bin/python bench/risk_latency.py --scale 1000000 --via http
    NEO4J_URI=bolt://host:7687 .venv/bin/python bench/risk_latency.py --scale 100000

Loads the deterministic world of `seeds.generator` at `--scale` subjects into an
embedded Neo4j kept in `.data/bench-risk-<scale>` (reused on later runs), or into the
Neo4j that NEO4J_URI names (which must be empty or hold that same world). Then it
times, one call at a time after a warm-up, `relatedParties` at depth 2 and
`riskProfile` (the issue's targets: p99 <= 100 ms on the 1M world) and, for
information, the other risk queries, over a seeded sample of subjects of every kind.

`--via graph` (default) times the graph_model call a resolver makes (one Cypher round
trip plus shaping); `--via http` times the whole GraphQL request against the real
server (`creditlink serve`, in its own process) on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import math
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from domain.vocabulary import Rel  # noqa: E402
from graph_model.driver import Graph, create_driver  # noqa: E402
from testkit import free_port  # noqa: E402
from testkit.api import start_api_process  # noqa: E402
from testkit.keys import write_keys_file  # noqa: E402
from testkit.neo4j import Neo4jServer, store_neo4j  # noqa: E402

Call = Callable[[str], Awaitable[Any]]

QUERIES = {
    "relatedParties(depth 2)": (
        "query($id: ID!) { relatedParties(subjectId: $id, maxDepth: 2) { totalCount "
        "nodes { id kind distance sanctioned } links { id from to relation } "
        "pageInfo { hasNextPage endCursor } } }"
    ),
    "riskProfile": "query($id: ID!) { riskProfile(subjectId: $id) { score factors { code weight detail } } }",
    "suspectedLinks": (
        "query($id: ID!) { suspectedLinks(subjectId: $id) { totalCount links { subject { id } bases } } }"
    ),
    "relatedParties(depth 3)": (
        "query($id: ID!) { relatedParties(subjectId: $id, maxDepth: 3) { totalCount "
        "nodes { id distance } pageInfo { hasNextPage } } }"
    ),
    "ultimateBeneficialOwners": (
        "query($id: ID!) { ultimateBeneficialOwners(enterpriseId: $id, threshold: 0) { owner { id } share } }"
    ),
    "actualController": "query($id: ID!) { actualController(enterpriseId: $id) { basis controller { id } } }",
}
TARGETS = {"relatedParties(depth 2)", "riskProfile"}
UNIT_ONLY = {"ultimateBeneficialOwners", "actualController"}


def machine(neo4j_version: str, heap_mb: int | None, pagecache_mb: int | None) -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    memory = f", heap {heap_mb} MiB, page cache {pagecache_mb} MiB" if heap_mb else ""
    return (
        f"{platform.node()}: {cpu}, {os.cpu_count()} CPUs, {mem} RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"Neo4j {neo4j_version}{memory}"
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))  # nearest rank
    return ordered[min(rank, len(ordered)) - 1]


async def stored_counts(graph: Graph, keys: list[str]) -> dict[str, int]:
    """Nodes per label and relationships per type, from the count store."""
    from domain.vocabulary import Label, SystemRel

    labels = {label.value for label in Label}
    types = {rel.value for rel in Rel} | {rel.value for rel in SystemRel}
    out = {}
    for key in keys:
        if key in labels:
            query = f"MATCH (n:{key}) RETURN count(n) AS n"
        elif key in types:
            query = f"MATCH ()-[r:{key}]->() RETURN count(r) AS n"
        else:
            continue
        out[key] = (await graph.read(query))[0]["n"]
    return out


async def ensure_world(
    graph: Graph, scale: int, seed: int, reload: bool, batch_size: int
) -> dict[str, int]:
    """Load the world unless the database already holds all of it (a load interrupted
    half-way is resumed: every bulk write MERGEs on id)."""
    from graph_model import migrations
    from graph_model.catalogue_sync import sync_departments
    from rules.loader import load_catalogue
    from seeds.generator import WorldSpec, generate
    from seeds.loader import load_world

    await migrations.apply_migrations(graph)
    await sync_departments(graph, load_catalogue())
    world = generate(WorldSpec(n_subjects=scale, seed=seed, link_history=True))  # as the bench
    # departments come from the catalogue too, so only the world's own records are compared
    expected = {k: v for k, v in world.counts().items() if k != "Department"}
    have = await stored_counts(graph, list(expected))
    if have.get("Subject", 0) > expected["Subject"] and not reload:
        raise SystemExit(
            f"the database holds {have['Subject']} subjects, more than this world's "
            f"{expected['Subject']}: use another data dir or database, or --reload to wipe it"
        )
    if reload and have.get("Subject", 0):
        print(f"wiping {have['Subject']} subjects ...", file=sys.stderr)
        await graph.write(
            "MATCH (n) WHERE NOT n:Migration CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        )
        have = {}
    missing = {k: v for k, v in have.items() if v != expected[k]}
    if not have or missing:
        from api.settings import Settings
        from graph_model.contact_key import load_key

        settings = Settings.from_env()  # the key `creditlink` itself would use
        key = load_key(settings.contact_key_file, create=settings.contact_hash_key_file is None)
        started = time.perf_counter()
        await load_world(
            graph.driver, graph.database, world, contact_key=key, batch_size=batch_size
        )
        print(f"loaded the world in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return expected


async def sample_ids(graph: Graph, count: int, seed: int) -> dict[str, list[str]]:
    """A seeded sample per kind: 40% enterprises, 20% individual businesses, 10% public
    institutions, 30% persons (sanctioned subjects are in the mix as generated)."""
    rng = random.Random(seed)
    shares = {
        "ENTERPRISE": 0.4,
        "INDIVIDUAL_BUSINESS": 0.2,
        "PUBLIC_INSTITUTION": 0.1,
        "PERSON": 0.3,
    }
    out: dict[str, list[str]] = {}
    for kind, share in shares.items():
        rows = await graph.read(
            "MATCH (s:Subject) WHERE s.kind = $kind RETURN s.id AS id ORDER BY id LIMIT 200000",
            {"kind": kind},
        )
        ids = [r["id"] for r in rows]
        out[kind] = rng.sample(ids, min(len(ids), max(1, int(count * share))))
    return out


def graph_calls(graph: Graph) -> dict[str, Call]:
    from api.settings import Settings
    from graph_model.risk import controller, neighbourhood, ownership, risk_profile, suspected

    # the server's own tunables (CREDITLINK_RISK_*), so both modes time the same work
    config = Settings.from_env().risk

    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    all_rels = tuple(Rel)
    return {
        "relatedParties(depth 2)": lambda sid: neighbourhood.neighbourhood_page(
            graph, subject_id=sid, depth=2, relations=all_rels, at=now(), first=50, config=config
        ),
        "riskProfile": lambda sid: risk_profile.risk_profile(graph, sid, now(), config=config),
        "suspectedLinks": lambda sid: suspected.suspected_links(
            graph, sid, now(), first=50, config=config
        ),
        "relatedParties(depth 3)": lambda sid: neighbourhood.neighbourhood_page(
            graph, subject_id=sid, depth=3, relations=all_rels, at=now(), first=50, config=config
        ),
        "ultimateBeneficialOwners": lambda sid: ownership.beneficial_owners(
            graph, sid, 0.0, now(), config=config
        ),
        "actualController": lambda sid: controller.actual_controller(
            graph, sid, now(), config=config
        ),
    }


def http_calls(neo4j: Neo4jServer) -> tuple[dict[str, Call], Callable[[], Awaitable[None]]]:
    """The real server (`creditlink serve`) in a process of its own, on a free port."""
    import httpx

    scratch = Path(tempfile.mkdtemp())
    keys = write_keys_file(scratch / "keys.toml", {"bench": ("REGULATOR", None, "bench-key")})
    api = start_api_process(
        neo4j,
        keys_file=keys,
        data_dir=scratch,
        extra={"CREDITLINK_LOG_LEVEL": "WARNING"},
        ready_timeout=120,
    )
    client = httpx.AsyncClient(
        base_url=api.url, headers={"Authorization": "Bearer bench-key"}, timeout=60
    )

    def call(query: str) -> Call:
        async def run(sid: str) -> Any:
            response = await client.post(
                "/graphql", json={"query": query, "variables": {"id": sid}}
            )
            body = response.json()
            if body.get("errors"):
                raise RuntimeError(f"{sid}: {body['errors'][0]}")
            return body

        return run

    async def stop() -> None:
        await client.aclose()
        api.stop(timeout=30)

    return {name: call(q) for name, q in QUERIES.items()}, stop


def _neo4j(args: argparse.Namespace, resources: contextlib.ExitStack) -> Neo4jServer:
    """The Neo4j NEO4J_URI names, or the embedded one of `--data-dir`, started for the run
    (and stopped after it unless `--leave-running`)."""
    uri = os.environ.get("NEO4J_URI")
    if uri:
        return Neo4jServer.external(uri)
    data_dir = Path(args.data_dir or ROOT / ".data" / f"bench-risk-{args.scale}")
    # one Bolt port per data dir, remembered, so a left-running instance is reused
    port_file = data_dir / "bench-bolt-port"
    port = args.bolt_port or (int(port_file.read_text()) if port_file.exists() else free_port())
    data_dir.mkdir(parents=True, exist_ok=True)
    port_file.write_text(str(port))
    embedded = resources.enter_context(
        store_neo4j(
            data_dir,
            heap_mb=args.heap_mb,
            pagecache_mb=args.pagecache_mb,
            port=port,
            start_timeout=120,
            leave_running=args.leave_running,
        )
    )
    return Neo4jServer.of(embedded)


async def run(args: argparse.Namespace) -> None:
    with contextlib.ExitStack() as resources:
        await measure(args, _neo4j(args, resources))


async def measure(args: argparse.Namespace, neo4j: Neo4jServer) -> None:
    embedded = neo4j.embedded is not None
    driver = create_driver(neo4j.uri, neo4j.user, neo4j.password)
    graph = Graph(driver, neo4j.database)
    stop_http: Callable[[], Awaitable[None]] | None = None
    try:
        counts = await ensure_world(graph, args.scale, args.seed, args.reload, args.batch_size)
        version = (
            await graph.read("CALL dbms.components() YIELD versions RETURN versions[0] AS v")
        )[0]["v"]
        print(
            f"machine: {machine(version, args.heap_mb if embedded else None, args.pagecache_mb if embedded else None)}"
        )
        print(
            f"world: scale {args.scale}, seed {args.seed}: "
            + ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        )
        sample = await sample_ids(graph, args.samples, args.seed)
        ids = [i for kind in sample for i in sample[kind]]
        units = sample["ENTERPRISE"]
        random.Random(args.seed).shuffle(ids)
        if args.via == "http":
            calls, stop_http = http_calls(neo4j)
        else:
            calls = graph_calls(graph)
        print(
            f"sample: {len(ids)} subjects ({', '.join(f'{k} {len(v)}' for k, v in sample.items())}); "
            f"via {args.via}; {args.warmup} warm-up calls per query, then one call at a time"
        )
        print(f"{'query':28} {'n':>5} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        names = [n for n in QUERIES if n in TARGETS or args.all]
        for name in names:
            call = calls[name]
            targets = units if name in UNIT_ONLY else ids
            for sid in targets[: args.warmup]:
                await call(sid)
            timings = []
            for sid in targets:
                started = time.perf_counter()
                await call(sid)
                timings.append((time.perf_counter() - started) * 1000)
            mark = "  <- target p99 <= 100 ms" if name in TARGETS else ""
            print(
                f"{name:28} {len(timings):5d} {percentile(timings, 50):8.1f} {percentile(timings, 90):8.1f} "
                f"{percentile(timings, 99):8.1f} {max(timings):8.1f}{mark}"
            )
    finally:
        if stop_http:
            await stop_http()
        await driver.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scale", type=int, default=100_000, help="subjects in the world (default 100000)"
    )
    parser.add_argument("--seed", type=int, default=20261127, help="world and sample seed")
    parser.add_argument("--samples", type=int, default=1000, help="subjects timed per query")
    parser.add_argument("--warmup", type=int, default=100, help="untimed calls per query first")
    parser.add_argument("--via", choices=("graph", "http"), default="graph")
    parser.add_argument("--all", action="store_true", help="also time the other risk queries")
    parser.add_argument("--reload", action="store_true", help="wipe and reload the world")
    parser.add_argument("--batch-size", type=int, default=1000, help="rows per load transaction")
    parser.add_argument(
        "--data-dir", help="embedded Neo4j data dir (default .data/bench-risk-<scale>)"
    )
    parser.add_argument(
        "--bolt-port", type=int, help="embedded Neo4j Bolt port (default: a free one)"
    )
    parser.add_argument("--heap-mb", type=int, default=2048)
    parser.add_argument("--pagecache-mb", type=int, default=2048)
    parser.add_argument("--leave-running", action="store_true", help="keep the embedded Neo4j up")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
