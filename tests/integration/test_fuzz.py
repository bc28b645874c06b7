"""Fuzzing the whole schema with every role: hypothesis-graphql generates queries and
mutations (valid ones, and ones with a single schema violation), and not one of them may
answer INTERNAL_SERVER_ERROR or HTTP 500.

Generated values are often valid ones of a small seeded world, so the fuzz reaches the
resolvers and the Cypher behind them, not only the validators. The world and the generators are in `tests/integration/fuzzing.py`, which
`bench/fuzz.py` runs for 10,000+ operations.

The same generators, queries only, also run through two apps on the one seeded world:
the session's, which answers plain queries from compiled plans (`api.compiled`), and
one with plans off; their whole answers must be equal.
"""

from __future__ import annotations

import base64
import datetime as dt
import gc
import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from graphql import GraphQLEnumType, get_variable_values
from graphql import build_schema as build_graphql_schema
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_graphql import Mode, queries

from api.limits import check_argument_sizes, root_field_names, select_operation
from api.schema import CreditLinkSchema, build_schema, schema_sdl
from api.settings import Settings
from graph_model.catalogue_sync import sync_departments
from graph_model.driver import Graph
from rules.loader import load_catalogue
from testkit.queries import BATCH_GQL, CHECK_GQL
from tests.conftest import ApiServer, Neo4jServer, api_settings, serving
from tests.documents import doubling_document, fragment_dags
from tests.integration.conftest import WIPE
from tests.integration.fuzzing import (
    ROLES,
    WORLD,
    FuzzWorld,
    against_a_server,
    custom_scalars,
    datetimes,
    ids,
    operations,
    outcome,
    seed_world,
)
from tests.integration.scenario import BATCH as SCENARIO_BATCH
from tests.integration.scenario import CHECK as SCENARIO_CHECK

# -- the test: 6 roles × 90 operations --------------------------------------------------------

EXAMPLES_PER_ROLE = 90


@pytest.fixture(autouse=True)
async def clean_graph() -> AsyncIterator[None]:
    """The module seeds one world; the fuzzers add to it."""
    yield


@pytest.fixture(scope="module")
async def fuzz_world(api_server: ApiServer, graph: Graph) -> FuzzWorld:
    async with graph.driver.session(database=graph.database) as session:
        await (await session.run(WIPE)).consume()
    await sync_departments(graph, load_catalogue())
    seed_world(lambda q, v: api_server.post(q, v, key="admin-key"))
    return WORLD


TALLY: Counter[str] = Counter()


@pytest.mark.parametrize("role", list(ROLES))
def test_fuzz_never_answers_internal_error(
    role: str, api_server: ApiServer, fuzz_world: FuzzWorld
) -> None:
    key = ROLES[role]
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    seen: Counter[str] = Counter()
    with httpx.Client(base_url=api_server.url, headers=headers, timeout=60) as client:

        @against_a_server(EXAMPLES_PER_ROLE)
        @given(query=operations())
        def run(query: str) -> None:
            response = client.post("/graphql", json={"query": query})
            code, problems = outcome(response)
            seen[code] += 1
            assert not problems, f"{role}: {problems}\n{query}\n{response.text[:2000]}"

        run()
    gc.collect()  # see pytestmark
    TALLY.update(seen)
    assert sum(seen.values()) >= EXAMPLES_PER_ROLE, seen
    print(f"\n{role}: {dict(seen)}")


# -- found by this fuzzer ----------------------------------------------------------------------


class _CapturingTx:
    def __init__(self, seen: list[dict[str, Any]]) -> None:
        self.seen = seen

    async def run(self, query: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        self.seen.append(dict(params or {}, **kw))
        return _NoRecords()


class _NoRecords:
    def keys(self) -> tuple[str, ...]:
        return ()

    def __aiter__(self) -> _NoRecords:
        return self

    async def __anext__(self) -> Any:
        raise StopAsyncIteration


class _CapturingDriver:
    """Stands in for the AsyncDriver: records the parameters each query is sent with."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def session(self, **_: Any) -> _CapturingDriver:
        return self

    async def __aenter__(self) -> _CapturingDriver:
        return self

    async def __aexit__(self, *_: Any) -> None:
        return None

    async def execute_write(self, work: Any) -> Any:
        return await work(_CapturingTx(self.seen))

    async def run(self, query: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        # reads run as auto-commit transactions, straight on the session
        return await _CapturingTx(self.seen).run(query, params, **kw)


async def test_instants_sent_to_neo4j_never_carry_a_named_zone() -> None:
    """Repro over HTTP: ~10-3000 jointSanctionCheck calls with `at: "2023-02-26T13:55:02"`
    (no offset) crash `creditlink serve` with "Fatal Python error: Segmentation fault" in
    neo4j/time/__init__.py _utc_offset. Deterministic here: what the driver is handed."""
    from domain.time import aware
    from graph_model.driver import Graph

    fake = _CapturingDriver()
    graph = Graph(fake, "neo4j")  # type: ignore[arg-type]
    naive = dt.datetime(2023, 2, 26, 13, 55, 2)
    await graph.read("RETURN $at AS at", {"at": aware(naive)}, name="probe")
    await graph.write("RETURN $at AS at", {"at": naive.replace(tzinfo=ZoneInfo("Asia/Shanghai"))})
    assert len(fake.seen) == 2
    for params in fake.seen:
        for value in params.values():
            if isinstance(value, dt.datetime):
                assert value.tzinfo is None or isinstance(value.tzinfo, dt.timezone), value


# -- plans and strawberry answer alike ---------------------------------------------------------

# the root fields whose answers the run itself changes: they read the records of the checks
# and personal-data reads it makes
RECORD_READERS = frozenset({"accessRecords", "linkageStats"})
DIFFERENTIAL_EXAMPLES = 240
# instants the server reads from its clock during the two calls are compared as "<now>"
CLOCK_SLACK = dt.timedelta(seconds=1)
_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")
_CURSOR_KEYS = frozenset({"cursor", "endCursor"})

Request = tuple[str, dict[str, Any] | None]


def check_requests(world: FuzzWorld = WORLD) -> st.SearchStrategy[Request]:
    """The check documents approval systems send (and the scenario's, which select an
    asynchronous field), with generated variables: ids as the fuzz draws them, every area
    and a wrong one, and sometimes an instant."""
    area_type = build_graphql_schema(schema_sdl()).type_map["ApplicationArea"]
    assert isinstance(area_type, GraphQLEnumType)
    areas = st.sampled_from([*area_type.values, "NOPE"])
    instants = st.none() | datetimes(naive=False)

    def single(query: str, id_: str, area: str, at: str | None) -> Request:
        return query, {"id": id_, "area": area, **({"at": at} if "$at" in query else {})}

    def batch(query: str, ids: list[str], area: str, at: str | None) -> Request:
        return query, {"ids": ids, "area": area, **({"at": at} if "$at" in query else {})}

    return st.one_of(
        st.builds(
            single, st.sampled_from([CHECK_GQL, SCENARIO_CHECK]), ids(world), areas, instants
        ),
        st.builds(
            batch,
            st.sampled_from([BATCH_GQL, SCENARIO_BATCH]),
            st.lists(ids(world), max_size=4),
            areas,
            instants,
        ),
    )


def query_requests(world: FuzzWorld = WORLD) -> st.SearchStrategy[Request]:
    """Queries only, for a world that must not change while two apps answer them: mostly
    one root field (most of which plans compile), some with several, some with a single
    schema violation, some fragment-heavy; and one request in three a check document."""
    schema = schema_sdl()
    parsed = build_graphql_schema(schema)
    assert parsed.query_type is not None
    fields = [name for name in parsed.query_type.fields if name not in RECORD_READERS]
    scalars = custom_scalars(world)
    one_field = st.one_of(
        [queries(schema, fields=[name], custom_scalars=scalars) for name in fields]
    )
    many_fields = queries(schema, fields=fields, custom_scalars=scalars)
    invalid = queries(schema, fields=fields, custom_scalars=scalars, mode=Mode.NEGATIVE)
    fragment_heavy = st.one_of(fragment_dags(), st.integers(1, 60).map(doubling_document))
    documents = st.integers(0, 11).flatmap(
        lambda n: (
            one_field if n < 8 else many_fields if n < 9 else invalid if n < 10 else fragment_heavy
        )
    )
    return st.integers(0, 2).flatmap(
        lambda n: check_requests(world) if n == 0 else documents.map(lambda q: (q, None))
    )


def comparable(body: Any, since: dt.datetime, until: dt.datetime) -> Any:
    """`body` with what differs between any two calls of the same request normalised:
    every `checkId` (a new one per check), and every instant between `since` and `until`,
    which the server read from its clock (a default `at`), in texts and cursors too."""

    def instant(match: re.Match[str]) -> str:
        try:
            value = dt.datetime.fromisoformat(match.group())
        except ValueError:
            return match.group()
        return "<now>" if since <= value <= until else match.group()

    def walk(value: Any, key: str | None = None) -> Any:
        if key == "checkId" and isinstance(value, str):
            return "<checkId>"
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            if key in _CURSOR_KEYS:
                return walk(_decoded_cursor(value))
            return _INSTANT.sub(instant, value)
        return value

    return walk(body)


def _decoded_cursor(cursor: str) -> Any:
    """A page cursor's payload (it carries the instant of its first page), else itself."""
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        return cursor


def answered_by_plan(
    schema: CreditLinkSchema, limits: Settings, query: str, variables: dict[str, Any] | None
) -> bool:
    """Whether an app with plans answers this request from one: the document parses, one
    operation is selected, its arguments are within the limits, it compiles, and the
    variables coerce (else strawberry answers it)."""
    document = schema.documents.parse_or_none(query)
    operation = select_operation(document, None) if document is not None else None
    if document is None or operation is None:
        return False
    if check_argument_sizes(
        document, operation, variables, max_items=limits.max_batch, max_page=limits.max_page
    ):
        return False
    if schema.documents.plan(schema._schema, query, document, operation) is None:
        return False
    coerced = get_variable_values(
        schema._schema, operation.variable_definitions or (), variables or {}
    )
    return not isinstance(coerced, list)


def one_root_field(schema: CreditLinkSchema, query: str) -> bool:
    document = schema.documents.parse_or_none(query)
    operation = select_operation(document, None) if document is not None else None
    if document is None or operation is None:
        return True  # refused before execution: one answer whatever the timing
    return len(root_field_names(document, operation)) <= 1


def compiled_total(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("creditlink_graphql_compiled_total{")
    )


@pytest.fixture(scope="module")
def strawberry_only(neo4j_server: Neo4jServer, keys_file: Path) -> Iterator[ApiServer]:
    """A second app on the same Neo4j with compiled plans off."""
    with serving(api_settings(neo4j_server, keys_file, compiled_queries=False)) as server:
        yield server


def test_plans_and_strawberry_give_the_same_whole_answers(
    api_server: ApiServer, strawberry_only: ApiServer, fuzz_world: FuzzWorld
) -> None:
    """Every generated query, sent as every role to the app with plans (the session's) and
    to one without: the same status and the same body, data and errors alike (message,
    locations, path, extensions), checkIds and instants read from the clock aside (for a
    document of several root fields that both apps answer with errors, the data alone: see
    below). The app
    with plans must have answered from plans exactly the requests a plan compiles for,
    and those must be at least a fifth of all, or the comparison proves little."""
    schema = build_schema(api_server.settings)
    sent = planned = 0
    plans_before = compiled_total(api_server.url)
    with (
        httpx.Client(base_url=api_server.url, timeout=60) as plans,
        httpx.Client(base_url=strawberry_only.url, timeout=60) as reference,
    ):

        @against_a_server(DIFFERENTIAL_EXAMPLES)
        @given(request=query_requests(), role=st.sampled_from(list(ROLES)))
        def run(request: Request, role: str) -> None:
            nonlocal sent, planned
            query, variables = request
            key = ROLES[role]
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            body = {"query": query, "variables": variables}
            since = dt.datetime.now(dt.UTC) - CLOCK_SLACK
            ours = plans.post("/graphql", json=body, headers=headers)
            theirs = reference.post("/graphql", json=body, headers=headers)
            until = dt.datetime.now(dt.UTC) + CLOCK_SLACK
            sent += 1
            planned += answered_by_plan(schema, api_server.settings, query, variables)
            assert ours.status_code == theirs.status_code, (role, query, variables)
            mine, other = (
                comparable(ours.json(), since, until),
                comparable(theirs.json(), since, until),
            )
            if not one_root_field(schema, query) and mine.get("errors") and other.get("errors"):
                # several root fields, none compiled: graphql-core runs them at once and
                # cancels the rest when a non-null one fails, so which failure is reported
                # is a matter of timing on either app
                assert mine.get("data") == other.get("data"), (role, query, variables)
                return
            assert mine == other, (role, query, variables, ours.text[:2000], theirs.text[:2000])

        run()
    assert compiled_total(api_server.url) - plans_before == planned
    assert compiled_total(strawberry_only.url) == 0
    assert planned * 5 >= sent, f"only {planned} of {sent} requests were answered by plans"
    print(f"\n{planned} of {sent} requests answered by plans")
