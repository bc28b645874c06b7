"""Query limits checked during validation, before any resolver touches Neo4j.

Depth and alias counts walk fragments as if they were inlined, so a fragment spread
many times is counted each time it is used (a classic way around naive limits).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

TOO_COMPLEX = {"code": "QUERY_TOO_COMPLEX"}


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
            context = self.context
            fragments = {
                d.name.value: d
                for d in context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
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
