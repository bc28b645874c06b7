"""The strawberry and graphql-core internals compiled plans rely on are where plans expect
them: an upgrade that moves one fails here, naming it, rather than in a running API.

`api.compiled.PRIVATE_NAMES` lists them (`api.limits` reads one of them too); these
tests import each, check that the list covers every import of `api.compiled`,
`api.execution` and `api.limits` from below the two libraries' public surface, and that
the resolve info a plan builds is the one strawberry's executor builds.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any

import pytest
import strawberry
from graphql import GraphQLObjectType, GraphQLSchema, OperationDefinitionNode, parse

from api import compiled, execution, limits
from api.compiled import INFO_FIELDS, PRIVATE_NAMES, Plan
from api.schema import build_schema

# the modules of the two libraries that are public by their own account: their top
# level, graphql-core's documented `pyutils` and `validation`, strawberry's `extensions`
# and `types`, and `types.graphql` (the type of `Schema.execute`'s allowed operations)
PUBLIC_MODULES = frozenset(
    {
        "graphql",
        "graphql.pyutils",
        "graphql.validation",
        "strawberry",
        "strawberry.extensions",
        "strawberry.types",
        "strawberry.types.graphql",
    }
)


def resolve(name: str) -> Any:
    """The object `name` ("module:attribute.path") stands for."""
    module_name, _, path = name.partition(":")
    found: Any = importlib.import_module(module_name)
    for attribute in path.split("."):
        found = getattr(found, attribute)
    return found


@pytest.mark.parametrize("name", PRIVATE_NAMES)
def test_each_private_name_is_where_plans_expect_it(name: str) -> None:
    try:
        resolve(name)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"{name} moved ({exc}): api/compiled.py must follow it, or plans go")


def private_uses(module: Any) -> set[str]:
    """Every "module:name" `module` imports from below the libraries' public surface, and
    every "module:name.ATTRIBUTE" it reads off such a name."""
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            library = node.module.split(".")[0]
            if library in {"graphql", "strawberry"} and node.module not in PUBLIC_MODULES:
                for alias in node.names:
                    imported[alias.asname or alias.name] = f"{node.module}:{alias.name}"
    uses = set(imported.values())
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in imported
        ):
            uses.add(f"{imported[node.value.id]}.{node.attr}")
    return uses


@pytest.mark.parametrize("module", [compiled, execution, limits], ids=lambda m: m.__name__)
def test_every_private_name_used_is_listed(module: Any) -> None:
    listed = set(PRIVATE_NAMES)
    # a class imported only to read a listed attribute off it is covered by that entry
    unlisted = {
        use
        for use in private_uses(module)
        if use not in listed and not any(name.startswith(f"{use}.") for name in listed)
    }
    assert not unlisted, f"list in api.compiled.PRIVATE_NAMES: {sorted(unlisted)}"


@strawberry.type
class ProbeLeaf:
    name: str


@strawberry.type
class ProbeQuery:
    @strawberry.field
    def seen(self, info: strawberry.Info, times: int = 1) -> str:
        SEEN.append(info._raw_info)
        return "seen" * times

    @strawberry.field
    def leaf(self) -> ProbeLeaf:
        return ProbeLeaf(name="leaf")


SCHEMA = strawberry.Schema(query=ProbeQuery)
SEEN: list[Any] = []


async def test_a_plan_builds_the_resolve_info_strawberry_builds() -> None:
    """Same class, same fields in the same order, same values where they can be equal."""
    query = "query Probe($n: Int) { seen(times: $n) }"
    document = parse(query)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    SEEN.clear()
    reference = await SCHEMA.execute(query, variable_values={"n": 1}, context_value="context")
    assert reference.errors is None
    answered = await Plan(SCHEMA._schema, document, operation).execute("context", {"n": 1})
    assert answered is not None and answered.data == {"seen": "seen"}
    theirs, ours = SEEN
    assert type(ours) is type(theirs)
    assert type(theirs)._fields == INFO_FIELDS, (
        "strawberry's resolve info has other fields: api/compiled.py's _Run.info builds it "
        "positionally in INFO_FIELDS order"
    )
    for field in ("field_name", "return_type", "parent_type", "root_value", "context"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert ours.variable_values == theirs.variable_values == {"n": 1}
    assert ours.path.as_list() == theirs.path.as_list() == ["seen"]
    assert [n.name.value for n in ours.field_nodes] == ["seen"]
    assert ours.fragments == theirs.fragments == {}
    assert ours.operation_extensions == theirs.operation_extensions


def test_a_basic_field_is_read_as_an_attribute() -> None:
    """strawberry marks a basic field's resolver as its default one; plans rely on the
    mark to read the attribute instead of calling the resolver."""
    document = parse("{ leaf { name } }")
    leaf = document.definitions[0].selection_set.selections[0]  # type: ignore[attr-defined]
    leaf_type = SCHEMA._schema.get_type("ProbeLeaf")
    assert isinstance(leaf_type, GraphQLObjectType)
    name = compiled._Field(leaf_type, leaf.selection_set.selections[0], root=False)
    assert name.attribute == "name", "strawberry no longer marks basic fields' resolvers"


def test_a_strawberry_schema_keeps_its_graphql_schema_as_schema() -> None:
    # api.execution hands `schema._schema` to the plan cache
    assert isinstance(build_schema()._schema, GraphQLSchema)
