"""The floor: the check's own Cypher through the driver, next to the check over HTTP.

    python -m bench.harness.floor SPEC.json [--no-rust]   -> one JSON object on stdout

For every sampled id, one request at a time: the exact query and fixed params
`CheckEngine.query_for(area)` returns (with `ids`, `at`, `day` as `check_many` sets
them) in a read transaction of the async driver, records materialised with `.data()`
as `Graph.read` does; then `jointSanctionCheck` for the same id over HTTP (keep-alive)
against each URL of SPEC["urls"] in turn, then `GET /healthz` on the first URL: the
same HTTP round trip without GraphQL, Neo4j or anything of the check, i.e. what the
transport alone adds. Interleaving per id keeps every variant under the same load from
the rest of the (shared) machine.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any
from urllib.parse import urlsplit


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    from neo4j import AsyncGraphDatabase, AsyncManagedTransaction

    from bench.harness.httpclient import Connection, graphql_request, host_port, ok
    from bench.harness.norust import rust_active
    from domain.time import utc_now
    from graph_model.checks import CheckEngine
    from rules.loader import load_catalogue
    from testkit.queries import CHECK_GQL

    engine = CheckEngine(load_catalogue())
    area = spec["area"]
    query, _ = engine.query_for(area)
    ids: list[str] = spec["ids"]
    rounds = int(spec.get("rounds", 3))
    urls: dict[str, str] = spec.get("urls", {})
    # SPEC["auth"]: [user, password], in the 0600 spec file rather than on the command line
    auth = tuple(spec["auth"]) if spec.get("auth") else None
    driver = AsyncGraphDatabase.driver(spec["uri"], auth=auth, notifications_min_severity="OFF")
    conns = {name: Connection(*host_port(url)) for name, url in urls.items()}
    # the transport alone: GET /healthz on the first API's own connection
    first = next(iter(urls), None)
    health = (conns[first], _healthz_request(urls[first])) if first is not None else None
    raws = {
        name: {
            i: graphql_request(url, CHECK_GQL, {"id": i, "area": area}, spec.get("key"))
            for i in ids
        }
        for name, url in urls.items()
    }

    async def work(tx: AsyncManagedTransaction, params: dict[str, Any]) -> list[dict[str, Any]]:
        result = await tx.run(query, params)
        return [record.data() async for record in result]

    driver_ms: list[float] = []
    managed_ms: list[float] = []
    http_ms: dict[str, list[float]] = {name: [] for name in urls}
    transport_ms: list[float] = []
    per_id: dict[str, list[list[float]]] = {i: [] for i in ids}  # [driver, *http in url order]
    errors = 0
    first_error = ""
    try:
        for r in range(rounds + 1):  # round 0 warms caches and plans, not recorded
            for sid in ids:
                _, params = engine.statement(area, [sid], utc_now())
                # the floor: the query as the product runs it (graph_model.driver.Graph._read),
                # an auto-commit transaction: RUN+PULL in one write, no BEGIN/COMMIT
                t0 = time.perf_counter()
                async with driver.session(database=spec.get("database", "neo4j")) as session:
                    result = await session.run(query, params)
                    [record.data() async for record in result]
                timings = [(time.perf_counter() - t0) * 1000]
                # for comparison: the same query in a managed transaction (execute_read)
                t0 = time.perf_counter()
                async with driver.session(database=spec.get("database", "neo4j")) as session:
                    await session.execute_read(work, params)
                managed = (time.perf_counter() - t0) * 1000
                for name, conn in conns.items():
                    t0 = time.perf_counter()
                    status, body = await conn.request(raws[name][sid])
                    timings.append((time.perf_counter() - t0) * 1000)
                    if not ok(status, body):
                        errors += 1
                        first_error = first_error or body[:500].decode(errors="replace")
                if health is not None:
                    health_conn, health_request = health
                    t0 = time.perf_counter()
                    status, body = await health_conn.request(health_request)
                    if r:
                        transport_ms.append((time.perf_counter() - t0) * 1000)
                    if status != 200:
                        errors += 1
                        first_error = first_error or body[:500].decode(errors="replace")
                if r:
                    driver_ms.append(timings[0])
                    managed_ms.append(managed)
                    for name, t in zip(conns, timings[1:], strict=True):
                        http_ms[name].append(t)
                    per_id[sid].append(timings)
    finally:
        for conn in conns.values():
            await conn.close()
        await driver.close()
    return {
        "rust_ext": rust_active(),
        "driver_ms": driver_ms,
        "driver_managed_ms": managed_ms,
        "http_ms": http_ms,
        "transport_ms": transport_ms,
        "http_errors": errors,
        "first_error": first_error,
        "per_id": per_id,
    }


def _healthz_request(graphql_url: str) -> bytes:
    parts = urlsplit(graphql_url)
    return f"GET /healthz HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n\r\n".encode()


def main() -> int:
    if "--no-rust" in sys.argv[2:]:
        from bench.harness import norust

        norust.install()
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    print(json.dumps(asyncio.run(run(spec))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
