"""An instance of another city (API_CONTRACT.md, "Exchange between platforms"):
`CREDITLINK_JURISDICTION=jiaxing` runs `creditlink serve` with Jiaxing's catalogue on a
Neo4j and data dir of its own, its demo keys name Jiaxing's departments, and an issuer's
sanction without `jurisdiction` is Jiaxing's. A catalogue of another jurisdiction is
refused before anything touches the database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.settings import PROJECT_ROOT
from domain.identifiers import make_uscc
from rules.loader import catalogue_dir
from testkit import free_port
from testkit.api import ApiProcess, serve_environment, start_api_process
from testkit.neo4j import Neo4jServer
from tests.integration.helpers import own_embedded_neo4j

JIAXING_LISTS = {
    "DISHONEST_JUDGMENT_DEBTOR",
    "SAMR_SERIOUS_ILLEGAL",
    "MAJOR_TAX_VIOLATION",
    "GOV_PROCUREMENT_BAD_RECORD",
    "TAX_A_LEVEL",
    "CUSTOMS_AEO",
    # kept in Jiaxing, not recognised by Wenzhou from it
    "CUSTOMS_DISHONEST",
}
IMPOSE = """
mutation($input: SanctionInput!) {
  imposeSanction(input: $input) { id jurisdiction recognized issuer { id } listType { id } }
}"""
REGISTER = "mutation($input: SubjectInput!) { registerSubject(input: $input) { id } }"


@dataclass(frozen=True)
class Instance:
    api: ApiProcess
    neo4j: Neo4jServer
    data_dir: Path
    keys: dict[str, str]  # demo key name -> the key

    def post(self, query: str, variables: dict[str, Any] | None = None, key: str = "") -> Any:
        headers = {"Authorization": f"Bearer {self.keys[key]}"} if key else {}
        response = httpx.post(
            f"{self.api.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=60,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body.get("errors") is None, body
        return body["data"]


@pytest.fixture(scope="module")
def jiaxing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    """`creditlink serve` as Jiaxing, with no keys file: the demo keys are generated."""
    data_dir = tmp_path_factory.mktemp("jiaxing")
    with own_embedded_neo4j("jiaxing") as embedded:
        neo4j = Neo4jServer.of(embedded)
        api = start_api_process(
            neo4j,
            keys_file=data_dir / "unused.toml",
            data_dir=data_dir,
            log=data_dir / "api.log",
            seed="none",
            # an empty value is the default: the data dir's keys, generated as demo keys
            extra={"CREDITLINK_JURISDICTION": "jiaxing", "CREDITLINK_API_KEYS_FILE": ""},
        )
        try:
            lines = (data_dir / "demo-api-keys.txt").read_text(encoding="utf-8").splitlines()
            keys = {name: key for name, _, key in (line.split() for line in lines)}
            yield Instance(api, neo4j, data_dir, keys)
        finally:
            api.stop()


def test_the_instance_is_jiaxing(jiaxing: Instance) -> None:
    found = jiaxing.post("{ jurisdictions { id local } }", key="demo-admin")["jurisdictions"]
    local = {j["id"]: j["local"] for j in found}
    assert local == {"jiaxing": True, "wenzhou": False, "zhejiang": False, "national": False}


def test_list_types_are_issued_by_jiaxing_departments(jiaxing: Instance) -> None:
    found = jiaxing.post("{ listTypes { id issuers { id } } }", key="demo-admin")["listTypes"]
    assert {lt["id"] for lt in found} == JIAXING_LISTS
    issuers = {i["id"] for lt in found for i in lt["issuers"]}
    assert issuers and all(i.startswith("jx-") for i in issuers), issuers
    court = next(lt for lt in found if lt["id"] == "DISHONEST_JUDGMENT_DEBTOR")
    assert court["issuers"] == [{"id": "jx-intermediate-court"}]


def test_the_demo_keys_name_jiaxing_departments(jiaxing: Instance) -> None:
    entries = tomllib.loads((jiaxing.data_dir / "api-keys.toml").read_text(encoding="utf-8"))
    keys = {k["name"]: (k["role"], k.get("department")) for k in entries["keys"]}
    assert keys["demo-court-issuer"] == ("ISSUER", "jx-intermediate-court")
    assert keys["demo-tax-issuer"] == ("ISSUER", "jx-tax")
    assert keys["demo-bidding-platform"] == ("APPROVAL_SYSTEM", "jx-public-resources")
    assert keys["demo-partner"] == ("PARTNER", None)
    assert set(jiaxing.keys) == set(keys)


def test_the_schema_defaults_an_issuers_jurisdiction_to_jiaxing(jiaxing: Instance) -> None:
    query = '{ __type(name: "SanctionInput") { inputFields { name defaultValue } } }'
    fields = jiaxing.post(query)["__type"]["inputFields"]
    assert {f["name"]: f["defaultValue"] for f in fields}["jurisdiction"] == '"jiaxing"'


def test_an_issuer_imposes_a_jiaxing_sanction_without_naming_the_jurisdiction(
    jiaxing: Instance,
) -> None:
    subject = make_uscc("91", "330402", "MA0JX001")  # 嘉兴市南湖区
    registered = jiaxing.post(
        REGISTER,
        {"input": {"id": subject, "kind": "ENTERPRISE", "name": "嘉兴某公司"}},
        key="demo-admin",
    )
    assert registered["registerSubject"]["id"] == subject
    payload = {
        "listType": "DISHONEST_JUDGMENT_DEBTOR",
        "subjectId": subject,
        "issuerId": "jx-intermediate-court",
        "decidedOn": "2025-03-01",
        "documentNo": "(2025)浙04执1号",
        "reason": "有履行能力而拒不履行生效法律文书确定的义务",
    }
    sanction = jiaxing.post(IMPOSE, {"input": payload}, key="demo-court-issuer")["imposeSanction"]
    assert sanction["jurisdiction"] == "jiaxing" and sanction["recognized"] is True
    assert sanction["issuer"] == {"id": "jx-intermediate-court"}
    # an explicit null is the instance's own jurisdiction too, not the contract's default
    second = {**payload, "documentNo": "(2025)浙04执2号", "jurisdiction": None}
    sanction = jiaxing.post(IMPOSE, {"input": second}, key="demo-court-issuer")["imposeSanction"]
    assert sanction["jurisdiction"] == "jiaxing"


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_demo_seed_loads_no_wenzhou_world_into_jiaxing(
    jiaxing: Instance, tmp_path: Path
) -> None:
    env = serve_environment(
        jiaxing.neo4j,
        port=free_port(),
        keys_file=jiaxing.data_dir / "api-keys.toml",
        data_dir=tmp_path,
        seed="demo",
        extra={"CREDITLINK_JURISDICTION": "jiaxing"},
    )
    done = _cli("seed", env=env)
    assert done.returncode == 0, done.stderr
    assert "no demo world for jiaxing: the database starts empty" in done.stdout
    assert "loaded the demo world" not in done.stdout


@pytest.mark.parametrize(
    ("jurisdiction", "catalogue", "local"),
    [("jiaxing", "wenzhou", "wenzhou"), ("wenzhou", "jiaxing", "jiaxing")],
)
def test_another_jurisdictions_catalogue_is_refused_before_the_database(
    jurisdiction: str, catalogue: str, local: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        # nothing answers there: the refusal must come before any connection
        "NEO4J_URI": f"bolt://127.0.0.1:{free_port()}",
        "CREDITLINK_DATA_DIR": str(tmp_path),
        "CREDITLINK_JURISDICTION": jurisdiction,
        "CREDITLINK_CATALOGUE_DIR": str(catalogue_dir(catalogue)),
    }
    done = _cli("migrate", env=env)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert f"CREDITLINK_JURISDICTION={jurisdiction}" in done.stderr
    assert "jurisdictions.yaml" in done.stderr and "jurisdiction-mismatch" in done.stderr
    assert f"the catalogue of {local}, not of {jurisdiction}" in done.stderr
