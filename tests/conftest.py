"""Shared fixtures: a real Neo4j started once per test session, and the real app over HTTP.

The servers themselves come from `testkit` (shared with bench/); this module holds the
session's choices: one key per role, the test data dir, the Neo4j to use.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings

from api.settings import PROJECT_ROOT, Settings
from graph_model.driver import Graph, create_driver
from graph_model.journal import Journal
from testkit import api as testkit_api
from testkit import free_port
from testkit.api import run_app
from testkit.keys import write_keys_file
from testkit.neo4j import Neo4jServer, fresh_neo4j

__all__ = [
    "TEST_DATA",
    "TEST_KEYS",
    "ApiServer",
    "Neo4jServer",
    "api_settings",
    "free_port",
    "run_app",
    "serving",
]

TEST_DATA = PROJECT_ROOT / ".data" / "test"

# Wall-clock deadlines make property tests flaky on a busy 2-core machine; speed is measured
# in bench/, never asserted here.
hypothesis_settings.register_profile("creditlink", deadline=None, print_blob=True)
hypothesis_settings.load_profile("creditlink")

# One key per role; the departments are catalogue ids.
TEST_KEYS: dict[str, tuple[str, str | None]] = {
    "approval-key": ("APPROVAL_SYSTEM", "wz-public-resources"),
    "approval-other-key": ("APPROVAL_SYSTEM", "wz-hrss"),
    "court-key": ("ISSUER", "wz-intermediate-court"),
    "tax-key": ("ISSUER", "wz-tax"),
    "amr-key": ("ISSUER", "wz-amr"),
    "regulator-key": ("REGULATOR", None),
    "admin-key": ("ADMIN", None),
    "public-key": ("PUBLIC", None),
    "partner-key": ("PARTNER", None),
}


@pytest.fixture(scope="session")
def neo4j_server() -> Iterator[Neo4jServer]:
    external = os.environ.get("CREDITLINK_TEST_NEO4J_URI")
    if external:
        # a throwaway server only: integration tests wipe the database between tests
        yield Neo4jServer.external(external)
        return
    discard_orphan_journals(TEST_DATA / "journal")
    with fresh_neo4j(TEST_DATA / f"neo4j-{os.getpid()}", heap_mb=1024, pagecache_mb=256) as neo4j:
        yield Neo4jServer.of(neo4j)


def discard_orphan_journals(directory: Path) -> None:
    """Record journals an earlier, killed test session left: their records belong to its
    database, not to this session's fresh one (a live session's segments are locked)."""
    for name in ("checkRecords", "accessRecords"):
        for path, fd in Journal(directory, name).orphans():
            Journal.discard(path, fd)


@pytest.fixture(scope="session")
async def graph(neo4j_server: Neo4jServer) -> AsyncIterator[Graph]:
    from graph_model import migrations

    driver = create_driver(neo4j_server.uri, neo4j_server.user, neo4j_server.password)
    g = Graph(driver, neo4j_server.database)
    await migrations.apply_migrations(g)
    try:
        yield g
    finally:
        await driver.close()


@pytest.fixture(scope="session")
def driver(graph: Graph) -> Any:
    return graph.driver


@pytest.fixture(scope="session")
def database(graph: Graph) -> str:
    return graph.database


@pytest.fixture(scope="session")
def keys_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # digests, as production files hold them: plain keys are refused by default, and these
    # short test keys would be refused anyway (a plain key needs 16 characters)
    table = {
        key.removesuffix("-key"): (role, department, key)
        for key, (role, department) in TEST_KEYS.items()
    }
    return write_keys_file(tmp_path_factory.mktemp("keys") / "keys.toml", table)


@dataclass(frozen=True)
class ApiServer:
    url: str
    settings: Settings
    app: Any = None  # the ASGI app, served in this process

    def post(
        self, query: str, variables: dict[str, Any] | None = None, key: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=60,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@contextlib.contextmanager
def serving(settings: Settings) -> Iterator[ApiServer]:
    with run_app(settings) as app:
        yield ApiServer(f"http://127.0.0.1:{settings.port}", settings, app)


def api_settings(neo4j_server: Neo4jServer, keys_file: Path, **overrides: Any) -> Settings:
    """Settings for an API over the test Neo4j: no demo seed, the test data dir, GraphiQL
    on unless overridden."""
    overrides.setdefault("graphiql", True)
    overrides.setdefault("data_dir", TEST_DATA)
    return testkit_api.api_settings(neo4j_server, keys_file, **overrides)


@pytest.fixture(scope="session")
def api_server(neo4j_server: Neo4jServer, keys_file: Path) -> Iterator[ApiServer]:
    with serving(api_settings(neo4j_server, keys_file)) as server:
        yield server
