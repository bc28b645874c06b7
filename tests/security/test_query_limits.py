"""Issue 18.1: validation is linear in the document, whatever its fragments multiply.

The review's document, 40 fragments each spreading the next twice, expands to 2^40
selections: a walker that follows every spread hangs the event loop on it. The walk in
`api.limits` measures each fragment once. Its work is counted (`visits`), and so is the
work of the whole validation (Python function calls under `sys.setprofile`): counts are
deterministic where a clock on a shared 2-core machine is not.
"""

from __future__ import annotations

import sys

import httpx
import pytest
from graphql import GraphQLSchema, Lexer, Source, TokenKind, parse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.documents import DocumentCache
from api.limits import QueryLimits, over_limits, select_operation
from api.schema import CreditLinkSchema, build_schema
from api.settings import Settings
from tests.conftest import ApiServer
from tests.documents import doubling_document, expand, fragment_dags, selection_nodes

LIMITS = QueryLimits()
# Python calls per token of a document that graphql-core's rules and ours may make: the
# heaviest documents within the limits measured ~760 (OverlappingFieldsCanBeMerged on 20
# repeats of a field with 20 repeated subfields); fragment-heavy ones stay under 100.
CALLS_PER_TOKEN = 1000
CALLS_FIXED = 5000  # schema checks and the visitors' set-up, whatever the document


@pytest.fixture(scope="module")
def schema() -> CreditLinkSchema:
    return build_schema(Settings())


def tokens(query: str) -> int:
    lexer = Lexer(Source(query))
    count = 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


def validation_calls(documents: DocumentCache, graphql_schema: GraphQLSchema, query: str) -> int:
    """Python function calls made while validating `query` (parsing excluded)."""
    document = parse(query, max_tokens=LIMITS.max_selections)
    calls = 0

    def count(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(count)
    try:
        documents.validate(graphql_schema, query, document)
    finally:
        sys.setprofile(None)
    return calls


def test_the_forty_fragment_doubling_document_is_refused_in_linear_work(
    schema: CreditLinkSchema,
) -> None:
    query = doubling_document(40)
    document = parse(query)
    operation = select_operation(document, None)
    assert operation is not None
    problem, visits = over_limits(schema._schema, document, operation, LIMITS)
    assert problem is not None and "more than" in problem
    assert visits <= selection_nodes(document)  # each fragment combined once: 81 selections
    errors = schema.documents.validate(schema._schema, query, document)
    assert [e.extensions for e in errors] == [{"code": "QUERY_TOO_COMPLEX"}]
    assert validation_calls(schema.documents, schema._schema, query) < CALLS_FIXED + (
        CALLS_PER_TOKEN * tokens(query)
    )


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(query=fragment_dags(max_fragments=9))
def test_the_walk_counts_what_inlining_counts_and_visits_each_selection_once(
    schema: CreditLinkSchema, query: str
) -> None:
    document = parse(query)
    operation = select_operation(document, None)
    assert operation is not None
    unlimited = QueryLimits(
        max_depth=10**6, max_aliases=10**6, max_selections=10**6, max_cost=10**9, max_repeats=10**6
    )
    truth = expand(document)
    for limits, over in (
        (unlimited, None),
        (
            QueryLimits(
                max_depth=10**6,
                max_aliases=10**6,
                max_selections=truth.selections - 1,
                max_cost=10**9,
                max_repeats=10**6,
            ),
            "fields",
        ),
        (
            QueryLimits(
                max_depth=10**6,
                max_aliases=max(truth.aliases - 1, 0),
                max_selections=10**6,
                max_cost=10**9,
                max_repeats=10**6,
            ),
            "aliases" if truth.aliases else None,
        ),
        (
            QueryLimits(
                max_depth=truth.depth - 1,
                max_aliases=10**6,
                max_selections=10**6,
                max_cost=10**9,
                max_repeats=10**6,
            ),
            "levels deep",
        ),
    ):
        problem, visits = over_limits(schema._schema, document, operation, limits)
        assert visits <= selection_nodes(document)
        if over is None:
            assert problem is None, (query, problem)
        else:
            assert problem is not None and over in problem, (query, problem, truth)


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    query=st.one_of(
        fragment_dags(max_fragments=40),
        st.integers(10, 60).map(doubling_document),
    )
)
def test_validation_work_stays_linear_in_document_size(
    schema: CreditLinkSchema, query: str
) -> None:
    documents = DocumentCache(LIMITS, max_tokens=2000, introspection=True, maxsize=1)
    calls = validation_calls(documents, schema._schema, query)
    assert calls < CALLS_FIXED + CALLS_PER_TOKEN * tokens(query), (calls, tokens(query), query)


def test_selections_past_the_cap_are_refused_after_expansion(schema: CreditLinkSchema) -> None:
    # 12 fragments doubling down to `departments { id name }`: 2^12 · 3 selections
    query = doubling_document(12).replace("{ __typename }", "{ departments { id name } }")
    document = parse(query)
    errors = schema.documents.validate(schema._schema, query, document)
    assert len(errors) == 1 and errors[0].extensions == {"code": "QUERY_TOO_COMPLEX"}
    assert f"the limit is {LIMITS.max_repeats}" in errors[0].message or (
        f"the limit is {LIMITS.max_selections}" in errors[0].message
    )
    # below every limit: 2^3 spreads of three selections each, one level apart
    small = doubling_document(3).replace("{ __typename }", "{ d: departments { id } }")
    assert schema.documents.validate(schema._schema, small, parse(small)) == []


def test_aliases_cannot_multiply_an_expensive_field(schema: CreditLinkSchema) -> None:
    one = '{ riskClusters(district: "330302") { id } }'
    assert schema.documents.validate(schema._schema, one, parse(one)) == []
    three = (
        '{ a: riskClusters(district: "330302") { id } b: riskClusters(district: "330303") { id }'
        ' c: riskClusters(district: "330304") { id } }'
    )
    errors = schema.documents.validate(schema._schema, three, parse(three))
    assert [e.extensions for e in errors] == [{"code": "QUERY_TOO_COMPLEX"}]
    assert "costs more than 200" in errors[0].message


def test_graphiqls_introspection_query_is_within_the_limits(schema: CreditLinkSchema) -> None:
    from graphql import get_introspection_query

    query = get_introspection_query(descriptions=True)
    assert schema.documents.validate(schema._schema, query, parse(query)) == []
    # and introspection cannot be nested without bound (graphql-core's depth rule)
    deep = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    errors = schema.documents.validate(schema._schema, deep, parse(deep))
    assert [e.message for e in errors] == ["Maximum introspection depth exceeded"]


# -- over real HTTP: one anonymous request must not stop the API ------------------------------


def test_an_anonymous_doubling_document_is_refused_and_the_api_keeps_answering(
    api_server: ApiServer,
) -> None:
    # the timeout guards the test against the hang it is about: the old walker needs 2^40
    # visits and never answers
    with httpx.Client(base_url=api_server.url, timeout=30) as client:
        response = client.post("/graphql", json={"query": doubling_document(40)})
        assert response.status_code == 200
        body = response.json()
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["QUERY_TOO_COMPLEX"]
        assert client.get("/healthz").status_code == 200
        ok = client.post("/graphql", json={"query": "{ departments { id } }"})
        assert ok.json()["data"]["departments"]
