"""The catalogue as read from YAML, before validation: plain values plus where each came from.

PyYAML's composed node tree carries a start mark for every node; walking it ourselves
(instead of `yaml.safe_load`) keeps the line of every key and list element and lets us
report a key given twice in one mapping, which `safe_load` silently overwrites.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rules.issues import Code, Issue


class Section(StrEnum):
    """Top-level keys of a catalogue file; any file may hold any of them."""

    AREAS = "areas"
    DEPARTMENTS = "departments"
    ROLES = "roles"
    LIST_TYPES = "list_types"
    MEASURES = "measures"
    JURISDICTIONS = "jurisdictions"

    @property
    def noun(self) -> str:
        return self.value.removesuffix("s").replace("_", " ")


def _key(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path)


@dataclass(frozen=True)
class RawItem:
    """One entry of a section: its plain data and the line of every key and element in it."""

    section: Section
    file: str
    line: int
    data: Mapping[str, Any]
    lines: Mapping[str, int]

    @property
    def id(self) -> str | None:
        value = self.data.get("id")
        return value if isinstance(value, str) else None

    @property
    def label(self) -> str:
        return f"{self.section.noun} {self.id or '(without id)'}"

    def line_of(self, *path: str | int) -> int:
        """The line of the deepest part of `path` that exists, else the item's own line."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(_key(path[:end]))
            if line is not None:
                return line
        return self.line

    def issue(self, code: Code, message: str, *path: str | int) -> Issue:
        return Issue(self.file, self.line_of(*path), code, f"{self.label}: {message}")

    def text(self, name: str) -> str | None:
        value = self.data.get(name)
        return value if isinstance(value, str) else None

    def strings(self, name: str) -> Iterator[tuple[int, str]]:
        """(index, value) of the string elements of list field `name`; others are skipped
        because the shape check reports them."""
        values = self.data.get(name)
        if isinstance(values, list):
            yield from ((i, v) for i, v in enumerate(values) if isinstance(v, str))

    def references(self, name: str) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """(path, id) of every id that field `name` names, as one string or a list of them."""
        value = self.data.get(name)
        if isinstance(value, str):
            yield (name,), value
        for index, element in self.strings(name):
            yield (name, index), element

    def mappings(self, name: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
        values = self.data.get(name)
        if isinstance(values, list):
            yield from ((i, v) for i, v in enumerate(values) if isinstance(v, dict))


@dataclass(frozen=True)
class RawCatalogue:
    items: tuple[RawItem, ...]
    read_issues: tuple[Issue, ...] = ()
    source: str = ""  # the directory read, for a problem of the whole catalogue
    _ids: dict[Section, dict[str, RawItem]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ids: dict[Section, dict[str, RawItem]] = {section: {} for section in Section}
        for item in self.items:
            if item.id is not None:
                ids[item.section].setdefault(item.id, item)
        object.__setattr__(self, "_ids", ids)

    def section(self, section: Section) -> list[RawItem]:
        return [item for item in self.items if item.section is section]

    def ids(self, section: Section) -> Mapping[str, RawItem]:
        """Each id of `section` with its first definition (later ones are duplicates)."""
        return self._ids[section]


class _Reader:
    def __init__(self, file: str, loader: yaml.SafeLoader) -> None:
        self.file = file
        self.loader = loader
        self.issues: list[Issue] = []

    def issue(self, node: Node, code: Code, message: str) -> None:
        self.issues.append(Issue(self.file, node.start_mark.line + 1, code, message))

    def document(self, root: Node) -> list[RawItem]:
        if not isinstance(root, MappingNode):
            self.issue(root, Code.WRONG_TYPE, "a catalogue file is a mapping of sections")
            return []
        items: list[RawItem] = []
        for key_node, value_node in root.value:
            name = self.scalar(key_node)
            if name not in set(Section):
                self.issue(
                    key_node,
                    Code.UNKNOWN_SECTION,
                    f"unknown section {name!r}; expected one of {', '.join(Section)}",
                )
                continue
            section = Section(name)
            if not isinstance(value_node, SequenceNode):
                self.issue(value_node, Code.WRONG_TYPE, f"section {section} must be a list")
                continue
            for element in value_node.value:
                if not isinstance(element, MappingNode):
                    self.issue(element, Code.WRONG_TYPE, f"a {section.noun} must be a mapping")
                    continue
                lines: dict[str, int] = {}
                data = self.plain(element, (), lines, frozenset())
                line = element.start_mark.line + 1
                items.append(RawItem(section, self.file, line, data, lines))
        return items

    def scalar(self, node: Node) -> Any:
        return self.loader.construct_object(node) if isinstance(node, ScalarNode) else None

    def plain(
        self,
        node: Node,
        path: tuple[str | int, ...],
        lines: dict[str, int],
        open_nodes: frozenset[int],
    ) -> Any:
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if id(node) in open_nodes:
            # an alias to one of its own ancestors would make the walk endless
            self.issue(node, Code.WRONG_TYPE, "a value may not contain itself")
            return None
        inner = open_nodes | {id(node)}
        if isinstance(node, SequenceNode):
            values = []
            for index, child in enumerate(node.value):
                lines[_key((*path, index))] = child.start_mark.line + 1
                values.append(self.plain(child, (*path, index), lines, inner))
            return values
        assert isinstance(node, MappingNode)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node)
            if not isinstance(key, str):
                self.issue(key_node, Code.WRONG_TYPE, "keys must be plain names")
                continue
            if key in mapping:
                self.issue(key_node, Code.DUPLICATE_KEY, f"key {key!r} is given twice")
                continue
            lines[_key((*path, key))] = key_node.start_mark.line + 1
            mapping[key] = self.plain(value_node, (*path, key), lines, inner)
        return mapping


def read_yaml(text: str, file: str) -> tuple[list[RawItem], list[Issue]]:
    """Items and reading problems of one catalogue file; `file` is the name issues show."""
    loader = yaml.SafeLoader(text)
    reader = _Reader(file, loader)
    try:
        root = loader.get_single_node()
        items = reader.document(root) if root is not None else []
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        return [], [Issue(file, line, Code.YAML_SYNTAX, problem or "not valid YAML")]
    except yaml.YAMLError as exc:
        return [], [Issue(file, 1, Code.YAML_SYNTAX, str(exc))]
    finally:
        loader.dispose()
    return items, reader.issues
