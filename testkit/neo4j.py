"""An embedded Neo4j for a test session, a test of its own, or a benchmark run.

`fresh_neo4j` empties its data dir and starts on a free Bolt port; `store_neo4j` starts
on a data dir kept between runs (a loaded benchmark world) as it is. Both stop the
server when their block ends. `Neo4jServer` says where a Neo4j answers and how to log in,
whether embedded here or external.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from graph_model.runtime.embedded import EmbeddedNeo4j
from testkit import free_port


@dataclass(frozen=True)
class Neo4jServer:
    uri: str
    database: str = "neo4j"
    embedded: EmbeddedNeo4j | None = None
    user: str = "neo4j"
    password: str = ""

    @classmethod
    def of(cls, neo4j: EmbeddedNeo4j) -> Neo4jServer:
        """An embedded Neo4j's address and generated credentials."""
        return cls(neo4j.uri, "neo4j", neo4j, *neo4j.auth)

    @property
    def auth(self) -> tuple[str, str]:
        return self.user, self.password

    @classmethod
    def external(cls, uri: str, environ: Mapping[str, str] = os.environ) -> Neo4jServer:
        """A Neo4j at `uri` with the database and credentials the contract's variables
        name (NEO4J_DATABASE, NEO4J_USER, NEO4J_PASSWORD; defaults neo4j, neo4j, none)."""
        return cls(
            uri,
            environ.get("NEO4J_DATABASE") or "neo4j",
            None,
            environ.get("NEO4J_USER") or "neo4j",
            environ.get("NEO4J_PASSWORD") or "",
        )


@contextlib.contextmanager
def store_neo4j(
    data_dir: Path,
    *,
    heap_mb: int = 1024,
    pagecache_mb: int = 256,
    port: int | None = None,
    start_timeout: float = 600.0,
    stop_timeout: float = 60.0,
    leave_running: bool = False,
) -> Iterator[EmbeddedNeo4j]:
    """The embedded Neo4j of `data_dir` as it is, on `port` (a free one by default),
    started (an instance already running there is reused); stopped when the block ends
    unless `leave_running`."""
    neo4j = EmbeddedNeo4j(data_dir, port or free_port(), heap_mb, pagecache_mb)
    neo4j.start(timeout=start_timeout)
    try:
        yield neo4j
    finally:
        if not leave_running:
            neo4j.stop(timeout=stop_timeout)


@contextlib.contextmanager
def fresh_neo4j(
    data_dir: Path,
    *,
    heap_mb: int = 1024,
    pagecache_mb: int = 256,
    start_timeout: float = 300.0,
    stop_timeout: float = 60.0,
    keep: bool = False,
) -> Iterator[EmbeddedNeo4j]:
    """An empty embedded Neo4j on `data_dir` (emptied first) and a free Bolt port; stopped
    and its data dir removed (unless `keep`) when the block ends.

    A short `stop_timeout` suits data that is thrown away: past it, the server is killed
    rather than waited on through a graceful shutdown (10 s and more)."""
    shutil.rmtree(data_dir, ignore_errors=True)
    try:
        with store_neo4j(
            data_dir,
            heap_mb=heap_mb,
            pagecache_mb=pagecache_mb,
            start_timeout=start_timeout,
            stop_timeout=stop_timeout,
        ) as neo4j:
            yield neo4j
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)
