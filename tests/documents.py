"""Fragment-heavy GraphQL documents for property tests, and a naive expansion to check
the query limits against.

The documents are built over the real schema's catalogue fields (`departments`,
`listTypes { measures { implementers } }`, `__typename`), so they validate and run, and
their fragments form random DAGs that spread each other several times: the shape that
makes a walker without memory exponential.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from hypothesis import strategies as st

# leaf-or-nested selections on Query, each a small valid piece
_QUERY_PIECES = (
    "__typename",
    "departments { id }",
    "departments { id name }",
    "listTypes { id kind }",
    "listTypes { id measures { id effect } }",
    "listTypes { measures { implementers { id } } }",
    "jurisdictions { id local }",
)


def doubling_document(fragments: int) -> str:
    """The review's document: F0 spreads F1 twice, F1 spreads F2 twice, … — 2^n expanded
    selections in about 10·n tokens."""
    lines = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(fragments)]
    lines.append(f"fragment F{fragments} on Query {{ __typename }}")
    return "query Doubling { ...F0 }\n" + "\n".join(lines)


@st.composite
def fragment_dags(draw: st.DrawFn, max_fragments: int = 12) -> str:
    """A query over a random DAG of fragments on Query: each fragment holds a few pieces
    (some aliased) and spreads later fragments, often more than once."""
    count = draw(st.integers(1, max_fragments))
    bodies: list[str] = []
    for index in range(count):
        parts: list[str] = []
        for _ in range(draw(st.integers(0, 3))):
            piece = draw(st.sampled_from(_QUERY_PIECES))
            if draw(st.booleans()) and not piece.startswith("__"):
                piece = f"a{index}_{len(parts)}: {piece}"
            parts.append(piece)
        later = range(index + 1, count)
        if later:
            for _ in range(draw(st.integers(0, 3))):
                target = draw(st.sampled_from(list(later)))
                spread = f"...G{target}"
                if draw(st.integers(0, 4)) == 0:
                    spread = f"... on Query {{ {spread} }}"
                parts.append(spread)
        if not parts:
            parts.append("__typename")
        bodies.append(f"fragment G{index} on Query {{ {' '.join(parts)} }}")
    roots = " ".join("...G0" for _ in range(draw(st.integers(1, 3))))
    return f"query Dag {{ {roots} }}\n" + "\n".join(bodies)


@dataclass
class Expanded:
    depth: int = 0
    aliases: int = 0
    selections: int = 0


def expand(document: DocumentNode) -> Expanded:
    """Depth, aliases and selections of the document's one operation, by inlining every
    spread literally: exponential, so only for small documents (the reference the
    memoised walk is checked against)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))

    def walk(selection_set: SelectionSetNode, depth: int, total: Expanded) -> int:
        deepest = depth
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total.selections += 1
                total.aliases += selection.alias is not None
                below = depth + 1
                if selection.selection_set is not None:
                    below = walk(selection.selection_set, depth + 1, total)
                if selection.name.value in ("__schema", "__type"):
                    below = depth + 1  # introspection has a depth rule of its own
                deepest = max(deepest, below)
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, walk(selection.selection_set, depth, total))
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments[selection.name.value]
                deepest = max(deepest, walk(fragment.selection_set, depth, total))
        return deepest

    total = Expanded()
    total.depth = walk(operation.selection_set, 0, total)
    return total


def selection_nodes(document: DocumentNode) -> int:
    """Selections written in the document (each fragment's once): its size to the walk."""
    count = 0
    pending: list[SelectionSetNode] = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            pending.append(definition.selection_set)
    while pending:
        selection_set = pending.pop()
        for selection in selection_set.selections:
            count += 1
            inner = getattr(selection, "selection_set", None)
            if inner is not None:
                pending.append(inner)
    return count
