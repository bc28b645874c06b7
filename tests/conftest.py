"""Shared fixtures: a real Neo4j started once per test session, and the real app over HTTP."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from hypothesis import settings as hypothesis_settings

from api.settings import PROJECT_ROOT, Settings
from graph_model.driver import Graph, create_driver
from graph_model.runtime.embedded import EmbeddedNeo4j

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
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Neo4jServer:
    uri: str
    database: str
    embedded: EmbeddedNeo4j | None
    user: str = "neo4j"
    password: str = ""


@pytest.fixture(scope="session")
def neo4j_server() -> Iterator[Neo4jServer]:
    external = os.environ.get("CREDITLINK_TEST_NEO4J_URI")
    if external:
        # a throwaway server only: integration tests wipe the database between tests
        yield Neo4jServer(
            external,
            os.environ.get("NEO4J_DATABASE", "neo4j"),
            None,
            os.environ.get("NEO4J_USER") or "neo4j",
            os.environ.get("NEO4J_PASSWORD") or "",
        )
        return
    data_dir = TEST_DATA / f"neo4j-{os.getpid()}"
    shutil.rmtree(data_dir, ignore_errors=True)
    server = EmbeddedNeo4j(data_dir, free_port(), heap_mb=1024, pagecache_mb=256)
    server.start()
    try:
        yield Neo4jServer(server.uri, "neo4j", server, *server.auth)
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


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
    import hashlib

    # stored as digests, as production files are: plain keys are refused by default, and these
    # short test keys would be refused anyway (a plain key needs 16 characters)
    path = tmp_path_factory.mktemp("keys") / "keys.toml"
    lines = []
    for key, (role, department) in TEST_KEYS.items():
        lines += [
            "[[keys]]",
            f'name = "{key.removesuffix("-key")}"',
            f'key_sha256 = "{hashlib.sha256(key.encode()).hexdigest()}"',
            f'role = "{role}"',
        ]
        if department:
            lines.append(f'department = "{department}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class ApiServer:
    url: str
    settings: Settings

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
def run_app(
    settings: Settings, *, ready_path: str = "/readyz", timeout: float = 300.0
) -> Iterator[Any]:
    """The real app (create_app) under uvicorn in a thread on `settings.port`, yielded once
    `ready_path` answers 200, stopped when the block ends."""
    from api.app import create_app
    from api.server import server_config

    app = create_app(settings)
    config = server_config(app, settings)  # as `creditlink serve` runs it: limits included
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{settings.port}"
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}{ready_path}", timeout=10).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("the API did not become ready")
        yield app
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextlib.contextmanager
def serving(settings: Settings) -> Iterator[ApiServer]:
    with run_app(settings):
        yield ApiServer(f"http://127.0.0.1:{settings.port}", settings)


def api_settings(neo4j_server: Neo4jServer, keys_file: Path, **overrides: Any) -> Settings:
    return Settings(
        port=free_port(),
        data_dir=TEST_DATA,
        neo4j_uri=neo4j_server.uri,
        neo4j_user=neo4j_server.user,
        neo4j_password=neo4j_server.password,
        neo4j_database=neo4j_server.database,
        api_keys_file=keys_file,
        seed="none",
        **overrides,
    )


@pytest.fixture(scope="session")
def api_server(neo4j_server: Neo4jServer, keys_file: Path) -> Iterator[ApiServer]:
    with serving(api_settings(neo4j_server, keys_file)) as server:
        yield server
