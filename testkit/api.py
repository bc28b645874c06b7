"""The API for tests and the benchmark: the real app in a thread, or `creditlink serve`
as a process of its own, each returned once `GET /readyz` answers 200.

`run_app` serves `create_app(settings)` with the production server configuration
(`api.server.server_config`: the connection cap, header and body deadlines, size caps),
so what a test sees over HTTP is what a deployment answers. `api_process` starts the
shipped command with its settings in the environment, as an operator would.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import uvicorn

from api.settings import PROJECT_ROOT, Settings
from testkit import free_port
from testkit.neo4j import Neo4jServer

SERVE = ("-m", "api.cli", "serve")


def wait_ready(
    url: str,
    *,
    timeout: float = 300.0,
    accept: frozenset[int] = frozenset({200}),
    process: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
    interval: float = 0.1,
) -> None:
    """Return once `url` answers with a status in `accept`. Raises RuntimeError when
    `timeout` passes first, or when `process` (the server, if it is one) exits; the
    message then ends with the tail of `log`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log is not None else ""
            raise RuntimeError(f"the server exited with {process.returncode} ({url}):\n{tail}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=10).status_code in accept:
                return
        time.sleep(interval)
    where = f"; see {log}" if log is not None else ""
    raise RuntimeError(f"{url} was not ready in {timeout:.0f} s{where}")


def api_settings(neo4j: Neo4jServer, keys_file: Path, data_dir: Path, **overrides: Any) -> Settings:
    """Settings for an API over `neo4j` on a free port: no demo seed, the given keys file;
    `overrides` are further Settings fields."""
    values: dict[str, Any] = {
        "port": free_port(),
        "data_dir": data_dir,
        "neo4j_uri": neo4j.uri,
        "neo4j_user": neo4j.user,
        "neo4j_password": neo4j.password,
        "neo4j_database": neo4j.database,
        "api_keys_file": keys_file,
        "seed": "none",
    }
    return Settings(**{**values, **overrides})


@contextlib.contextmanager
def run_app(
    settings: Settings, *, ready_path: str = "/readyz", timeout: float = 300.0
) -> Iterator[Any]:
    """The real app (create_app) under uvicorn in a thread on `settings.port`, yielded once
    `ready_path` answers 200, stopped when the block ends."""
    from api.app import create_app
    from api.server import server_config

    app = create_app(settings)
    server = uvicorn.Server(server_config(app, settings))  # as `creditlink serve` runs it
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_ready(f"http://127.0.0.1:{settings.port}{ready_path}", timeout=timeout)
        yield app
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@dataclass
class ApiProcess:
    """A server process on loopback: `url` is its base (no path)."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path | None = None

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (uvicorn's graceful shutdown), SIGKILL past `timeout`."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def serve_environment(
    neo4j: Neo4jServer,
    *,
    port: int,
    keys_file: Path,
    data_dir: Path,
    seed: str = "none",
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """This process's environment with the settings `creditlink serve` reads: Neo4j's
    address and credentials (in the environment, never on a command line, which other
    users can read), the port, the keys file, the data dir, the seed, one worker process
    (the CPU count is the default), then `extra`."""
    pythonpath = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
    return {
        **os.environ,
        "PYTHONPATH": pythonpath,  # this checkout's code, whatever the venv's install names
        "NEO4J_URI": neo4j.uri,
        "NEO4J_USER": neo4j.user,
        "NEO4J_PASSWORD": neo4j.password,
        "NEO4J_DATABASE": neo4j.database,
        "CREDITLINK_HOST": "127.0.0.1",
        "CREDITLINK_PORT": str(port),
        "CREDITLINK_SEED": seed,
        "CREDITLINK_API_KEYS_FILE": str(keys_file),
        "CREDITLINK_DATA_DIR": str(data_dir),
        "CREDITLINK_WORKERS": "1",
        **(extra or {}),
    }


def start_api_process(
    neo4j: Neo4jServer,
    *,
    keys_file: Path,
    data_dir: Path,
    log: Path | None = None,
    seed: str = "none",
    extra: Mapping[str, str] | None = None,
    command: Sequence[str] = SERVE,
    ready_timeout: float = 300.0,
    port: int | None = None,
    append_log: bool = False,
) -> ApiProcess:
    """`python <command>` (`creditlink serve` by default) against `neo4j` on `port` (a
    free one by default), returned ready. Its output goes to `log` (rewritten, or
    appended to with `append_log`), or nowhere."""
    port = port or free_port()
    environment = serve_environment(
        neo4j, port=port, keys_file=keys_file, data_dir=data_dir, seed=seed, extra=extra
    )
    out: IO[bytes] | int = (
        log.open("ab" if append_log else "wb") if log is not None else subprocess.DEVNULL
    )
    try:
        proc = subprocess.Popen(
            [sys.executable, *command],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    finally:
        if not isinstance(out, int):
            out.close()  # the child has its own descriptor
    api = ApiProcess(f"http://127.0.0.1:{port}", proc, log)
    try:
        wait_ready(f"{api.url}/readyz", timeout=ready_timeout, process=proc, log=log)
    except BaseException:
        api.stop()
        raise
    return api


@contextlib.contextmanager
def api_process(neo4j: Neo4jServer, **options: Any) -> Iterator[ApiProcess]:
    """`start_api_process(neo4j, **options)`, stopped when the block ends."""
    api = start_api_process(neo4j, **options)
    try:
        yield api
    finally:
        api.stop()
