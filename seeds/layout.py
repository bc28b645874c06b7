"""How a world is cut into blocks: the unit of generation, parallelism and locality.

A block is a slice of one district: a few thousand households and the units their
members lead. Everything a block's records point to lives in the same block, so a
block can be generated (and loaded) on its own, from its index alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from domain.identifiers import SubjectKind
from seeds.geography import DISTRICTS, District
from seeds.spec import WorldSpec, allocate, even_split

PERSONS_PER_BLOCK = 16_384
# Unit kinds in the order a block builds them: institutions first, because enterprises
# may be owned by a government organ; individual businesses last.
UNIT_KINDS: tuple[SubjectKind, ...] = (
    SubjectKind.PUBLIC_INSTITUTION,
    SubjectKind.ENTERPRISE,
    SubjectKind.INDIVIDUAL_BUSINESS,
)
# The resident ID's three-digit sequence; real ones start at 001, and 000 for a woman
# would look wrong, so blocks share 002-999.
SEQ_FIRST = 2
_SEQUENCES = 1000 - SEQ_FIRST


@dataclass(frozen=True, slots=True)
class BlockLayout:
    index: int
    district: District
    lane: int  # the block's number within its district
    persons: int
    units: Mapping[SubjectKind, int]
    person_offset: int  # global index of the block's first person
    unit_offset: int  # global index of the block's first unit (all kinds, UNIT_KINDS order)
    district_unit_offset: int  # the same, counted within the district

    def unit_base(self, kind: SubjectKind) -> int:
        """Index of the first unit of `kind` among the block's units."""
        base = 0
        for k in UNIT_KINDS:
            if k is kind:
                return base
            base += self.units[k]
        raise ValueError(f"{kind} is not a unit kind")


@dataclass(frozen=True, slots=True)
class Layout:
    blocks: tuple[BlockLayout, ...]
    seq_width: int  # resident-ID sequence numbers each block may use per birth date

    def total(self, kind: SubjectKind) -> int:
        if kind is SubjectKind.PERSON:
            return sum(b.persons for b in self.blocks)
        return sum(b.units[kind] for b in self.blocks)


def plan_layout(spec: WorldSpec) -> Layout:
    counts = spec.kind_counts()
    persons = allocate(counts[SubjectKind.PERSON], [d.population for d in DISTRICTS])
    units_by_kind = {kind: _allocate_units(counts[kind], kind, persons) for kind in UNIT_KINDS}
    blocks: list[BlockLayout] = []
    person_offset = unit_offset = 0
    for d, district in enumerate(DISTRICTS):
        if persons[d] == 0:
            continue
        largest = max(persons[d], *(units_by_kind[k][d] for k in UNIT_KINDS))
        n_blocks = math.ceil(largest / PERSONS_PER_BLOCK)
        person_parts = even_split(persons[d], n_blocks)
        unit_parts = {k: even_split(units_by_kind[k][d], n_blocks) for k in UNIT_KINDS}
        district_units = 0
        for lane in range(n_blocks):
            units = {k: unit_parts[k][lane] for k in UNIT_KINDS}
            if person_parts[lane] == 0 and any(units.values()):
                raise ValueError(
                    f"mix has too few persons to lead the units of {district.name}; "
                    "raise the PERSON weight"
                )
            blocks.append(
                BlockLayout(
                    index=len(blocks),
                    district=district,
                    lane=lane,
                    persons=person_parts[lane],
                    units=MappingProxyType(units),
                    person_offset=person_offset,
                    unit_offset=unit_offset,
                    district_unit_offset=district_units,
                )
            )
            person_offset += person_parts[lane]
            unit_offset += sum(units.values())
            district_units += sum(units.values())
    lanes = max((b.lane + 1 for b in blocks), default=1)
    # Each block owns a disjoint range of sequence numbers, so ids stay unique
    # across blocks without any shared counter; two at least, one per sex.
    seq_width = _SEQUENCES // lanes // 2 * 2
    if seq_width < 2:
        raise ValueError(
            f"n_subjects={spec.n_subjects} is too large: a district would need {lanes} blocks"
        )
    return Layout(tuple(blocks), seq_width)


def _allocate_units(total: int, kind: SubjectKind, persons: list[int]) -> list[int]:
    if total and not any(persons):
        raise ValueError(f"cannot place {total} units of kind {kind} in a world without persons")
    weights = [
        d.population * d.unit_multiplier[kind] if persons[i] else 0.0
        for i, d in enumerate(DISTRICTS)
    ]
    return allocate(total, weights)
