"""A block's units: who founded and leads them, who sits on their boards, who owns them.

Public institutions are planned first (a government organ can own a state firm), then
enterprises (a firm can own, branch from or cross-hold an earlier one), then individual
businesses. All dates are ordinals; every tie starts once its person is adult.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Mapping
from dataclasses import dataclass

from domain.identifiers import SubjectKind
from domain.vocabulary import ExecutiveRole, Rel
from seeds.dates import LAST_EVENT_ORD, year_start, years_after
from seeds.geography import District
from seeds.layout import UNIT_KINDS, BlockLayout
from seeds.population import ADULT_BIRTH_ORD, Population
from seeds.units import LeaderPool, Tie, Unit, unit_id
from seeds.vocab import INDUSTRIES

E = SubjectKind.ENTERPRISE
PI = SubjectKind.PUBLIC_INSTITUTION
IB = SubjectKind.INDIVIDUAL_BUSINESS

# Shops lean to retail, food and services whatever the district's industry.
_SHOP_WEIGHTS: Mapping[str, float] = {
    "TRADE": 30, "CATERING": 20, "SERVICES": 15, "CLOTHING": 8, "FOOTWEAR": 6,
    "TECHNOLOGY": 4, "AUTO_PARTS": 3, "CONSTRUCTION": 3, "EYEGLASSES": 2, "LOGISTICS": 2,
    "ELECTRICAL_EQUIPMENT": 2, "PRINTING_PACKAGING": 2, "LOCKS": 1, "LIGHTERS": 1,
    "VALVES_PUMPS": 1, "SYNTHETIC_LEATHER": 1, "AGRICULTURE": 2,
}  # fmt: skip
_INSTITUTION_SECTORS = ("EDUCATION", "EDUCATION", "HEALTH", "CULTURE")


@dataclass(slots=True)
class Organisations:
    units: dict[SubjectKind, list[Unit]]
    ties: list[Tie]  # in planning order, which fixes link ids


def build_organisations(
    pop: Population, layout: BlockLayout, seed: int, rng: random.Random
) -> Organisations:
    builder = _Builder(pop, layout, seed, rng)
    for local in range(layout.units[PI]):
        builder.institution(local)
    for local in range(layout.units[E]):
        builder.enterprise(local)
    for local in range(layout.units[IB]):
        builder.individual(local)
    builder.assign_contacts()
    return Organisations(builder.units, builder.ties)


class _Builder:
    def __init__(self, pop: Population, layout: BlockLayout, seed: int, rng: random.Random) -> None:
        self.pop, self.layout, self.seed, self.rng = pop, layout, seed, rng
        self.birth = pop.birth
        self.pool = LeaderPool(pop)
        self.units: dict[SubjectKind, list[Unit]] = {k: [] for k in UNIT_KINDS}
        self.ties: list[Tie] = []
        self.owners: list[Unit] = []  # enterprises that are not branches
        self.organs: list[Unit] = []  # government organs (type code 11)
        self.firm_industries = _industry_table(layout.district, False)
        self.shop_industries = _industry_table(layout.district, True)

    # -- building blocks ---------------------------------------------------------------

    def _unit(
        self, kind: SubjectKind, local: int, type_code: str, est: int, industry: str, head: int
    ) -> Unit:
        uid = unit_id(
            kind, type_code, self.layout.district.code, self.layout.lane, local, self.seed
        )
        unit = Unit(kind, local, uid, type_code, est, industry, head, head)
        self.units[kind].append(unit)
        return unit

    def _tie(
        self,
        rel: Rel,
        dst: Unit,
        start: int,
        end: int | None = None,
        *,
        person: int | None = None,
        unit: Unit | None = None,
        ratio_bp: int = 0,
        role: str | None = None,
    ) -> Tie:
        tie = Tie(rel, dst, start, end, person, unit, ratio_bp, role)
        self.ties.append(tie)
        if rel is Rel.EXECUTIVE_OF:
            dst.executives.append(tie)
        return tie

    def _adult_from(self, person: int, earliest: int, years: int = 22) -> int:
        return max(earliest, years_after(self.birth[person], years))

    def _recent(self, lo: int, mode_share: float) -> int:
        """A day in [lo, LAST_EVENT], most likely late in the range (firms are young)."""
        span = LAST_EVENT_ORD - lo
        return lo + int(self.rng.triangular(0, span, span * mode_share))

    def _lead(self, unit: Unit, periods: list[tuple[int, int, int | None]], role: str) -> None:
        for person, start, end in periods:
            self._tie(Rel.LEGAL_REPRESENTATIVE_OF, unit, start, end, person=person)
            self._tie(Rel.EXECUTIVE_OF, unit, start, end, person=person, role=role)
        unit.founder, unit.leader = periods[0][0], periods[-1][0]

    def _staff(self, unit: Unit, role: str, taken: set[int], person: int | None = None) -> None:
        if person is None:
            person = self.pool.pick_other(self.rng, taken)
        if person is None:
            return
        taken.add(person)
        start = self._adult_from(person, unit.established)
        self._tie(Rel.EXECUTIVE_OF, unit, start, person=person, role=role)

    # -- public institutions -----------------------------------------------------------

    def institution(self, local: int) -> None:
        rng = self.rng
        r = rng.random()
        type_code = "12" if r < 0.6 else "11" if r < 0.8 else "52"
        if type_code == "52":
            est = rng.randint(year_start(1990), year_start(2023))
            industry = "SOCIAL_ORGANISATION"
        else:
            lo = year_start(1950)
            est = lo + int(rng.triangular(0, year_start(2016) - lo, year_start(1985) - lo))
            industry = (
                "PUBLIC_ADMINISTRATION" if type_code == "11" else rng.choice(_INSTITUTION_SECTORS)
            )
        leader, start = self._appointee(est)
        unit = self._unit(PI, local, type_code, est, industry, leader)
        periods: list[tuple[int, int, int | None]] = [(leader, start, None)]
        if rng.random() < 0.3:
            before = self.pool.pick_other(rng, {leader})
            if before is not None:
                since = self._adult_from(before, est, 30)
                if since < start:
                    periods.insert(0, (before, since, start))
        head_role = ExecutiveRole.CHAIR if type_code == "52" else ExecutiveRole.PRINCIPAL
        self._lead(unit, periods, head_role)
        taken = {p for p, _, _ in periods}
        deputy = ExecutiveRole.DIRECTOR if type_code == "52" else ExecutiveRole.OTHER
        for _ in range(rng.choice((0, 1, 1, 2))):
            self._staff(unit, deputy, taken)
        if type_code == "11":
            self.organs.append(unit)

    def _appointee(self, est: int) -> tuple[int, int]:
        """A head for an institution and the day the appointment began."""
        for _ in range(10):
            person = self.pool.pick(self.rng)
            lo = max(self._adult_from(person, est, 30), year_start(2000))
            if lo <= LAST_EVENT_ORD:
                return person, self.rng.randint(lo, LAST_EVENT_ORD)
        return person, self._adult_from(person, est)

    # -- enterprises -------------------------------------------------------------------

    def enterprise(self, local: int) -> None:
        rng = self.rng
        founder = self.pool.pick(rng)
        parent = rng.choice(self.owners) if self.owners and rng.random() < 0.04 else None
        if parent is not None:
            lo = max(parent.established + 30, self._adult_from(founder, year_start(1995)))
            if lo > LAST_EVENT_ORD:
                parent = None
        coop = parent is None and rng.random() < 0.03
        if parent is None:
            lo = self._adult_from(founder, year_start(1990))
        est = self._recent(lo, 0.75)
        industry = (
            parent.industry
            if parent
            else "AGRICULTURE"
            if coop
            else self._draw(self.firm_industries)
        )
        unit = self._unit(E, local, "93" if coop else "91", est, industry, founder)
        if est < year_start(2023) and rng.random() < 0.08:
            unit.status = "DEREGISTERED"
        if parent is not None:
            unit.parent = parent
            self._tie(Rel.BRANCH_OF, parent, est, unit=unit)
            self._lead(unit, [(founder, est, None)], ExecutiveRole.GENERAL_MANAGER)
            return
        self._lead(unit, self._succession(founder, est), self._head_role())
        self._board(unit)
        corporate = self._shareholders(unit)
        self._controller(unit, corporate)
        self.owners.append(unit)

    def _head_role(self) -> str:
        return ExecutiveRole.CHAIR if self.rng.random() < 0.3 else ExecutiveRole.GENERAL_MANAGER

    def _succession(self, founder: int, est: int) -> list[tuple[int, int, int | None]]:
        """Legal representatives over time: about one firm in seven has changed theirs."""
        if self.rng.random() < 0.15:
            successor = self.pool.pick_other(self.rng, {founder})
            if successor is not None:
                lo = max(est + 180, self._adult_from(successor, est))
                if lo < LAST_EVENT_ORD:
                    change = self.rng.randint(lo, LAST_EVENT_ORD)
                    return [(founder, est, change), (successor, change, None)]
        return [(founder, est, None)]

    def _board(self, unit: Unit) -> None:
        rng = self.rng
        taken = {t.person for t in unit.executives if t.person is not None}
        if any(t.role == ExecutiveRole.CHAIR for t in unit.executives):
            self._staff(unit, ExecutiveRole.GENERAL_MANAGER, taken)
        spouse = self.pop.spouse_of(unit.founder)
        if spouse is not None and spouse not in taken and rng.random() < 0.6:
            self._staff(unit, ExecutiveRole.SUPERVISOR, taken, spouse)  # the family firm
        else:
            self._staff(unit, ExecutiveRole.SUPERVISOR, taken)
        for _ in range(rng.choice((0, 0, 1, 2, 3))):
            self._staff(unit, ExecutiveRole.DIRECTOR, taken)
        if rng.random() < 0.05:
            self._staff(unit, ExecutiveRole.OTHER, taken)

    def _hold(
        self, unit: Unit, bp: int, *, person: int | None = None, holder: Unit | None = None,
        start: int | None = None,
    ) -> Tie:  # fmt: skip
        if start is None:
            start = (
                self._adult_from(person, unit.established, 18)
                if person is not None
                else max(unit.established, holder.established if holder else 0)
            )
        return self._tie(Rel.SHAREHOLDER_OF, unit, start, person=person, unit=holder, ratio_bp=bp)

    def _shareholders(self, unit: Unit) -> Tie | None:
        """Plan the shareholders; returns the corporate holder's tie, if there is one.

        Ratios are in basis points and add up to exactly 10,000 per firm, so the sum
        is never above 1 at any time: a transfer ends one holding the day the next begins.
        """
        rng, pool = self.rng, self.pool
        holders = [unit.founder]
        spouse = self.pop.spouse_of(unit.founder)
        if spouse is not None and rng.random() < 0.35:
            holders.append(spouse)
        for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
            other = pool.pick_other(rng, set(holders))
            if other is not None:
                holders.append(other)
        corporate: Unit | None = None
        r = rng.random()
        if r < 0.15 and self.owners:
            corporate = rng.choice(self.owners)
        elif r < 0.18 and self.organs:
            corporate = rng.choice(self.organs)  # a state-owned firm
        if corporate is not None:
            unit.corporate_holder = corporate
            if rng.random() < 0.3:  # wholly-owned subsidiary
                return self._hold(unit, 10_000, holder=corporate)
        weights = [3 + 4 * rng.random()] + [0.5 + 2 * rng.random() for _ in holders[1:]]
        if corporate is not None:
            weights.append(1 + 6 * rng.random())
        total = sum(weights)
        shares = [max(50, round(10_000 * w / total / 50) * 50) for w in weights[1:]]
        unit.founder_holding = self._hold(unit, 10_000 - sum(shares), person=unit.founder)
        person_ties = [
            self._hold(unit, bp, person=p) for p, bp in zip(holders[1:], shares, strict=False)
        ]
        corporate_tie = self._hold(unit, shares[-1], holder=corporate) if corporate else None
        if person_ties and rng.random() < 0.1:
            self._transfer(unit, person_ties[-1], set(holders))
        if corporate is not None and corporate.kind is E and rng.random() < 0.12:
            self._cross_hold(unit, corporate)
        return corporate_tie

    def _transfer(self, unit: Unit, tie: Tie, holders: set[int]) -> None:
        buyer = self.pool.pick_other(self.rng, holders)
        if buyer is None:
            return
        lo = max(tie.start + 180, self._adult_from(buyer, tie.start, 18))
        if lo < LAST_EVENT_ORD:
            tie.end = self.rng.randint(lo, LAST_EVENT_ORD)
            self._hold(unit, tie.ratio_bp, person=buyer, start=tie.end)

    def _cross_hold(self, unit: Unit, corporate: Unit) -> None:
        """`unit` takes a stake in its corporate holder (or in that one's holder): a cycle."""
        target = corporate
        grand = corporate.corporate_holder
        if grand is not None and grand.kind is E and self.rng.random() < 0.4:
            target = grand  # a three-firm cycle
        stake = self.rng.randrange(500, 2001, 50)
        held = target.founder_holding
        if held is not None and held.ratio_bp > stake + 100:
            held.ratio_bp -= stake  # the stake comes out of the founder's, so the sum holds
            self._hold(target, stake, holder=unit)

    def _controller(self, unit: Unit, corporate: Tie | None) -> None:
        """About one firm in five declares an actual controller."""
        rng = self.rng
        if rng.random() >= 0.2:
            return
        owner = corporate.unit if corporate is not None else None
        majority = corporate is not None and corporate.ratio_bp >= 5000
        if owner is not None and majority and rng.random() < 0.7:
            start = max(unit.established, owner.established)
            self._tie(Rel.ACTUAL_CONTROLLER_OF, unit, start, unit=owner)
            return
        person = unit.founder
        if rng.random() < 0.25:  # the founder fronts for a parent or spouse
            for relative in (self.pop.parent_of(person), self.pop.spouse_of(person)):
                if relative is not None and self.birth[relative] <= ADULT_BIRTH_ORD:
                    person = relative
                    break
        start = self._adult_from(person, unit.established, 18)
        self._tie(Rel.ACTUAL_CONTROLLER_OF, unit, start, person=person)

    # -- individual businesses ---------------------------------------------------------

    def individual(self, local: int) -> None:
        operator = self.pool.pick(self.rng)
        est = self._recent(self._adult_from(operator, year_start(2000), 20), 0.8)
        unit = self._unit(IB, local, "92", est, self._draw(self.shop_industries), operator)
        if est < year_start(2025) and self.rng.random() < 0.12:
            unit.status = "DEREGISTERED"
        self._tie(Rel.LEGAL_REPRESENTATIVE_OF, unit, est, person=operator)
        self._tie(Rel.OPERATOR_OF, unit, est, person=operator)

    # -- contacts ----------------------------------------------------------------------

    def assign_contacts(self) -> None:
        """Own numbers and addresses, except a few shared with another unit or a person.

        About 3% share a number with another unit, 2% use some resident's mobile (not
        their own leader's) and 3% share a registered address: the hidden links that
        suspected-link detection should find.
        """
        rng, layout = self.rng, self.layout
        seen: list[Unit] = []
        for kind in UNIT_KINDS:
            base = layout.unit_base(kind)
            for unit in self.units[kind]:
                own = base + unit.local
                unit.phone_owner = (False, layout.unit_offset + own)
                unit.address_owner = layout.district_unit_offset + own
                r = rng.random()
                if seen and r < 0.03:
                    unit.phone_owner = rng.choice(seen).phone_owner
                elif r < 0.05:
                    person = self.pool.pick(rng)
                    if person not in (unit.leader, unit.founder):
                        unit.phone_owner = (True, self.pop.phone_owner[person])
                if seen and rng.random() < 0.03:
                    unit.address_owner = rng.choice(seen).address_owner
                seen.append(unit)

    def _draw(self, table: tuple[list[str], list[float]]) -> str:
        keys, cum = table
        return keys[bisect.bisect_right(cum, self.rng.random() * cum[-1])]


_TABLES: dict[tuple[str, bool], tuple[list[str], list[float]]] = {}


def _industry_table(district: District, shops: bool) -> tuple[list[str], list[float]]:
    """Cumulative industry weights for a district, its signature trades boosted."""
    key = (district.code, shops)
    if key not in _TABLES:
        keys: list[str] = []
        cum: list[float] = []
        total = 0.0
        for industry in INDUSTRIES:
            base = _SHOP_WEIGHTS[industry.key] if shops else industry.weight
            boost = district.industry_boost.get(industry.key, 1.0)
            total += base * (boost**0.5 if shops else boost)
            keys.append(industry.key)
            cum.append(total)
        _TABLES[key] = (keys, cum)
    return _TABLES[key]
