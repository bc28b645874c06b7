"""A generated world materialised for the seeds tests, and the checks more than one of
them makes of it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from domain.identifiers import SubjectKind
from domain.vocabulary import Rel
from seeds.generator import SUBJECT_RELS, World
from seeds.rows import HouseholdRow, LinkRow, SanctionRow, SubjectRow

WORLD_TODAY = dt.date(2026, 11, 27)


@dataclass
class Snapshot:
    """Every record of a world, materialised (fine at test scale)."""

    subjects: dict[SubjectKind, list[SubjectRow]]
    households: list[HouseholdRow]
    memberships: list[LinkRow]
    links: dict[Rel, list[LinkRow]]
    sanctions: list[SanctionRow]

    @cached_property
    def kind_of(self) -> dict[str, SubjectKind]:
        return {row["id"]: kind for kind, rows in self.subjects.items() for row in rows}

    @cached_property
    def all_subjects(self) -> list[SubjectRow]:
        return [row for rows in self.subjects.values() for row in rows]

    def all_links(self) -> Iterable[tuple[Rel, LinkRow]]:
        for rel, rows in self.links.items():
            for row in rows:
                yield rel, row
        for row in self.memberships:
            yield Rel.MEMBER_OF, row


def snapshot(world: World) -> Snapshot:
    return Snapshot(
        subjects={kind: list(world.subjects(kind)) for kind in SubjectKind},
        households=list(world.households()),
        memberships=list(world.memberships()),
        links={rel: list(world.links(rel)) for rel in SUBJECT_RELS},
        sanctions=list(world.sanctions()),
    )


def valid_on(row: LinkRow, day: dt.date) -> bool:
    return row["validFrom"] <= day and (row["validTo"] is None or day < row["validTo"])


def assert_shares_within_the_whole(snap: Snapshot) -> None:
    by_firm: dict[str, list[LinkRow]] = defaultdict(list)
    for row in snap.links[Rel.SHAREHOLDER_OF]:
        assert 0 < row["ratio"] <= 1
        by_firm[row["dst"]].append(row)
    for rows in by_firm.values():
        for day in {r["validFrom"] for r in rows}:  # the sum can only rise when one begins
            assert sum(r["ratio"] for r in rows if valid_on(r, day)) <= 1 + 1e-9
