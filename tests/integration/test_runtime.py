"""The embedded Neo4j runs with Neo4j's own JVM defaults for a steady heap, logs every
collection, so a latency tail can be checked against the JVM's pauses, and keeps no
recent queries in its data collector."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph_model.driver import Graph
from tests.conftest import Neo4jServer


def test_heap_at_full_size_from_the_start_and_collections_logged(
    neo4j_server: Neo4jServer,
) -> None:
    embedded = neo4j_server.embedded
    if embedded is None:
        pytest.skip("an external Neo4j: its JVM is not ours to set")
    pid = embedded.running_pid()
    assert pid is not None
    args = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    heap = f"{embedded.heap_mb}m"
    assert f"-Xms{heap}" in args and f"-Xmx{heap}" in args
    assert "-XX:+AlwaysPreTouch" in args
    log = embedded.gc_log.read_text()
    assert "Using G1" in log


async def test_the_data_collector_keeps_no_queries(neo4j_server: Neo4jServer, graph: Graph) -> None:
    # kept, each check's parameters outlived young collections and lengthened every
    # pause (bench/README.md, "Tail at half load")
    if neo4j_server.embedded is None:
        pytest.skip("an external Neo4j: its settings are not ours to set")
    await graph.write("CALL db.stats.clear('QUERIES')")
    await graph.write("CALL db.stats.collect('QUERIES')")
    try:
        status = await graph.read(
            "CALL db.stats.status() YIELD section, status RETURN section, status"
        )
        assert {"section": "QUERIES", "status": "collecting"} in status, status
        for n in range(5):
            await graph.read("RETURN $n AS collected", {"n": n})
        rows = await graph.read(
            "CALL db.stats.retrieve('QUERIES') YIELD section, data RETURN data.query AS query"
        )
    finally:
        await graph.write("CALL db.stats.stop('QUERIES')")
    # with the collector's default (8,192 recent queries) the query would be one row here
    assert not [r for r in rows if "collected" in str(r["query"])], rows
