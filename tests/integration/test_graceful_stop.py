"""SIGTERM stops `creditlink serve` gracefully: it drains, then exits 0.

Each test runs the shipped command as a process of its own over the session's Neo4j
(`testkit.api.start_api_process`) and sends it SIGTERM, as a process manager does. What
must hold: no new connection is taken; a request in flight is answered in full; an open
subscription's WebSocket gets a close frame with a code saying the server is going away;
every answered check is in Neo4j once the process has exited, and the journal holds
nothing left to replay; one log line says what was drained. A request still running when
`CREDITLINK_SHUTDOWN_GRACE_S` has passed is cut, and the stop completes all the same.

A request is put in flight deterministically: its headers carry `Expect: 100-continue`,
and the server sends `100 Continue` only once the app has begun reading the body, so the
request is being served when the signal is sent; its body is finished afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.settings import Settings
from graph_model.driver import Graph
from graph_model.journal import SUFFIX, read_segment
from testkit.api import ApiProcess, start_api_process
from tests.conftest import ApiServer, Neo4jServer
from tests.graphql_ws import admitted, closed_with, received, subscribe
from tests.integration.helpers import enterprise_id, register, wait_for
from tests.integration.scenario import impose

CHECK = """
query($id: ID!, $area: ApplicationArea!) {
  jointSanctionCheck(subjectId: $id, area: $area) { checkId decision }
}"""
AREA = "CONVENIENCE_SERVICES"
CHECKS_BEFORE = 12
RECORDS = "MATCH (c:CheckRecord) WHERE c.id IN $ids RETURN c.id AS id, count(*) AS n"
# a bound on waiting for what takes well under a second; never a measure of speed
WAIT = 60.0
# close codes saying the server goes away: 1001 going away, 1012 service restart
GOING_AWAY = {1001, 1012}


@dataclass
class Serving:
    api: ApiProcess
    client: ApiServer
    log: Path
    data_dir: Path


@contextlib.asynccontextmanager
async def serving(
    neo4j: Neo4jServer, keys_file: Path, tmp_path: Path, **environment: str
) -> AsyncIterator[Serving]:
    """`creditlink serve` with `environment` added, ready; killed at the end if a test
    left it running."""
    data_dir, log = tmp_path / "data", tmp_path / "serve.log"
    api = await asyncio.to_thread(
        start_api_process,
        neo4j,
        keys_file=keys_file,
        data_dir=data_dir,
        log=log,
        extra=environment,
        ready_timeout=120,
    )
    try:
        client = ApiServer(api.url, Settings(port=api.port, seed="none"))
        yield Serving(api, client, log, data_dir)
    finally:
        await asyncio.to_thread(api.stop, 1.0)


class HeldRequest:
    """A POST /graphql held in flight: the app is reading its body, half of it sent."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, rest: bytes
    ) -> None:
        self.reader, self.writer, self.rest = reader, writer, rest

    @classmethod
    async def open(cls, port: int, variables: dict[str, Any], key: str) -> HeldRequest:
        body = json.dumps({"query": CHECK, "variables": variables}).encode()
        head = (
            f"POST /graphql HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n"
            f"authorization: Bearer {key}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nexpect: 100-continue\r\n\r\n"
        )
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head.encode())
        await writer.drain()
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n", interim
        half = len(body) // 2
        writer.write(body[:half])
        await writer.drain()
        return cls(reader, writer, body[half:])

    async def finish(self) -> tuple[int, dict[str, str], bytes]:
        """Send the rest of the body; the answer (status, headers, body) read to its end."""
        self.writer.write(self.rest)
        await self.writer.drain()
        return await self.answer()

    async def answer(self) -> tuple[int, dict[str, str], bytes]:
        """What the server sends until it closes the connection; status 0 for nothing."""
        try:
            raw = await asyncio.wait_for(self.reader.read(), WAIT)
        except ConnectionResetError:
            raw = b""
        finally:
            self.writer.close()
        if not raw:
            return 0, {}, b""
        head, _, body = raw.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(":", 1) for line in lines)
        return (
            int(status_line.split()[1]),
            {name.strip().lower(): value.strip() for name, value in headers.items()},
            body,
        )


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            return False
    except ConnectionRefusedError:
        return True


def checks(client: ApiServer, subject: str, count: int) -> list[str]:
    """`count` checks of `subject`, each answered: their check ids."""
    ids = []
    for _ in range(count):
        body = client.post(CHECK, {"id": subject, "area": AREA}, key="approval-key")
        assert "errors" not in body, body
        ids.append(body["data"]["jointSanctionCheck"]["checkId"])
    return ids


def log_entries(log: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The process's JSON log lines, and its other lines (uvicorn's own, prints)."""
    entries, others = [], []
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            others.append(line)
            continue
        if isinstance(entry, dict):
            entries.append(entry)
        else:
            others.append(line)
    return entries, others


def unreplayed(data_dir: Path) -> int:
    """Entries in the data dir's journal segments: records not known to be in Neo4j."""
    journal = data_dir / "journal"
    if not journal.is_dir():
        return 0
    return sum(len(read_segment(p.read_bytes()).entries) for p in journal.glob(f"*{SUFFIX}"))


@pytest.mark.parametrize("workers", [1, 2])
async def test_sigterm_drains_requests_records_and_subscriptions(
    neo4j_server: Neo4jServer, keys_file: Path, graph: Graph, tmp_path: Path, workers: int
) -> None:
    async with serving(
        neo4j_server, keys_file, tmp_path, CREDITLINK_WORKERS=str(workers)
    ) as served:
        api, client = served.api, served.client
        company = enterprise_id()
        await asyncio.to_thread(register, client, company, "ENTERPRISE", "温州市瓯江鞋业有限公司")
        async with admitted(api.url, "approval-key") as ws:
            await subscribe(ws, "1", {"ids": [company], "areas": None})
            # an event heard: the subscription is listening, its generator running
            sanction = await asyncio.to_thread(impose, client, subjectId=company)
            event = await received(ws, timeout=WAIT)
            assert event["type"] == "next", event
            assert event["payload"]["data"]["sanctionEvents"]["sanctionId"] == sanction["id"]

            answered = await asyncio.to_thread(checks, client, company, CHECKS_BEFORE)
            held = await HeldRequest.open(api.port, {"id": company, "area": AREA}, "approval-key")
            api.proc.send_signal(signal.SIGTERM)

            assert await asyncio.to_thread(
                wait_for, lambda: refuses_connections(api.port), WAIT, 0.05
            ), "a new connection is still taken after SIGTERM"
            status, headers, body = await held.finish()
            assert status == 200, (status, body)
            assert headers.get("connection") == "close"
            assert int(headers["content-length"]) == len(body)
            last = json.loads(body)["data"]["jointSanctionCheck"]["checkId"]
            assert await closed_with(ws) in GOING_AWAY

        assert await asyncio.to_thread(api.proc.wait, WAIT) == 0

    ids = [*answered, last]
    rows = await graph.read(RECORDS, {"ids": ids})
    assert {row["id"]: row["n"] for row in rows} == dict.fromkeys(ids, 1)
    assert unreplayed(served.data_dir) == 0

    entries, others = log_entries(served.log)
    drained = [entry for entry in entries if entry.get("msg") == "drained"]
    assert len(drained) == workers, drained
    assert sum(entry["requests"] for entry in drained) == 1, drained
    assert sum(entry["websockets"] for entry in drained) == 1, drained
    assert all(entry["records_unwritten"] == 0 for entry in drained), drained
    # the stop says nothing went wrong, in our log or in uvicorn's own lines
    assert [entry for entry in entries if entry["level"] in {"ERROR", "CRITICAL"}] == []
    assert [line for line in others if line.startswith(("ERROR", "CRITICAL"))] == []


async def test_a_request_running_past_the_grace_is_cut_and_the_records_still_written(
    neo4j_server: Neo4jServer, keys_file: Path, graph: Graph, tmp_path: Path
) -> None:
    # the body's own deadline far away: only the grace can end this request
    async with serving(
        neo4j_server,
        keys_file,
        tmp_path,
        CREDITLINK_WORKERS="1",
        CREDITLINK_SHUTDOWN_GRACE_S="1",
        CREDITLINK_BODY_TIMEOUT_S="3600",
    ) as served:
        api, subject = served.api, enterprise_id()
        answered = await asyncio.to_thread(checks, served.client, subject, CHECKS_BEFORE)
        held = await HeldRequest.open(api.port, {"id": subject, "area": AREA}, "approval-key")
        api.proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(api.proc.wait, WAIT) == 0
        status, _, _ = await held.answer()
        assert status != 200  # its body never came: it cannot have been answered

    rows = await graph.read(RECORDS, {"ids": answered})
    assert {row["id"]: row["n"] for row in rows} == dict.fromkeys(answered, 1)
    assert unreplayed(served.data_dir) == 0
    entries, _ = log_entries(served.log)
    drained = [entry for entry in entries if entry.get("msg") == "drained"]
    assert [(entry["requests"], entry["records_unwritten"]) for entry in drained] == [(1, 0)]
