"""Roles compiled to bounded chains of steps, the form the query builders render.

A role's `via` roles are expanded: HOUSEHOLD_CHILD via LEGAL_REPRESENTATIVE becomes
one chain (LEGAL_REPRESENTATIVE_OF at decision date, then two MEMBER_OF steps at
check time). Every chain is at most `MAX_ROLE_DEPTH` steps, so no pattern built from
it is ever unbounded.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.identifiers import SubjectKind
from rules.models import MAX_ROLE_DEPTH, Catalogue, Role, Step


@dataclass(frozen=True)
class Chain:
    """Steps walked from the sanctioned subject (or the person it names) to the reached one."""

    role: str
    steps: tuple[Step, ...]
    named_by_sanction: bool
    sanctioned_kinds: frozenset[SubjectKind] | None
    via: str | None

    @property
    def key(self) -> str:
        return f"{self.role}__{self.via}" if self.via else self.role


def compile_role(role: Role) -> tuple[Chain, ...]:
    if not role.via:
        chains: tuple[Chain, ...] = (
            Chain(role.id, role.steps, role.named_by_sanction, role.sanctioned_kinds, None),
        )
    else:
        expanded: list[Chain] = []
        for via_role in role.via_roles:
            for inner in compile_role(via_role):
                expanded.append(
                    Chain(
                        role=role.id,
                        steps=inner.steps + role.steps,
                        named_by_sanction=inner.named_by_sanction or role.named_by_sanction,
                        sanctioned_kinds=_meet(inner.sanctioned_kinds, role.sanctioned_kinds),
                        via=via_role.id,
                    )
                )
        chains = tuple(expanded)
    for chain in chains:
        if len(chain.steps) > MAX_ROLE_DEPTH:  # the validator refuses these; never render one
            raise ValueError(f"role {role.id} via {chain.via} is deeper than {MAX_ROLE_DEPTH}")
    return chains


def _meet(
    a: frozenset[SubjectKind] | None, b: frozenset[SubjectKind] | None
) -> frozenset[SubjectKind] | None:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def compile_catalogue(catalogue: Catalogue) -> dict[str, tuple[Chain, ...]]:
    return {role_id: compile_role(role) for role_id, role in catalogue.roles.items()}


def list_types_by_role(catalogue: Catalogue, area: str) -> dict[str, tuple[str, ...]]:
    """For one area: each role, and the list types whose measures there reach through it."""
    found: dict[str, set[str]] = {}
    for measure in catalogue.measures_for(area=area):
        for role in measure.roles:
            found.setdefault(role, set()).add(measure.list_type)
    return {role: tuple(sorted(types)) for role, types in found.items()}


def areas_by_list_type_and_role(catalogue: Catalogue) -> dict[tuple[str, str], tuple[str, ...]]:
    """(list type, role) -> the areas in which some measure reaches through that role."""
    found: dict[tuple[str, str], set[str]] = {}
    for measure in catalogue.measures.values():
        for role in measure.roles:
            found.setdefault((measure.list_type, role), set()).add(measure.area)
    order = list(catalogue.areas)
    return {key: tuple(sorted(areas, key=order.index)) for key, areas in found.items()}
