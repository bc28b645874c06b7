"""Query limits checked before any resolver touches Neo4j, and before graphql-core's own
validation rules run.

Depth, aliases, selections, cost and repeated response keys are measured with every
fragment spread expanded, so a fragment spread many times counts each time it is used (a
classic way around naive limits). Each selection set, a fragment's among them, is
measured once and remembered, so measuring stays linear in the document's size however
its spreads multiply. List and page sizes are checked on the parsed request with its
variables (`check_argument_sizes`), for HTTP and WebSocket alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    ValueNode,
    VariableNode,
    get_named_type,
)
from graphql.validation import MaxIntrospectionDepthRule
from strawberry.schema.schema_converter import GraphQLCoreConverter

if TYPE_CHECKING:
    from api.settings import Settings

TOO_COMPLEX = {"code": "QUERY_TOO_COMPLEX"}
INTROSPECTION_ROOTS: Final = frozenset({"__schema", "__type"})
# where strawberry keeps each GraphQL field's StrawberryField (whose resolver may be async)
_DEFINITION: Final = GraphQLCoreConverter.DEFINITION_BACKREF


@dataclass(frozen=True)
class QueryLimits:
    """What one operation may ask for, counted with every fragment spread expanded."""

    max_depth: int = 12
    max_aliases: int = 30
    max_selections: int = 2000
    max_cost: int = 200
    # One response key selected more often than this in one selection set (through
    # fragments too) is refused: graphql-core's OverlappingFieldsCanBeMerged compares
    # every pair of them, so 500 copies of `departments { id }` cost it most of a second.
    max_repeats: int = 20

    @classmethod
    def of(cls, settings: Settings) -> QueryLimits:
        """The limits the deployment's settings set (`max_repeats` is not one of them)."""
        return cls(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_selections=settings.max_selections,
            max_cost=settings.max_cost,
        )


# What a field costs a request, once per selection with fragments expanded (so aliases
# and repeated spreads multiply it). Root fields not named here cost 1; a field below
# the root costs 1 when its resolver is asynchronous (it reads Neo4j), else nothing.
FIELD_COSTS: dict[str, int] = {
    "Query.riskClusters": 100,
    "Query.exportNeighbourhood": 100,
    "Query.relatedParties": 20,
    "Query.ultimateBeneficialOwners": 20,
    "Query.actualController": 20,
    "Query.sanctionImpact": 20,
    "Query.sanctionImpactPreview": 20,
    "Query.replayInspectionDraw": 20,
    "Mutation.drawInspections": 20,
    "Query.suspectedLinks": 10,
    "Query.riskProfile": 10,
    "Query.batchCheck": 10,
    "Query.linkageStats": 10,
    "Query.searchSubjects": 5,
    "Query.creditRating": 5,
    "Query.creditRatingHistory": 5,
    "Query.integrityScore": 5,
    "Query.integrityBenefits": 5,
    "Query.publicCreditSummary": 5,
    "Query.sanctionFeed": 10,
}

# fields whose pages may be larger than CREDITLINK_MAX_PAGE: machine-to-machine reads that
# move many small rows (a partner catching up on a feed)
LARGE_PAGES: dict[str, int] = {"sanctionFeed": 5000}


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


@dataclass
class Measures:
    """One selection set's measures with its fragments expanded. Each is capped at its
    limit + 1: past the limit only "over" matters, and a document of doubling spreads
    would otherwise count in the trillions."""

    depth: int = 0
    aliases: int = 0
    selections: int = 0
    cost: int = 0
    keys: dict[str, int] = dataclasses.field(default_factory=dict)  # response keys at this level


_EMPTY: Final = Measures()


@dataclass(frozen=True)
class _Set:
    """A selection set and the type its fields are looked up on (None when unknown)."""

    node: SelectionSetNode
    parent: GraphQLNamedType | None


class _Walk:
    """Measures the operations of one document.

    Iterative (no recursion limit), post-order over selection sets, each measured once;
    it stops at the first set over a count limit, which puts the operation over it too
    since every count only grows towards the root.
    """

    def __init__(
        self, schema: GraphQLSchema | None, document: DocumentNode, limits: QueryLimits
    ) -> None:
        self.schema = schema
        self.fragments = _fragments(document)
        self.limits = limits
        self.measured: dict[int, Measures] = {}
        self.visits = 0  # selections combined: the walk's work, which tests bound

    def operation(self, operation: OperationDefinitionNode) -> str | None:
        """Why the operation is over a limit, or None."""
        root = self.schema.get_root_type(operation.operation) if self.schema else None
        start = _Set(operation.selection_set, root)
        opened: set[int] = set()
        stack: list[tuple[_Set, bool]] = [(start, False)]
        while stack:
            item, children_done = stack.pop()
            key = id(item.node)
            if key in self.measured:
                continue
            if not children_done:
                opened.add(key)
                stack.append((item, True))
                for child in self._children(item):
                    # a set still open is a fragment cycle: graphql's NoFragmentCycles
                    # reports it, and here it counts as empty
                    if id(child.node) not in self.measured and id(child.node) not in opened:
                        stack.append((child, False))
                continue
            measures = self._combine(item)
            self.measured[key] = measures
            # depth only at the root: a fragment under `__schema` may be deep on its own
            problem = self._problem(measures, depth=item.node is start.node)
            if problem is not None:
                return problem
        return None

    def _children(self, item: _Set) -> Iterator[_Set]:
        for selection in item.node.selections:
            if isinstance(selection, FieldNode):
                if selection.selection_set is not None:
                    definition = _field(item.parent, selection.name.value)
                    below = get_named_type(definition.type) if definition else None
                    yield _Set(selection.selection_set, below)
            elif isinstance(selection, InlineFragmentNode):
                yield _Set(selection.selection_set, self._condition(selection, item))
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    yield _Set(fragment.selection_set, self._condition(fragment, item))

    def _combine(self, item: _Set) -> Measures:
        limits = self.limits
        total = Measures()
        for selection in item.node.selections:
            self.visits += 1
            if isinstance(selection, FieldNode):
                name = selection.name.value
                response_key = selection.alias.value if selection.alias else name
                total.keys[response_key] = total.keys.get(response_key, 0) + 1
                below = (
                    self.measured.get(id(selection.selection_set), _EMPTY)
                    if selection.selection_set is not None
                    else _EMPTY
                )
                # introspection's own depth is bounded by MaxIntrospectionDepthRule, which
                # runs with these limits; counted here, GraphiQL's schema query would fail
                nested = 0 if name in INTROSPECTION_ROOTS else below.depth
                total.depth = max(total.depth, 1 + nested)
                _add(total, below, limits, 1, int(selection.alias is not None))
                total.cost = min(total.cost + self._cost(item.parent, name), limits.max_cost + 1)
                continue
            if isinstance(selection, InlineFragmentNode):
                inner = self.measured.get(id(selection.selection_set), _EMPTY)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                inner = (
                    self.measured.get(id(fragment.selection_set), _EMPTY) if fragment else _EMPTY
                )
            else:
                continue
            total.depth = max(total.depth, inner.depth)
            _add(total, inner, limits, 0, 0)
            cap = limits.max_repeats + 1
            for key, count in inner.keys.items():
                total.keys[key] = min(total.keys.get(key, 0) + count, cap)
        total.depth = min(total.depth, limits.max_depth + 1)
        return total

    def _problem(self, measures: Measures, *, depth: bool) -> str | None:
        limits = self.limits
        if depth and measures.depth > limits.max_depth:
            levels = _count(measures.depth, limits.max_depth)
            return f"is {levels} levels deep; the limit is {limits.max_depth}"
        if measures.aliases > limits.max_aliases:
            aliases = _count(measures.aliases, limits.max_aliases)
            return f"uses {aliases} aliases; the limit is {limits.max_aliases}"
        if measures.selections > limits.max_selections:
            selections = _count(measures.selections, limits.max_selections)
            return (
                f"selects {selections} fields with its fragments expanded; "
                f"the limit is {limits.max_selections}"
            )
        if measures.cost > limits.max_cost:
            cost = _count(measures.cost, limits.max_cost)
            return (
                f"costs {cost} (expensive and personal fields, every alias and spread "
                f"counted); the limit is {limits.max_cost}"
            )
        for key, count in measures.keys.items():
            if count > limits.max_repeats:
                times = _count(count, limits.max_repeats)
                return (
                    f"selects {key[:40]!r} {times} times in one selection set; "
                    f"the limit is {limits.max_repeats}"
                )
        return None

    def _condition(
        self, node: InlineFragmentNode | FragmentDefinitionNode, around: _Set
    ) -> GraphQLNamedType | None:
        if node.type_condition is None:
            return around.parent
        return self.schema.get_type(node.type_condition.name.value) if self.schema else None

    def _cost(self, parent: GraphQLNamedType | None, name: str) -> int:
        if parent is None or name.startswith("__"):
            return 0
        explicit = FIELD_COSTS.get(f"{parent.name}.{name}")
        if explicit is not None:
            return explicit
        schema = self.schema
        if schema is not None and parent in (
            schema.query_type,
            schema.mutation_type,
            schema.subscription_type,
        ):
            return 1
        definition = _field(parent, name)
        resolver = definition.extensions.get(_DEFINITION) if definition else None
        return 1 if getattr(resolver, "is_async", False) else 0


def _field(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def _add(total: Measures, inner: Measures, limits: QueryLimits, fields: int, aliases: int) -> None:
    total.selections = min(total.selections + inner.selections + fields, limits.max_selections + 1)
    total.aliases = min(total.aliases + inner.aliases + aliases, limits.max_aliases + 1)
    total.cost = min(total.cost + inner.cost, limits.max_cost + 1)


def _count(value: int, limit: int) -> str:
    """A measure capped at limit + 1 is only known to be over the limit."""
    return f"more than {limit}" if value > limit else str(value)


def over_limits(
    schema: GraphQLSchema | None,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    limits: QueryLimits,
) -> tuple[str | None, int]:
    """Why `operation` is over a limit (None when it is not), and the walk's visits."""
    walk = _Walk(schema, document, limits)
    return walk.operation(operation), walk.visits


def limits_rules(limits: QueryLimits) -> tuple[type[ASTValidationRule], ...]:
    """The rules a document must pass before graphql-core's specified rules see it."""
    return (limits_rule(limits), MaxIntrospectionDepthRule)


def limits_rule(limits: QueryLimits) -> type[ASTValidationRule]:
    """The limits as a validation rule: one QUERY_TOO_COMPLEX error per operation over them."""

    class QueryLimitsRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_args: Any) -> None:
            walk = _Walk(self.context.schema, node, limits)  # one memo for every operation
            for definition in node.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                problem = walk.operation(definition)
                if problem is not None:
                    name = definition.name.value if definition.name else "anonymous"
                    self.report_error(
                        GraphQLError(
                            f"operation {name!r} {problem}", definition, extensions=TOO_COMPLEX
                        )
                    )

    return QueryLimitsRule


# -- sizes of argument values, checked on the parsed request before execution ----------------


def select_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The operation a request runs, as GraphQL picks it; None when there is no such one."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    for operation in operations:
        if operation.name is not None and operation.name.value == operation_name:
            return operation
    return None


def _fields(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    *,
    deep: bool,
) -> Iterator[FieldNode]:
    """The fields selected, through inline fragments and each named fragment once;
    `deep` goes on into the fields' own selections (iterative: no recursion limit)."""
    pending: list[SelectionSetNode] = [selection_set]
    seen: set[str] = set()
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                yield selection
                if deep and selection.selection_set is not None:
                    pending.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None and fragment.name.value not in seen:
                    seen.add(fragment.name.value)
                    pending.append(fragment.selection_set)


def root_field_names(document: DocumentNode, operation: OperationDefinitionNode) -> list[str]:
    """The root fields an operation selects (names, not aliases), fragments included."""
    names: list[str] = []
    for field in _fields(operation.selection_set, _fragments(document), deep=False):
        if field.name.value not in names:
            names.append(field.name.value)
    return names


def _oversized_json(value: Any, max_items: int, where: str) -> str | None:
    """The path of the first list longer than max_items in a JSON value (iterative)."""
    stack: list[tuple[str, Any]] = [(where, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, list):
            if len(item) > max_items:
                return f"{path}: {len(item)} items; at most {max_items}"
            stack.extend((f"{path}[{n}]", x) for n, x in enumerate(item))
        elif isinstance(item, dict):
            stack.extend((f"{path}.{k}", x) for k, x in item.items())
    return None


def _literal_int(node: ValueNode, variables: dict[str, Any]) -> Any:
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, VariableNode):
        return variables.get(node.name.value)
    return None


def check_argument_sizes(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any] | None,
    *,
    max_items: int,
    max_page: int,
) -> str | None:
    """A message when any list argument (literal or variable) has more than `max_items`
    items, or a `first` page size is outside 0..max_page; None when all fit.

    Resolvers check their own limits too; this answers before any resolver runs, for every
    field, including ones added later, and costs one walk over the document.
    """
    values = variables or {}
    problem = _oversized_json(values, max_items, "variables")
    if problem is not None:
        return problem
    for field in _fields(operation.selection_set, _fragments(document), deep=True):
        for argument in field.arguments or ():
            where = f"{field.name.value}({argument.name.value})"
            if argument.name.value == "first":
                first = _literal_int(argument.value, values)
                limit = max(max_page, LARGE_PAGES.get(field.name.value, 0))
                if isinstance(first, int) and not 0 <= first <= limit:
                    return f"{where}: page size {first}; between 0 and {limit}"
            nodes: list[ValueNode] = [argument.value]
            while nodes:
                node = nodes.pop()
                if isinstance(node, ListValueNode):
                    if len(node.values) > max_items:
                        return f"{where}: {len(node.values)} items; at most {max_items}"
                    nodes.extend(node.values)
                elif isinstance(node, ObjectValueNode):
                    nodes.extend(f.value for f in node.fields)
    return None
