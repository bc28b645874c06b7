"""The regulator's console and GraphiQL, end to end: the real app over a real Neo4j, driven
in Debian's headless Chromium by playwright-core (tests/e2e/console_e2e.mjs,
exchange_e2e.mjs and graphiql_e2e.mjs), through the public GraphQL API only. Screenshots go
to test-artifacts/console/, test-artifacts/console-exchange/ and test-artifacts/graphiql/."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from api.console import CONTENT_SECURITY_POLICY, console_routes
from api.graphiql import CONTENT_SECURITY_POLICY as GRAPHIQL_CSP
from api.settings import PROJECT_ROOT
from graph_model.driver import Graph
from graph_model.exchange import status
from graph_model.exchange.apply import Incoming, apply_events
from rules.loader import load_catalogue
from tests.bundles import write_bundle
from tests.conftest import ApiServer
from tests.integration.helpers import enterprise_id, link, register
from tests.integration.scenario import build_shoe_world, impose

CHROMIUM = Path(os.environ.get("CREDITLINK_CHROMIUM", "/usr/bin/chromium"))
CONSOLE_DIR = PROJECT_ROOT / "console"
BUNDLE = PROJECT_ROOT / "api" / "static" / "console" / "index.html"
GRAPHIQL_BUNDLE = PROJECT_ROOT / "api" / "static" / "graphiql" / "graphiql.html"
DRIVER = Path(__file__).with_name("console_e2e.mjs")
EXCHANGE_DRIVER = Path(__file__).with_name("exchange_e2e.mjs")
GRAPHIQL_DRIVER = Path(__file__).with_name("graphiql_e2e.mjs")
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "console"
EXCHANGE_ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "console-exchange"
GRAPHIQL_ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "graphiql"
# a cold Neo4j plans each query once (seconds for the larger ones): generous per step
STEP_TIMEOUT_MS = 45_000


def _missing(bundle: Path = BUNDLE) -> str | None:
    """What the browser test needs and this machine lacks (None when nothing)."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (make browser installs Debian's chromium as root)"
    if not (CONSOLE_DIR / "node_modules" / "playwright-core").is_dir():
        return "console/node_modules is missing: run `make console`"
    if not bundle.is_file():
        return f"{bundle.relative_to(PROJECT_ROOT)} is not built: run `make console`"
    return None


def _require(bundle: Path) -> None:
    reason = _missing(bundle)
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"the browser e2e test cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def browser_ready() -> None:
    _require(BUNDLE)


@pytest.fixture
def graphiql_ready() -> None:
    _require(GRAPHIQL_BUNDLE)


@pytest.fixture
def world(api_server: ApiServer, empty_graph: Graph) -> dict[str, str]:
    """The shoe world of the engine tests, a second firm the chair also leads, one sanction."""
    w = build_shoe_world(api_server)
    other = enterprise_id("330304")
    register(api_server, other, "ENTERPRISE", "温州市瓯海区志强贸易有限公司", district="330304")
    link(api_server, w.chair, other, "LEGAL_REPRESENTATIVE_OF", "2021-04-01")
    link(api_server, w.chair, other, "SHAREHOLDER_OF", "2021-04-01", ratio=0.6)
    sanction = impose(api_server, subjectId=w.company, decidedOn="2025-01-10")
    return {
        "company": w.company,
        "legalRep": w.legal_rep,
        "laterRep": w.later_rep,
        "chair": w.chair,
        "director": w.director,
        "controller": w.controller,
        "spouse": w.spouse,
        "child": w.child,
        "household": w.household,
        "otherCompany": other,
        "sanction": sanction["id"],
    }


def _drive(
    driver: Path, artifacts: Path, api: ApiServer, tmp_path: Path, **config: Any
) -> dict[str, Any]:
    """Runs a browser driver (tests/e2e/browser.mjs) on a fresh profile; what it observed."""
    artifacts.mkdir(parents=True, exist_ok=True)
    for old in artifacts.glob("*.png"):
        old.unlink()
    config |= {
        "url": api.url,
        "artifacts": str(artifacts),
        "chromium": str(CHROMIUM),
        "consoleDir": str(CONSOLE_DIR),
        "userDataDir": str(tmp_path / "chromium-profile"),
        "timeoutMs": STEP_TIMEOUT_MS,
    }
    proc = subprocess.run(
        ["node", str(driver), json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    try:
        observed: dict[str, Any] = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"the browser driver printed no result (exit {proc.returncode}):\n{proc.stderr}"
        )
    (artifacts / "observed.json").write_text(
        json.dumps(observed, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    assert observed["failed"] is None, f"{observed['failed']}\nsee {artifacts}"
    return observed


def _edge(source: str, relation: str, target: str) -> str:
    """The prefix of the graph's edge id for a stored link (the start date follows)."""
    return f"{source}|{relation}|{target}|"


def test_console_end_to_end(
    browser_ready: None, api_server: ApiServer, world: dict[str, str], tmp_path: Path
) -> None:
    observed = _drive(
        DRIVER,
        ARTIFACTS,
        api_server,
        tmp_path,
        key="regulator-key",
        weakKey="approval-key",
        ids=world,
    )
    steps = observed["steps"]

    # served by the app, locked to its own origin; nothing fetched from anywhere else
    assert steps["load"]["status"] == 200
    assert steps["load"]["csp"] == CONTENT_SECURITY_POLICY
    assert observed["foreignRequests"] == []
    assert observed["pageErrors"] == []
    assert observed["consoleErrors"] == []
    assert observed["cspViolations"] == []
    assert "REGULATOR" in steps["key"]["weak"]  # an approval system's key is told it is not enough
    assert steps["key"]["stored"] == "regulator-key"  # sessionStorage, for this tab only
    assert steps["key"]["listTypes"] > 10

    # search by name → the company's file and graph, with its legal representative now
    assert world["company"] in steps["search:瓯江鞋业"]
    company = steps["company"]
    assert company["fileName"] == "温州市鹿城区瓯江鞋业有限公司"
    assert company["sanctions"] == [{"id": world["sanction"], "status": "ACTIVE"}]
    nodes = {n["id"]: n for n in company["graph"]["nodes"]}
    assert nodes[world["company"]]["listKind"] == "BLACK"
    assert {world["laterRep"], world["chair"], world["director"], world["controller"]} <= set(nodes)
    edges = [e["id"] for e in company["graph"]["edges"]]
    lr = _edge(world["laterRep"], "LEGAL_REPRESENTATIVE_OF", world["company"])
    assert any(e.startswith(lr) for e in edges), edges
    assert company["dataset"]["focus"] == world["company"]
    assert company["grade"] in {"C", "D"}  # a unit on a black list is graded C at best
    assert company["evaluation"] == ["rating", "risk", "owners"]

    # a click on the chair expands it: the other firm it leads appears, linked to it
    expand = steps["expand"]
    assert expand["card"] == world["chair"]
    expanded = {n["id"] for n in expand["graph"]["nodes"]}
    assert world["otherCompany"] in expanded
    assert any(
        e["id"].startswith(_edge(world["chair"], "LEGAL_REPRESENTATIVE_OF", world["otherCompany"]))
        for e in expand["graph"]["edges"]
    )

    # search by code → the child; the check restricts through the household and the
    # legal representative on the decision date, and that path is drawn and highlighted
    assert steps[f"search:{world['child']}"] == [world["child"]]
    check = steps["check"]
    assert check["subject"] == world["child"]
    assert check["band"] is not None and check["grade"] is None  # a person: integrity score
    assert check["evaluation"] == ["integrity", "risk"]
    assert check["decision"] == "RESTRICTED"
    assert "限制" in check["decisionText"]
    school = [m for m in check["measures"] if m["id"] == "DJD-CHILD-PRIVATE-SCHOOL"]
    assert school and school[0]["role"] == "HOUSEHOLD_CHILD"
    assert "DJD-CHILD-PRIVATE-SCHOOL" in check["measureItems"]
    assert any(school[0]["legalBasis"] in text for text in check["legalText"])
    path = school[0]["path"]
    expected_nodes = {world["child"], world["household"], world["legalRep"], world["company"]}
    assert {s["from"] for s in path} | {s["to"] for s in path} == expected_nodes
    graph = check["graph"]
    assert set(graph["highlightedNodes"]) == expected_nodes
    # the company and the former legal representative were not in the child's depth-1
    # neighbourhood: the path brought them onto the graph
    assert expected_nodes <= {n["id"] for n in graph["nodes"]}
    highlighted = set(graph["highlightedEdges"])
    assert highlighted == {f"{s['from']}|{s['relation']}|{s['to']}|{s['validFrom']}" for s in path}
    assert len(highlighted) == 3
    assert check["dataset"]["highlightedEdges"].split() == graph["highlightedEdges"]

    # double-click the company → its file; the sanction's impact by role and area
    impact = steps["impact"]
    assert impact["subject"] == world["company"]
    reached = {(r["id"], r["role"]) for r in impact["rows"]}
    assert (world["legalRep"], "LEGAL_REPRESENTATIVE") in reached
    assert (world["chair"], "PRINCIPAL_RESPONSIBLE_PERSON") in reached
    assert (world["controller"], "ACTUAL_CONTROLLER") in reached
    assert (world["child"], "HOUSEHOLD_CHILD") in reached
    assert any(a.startswith("便民服务") for a in impact["areas"])

    # what if the company were put on the SAMR list: someone is reached, drawn on the graph
    assert steps["preview"]["rows"]
    assert world["company"] in steps["previewGraph"]["graph"]["highlightedNodes"]

    assert sorted(p.name for p in ARTIFACTS.glob("*.png")) == [
        "01-company-graph.png",
        "02-expanded.png",
        "03-check-path.png",
        "04-impact.png",
        "05-preview.png",
    ]


# ---- entries relayed from partner cities, and the Exchange view ----------------------------

JIAXING_URL = "http://jiaxing.invalid/graphql"
JINHUA_URL = "http://jinhua.invalid/graphql"
PULL_ERROR = "HTTP 502 from jiaxing: bad gateway"


def _feed_entry(
    source: str, source_id: str, list_type: str, subject: str, name: str
) -> dict[str, Any]:
    """A FeedSanction of `source`'s, as a pull hands it to graph_model.exchange.apply."""
    return {
        "id": source_id,
        "listType": list_type,
        "subjectId": subject,
        "subjectKind": "ENTERPRISE",
        "subjectName": name,
        "issuer": "某地中级人民法院",
        "jurisdiction": source,
        "decidedOn": dt.date(2025, 3, 1),
        "validFrom": dt.date(2025, 3, 1),
        "validTo": None,
        "status": "ACTIVE",
        "documentNo": "（2025）浙04执12号",
        "reason": "有履行能力而拒不履行生效法律文书确定的义务",
        "liftedAt": None,
    }


@pytest.fixture
async def relayed(api_server: ApiServer, empty_graph: Graph) -> dict[str, Any]:
    """A Wenzhou firm with a local entry, an entry relayed from Jiaxing (recognised here) and
    one from Jinhua (a list type Wenzhou does not recognise from Jinhua); Jiaxing also sent an
    event on a list this catalogue lacks (kept aside), and its last pull failed."""
    name = "温州市鹿城区禾城贸易有限公司"
    company = enterprise_id("330302")
    register(api_server, company, "ENTERPRISE", name, district="330302")
    local = impose(api_server, subjectId=company, decidedOn="2025-01-10")
    catalogue = load_catalogue()
    at = dt.datetime(2025, 3, 1, 2, 0, tzinfo=dt.UTC)
    jiaxing = await apply_events(
        empty_graph,
        catalogue,
        "jiaxing",
        [
            Incoming(
                "jx-ev-1",
                "IMPOSED",
                at,
                _feed_entry("jiaxing", "JX-2025-001", "DISHONEST_JUDGMENT_DEBTOR", company, name),
            ),
            Incoming(
                "jx-ev-2",
                "IMPOSED",
                at,
                _feed_entry("jiaxing", "JX-2025-002", "NOT_A_LIST", company, name),
            ),
        ],
        url=JIAXING_URL,
    )
    jinhua = await apply_events(
        empty_graph,
        catalogue,
        "jinhua",
        [
            Incoming(
                "jh-ev-1",
                "IMPOSED",
                at,
                _feed_entry("jinhua", "JH-2025-007", "MAJOR_TAX_VIOLATION", company, name),
            )
        ],
        url=JINHUA_URL,
    )
    assert (jiaxing.applied, len(jiaxing.kept_aside), jinhua.applied) == (1, 1, 1)
    now = dt.datetime.now(dt.UTC)
    await status.record_pull(empty_graph, "jiaxing", url=JIAXING_URL, error=PULL_ERROR, at=now)
    await status.record_pull(empty_graph, "jinhua", url=JINHUA_URL, error=None, at=now)
    kept = await status.kept_aside(empty_graph, None, 10)
    return {"company": company, "local": local["id"], "keptReason": kept[0]["reason"]}


def _public_key(api: ApiServer) -> str:
    body = api.post("{ exchangeStatus { publicKey } }", key="regulator-key")
    assert "errors" not in body, body
    key: str = body["data"]["exchangeStatus"]["publicKey"]
    return key


def _assert_clean(observed: dict[str, Any]) -> None:
    assert observed["foreignRequests"] == []
    assert observed["pageErrors"] == []
    assert observed["consoleErrors"] == []
    assert observed["cspViolations"] == []


def test_console_shows_relayed_entries_and_the_exchange(
    browser_ready: None, api_server: ApiServer, relayed: dict[str, Any], tmp_path: Path
) -> None:
    observed = _drive(
        EXCHANGE_DRIVER,
        EXCHANGE_ARTIFACTS,
        api_server,
        tmp_path,
        key="regulator-key",
        subject=relayed["company"],
    )
    _assert_clean(observed)
    steps = observed["steps"]
    assert steps["load"]["city"] == "温州 wenzhou"  # the local jurisdiction, from the API

    # the file: a local entry says nothing of its origin; a relayed one names its city and
    # where it was relayed from, with its id there; one not recognised here says so
    entries = {e["id"]: e for e in steps["entries"]["entries"]}
    assert set(entries) == {relayed["local"], "jiaxing/JX-2025-001", "jinhua/JH-2025-007"}
    assert entries[relayed["local"]]["origin"] is None
    from_jiaxing = entries["jiaxing/JX-2025-001"]
    assert "嘉兴" in from_jiaxing["city"]
    assert from_jiaxing["relayedFrom"] == "jiaxing"
    assert "relayed from 嘉兴 (id there: JX-2025-001, received " in from_jiaxing["origin"]
    assert from_jiaxing["notRecognized"] is False
    from_jinhua = entries["jinhua/JH-2025-007"]
    assert "金华" in from_jinhua["city"]
    assert from_jinhua["notRecognized"] is True
    assert "not recognised here" in from_jinhua["origin"]
    options = {o["id"]: o["text"] for o in steps["entries"]["impactOptions"]}
    assert "嘉兴" in options["jiaxing/JX-2025-001"]
    assert "嘉兴" not in options[relayed["local"]] and "金华" not in options[relayed["local"]]

    # the Exchange view: this instance and its key, each source's counts, what was kept aside
    exchange = steps["exchange"]
    assert exchange["view"] == "exchange" and exchange["visible"] is True
    assert exchange["hash"] == "#/exchange"
    assert exchange["error"] is None
    assert exchange["jurisdiction"] == "wenzhou" and "温州" in exchange["identity"]
    assert exchange["publicKey"] == _public_key(api_server)
    assert exchange["keyId"]
    sources = {s["source"]: s for s in exchange["sources"]}
    assert set(sources) == {"jiaxing", "jinhua"}
    jx = sources["jiaxing"]
    assert "嘉兴" in jx["city"] and jx["url"] == JIAXING_URL
    assert (jx["applied"], jx["kept-aside"], jx["entries"]) == ("1", "1", "1")
    assert jx["last-error"] == PULL_ERROR
    assert jx["failing"] is True and jx["errorHighlighted"] is True
    assert jx["last-pull"] != "—" and jx["last-success"] == "—"  # never pulled successfully
    jh = sources["jinhua"]
    assert "金华" in jh["city"]
    assert (jh["applied"], jh["kept-aside"], jh["entries"]) == ("1", "0", "1")
    assert jh["failing"] is False and jh["last-error"] == "—" and jh["last-success"] != "—"
    assert exchange["noSources"] is None and exchange["noneKept"] is None
    [kept] = exchange["keptAside"]
    assert (kept["source"], kept["event"]) == ("jiaxing", "jx-ev-2")
    assert "NOT_A_LIST" in relayed["keptReason"]
    assert relayed["keptReason"] in kept["cells"]
    assert {"IMPOSED", "JX-2025-002", "jx-ev-2"} <= set(kept["cells"])

    # the key is copied as shown; the way back finds the file and graph as they were
    assert steps["copy"]["clipboard"] == exchange["publicKey"]
    back = steps["back"]
    assert back["visible"] is True and back["subject"] == relayed["company"]
    assert back["hash"] == f"#/subject/{relayed['company']}"
    assert back["graphWidth"] > 100

    assert sorted(p.name for p in EXCHANGE_ARTIFACTS.glob("*.png")) == [
        "01-relayed-entries.png",
        "02-exchange.png",
    ]


def test_the_exchange_view_says_what_to_do_before_any_pull(
    browser_ready: None, api_server: ApiServer, empty_graph: Graph, tmp_path: Path
) -> None:
    observed = _drive(
        EXCHANGE_DRIVER, EXCHANGE_ARTIFACTS, api_server, tmp_path, key="regulator-key"
    )
    _assert_clean(observed)
    exchange = observed["steps"]["exchange"]
    assert exchange["error"] is None
    assert exchange["sources"] == [] and exchange["keptAside"] == []
    assert "no partner pulled yet" in exchange["noSources"]
    assert "creditlink exchange pull" in exchange["noSources"]
    assert "nothing kept aside" in exchange["noneKept"]
    assert exchange["publicKey"] == _public_key(api_server)
    assert observed["steps"]["copy"]["clipboard"] == exchange["publicKey"]
    assert observed["steps"]["back"]["hash"] == "#/"


GRAPHIQL_QUERY = '{ linkageStats(from: "2020-01-01T00:00:00Z") { area checks } }'  # REGULATOR


def test_graphiql_end_to_end(graphiql_ready: None, api_server: ApiServer, tmp_path: Path) -> None:
    key = "regulator-key"
    prefill = {
        "q": "query Prefilled { __typename }",
        "variables": '{"prefilled": true}',
        "headers": '{"X-Prefilled": "yes"}',
        "operationName": "Prefilled",
    }
    observed = _drive(
        GRAPHIQL_DRIVER,
        GRAPHIQL_ARTIFACTS,
        api_server,
        tmp_path,
        key=key,
        query=GRAPHIQL_QUERY,
        prefill=prefill,
    )
    steps = observed["steps"]

    # served by the app, framed by no one; on a network that reaches only the app's origin,
    # everything the IDE needs (scripts, styles, fonts, Monaco's workers) loads
    load = steps["load"]
    assert load["status"] == 200 and load["contentType"].startswith("text/html")
    assert load["csp"] == GRAPHIQL_CSP and "frame-ancestors 'none'" in load["csp"]
    assert "GraphiQL" in load["title"]
    assert observed["foreignRequests"] == []
    assert observed["pageErrors"] == []
    assert observed["consoleErrors"] == []
    assert observed["cspViolations"] == []

    # the header typed in the Headers tab goes with the query, which a REGULATOR may run
    run = steps["run"]
    assert run["sent"] == [f"Bearer {key}"]
    assert run["status"] == 200 and "errors" not in run["body"], run["body"]
    assert isinstance(run["body"]["data"]["linkageStats"], list)
    assert key in run["headerEditor"]

    # GraphiQL stored its tabs and history (with the headers) in memory; the browser's
    # storage holds the key nowhere, and a reload starts without it
    storage = steps["storage"]
    assert "graphiql:queries" in storage["memoryKeys"]
    stored = storage["local"] + storage["session"]
    assert [name for name, value in stored if key in name or key in value] == []
    assert key not in steps["reload"]["headerEditor"]

    # a link carrying a document, variables and headers prefills nothing and runs nothing:
    # the only request on load is the schema's introspection, without the link's header
    opened = steps["prefill"]
    assert opened["posts"] and all("IntrospectionQuery" in p["query"] for p in opened["posts"])
    assert not any("Prefilled" in p["query"] for p in opened["posts"])
    assert not any("x-prefilled" in p["headers"] for p in opened["posts"])
    assert "Prefilled" not in opened["queryEditor"]

    # `?query=` is GraphQL over HTTP GET (JSON, anonymous, queries only), never the IDE
    direct = steps["queryParam"]
    assert direct["contentType"].startswith("application/json")
    assert direct["posts"] == 0 and direct["ide"] is False

    assert sorted(p.name for p in GRAPHIQL_ARTIFACTS.glob("*.png")) == [
        "01-graphiql.png",
        "02-query-run.png",
        "03-prefill-ignored.png",
    ]


# ---- serving the bundle (no database, no browser) ---------------------------------------


def _client(bundle: Path) -> httpx.AsyncClient:
    app = Starlette(routes=console_routes(bundle))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")


async def test_console_without_a_bundle_says_how_to_build_it(tmp_path: Path) -> None:
    async with _client(tmp_path / "nothing") as client:
        for url in ("/console", "/console/"):
            response = await client.get(url)
            assert response.status_code == 503
            assert "make console" in response.text
            assert response.headers["content-type"].startswith("text/html")
        assert (await client.get("/console/assets/index.js")).status_code == 404


async def test_console_serves_the_page_and_its_assets(tmp_path: Path) -> None:
    write_bundle(tmp_path, "index.html", "console", "index-abc123.js")
    async with _client(tmp_path) as client:
        page = await client.get("/console")
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert page.headers["cache-control"] == "no-cache"
        assert (await client.get("/console/")).text == page.text
        asset = await client.get("/console/assets/index-abc123.js")
        assert asset.status_code == 200
        assert "immutable" in asset.headers["cache-control"]
        assert "javascript" in asset.headers["content-type"]
        (tmp_path / "assets" / "index-abc123.js.gz").write_bytes(gzip.compress(b"console.log(1)"))
        packed = await client.get(
            "/console/assets/index-abc123.js", headers={"Accept-Encoding": "gzip"}
        )
        assert packed.headers["content-encoding"] == "gzip"
        assert "javascript" in packed.headers["content-type"]
        assert packed.text == "console.log(1)"  # httpx decodes it
        plain = await client.get(
            "/console/assets/index-abc123.js", headers={"Accept-Encoding": "identity"}
        )
        assert "content-encoding" not in plain.headers
        assert plain.text == "console.log(1)"
        for bad in ("/console/assets/..%2Fsecret.txt", "/console/assets/missing.js"):
            assert (await client.get(bad)).status_code == 404
