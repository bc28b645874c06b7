"""Query limits checked before any resolver touches Neo4j.

Depth and alias counts (a validation rule) walk fragments as if they were inlined, so a
fragment spread many times is counted each time it is used (a classic way around naive
limits). List and page sizes are checked on the parsed request with its variables
(`check_argument_sizes`, called by `api.http`), and WebSocket connections are capped in
the number of operations they run at once (`LimitedTransportWSHandler`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage

TOO_COMPLEX = {"code": "QUERY_TOO_COMPLEX"}


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _walk(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    depth: int,
    seen: frozenset[str],
) -> tuple[int, int]:
    """(max depth, alias count) below this selection set."""
    if selection_set is None:
        return depth, 0
    deepest, aliases = depth, 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.alias is not None:
                aliases += 1
            d, a = _walk(selection.selection_set, fragments, depth + 1, seen)
        elif isinstance(selection, InlineFragmentNode):
            d, a = _walk(selection.selection_set, fragments, depth, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in seen:  # cycles are reported by graphql's own rule
                continue
            d, a = _walk(fragment.selection_set, fragments, depth, seen | {name})
        else:
            continue
        deepest = max(deepest, d)
        aliases += a
    return deepest, aliases


def limits_rule(max_depth: int, max_aliases: int) -> type[ASTValidationRule]:
    class QueryLimits(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
            fragments = _fragments(self.context.document)
            depth, aliases = _walk(node.selection_set, fragments, 0, frozenset())
            name = node.name.value if node.name else "anonymous"
            if depth > max_depth:
                self.report_error(
                    GraphQLError(
                        f"operation {name!r} is {depth} levels deep; the limit is {max_depth}",
                        node,
                        extensions=TOO_COMPLEX,
                    )
                )
            if aliases > max_aliases:
                self.report_error(
                    GraphQLError(
                        f"operation {name!r} uses {aliases} aliases; the limit is {max_aliases}",
                        node,
                        extensions=TOO_COMPLEX,
                    )
                )

    return QueryLimits


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
                if isinstance(first, int) and not 0 <= first <= max_page:
                    return f"{where}: page size {first}; between 0 and {max_page}"
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


# -- subscriptions per WebSocket connection ---------------------------------------------------


class LimitedTransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """strawberry's graphql-transport-ws handler, with the contract's error code on its cap.

    strawberry already refuses operations beyond `max_subscriptions_per_connection`, but its
    error carries no `extensions.code`; this one says QUERY_TOO_COMPLEX and what the cap is.
    """

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        cap = self.max_subscriptions_per_connection
        if (
            self.connection_acknowledged
            and cap is not None
            and message["id"] not in self.operations
            and len(self.operations) >= cap
        ):
            await self.send_message(
                {
                    "id": message["id"],
                    "type": "error",
                    "payload": [
                        {
                            "message": f"at most {cap} subscriptions per connection",
                            "extensions": dict(TOO_COMPLEX),
                        }
                    ],
                }
            )
            return
        await super().handle_subscribe(message)
