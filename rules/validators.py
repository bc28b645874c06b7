"""Catalogue validators: one rule each, all run, every problem reported with file and line.

Validators read the raw catalogue, not the models, so one defective item does not hide
the problems of the others; they skip values of the wrong type, which `FieldShapes`
reports once.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import ClassVar

from pydantic import BaseModel, ValidationError

from domain.vocabulary import PUNITIVE_EFFECTS, ROLE_VALUES, Effect, ListKind, Rel
from rules.issues import Code, Issue
from rules.models import (
    DEPARTMENT_PREFIX_PATTERN,
    MAX_ROLE_DEPTH,
    Area,
    Department,
    Jurisdiction,
    ListType,
    Measure,
    Role,
)
from rules.raw import RawCatalogue, RawItem, Section

MODEL_OF: dict[Section, type[BaseModel]] = {
    Section.AREAS: Area,
    Section.DEPARTMENTS: Department,
    Section.ROLES: Role,
    Section.LIST_TYPES: ListType,
    Section.MEASURES: Measure,
    Section.JURISDICTIONS: Jurisdiction,
}


class Validator(ABC):
    """One rule over the whole raw catalogue."""

    @abstractmethod
    def check(self, raw: RawCatalogue) -> Iterable[Issue]: ...


# pydantic error types that mean "right type, value not allowed" rather than "wrong type"
_VALUE_ERRORS = frozenset(
    {"enum", "literal_error", "too_short", "too_long", "string_too_short", "greater_than"}
    | {"greater_than_equal", "less_than", "less_than_equal", "string_pattern_mismatch"}
)


class FieldShapes(Validator):
    """Required fields present, values of the right type, no unknown fields."""

    # Fields whose every problem a dedicated validator reports under a more telling code
    # (list indices written as "*").
    REPORTED_ELSEWHERE: ClassVar[frozenset[tuple[Section, str]]] = frozenset(
        {
            (Section.MEASURES, "legal_basis"),  # MissingLegalBasis
            (Section.LIST_TYPES, "legal_basis"),  # MissingLegalBasis
            (Section.ROLES, "steps.*.relations.*"),  # UnknownRelations
        }
    )

    def check(self, raw: RawCatalogue) -> Iterator[Issue]:
        for item in raw.items:
            try:
                MODEL_OF[item.section].model_validate(dict(item.data))
            except ValidationError as exc:
                for error in exc.errors():
                    issue = self._issue(item, error["loc"], error["type"], error["msg"])
                    if issue is not None:
                        yield issue

    def _issue(
        self, item: RawItem, loc: tuple[int | str, ...], kind: str, msg: str
    ) -> Issue | None:
        pattern = ".".join("*" if isinstance(part, int) else part for part in loc)
        if (item.section, pattern) in self.REPORTED_ELSEWHERE:
            return None
        name = ".".join(str(part) for part in loc)
        if kind == "missing":
            return item.issue(Code.MISSING_FIELD, f"required field {name!r} is missing", *loc)
        if kind == "extra_forbidden":
            return item.issue(Code.UNKNOWN_FIELD, f"unknown field {name!r}", *loc)
        code = Code.BAD_VALUE if kind in _VALUE_ERRORS else Code.WRONG_TYPE
        return item.issue(code, f"field {name!r}: {msg}", *loc)


class DuplicateIds(Validator):
    """An id names one item of its section, across all files."""

    def check(self, raw: RawCatalogue) -> Iterator[Issue]:
        for section in Section:
            first = raw.ids(section)
            for item in raw.section(section):
                original = first.get(item.id) if item.id is not None else None
                if original is not None and original is not item:
                    yield item.issue(
                        Code.DUPLICATE_ID,
                        f"id is already defined at {original.file}:{original.line}",
                        "id",
                    )


def _unknown(
    raw: RawCatalogue, section: Section, field: str, target: Section, code: Code
) -> Iterator[Issue]:
    known = raw.ids(target)
    for item in raw.section(section):
        for path, value in item.references(field):
            if value not in known:
                yield item.issue(code, f"names {target.noun} {value}, which is not defined", *path)


class UnknownAreas(Validator):
    def check(self, raw: RawCatalogue) -> Iterator[Issue]:
        yield from _unknown(raw, Section.MEASURES, "area", Section.AREAS, Code.UNKNOWN_AREA)


class UnknownRoles(Validator):
    """Measures, list types' legal bases and `via` name defined roles only."""

    FIELDS: ClassVar[tuple[tuple[Section, str], ...]] = (
        (Section.MEASURES, "roles"),
        (Section.LIST_TYPES, "basis_roles"),
        (Section.ROLES, "via"),
    )

    def check(self, raw: RawCatalogue) -> Iterator[Issue]:
        for section, field in self.FIELDS:
            yield from _unknown(raw, section, field, Section.ROLES, Code.UNKNOWN_ROLE)


class UnknownListTypes(Validator):
    def check(self, raw: RawCatalogue) -> Iterator[Issue]:
        yield from _unknown(
            raw, Section.MEASURES, "list_type", Section.LIST_TYPES, Code.UNKNOWN_LIST_TYPE
        )
        yield from _unknown(
            raw,
            Section.JURISDICTIONS,
            "recognized_list_types",
            Section.LIST_TYPES,
            Code.UNKNOWN_LIST_TYPE,
        )


_DEPARTMENT_FIELDS: tuple[tuple[Section, str], ...] = (
    (Section.LIST_TYPES, "issuers"),
    (Section.MEASURES, "implementers"),
)


def _department_references(
    raw: RawCatalogue,
) -> Iterator[tuple[RawItem, tuple[str | int, ...], str, Section | None]]:
    """Every issuer and implementer that is not a department, with the section that
    defines it instead (None when nothing does)."""
    departments = raw.ids(Section.DEPARTMENTS)
    for section, field in _DEPARTMENT_FIELDS:
        for item in raw.section(section):
            for path, value in item.references(field):
                if value not in departments:
                    other = next((s for s in Section if value in raw.ids(s)), None)
                    yield item, path, value, other


class UnknownDepartments(Validator):
    """Issuers and implementers name something the catalogue defines."""

    def check(self, raw: RawCatalogue) -> Iterator[Issue]:
        for item, path, value, other in _department_references(raw):
            if other is None:
                yield item.issue(
                    Code.UNKNOWN_DEPARTMENT,
                    f"names department {value}, which is not defined",
                    *path,
                )


class NonDepartmentReferences(Validator):
    """Issuers and implementers are departments, not jurisdictions or other items."""

    def check(self, raw: RawCatalogue) -> Iterator[Issue]:
        for item, path, value, other in _department_references(raw):
            if other is not None:
                yield item.issue(
                    Code.NOT_A_DEPARTMENT,
                    f"names {value}, which is a {other.noun}, not a department",
                    *path,
                )


class MissingLegalBasis(Validator):
    """Every measure and list type cites its legal basis as non-blank text."""

    def check(self, raw: RawCatalogue) -> Iterator[Issue]:
        for section in (Section.LIST_TYPES, Section.MEASURES):
            for item in raw.section(section):
                value = item.data.get("legal_basis")
                if not (isinstance(value, str) and value.strip()):
                    yield item.issue(
                        Code.MISSING_LEGAL_BASIS,
                        "legal_basis is missing, blank or not text",
                        "legal_basis",
                    )


def _is_relation(value: object) -> bool:
    return isinstance(value, str) and value in _RELATION_NAMES


_RELATION_NAMES = frozenset(rel.value for rel in Rel)


class UnknownRelations(Validator):
    def check(self, raw: RawCatalogue) -> Iterator[Issue]:
        for item in raw.section(Section.ROLES):
            for s, step in item.mappings("steps"):
                relations = step.get("relations")
                if not isinstance(relations, list):
                    continue  # FieldShapes reports it
                for r, relation in enumerate(relations):
                    if not _is_relation(relation):
                        yield item.issue(
                            Code.UNKNOWN_RELATION,
                            f"step {s} follows relation {relation!r}, which is not one of "
                            f"{', '.join(sorted(_RELATION_NAMES))}",
                            "steps",
                            s,
                            "relations",
                            r,
                        )


class LinkRolesFitRelations(Validator):
    """A step's link_roles are roles its relations carry (EXECUTIVE_OF, MEMBER_OF)."""

    def check(self, raw: RawCatalogue) -> Iterator[Issue]:
        for item in raw.section(Section.ROLES):
            for s, step in item.mappings("steps"):
                relations, link_roles = step.get("relations"), step.get("link_roles")
                if not isinstance(relations, list) or not isinstance(link_roles, list):
                    continue
                for relation in filter(_is_relation, relations):
                    allowed = ROLE_VALUES.get(Rel(relation), frozenset())
                    for i, value in enumerate(link_roles):
                        if isinstance(value, str) and value not in allowed:
                            carried = ", ".join(sorted(allowed)) or "no roles"
                            yield item.issue(
                                Code.UNKNOWN_LINK_ROLE,
                                f"step {s}: link role {value} is not carried by {relation} "
                                f"({carried})",
                                "steps",
                                s,
                                "link_roles",
                                i,
                            )


def analyse_via(raw: RawCatalogue) -> tuple[dict[str, int | None], list[list[str]]]:
    """Depth of every role (None when it is in, or depends on, a `via` cycle) and the
    cycles, each as the path that closes back on its first role. Unknown via roles are
    left out: UnknownRoles reports them."""
    roles = raw.ids(Section.ROLES)
    graph = {
        role_id: [v for _, v in item.strings("via") if v in roles]
        for role_id, item in roles.items()
    }
    depths: dict[str, int | None] = {}
    cycles: list[list[str]] = []
    path: list[str] = []

    def visit(role_id: str) -> int | None:
        if role_id in path:
            cycles.append(path[path.index(role_id) :])
            return None
        if role_id not in depths:
            path.append(role_id)
            below = [visit(v) for v in graph[role_id]]
            path.pop()
            steps = roles[role_id].data.get("steps")
            own = len(steps) if isinstance(steps, list) else 0
            known = [d for d in below if d is not None]
            depths[role_id] = max(known, default=0) + own if len(known) == len(below) else None
        return depths[role_id]

    for role_id in graph:
        visit(role_id)
    return depths, cycles


class ViaCycles(Validator):
    """A role may not reach itself through `via`."""

    def check(self, raw: RawCatalogue) -> Iterator[Issue]:
        roles = raw.ids(Section.ROLES)
        for cycle in analyse_via(raw)[1]:
            first, second = roles[cycle[0]], cycle[1 % len(cycle)]
            index = next(i for i, v in first.strings("via") if v == second)
            yield first.issue(
                Code.VIA_CYCLE,
                f"via forms a cycle: {' -> '.join([*cycle, cycle[0]])}",
                "via",
                index,
            )


class RoleDepth(Validator):
    def check(self, raw: RawCatalogue) -> Iterator[Issue]:
        roles = raw.ids(Section.ROLES)
        for role_id, depth in analyse_via(raw)[0].items():
            if depth is not None and depth > MAX_ROLE_DEPTH:
                yield roles[role_id].issue(
                    Code.ROLE_TOO_DEEP,
                    f"reaches {depth} hops from the sanctioned subject (via included); "
                    f"at most {MAX_ROLE_DEPTH} are allowed",
                )


class RolesWithinBasis(Validator):
    """No measure may widen its targets beyond its list type's legal basis."""

    def check(self, raw: RawCatalogue) -> Iterator[Issue]:
        list_types, roles = raw.ids(Section.LIST_TYPES), raw.ids(Section.ROLES)
        for item in raw.section(Section.MEASURES):
            list_type = list_types.get(item.text("list_type") or "")
            if list_type is None:
                continue
            basis = {value for _, value in list_type.strings("basis_roles")}
            for index, role in item.strings("roles"):
                if role in roles and role not in basis:  # UnknownRoles reports the others
                    yield item.issue(
                        Code.ROLE_BEYOND_BASIS,
                        f"role {role} is beyond the basis of list type {list_type.id} "
                        f"({', '.join(sorted(basis))})",
                        "roles",
                        index,
                    )


class EffectFitsListKind(Validator):
    """Incentives come from red lists only; red lists never punish."""

    def check(self, raw: RawCatalogue) -> Iterator[Issue]:
        list_types = raw.ids(Section.LIST_TYPES)
        for item in raw.section(Section.MEASURES):
            list_type = list_types.get(item.text("list_type") or "")
            if list_type is None:
                continue
            effect, kind = item.text("effect"), list_type.text("kind")
            if effect == Effect.INCENTIVE and kind in (ListKind.BLACK, ListKind.WATCH):
                yield item.issue(
                    Code.INCENTIVE_ON_NON_RED_LIST,
                    f"effect INCENTIVE on {kind} list type {list_type.id}; only red lists reward",
                    "effect",
                )
            elif effect in PUNITIVE_EFFECTS and kind == ListKind.RED:
                yield item.issue(
                    Code.PUNITIVE_ON_RED_LIST,
                    f"punitive effect {effect} on red list type {list_type.id}",
                    "effect",
                )


class LocalJurisdictionRecognisesAll(Validator):
    """The local jurisdiction's own lists all apply at home."""

    def check(self, raw: RawCatalogue) -> Iterator[Issue]:
        every = raw.ids(Section.LIST_TYPES)
        for item in raw.section(Section.JURISDICTIONS):
            if item.data.get("local") is not True:
                continue
            recognised = {value for _, value in item.strings("recognized_list_types")}
            missing = [list_type for list_type in every if list_type not in recognised]
            if missing:
                yield item.issue(
                    Code.LOCAL_JURISDICTION_INCOMPLETE,
                    "a local jurisdiction recognises every list type; "
                    f"missing {', '.join(missing)}",
                    "recognized_list_types",
                )


def _local_jurisdictions(raw: RawCatalogue) -> list[RawItem]:
    return [item for item in raw.section(Section.JURISDICTIONS) if item.data.get("local") is True]


class OneLocalJurisdiction(Validator):
    """Exactly one jurisdiction is local: the one whose platform runs this catalogue."""

    def check(self, raw: RawCatalogue) -> Iterator[Issue]:
        if not raw.items:
            return  # an empty or unreadable catalogue is reported once, by the reader
        local = _local_jurisdictions(raw)
        if not local:
            message = "no jurisdiction is local; exactly one must be, the one this catalogue is"
            jurisdictions = raw.section(Section.JURISDICTIONS)
            if jurisdictions:
                first = jurisdictions[0]
                yield Issue(first.file, first.line, Code.LOCAL_JURISDICTION_COUNT, message)
            else:
                yield Issue(
                    raw.source or "jurisdictions", 0, Code.LOCAL_JURISDICTION_COUNT, message
                )
        for item in local[1:]:
            yield item.issue(
                Code.LOCAL_JURISDICTION_COUNT,
                f"is local, and so is {local[0].id} ({local[0].file}:{local[0].line}); "
                "exactly one jurisdiction is local",
                "local",
            )


class DistinctDepartmentPrefixes(Validator):
    """No two jurisdictions share a department prefix, so their departments never collide."""

    def check(self, raw: RawCatalogue) -> Iterator[Issue]:
        first: dict[str, RawItem] = {}
        for item in raw.section(Section.JURISDICTIONS):
            prefix = item.text("department_prefix")
            if prefix is None:
                continue  # FieldShapes reports it
            original = first.setdefault(prefix, item)
            if original is not item:
                yield item.issue(
                    Code.DUPLICATE_DEPARTMENT_PREFIX,
                    f"department_prefix {prefix!r} is already that of {original.id} "
                    f"({original.file}:{original.line})",
                    "department_prefix",
                )


class DepartmentsCarryTheLocalPrefix(Validator):
    """Every department is the local jurisdiction's: its id begins with that prefix, so a
    partner's issuers (carrying the partner's prefix) can never be taken for local ones."""

    def check(self, raw: RawCatalogue) -> Iterator[Issue]:
        local = _local_jurisdictions(raw)
        if len(local) != 1:
            return  # OneLocalJurisdiction reports it
        prefix = local[0].text("department_prefix")
        if prefix is None or not re.fullmatch(DEPARTMENT_PREFIX_PATTERN, prefix):
            return  # FieldShapes reports it
        for item in raw.section(Section.DEPARTMENTS):
            if item.id is not None and not item.id.startswith(prefix):
                yield item.issue(
                    Code.DEPARTMENT_PREFIX,
                    f"id does not begin with {prefix}, the department prefix of the local "
                    f"jurisdiction {local[0].id}",
                    "id",
                )


def default_validators() -> tuple[Validator, ...]:
    return (
        FieldShapes(),
        DuplicateIds(),
        UnknownAreas(),
        UnknownRoles(),
        UnknownListTypes(),
        UnknownDepartments(),
        NonDepartmentReferences(),
        MissingLegalBasis(),
        UnknownRelations(),
        LinkRolesFitRelations(),
        ViaCycles(),
        RoleDepth(),
        RolesWithinBasis(),
        EffectFitsListKind(),
        LocalJurisdictionRecognisesAll(),
        OneLocalJurisdiction(),
        DistinctDepartmentPrefixes(),
        DepartmentsCarryTheLocalPrefix(),
    )


def validate(raw: RawCatalogue, validators: Iterable[Validator] | None = None) -> list[Issue]:
    """Every issue of `raw` (reading problems included), sorted by file and line."""
    issues = list(raw.read_issues)
    for validator in validators if validators is not None else default_validators():
        issues.extend(validator.check(raw))
    return sorted(set(issues))
