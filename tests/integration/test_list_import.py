"""`creditlink exchange import FILE --source national` as a process against the test Neo4j
(API_CONTRACT.md, "Exchange between platforms"; docs/list-format.md): entries relayed
with the source's jurisdiction and this catalogue's recognition, subjects registered,
importing again changes nothing, a file with bad lines is refused whole, a lift line
lifts the entry from its liftedAt as the check sees it."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from api.settings import PROJECT_ROOT
from graph_model.driver import Graph
from graph_model.exchange.list_file import entry_id
from testkit import free_port
from testkit.api import serve_environment
from tests.conftest import ApiServer, Neo4jServer
from tests.identities import ambiguous_id
from tests.integration.helpers import (
    enterprise_id,
    flush_check_records,
    institution_id,
    person_id,
    register,
    snapshot,
)

SOURCE = "national"
GENERATED = "2026-01-10T08:00:00+08:00"
COURT = "温州市鹿城区人民法院"
CHECK = """
query($s: ID!, $at: DateTime) {
  jointSanctionCheck(subjectId: $s, area: PUBLIC_RESOURCE_TRANSACTIONS, at: $at) {
    decision measures { sanction { id } }
  }
}"""
ENTRIES = (
    "MATCH (d:Department)-[:ISSUED]->(s:Sanction)-[:AGAINST]->(p:Subject) "
    "WHERE s.jurisdiction = $source "
    "RETURN s.id AS id, s.sourceId AS sourceId, s.listType AS listType, "
    "s.recognized AS recognized, s.documentNo AS documentNo, s.sourceIssuer AS authority, "
    "s.liftedAt AS liftedAt, d.id AS relayedBy, p.id AS subject, p.kind AS kind, "
    "p.name AS name, p.registeredFrom AS registeredFrom"
)


def header(**overrides: Any) -> dict[str, Any]:
    return {
        "format": "creditlink-list",
        "version": 1,
        "source": SOURCE,
        "generatedAt": GENERATED,
        **overrides,
    }


def impose(subject: str, case_no: str, **fields: Any) -> dict[str, Any]:
    return {
        "action": "impose",
        "listType": "DISHONEST_JUDGMENT_DEBTOR",
        "caseNo": case_no,
        "authority": COURT,
        "name": "温州某贸易有限公司",
        "id": subject,
        "decidedOn": "2025-03-01",
        "reason": "有履行能力而拒不履行生效法律文书确定的义务",
        **fields,
    }


def write(path: Path, *lines: dict[str, Any]) -> Path:
    path.write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8"
    )
    return path


@pytest.fixture
def run(neo4j_server: Neo4jServer, keys_file: Path, tmp_path: Path) -> Any:
    env = serve_environment(
        neo4j_server, port=free_port(), keys_file=keys_file, data_dir=tmp_path / "data"
    )

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "api.cli", "exchange", "import", *args],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    return cli


async def entries(graph: Graph) -> list[dict[str, Any]]:
    return await graph.read(ENTRIES, {"source": SOURCE})


def decision(api: ApiServer, subject: str, at: str | None = None) -> str:
    body = api.post(CHECK, {"s": subject, "at": at}, key="approval-key")
    assert "errors" not in body, body
    result: str = body["data"]["jointSanctionCheck"]["decision"]
    return result


async def test_a_file_is_imported_and_importing_it_again_changes_nothing(
    run: Any, graph: Graph, api_server: ApiServer, tmp_path: Path
) -> None:
    firm, person, institution = enterprise_id(), person_id(), institution_id()
    register(api_server, firm, "ENTERPRISE", "温州某贸易有限公司")  # known here already
    path = write(
        tmp_path / "national.jsonl",
        header(),
        impose(firm, "（2025）浙0302执1号"),
        impose(person, "（2025）浙0302执2号", name="张三", validTo="2027-03-01"),
        # a list Wenzhou does not take from the national platform: stored, reaching no one
        impose(
            institution,
            "温信示〔2025〕3号",
            listType="CREDIT_MODEL_UNIT",
            name="某中心",
            authority="国家发展改革委",
            reason="诚信示范",
        ),
    )
    done = run(str(path), "--source", SOURCE, "--quiet")
    assert done.returncode == 0, done.stderr
    assert "3 applied, 2 subjects registered, 0 applied before" in done.stdout
    assert done.stdout.startswith("imported 3 lines in ")

    found = {e["subject"]: e for e in await entries(graph)}
    assert {s: (e["kind"], e["recognized"]) for s, e in found.items()} == {
        firm: ("ENTERPRISE", True),
        person: ("PERSON", True),
        institution: ("PUBLIC_INSTITUTION", False),
    }
    first = found[firm]
    key = entry_id("DISHONEST_JUDGMENT_DEBTOR", "（2025）浙0302执1号", firm)
    assert (first["id"], first["sourceId"]) == (f"{SOURCE}/{key}", key)
    assert (first["documentNo"], first["authority"]) == ("（2025）浙0302执1号", COURT)
    assert first["relayedBy"] == "wz-intermediate-court"  # the catalogue's court for the list
    assert first["registeredFrom"] is None  # registered here before, not by the import
    assert (found[person]["name"], found[person]["registeredFrom"]) == ("张三", SOURCE)
    assert decision(api_server, firm) == "PROHIBITED"

    flush_check_records(api_server)  # the check's record lands before the snapshot
    before = await snapshot(graph)
    again = run(str(path), "--source", SOURCE, "--quiet")
    assert again.returncode == 0, again.stderr
    assert "0 applied, 0 subjects registered, 3 applied before" in again.stdout
    assert await snapshot(graph) == before  # not a property changed, no event logged again


async def test_a_run_cut_off_after_some_batches_completes_when_run_again(
    run: Any, graph: Graph, tmp_path: Path
) -> None:
    lines = [impose(enterprise_id(), f"（2025）浙0302执{n}号") for n in range(1, 6)]
    # what a run killed after its first batch of two left behind
    done = run(str(write(tmp_path / "part.jsonl", header(), *lines[:2])), "--source", SOURCE)
    assert done.returncode == 0, done.stderr
    full = write(tmp_path / "full.jsonl", header(), *lines)
    done = run(str(full), "--source", SOURCE, "--batch-size", "2", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "imported 5 lines" in done.stdout
    assert "3 applied, 3 subjects registered, 2 applied before" in done.stdout
    assert len(await entries(graph)) == 5
    events = await graph.read("MATCH (e:SanctionEvent) RETURN count(e) AS n")
    assert events[0]["n"] == 5  # each imposition logged once


def _ambiguous_id() -> str:
    return ambiguous_id(dt.date(1981, 2, 3))


async def test_a_file_with_bad_lines_is_refused_whole_naming_each(
    run: Any, graph: Graph, api_server: ApiServer, tmp_path: Path
) -> None:
    both = _ambiguous_id()
    register(api_server, both, "PERSON", "李四")
    good = impose(enterprise_id(), "（2025）浙0302执1号")
    never_imposed = {
        **impose(enterprise_id(), "（2024）浙0302执8号"),
        "action": "lift",
        "liftedAt": "2025-06-01T00:00:00Z",
    }
    path = write(
        tmp_path / "national.jsonl",
        header(),
        good,  # 2
        impose(enterprise_id()[:-1] + "0", "（2025）浙0302执2号"),  # 3: check character
        impose(enterprise_id(), "（2025）浙0302执3号"),  # 4
        never_imposed,  # 5: nothing to lift, here or before it in the file
        impose(both, "（2025）浙0302执4号", subjectKind="PUBLIC_INSTITUTION"),  # 6: a PERSON here
        impose(person_id(), "（2025）浙0302执5号", name="王五"),  # 7
    )
    before = await snapshot(graph)
    done = run(str(path), "--source", SOURCE, "--quiet")
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr.splitlines() == [
        f"{path}:3: id: check character of the credit code is wrong",
        f"{path}:5: action: lifts or revokes an entry neither imposed earlier in this file "
        "nor imported before",
        f"{path}:6: id: registered here as PERSON, not PUBLIC_INSTITUTION",
        f"3 bad line(s) in {path}: nothing was written",
    ]
    assert done.stdout == ""
    assert await snapshot(graph) == before

    checked = run(
        str(write(tmp_path / "good.jsonl", header(), good)), "--source", SOURCE, "--check"
    )
    assert checked.returncode == 0, checked.stderr
    assert "1 lines from national, format version 1" in checked.stderr
    assert await snapshot(graph) == before  # --check writes nothing


async def test_a_lift_line_lifts_the_entry_from_its_lifted_at(
    run: Any, graph: Graph, api_server: ApiServer, tmp_path: Path
) -> None:
    firm = enterprise_id()
    imposed = impose(firm, "（2025）浙0302执1号")
    first = write(tmp_path / "first.jsonl", header(), imposed)
    assert run(str(first), "--source", SOURCE, "--quiet").returncode == 0
    assert decision(api_server, firm) == "PROHIBITED"

    lifted_at = "2025-09-01T10:00:00+08:00"
    # a later file names the entry again with the case number written half-width
    lift = {**imposed, "action": "lift", "caseNo": "(2025)浙0302执1号", "liftedAt": lifted_at}
    later = write(tmp_path / "later.jsonl", header(generatedAt="2026-01-11T08:00:00+08:00"), lift)
    done = run(str(later), "--source", SOURCE, "--quiet")
    assert done.returncode == 0, done.stderr
    assert "1 applied, 0 subjects registered" in done.stdout
    (entry,) = await entries(graph)
    assert entry["liftedAt"].to_native() == dt.datetime.fromisoformat(lifted_at)

    assert decision(api_server, firm, "2025-09-01T02:00:01Z") == "CLEAR"
    assert decision(api_server, firm, "2025-09-01T01:59:59Z") == "PROHIBITED"
    assert decision(api_server, firm) == "CLEAR"
    # the first file again: its imposition was applied before, and does not undo the lift
    again = run(str(first), "--source", SOURCE, "--quiet")
    assert "0 applied, 0 subjects registered, 1 applied before" in again.stdout
    assert decision(api_server, firm) == "CLEAR"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("wenzhou", "--source: 'wenzhou' is not a source in this catalogue"),
        ("nowhere", "--source: 'nowhere' is not a source in this catalogue"),
    ],
)
def test_a_source_that_is_not_a_partner_is_refused(
    run: Any, tmp_path: Path, source: str, message: str
) -> None:
    path = write(tmp_path / "list.jsonl", header(source=source))
    done = run(str(path), "--source", source)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr and "national" in done.stderr
