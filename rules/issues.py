"""Problems found in a catalogue, each pointing at a file and line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Code(StrEnum):
    # reading YAML
    YAML_SYNTAX = "yaml-syntax"
    DUPLICATE_KEY = "duplicate-key"
    UNKNOWN_SECTION = "unknown-section"
    EMPTY_CATALOGUE = "empty-catalogue"
    # the shape of one item
    MISSING_FIELD = "missing-field"
    WRONG_TYPE = "wrong-type"
    BAD_VALUE = "bad-value"
    UNKNOWN_FIELD = "unknown-field"
    # references and rules between items
    DUPLICATE_ID = "duplicate-id"
    UNKNOWN_AREA = "unknown-area"
    UNKNOWN_ROLE = "unknown-role"
    UNKNOWN_DEPARTMENT = "unknown-department"
    NOT_A_DEPARTMENT = "not-a-department"
    UNKNOWN_LIST_TYPE = "unknown-list-type"
    UNKNOWN_RELATION = "unknown-relation"
    UNKNOWN_LINK_ROLE = "unknown-link-role"
    MISSING_LEGAL_BASIS = "missing-legal-basis"
    ROLE_TOO_DEEP = "role-too-deep"
    VIA_CYCLE = "via-cycle"
    ROLE_BEYOND_BASIS = "role-beyond-basis"
    INCENTIVE_ON_NON_RED_LIST = "incentive-on-non-red-list"
    PUNITIVE_ON_RED_LIST = "punitive-on-red-list"
    LOCAL_JURISDICTION_INCOMPLETE = "local-jurisdiction-incomplete"
    LOCAL_JURISDICTION_COUNT = "local-jurisdiction-count"
    DUPLICATE_DEPARTMENT_PREFIX = "duplicate-department-prefix"
    DEPARTMENT_PREFIX = "department-prefix"
    # the catalogue against the instance that runs it
    JURISDICTION_MISMATCH = "jurisdiction-mismatch"


@dataclass(frozen=True, order=True)
class Issue:
    file: str
    line: int
    code: Code
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.code}: {self.message}"


class CatalogueInvalid(Exception):
    """The catalogue has problems; `issues` lists every one found, in file order."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues: tuple[Issue, ...] = tuple(issues)
        lines = "\n".join(str(issue) for issue in self.issues)
        super().__init__(f"{len(self.issues)} problem(s) in the rules catalogue:\n{lines}")
