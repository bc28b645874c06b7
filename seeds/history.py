"""A block's link history: ties that ended before the world's today (`WorldSpec.link_history`).

Past household registrations, former officers, former heads (legal representative and
head executive together) of public institutions, and former shareholders of stakes that
a current holder took over later. Each runs [start, end) with start < end <= LAST_EVENT,
so a check about today never follows one, and a check as of a day inside it does.

History only adds: it is planned from the block's finished plan on a random stream of its
own, never touches a planned unit or tie (sanctions read those), and every history tie
fits around the current ones under the rules they follow:

- a person is registered in one household at a time: past registrations end by the day the
  current one began, and are as CHILD or OTHER (a household's HEAD and SPOUSE stay unique);
- a unit has one legal representative at a time: former heads end by the day the first
  planned one began, which for an institution is often years after it was established
  (firms and shops are led from their first day, so their history is officers and owners);
- a firm's shares never add up to more than the whole on any day: a former holding takes a
  stake that no one held before its current holder's tie began;
- no history tie joins a pair that another tie of its type already joins.
"""

from __future__ import annotations

import bisect
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from domain.identifiers import SubjectKind
from domain.vocabulary import ExecutiveRole, HouseholdRole, Rel
from seeds.dates import LAST_EVENT_ORD, YEAR, years_after
from seeds.organisations import Organisations
from seeds.population import Population
from seeds.units import LeaderPool, Tie, Unit

# -- rates -----------------------------------------------------------------------------------

# Household registrations before the current one, for heads, spouses and OTHER members (who
# joined as adults). Almost everyone was first registered in a parents' (or a relative's)
# household; many also passed through others (a school's or employer's collective household,
# a relative's) on the way: 0, 1 or 2 of those with these weights.
ORIGIN_RATE = 0.95
INTERMEDIATE_WEIGHTS: tuple[float, float, float] = (0.35, 0.45, 0.20)
# A firm's or institution's former officers: each full year of its life, a chance of one.
FORMER_OFFICER_RATE = 0.12
# Public institutions whose first recorded head took over years after the founding: how
# many get the earlier heads (up to MAX_FORMER_HEADS), chained back towards the founding.
FORMER_HEADS_RATE = 0.8
MAX_FORMER_HEADS = 3
# A current holding that began a year or more after its firm was established: how often
# someone else held that stake before.
FORMER_HOLDER_RATE = 0.8

H, S, C, OTH = HouseholdRole.HEAD, HouseholdRole.SPOUSE, HouseholdRole.CHILD, HouseholdRole.OTHER
_MOVERS = frozenset({H, S, OTH})  # roles whose current registration began in adulthood
_OFFICER_ROLES: dict[str, tuple[str, ...]] = {
    "91": (ExecutiveRole.DIRECTOR, ExecutiveRole.DIRECTOR, ExecutiveRole.SUPERVISOR,
           ExecutiveRole.OTHER),
    "93": (ExecutiveRole.DIRECTOR, ExecutiveRole.SUPERVISOR),
    "11": (ExecutiveRole.OTHER,),
    "12": (ExecutiveRole.OTHER,),
    "52": (ExecutiveRole.DIRECTOR,),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class PastMembership:
    person: int
    household: int
    start: int  # date ordinals, [start, end)
    end: int
    role: HouseholdRole


@dataclass(slots=True)
class History:
    memberships: list[PastMembership]
    ties: list[Tie]  # ended ties between subjects, in planning order (which fixes link ids)

    def count(self, rel: Rel) -> int:
        if rel is Rel.MEMBER_OF:
            return len(self.memberships)
        return sum(1 for t in self.ties if t.rel is rel)


def build_history(pop: Population, orgs: Organisations, rng: random.Random) -> History:
    planner = _Planner(pop, orgs, rng)
    planner.households()
    for unit in orgs.units[SubjectKind.PUBLIC_INSTITUTION]:
        planner.former_heads(unit)
        planner.former_officers(unit)
    for unit in orgs.units[SubjectKind.ENTERPRISE]:
        if unit.parent is None:  # a branch is run by its parent's appointee
            planner.former_officers(unit)
            planner.former_holders(unit)
    return History(planner.memberships, planner.ties)


class _Planner:
    def __init__(self, pop: Population, orgs: Organisations, rng: random.Random) -> None:
        self.pop, self.rng = pop, rng
        self.pool = LeaderPool(pop)
        self.memberships: list[PastMembership] = []
        self.ties: list[Tie] = []
        self.by_unit: defaultdict[int, list[Tie]] = defaultdict(list)  # by id(dst)
        for tie in orgs.ties:
            self.by_unit[id(tie.dst)].append(tie)

    def _tie(
        self,
        rel: Rel,
        unit: Unit,
        start: int,
        end: int,
        person: int,
        *,
        ratio_bp: int = 0,
        role: str | None = None,
    ) -> Tie:
        assert start < end <= LAST_EVENT_ORD, (rel, start, end)
        tie = Tie(rel, unit, start, end, person=person, ratio_bp=ratio_bp, role=role)
        self.ties.append(tie)
        self.by_unit[id(unit)].append(tie)
        return tie

    def _people(self, unit: Unit, rel: Rel | None = None) -> set[int]:
        """Persons already tied to `unit` (by `rel`, or by anything)."""
        return {
            t.person
            for t in self.by_unit[id(unit)]
            if t.person is not None and (rel is None or t.rel is rel)
        }

    # -- households --------------------------------------------------------------------------

    def households(self) -> None:
        pop, rng = self.pop, self.rng
        n_households = len(pop.hh_first)
        if n_households < 3:
            return
        heads = sorted(range(n_households), key=lambda h: pop.birth[pop.hh_first[h]])
        head_births = [pop.birth[pop.hh_first[h]] for h in heads]
        for i in range(len(pop)):
            if pop.role[i] not in _MOVERS:
                continue
            birth, joined = pop.birth[i], pop.joined[i]
            if joined - birth < 2 * YEAR or rng.random() >= ORIGIN_RATE:
                continue
            own = pop.household[i]
            origin = self._origin(birth, joined, own, heads, head_births)
            if origin is None:
                continue
            household, start, role = origin
            k = rng.choices((0, 1, 2), weights=INTERMEDIATE_WEIGHTS)[0]
            lo, hi = max(start + YEAR, years_after(birth, 16)), joined - 180
            cuts = sorted({rng.randint(lo, hi) for _ in range(k)}) if lo <= hi else []
            ends = [*cuts, joined]
            self.memberships.append(PastMembership(i, household, start, ends[0], role))
            seen = [own, household]
            for m, cut in enumerate(cuts):
                other = self._other_household(seen)
                if other is None:
                    break
                self.memberships.append(PastMembership(i, other, cut, ends[m + 1], OTH))
                seen.append(other)

    def _origin(
        self, birth: int, joined: int, own: int, heads: list[int], head_births: list[int]
    ) -> tuple[int, int, HouseholdRole] | None:
        """Where a person was first registered: a household whose head is 16-45 years older
        (as CHILD), else some other household (as OTHER, a relative's); None if none fits."""
        pop, rng = self.pop, self.rng
        lo = bisect.bisect_left(head_births, birth - 45 * YEAR)
        hi = bisect.bisect_right(head_births, birth - 16 * YEAR)
        for role in (C, OTH):
            for _ in range(4):
                if role is C:
                    if lo >= hi:
                        break
                    household = heads[rng.randrange(lo, hi)]
                else:
                    household = rng.randrange(len(pop.hh_first))
                if household == own:
                    continue
                start = max(birth, pop.joined[pop.hh_first[household]])
                if start <= joined - YEAR:
                    return household, start, role
        return None

    def _other_household(self, avoid: list[int]) -> int | None:
        for _ in range(4):
            household = self.rng.randrange(len(self.pop.hh_first))
            if household not in avoid:
                return household
        return None

    # -- units -------------------------------------------------------------------------------

    def former_heads(self, unit: Unit) -> None:
        """Earlier heads of an institution whose first recorded head came years after founding."""
        rng = self.rng
        first = min(
            (t.start for t in self.by_unit[id(unit)] if t.rel is Rel.LEGAL_REPRESENTATIVE_OF),
            default=None,
        )
        if first is None or first - unit.established < YEAR or rng.random() >= FORMER_HEADS_RATE:
            return
        role = ExecutiveRole.CHAIR if unit.type_code == "52" else ExecutiveRole.PRINCIPAL
        taken = self._people(unit)
        end = first
        for _ in range(MAX_FORMER_HEADS):
            if end - unit.established < YEAR:
                break
            person = self.pool.pick_other(rng, taken)
            if person is None:
                break
            taken.add(person)
            lo = max(unit.established, years_after(self.pop.birth[person], 30))
            if lo > end - YEAR:
                continue
            start = max(lo, end - rng.randint(3 * YEAR, 10 * YEAR))
            self._tie(Rel.LEGAL_REPRESENTATIVE_OF, unit, start, end, person)
            self._tie(Rel.EXECUTIVE_OF, unit, start, end, person, role=role)
            end = start

    def former_officers(self, unit: Unit) -> None:
        """Directors, supervisors and other officers who served a while and left."""
        rng = self.rng
        years = min((LAST_EVENT_ORD - unit.established) // YEAR, 30)
        n = sum(1 for _ in range(years) if rng.random() < FORMER_OFFICER_RATE)
        if n == 0:
            return
        roles: Sequence[str] = _OFFICER_ROLES.get(unit.type_code, (ExecutiveRole.OTHER,))
        taken = self._people(unit)
        for _ in range(n):
            person = self.pool.pick_other(rng, taken)
            if person is None:
                return
            taken.add(person)
            lo = max(unit.established, years_after(self.pop.birth[person], 22))
            hi = LAST_EVENT_ORD - YEAR
            if lo > hi:
                continue
            start = rng.randint(lo, hi)
            end = min(start + rng.randint(YEAR, 8 * YEAR), LAST_EVENT_ORD)
            self._tie(Rel.EXECUTIVE_OF, unit, start, end, person, role=rng.choice(roles))

    def former_holders(self, unit: Unit) -> None:
        """Someone held a stake before the current holder's tie began, a year or more after
        the firm's founding (a group that bought in later, a holder who came of age later)."""
        rng = self.rng
        holdings = [t for t in self.by_unit[id(unit)] if t.rel is Rel.SHAREHOLDER_OF]
        holders = self._people(unit, Rel.SHAREHOLDER_OF)
        for tie in holdings:
            if tie.start - unit.established < YEAR or rng.random() >= FORMER_HOLDER_RATE:
                continue
            person = self.pool.pick_other(rng, holders)
            if person is None:
                return
            start = max(unit.established, years_after(self.pop.birth[person], 18))
            end = tie.start
            if start > end - 180:
                continue
            current = [t for t in self.by_unit[id(unit)] if t.rel is Rel.SHAREHOLDER_OF]
            if not _room(current, start, end, tie.ratio_bp):
                continue
            holders.add(person)
            self._tie(Rel.SHAREHOLDER_OF, unit, start, end, person, ratio_bp=tie.ratio_bp)


def _room(holdings: list[Tie], start: int, end: int, bp: int) -> bool:
    """Whether `bp` more basis points fit under the whole on every day of [start, end).

    The held total only rises when a holding begins, so the days to look at are `start` and
    every beginning inside the interval.
    """
    days = {start} | {t.start for t in holdings if start <= t.start < end}
    for day in days:
        held = sum(
            t.ratio_bp for t in holdings if t.start <= day and (t.end is None or day < t.end)
        )
        if held + bp > 10_000:
            return False
    return True
