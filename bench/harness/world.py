"""The benchmark's own store: an embedded Neo4j on a private data dir, loaded once per scale.

`prepare()` reuses a store whose marker (`bench-world.json`) names the same scale and
seed and a completed load; otherwise it wipes the data dir, loads the seeds generator's
world (parallel UNWIND batches through `seeds.loader`, or `neo4j-admin database import
full` through `seeds.admin_import`), applies migrations and writes the marker.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from domain.vocabulary import Label
from graph_model import migrations
from graph_model.catalogue_sync import sync_departments
from graph_model.contact_key import KEY_FILE_NAME, ContactKey, ensure_keyed, load_key
from graph_model.driver import Graph, create_driver
from graph_model.runtime.embedded import EmbeddedNeo4j
from rules.loader import load_catalogue
from seeds.admin_import import proc_memory_mb
from seeds.generator import WorldSpec, generate
from testkit import free_port

MARKER = "bench-world.json"


def memory_for(scale: int) -> tuple[int, int]:
    """(heap MB, page cache MB) for a scale: the store in cache, the heap for the planner
    and concurrent reads; the 9.47M city gets 6 GiB + 10 GiB of the 24 GiB box."""
    heap = 1024 if scale <= 200_000 else 2048 if scale <= 2_000_000 else 6144
    pagecache = int(min(10_240, 512 + scale * 0.0012))
    return heap, pagecache


def peak_rss_mb(pid: int) -> float | None:
    peak = proc_memory_mb(pid, "VmHWM")
    return round(peak, 1) if peak is not None else None


@dataclass
class Store:
    data_dir: Path
    neo4j: EmbeddedNeo4j
    pid: int
    marker: dict[str, Any]
    reused: bool

    @property
    def uri(self) -> str:
        return self.neo4j.uri

    @property
    def auth(self) -> tuple[str, str]:
        return self.neo4j.auth


def env_auth() -> tuple[str, str]:
    """(user, password) for a Neo4j named by NEO4J_URI, as `creditlink serve` reads them."""
    return os.environ.get("NEO4J_USER") or "neo4j", os.environ.get("NEO4J_PASSWORD") or ""


async def _migrate(neo4j: EmbeddedNeo4j) -> None:
    driver = create_driver(neo4j.uri, *neo4j.auth)
    graph = Graph(driver, "neo4j")
    try:
        await migrations.apply_migrations(graph)  # returns once every index is ONLINE
        await sync_departments(graph, load_catalogue())
        # a store loaded before contact hashes were keyed is keyed now, once
        await ensure_keyed(graph, contact_key(neo4j.data_dir))
    finally:
        await driver.close()


def contact_key(data_dir: Path) -> ContactKey:
    """The store's contact hash key, beside it in the data dir (made with a fresh store)."""
    return load_key(data_dir / KEY_FILE_NAME, create=True)


async def _load_unwind(spec: WorldSpec, neo4j: EmbeddedNeo4j, batch_size: int) -> dict[str, int]:
    from seeds.loader import load_world

    driver = create_driver(neo4j.uri, *neo4j.auth)
    try:
        return await load_world(
            driver,
            "neo4j",
            generate(spec),
            contact_key=contact_key(neo4j.data_dir),
            batch_size=batch_size,
        )
    finally:
        await driver.close()


async def _clear_check_records(neo4j: EmbeddedNeo4j) -> int:
    """CheckRecords and CheckBatches of earlier runs, so every run measures the same graph.

    One auto-commit statement per 20,000 records: after hand experiments a store can hold
    millions, and one statement over all of them outlives the server's 60 s transaction
    timeout even with `CALL { } IN TRANSACTIONS`.
    """
    driver = create_driver(neo4j.uri, *neo4j.auth)
    deleted = 0
    try:
        while True:
            async with driver.session(database="neo4j") as session:
                result = await session.run(
                    f"MATCH (c:{Label.CHECK_RECORD.value}|{Label.CHECK_BATCH.value}) "
                    "WITH c LIMIT 20000 DETACH DELETE c"
                )
                summary = await result.consume()
            batch = int(summary.counters.nodes_deleted)
            deleted += batch
            if batch == 0:
                return deleted
    finally:
        await driver.close()


def prepare(
    scale: int,
    seed: int,
    data_dir: Path,
    *,
    heap_mb: int,
    pagecache_mb: int,
    loader: str = "unwind",
    batch_size: int = 5000,
    rates: tuple[float, float] | None = None,
    log: Any = print,
) -> Store:
    """`rates`: (unit, person) sanction rates; the generator's defaults when None.

    Every scale's world has link history (ended ties, `seeds/history.py`), so the 100k, 1M
    and city worlds are the same kind of world; a store loaded without it is not reused.
    """
    spec = WorldSpec(scale, seed=seed, link_history=True)
    if rates is not None:
        spec = replace(spec, unit_sanction_rate=rates[0], person_sanction_rate=rates[1])
    wanted_rates = [spec.unit_sanction_rate, spec.person_sanction_rate]
    marker_path = data_dir / MARKER
    marker: dict[str, Any] | None = None
    if marker_path.exists():
        marker = json.loads(marker_path.read_text())
        if (
            marker.get("scale") != scale
            or marker.get("seed") != seed
            or marker.get("sanction_rates", wanted_rates) != wanted_rates
            or marker.get("link_history", False) != spec.link_history
            or not marker.get("complete")
        ):
            marker = None
    port = free_port()
    if marker is not None:
        neo4j = EmbeddedNeo4j(data_dir, port, heap_mb, pagecache_mb)
        # an instance left running on this dir (--keep) is reused as it is
        old = EmbeddedNeo4j(data_dir, int(marker.get("bolt_port", port)), heap_mb, pagecache_mb)
        if old.running_pid() is not None and old.bolt_answers():
            neo4j = old
        log(f"reusing the {scale:,}-subject store in {data_dir} (loaded {marker['loaded_at']})")
        pid = neo4j.start(timeout=600)
        try:
            asyncio.run(_migrate(neo4j))
            cleared = asyncio.run(_clear_check_records(neo4j))
        except BaseException:
            neo4j.stop()  # a failed run must not leave the store locked by its Neo4j
            raise
        if cleared:
            log(f"removed {cleared:,} CheckRecords of earlier runs")
        marker["bolt_port"] = neo4j.bolt_port
        marker_path.write_text(json.dumps(marker, indent=2))
        return Store(data_dir, neo4j, pid, marker, reused=True)

    EmbeddedNeo4j(data_dir, port).stop()
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    neo4j = EmbeddedNeo4j(data_dir, port, heap_mb, pagecache_mb)
    log(f"generating and loading {scale:,} subjects (seed {seed}, {loader}) into {data_dir}")
    started = time.perf_counter()
    phases: dict[str, float] = {}
    import_peak: float | None = None
    if loader == "admin":
        from seeds.admin_import import import_world

        report = import_world(
            generate(spec), data_dir / "neo4j", contact_key=contact_key(data_dir), log=log
        )
        phases.update(report.seconds)
        import_peak = report.peak_rss_mb
        counts = report.counts
        t0 = time.perf_counter()
        pid = neo4j.start(timeout=1800)
        asyncio.run(_migrate(neo4j))
        phases["start+indexes"] = time.perf_counter() - t0
    else:
        pid = neo4j.start(timeout=600)
        asyncio.run(_migrate(neo4j))
        t0 = time.perf_counter()
        counts = asyncio.run(_load_unwind(spec, neo4j, batch_size))
        phases["generate+load"] = time.perf_counter() - t0
    elapsed = time.perf_counter() - started
    marker = {
        "scale": scale,
        "seed": seed,
        "sanction_rates": wanted_rates,
        "link_history": spec.link_history,
        "loader": loader,
        "complete": True,
        "loaded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "load_seconds": round(elapsed, 1),
        "phases_seconds": {k: round(v, 1) for k, v in phases.items()},
        "counts": counts,
        "peak_rss_mb": {
            "loader_python": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "neo4j": peak_rss_mb(pid),
            "neo4j_admin_import": import_peak,
        },
        "bolt_port": port,
        "heap_mb": heap_mb,
        "pagecache_mb": pagecache_mb,
    }
    marker_path.write_text(json.dumps(marker, indent=2))
    log(
        f"loaded in {elapsed:,.0f}s; peak RSS: Python {marker['peak_rss_mb']['loader_python']} MB, "
        f"Neo4j {marker['peak_rss_mb']['neo4j']} MB"
    )
    return Store(data_dir, neo4j, pid, marker, reused=False)
