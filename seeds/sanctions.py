"""A block's list entries: black, red and watch, against its units and residents.

Entries are decided between 2021 and October 2026; most run three years, some are
open-ended; a few are under objection, a few were repaired; about one in twenty comes
from a partner city, recognised or not as the spec's recognition function says.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from itertools import accumulate

from domain.identifiers import SubjectKind
from seeds.dates import (
    LAST_EVENT_ORD,
    SANCTIONS_FROM,
    add_years,
    from_ordinal,
    instant,
    years_after,
)
from seeds.layout import UNIT_KINDS
from seeds.lists import HOME, LIST_SPECS, PARTNERS, ListSpec, document_no, issuer_id, issuer_name
from seeds.organisations import Organisations
from seeds.population import ADULT_BIRTH_ORD, Population
from seeds.rows import SanctionRow
from seeds.spec import WorldSpec
from seeds.units import Unit

_SANCTIONS_FROM_ORD = SANCTIONS_FROM.toordinal()
_TABLES: Mapping[SubjectKind, tuple[list[ListSpec], list[float]]] = {
    kind: (
        [s for s in LIST_SPECS if kind in s.weights],
        list(accumulate(s.weights[kind] for s in LIST_SPECS if kind in s.weights)),
    )
    for kind in SubjectKind
}


class _SanctionWriter:
    def __init__(self, pop: Population, spec: WorldSpec, block: int, rng: random.Random) -> None:
        self.pop, self.spec, self.block, self.rng = pop, spec, block, rng
        self.rows: list[SanctionRow] = []

    def maybe(self, kind: SubjectKind, rate: float, earliest: int, subject: Unit | int) -> None:
        """Perhaps list `subject`: a unit, or a resident's index (its ID is built if listed)."""
        rng = self.rng
        if rng.random() >= rate:
            return
        specs, cum = _TABLES[kind]
        chosen = rng.choices(specs, cum_weights=cum)[0]
        unit = subject if isinstance(subject, Unit) else None
        subject_id = subject.id if isinstance(subject, Unit) else self.pop.person_id(subject)
        self._add(chosen, subject_id, earliest, unit)
        if rng.random() < 0.1:  # some subjects are on two lists
            second = rng.choices(specs, cum_weights=cum)[0]
            if second is not chosen:
                self._add(second, subject_id, earliest, unit)

    def _add(self, spec: ListSpec, subject_id: str, earliest: int, unit: Unit | None) -> None:
        rng = self.rng
        lo = max(_SANCTIONS_FROM_ORD, earliest)
        if lo > LAST_EVENT_ORD:
            return
        decided_ord = rng.randint(lo, LAST_EVENT_ORD)
        decided = from_ordinal(decided_ord)
        city = rng.choice(PARTNERS) if rng.random() < 0.05 else HOME
        valid_to = add_years(decided, 3) if rng.random() < 0.85 else None
        status = "UNDER_OBJECTION" if rng.random() < 0.03 else "ACTIVE"
        lift_kind: str | None = None
        lifted_at: dt.datetime | None = None
        if spec.kind != "RED" and rng.random() < 0.06 and decided_ord + 366 < LAST_EVENT_ORD:
            last = (
                LAST_EVENT_ORD
                if valid_to is None
                else min(LAST_EVENT_ORD, valid_to.toordinal() - 1)
            )
            lift_kind, status = "REPAIRED", "ACTIVE"
            lifted_at = instant(from_ordinal(rng.randint(decided_ord + 366, last)), 10)
        self.rows.append(
            SanctionRow(
                id=f"SN-{self.block:05d}-{len(self.rows) + 1:05d}",
                listType=spec.list_type,
                kind=spec.kind,
                decidedOn=decided,
                validFrom=decided,
                validTo=valid_to,
                status=status,
                liftKind=lift_kind,
                liftedAt=lifted_at,
                jurisdiction=city.key,
                recognized=self.spec.recognition(spec.list_type, city.key),
                documentNo=document_no(spec, city, decided.year, rng.randint(1, 9999)),
                reason=spec.reason,
                issuerId=issuer_id(spec),
                issuerName=issuer_name(spec),
                subjectId=subject_id,
                responsiblePersonIds=self._responsible(spec, unit, decided_ord),
                createdAt=instant(decided, rng.randint(9, 17)),
            )
        )

    def _responsible(self, spec: ListSpec, unit: Unit | None, day: int) -> list[str]:
        """For about half the black entries against a firm or institution: 1-2 of its officers."""
        if unit is None or unit.kind is SubjectKind.INDIVIDUAL_BUSINESS or spec.kind != "BLACK":
            return []
        if self.rng.random() >= 0.5:
            return []
        officers = sorted(
            {
                t.person
                for t in unit.executives
                if t.person is not None and t.start <= day and (t.end is None or day < t.end)
            }
        )
        chosen: Sequence[int] = self.rng.sample(
            officers, min(len(officers), self.rng.randint(1, 2))
        )
        return [self.pop.person_id(p) for p in chosen]


def build_sanctions(
    pop: Population, orgs: Organisations, spec: WorldSpec, block: int, rng: random.Random
) -> list[SanctionRow]:
    writer = _SanctionWriter(pop, spec, block, rng)
    for kind in UNIT_KINDS:
        for unit in orgs.units[kind]:
            writer.maybe(kind, spec.unit_sanction_rate, unit.established + 30, unit)
    for i, birth in enumerate(pop.birth):
        if birth <= ADULT_BIRTH_ORD:
            writer.maybe(SubjectKind.PERSON, spec.person_sanction_rate, years_after(birth, 18), i)
    return writer.rows
