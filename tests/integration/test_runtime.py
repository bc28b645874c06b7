"""The embedded Neo4j runs with Neo4j's own JVM defaults for a steady heap and logs
every collection, so a latency tail can be checked against the JVM's pauses."""

from __future__ import annotations

from pathlib import Path

import pytest

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
