"""Many API processes over one Neo4j behave as one API (API_CONTRACT.md, "Many
processes, one behaviour"): feedback on any process for a check answered by another,
statistics counting every process's checks once, and `creditlink serve` with several
workers on one port, a dead worker replaced.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit.api import ApiProcess, start_api_process
from testkit.neo4j import Neo4jServer
from tests.integration.helpers import (
    CLOSED_LOOP_CHECK,
    CLOSED_LOOP_FEEDBACK,
    CLOSED_LOOP_KEY,
    CLOSED_LOOP_STATS,
    enterprise_id,
)

HEADERS = {"Authorization": f"Bearer {CLOSED_LOOP_KEY}"}


def _start(neo4j: Neo4jServer, keys_file: Path, where: Path, **extra: str) -> ApiProcess:
    where.mkdir(parents=True, exist_ok=True)
    return start_api_process(
        neo4j, keys_file=keys_file, data_dir=where, log=where / "api.log", extra=extra
    )


@pytest.fixture
def two_apis(
    neo4j_server: Neo4jServer, keys_file: Path, tmp_path: Path
) -> Iterator[tuple[ApiProcess, ApiProcess]]:
    first = _start(neo4j_server, keys_file, tmp_path / "a")
    try:
        second = _start(neo4j_server, keys_file, tmp_path / "b")
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()


async def _post(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("errors") is None, body
    return body["data"]


async def test_feedback_on_one_process_accepts_a_check_answered_by_another(
    two_apis: tuple[ApiProcess, ApiProcess],
) -> None:
    first, second = two_apis
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    async with (
        httpx.AsyncClient(base_url=first.url, headers=HEADERS, timeout=30) as a,
        httpx.AsyncClient(base_url=second.url, headers=HEADERS, timeout=30) as b,
    ):
        for _ in range(20):
            # feedback at once on the other process: the check's record may still be in
            # the answering process's buffer
            data = await _post(a, CLOSED_LOOP_CHECK, {"s": enterprise_id()})
            check_id = data["jointSanctionCheck"]["checkId"]
            await _post(b, CLOSED_LOOP_FEEDBACK, {"c": check_id})
        for _ in range(15):
            await _post(b, CLOSED_LOOP_CHECK, {"s": enterprise_id()})

    expected = [{"checks": 35, "feedbacks": 20}]
    window = {"from": since.isoformat()}
    regulator = {"Authorization": "Bearer regulator-key"}
    async with (
        httpx.AsyncClient(base_url=first.url, headers=regulator, timeout=30) as a,
        httpx.AsyncClient(base_url=second.url, headers=regulator, timeout=30) as b,
    ):
        # each process's checks land within its buffer's lag; then every process counts
        # each check once, whichever is asked
        deadline = time.monotonic() + 10
        while (await _post(a, CLOSED_LOOP_STATS, window))["linkageStats"] != expected:
            assert time.monotonic() < deadline, "the statistics never counted every check"
            await asyncio.sleep(0.1)
        assert (await _post(b, CLOSED_LOOP_STATS, window))["linkageStats"] == expected
        assert (await _post(a, CLOSED_LOOP_STATS, window))["linkageStats"] == expected


def _children(pid: int) -> set[int]:
    """The worker processes of a supervisor (its spawned children that run Python)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(child) for child in text)
    # multiprocessing's resource tracker is a child too; workers are the ones serving
    return {child for child in found if b"spawn_main" in _cmdline(child) and not _tracker(child)}


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def _tracker(pid: int) -> bool:
    return b"resource_tracker" in _cmdline(pid)


def _wait(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def test_workers_share_one_port_and_a_dead_one_is_replaced(
    neo4j_server: Neo4jServer, keys_file: Path, tmp_path: Path
) -> None:
    api = _start(neo4j_server, keys_file, tmp_path, CREDITLINK_WORKERS="2")
    try:
        workers = _wait(
            lambda: len(_children(api.proc.pid)) == 2 and _children(api.proc.pid), 60, "two workers"
        )
        with httpx.Client(base_url=api.url, headers=HEADERS, timeout=30) as client:
            for _ in range(20):
                response = client.post(
                    "/graphql",
                    json={"query": CLOSED_LOOP_CHECK, "variables": {"s": enterprise_id()}},
                )
                assert response.json()["data"]["jointSanctionCheck"]["checkId"]

            victim = min(workers)
            os.kill(victim, signal.SIGKILL)
            replaced = _wait(
                lambda: (
                    (kids := _children(api.proc.pid)) - {victim} == kids and len(kids) == 2 and kids
                ),
                60,
                "a new worker in place of the killed one",
            )
            assert victim not in replaced and (workers - {victim}) <= replaced
            _wait(lambda: client.get("/readyz").status_code == 200, 120, "ready again")
            # every worker answers: more requests than one connection would spread
            for _ in range(20):
                with httpx.Client(base_url=api.url, headers=HEADERS, timeout=30) as fresh:
                    body = fresh.post(
                        "/graphql",
                        json={"query": CLOSED_LOOP_CHECK, "variables": {"s": enterprise_id()}},
                    ).json()
                    assert body.get("errors") is None, body
    finally:
        api.stop()
    log = (tmp_path / "api.log").read_text(errors="replace")
    assert f"Child process [{victim}] died" in log
    assert api.proc.returncode == 0
