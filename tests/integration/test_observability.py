"""Observability: JSON logs whose every line carries the request's id, Prometheus metrics
that move with real requests, and a truthful /readyz.

The servers are this module's own (the session's Neo4j behind them), so their metrics
count only what these tests send.
"""

from __future__ import annotations

import gc
import io
import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.event_tail import TAIL_REQUEST_ID
from api.logging_setup import JsonFormatter, RequestIdFilter
from tests.conftest import Neo4jServer, api_settings, free_port
from tests.integration.helpers import (
    RunningApp,
    enterprise_id,
    flush_access_records,
    flush_check_records,
    person_id,
    serve_app,
)


@pytest.fixture(scope="module")
def observed(neo4j_server: Neo4jServer, keys_file: Path) -> Iterator[RunningApp]:
    with serve_app(api_settings(neo4j_server, keys_file)) as running:
        yield running


def metric(app: RunningApp, name: str, **labels: str) -> float:
    """The value of one sample of /metrics (0 when it is not there yet)."""
    text = httpx.get(f"{app.url}/metrics", timeout=10).text
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if found == labels:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def total(app: RunningApp, name: str) -> float:
    text = httpx.get(f"{app.url}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{")
    )


# -- request ids -----------------------------------------------------------------------------


def test_request_ids_are_echoed_or_generated(observed: RunningApp) -> None:
    url = f"{observed.url}/graphql"
    given = f"client-{uuid.uuid4().hex[:12]}"
    response = httpx.post(
        url, json={"query": "{ departments { id } }"}, headers={"x-request-id": given}
    )
    assert response.headers["x-request-id"] == given
    generated = httpx.post(url, json={"query": "{ departments { id } }"}).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    # a hostile id (log injection, huge) is replaced, not echoed
    for hostile in ("a\tb", "x" * 500, '"}{"level":"ERROR"'):
        echoed = httpx.post(
            url, json={"query": "{ departments { id } }"}, headers={"x-request-id": hostile}
        ).headers["x-request-id"]
        assert echoed != hostile and re.fullmatch(r"[0-9a-f]{32}", echoed)
    # every endpoint and every refusal carries one
    for response in (
        httpx.get(f"{observed.url}/healthz", headers={"x-request-id": given}),
        httpx.get(f"{observed.url}/readyz", headers={"x-request-id": given}),
        httpx.get(f"{observed.url}/metrics", headers={"x-request-id": given}),
        httpx.post(url, content=b"{not json", headers={"x-request-id": given}),
        httpx.get(
            url,
            params={"query": 'mutation { endLink(id: "x", validTo: "2026-01-01") { id } }'},
            headers={"x-request-id": given},
        ),
        httpx.get(url, headers={"x-request-id": given, "accept": "text/html"}),
        httpx.put(url, json={}, headers={"x-request-id": given}),
    ):
        assert response.headers["x-request-id"] == given, response.url


def test_graphql_answers_get_and_post_only(observed: RunningApp) -> None:
    # GET and POST take the direct path (api.http.CreditLinkApp); the rest Starlette's router
    url = f"{observed.url}/graphql"
    page = httpx.get(url, headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    for method in ("PUT", "DELETE", "PATCH"):
        refused = httpx.request(method, url, json={"query": "{ departments { id } }"})
        assert refused.status_code == 405, method
        assert set(refused.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_every_log_line_of_a_request_carries_its_id(observed: RunningApp) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root, driver_log = logging.getLogger(), logging.getLogger("neo4j")
    saved = root.level, driver_log.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    driver_log.setLevel(logging.DEBUG)  # the driver logs each query it runs, in the request
    request_id = f"trace-{uuid.uuid4().hex[:16]}"
    try:
        # The app's own work after start, writing the records of earlier requests in the
        # background, logs without a request's id: these reads return once each writer
        # has written all it held.
        flush_check_records(observed)
        flush_access_records(observed)
        stream.seek(0)
        stream.truncate()
        response = httpx.post(
            f"{observed.url}/graphql",
            json={
                "query": "query($id: ID!) { subject(id: $id) { id sanctions { id } } }",
                "variables": {"id": enterprise_id()},
            },
            # a regulator's read leaves no access record, whose write in the background
            # would log without the request's id
            headers={"Authorization": "Bearer regulator-key", "x-request-id": request_id},
        )
        assert response.status_code == 200 and "errors" not in response.json()
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        driver_log.setLevel(saved[1])
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    # the server runs in this process: leave out the test's own HTTP client
    lines = [line for line in lines if not line["logger"].startswith(("httpx", "httpcore"))]
    assert len(lines) >= 3, lines  # the driver's lines and our own
    assert {line["logger"].split(".")[0] for line in lines} >= {"neo4j", "creditlink"}
    # the event log's tail polls in the background under its own id
    strays = [line for line in lines if line.get("request_id") not in (request_id, TAIL_REQUEST_ID)]
    assert not strays, strays
    summary = next(line for line in lines if line["msg"] == "graphql")
    assert summary["operation"] == "subject" and summary["role"] == "REGULATOR"
    assert isinstance(summary["duration_ms"], float) and summary["error_codes"] == []
    assert {"ts", "level", "logger", "msg"} <= set(summary)


# -- metrics ---------------------------------------------------------------------------------

CHECK = """query($id: ID!) {
  jointSanctionCheck(subjectId: $id, area: FINANCING_SERVICES) { decision }
}"""


def test_python_gc_pauses_are_timed(observed: RunningApp) -> None:
    # the app runs in this process, so this collection is one of the app's
    name = "creditlink_python_gc_pause_seconds_count"
    before = metric(observed, name, generation="2")
    gc.collect()
    assert metric(observed, name, generation="2") >= before + 1
    text = httpx.get(f"{observed.url}/metrics", timeout=10).text
    assert 'creditlink_python_gc_pause_seconds_bucket{generation="0",le="0.0005"}' in text


def test_metrics_move_with_real_requests(observed: RunningApp) -> None:
    post = observed.request
    company = enterprise_id()
    assert (
        "errors"
        not in post(
            "mutation($i: SubjectInput!) { registerSubject(input: $i) { id } }",
            {"i": {"id": company, "kind": "ENTERPRISE", "name": "温州指标测试有限公司"}},
            "admin-key",
        ).json()
    )
    impose = post(
        "mutation($i: SanctionInput!) { imposeSanction(input: $i) { id } }",
        {
            "i": {
                "listType": "DISHONEST_JUDGMENT_DEBTOR",
                "subjectId": company,
                "issuerId": "wz-intermediate-court",
                "decidedOn": "2025-01-10",
                "documentNo": "(2025)浙03执55号",
                "reason": "拒不履行",
            }
        },
        "court-key",
    ).json()
    assert "errors" not in impose, impose

    checks = metric(
        observed, "creditlink_graphql_operation_seconds_count", operation="jointSanctionCheck"
    )
    queries = total(observed, "creditlink_neo4j_query_seconds_count")
    clear = metric(
        observed, "creditlink_check_decisions_total", area="FINANCING_SERVICES", decision="CLEAR"
    )
    forbidden = metric(observed, "creditlink_graphql_errors_total", code="FORBIDDEN")
    invalid_id = metric(observed, "creditlink_graphql_errors_total", code="INVALID_ID")
    bad_input = metric(observed, "creditlink_graphql_errors_total", code="BAD_USER_INPUT")

    decision = post(CHECK, {"id": company}, "approval-key").json()["data"]["jointSanctionCheck"][
        "decision"
    ]
    assert decision not in {"CLEAR", "INCENTIVE"}
    assert (
        post(CHECK, {"id": person_id()}, "approval-key").json()["data"]["jointSanctionCheck"][
            "decision"
        ]
        == "CLEAR"
    )
    # a client-chosen operation name and alias never become a label (bounded cardinality)
    name = f"Op{uuid.uuid4().hex}"
    named = post(
        f"query {name}($id: ID!) {{ x{uuid.uuid4().hex[:8]}: jointSanctionCheck(subjectId: $id, area: FINANCING_SERVICES) {{ decision }} }}",
        {"id": person_id()},
        "approval-key",
        operationName=name,
    )
    assert "errors" not in named.json()
    assert (
        post(CHECK, {"id": company}, "public-key").json()["errors"][0]["extensions"]["code"]
        == "UNAUTHENTICATED"
    )
    assert (
        post('{ creditRating(subjectId: "x") { grade } }', None, "approval-key").json()["errors"][
            0
        ]["extensions"]["code"]
        == "FORBIDDEN"
    )
    assert (
        post(CHECK, {"id": "123"}, "approval-key").json()["errors"][0]["extensions"]["code"]
        == "INVALID_ID"
    )
    assert httpx.post(f"{observed.url}/graphql", content=b"{oops").status_code == 400

    assert (
        metric(
            observed, "creditlink_graphql_operation_seconds_count", operation="jointSanctionCheck"
        )
        == checks + 5
    )
    assert (
        metric(observed, "creditlink_graphql_operation_seconds_sum", operation="jointSanctionCheck")
        > 0
    )
    assert total(observed, "creditlink_neo4j_query_seconds_count") > queries
    assert (
        metric(
            observed,
            "creditlink_check_decisions_total",
            area="FINANCING_SERVICES",
            decision=decision,
        )
        == 1
    )
    assert (
        metric(
            observed,
            "creditlink_check_decisions_total",
            area="FINANCING_SERVICES",
            decision="CLEAR",
        )
        == clear + 2
    )
    assert metric(observed, "creditlink_graphql_errors_total", code="FORBIDDEN") == forbidden + 1
    assert metric(observed, "creditlink_graphql_errors_total", code="INVALID_ID") == invalid_id + 1
    assert (
        metric(observed, "creditlink_graphql_errors_total", code="BAD_USER_INPUT") == bad_input + 1
    )
    text = httpx.get(f"{observed.url}/metrics").text
    assert name not in text and "x" + name[2:10] not in text


def test_unwritten_check_records_are_a_gauge_that_drains(observed: RunningApp) -> None:
    for _ in range(3):
        assert "errors" not in observed.request(CHECK, {"id": person_id()}, "approval-key").json()
    deadline = time.monotonic() + 10
    while True:
        text = httpx.get(f"{observed.url}/metrics", timeout=10).text
        assert "\ncreditlink_check_records_pending " in text
        if metric(observed, "creditlink_check_records_pending") == 0:
            break
        assert time.monotonic() < deadline, "check records were not written within 10 s"
        time.sleep(0.05)
    assert (
        'creditlink_graphql_operation_seconds_bucket{le="0.005",operation="jointSanctionCheck"}'
        in text
    )
    # Neo4j query latency is by query name, one series per query the code names
    assert re.search(r'creditlink_neo4j_query_seconds_count\{query="imposeSanction"\} [1-9]', text)


# -- readiness --------------------------------------------------------------------------------


def test_readyz_is_truthful(
    observed: RunningApp, neo4j_server: Neo4jServer, keys_file: Path
) -> None:
    ready = httpx.get(f"{observed.url}/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}
    # an API whose Neo4j is not there: alive, not ready, and says why, at once
    settings = api_settings(neo4j_server, keys_file)
    nowhere = settings.model_copy(update={"neo4j_uri": f"bolt://127.0.0.1:{free_port()}"})
    with serve_app(nowhere, wait_ready=False) as lost:
        assert httpx.get(f"{lost.url}/healthz").status_code == 200
        started = time.perf_counter()
        answer = httpx.get(f"{lost.url}/readyz", timeout=30)
        elapsed = time.perf_counter() - started
        assert answer.status_code == 503
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.json()["status"] == "unavailable"
        assert "neo4j" in answer.json()["reason"]
        assert elapsed < 3, f"/readyz took {elapsed:.1f} s to say Neo4j is away"
        body = lost.request("{ departments { id } }").json()  # the catalogue needs no Neo4j
        assert body["data"]["departments"]
        # (operations that need Neo4j answer SERVICE_UNAVAILABLE: see test_faults.py)
