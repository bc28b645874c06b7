"""Typed, immutable models of the joint rewards and punishments catalogue.

The YAML of a catalogue directory (`rules/catalogues/<jurisdiction>/`) is validated (see
`rules.validators`) before any of these are built, so a `Catalogue` in hand is internally
consistent: every reference resolves, every role is at most `MAX_ROLE_DEPTH` hops, no
measure reaches beyond its list type's legal basis, and exactly one jurisdiction is
local, its department prefix beginning every department's id.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from domain.identifiers import SubjectKind
from domain.vocabulary import Effect, ListKind, Rel

# DESIGN.md §3: a role is a bounded pattern; the check engine relies on this bound.
MAX_ROLE_DEPTH = 3


class Direction(StrEnum):
    IN = "IN"  # the stored link points at the node the walk is on
    OUT = "OUT"  # the stored link points away from it


class EvaluatedAt(StrEnum):
    DECISION = "DECISION"  # valid on the sanction's decision date
    CHECK = "CHECK"  # valid at the time the check is about


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Area(_Frozen):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str = ""


class Department(_Frozen):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    kind: str | None = None


class Step(_Frozen):
    """One hop: follow any of `relations` in `direction`, valid at `at`."""

    relations: tuple[Rel, ...] = Field(min_length=1)
    direction: Direction
    at: EvaluatedAt
    link_roles: frozenset[str] | None = None  # None: any `role` on the link


class Role(_Frozen):
    """Whom a measure reaches, walking from the sanctioned subject.

    `via` roles are evaluated first (as those roles are) and `steps` continue from
    every subject they reach; a role with `named_by_sanction` reaches the persons the
    sanction itself names as responsible.
    """

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    steps: tuple[Step, ...] = ()
    via: tuple[str, ...] = ()
    named_by_sanction: bool = False
    sanctioned_kinds: frozenset[SubjectKind] | None = None  # None: any kind
    # Filled by the loader, in dependency order, so `depth` needs no catalogue lookup.
    _via_roles: tuple[Role, ...] = PrivateAttr(default=())

    def with_via_roles(self, via_roles: tuple[Role, ...]) -> Role:
        if tuple(r.id for r in via_roles) != self.via:
            raise ValueError(f"role {self.id}: via roles {self.via} expected")
        resolved = self.model_copy()
        resolved._via_roles = via_roles
        return resolved

    @property
    def via_roles(self) -> tuple[Role, ...]:
        if len(self._via_roles) != len(self.via):
            raise RuntimeError(f"role {self.id} is not resolved: take it from a Catalogue")
        return self._via_roles

    @property
    def depth(self) -> int:
        return max((r.depth for r in self.via_roles), default=0) + len(self.steps)


class ListType(_Frozen):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    kind: ListKind
    issuers: tuple[str, ...] = Field(min_length=1)
    default_duration_days: int | None = Field(default=None, gt=0)  # None: until lifted
    min_repair_days: int | None = Field(default=None, ge=0)  # None: repair does not apply
    published: bool
    basis_roles: tuple[str, ...] = Field(min_length=1)
    legal_basis: str
    description: str = ""


class Measure(_Frozen):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    list_type: str
    area: str
    effect: Effect
    roles: tuple[str, ...] = Field(min_length=1)
    legal_basis: str
    implementers: tuple[str, ...] = Field(min_length=1)
    description: str = Field(min_length=1)


# Lower-case letters and digits then one dash, the only dash: so no prefix can begin
# another, and distinct prefixes keep every jurisdiction's departments apart.
DEPARTMENT_PREFIX_PATTERN = r"^[a-z][a-z0-9]*-$"


class Jurisdiction(_Frozen):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    local: bool
    # what that jurisdiction's department ids begin with (`wz-`, `jx-`): a partner's
    # issuers carry its prefix, so they never collide with the local departments
    department_prefix: str = Field(pattern=DEPARTMENT_PREFIX_PATTERN)
    recognized_list_types: tuple[str, ...] = ()


class Catalogue(_Frozen):
    """The whole catalogue; every dict keeps the catalogue's file and item order."""

    areas: dict[str, Area]
    departments: dict[str, Department]
    roles: dict[str, Role]
    list_types: dict[str, ListType]
    measures: dict[str, Measure]
    jurisdictions: dict[str, Jurisdiction]

    # a cached_property lands in the instance's __dict__, so after the first read it is a
    # plain attribute; a PrivateAttr is read through pydantic's __getattr__, which the
    # check would pay for on every outcome
    @cached_property
    def measures_by_list_type_and_area(self) -> Mapping[tuple[str, str], tuple[Measure, ...]]:
        index: dict[tuple[str, str], list[Measure]] = {}
        for measure in self.measures.values():
            index.setdefault((measure.list_type, measure.area), []).append(measure)
        return {key: tuple(ms) for key, ms in index.items()}

    def measures_for(
        self, list_type: str | None = None, area: str | None = None
    ) -> tuple[Measure, ...]:
        return tuple(
            m
            for m in self.measures.values()
            if (list_type is None or m.list_type == list_type) and (area is None or m.area == area)
        )

    @property
    def local_jurisdiction(self) -> Jurisdiction:
        """The jurisdiction this catalogue is (validation guarantees exactly one)."""
        return next(j for j in self.jurisdictions.values() if j.local)

    def relaying_department(self, list_type_id: str) -> Department:
        """The local department an entry of `list_type_id` from elsewhere is recorded under:
        the list type's first issuer here. Raises KeyError for a list type not defined here."""
        return self.issuers_of(list_type_id)[0]

    def is_recognized(self, jurisdiction_id: str, list_type_id: str) -> bool:
        jurisdiction = self.jurisdictions.get(jurisdiction_id)
        return jurisdiction is not None and list_type_id in jurisdiction.recognized_list_types

    def issuers_of(self, list_type_id: str) -> tuple[Department, ...]:
        """Raises KeyError for a list type the catalogue does not define."""
        return tuple(self.departments[d] for d in self.list_types[list_type_id].issuers)

    def may_issue(self, department_id: str, list_type_id: str) -> bool:
        list_type = self.list_types.get(list_type_id)
        return list_type is not None and department_id in list_type.issuers
