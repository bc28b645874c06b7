"""api.compiled alone: a compiled plan answers exactly as strawberry does, or declines.

A small real strawberry schema (no Neo4j) with the shapes the product's types have:
nested objects and lists, enums, dates, aliases, resolvers that read the context, and
resolvers that fail. Every document runs both ways and the two answers must be equal,
data and formatted errors alike; and `api.execution.execute_operation`, the one place
that chooses a plan or strawberry, chooses as its docstring says.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any, cast

import pytest
import strawberry
from graphql import OperationDefinitionNode, parse
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from api.compiled import NotCompiled, Plan, compile_plan
from api.context import Context
from api.documents import DocumentCache
from api.execution import Executed, execute_operation


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Leaf:
    name: str
    colour: Colour
    day: dt.date
    note: str | None

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    def broken(self) -> str | None:
        raise ValueError(f"leaf {self.name} is broken")

    @strawberry.field
    def broken_required(self) -> str:
        raise ValueError(f"leaf {self.name} cannot answer")

    @strawberry.field
    async def later(self) -> str:
        return "later"

    @strawberry.field
    def scaled(self, factor: int = 2) -> int:
        return len(self.name) * factor


@strawberry.type
class Tree:
    label: str
    leaves: list[Leaf]
    optional_leaves: list[Leaf | None] | None
    names: list[str]
    child: Tree | None


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Thing(Named):
    weight: int


def _leaves(n: int) -> list[Leaf]:
    return [
        Leaf(
            name=f"leaf{i}",
            colour=Colour.RED if i % 2 else Colour.BLUE,
            day=dt.date(2026, 1, 1 + i),
            note=None if i % 2 else f"note {i}",
        )
        for i in range(n)
    ]


@strawberry.type
class Query:
    @strawberry.field
    async def tree(self, size: int, bad_label: bool = False, bad_name: bool = False) -> Tree:
        child = Tree(
            label=None if bad_label else "child",  # type: ignore[arg-type]
            leaves=_leaves(1),
            optional_leaves=None,
            names=["x", None] if bad_name else ["x"],  # type: ignore[list-item]
            child=None,
        )
        return Tree(
            label="root",
            leaves=_leaves(size),
            optional_leaves=[*_leaves(1), None],
            names=[f"n{i}" for i in range(size)],
            child=child,
        )

    @strawberry.field
    def maybe_tree(self, fail: bool = False) -> Tree | None:
        if fail:
            raise ValueError("no tree today")
        return None

    @strawberry.field
    def not_a_list(self) -> Tree:
        return Tree(label="odd", leaves=7, optional_leaves=None, names=[], child=None)  # type: ignore[arg-type]

    @strawberry.field
    def whoami(self, info: strawberry.Info) -> str:
        return str(info.context["who"])

    @strawberry.field
    def named(self) -> Named:
        return Thing(name="thing", weight=3)


@strawberry.type
class Mutation:
    @strawberry.mutation
    def touch(self) -> int:
        return 1


SCHEMA = strawberry.Schema(query=Query, mutation=Mutation)
CONTEXT = {"who": "approval-system"}


def _operation(query: str) -> tuple[Any, OperationDefinitionNode]:
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return document, operation


def _plan(query: str) -> Plan:
    document, operation = _operation(query)
    return Plan(SCHEMA._schema, document, operation)


def _answer(result: Any) -> dict[str, Any]:
    return {
        "data": result.data,
        "errors": [e.formatted for e in result.errors or ()],
    }


async def _both(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    compiled = await _plan(query).execute(CONTEXT, variables)
    assert compiled is not None, "the variables should have coerced"
    reference = await SCHEMA.execute(query, variable_values=variables, context_value=CONTEXT)
    assert _answer(compiled) == _answer(reference)
    return _answer(compiled)


async def test_a_nested_tree_with_enums_dates_aliases_and_resolvers() -> None:
    answer = await _both(
        "query($n: Int!) { tree(size: $n) { label __typename leaves { name colour day note "
        "loud: shout } optionalLeaves { name } names child { label leaves { day } child "
        "{ label } } } }",
        {"n": 3},
    )
    tree = answer["data"]["tree"]
    assert answer["errors"] == []
    assert tree["__typename"] == "Tree"
    assert tree["leaves"][1] == {
        "name": "leaf1",
        "colour": "RED",
        "day": "2026-01-02",
        "note": None,
        "loud": "LEAF1",
    }
    assert tree["optionalLeaves"] == [{"name": "leaf0"}, None]
    assert tree["child"] == {"label": "child", "leaves": [{"day": "2026-01-01"}], "child": None}


async def test_a_literal_argument_and_a_default_reach_the_root_resolver() -> None:
    answer = await _both("{ tree(size: 2) { names } }")
    assert answer["data"] == {"tree": {"names": ["n0", "n1"]}}


async def test_a_null_in_a_non_null_field_nulls_the_nearest_nullable_ancestor() -> None:
    answer = await _both("{ tree(size: 1, badLabel: true) { label child { label } } }")
    assert answer["data"] == {"tree": {"label": "root", "child": None}}
    assert answer["errors"][0]["path"] == ["tree", "child", "label"]
    assert "Cannot return null for non-nullable field Tree.label" in answer["errors"][0]["message"]


async def test_a_null_list_item_bubbles_through_non_null_lists() -> None:
    answer = await _both("{ tree(size: 1, badName: true) { label child { names } } }")
    assert answer["data"] == {"tree": {"label": "root", "child": None}}
    assert answer["errors"][0]["path"] == ["tree", "child", "names", 1]


async def test_a_failing_nullable_resolver_is_null_with_a_located_error() -> None:
    answer = await _both("{ tree(size: 2) { leaves { name broken } } }")
    assert [leaf["broken"] for leaf in answer["data"]["tree"]["leaves"]] == [None, None]
    assert [e["path"] for e in answer["errors"]] == [
        ["tree", "leaves", 0, "broken"],
        ["tree", "leaves", 1, "broken"],
    ]
    assert answer["errors"][0]["locations"] == [{"line": 1, "column": 33}]


async def test_a_failing_required_resolver_nulls_the_whole_non_null_chain() -> None:
    answer = await _both("{ tree(size: 2) { label leaves { brokenRequired } } }")
    assert answer["data"] is None
    assert answer["errors"][0]["path"] == ["tree", "leaves", 0, "brokenRequired"]


async def test_root_errors_and_a_null_nullable_root() -> None:
    assert (await _both("{ maybeTree { label } }"))["data"] == {"maybeTree": None}
    failed = await _both("{ maybeTree(fail: true) { label } }")
    assert failed["data"] == {"maybeTree": None}
    assert failed["errors"][0]["message"] == "no tree today"
    assert failed["errors"][0]["path"] == ["maybeTree"]


async def test_a_non_iterable_list_value_is_an_error() -> None:
    answer = await _both("{ notAList { label leaves { name } } }")
    assert answer["data"] is None
    assert "Expected Iterable" in answer["errors"][0]["message"]


async def test_resolvers_see_the_context() -> None:
    assert (await _both("{ whoami }"))["data"] == {"whoami": "approval-system"}


async def test_variables_that_do_not_coerce_are_left_to_strawberry() -> None:
    plan = _plan("query($n: Int!) { tree(size: $n) { label } }")
    assert await plan.execute(CONTEXT, {"n": "three"}) is None
    assert await plan.execute(CONTEXT, {}) is None


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("{ tree(size: 1) { ...T } } fragment T on Tree { label }", "fragments"),
        ("{ tree(size: 1) { ... on Tree { label } } }", "fragments"),
        ("{ tree(size: 1) { label @skip(if: true) } }", "directives"),
        ("{ whoami maybeTree { label } }", "one root field"),
        ("{ __typename }", "plain field"),
        ("{ __schema { queryType { name } } }", "plain field"),
        ("mutation { touch }", "not a query"),
        ("{ tree(size: 1) { leaves { later } } }", "asynchronous"),
        ("{ tree(size: 1) { leaves { scaled } } }", "arguments below the root"),
        ("{ tree(size: 1) { leaves { scaled(factor: 3) } } }", "arguments below the root"),
        ("{ named { name } }", "abstract"),
        ("{ tree(size: 1) { label label: names } }", "selected twice"),
    ],
)
def test_what_a_plan_cannot_do_exactly_is_left_to_strawberry(query: str, reason: str) -> None:
    document, operation = _operation(query)
    with pytest.raises(NotCompiled, match=reason):
        Plan(SCHEMA._schema, document, operation)
    assert compile_plan(SCHEMA._schema, document, operation) is None


def test_the_document_cache_remembers_plans_and_compiles_only_valid_documents() -> None:
    cache = DocumentCache(None, max_tokens=1000, introspection=True)
    query = "{ tree(size: 1) { label } }"
    document = cache.parse(query)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    plan = cache.plan(SCHEMA._schema, query, document, operation)
    assert isinstance(plan, Plan)
    assert cache.plan(SCHEMA._schema, query, document, operation) is plan

    invalid = "{ tree { label } }"  # size is required
    invalid_document = cache.parse(invalid)
    invalid_operation = invalid_document.definitions[0]
    assert isinstance(invalid_operation, OperationDefinitionNode)
    assert cache.plan(SCHEMA._schema, invalid, invalid_document, invalid_operation) is None


class _RecordingSchema(strawberry.Schema):
    """SCHEMA's types with a document cache, remembering what `process_errors` saw."""

    processed: list[str]

    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        self.processed.extend(e.message for e in errors)


def _seam_schema() -> Any:
    schema = _RecordingSchema(query=Query, mutation=Mutation)
    schema.documents = DocumentCache(None, max_tokens=1000, introspection=True)  # type: ignore[attr-defined]
    schema.processed = []
    return schema


async def _through_seam(
    schema: Any,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    compiled_queries: bool = True,
    allowed: frozenset[OperationType] = frozenset({OperationType.QUERY, OperationType.MUTATION}),
) -> Executed:
    document = schema.documents.parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return await execute_operation(
        schema,
        query,
        variables,
        None,
        cast(Context, CONTEXT),  # resolvers here read it as a mapping
        document=document,
        operation=operation,
        allowed=allowed,
        compiled_queries=compiled_queries,
    )


async def test_the_seam_answers_plain_queries_by_plan_and_the_rest_by_strawberry() -> None:
    schema = _seam_schema()
    plain = "query($n: Int!) { tree(size: $n) { label leaves { name broken } } }"
    by_plan = await _through_seam(schema, plain, {"n": 2})
    by_strawberry = await _through_seam(schema, plain, {"n": 2}, compiled_queries=False)
    assert (by_plan.compiled, by_strawberry.compiled) == (True, False)
    assert _answer(by_plan.result) == _answer(by_strawberry.result)
    # the plan's errors went through the schema's process_errors, as strawberry's do
    assert schema.processed == ["leaf leaf0 is broken", "leaf leaf1 is broken"] * 2

    not_coerced = await _through_seam(schema, plain, {"n": "two"})
    assert not not_coerced.compiled
    assert "Int cannot represent" in _answer(not_coerced.result)["errors"][0]["message"]
    for query in ("{ tree(size: 1) { leaves { later } } }", "mutation { touch }"):
        assert not (await _through_seam(schema, query)).compiled, query


async def test_the_seam_leaves_a_query_to_strawberry_where_queries_are_not_allowed() -> None:
    with pytest.raises(InvalidOperationTypeError):
        await _through_seam(
            _seam_schema(), "{ whoami }", allowed=frozenset({OperationType.MUTATION})
        )
