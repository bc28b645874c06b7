"""Two cities side by side: Jiaxing publishes its signed feed, Wenzhou pulls it.

Wenzhou is the session's API over the session's Neo4j; Jiaxing is a `creditlink serve`
process with `CREDITLINK_JURISDICTION=jiaxing` over a Neo4j of its own, with its own data
dir, port and keys. Pulls run the shipped `creditlink exchange pull` in Wenzhou's
environment, as an operator would.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import orjson
import pytest

from api.exchange.signing import load_signing_key
from api.settings import PROJECT_ROOT
from graph_model.driver import Graph, open_graph
from graph_model.exchange import status
from graph_model.sanctions import Actor, SanctionRequest, impose
from rules.loader import catalogue_dir, load_catalogue
from rules.models import Catalogue
from testkit.api import ApiProcess, serve_environment, start_api_process
from testkit.keys import write_keys_file
from tests.conftest import TEST_DATA, ApiServer, Neo4jServer
from tests.integration.helpers import WIPE, enterprise_id, own_embedded_neo4j

JX_KEYS = {
    "jx-admin": ("ADMIN", None, "jx-admin-key-0123456789"),
    "jx-court": ("ISSUER", "jx-intermediate-court", "jx-court-key-0123456789"),
    "wenzhou-platform": ("PARTNER", None, "jx-partner-key-0123456789"),
}
PARTNER_KEY = "jx-partner-key-0123456789"

IMPOSE = """mutation($input: SanctionInput!) {
  imposeSanction(input: $input) { id jurisdiction } }"""
LIFT = """mutation($input: LiftInput!) { liftSanction(input: $input) { id liftedAt } }"""
CHECK = """query($id: ID!, $at: DateTime) {
  jointSanctionCheck(subjectId: $id, area: PUBLIC_RESOURCE_TRANSACTIONS, at: $at) {
    decision measures { sanction { id jurisdiction recognized
      source { jurisdiction sourceId receivedAt } } } } }"""
SUBJECT = """query($id: ID!) { subject(id: $id) { id kind name
  sanctions { id jurisdiction recognized source { jurisdiction sourceId } } } }"""
RELAYED = (
    "RETURN COUNT { MATCH (s:Sanction {sourceJurisdiction: 'jiaxing'}) } AS entries, "
    "COUNT { MATCH (e:SanctionEvent {jurisdiction: 'jiaxing'}) } AS events"
)


@dataclass(frozen=True)
class Jiaxing:
    api: ApiProcess
    neo4j: Neo4jServer
    public_key: str

    def post(self, query: str, variables: dict[str, Any], key: str) -> dict[str, Any]:
        response = httpx.post(
            f"{self.api.url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="module")
def jiaxing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Jiaxing]:
    directory = tmp_path_factory.mktemp("jiaxing")
    keys = write_keys_file(directory / "keys.toml", JX_KEYS)
    with own_embedded_neo4j("jiaxing") as neo4j:
        server = Neo4jServer.of(neo4j)
        api = start_api_process(
            server,
            keys_file=keys,
            data_dir=directory / "data",
            log=directory / "serve.log",
            extra={"CREDITLINK_JURISDICTION": "jiaxing"},
        )
        try:
            key = subprocess.run(
                [sys.executable, "-m", "api.cli", "exchange", "key"],
                env=serve_environment(
                    server,
                    port=api.port,
                    keys_file=keys,
                    data_dir=directory / "data",
                    extra={"CREDITLINK_JURISDICTION": "jiaxing"},
                ),
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            yield Jiaxing(api, server, key)
        finally:
            api.stop()


@pytest.fixture
async def jx_graph(jiaxing: Jiaxing) -> AsyncIterator[Graph]:
    """Jiaxing's database, emptied before each test as the session's is."""
    from graph_model.catalogue_sync import sync_departments

    async with open_graph(jiaxing.neo4j.uri, *jiaxing.neo4j.auth, "neo4j") as graph:
        async with graph.driver.session(database="neo4j") as session:
            await (await session.run(WIPE)).consume()
        await sync_departments(graph, load_catalogue(catalogue_dir("jiaxing")))
        yield graph


class Cities(NamedTuple):
    """Jiaxing (emptied for the test), and Wenzhou: its API, its Neo4j and a graph on it."""

    jiaxing: Jiaxing
    wenzhou: ApiServer
    neo4j: Neo4jServer
    graph: Graph


@pytest.fixture
def cities(
    jiaxing: Jiaxing,
    jx_graph: Graph,
    api_server: ApiServer,
    neo4j_server: Neo4jServer,
    graph: Graph,
) -> Cities:
    return Cities(jiaxing, api_server, neo4j_server, graph)


def pull_command(
    jiaxing: Jiaxing, neo4j_server: Neo4jServer, *extra: str, key: str | None = None
) -> tuple[list[str], dict[str, str]]:
    env = serve_environment(
        neo4j_server,
        port=1,
        keys_file=TEST_DATA / "unused-keys.toml",
        data_dir=TEST_DATA,
    )
    command = [
        sys.executable,
        "-m",
        "api.cli",
        "exchange",
        "pull",
        "--url",
        f"{jiaxing.api.url}/graphql",
        "--key",
        PARTNER_KEY,
        "--jurisdiction",
        "jiaxing",
        "--public-key",
        key or jiaxing.public_key,
        "--quiet",
        *extra,
    ]
    return command, env


def pull(
    jiaxing: Jiaxing, neo4j_server: Neo4jServer, *extra: str, key: str | None = None
) -> subprocess.CompletedProcess[str]:
    command, env = pull_command(jiaxing, neo4j_server, *extra, key=key)
    return subprocess.run(
        command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
    )


def impose_in_jiaxing(
    jiaxing: Jiaxing, subject: str, name: str, *, list_type: str = "DISHONEST_JUDGMENT_DEBTOR"
) -> str:
    body = jiaxing.post(
        """mutation($input: SubjectInput!) { registerSubject(input: $input) { id } }""",
        {"input": {"id": subject, "kind": "ENTERPRISE", "name": name}},
        key="jx-admin-key-0123456789",
    )
    assert "errors" not in body, body
    issuer = "jx-intermediate-court" if list_type == "DISHONEST_JUDGMENT_DEBTOR" else None
    variables = {
        "input": {
            "listType": list_type,
            "subjectId": subject,
            "issuerId": issuer,
            "decidedOn": "2026-03-02",
            "documentNo": "（2026）浙04执123号",
            "reason": "有履行能力而拒不履行生效法律文书确定的义务",
        }
    }
    body = jiaxing.post(IMPOSE, variables, key="jx-court-key-0123456789")
    assert "errors" not in body, body
    sanction = body["data"]["imposeSanction"]
    assert sanction["jurisdiction"] == "jiaxing"
    return str(sanction["id"])


def decision(api: ApiServer, subject: str, at: str | None = None) -> dict[str, Any]:
    body = api.post(CHECK, {"id": subject, "at": at}, key="admin-key")
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["jointSanctionCheck"]
    return result


JX_COURT = Actor("jx-court", "jx-intermediate-court", any_department=False)


async def impose_many(graph: Graph, count: int, *, catalogue: Catalogue | None = None) -> list[str]:
    """`count` entries imposed in Jiaxing through graph_model (each logs its event), on as
    many subjects."""
    catalogue = catalogue or load_catalogue(catalogue_dir("jiaxing"))
    subjects = [enterprise_id("330402") for _ in range(count)]
    await graph.write(
        "UNWIND $ids AS id MERGE (s:Subject:Enterprise {id: id}) "
        "SET s.kind = 'ENTERPRISE', s.name = '嘉兴某企业 ' + id",
        {"ids": subjects},
    )
    ids = []
    for subject in subjects:
        request = SanctionRequest(
            client_id=None,
            list_type="DISHONEST_JUDGMENT_DEBTOR",
            subject_id=subject,
            issuer_id="jx-intermediate-court",
            decided_on=dt.date(2026, 3, 2),
            valid_from=None,
            valid_to=None,
            document_no="（2026）浙04执1号",
            reason="拒不履行",
            jurisdiction="jiaxing",
            responsible_person_ids=(),
        )
        sanction, _ = await impose(graph, catalogue, request, JX_COURT)
        ids.append(sanction["id"])
    return ids


async def relayed(graph: Graph) -> dict[str, int]:
    row = (await graph.read(RELAYED))[0]
    return {"entries": int(row["entries"]), "events": int(row["events"])}


async def test_imposed_in_jiaxing_is_seen_in_wenzhou_once_and_lifted_with_it(
    cities: Cities,
) -> None:
    jiaxing, api_server, neo4j_server, graph = cities
    subject = enterprise_id("330402")
    sanction = impose_in_jiaxing(jiaxing, subject, "嘉兴市某某纺织有限公司")
    assert decision(api_server, subject)["decision"] == "CLEAR"

    first = pull(jiaxing, neo4j_server)
    assert first.returncode == 0, first.stderr
    assert "1 events in 1 pages: 1 applied" in first.stdout, first.stdout

    seen = decision(api_server, subject)
    assert seen["decision"] == "PROHIBITED"
    relayed_entry = seen["measures"][0]["sanction"]
    assert relayed_entry["jurisdiction"] == "jiaxing" and relayed_entry["recognized"] is True
    assert relayed_entry["source"]["jurisdiction"] == "jiaxing"
    assert relayed_entry["source"]["sourceId"] == sanction
    assert relayed_entry["source"]["receivedAt"]
    # the subject Wenzhou did not know came with the entry
    known = api_server.post(SUBJECT, {"id": subject}, key="admin-key")["data"]["subject"]
    assert known["name"] == "嘉兴市某某纺织有限公司" and known["kind"] == "ENTERPRISE"

    again = pull(jiaxing, neo4j_server)
    assert again.returncode == 0, again.stderr
    assert "0 events" in again.stdout, again.stdout
    assert await relayed(graph) == {"entries": 1, "events": 1}

    body = jiaxing.post(
        LIFT,
        {"input": {"sanctionId": sanction, "kind": "REVOKED", "reason": "执行依据被撤销"}},
        key="jx-court-key-0123456789",
    )
    assert "errors" not in body, body
    revoked_at = dt.datetime.fromisoformat(body["data"]["liftSanction"]["liftedAt"])
    assert pull(jiaxing, neo4j_server).returncode == 0
    assert decision(api_server, subject)["decision"] == "CLEAR"
    # from the same moment: a check about just before the revocation still sees it
    before = (revoked_at - dt.timedelta(seconds=1)).isoformat()
    assert decision(api_server, subject, before)["decision"] == "PROHIBITED"
    assert await relayed(graph) == {"entries": 1, "events": 2}
    command, env = pull_command(jiaxing, neo4j_server)
    shown = subprocess.run(
        [*command[:4], "status", "--json"], env=env, cwd=PROJECT_ROOT, capture_output=True
    )
    assert shown.returncode == 0, shown.stderr
    [source] = orjson.loads(shown.stdout)["sources"]
    assert (source["id"], source["applied"], source["keptAside"], source["entries"]) == (
        "jiaxing",
        2,
        0,
        1,
    )
    assert source["lastError"] is None and source["url"] == f"{jiaxing.api.url}/graphql"

    # Wenzhou's own feed does not publish what it relays: no echo back to Jiaxing
    feed = api_server.post(
        "{ sanctionFeed { events { id sanction { jurisdiction } } hasMore } }",
        key="admin-key",
    )
    assert feed["data"]["sanctionFeed"] == {"events": [], "hasMore": False}


async def test_a_list_type_wenzhou_does_not_recognise_from_jiaxing_is_stored_unrecognised(
    cities: Cities,
) -> None:
    jiaxing, api_server, neo4j_server, _ = cities
    recognised = set(load_catalogue().jurisdictions["jiaxing"].recognized_list_types)
    jx_lists = {
        lt.id: lt
        for lt in load_catalogue(
            Path(PROJECT_ROOT / "rules/catalogues/jiaxing")
        ).list_types.values()
    }
    other = sorted(set(jx_lists) - recognised)
    assert other, "the Jiaxing catalogue has a list type Wenzhou does not recognise from it"
    list_type = other[0]
    issuer = jx_lists[list_type].issuers[0]
    subject = enterprise_id("330411")
    jiaxing.post(
        """mutation($input: SubjectInput!) { registerSubject(input: $input) { id } }""",
        {"input": {"id": subject, "kind": "ENTERPRISE", "name": "嘉兴某公司"}},
        key="jx-admin-key-0123456789",
    )
    body = jiaxing.post(
        IMPOSE,
        {
            "input": {
                "listType": list_type,
                "subjectId": subject,
                "issuerId": issuer,
                "decidedOn": "2026-03-02",
                "documentNo": "嘉某〔2026〕1号",
                "reason": "情节严重",
            }
        },
        key="jx-admin-key-0123456789",
    )
    assert "errors" not in body, body
    assert pull(jiaxing, neo4j_server).returncode == 0
    subject_row = api_server.post(SUBJECT, {"id": subject}, key="admin-key")["data"]["subject"]
    [entry] = subject_row["sanctions"]
    assert entry["jurisdiction"] == "jiaxing" and entry["recognized"] is False
    assert decision(api_server, subject)["decision"] == "CLEAR"


@contextlib.contextmanager
def proxy(target: str, mode: dict[str, str]) -> Iterator[str]:
    """An HTTP proxy to `target`: `mode["now"]` "pass" forwards, "down" answers 503 as a
    partner that is away, "tamper" changes one character of every feed event's reason."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if mode["now"] == "down":
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            response = httpx.post(
                target,
                content=body,
                headers={
                    "Authorization": self.headers["Authorization"],
                    "Content-Type": "application/json",
                },
                timeout=60,
            )
            data = response.json()
            if mode["now"] == "tamper":
                for event in data["data"]["sanctionFeed"]["events"]:
                    reason = event["sanction"]["reason"]
                    event["sanction"]["reason"] = reason.replace("拒不", "未能")
            out = orjson.dumps(data)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/graphql"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_tampered_page_or_a_wrong_key_is_refused_and_nothing_applied(
    cities: Cities,
) -> None:
    jiaxing, api_server, neo4j_server, graph = cities
    subject = enterprise_id("330421")
    impose_in_jiaxing(jiaxing, subject, "嘉兴某某机械有限公司")

    with proxy(f"{jiaxing.api.url}/graphql", {"now": "tamper"}) as tampering:
        command, env = pull_command(jiaxing, neo4j_server)
        command[command.index("--url") + 1] = tampering
        tampered = subprocess.run(
            command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True
        )
    assert tampered.returncode == 1
    assert "page refused, nothing applied" in tampered.stderr, tampered.stderr
    assert await relayed(graph) == {"entries": 0, "events": 0}
    assert await status.position(graph, "jiaxing") is None

    other = load_signing_key(TEST_DATA / "exchange-signing-key.pem", create=True).public.text
    wrong = pull(jiaxing, neo4j_server, key=other)
    assert wrong.returncode == 1 and "not configured" in wrong.stderr, wrong.stderr
    assert await relayed(graph) == {"entries": 0, "events": 0}
    [source] = await status.sources(graph)
    assert source["lastError"] and "page refused" in source["lastError"]

    # the genuine page, through no proxy, goes in
    assert pull(jiaxing, neo4j_server).returncode == 0
    assert decision(api_server, subject)["decision"] == "PROHIBITED"


async def test_a_pull_killed_half_way_resumes_without_loss_or_double(
    cities: Cities, jx_graph: Graph
) -> None:
    jiaxing, _, neo4j_server, graph = cities
    count = 400
    await impose_many(jx_graph, count)

    command, env = pull_command(jiaxing, neo4j_server, "--page-size", "5")
    proc = subprocess.Popen(
        command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            entries = (await relayed(graph))["entries"]
            if entries >= 50 or proc.poll() is not None:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    partial = await relayed(graph)
    assert 0 < partial["entries"] < count, partial
    assert partial["entries"] == partial["events"]

    finished = pull(jiaxing, neo4j_server)
    assert finished.returncode == 0, finished.stderr
    assert await relayed(graph) == {"entries": count, "events": count}
    [source] = await status.sources(graph)
    assert source["applied"] == count and source["keptAside"] == 0


async def test_follow_rides_out_a_partner_that_is_down(cities: Cities) -> None:
    jiaxing, api_server, neo4j_server, graph = cities
    mode = {"now": "down"}
    with proxy(f"{jiaxing.api.url}/graphql", mode) as url:
        command, env = pull_command(jiaxing, neo4j_server, "--follow", "--interval", "0.2")
        command[command.index("--url") + 1] = url
        follower = subprocess.Popen(
            command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:

            async def failed() -> bool:
                sources = await status.sources(graph)
                return bool(sources and sources[0].get("lastError"))

            deadline = time.monotonic() + 60
            while not await failed() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert await failed(), "the follower recorded the partner being down"
            subject = enterprise_id("330402")
            impose_in_jiaxing(jiaxing, subject, "嘉兴某某鞋业有限公司")
            mode["now"] = "pass"
            deadline = time.monotonic() + 90
            while decision(api_server, subject)["decision"] != "PROHIBITED":
                assert time.monotonic() < deadline, "the follower pulled once the partner was back"
                time.sleep(0.2)
            # the pull records its success once its last page is applied
            while (await status.sources(graph))[0]["lastError"] is not None:
                assert time.monotonic() < deadline, "the follower recorded its success"
                time.sleep(0.1)
            [source] = await status.sources(graph)
            assert source["applied"] == 1
        finally:
            follower.send_signal(signal.SIGTERM)
            output, _ = follower.communicate(timeout=30)
    assert follower.returncode == 0, output
    assert b"pull failed" in output and b"HTTP 503" in output, output
