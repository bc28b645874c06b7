"""The fuzzers' world and generators, shared by tests/integration/test_fuzz.py and
bench/fuzz.py: a small seeded world with fixed ids, hypothesis-graphql operations over the
whole schema whose scalars are often that world's values, and the judge of an answer.

Custom scalar strategies make generated values sometimes valid: IDs are often the ids of
the world (or well-formed unknown ones), Dates and DateTimes are often real ones, so the
fuzz reaches the resolvers and the Cypher behind them, not only the validators.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from graphql import build_schema as build_graphql_schema
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from api.schema import schema_sdl
from domain.identifiers import make_resident_id, make_uscc
from tests.documents import doubling_document, fragment_dags

CONTRACT_CODES = frozenset(
    {
        "BAD_USER_INPUT",
        "INVALID_ID",
        "NOT_FOUND",
        "CONFLICT",
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "QUERY_TOO_COMPLEX",
        "SERVICE_UNAVAILABLE",
        "INTERNAL_SERVER_ERROR",
    }
)
ROLES: dict[str, str | None] = {
    "PUBLIC": None,
    "public-key": "public-key",
    "APPROVAL_SYSTEM": "approval-key",
    "ISSUER": "court-key",
    "REGULATOR": "regulator-key",
    "ADMIN": "admin-key",
}

# -- a small world, with fixed ids the generators know ---------------------------------------


@dataclass(frozen=True)
class FuzzWorld:
    company: str = make_uscc("91", "330302", "MF000001")
    supplier: str = make_uscc("91", "330382", "MF000002")
    shop: str = make_uscc("92", "330302", "MF000003")
    person: str = make_resident_id("330302", dt.date(1975, 5, 17), 11)
    spouse: str = make_resident_id("330302", dt.date(1977, 8, 2), 12)
    household: str = "3303020199001"
    sanction: str = "fuzz-sanction-1"

    @property
    def ids(self) -> list[str]:
        return [self.company, self.supplier, self.shop, self.person, self.spouse]


WORLD = FuzzWorld()

SEED: list[tuple[str, dict[str, Any]]] = [
    (
        "mutation($i: SubjectInput!) { registerSubject(input: $i) { id } }",
        {"i": {"id": WORLD.company, "kind": "ENTERPRISE", "name": "温州市鹿城区瓯江鞋业有限公司"}},
    ),
    (
        "mutation($i: SubjectInput!) { registerSubject(input: $i) { id } }",
        {"i": {"id": WORLD.supplier, "kind": "ENTERPRISE", "name": "乐清市电气有限公司"}},
    ),
    (
        "mutation($i: SubjectInput!) { registerSubject(input: $i) { id } }",
        {"i": {"id": WORLD.shop, "kind": "INDIVIDUAL_BUSINESS", "name": "鹿城区陈记鞋店"}},
    ),
    (
        "mutation($i: SubjectInput!) { registerSubject(input: $i) { id } }",
        {"i": {"id": WORLD.person, "kind": "PERSON", "name": "陈建国"}},
    ),
    (
        "mutation($i: SubjectInput!) { registerSubject(input: $i) { id } }",
        {"i": {"id": WORLD.spouse, "kind": "PERSON", "name": "王丽"}},
    ),
    (
        "mutation($i: HouseholdInput!) { registerHousehold(input: $i) { id } }",
        {"i": {"id": WORLD.household, "district": "330302"}},
    ),
    (
        "mutation($i: LinkInput!) { linkSubjects(input: $i) { id } }",
        {
            "i": {
                "from": WORLD.person,
                "to": WORLD.company,
                "relation": "LEGAL_REPRESENTATIVE_OF",
                "validFrom": "2018-01-01",
            }
        },
    ),
    (
        "mutation($i: LinkInput!) { linkSubjects(input: $i) { id } }",
        {
            "i": {
                "from": WORLD.supplier,
                "to": WORLD.company,
                "relation": "SHAREHOLDER_OF",
                "ratio": 0.6,
                "validFrom": "2019-01-01",
            }
        },
    ),
    (
        "mutation($i: LinkInput!) { linkSubjects(input: $i) { id } }",
        {
            "i": {
                "from": WORLD.person,
                "to": WORLD.shop,
                "relation": "OPERATOR_OF",
                "validFrom": "2020-01-01",
            }
        },
    ),
    (
        "mutation($i: LinkInput!) { linkSubjects(input: $i) { id } }",
        {
            "i": {
                "from": WORLD.spouse,
                "to": WORLD.household,
                "relation": "MEMBER_OF",
                "role": "SPOUSE",
                "validFrom": "2010-01-01",
            }
        },
    ),
    (
        "mutation($i: SanctionInput!) { imposeSanction(input: $i) { id } }",
        {
            "i": {
                "id": WORLD.sanction,
                "listType": "DISHONEST_JUDGMENT_DEBTOR",
                "subjectId": WORLD.company,
                "issuerId": "wz-intermediate-court",
                "decidedOn": "2025-01-10",
                "documentNo": "(2025)浙03执1号",
                "reason": "拒不履行",
            }
        },
    ),
]


def seed_world(post: Callable[[str, dict[str, Any]], dict[str, Any]]) -> None:
    """Register the world through the API (as ADMIN); `post(query, variables)` -> body."""
    for query, variables in SEED:
        body = post(query, variables)
        assert "errors" not in body, body


# -- the generators ----------------------------------------------------------------------------

_TEXT = st.text(max_size=30)


def ids(world: FuzzWorld) -> st.SearchStrategy[str]:
    well_formed = st.builds(
        make_uscc,
        st.sampled_from(["91", "92", "12"]),
        st.sampled_from(["330302", "330382", "330324"]),
        st.from_regex(r"\A[0-9A-HJ-NP-RTUW-Y]{8}\Z"),
    ) | st.builds(
        make_resident_id,
        st.sampled_from(["330302", "330381"]),
        st.dates(dt.date(1930, 1, 1), dt.date(2020, 12, 31)),
        st.integers(0, 999),
    )
    catalogue_ids = st.sampled_from(
        [
            "DISHONEST_JUDGMENT_DEBTOR",
            "SAMR_SERIOUS_ILLEGAL",
            "TAX_A_LEVEL",
            "wz-intermediate-court",
            "wz-tax",
            "wenzhou",
            "jiaxing",
            world.household,
            world.sanction,
        ]
    )
    return st.one_of(st.sampled_from(world.ids), well_formed, catalogue_ids, _TEXT)


def _mostly(
    valid: st.SearchStrategy[str], invalid: st.SearchStrategy[str]
) -> st.SearchStrategy[str]:
    """Nine valid values for one invalid: an operation carries several, and one invalid
    scalar literal fails validation for all of it before any resolver runs."""
    return st.integers(0, 9).flatmap(lambda n: invalid if n == 0 else valid)


def _dates() -> st.SearchStrategy[str]:
    return _mostly(
        st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)).map(dt.date.isoformat),
        st.sampled_from(["2025-02-30", "0000-00-00", "2025-1-1", "", "today"]) | _TEXT,
    )


def datetimes(naive: bool) -> st.SearchStrategy[str]:
    # Instants without an offset are left out unless asked for: the API takes them as city
    # time (a ZoneInfo), and packing such a datetime can crash the API process (see
    # test_instants_sent_to_neo4j_never_carry_a_named_zone below).
    offsets = [dt.UTC, dt.timezone(dt.timedelta(hours=8)), dt.timezone(dt.timedelta(hours=-5))]
    zones = st.sampled_from([*offsets, None] if naive else offsets)
    return _mostly(
        st.builds(
            lambda d, z: d.replace(tzinfo=z).isoformat(),
            st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2030, 1, 1)),
            zones,
        ),
        st.sampled_from(["2025-13-01T00:00:00Z", "2025-06-01T25:00:00+08:00", "now"]) | _TEXT,
    )


def custom_scalars(
    world: FuzzWorld = WORLD, *, naive_datetimes: bool = False
) -> dict[str, st.SearchStrategy[Any]]:
    return {
        "ID": ids(world).map(nodes.String),
        "Date": _dates().map(nodes.String),
        "DateTime": datetimes(naive_datetimes).map(nodes.String),
    }


def operations(
    sdl: str | None = None, world: FuzzWorld = WORLD, *, naive_datetimes: bool = False
) -> st.SearchStrategy[str]:
    """Operations over the whole schema: mostly one root field each (every field equally
    likely, so each resolver is reached), some selecting many root fields, one in six
    with a single schema violation (Mode.NEGATIVE) and one in six made of fragments."""
    schema = sdl or schema_sdl()
    parsed = build_graphql_schema(schema)
    scalars = custom_scalars(world, naive_datetimes=naive_datetimes)
    single: list[st.SearchStrategy[str]] = []
    for name in parsed.query_type.fields if parsed.query_type else ():
        single.append(queries(schema, fields=[name], custom_scalars=scalars))
    for name in parsed.mutation_type.fields if parsed.mutation_type else ():
        single.append(mutations(schema, fields=[name], custom_scalars=scalars))
    one_field = st.one_of(single)
    many_fields = st.one_of(
        queries(schema, custom_scalars=scalars), mutations(schema, custom_scalars=scalars)
    )
    invalid = st.one_of(
        queries(schema, custom_scalars=scalars, mode=Mode.NEGATIVE),
        mutations(schema, custom_scalars=scalars, mode=Mode.NEGATIVE),
    )
    # fragments spreading fragments, several times each: the shape that made the query
    # limits' walk exponential (tests/security/test_query_limits.py)
    fragment_heavy = st.one_of(fragment_dags(), st.integers(1, 60).map(doubling_document))
    return st.integers(0, 11).flatmap(
        lambda n: (
            one_field if n < 6 else many_fields if n < 8 else invalid if n < 10 else fragment_heavy
        )
    )


def against_a_server(examples: int, *, shrink: bool = True) -> settings:
    """Hypothesis settings for `examples` operations sent to a running server: generated
    afresh each run (no example database: the world is seeded anew), with no deadline (the
    time taken is the server's) and no health check (the whole-schema strategies are slow
    to draw from by nature)."""
    phases = [Phase.generate, Phase.shrink] if shrink else [Phase.generate]
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
    )


def outcome(response: httpx.Response) -> tuple[str, list[str]]:
    """('OK' | first error code | 'HTTP <status>', every problem found with the answer)."""
    problems: list[str] = []
    if response.status_code >= 500:
        problems.append(f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}", [*problems, "the answer is not JSON"]
    if response.status_code not in {200, 400}:
        problems.append(f"unexpected HTTP {response.status_code}")
    errors = body.get("errors") or []
    codes = [((e.get("extensions") or {}).get("code")) for e in errors]
    for code in codes:
        if code not in CONTRACT_CODES:
            problems.append(f"error code {code!r} is not a contract code")
        if code == "INTERNAL_SERVER_ERROR":
            problems.append("INTERNAL_SERVER_ERROR")
    return (codes[0] if codes else "OK") or "NO CODE", problems
