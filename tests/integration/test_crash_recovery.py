"""No answered check is lost: `creditlink serve` SIGKILLed while clients check, then
started again with the same environment, has recorded every check whose answer a client
received, each once; feedback accepts them and the statistics count each once. A journal
torn by a crash is cut at its last whole entry at start; one that cannot be written
withholds answers instead of giving them unrecorded.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.check_ids import single_check_ids
from domain.vocabulary import Label
from graph_model.check_records import record_row
from graph_model.driver import Graph
from graph_model.journal import Journal, encode
from testkit.api import ApiProcess, start_api_process
from testkit.neo4j import Neo4jServer
from tests.conftest import api_settings, serving
from tests.integration.helpers import (
    CLOSED_LOOP_CHECK,
    CLOSED_LOOP_FEEDBACK,
    CLOSED_LOOP_KEY,
    CLOSED_LOOP_STATS,
    enterprise_id,
)

CLIENTS = 8
# answers received before the kill: enough that records are in flight when it lands
ANSWERED_BEFORE_KILL = 400
RECORDS = (
    f"MATCH (c:{Label.CHECK_RECORD.value}) WHERE c.keyName = 'approval' "
    "RETURN c.id AS id, count(*) AS n"
)


@pytest.fixture
def api(neo4j_server: Neo4jServer, keys_file: Path, tmp_path: Path) -> Iterator[ApiProcess]:
    process = start_api_process(
        neo4j_server, keys_file=keys_file, data_dir=tmp_path / "data", log=tmp_path / "api.log"
    )
    try:
        yield process
    finally:
        process.stop()


async def _check_until_stopped(url: str, subjects: list[str], answered: list[str]) -> None:
    headers = {"Authorization": f"Bearer {CLOSED_LOOP_KEY}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        n = 0
        while True:
            variables = {"s": subjects[n % len(subjects)]}
            n += 1
            try:
                response = await client.post(
                    "/graphql", json={"query": CLOSED_LOOP_CHECK, "variables": variables}
                )
            except httpx.TransportError:
                return  # the server is gone
            body: dict[str, Any] = response.json()
            assert "errors" not in body, body
            answered.append(body["data"]["jointSanctionCheck"]["checkId"])


async def test_a_killed_api_leaves_every_answered_check_recorded_once(
    api: ApiProcess, neo4j_server: Neo4jServer, keys_file: Path, tmp_path: Path, graph: Graph
) -> None:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    subjects = [enterprise_id() for _ in range(50)]
    answered: list[str] = []
    clients = [
        asyncio.create_task(_check_until_stopped(api.url, subjects, answered))
        for _ in range(CLIENTS)
    ]
    while len(answered) < ANSWERED_BEFORE_KILL:
        await asyncio.sleep(0.01)
        assert not any(c.done() for c in clients), [c.exception() for c in clients if c.done()]
    os.kill(api.proc.pid, signal.SIGKILL)
    await asyncio.gather(*clients)
    api.proc.wait()
    killed_with = len(answered)

    restarted = await asyncio.to_thread(
        start_api_process,
        neo4j_server,
        keys_file=keys_file,
        data_dir=tmp_path / "data",
        log=tmp_path / "api.log",
        append_log=True,
        port=api.port,
    )
    try:
        counts = {row["id"]: row["n"] for row in await graph.read(RECORDS)}
        missing = [c for c in answered if c not in counts]
        assert not missing, f"{len(missing)} of {len(answered)} answered checks have no record"
        assert max(counts.values()) == 1  # none written twice
        assert len(answered) == len(set(answered)) == killed_with

        headers = {"Authorization": f"Bearer {CLOSED_LOOP_KEY}"}
        async with httpx.AsyncClient(base_url=restarted.url, headers=headers, timeout=30) as c:
            # the last answers before the kill are the ones a buffer would have lost
            for check_id in answered[-20:]:
                body = (
                    await c.post(
                        "/graphql",
                        json={"query": CLOSED_LOOP_FEEDBACK, "variables": {"c": check_id}},
                    )
                ).json()
                assert body.get("errors") is None, body
        async with httpx.AsyncClient(base_url=restarted.url, timeout=30) as c:
            regulator = {"Authorization": "Bearer regulator-key"}
            variables = {"from": since.isoformat()}
            stats = (
                await c.post(
                    "/graphql",
                    json={"query": CLOSED_LOOP_STATS, "variables": variables},
                    headers=regulator,
                )
            ).json()
        [row] = stats["data"]["linkageStats"]
        assert row == {"checks": len(counts), "feedbacks": 20}
        # the journal the killed process left was written and removed
        journal = Journal(tmp_path / "data" / "journal", "checkRecords")
        left = list(journal.orphans())
        for _, fd in left:
            Journal.release(fd)
        assert left == []
    finally:
        restarted.stop()
    log = (tmp_path / "api.log").read_text(errors="replace")
    assert "replayed the journal of a process that stopped" in log


def _journaled_row(check_id: str) -> dict[str, Any]:
    at = dt.datetime.now(dt.UTC)
    return record_row(
        check_id=check_id,
        subject_id=enterprise_id(),
        subject_known=False,
        area="CONVENIENCE_SERVICES",
        at=at,
        decision="CLEAR",
        measure_ids=[],
        sanction_ids=[],
        department="wz-public-resources",
        key_name="approval",
        asked_at=at,
    )


async def test_a_journal_torn_at_its_tail_is_cut_and_the_rest_written_at_start(
    neo4j_server: Neo4jServer,
    keys_file: Path,
    tmp_path: Path,
    graph: Graph,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ids = single_check_ids(3)
    whole = b"".join(encode(0, _journaled_row(check_id)) for check_id in ids)
    torn = encode(0, _journaled_row(single_check_ids(1)[0]))[:-7]
    journal = tmp_path / "journal"
    journal.mkdir()
    (journal / "checkRecords-1-0a0b0c0d0e0f.wal").write_bytes(whole + torn)

    with (
        caplog.at_level(logging.INFO),
        serving(api_settings(neo4j_server, keys_file, data_dir=tmp_path)),
    ):
        counts = {row["id"]: row["n"] for row in await graph.read(RECORDS)}
        assert counts == dict.fromkeys(ids, 1)
        assert list(journal.glob("*.wal")) == []
    [cut] = [r for r in caplog.records if r.getMessage().startswith("audit journal truncated")]
    assert (cut.entries_kept, cut.bytes_lost) == (3, len(torn))  # type: ignore[attr-defined]


async def test_a_journal_that_cannot_be_written_withholds_answers(
    neo4j_server: Neo4jServer, keys_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "journal").write_text("a file where the journal's directory should be")
    with serving(api_settings(neo4j_server, keys_file, data_dir=tmp_path)) as api:
        body = api.post(CLOSED_LOOP_CHECK, {"s": enterprise_id()}, key=CLOSED_LOOP_KEY)
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["SERVICE_UNAVAILABLE"]
