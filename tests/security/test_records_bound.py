"""Issue 18.10: the check-record buffer is bounded, and a check is never answered
without its record.

Unit level, with a stand-in graph whose writes fail and a clock the test moves: past
the outage limit `admit` refuses, after a successful write it accepts again, and the
buffer never holds more than its cap. Then the real app over a real embedded Neo4j of
its own: while Neo4j refuses the records' writes (reads still served) and then while it
is stopped, checks answer SERVICE_UNAVAILABLE instead of a decision; once it is back,
checks are answered again and every answered check has its CheckRecord.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.metrics import Metrics
from api.settings import Settings, SettingsError
from domain.errors import ServiceUnavailable
from domain.identifiers import make_uscc
from graph_model.access_records import ACCESS_REFUSED, AccessRecorder
from graph_model.check_records import CHECKS_REFUSED, CheckRecorder
from graph_model.driver import Graph, open_graph
from graph_model.runtime.embedded import EmbeddedNeo4j
from tests.conftest import Neo4jServer, api_settings, serving
from tests.integration.helpers import (
    count_by_id,
    flush_check_records,
    neo4j_answers,
    own_embedded_neo4j,
    readyz,
    register,
    wait_for,
)

# -- unit: the buffer alone ------------------------------------------------------------


class _Graph:
    """Writes that land while `landing` allows (None: all of them), then fail as they do
    while Neo4j is away; `written` holds the ids of the rows that landed."""

    def __init__(self) -> None:
        self.landing: int | None = 0
        self.written: list[str] = []

    async def write(self, query: str, params: dict[str, Any], *, name: str) -> list[Any]:
        if self.landing is not None:
            if self.landing == 0:
                raise ServiceUnavailable("Neo4j is unreachable; try again shortly")
            self.landing -= 1
        self.written += [row["id"] for row in params["rows"]]
        return []


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _recorder(graph: _Graph, clock: _Clock, **options: Any) -> CheckRecorder:
    return CheckRecorder(cast(Graph, graph), clock=clock, **options)


async def test_past_the_outage_limit_checks_are_refused_until_a_write_succeeds() -> None:
    graph, clock = _Graph(), _Clock()
    recorder = _recorder(graph, clock, max_outage=10.0)
    recorder.admit()
    recorder.record({"id": "C1"})
    with pytest.raises(ServiceUnavailable):
        await recorder.flush()
    clock.now += 10.0  # at the limit, not past it
    recorder.admit()
    recorder.record({"id": "C2"})
    with pytest.raises(ServiceUnavailable):
        await recorder.flush()
    clock.now += 0.5
    with pytest.raises(ServiceUnavailable) as refused:
        recorder.admit()
    assert refused.value.message == CHECKS_REFUSED
    with pytest.raises(ServiceUnavailable):
        recorder.admit(20)  # a batchCheck too
    assert recorder.blocked is not None
    assert recorder.pending == 2  # the checks answered before are kept

    graph.landing = None
    await recorder.flush()
    recorder.admit()  # accepted again
    assert recorder.blocked is None
    assert graph.written == ["C1", "C2"] and recorder.pending == 0


async def test_one_write_that_lands_accepts_checks_again_though_older_records_wait() -> None:
    graph, clock = _Graph(), _Clock()
    recorder = _recorder(graph, clock, max_outage=10.0, batch_size=2)
    for n in range(5):
        recorder.record({"id": f"C{n}"})
    with pytest.raises(ServiceUnavailable):
        await recorder.flush()
    clock.now += 11.0
    with pytest.raises(ServiceUnavailable):
        recorder.admit()
    graph.landing = 1  # one write lands, then Neo4j is away again
    with pytest.raises(ServiceUnavailable):
        await recorder.flush()
    assert graph.written == ["C0", "C1"] and recorder.pending == 3
    recorder.admit()  # accepted, though C2 has waited past the limit
    clock.now += 10.5  # and no write lands for longer than the limit: refused again
    with pytest.raises(ServiceUnavailable):
        recorder.admit()


@given(st.lists(st.tuples(st.integers(1, 7), st.booleans()), max_size=40))
def test_the_buffer_never_holds_more_than_its_cap(calls: list[tuple[int, bool]]) -> None:
    async def run() -> None:
        graph, clock = _Graph(), _Clock()
        recorder = _recorder(graph, clock, capacity=12, max_outage=3600.0)
        kept: list[str] = []
        for n, (size, through_admit) in enumerate(calls):
            row: dict[str, Any] = {"id": f"B{n}", "size": size}
            room = recorder.pending + size <= 12
            try:
                if through_admit:
                    recorder.admit(size)
                # also without `admit`: callers admitted together may race for the room
                recorder.record_batch(row)
            except ServiceUnavailable as exc:
                assert exc.message == CHECKS_REFUSED
                assert not room
            else:
                assert room
                kept.append(f"B{n}")
            assert recorder.pending <= 12
            if n % 5 == 4 and recorder.pending:
                with pytest.raises(ServiceUnavailable):
                    await recorder.flush()  # nothing lands: nothing leaves either
        graph.landing = None
        await recorder.flush()
        assert graph.written == kept and recorder.pending == 0

    asyncio.run(run())


async def test_audited_reads_are_refused_when_their_access_records_cannot_be_kept() -> None:
    graph, clock = _Graph(), _Clock()
    recorder = AccessRecorder(cast(Graph, graph), capacity=2, max_outage=10.0, clock=clock)
    recorder.record({"id": "A1"})
    recorder.record({"id": "A2"})
    with pytest.raises(ServiceUnavailable) as refused:
        recorder.record({"id": "A3"})
    assert refused.value.message == ACCESS_REFUSED
    graph.landing = None
    await recorder.flush()
    recorder.record({"id": "A4"})
    graph.landing = 0
    with pytest.raises(ServiceUnavailable):
        await recorder.flush()
    clock.now += 10.5
    with pytest.raises(ServiceUnavailable):
        recorder.record({"id": "A5"})  # past the outage limit, though there is room
    assert graph.written == ["A1", "A2"] and recorder.pending == 1


async def test_the_metrics_say_whether_checks_are_refused_and_how_old_the_backlog_is() -> None:
    graph, clock = _Graph(), _Clock()
    recorder = _recorder(graph, clock, max_outage=10.0)
    metrics = Metrics()
    metrics.watch_records(recorder)
    recorder.record({"id": "C1"})
    clock.now += 12.0
    scraped = metrics.render()
    assert b"\ncreditlink_check_records_refusing 1.0\n" in scraped
    assert b"\ncreditlink_check_records_oldest_seconds 12.0\n" in scraped
    graph.landing = None
    await recorder.flush()
    scraped = metrics.render()
    assert b"\ncreditlink_check_records_refusing 0.0\n" in scraped
    assert b"\ncreditlink_check_records_oldest_seconds 0.0\n" in scraped


def test_the_bounds_are_settings_and_bad_values_name_their_variable() -> None:
    env = {"CREDITLINK_RECORDS_MAX_PENDING": "20000", "CREDITLINK_RECORDS_MAX_OUTAGE_S": "3"}
    settings = Settings.from_env(env)
    assert (settings.records_max_pending, settings.records_max_outage_s) == (20_000, 3)
    assert Settings.from_env({}).records_max_pending == 50_000
    for name, value in (
        ("CREDITLINK_RECORDS_MAX_OUTAGE_S", "0"),
        ("CREDITLINK_RECORDS_MAX_OUTAGE_S", "soon"),
        ("CREDITLINK_RECORDS_MAX_PENDING", "999"),  # below a whole batchCheck call
    ):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: value})


# -- the real app over a real Neo4j of its own -------------------------------------------

CHECK = (
    "query($id: ID!) { jointSanctionCheck(subjectId: $id, area: SOCIAL_GOVERNANCE) "
    "{ checkId decision } }"
)
# Neo4j refusing the records' writes while it serves reads (a full disk, a cluster
# without a leader): two records hold both values of a property every CheckRecord has,
# and a uniqueness constraint on it makes every further record break it
REFUSE_RECORD_WRITES = (
    "CREATE (:CheckRecord {id: 'blocker-true', subjectKnown: true}), "
    "(:CheckRecord {id: 'blocker-false', subjectKnown: false})",
    "CREATE CONSTRAINT records_refused FOR (c:CheckRecord) REQUIRE c.subjectKnown IS UNIQUE",
)
ACCEPT_RECORD_WRITES = (
    "DROP CONSTRAINT records_refused",
    "MATCH (c:CheckRecord) WHERE c.id STARTS WITH 'blocker-' DELETE c",
)
COUNT_RECORDS = "UNWIND $ids AS id OPTIONAL MATCH (c:CheckRecord {id: id}) RETURN id, count(c) AS n"


@pytest.fixture
def own_neo4j() -> Iterator[EmbeddedNeo4j]:
    with own_embedded_neo4j("records-bound") as neo4j:
        yield neo4j


async def _run(neo4j: EmbeddedNeo4j, statements: tuple[str, ...]) -> None:
    async with open_graph(neo4j.uri, *neo4j.auth, "neo4j") as graph:
        for statement in statements:
            await graph.write(statement)


async def _all_records(neo4j: EmbeddedNeo4j) -> int:
    async with open_graph(neo4j.uri, *neo4j.auth, "neo4j") as graph:
        rows = await graph.read("MATCH (c:CheckRecord) RETURN count(c) AS n")
    return int(rows[0]["n"])


def _check(client: httpx.Client, subject_id: str) -> tuple[str, str]:
    """("ack", the check's id) for an answer, else (the error's code, its message)."""
    response = client.post("/graphql", json={"query": CHECK, "variables": {"id": subject_id}})
    assert response.status_code == 200, response.text
    body = response.json()
    if body.get("errors"):
        error = body["errors"][0]
        return str(error["extensions"]["code"]), str(error["message"])
    assert body["data"]["jointSanctionCheck"]["decision"]
    return "ack", str(body["data"]["jointSanctionCheck"]["checkId"])


def _gauge(url: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", httpx.get(f"{url}/metrics").text, re.M)
    assert found, name
    return float(found[1])


@pytest.mark.integration
def test_checks_are_refused_while_their_records_cannot_be_written(
    own_neo4j: EmbeddedNeo4j, keys_file: Path
) -> None:
    settings = api_settings(
        Neo4jServer.of(own_neo4j),
        keys_file,
        data_dir=own_neo4j.data_dir,
        records_max_outage_s=1.0,
    )
    refused = ("SERVICE_UNAVAILABLE", CHECKS_REFUSED)
    with (
        serving(settings) as api,
        httpx.Client(
            base_url=api.url, headers={"Authorization": "Bearer approval-key"}, timeout=60
        ) as client,
    ):
        company = make_uscc("91", "330302", "MR000001")
        register(api, company, "ENTERPRISE", "记录上限测试公司")
        answered: list[str] = []

        # -- Neo4j refuses the records' writes and still serves the checks' reads --------
        asyncio.run(_run(own_neo4j, REFUSE_RECORD_WRITES))
        outcomes: list[tuple[str, str]] = []

        def refused_once() -> bool:
            outcome = _check(client, company)
            if outcome[0] == "ack":
                answered.append(outcome[1])
                return False
            outcomes.append(outcome)
            return True

        assert wait_for(refused_once, 60, 0.02), "checks were answered without records"
        assert outcomes == [refused]
        assert answered  # the checks before the limit passed, their records held
        assert _gauge(api.url, "creditlink_check_records_refusing") == 1.0
        assert _gauge(api.url, "creditlink_check_records_pending") == len(answered)
        ready = readyz(api.url)
        assert ready is not None and ready.status_code == 503
        assert "checkRecords" in ready.json()["reason"]

        # -- then Neo4j stops altogether ----------------------------------------------
        assert own_neo4j.stop() is True
        assert not own_neo4j.bolt_answers()
        assert _check(client, company) == refused

        # -- it comes back, and takes the records once it accepts their writes -----------
        own_neo4j.start()
        asyncio.run(neo4j_answers(own_neo4j))
        assert _check(client, company) == refused  # the records still cannot be written
        asyncio.run(_run(own_neo4j, ACCEPT_RECORD_WRITES))

        def accepted() -> bool:
            outcome = _check(client, company)
            if outcome[0] == "ack":
                answered.append(outcome[1])
                return True
            assert outcome[0] == "SERVICE_UNAVAILABLE", outcome
            return False

        assert wait_for(accepted, 60, 0.1)
        for _ in range(3):
            outcome = _check(client, company)
            assert outcome[0] == "ack", outcome
            answered.append(outcome[1])
        assert wait_for(lambda: (r := readyz(api.url)) is not None and r.status_code == 200, 30)
        assert _gauge(api.url, "creditlink_check_records_refusing") == 0.0

        # -- every answered check has its record, once; the refused ones none ----------
        flush_check_records(api)
        counts = asyncio.run(count_by_id(own_neo4j, COUNT_RECORDS, answered))
        assert set(counts.values()) == {1}, counts
        assert asyncio.run(_all_records(own_neo4j)) == len(answered)
