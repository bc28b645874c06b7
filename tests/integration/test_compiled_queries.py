"""Compiled plans (`api.compiled`) answer every query as strawberry does, over real HTTP.

Two real apps against the one Neo4j: the session's (plans on, the default) and one with
`compiled_queries=False`. Every query root field is asked by every caller, once with the
deepest selection a plan can compile and once with the authorisation matrix's full
selection (fragments on interfaces, asynchronous fields: strawberry's path), and the
two answers must be equal apart from values that differ between any two calls (a new
check's id and its default instant). Exactly which calls answer with data, and exactly
which the first app answers from plans (its compiled metric), is asserted too, so the
comparison is between answers, on the plans' path. The check documents the bench and
the approval systems send must compile, so it covers the hot path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    OperationDefinitionNode,
    get_named_type,
)

from api.compiled import below_root
from api.schema import build_schema
from graph_model.catalogue_sync import sync_departments
from graph_model.driver import Graph
from rules.loader import load_catalogue
from testkit.queries import BATCH_GQL, CHECK_GQL
from tests.conftest import ApiServer, Neo4jServer, api_settings, serving
from tests.integration.authz import (
    CALLERS,
    EXPECTED,
    SCHEMA,
    build_world,
    generic_call,
    minimal_arguments,
    role_of,
    root_fields,
)
from tests.integration.helpers import enterprise_id
from tests.integration.scenario import BATCH, CHECK

# values that differ between any two calls of the same query: a new check's id, the
# default instant, and a page cursor (it carries the instant)
VOLATILE = frozenset({"checkId", "at", "endCursor"})
# the default instant inside a text answer (an exported neighbourhood names its `at`)
NOW = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00")


@pytest.fixture(scope="module")
def reference(neo4j_server: Neo4jServer, keys_file: Path) -> Iterator[ApiServer]:
    with serving(api_settings(neo4j_server, keys_file, compiled_queries=False)) as server:
        yield server


def compilable_selection(type_: GraphQLOutputType, depth: int) -> str | None:
    """Every field a plan can compile, to `depth` levels; "" for leaves, None if none."""
    named = get_named_type(type_)
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return ""
    if not isinstance(named, GraphQLObjectType) or named.is_type_of is not None:
        return None
    parts = ["__typename"]
    for name, field in named.fields.items():
        if below_root(field) is not None:
            continue
        inner = compilable_selection(field.type, depth - 1) if depth > 1 else None
        if inner == "":
            parts.append(name)
        elif inner is not None:
            parts.append(f"{name} {inner}")
    return "{ " + " ".join(parts) + " }"


def _stable(body: dict[str, Any]) -> Any:
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: "…" if k in VOLATILE else strip(v) for k, v in value.items()}
        if isinstance(value, list):
            return [strip(v) for v in value]
        if isinstance(value, str):
            return NOW.sub("…", value)
        return value

    return strip(body)


def _compiles(query: str) -> bool:
    schema = build_schema()
    document = schema.documents.parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return schema.documents.plan(schema._schema, query, document, operation) is not None


def test_the_check_documents_compile() -> None:
    assert _compiles(CHECK_GQL)
    assert _compiles(BATCH_GQL)
    # the scenario's documents select `sanction { subject }`, an asynchronous resolver
    assert not _compiles(CHECK)
    assert not _compiles(BATCH)


# the one query root field no plan can answer: it returns an interface
NOT_COMPILED_ROOTS = frozenset({"subject"})
# asked about an id the world does not hold (the hints name no `id`), so they answer
# null or NOT_FOUND to every caller
UNKNOWN_ID_ROOTS = frozenset({"subject", "sanction", "inspectionDraw", "replayInspectionDraw"})


@dataclass(frozen=True)
class Call:
    field: str
    query: str
    variables: dict[str, Any]
    # whether a caller allowed the field gets its value, not null (the arguments are good)
    answers: bool = True
    # whether the app with plans answers it from a plan (its variables coerce)
    by_plan: bool = True


async def test_every_query_answers_the_same_compiled_or_not(
    api_server: ApiServer, reference: ApiServer, graph: Graph
) -> None:
    await sync_departments(graph, load_catalogue())
    world = build_world(api_server)
    hints = world.hints()
    calls: list[Call] = []
    for field in root_fields("Query"):
        definition = SCHEMA.query_type.fields[field]  # type: ignore[union-attr]
        selection = compilable_selection(definition.type, 4)
        queries = [generic_call("Query", field, hints, depth=4)]
        if selection is not None:
            args = minimal_arguments(definition.args, hints=hints)
            queries.insert(0, f"query {{ {field}{f'({args})' if args else ''} {selection} }}")
        for query in queries:
            calls.append(Call(field, query, {}, field not in UNKNOWN_ID_ROOTS, _compiles(query)))
    at = "2026-06-01T10:00:00+08:00"
    for subject in (world.company, world.person, world.spouse):
        variables = {"id": subject, "area": "SOCIAL_GOVERNANCE"}
        calls.append(Call("jointSanctionCheck", CHECK_GQL, variables))
        calls.append(Call("jointSanctionCheck", CHECK, {**variables, "at": at}, by_plan=False))
    for subject in ("91330302MA2XXXXX0X", "nope"):  # INVALID_ID from the resolver
        variables = {"id": subject, "area": "SOCIAL_GOVERNANCE"}
        calls.append(Call("jointSanctionCheck", CHECK_GQL, variables, answers=False))
        calls.append(
            Call("jointSanctionCheck", CHECK, {**variables, "at": at}, False, by_plan=False)
        )
    batch = {"ids": [world.company, world.person, "nope"], "area": "SOCIAL_GOVERNANCE"}
    calls.append(Call("batchCheck", BATCH_GQL, batch, answers=False))
    calls.append(Call("batchCheck", BATCH, batch, answers=False, by_plan=False))
    for variables in ({"id": world.company, "area": "NOPE"}, {"area": "SOCIAL_GOVERNANCE"}):
        # variables that do not coerce: strawberry reports them, in both apps
        calls.append(Call("jointSanctionCheck", CHECK_GQL, variables, False, False))

    assert {c.field for c in calls if c.by_plan} == set(root_fields("Query")) - NOT_COMPILED_ROOTS
    before = _compiled_count(api_server)
    differences = []
    answered: set[tuple[int, str]] = set()
    for index, call in enumerate(calls):
        for label, key in CALLERS.items():
            ours = api_server.post(call.query, call.variables, key=key)
            theirs = reference.post(call.query, call.variables, key=key)
            if _stable(ours) != _stable(theirs):
                differences.append((call.field, label, call.query, ours, theirs))
            if (ours.get("data") or {}).get(call.field) is not None:
                answered.add((index, label))
    assert not differences, [(f, label) for f, label, *_ in differences]
    # every caller allowed the field got its value wherever the arguments were good, and no
    # one else did: the comparison compared answers, not only refusals
    expected = {
        (index, label)
        for index, call in enumerate(calls)
        for label, key in CALLERS.items()
        if call.answers and role_of(key) in EXPECTED[call.field]
    }
    assert answered == expected, sorted(
        (calls[index].field, calls[index].variables, label, (index, label) in expected)
        for index, label in answered ^ expected
    )
    # and the app with plans answered exactly the compilable calls from plans
    assert _compiled_count(api_server) - before == len(CALLERS) * sum(c.by_plan for c in calls)
    assert _compiled_count(reference) == 0


@pytest.mark.parametrize("key", ["public-key", None])
async def test_public_callers_get_the_same_masked_answers(
    key: str | None, api_server: ApiServer, reference: ApiServer, graph: Graph
) -> None:
    await sync_departments(graph, load_catalogue())
    world = build_world(api_server)
    query = (
        "query { publishedList(kind: BLACK) { edges { node "
        + (compilable_selection(SCHEMA.type_map["PublishedEntry"], 2) or "{ __typename }")  # type: ignore[arg-type]
        + " } } }"
    )
    ours, theirs = api_server.post(query, key=key), reference.post(query, key=key)
    assert _stable(ours) == _stable(theirs)
    assert world.person not in str(ours) and world.person_name not in str(ours)


def _compiled_count(server: ApiServer, operation: str | None = None) -> float:
    """The app's creditlink_graphql_compiled_total for `operation`, or for all of them."""
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    prefix = "creditlink_graphql_compiled_total{"
    wanted = f'operation="{operation}"' if operation is not None else None
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(prefix) and (wanted is None or wanted in line)
    )


async def test_the_default_app_answers_checks_from_plans_and_the_reference_never(
    api_server: ApiServer, reference: ApiServer
) -> None:
    variables = {"id": enterprise_id(), "area": "SOCIAL_GOVERNANCE"}  # valid, unknown
    before = _compiled_count(api_server, "jointSanctionCheck")
    for server in (api_server, reference):
        for _ in range(3):
            assert "errors" not in server.post(CHECK_GQL, variables, key="approval-key")
        server.post(CHECK, {**variables, "at": None}, key="approval-key")  # not compilable
    assert _compiled_count(api_server, "jointSanctionCheck") == before + 3
    assert _compiled_count(reference, "jointSanctionCheck") == 0
