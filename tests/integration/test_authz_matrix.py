"""Every root field × every role: allowed, or FORBIDDEN / UNAUTHENTICATED and nothing changed.

The fields come from the live schema (`api.schema.build_schema()`), so a field another
engineer adds is in the matrix the moment it exists; `EXPECTED` (tests/integration/authz.py)
must name the roles for it, or `test_every_root_field_has_an_expected_role_entry` fails.
Fields without a hand-written call in `CALLS` are called with arguments built from their
types (see `authz.minimal_arguments`), which is enough to reach the resolver's first line,
the capability check.

Also here: personal identifiers never reach PUBLIC unmasked (every field PUBLIC may call,
every scalar it can select, nested ones included), and no resident ID or person name is
written to the logs.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from api.auth import Role
from api.logging_setup import JsonFormatter, RequestIdFilter
from domain.identifiers import mask_resident_id
from graph_model.driver import Graph
from tests.conftest import ApiServer
from tests.graphql_ws import (
    admitted,
    closed_with,
    connected,
    error_of,
    holds_subscriptions,
    received,
    subscribe,
)
from tests.integration.authz import (
    CALLERS,
    DATE,
    EXPECTED,
    IMPOSE,
    KEYED,
    PUBLIC,
    SCHEMA,
    World,
    build_world,
    document_no,
    generic_call,
    impose_on,
    minimal_arguments,
    role_of,
    root_fields,
    shallow_selection,
)
from tests.integration.helpers import (
    enterprise_id,
    error_code,
    flush_access_records,
    flush_check_records,
    person_id,
    register,
    snapshot,
    wipe_graph,
)

MATRIX = [(kind, name) for kind in ("Query", "Mutation") for name in root_fields(kind)]


Call = tuple[str, dict[str, Any]]
Prepare = Callable[[ApiServer, World, "str | None"], Call]


def _fixed(query: str, variables: Callable[[World], dict[str, Any]] | None = None) -> Prepare:
    return lambda api, world, key: (query, variables(world) if variables else {})


def _about(attribute: str, selection: str) -> Prepare:
    """`query($id: ID!) { <selection> }` asked about the world's `attribute`."""
    return _fixed(f"query($id: ID!) {{ {selection} }}", lambda w: {"id": getattr(w, attribute)})


def _register(api: ApiServer, world: World, key: str | None) -> Call:
    # the id exists: a refused call would rename it, an allowed one renames it on purpose
    existing = person_id()
    register(api, existing, "PERSON", "林志强")
    return (
        "mutation($input: SubjectInput!) { registerSubject(input: $input) { id name } }",
        {"input": {"id": existing, "kind": "PERSON", "name": "林志坚"}},
    )


def _link(api: ApiServer, world: World, key: str | None) -> Call:
    director = person_id()
    register(api, director, "PERSON", "黄海")
    return (
        "mutation($input: LinkInput!) { linkSubjects(input: $input) { id } }",
        {
            "input": {
                "from": director,
                "to": world.company,
                "relation": "EXECUTIVE_OF",
                "role": "DIRECTOR",
                "validFrom": "2020-01-01",
            }
        },
    )


def _end_link(api: ApiServer, world: World, key: str | None) -> Call:
    query, variables = _link(api, world, key)
    body = api.post(query, variables, key="admin-key")
    return (
        'mutation($id: ID!) { endLink(id: $id, validTo: "2026-01-01") { id validTo } }',
        {"id": body["data"]["linkSubjects"]["id"]},
    )


def _impose(api: ApiServer, world: World, key: str | None) -> Call:
    return (
        IMPOSE,
        {
            "input": {
                "listType": "DISHONEST_JUDGMENT_DEBTOR",
                "subjectId": world.company,
                "issuerId": "wz-intermediate-court",
                "decidedOn": DATE,
                "documentNo": document_no(),
                "reason": "拒不履行",
            }
        },
    )


def _lift(api: ApiServer, world: World, key: str | None) -> Call:
    return (
        'mutation($id: ID!) { liftSanction(input: {sanctionId: $id, kind: REVOKED, reason: "错列"}) { id status } }',
        {"id": impose_on(api, world.company)},
    )


def _object(api: ApiServer, world: World, key: str | None) -> Call:
    return (
        'mutation($id: ID!) { fileObjection(sanctionId: $id, reason: "已履行") { id status } }',
        {"id": impose_on(api, world.company)},
    )


def _resolve(api: ApiServer, world: World, key: str | None) -> Call:
    sanction = impose_on(api, world.company)
    body = api.post(
        'mutation($id: ID!) { fileObjection(sanctionId: $id, reason: "已履行") { id } }',
        {"id": sanction},
        key="admin-key",
    )
    assert "errors" not in body, body
    return (
        'mutation($id: ID!) { resolveObjection(sanctionId: $id, upheld: false, note: "驳回") { id status } }',
        {"id": sanction},
    )


CHECK = """query($id: ID!) {
  jointSanctionCheck(subjectId: $id, area: SOCIAL_GOVERNANCE) { checkId decision }
}"""


def _feedback(api: ApiServer, world: World, key: str | None) -> Call:
    # a check by the caller itself when it may check, else one by an approval system
    checker = key if key is not None and role_of(key) in KEYED else "approval-key"
    assert checker is not None
    body = api.post(CHECK, {"id": world.company}, key=checker)
    return (
        "mutation($input: FeedbackInput!) { recordFeedback(input: $input) { id outcome } }",
        {"input": {"checkId": body["data"]["jointSanctionCheck"]["checkId"], "outcome": "APPLIED"}},
    )


CALLS: dict[str, Prepare] = {
    "departments": _fixed("{ departments { id name } }"),
    "jurisdictions": _fixed("{ jurisdictions { id recognizedListTypes } }"),
    "listTypes": _fixed("{ listTypes { id measures { id } } }"),
    "measures": _fixed("{ measures(area: SOCIAL_GOVERNANCE) { id effect } }"),
    "subject": _about("person", "subject(id: $id) { id name sanctions { id } }"),
    "sanction": _about("person_sanction", "sanction(id: $id) { id subject { id name } }"),
    "jointSanctionCheck": _fixed(CHECK, lambda w: {"id": w.person}),
    "batchCheck": _fixed(
        "query($ids: [ID!]!) { batchCheck(subjectIds: $ids, area: FINANCING_SERVICES) { decision } }",
        lambda w: {"ids": [w.company, w.person, w.spouse]},
    ),
    "linkageStats": _fixed('{ linkageStats(from: "2020-01-01T00:00:00+08:00") { checks } }'),
    "sanctionImpact": _about("sanction", "sanctionImpact(sanctionId: $id) { role subject { id } }"),
    "sanctionImpactPreview": _about(
        "company",
        'sanctionImpactPreview(input: {listType: "DISHONEST_JUDGMENT_DEBTOR", subjectId: $id}) { role }',
    ),
    "registerSubject": _register,
    "registerHousehold": _fixed(
        'mutation { registerHousehold(input: {id: "3303021999001", address: "改写的地址"}) { id } }'
    ),
    "linkSubjects": _link,
    "endLink": _end_link,
    "imposeSanction": _impose,
    "liftSanction": _lift,
    "fileObjection": _object,
    "resolveObjection": _resolve,
    "recordFeedback": _feedback,
}

AUTH_CODES = {"FORBIDDEN", "UNAUTHENTICATED"}
# fields whose calls (or preparations) record checks, written in the background
RECORDS_CHECKS = {"jointSanctionCheck", "batchCheck", "recordFeedback"}
# fields whose calls by approval systems leave access records, also in the background
RECORDS_READS = {"subject", "sanction", "integrityScore", "integrityBenefits"}


def land_check_records(api: ApiServer, field: str) -> None:
    if field in RECORDS_CHECKS:
        flush_check_records(api)
    if field in RECORDS_READS:
        flush_access_records(api)


def test_every_root_field_has_an_expected_role_entry() -> None:
    missing = [
        f"{kind}.{name}"
        for kind in ("Query", "Mutation", "Subscription")
        for name in root_fields(kind)
        if name not in EXPECTED
    ]
    assert not missing, (
        f"root fields without an entry in EXPECTED (who may call them?): {missing}; "
        "add each with its roles to tests/integration/test_authz_matrix.py"
    )


@pytest.fixture(autouse=True)
async def clean_graph() -> AsyncIterator[None]:
    """This module shares one world (see `world`) instead of wiping before each test: the
    matrix checks refusals by comparing whole-graph snapshots, not counts from zero."""
    yield


@pytest.fixture(scope="module")
async def world(api_server: ApiServer, graph: Graph) -> World:
    await wipe_graph(graph)
    return build_world(api_server)


@pytest.mark.parametrize(("kind", "field"), MATRIX, ids=[f"{k}.{f}" for k, f in MATRIX])
async def test_authorisation_matrix(
    kind: str, field: str, api_server: ApiServer, graph: Graph, world: World
) -> None:
    if field not in EXPECTED:
        pytest.fail(f"{kind}.{field} has no EXPECTED roles entry")
    allowed = EXPECTED[field]
    prepare = CALLS.get(field)
    strict = prepare is not None
    if prepare is None:
        query = generic_call(kind, field, world.hints())

        def prepare(api: ApiServer, w: World, key: str | None, q: str = query) -> Call:
            return q, {}

    refused = {label: key for label, key in CALLERS.items() if role_of(key) not in allowed}
    refused["unknown key"] = "no-such-key"
    permitted = {label: key for label, key in CALLERS.items() if role_of(key) in allowed}

    # refused callers first: one snapshot around all of them
    calls = {label: prepare(api_server, world, key) for label, key in refused.items()}
    # check records are written in the background: those of the preparation land before
    # the snapshot, and any a refused check made would land before the second one
    land_check_records(api_server, field)
    before = await snapshot(graph)
    for label, key in refused.items():
        query, variables = calls[label]
        body = api_server.post(query, variables, key=key)
        # UNAUTHENTICATED only where a key would help: no key, or the public's
        expected = "UNAUTHENTICATED" if role_of(key) in {Role.PUBLIC, None} else "FORBIDDEN"
        assert not (body.get("data") or {}).get(field), (label, body)
        assert error_code(body) == expected, (field, label, body)
        assert len(body["errors"]) == 1, body
        for person, name in world.persons.items():  # refusals name no one
            assert person not in str(body) and name not in str(body), body
    land_check_records(api_server, field)
    assert await snapshot(graph) == before, f"a refused {field} changed the graph"

    for label, key in permitted.items():
        query, variables = prepare(api_server, world, key)
        body = api_server.post(query, variables, key=key)
        got = {e["extensions"]["code"] for e in body.get("errors") or []}
        assert not got & AUTH_CODES, (field, label, body)
        if strict:
            assert "errors" not in body, (field, label, body)
            assert body["data"][field] is not None, (field, label, body)
        else:
            # the resolver ran (an execution error has a path; a validation error has none)
            assert all("path" in e for e in body.get("errors") or []), (field, label, body)
    land_check_records(api_server, field)  # before the next test's snapshot


SUBSCRIPTIONS = root_fields("Subscription")


@pytest.mark.parametrize("field", SUBSCRIPTIONS)
async def test_subscription_authorisation(field: str, api_server: ApiServer, world: World) -> None:
    """Subscriptions over graphql-transport-ws, each caller: a connection whose key may not
    subscribe is closed at connection_init (4401 without a key or with one nobody issued,
    4403 for a role that may not), one that may is acknowledged and its subscription
    listens for events."""
    root = SCHEMA.subscription_type
    assert root is not None
    args = minimal_arguments(root.fields[field].args, hints=world.hints())
    query = f"subscription {{ {field}({args}) {shallow_selection(root.fields[field].type)} }}"
    for label, key in [*CALLERS.items(), ("unknown key", "nobody-issued-this-key")]:
        role = role_of(key)
        async with connected(api_server.url, key) as ws:
            if role not in EXPECTED[field]:
                expected = 4401 if key is None or role is None else 4403
                assert await closed_with(ws) == expected, (field, label)
                continue
            assert await received(ws) == {"type": "connection_ack"}, (field, label)
            await subscribe(ws, "1", {}, query=query)
            await holds_subscriptions(api_server.app, 1)  # past the resolver's checks
        await holds_subscriptions(api_server.app, 0)  # closed, so the next starts from none


@pytest.mark.parametrize("kind", ["Query", "Mutation"])
async def test_the_websocket_carries_no_query_or_mutation_for_any_role(
    kind: str, api_server: ApiServer, graph: Graph, world: World
) -> None:
    """Over the socket, a query or mutation is refused for every role that may connect,
    before it runs: there is one path for them, POST /graphql, with its controls."""
    subject = enterprise_id()
    operations = {
        "Query": f'{{ subject(id: "{world.company}") {{ id }} }}',
        "Mutation": f'mutation {{ registerSubject(input: {{id: "{subject}", kind: ENTERPRISE, '
        'name: "WS"}) { id } }',
    }
    for label, key in CALLERS.items():
        if role_of(key) not in EXPECTED["sanctionEvents"]:
            continue  # roles that may not subscribe never get this far
        async with admitted(api_server.url, key) as ws:
            await subscribe(ws, "1", {}, query=operations[kind])
            error = await error_of(ws)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (label, error)
        assert "subscriptions only" in error["message"]
    assert await graph.read("MATCH (s:Subject {id: $id}) RETURN s", {"id": subject}) == []


# -- personal identifiers never reach PUBLIC unmasked ----------------------------------------

MASKED = re.compile(r"^[0-9]{6}\*{8}[0-9]{3}[0-9X]$")


async def test_public_sees_no_personal_identifier_unmasked(
    api_server: ApiServer, world: World
) -> None:
    """Every field PUBLIC may call, with every scalar it can select (nested ones, four
    levels deep): no resident ID or person's name in full, masked ids only as masked."""
    masks = {mask_resident_id(p) for p in world.persons}
    exposed: list[str] = []
    public_fields = [
        (kind, field)
        for kind, field in MATRIX
        if kind == "Query" and PUBLIC in EXPECTED.get(field, frozenset())
    ]
    assert {"departments", "listTypes", "measures"} <= {f for _, f in public_fields}
    for kind, field in public_fields:
        query = generic_call(kind, field, world.hints(), depth=4)
        for key in (None, "public-key"):
            body = api_server.post(query, {}, key=key)
            assert not {e["extensions"]["code"] for e in body.get("errors") or []} & AUTH_CODES
            text = str(body)
            exposed += [f"{field}: {p}" for p in world.persons if p in text]
            exposed += [f"{field}: {n}" for n in world.persons.values() if n in text]
            for value in _strings(body.get("data")):
                if MASKED.match(value):
                    assert value in masks, value
    assert not exposed, f"personal data shown to PUBLIC: {exposed}"
    if "publishedList" in root_fields("Query"):
        body = api_server.post(
            "{ publishedList(kind: BLACK) { edges { node { subjectId subjectKind subjectName } } } }",
            key=None,
        )
        assert "errors" not in body, body
        persons = [
            e["node"]
            for e in body["data"]["publishedList"]["edges"]
            if e["node"]["subjectKind"] == "PERSON"
        ]
        assert [p["subjectId"] for p in persons] == [mask_resident_id(world.person)], body
        assert persons[0]["subjectName"] != world.person_name
    if "publicCreditSummary" in root_fields("Query"):
        # a person's summary: refused to PUBLIC as UNAUTHENTICATED (the contract's code for
        # PUBLIC: a key is what is missing), and the refusal names no one
        for key in (None, "public-key"):
            body = api_server.post(
                "query($id: ID!) { publicCreditSummary(subjectId: $id) { name subjectId } }",
                {"id": world.person},
                key=key,
            )
            assert error_code(body) == "UNAUTHENTICATED", body
            assert world.person not in str(body["errors"]) and world.person_name not in str(body)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


# -- no personal data in the logs ------------------------------------------------------------


async def test_no_resident_id_or_person_name_is_logged(api_server: ApiServer, world: World) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    saved = root.level, logging.getLogger("neo4j").level
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # as `creditlink serve` configures it
    logging.getLogger("neo4j").setLevel(logging.ERROR)
    try:
        child = person_id()
        register(api_server, child, "PERSON", "陈小明")
        names = {**world.persons, child: "陈小明"}
        for key in ("approval-key", "court-key", "regulator-key", "admin-key", None):
            for subject in names:
                api_server.post(CHECK, {"id": subject}, key=key)
                api_server.post(
                    "query($id: ID!) { subject(id: $id) { id name } }", {"id": subject}, key=key
                )
        # failures that name persons in their answers: invalid, missing, conflicting
        bad = world.person[:-1] + ("0" if world.person[-1] != "0" else "1")
        api_server.post(CHECK, {"id": bad}, key="approval-key")
        api_server.post(
            "mutation($input: SubjectInput!) { registerSubject(input: $input) { id } }",
            {"input": {"id": world.person, "kind": "ENTERPRISE", "name": "陈建国"}},
            key="admin-key",
        )
        api_server.post(
            "mutation($input: LinkInput!) { linkSubjects(input: $input) { id } }",
            {
                "input": {
                    "from": person_id(),
                    "to": world.company,
                    "relation": "EXECUTIVE_OF",
                    "validFrom": DATE,
                }
            },
            key="admin-key",
        )
        impose_on(api_server, child)
        # the record writers run in the background: once both have flushed, whatever they
        # log of these requests is in the capture
        flush_check_records(api_server)
        flush_access_records(api_server)
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        logging.getLogger("neo4j").setLevel(saved[1])
    output = stream.getvalue()
    assert output.count('"msg":"graphql"') >= 30, output[:2000]  # the capture saw the requests
    leaked = [p for p in names if p in output] + [n for n in names.values() if n in output]
    assert not leaked, f"personal data in the logs: {leaked}"
