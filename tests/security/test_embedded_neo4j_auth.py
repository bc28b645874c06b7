"""The embedded Neo4j requires authentication: user `neo4j`, with the password generated
into `<data dir>/neo4j-password` (0600), so another local user cannot read the store over
Bolt.

Real Neo4j instances of their own on temporary data dirs (the session's is left alone):
one fresh store, restarted once, and one store made by Neo4j with authentication off, as
every store was before.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import neo4j
import pytest
from neo4j.exceptions import AuthError

from api.settings import Settings
from graph_model.runtime.embedded import (
    JAR,
    LIB,
    EmbeddedNeo4j,
    EmbeddedNeo4jError,
    _java,
    embedded_password,
)
from testkit.neo4j import fresh_neo4j
from tests.conftest import free_port, run_app

# A store as Neo4j makes it with authentication off (the embedded default, and what the
# launcher ran before): user `neo4j` exists with the default password, change required.
PRE_AUTH_STORE = """
import java.nio.file.Path;
import java.util.Map;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;

public class PreAuthStore {
    public static void main(String[] args) {
        var service = new DatabaseManagementServiceBuilder(Path.of(args[0])).build();
        service.database("neo4j").executeTransactionally(
                "CREATE (:PreAuthMarker {id: $id})", Map.of("id", args[1]));
        service.shutdown();
    }
}
"""


def _read_one(uri: str, auth: tuple[str, str] | None, query: str = "RETURN 1 AS n") -> object:
    with (
        neo4j.GraphDatabase.driver(uri, auth=auth, connection_timeout=10) as driver,
        driver.session(database="neo4j") as session,
    ):
        record = session.run(query).single()
        assert record is not None
        return record[0]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNeo4j]:
    data_dir = tmp_path_factory.mktemp("auth") / "data"
    with fresh_neo4j(data_dir, heap_mb=512, pagecache_mb=64, stop_timeout=15) as server:
        yield server


def test_bolt_refuses_no_credentials_and_a_wrong_password(store: EmbeddedNeo4j) -> None:
    with pytest.raises(AuthError):
        _read_one(store.uri, None)
    with pytest.raises(AuthError):
        _read_one(store.uri, ("neo4j", "neo4j"))  # Neo4j's default password
    with pytest.raises(AuthError):
        _read_one(store.uri, ("neo4j", store.password + "x"))


def test_the_generated_password_in_a_0600_file_lets_the_driver_in(store: EmbeddedNeo4j) -> None:
    path = store.data_dir / "neo4j-password"
    assert _mode(path) == 0o600
    assert _mode(store.data_dir) == 0o700  # the store's own files are not for others either
    password = path.read_text(encoding="utf-8").strip()
    assert len(password) >= 32
    assert store.auth == ("neo4j", password)
    assert _read_one(store.uri, ("neo4j", password)) == 1


def test_the_password_is_not_on_the_command_line(store: EmbeddedNeo4j) -> None:
    # /proc/<pid>/cmdline is readable by every local user
    pid = store.running_pid()
    assert pid is not None
    args = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
    assert store.password not in args
    assert "creditlink.runtime.Launcher" in args


def test_the_api_on_the_embedded_neo4j_uses_the_password(
    store: EmbeddedNeo4j, keys_file: Path
) -> None:
    """The app as `creditlink serve` runs it (NEO4J_URI unset), and a second API started as
    the contract says: NEO4J_URI, NEO4J_USER=neo4j, NEO4J_PASSWORD=<the first's password>."""
    embedded = Settings(
        port=free_port(),
        data_dir=store.data_dir,
        bolt_port=store.bolt_port,
        api_keys_file=keys_file,
        seed="none",
    )
    assert embedded.embedded
    assert embedded.neo4j_auth() == ("neo4j", store.password)
    second = Settings.from_env(
        {
            "NEO4J_URI": store.uri,
            "NEO4J_USER": "neo4j",
            "NEO4J_PASSWORD": store.password,
            "CREDITLINK_PORT": str(free_port()),
            "CREDITLINK_DATA_DIR": str(store.data_dir.parent / "second"),
            "CREDITLINK_API_KEYS_FILE": str(keys_file),
            "CREDITLINK_SEED": "none",
        }
    )
    assert second.neo4j_auth() == ("neo4j", store.password)
    for settings in (embedded, second):
        with run_app(settings, timeout=120):
            ready = httpx.get(f"http://127.0.0.1:{settings.port}/readyz", timeout=15)
            assert ready.status_code == 200, ready.text


def test_a_restart_keeps_the_same_password(store: EmbeddedNeo4j) -> None:
    password = store.password
    assert store.stop(timeout=30)
    store.start()
    assert store.password == password
    assert _read_one(store.uri, ("neo4j", password)) == 1
    with pytest.raises(AuthError):
        _read_one(store.uri, None)


def test_a_store_made_without_authentication_gets_the_password(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "neo4j").mkdir(parents=True)
    source = tmp_path / "PreAuthStore.java"
    source.write_text(PRE_AUTH_STORE, encoding="utf-8")
    subprocess.run(
        [_java(), "-cp", f"{JAR}{os.pathsep}{LIB}/*", str(source), str(data_dir / "neo4j"), "m-1"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert not (data_dir / "neo4j-password").exists()
    server = EmbeddedNeo4j(data_dir, free_port(), heap_mb=512, pagecache_mb=64)
    server.start()
    try:
        assert _mode(data_dir / "neo4j-password") == 0o600
        with pytest.raises(AuthError):
            _read_one(server.uri, None)
        with pytest.raises(AuthError):
            _read_one(server.uri, ("neo4j", "neo4j"))
        marker = "MATCH (m:PreAuthMarker) RETURN m.id"
        assert _read_one(server.uri, server.auth, marker) == "m-1"
    finally:
        server.stop(timeout=15)


# ---- the password file -----------------------------------------------------------------


def test_a_password_file_others_can_read_is_refused_before_neo4j_starts(tmp_path: Path) -> None:
    path = tmp_path / "neo4j-password"
    path.write_text("a-password-others-have-seen\n", encoding="utf-8")
    path.chmod(0o644)
    with pytest.raises(EmbeddedNeo4jError, match="neo4j-password is readable by other users"):
        embedded_password(tmp_path)
    server = EmbeddedNeo4j(tmp_path, free_port())
    with pytest.raises(EmbeddedNeo4jError, match="chmod 600"):
        server.start()
    assert server.running_pid() is None
    assert not (tmp_path / "logs" / "launcher.log").exists()


def test_neo4j_start_names_a_readable_password_file_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.cli import main as cli_main

    path = tmp_path / "neo4j-password"
    path.write_text("a-password-others-have-seen\n", encoding="utf-8")
    path.chmod(0o640)
    monkeypatch.delenv("NEO4J_URI", raising=False)
    monkeypatch.setenv("CREDITLINK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CREDITLINK_NEO4J_BOLT_PORT", str(free_port()))
    assert cli_main(["neo4j-start"]) == 2
    err = capsys.readouterr().err
    assert f"{path} is readable by other users (mode 640)" in err
    assert "Traceback" not in err
    assert not (tmp_path / "neo4j.ready").exists()


def test_an_empty_password_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "neo4j-password"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    with pytest.raises(EmbeddedNeo4jError, match="neo4j-password is empty"):
        embedded_password(tmp_path)


def test_no_password_file_names_the_missing_file(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(EmbeddedNeo4jError, match=f"no {tmp_path}/neo4j-password"):
        settings.neo4j_auth()
