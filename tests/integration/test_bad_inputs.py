"""A catalogue of bad inputs across the mutations and queries: each is refused with its
contract code (never INTERNAL_SERVER_ERROR, never HTTP 500) and writes nothing.

"Writes nothing" is a read-back of the whole graph: node and relationship counts and a
digest of every property, taken before and after each case. The module shares one small
world (built once) so each case costs a request and two reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from graph_model.driver import Graph
from tests.conftest import ApiServer
from tests.integration.helpers import (
    enterprise_id,
    flush_check_records,
    household,
    link,
    person_id,
    register,
    snapshot,
    wipe_graph,
)

# -- the shared world --------------------------------------------------------------------------


@dataclass
class World:
    company: str
    other_company: str
    person: str
    household: str
    sanction: str  # DISHONEST_JUDGMENT_DEBTOR on company, client id "bad-inputs-1"
    samr: str  # SAMR_SERIOUS_ILLEGAL on company, decided today: repair is a year away
    link: str
    check: str


IMPOSE = "mutation($input: SanctionInput!) { imposeSanction(input: $input) { id } }"


def sanction_input(world: World | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "listType": "DISHONEST_JUDGMENT_DEBTOR",
        "subjectId": world.company if world else enterprise_id(),
        "issuerId": "wz-intermediate-court",
        "decidedOn": "2025-01-10",
        "documentNo": "(2025)浙03执1号",
        "reason": "拒不履行",
        **fields,
    }


@pytest.fixture(autouse=True)
async def clean_graph() -> AsyncIterator[None]:
    """The module shares one world; each case proves it left the graph as it found it."""
    yield


@pytest.fixture(scope="module")
async def world(api_server: ApiServer, graph: Graph) -> World:
    await wipe_graph(graph)
    company, other, person = enterprise_id(), enterprise_id(), person_id()
    register(api_server, company, "ENTERPRISE", "温州市鹿城区瓯江鞋业有限公司")
    register(api_server, other, "ENTERPRISE", "乐清市电气有限公司")
    register(api_server, person, "PERSON", "陈建国")
    household(api_server, "3303020100777")
    made = link(api_server, person, company, "LEGAL_REPRESENTATIVE_OF", "2018-03-01")
    body = api_server.post(
        IMPOSE, {"input": sanction_input(None, subjectId=company, id="bad-inputs-1")}, "court-key"
    )
    assert "errors" not in body, body
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    samr = api_server.post(
        IMPOSE,
        {
            "input": sanction_input(
                None,
                subjectId=company,
                listType="SAMR_SERIOUS_ILLEGAL",
                issuerId="wz-amr",
                decidedOn=today,
                documentNo="温市监〔2025〕1号",
            )
        },
        "admin-key",
    )
    assert "errors" not in samr, samr
    check = api_server.post(
        "query($id: ID!) { jointSanctionCheck(subjectId: $id, area: SOCIAL_GOVERNANCE) { checkId } }",
        {"id": company},
        "approval-key",
    )
    flush_check_records(api_server)
    return World(
        company=company,
        other_company=other,
        person=person,
        household="3303020100777",
        sanction="bad-inputs-1",
        samr=samr["data"]["imposeSanction"]["id"],
        link=made["id"],
        check=check["data"]["jointSanctionCheck"]["checkId"],
    )


# -- the catalogue -------------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    """One bad input: the request (built from the world), who sends it, what must come back."""

    name: str
    code: str
    query: str = ""
    variables: Callable[[World], dict[str, Any]] = field(default=lambda w: {})
    key: str | None = "admin-key"
    status: int = 200
    raw: bytes | None = None  # a request body sent as is (malformed JSON and the like)


REGISTER = "mutation($input: SubjectInput!) { registerSubject(input: $input) { id } }"
HOUSEHOLD = "mutation($input: HouseholdInput!) { registerHousehold(input: $input) { id } }"
LINK = "mutation($input: LinkInput!) { linkSubjects(input: $input) { id } }"
LIFT = "mutation($input: LiftInput!) { liftSanction(input: $input) { id } }"
CHECK = "query($id: ID!, $area: ApplicationArea!, $at: DateTime) { jointSanctionCheck(subjectId: $id, area: $area, at: $at) { decision } }"
BATCH = (
    "query($ids: [ID!]!) { batchCheck(subjectIds: $ids, area: FINANCING_SERVICES) { decision } }"
)
SUBJECT = "query($id: ID!) { subject(id: $id) { id } }"
FEEDBACK = "mutation($input: FeedbackInput!) { recordFeedback(input: $input) { id } }"

INJECTION = '"}) DETACH DELETE n //'
INJECTION_2 = "x' OR 1=1 WITH n MATCH (m) DETACH DELETE m //"
LONG = "瓯" * 10_000
ZERO_WIDTH = "\u200b"
RTL = "\u202e"


def _subject(
    sid: Any, kind: str = "ENTERPRISE", name: str = "温州某公司", **extra: Any
) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"input": {"id": sid, "kind": kind, "name": name, **extra}}


def _broken_check_char(value: str) -> str:
    last = value[-1]
    return value[:-1] + ("1" if last != "1" else "2")


def _numeric_bad_resident_id() -> int:
    """A resident id with a wrong check digit, as a JSON number (ID accepts integers)."""
    while not (valid := person_id())[-1].isdigit():
        pass
    return int(_broken_check_char(valid))


def _link(**fields: Any) -> Callable[[World], dict[str, Any]]:
    def build(w: World) -> dict[str, Any]:
        base = {
            "from": w.person,
            "to": w.company,
            "relation": "LEGAL_REPRESENTATIVE_OF",
            "validFrom": "2020-01-01",
        }
        resolved = {k: (v(w) if callable(v) else v) for k, v in fields.items()}
        return {"input": {**base, **resolved}}

    return build


def _impose(**fields: Any) -> Callable[[World], dict[str, Any]]:
    def build(w: World) -> dict[str, Any]:
        resolved = {k: (v(w) if callable(v) else v) for k, v in fields.items()}
        return {"input": sanction_input(w, **resolved)}

    return build


CASES: list[Bad] = [
    # -- identifiers: format, check character, kind, hostile characters -------------------
    Bad(
        "uscc wrong check character",
        "INVALID_ID",
        REGISTER,
        _subject(_broken_check_char(enterprise_id())),
    ),
    Bad(
        "resident id wrong check character",
        "INVALID_ID",
        REGISTER,
        _subject(_broken_check_char(person_id()), "PERSON", "王伟"),
    ),
    Bad(
        "person registered with a USCC",
        "INVALID_ID",
        REGISTER,
        _subject(enterprise_id(), "PERSON", "王伟"),
    ),
    Bad("enterprise registered with a resident id", "INVALID_ID", REGISTER, _subject(person_id())),
    Bad(
        "uscc of an institution as enterprise",
        "INVALID_ID",
        REGISTER,
        lambda w: {"input": {"id": w.company, "kind": "PUBLIC_INSTITUTION", "name": "x"}},
    ),
    Bad("empty id", "INVALID_ID", REGISTER, _subject("")),
    Bad(
        "id with a zero-width space",
        "INVALID_ID",
        REGISTER,
        _subject(enterprise_id()[:9] + ZERO_WIDTH + enterprise_id()[9:17]),
    ),
    Bad(
        "id with a right-to-left override", "INVALID_ID", REGISTER, _subject(RTL + enterprise_id())
    ),
    Bad(
        "id in full-width digits",
        "INVALID_ID",
        REGISTER,
        _subject("".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in enterprise_id())),
    ),
    Bad("id of 10,000 characters", "INVALID_ID", REGISTER, _subject("9" * 10_000)),
    Bad("id aimed at Cypher injection", "INVALID_ID", REGISTER, _subject(INJECTION)),
    Bad(
        "check on a malformed id",
        "INVALID_ID",
        CHECK,
        lambda w: {"id": "91330302ABC", "area": "SOCIAL_GOVERNANCE"},
    ),
    Bad(
        "check on an injection string",
        "INVALID_ID",
        CHECK,
        lambda w: {"id": INJECTION_2, "area": "SOCIAL_GOVERNANCE"},
        key="approval-key",
    ),
    Bad(
        "batch with one malformed id among good ones",
        "INVALID_ID",
        BATCH,
        lambda w: {"ids": [w.company, "nope", w.person]},
        key="approval-key",
    ),
    Bad(
        "subject by an id given as a JSON number",
        "INVALID_ID",
        SUBJECT,
        lambda w: {"id": _numeric_bad_resident_id()},
    ),
    Bad(
        "responsible person who is a unit",
        "INVALID_ID",
        IMPOSE,
        _impose(responsiblePersonIds=lambda w: [w.company]),
    ),
    # -- text ---------------------------------------------------------------------------------
    Bad(
        "name of 10,000 characters",
        "BAD_USER_INPUT",
        REGISTER,
        _subject(enterprise_id(), name=LONG),
    ),
    Bad("blank name", "BAD_USER_INPUT", REGISTER, _subject(enterprise_id(), name="   ")),
    Bad(
        "name with a NUL character",
        "BAD_USER_INPUT",
        REGISTER,
        _subject(enterprise_id(), name="瓯江\x00鞋业"),
    ),
    Bad(
        "name with an escape sequence",
        "BAD_USER_INPUT",
        REGISTER,
        _subject(enterprise_id(), name="\x1b[31m红\x1b[0m"),
    ),
    Bad(
        "name with a right-to-left override",
        "BAD_USER_INPUT",
        REGISTER,
        _subject(enterprise_id(), name="瓯江" + RTL + "业鞋"),
    ),
    Bad(
        "name with a zero-width space",
        "BAD_USER_INPUT",
        REGISTER,
        _subject(enterprise_id(), name="瓯" + ZERO_WIDTH + "江鞋业有限公司"),
    ),
    Bad(
        "industry with a right-to-left isolate",
        "BAD_USER_INPUT",
        REGISTER,
        _subject(enterprise_id(), industry="footwear\u2067"),
    ),
    Bad(
        "household address with a byte order mark",
        "BAD_USER_INPUT",
        HOUSEHOLD,
        lambda w: {"input": {"id": "H-bom", "address": "\ufeff鹿城区某街1号"}},
    ),
    Bad(
        "sanction reason with a right-to-left override",
        "BAD_USER_INPUT",
        IMPOSE,
        _impose(reason="拒不履行" + RTL + "令裁"),
    ),
    Bad(
        "feedback note with a zero-width joiner",
        "BAD_USER_INPUT",
        FEEDBACK,
        lambda w: {"input": {"checkId": w.check, "outcome": "APPLIED", "note": "已\u200d执行"}},
        key="approval-key",
    ),
    Bad(
        "unknown district", "BAD_USER_INPUT", REGISTER, _subject(enterprise_id(), district="999999")
    ),
    Bad(
        "district aimed at injection",
        "BAD_USER_INPUT",
        REGISTER,
        _subject(enterprise_id(), district=INJECTION),
    ),
    Bad(
        "household number aimed at injection",
        "BAD_USER_INPUT",
        HOUSEHOLD,
        lambda w: {"input": {"id": INJECTION}},
    ),
    Bad(
        "household address of 10,000 characters",
        "BAD_USER_INPUT",
        HOUSEHOLD,
        lambda w: {"input": {"id": "H-long", "address": LONG}},
    ),
    Bad("document number of 10,000 characters", "BAD_USER_INPUT", IMPOSE, _impose(documentNo=LONG)),
    Bad(
        "blank objection reason",
        "BAD_USER_INPUT",
        'mutation($id: ID!) { fileObjection(sanctionId: $id, reason: "  ") { id } }',
        lambda w: {"id": w.sanction},
    ),
    Bad(
        "feedback note of 10,000 characters",
        "BAD_USER_INPUT",
        FEEDBACK,
        lambda w: {"input": {"checkId": w.check, "outcome": "APPLIED", "note": LONG}},
        key="approval-key",
    ),
    # -- links: ends, kinds, ratios, periods ----------------------------------------------------
    Bad("link to an unregistered subject", "NOT_FOUND", LINK, _link(to=lambda w: enterprise_id())),
    Bad(
        "link to itself",
        "BAD_USER_INPUT",
        LINK,
        _link(**{"from": lambda w: w.company, "to": lambda w: w.company, "relation": "BRANCH_OF"}),
    ),
    Bad(
        "relation that does not fit the kinds",
        "BAD_USER_INPUT",
        LINK,
        _link(**{"from": lambda w: w.company, "to": lambda w: w.other_company}),
    ),
    Bad("shareholding ratio 0", "BAD_USER_INPUT", LINK, _link(relation="SHAREHOLDER_OF", ratio=0)),
    Bad(
        "shareholding ratio above 1",
        "BAD_USER_INPUT",
        LINK,
        _link(relation="SHAREHOLDER_OF", ratio=1.5),
    ),
    Bad(
        "negative shareholding ratio",
        "BAD_USER_INPUT",
        LINK,
        _link(relation="SHAREHOLDER_OF", ratio=-0.2),
    ),
    Bad("ratio on a legal representative", "BAD_USER_INPUT", LINK, _link(ratio=0.5)),
    Bad(
        "ratio given as a string",
        "BAD_USER_INPUT",
        LINK,
        _link(relation="SHAREHOLDER_OF", ratio="0.5"),
    ),
    Bad(
        "ratio too large for a float",
        "BAD_USER_INPUT",
        'mutation($p: ID!, $c: ID!) { linkSubjects(input: {from: $p, to: $c, relation: SHAREHOLDER_OF, ratio: 1e400, validFrom: "2020-01-01"}) { id } }',
        lambda w: {"p": w.person, "c": w.company},
    ),
    Bad(
        "link ends before it starts",
        "BAD_USER_INPUT",
        LINK,
        _link(validFrom="2024-01-01", validTo="2023-01-01"),
    ),
    Bad(
        "household role that does not exist",
        "BAD_USER_INPUT",
        LINK,
        _link(to=lambda w: w.household, relation="MEMBER_OF", role="LANDLORD"),
    ),
    Bad(
        "ending a link that does not exist",
        "NOT_FOUND",
        'mutation { endLink(id: "L-none", validTo: "2026-01-01") { id } }',
    ),
    # -- dates and instants ---------------------------------------------------------------------
    Bad("February 30th", "BAD_USER_INPUT", LINK, _link(validFrom="2025-02-30")),
    Bad("a date in words", "BAD_USER_INPUT", LINK, _link(validFrom="yesterday")),
    Bad("year 10000", "BAD_USER_INPUT", LINK, _link(validFrom="10000-01-01")),
    Bad("date as a number", "BAD_USER_INPUT", LINK, _link(validFrom=20250101)),
    Bad(
        "month 13 in an instant",
        "BAD_USER_INPUT",
        CHECK,
        lambda w: {"id": w.company, "area": "SOCIAL_GOVERNANCE", "at": "2025-13-01T00:00:00+08:00"},
    ),
    Bad(
        "decision in the future",
        "BAD_USER_INPUT",
        IMPOSE,
        _impose(decidedOn=(dt.date.today() + dt.timedelta(days=30)).isoformat()),
    ),
    Bad(
        "sanction valid before its decision",
        "BAD_USER_INPUT",
        IMPOSE,
        _impose(validFrom="2024-01-01"),
    ),
    Bad(
        "sanction ending before it starts", "BAD_USER_INPUT", IMPOSE, _impose(validTo="2025-01-01")
    ),
    # -- sanctions: catalogue, authority, identity ----------------------------------------------
    Bad(
        "unknown list type aimed at injection",
        "BAD_USER_INPUT",
        IMPOSE,
        _impose(listType=INJECTION),
    ),
    Bad(
        "issuer not authorised for the list type",
        "BAD_USER_INPUT",
        IMPOSE,
        _impose(issuerId="wz-tax"),
    ),
    Bad(
        "issuer key acting for another department",
        "FORBIDDEN",
        IMPOSE,
        _impose(issuerId="wz-tax", listType="MAJOR_TAX_VIOLATION"),
        key="court-key",
    ),
    Bad("unknown jurisdiction", "BAD_USER_INPUT", IMPOSE, _impose(jurisdiction="atlantis")),
    Bad(
        "sanction on an unregistered subject",
        "NOT_FOUND",
        IMPOSE,
        _impose(subjectId=lambda w: enterprise_id()),
    ),
    Bad("client sanction id aimed at injection", "BAD_USER_INPUT", IMPOSE, _impose(id=INJECTION)),
    Bad(
        "client sanction id reused with other fields",
        "CONFLICT",
        IMPOSE,
        _impose(id="bad-inputs-1", reason="另一个理由"),
    ),
    Bad(
        "lifting a sanction that does not exist",
        "NOT_FOUND",
        LIFT,
        lambda w: {"input": {"sanctionId": "S-none", "kind": "REVOKED", "reason": "x"}},
    ),
    Bad(
        "repair before the minimum period",
        "BAD_USER_INPUT",
        LIFT,
        lambda w: {"input": {"sanctionId": w.samr, "kind": "REPAIRED", "reason": "已整改"}},
    ),
    Bad(
        "resolving an objection never filed",
        "CONFLICT",
        "mutation($id: ID!) { resolveObjection(sanctionId: $id, upheld: true) { id } }",
        lambda w: {"id": w.sanction},
    ),
    Bad(
        "feedback on a check that does not exist",
        "NOT_FOUND",
        FEEDBACK,
        lambda w: {"input": {"checkId": "C-none", "outcome": "APPLIED"}},
        key="approval-key",
    ),
    Bad(
        "feedback on another department's check",
        "FORBIDDEN",
        FEEDBACK,
        lambda w: {"input": {"checkId": w.check, "outcome": "APPLIED"}},
        key="approval-other-key",
    ),
    # -- enums and GraphQL types ----------------------------------------------------------------
    Bad("unknown area", "BAD_USER_INPUT", CHECK, lambda w: {"id": w.company, "area": "EVERYWHERE"}),
    Bad(
        "area as a lower-case string",
        "BAD_USER_INPUT",
        CHECK,
        lambda w: {"id": w.company, "area": "social_governance"},
    ),
    Bad(
        "enum literal written as a string",
        "BAD_USER_INPUT",
        'query($id: ID!) { jointSanctionCheck(subjectId: $id, area: "SOCIAL_GOVERNANCE") { decision } }',
        lambda w: {"id": w.company},
    ),
    Bad("unknown subject kind", "BAD_USER_INPUT", REGISTER, _subject(enterprise_id(), "ALIEN")),
    Bad(
        "input object given as a list",
        "BAD_USER_INPUT",
        REGISTER,
        lambda w: {"input": [w.company, "ENTERPRISE", "x"]},
    ),
    Bad(
        "boolean given as a string",
        "BAD_USER_INPUT",
        "mutation($id: ID!, $u: Boolean!) { resolveObjection(sanctionId: $id, upheld: $u) { id } }",
        lambda w: {"id": w.sanction, "u": "yes"},
    ),
    Bad("required variable missing", "BAD_USER_INPUT", REGISTER),
    Bad("null for a non-null variable", "BAD_USER_INPUT", REGISTER, lambda w: {"input": None}),
    Bad(
        "unknown input field",
        "BAD_USER_INPUT",
        REGISTER,
        lambda w: {
            "input": {"id": enterprise_id(), "kind": "ENTERPRISE", "name": "x", "role": "ADMIN"}
        },
    ),
    Bad("unknown field selected", "BAD_USER_INPUT", "{ departments { id password } }"),
    # -- sizes --------------------------------------------------------------------------------
    Bad(
        "batch of 1,001 ids",
        "BAD_USER_INPUT",
        BATCH,
        lambda w: {"ids": [w.company] * 1001},
        key="approval-key",
    ),
    Bad(
        "watch list over the size limit in an input",
        "BAD_USER_INPUT",
        IMPOSE,
        _impose(responsiblePersonIds=lambda w: [w.person] * 1001),
    ),
    # -- unicode ------------------------------------------------------------------------------
    Bad(
        "lone surrogate in a GraphQL string",
        "BAD_USER_INPUT",
        'mutation { registerHousehold(input: {id: "H1", address: "\\uD800"}) { id } }',
    ),
    Bad(
        "lone surrogate in the JSON body",
        "BAD_USER_INPUT",
        status=400,
        raw=b'{"query": "mutation { registerHousehold(input: {id: \\"H2\\", address: \\"x\\"}) { id } }", "variables": {"a": "\\udc00"}}',
    ),
    Bad(
        "body that is not UTF-8",
        "BAD_USER_INPUT",
        status=400,
        raw='{"query": "{ departments { id } }"}'.encode("utf-16"),
    ),
    # -- malformed requests and keys ----------------------------------------------------------
    Bad(
        "truncated JSON",
        "BAD_USER_INPUT",
        status=400,
        raw=b'{"query": "mutation { registerHousehold(input: {id: \\"H3\\"}) { id } }"',
    ),
    Bad(
        "JSON array instead of an object",
        "BAD_USER_INPUT",
        status=400,
        raw=b'[{"query": "{ departments { id } }"}]',
    ),
    Bad(
        "variables as a JSON string",
        "BAD_USER_INPUT",
        status=400,
        raw=b'{"query": "{ departments { id } }", "variables": "{}"}',
    ),
    Bad("unknown API key", "UNAUTHENTICATED", REGISTER, _subject(enterprise_id()), key="not-a-key"),
    Bad("syntax error", "BAD_USER_INPUT", "mutation { registerSubject(input: {id: "),
]

if len({c.name for c in CASES}) != len(CASES):  # pragma: no cover - a catalogue typo
    raise AssertionError("duplicate case names")


def test_the_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_bad_input_is_refused_and_writes_nothing(
    case: Bad, world: World, api_server: ApiServer, graph: Graph
) -> None:
    before = await snapshot(graph)
    headers = {"Authorization": f"Bearer {case.key}"} if case.key else {}
    if case.raw is not None:
        response = httpx.post(
            f"{api_server.url}/graphql",
            content=case.raw,
            headers={**headers, "content-type": "application/json"},
            timeout=60,
        )
    else:
        response = httpx.post(
            f"{api_server.url}/graphql",
            json={"query": case.query, "variables": case.variables(world)},
            headers=headers,
            timeout=60,
        )
    assert response.status_code == case.status, response.text
    body = response.json()
    got = [e["extensions"]["code"] for e in body.get("errors") or []]
    assert got and got[0] == case.code, body
    assert "INTERNAL_SERVER_ERROR" not in got
    assert not body.get("data") or not any(body["data"].values()), body
    assert await snapshot(graph) == before, "a refused request changed the graph"


HOSTILE_BUT_VALID = [
    INJECTION,
    INJECTION_2,
    "MATCH (n) DETACH DELETE n",
    "{{name}} ${name} %s <script>alert(1)</script>",
    "温州市鹿城区鞋业有限公司",
    "张三",
    "买买提·艾力",
    "阿卜杜拉·艾山 (Abdulla Hasan)",
]


@pytest.mark.parametrize("name", HOSTILE_BUT_VALID)
async def test_hostile_but_valid_strings_are_stored_literally(
    name: str, world: World, api_server: ApiServer, graph: Graph
) -> None:
    """A name is any visible text: Cypher, markup and Chinese names with '·' are stored
    as given, and nothing else in the graph changes (one node more)."""
    nodes, rels, _ = await snapshot(graph)
    sid = enterprise_id()
    register(api_server, sid, "ENTERPRISE", name)
    rows = await graph.read("MATCH (s:Subject {id: $id}) RETURN s.name AS name", {"id": sid})
    assert rows == [{"name": name}]
    after = await snapshot(graph)
    assert after[:2] == (nodes + 1, rels)
    await graph.write("MATCH (s:Subject {id: $id}) DETACH DELETE s", {"id": sid})


INVISIBLE_NAMES = {
    "bidi override": "温州" + RTL + "司公限有业鞋",
    "bidi isolate": "\u2066温州鞋业有限公司\u2069",
    "zero-width space": "温州" + ZERO_WIDTH + "鞋业有限公司",
    "zero-width joiner": "张\u200d三",
    "word joiner": "张\u2060三",
    "arabic letter mark": "买买提\u061c·艾力",
    "private use": "张\ue000三",
}


@pytest.mark.parametrize("name", INVISIBLE_NAMES.values(), ids=INVISIBLE_NAMES.keys())
async def test_invisible_characters_in_a_name_are_refused_and_nothing_is_written(
    name: str, world: World, api_server: ApiServer, graph: Graph
) -> None:
    """Bidi controls, zero-width and other format/private-use characters are refused
    with BAD_USER_INPUT naming input.name, and a read-back finds no such subject."""
    before = await snapshot(graph)
    sid = enterprise_id()
    body = api_server.post(
        REGISTER, {"input": {"id": sid, "kind": "ENTERPRISE", "name": name}}, key="admin-key"
    )
    assert [e["extensions"]["code"] for e in body.get("errors") or []] == ["BAD_USER_INPUT"], body
    error = body["errors"][0]
    assert error["extensions"].get("field") == "input.name", body
    assert error["message"].startswith("input.name: "), body
    assert not body.get("data"), body
    rows = await graph.read("MATCH (s:Subject {id: $id}) RETURN s.name AS name", {"id": sid})
    assert rows == [], rows
    assert await snapshot(graph) == before, "a refused registration changed the graph"


async def test_accepted_names_are_stored_in_nfc(
    world: World, api_server: ApiServer, graph: Graph
) -> None:
    """Combining sequences are composed (NFC) before storing; Han text is unchanged."""
    sid = enterprise_id()
    register(api_server, sid, "ENTERPRISE", "鹿城区Cafe\u0301有限公司")
    rows = await graph.read("MATCH (s:Subject {id: $id}) RETURN s.name AS name", {"id": sid})
    assert rows == [{"name": "鹿城区Caf\u00e9有限公司"}]
    await graph.write("MATCH (s:Subject {id: $id}) DETACH DELETE s", {"id": sid})
