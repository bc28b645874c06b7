"""Fixtures shared by the tests and the benchmark: an embedded Neo4j, a keys file, the API.

Not part of the product (not installed, imported by no product module): `tests/` and
`bench/` build their servers from it, so starting Neo4j, writing a keys file and waiting
for the API to be ready are written once.

- `testkit.neo4j`: an embedded Neo4j on a fresh data dir, or on a kept store;
- `testkit.keys`: a keys file of digests, private to its owner;
- `testkit.api`: the real app in a thread, or `creditlink serve` as a process, ready.
"""

from __future__ import annotations

import socket

# the product's default API and Bolt ports: a server started later by hand (`make run`)
# must not find them taken by a test's or a run's server
RESERVED_PORTS = frozenset({7687, 8000})


def free_port() -> int:
    """A loopback TCP port nothing listens on now (never one of the product's defaults)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in RESERVED_PORTS:
            return port
