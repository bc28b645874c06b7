"""The deterministic Wenzhou-like world generator.

`generate(WorldSpec(n_subjects=...))` returns a `World` that yields records lazily,
block by block: nothing the size of the city is ever held in memory, and the same
spec yields the same records, in the same order, on every run. Blocks are independent
(`world.block(i)`), which is what a parallel or CSV-writing step would split on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain
from typing import TypeVar

from domain.identifiers import SubjectKind
from domain.vocabulary import KIND_LABEL, Label, Rel, SystemRel
from seeds.block import Block, SubjectOverride
from seeds.layout import Layout, plan_layout
from seeds.rows import DepartmentRow, HouseholdRow, LinkRow, SanctionRow, SubjectRow
from seeds.spec import CITY_MIX, DEFAULT_SEED, KIND_ORDER, WorldSpec

__all__ = [
    "CITY_MIX",
    "COUNT_KEYS",
    "DEFAULT_SEED",
    "SUBJECT_RELS",
    "Block",
    "SubjectOverride",
    "World",
    "WorldPatch",
    "WorldSpec",
    "batched",
    "generate",
]

SUBJECT_RELS: tuple[Rel, ...] = tuple(r for r in Rel if r is not Rel.MEMBER_OF)
"""Relationships between subjects; MEMBER_OF (person to household) is `memberships()`."""

COUNT_KEYS: tuple[str, ...] = (
    Label.SUBJECT.value,
    *(KIND_LABEL[k].value for k in KIND_ORDER),
    Label.HOUSEHOLD.value,
    Label.SANCTION.value,
    Label.DEPARTMENT.value,
    *(rel.value for rel in Rel),
    SystemRel.ISSUED.value,
    SystemRel.AGAINST.value,
    SystemRel.RESPONSIBLE_PERSON.value,
)
"""The keys of `World.counts()`: node labels and relationship types."""

T = TypeVar("T")


@dataclass(frozen=True)
class WorldPatch:
    """Hand-made changes on top of a generated world (the demo's showcase).

    `quiet` subjects get no generated sanction and are named in none, so that a
    showcase reads exactly as its hand-made entries say.
    """

    overrides: Mapping[str, SubjectOverride] = field(default_factory=dict)
    extra_sanctions: tuple[SanctionRow, ...] = ()
    quiet: frozenset[str] = frozenset()


class World:
    def __init__(self, spec: WorldSpec, patch: WorldPatch | None = None) -> None:
        self.spec = spec
        self.patch = patch or WorldPatch()
        self.layout: Layout = plan_layout(spec)
        self._counts: dict[str, int] | None = None
        self._departments: list[DepartmentRow] | None = None

    @property
    def block_count(self) -> int:
        return len(self.layout.blocks)

    def block(self, index: int) -> Block:
        return Block(
            self.layout.blocks[index],
            self.layout.seq_width,
            self.spec,
            self.patch.overrides,
            self.patch.quiet,
        )

    def blocks(self) -> Iterator[Block]:
        for index in range(self.block_count):
            yield self.block(index)

    # -- one record kind at a time -----------------------------------------------------

    def subjects(self, kind: SubjectKind) -> Iterator[SubjectRow]:
        return chain.from_iterable(b.subjects(kind) for b in self.blocks())

    def households(self) -> Iterator[HouseholdRow]:
        return chain.from_iterable(b.households() for b in self.blocks())

    def memberships(self) -> Iterator[LinkRow]:
        return chain.from_iterable(b.memberships() for b in self.blocks())

    def links(self, rel: Rel) -> Iterator[LinkRow]:
        return chain.from_iterable(b.links(rel) for b in self.blocks())

    def sanctions(self) -> Iterator[SanctionRow]:
        yield from chain.from_iterable(b.sanctions() for b in self.blocks())
        yield from self.patch.extra_sanctions

    def departments(self) -> list[DepartmentRow]:
        """The issuers of the world's sanctions, by id."""
        if self._departments is None:
            self.counts()
        assert self._departments is not None
        return self._departments

    # -- several record kinds in one pass (what a loader wants) -------------------------

    def subject_batches(self, batch_size: int) -> Iterator[tuple[SubjectKind, list[SubjectRow]]]:
        """Every subject in batches of one kind each, in a single pass over the blocks."""
        return _interleaved(
            ((k, b.subjects(k)) for b in self.blocks() for k in KIND_ORDER), batch_size
        )

    def link_batches(self, batch_size: int) -> Iterator[tuple[Rel, list[LinkRow]]]:
        """Every subject-to-subject link in batches of one type each, in a single pass."""
        return _interleaved(
            ((r, b.links(r)) for b in self.blocks() for r in SUBJECT_RELS), batch_size
        )

    # -- sizes -------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Nodes per label and relationships per type, as a load should leave them.

        Takes one pass over the blocks' plans; no names, hashes or link rows are made.
        """
        if self._counts is None:
            counts = dict.fromkeys(COUNT_KEYS, 0)
            departments: dict[str, str] = {}
            for block in self.blocks():
                counts[Label.PERSON.value] += len(block.population)
                for kind, units in block.organisations.units.items():
                    counts[KIND_LABEL[kind].value] += len(units)
                counts[Label.HOUSEHOLD.value] += len(block.population.hh_first)
                for rel in Rel:
                    counts[rel.value] += block.link_count(rel)
                _count_sanctions(block.sanctions(), counts, departments)
            _count_sanctions(self.patch.extra_sanctions, counts, departments)
            counts[Label.SUBJECT.value] = sum(counts[KIND_LABEL[k].value] for k in KIND_ORDER)
            counts[Label.DEPARTMENT.value] = len(departments)
            self._counts = counts
            self._departments = [
                DepartmentRow(id=i, name=departments[i]) for i in sorted(departments)
            ]
        return dict(self._counts)


def generate(spec: WorldSpec, patch: WorldPatch | None = None) -> World:
    return World(spec, patch)


def batched(rows: Iterable[T], batch_size: int) -> Iterator[list[T]]:
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    batch: list[T] = []
    for row in rows:
        batch.append(row)
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


K = TypeVar("K")


def _interleaved(
    parts: Iterable[tuple[K, list[T]]], batch_size: int
) -> Iterator[tuple[K, list[T]]]:
    """Regroup (key, rows) pieces into full batches per key; flush the rest at the end."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    pending: dict[K, list[T]] = {}
    for key, rows in parts:
        buffer = pending.setdefault(key, [])
        for start in range(0, len(rows), batch_size):
            buffer.extend(rows[start : start + batch_size])
            if len(buffer) >= batch_size:
                yield key, buffer[:batch_size]
                buffer = pending[key] = buffer[batch_size:]
    for key, rest in pending.items():
        if rest:
            yield key, rest


def _count_sanctions(
    rows: Iterable[SanctionRow], counts: dict[str, int], departments: dict[str, str]
) -> None:
    for row in rows:
        counts[Label.SANCTION.value] += 1
        counts[SystemRel.ISSUED.value] += 1
        counts[SystemRel.AGAINST.value] += 1
        counts[SystemRel.RESPONSIBLE_PERSON.value] += len(set(row["responsiblePersonIds"]))
        departments.setdefault(row["issuerId"], row["issuerName"])
