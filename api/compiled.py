"""Compiled plans: a plain query answered without strawberry's general executor.

Why: approval systems send the same few plain query documents all day, and for each
check strawberry and graphql-core prepared the operation, ran the extension hooks,
built an executor and completed the result field by field. Measured at saturation
against the same API with plans off (interleaved bursts at 100k, 1M and 9.47M subjects),
plans cut the API's CPU per check from 1.00-1.11 ms to 0.81-0.84 ms, 17-24% of it.

What: a query document is compiled once, when first seen, into a plan of its root field
and the tree below it. Each request then coerces its variables, calls the root field's
own resolver (strawberry's wrapper, so argument conversion and our code run as they
would under strawberry), and completes the tree with a few closures that keep
graphql-core's rules: a non-null field that comes back null nulls its nearest nullable
ancestor, each error is located at its field with its path, leaves are coerced by their
GraphQL type. Only what a plan does exactly as graphql-core does is compiled: one query
operation selecting one root field, with no fragments, directives or abstract types, and
below the root only `__typename` and fields without arguments that are attribute reads
or synchronous resolvers without field extensions.

Where: `api.execution.execute_operation` is the one place that chooses between a plan
and strawberry; every other document, and every request whose variables do not coerce,
goes to strawberry there, as does everything when `CREDITLINK_COMPILED_QUERIES=false`.
`api.documents.DocumentCache.plan` remembers each valid operation's plan.

A plan builds strawberry's own resolve info and reads strawberry's field definitions,
so it relies on the internal names in `PRIVATE_NAMES` and the info layout in
`INFO_FIELDS`; pyproject.toml holds strawberry and graphql-core to the versions the
tests ran with. The tests that keep this honest: `tests/unit/test_private_names.py`
(every private name resolves, the info layout is strawberry's), `tests/unit/test_compiled.py`
(every completion rule, both ways), `tests/integration/test_compiled_queries.py` (every
query root field for every caller, against an app with plans off) and
`tests/integration/test_fuzz.py` (generated documents through both apps, whole
responses compared).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfoHelpers,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    Undefined,
    get_argument_values,
    get_variable_values,
    is_leaf_type,
    located_error,
)
from graphql.pyutils import Path, inspect, is_awaitable, is_iterable
from strawberry.resolvers import is_default_resolver
from strawberry.schema.schema import _OperationContextAwareGraphQLResolveInfo
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

# The names below strawberry's and graphql-core's public surface that plans (and
# api.limits, for the cost of asynchronous fields) rely on, as "module:attribute".
# tests/unit/test_private_names.py imports each and fails naming the one that moved.
PRIVATE_NAMES: Final = (
    "strawberry.schema.schema:_OperationContextAwareGraphQLResolveInfo",
    "strawberry.schema.schema_converter:GraphQLCoreConverter.DEFINITION_BACKREF",
    "strawberry.types.field:StrawberryField",
    "strawberry.resolvers:is_default_resolver",
)
# The resolve info's fields in the order `_Run.info` passes them: strawberry's own
# executor builds the same tuple (StrawberryGraphQLCoreExecutionContext.build_resolve_info).
INFO_FIELDS: Final = (
    "field_name",
    "field_nodes",
    "return_type",
    "parent_type",
    "path",
    "schema",
    "fragments",
    "root_value",
    "operation",
    "variable_values",
    "context",
    "is_awaitable",
    "abort_signal",
    "async_helpers",
    "operation_extensions",
)

# where strawberry keeps each GraphQL field's StrawberryField
_DEFINITION: Final = GraphQLCoreConverter.DEFINITION_BACKREF


class NotCompiled(Exception):
    """Why a document is served by strawberry instead (for tests and debugging)."""


class _Run:
    """One request's state: its errors, and what every resolver's info carries."""

    __slots__ = ("context", "errors", "pending", "plan", "variables")

    def __init__(self, plan: Plan, context: Any, variables: dict[str, Any]) -> None:
        self.plan = plan
        self.context = context
        self.variables = variables
        self.errors: list[GraphQLError] = []
        self.pending: list[asyncio.Future[Any]] = []

    def info(self, field: _Field, path: Path) -> Any:
        """The resolve info strawberry's executor would pass: positional, in INFO_FIELDS order."""
        plan = self.plan
        return _OperationContextAwareGraphQLResolveInfo(
            field.name,
            field.nodes,
            field.definition.type,
            field.parent,
            path,
            plan.schema,
            {},  # fragments: a compiled document has none
            None,  # root value: strawberry's default
            plan.operation,
            self.variables,
            self.context,
            is_awaitable,
            None,  # abort signal: none is given to strawberry either
            GraphQLResolveInfoHelpers(gather=_gather, track=self.track),
            None,  # type: ignore[arg-type]  # operation extensions: strawberry passes None too
        )

    def track(self, values: Sequence[Any]) -> None:
        self.pending.extend(asyncio.ensure_future(v) for v in values if is_awaitable(v))


async def _gather(values: Sequence[Awaitable[Any]]) -> list[Any]:
    return list(await asyncio.gather(*values))


Complete = Callable[[Any, Path, _Run], Any]


class _Field:
    """One selected field: how to get its value from its parent's, and complete it."""

    __slots__ = (
        "attribute",
        "complete",
        "definition",
        "key",
        "name",
        "nodes",
        "non_null",
        "parent",
        "read",
        "resolve",
    )

    def __init__(self, parent: GraphQLObjectType, node: FieldNode, *, root: bool) -> None:
        self.name = node.name.value
        self.key = node.alias.value if node.alias else self.name
        self.nodes = [node]
        self.parent = parent
        if node.directives:
            raise NotCompiled(f"{self.key}: directives")
        definition = parent.fields.get(self.name)
        if definition is None:
            raise NotCompiled(f"{self.key}: not a field of {parent.name}")
        self.definition: GraphQLField = definition
        self.non_null = isinstance(definition.type, GraphQLNonNull)
        self.resolve = definition.resolve
        self.attribute: str | None = None
        self.read: Callable[[Any, str], Any] = getattr
        strawberry_field = definition.extensions.get(_DEFINITION)
        if not isinstance(strawberry_field, StrawberryField):
            raise NotCompiled(f"{self.key}: not a strawberry field")
        if not root:
            problem = "arguments below the root" if node.arguments else below_root(definition)
            if problem is not None:
                raise NotCompiled(f"{self.key}: {problem}")
            if self.resolve is not None and is_default_resolver(self.resolve):
                # strawberry's own resolver for a basic field is exactly this read
                self.attribute = strawberry_field.python_name
                self.read = strawberry_field.default_resolver
        self.complete = _completer(definition.type, node, parent, self.name)

    def execute(self, source: Any, path: Path, run: _Run) -> Any:
        try:
            if self.attribute is not None:
                value = self.read(source, self.attribute)
            else:
                assert self.resolve is not None
                value = self.resolve(source, run.info(self, path))
                if is_awaitable(value):
                    _discard(value)
                    raise TypeError(f"{self.parent.name}.{self.name} returned an awaitable")
            return self.complete(value, path, run)
        except Exception as raw:
            return self.failed(raw, path, run)

    def failed(self, raw: Exception, path: Path, run: _Run) -> None:
        """graphql-core's `handle_field_error`: through a non-null field the located error
        goes on to the parent; a nullable field records it and is null."""
        error = located_error(raw, self.nodes, path.as_list())
        if self.non_null:
            raise error from None
        run.errors.append(error)


def below_root(definition: GraphQLField) -> str | None:
    """Why a plan cannot compile this field below the root, or None when it can."""
    strawberry_field = definition.extensions.get(_DEFINITION)
    if not isinstance(strawberry_field, StrawberryField):
        return "not a strawberry field"
    if definition.args:
        return "arguments below the root"
    if strawberry_field.extensions or strawberry_field.is_async:
        return "an asynchronous or extended resolver"
    return None


class _TypeName:
    """`__typename` below the root (front-end clients add it to every selection)."""

    __slots__ = ("key", "name")

    def __init__(self, parent: GraphQLObjectType, node: FieldNode) -> None:
        if node.directives:
            raise NotCompiled("__typename: directives")
        self.key = node.alias.value if node.alias else node.name.value
        self.name = parent.name

    def execute(self, source: Any, path: Path, run: _Run) -> str:
        return self.name


def _discard(value: Any) -> None:
    close = getattr(value, "close", None)
    if close is not None:
        close()


def _completer(
    type_: GraphQLOutputType, node: FieldNode, parent: GraphQLObjectType, name: str
) -> Complete:
    """graphql-core's `complete_value` for `type_`, decided once instead of per value."""
    if isinstance(type_, GraphQLNonNull):
        return _non_null(_completer(type_.of_type, node, parent, name), parent, name)
    if isinstance(type_, GraphQLList):
        return _list(type_, node, parent, name)
    if is_leaf_type(type_):
        return _leaf(type_)
    if isinstance(type_, GraphQLObjectType) and type_.is_type_of is None:
        return _object(type_, node)
    raise NotCompiled(f"{name}: {type_} is abstract or checks its runtime type")


def _non_null(inner: Complete, parent: GraphQLObjectType, name: str) -> Complete:
    message = f"Cannot return null for non-nullable field {parent}.{name}."

    def complete_non_null(value: Any, path: Path, run: _Run) -> Any:
        if isinstance(value, Exception):
            raise value
        completed = inner(value, path, run)
        if completed is None:
            raise TypeError(message)
        return completed

    return complete_non_null


def _list(
    type_: GraphQLList[Any], node: FieldNode, parent: GraphQLObjectType, name: str
) -> Complete:
    item = _completer(type_.of_type, node, parent, name)
    item_non_null = isinstance(type_.of_type, GraphQLNonNull)
    nodes = [node]
    message = f"Expected Iterable, but did not find one for field '{parent}.{name}'."

    def complete_list(value: Any, path: Path, run: _Run) -> Any:
        if not _given(value):
            return None
        if not is_iterable(value):
            raise GraphQLError(message)
        completed: list[Any] = []
        for index, entry in enumerate(value):
            entry_path = path.add_key(index, None)
            try:
                completed.append(item(entry, entry_path, run))
            except Exception as raw:
                error = located_error(raw, nodes, entry_path.as_list())
                if item_non_null:
                    raise error from None
                run.errors.append(error)
                completed.append(None)
        return completed

    return complete_list


def _given(value: Any) -> bool:
    """graphql-core's first steps for every value: an exception is raised, null is null."""
    if isinstance(value, Exception):
        raise value
    return value is not None and value is not Undefined


def _leaf(type_: Any) -> Complete:
    coerce = type_.coerce_output_value

    def complete_leaf(value: Any, path: Path, run: _Run) -> Any:
        if not _given(value):
            return None
        coerced = coerce(value)
        if coerced is Undefined or coerced is None:
            raise TypeError(
                f"Expected `{inspect(type_)}.coerce_output_value({inspect(value)})`"
                f" to return non-nullable value, returned: {inspect(coerced)}"
            )
        return coerced

    return complete_leaf


def _object(type_: GraphQLObjectType, node: FieldNode) -> Complete:
    if node.selection_set is None:
        raise NotCompiled(f"{node.name.value}: no selection")
    fields: list[_Field | _TypeName] = []
    for selection in node.selection_set.selections:
        if not isinstance(selection, FieldNode):
            raise NotCompiled(f"{node.name.value}: fragments")
        if selection.name.value == "__typename":
            fields.append(_TypeName(type_, selection))
        else:
            fields.append(_Field(type_, selection, root=False))
    if len({f.key for f in fields}) != len(fields):
        raise NotCompiled(f"{node.name.value}: a response key selected twice")
    type_name = type_.name

    def complete_object(value: Any, path: Path, run: _Run) -> Any:
        if not _given(value):
            return None
        return {f.key: f.execute(value, path.add_key(f.key, type_name), run) for f in fields}

    return complete_object


class Plan:
    """A compiled query: its one root field and the tree below it."""

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
    ) -> None:
        if operation.operation is not OperationType.QUERY:
            raise NotCompiled("not a query")
        if operation.directives or any(v.directives for v in operation.variable_definitions or ()):
            raise NotCompiled("directives on the operation")
        if any(isinstance(d, FragmentDefinitionNode) for d in document.definitions):
            raise NotCompiled("fragments")
        query_type = schema.query_type
        selections = operation.selection_set.selections
        if query_type is None or len(selections) != 1:
            raise NotCompiled("not exactly one root field")
        node = selections[0]
        if not isinstance(node, FieldNode) or node.name.value.startswith("__"):
            raise NotCompiled("the root selection is not a plain field")
        self.schema = schema
        self.operation = operation
        self.root = _Field(query_type, node, root=True)

    async def execute(
        self, context: Any, variables: dict[str, Any] | None
    ) -> ExecutionResult | None:
        """The answer, or None when the variables do not coerce (strawberry reports them)."""
        coerced = get_variable_values(
            self.schema, self.operation.variable_definitions or (), variables or {}
        )
        if isinstance(coerced, list):
            return None
        run = _Run(self, context, coerced.coerced)
        root = self.root
        path = Path(None, root.key, root.parent.name)
        data: dict[str, Any] | None
        try:
            data = {root.key: await self._execute_root(root, coerced, path, run)}
        except GraphQLError as error:
            run.errors.append(error)
            data = None
        if run.pending:
            await asyncio.gather(*run.pending, return_exceptions=True)
        return ExecutionResult(data, run.errors or None)

    async def _execute_root(self, root: _Field, coerced: Any, path: Path, run: _Run) -> Any:
        node = root.nodes[0]
        try:
            args = (
                get_argument_values(root.definition, node, coerced)
                if root.definition.args or node.arguments
                else {}
            )
            assert root.resolve is not None
            value = root.resolve(None, run.info(root, path), **args)
            if is_awaitable(value):
                value = await value
            return root.complete(value, path, run)
        except Exception as raw:
            return root.failed(raw, path, run)


def compile_plan(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> Plan | None:
    """The operation's plan, or None when it must go through strawberry."""
    try:
        return Plan(schema, document, operation)
    except NotCompiled:
        return None
