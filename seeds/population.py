"""A block's residents: households, who is in them, birth dates and resident IDs.

Ages are drawn per household so that roles fit: children are born 22-40 years after
their mother, parents 22-36 years before the head. Resident IDs are built lazily
(the check character is the costliest part) and only for the persons a stream needs.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from domain.identifiers import make_resident_id
from domain.vocabulary import HouseholdRole
from seeds.dates import (
    FIRST_BIRTH_ORD,
    LAST_BIRTH_ORD,
    LAST_EVENT_ORD,
    YEAR,
    from_ordinal,
    year_start,
)
from seeds.layout import PERSONS_PER_BLOCK, SEQ_FIRST, BlockLayout

H, S, C, P, OTH = (
    HouseholdRole.HEAD,
    HouseholdRole.SPOUSE,
    HouseholdRole.CHILD,
    HouseholdRole.PARENT,
    HouseholdRole.OTHER,
)
# Household compositions weighted so that sizes 1..6 come out near 25/28/22/14/7/4 %
# (a mean of about 2.6, as in Zhejiang's census).
_COMPOSITIONS: tuple[tuple[tuple[HouseholdRole, ...], float], ...] = (
    ((H,), 25.0),
    ((H, S), 15.4), ((H, C), 7.0), ((H, P), 5.6),
    ((H, S, C), 17.6), ((H, S, P), 4.4),
    ((H, S, C, C), 9.1), ((H, S, C, P), 4.2), ((H, S, C, OTH), 0.7),
    ((H, S, C, C, P), 3.5), ((H, S, C, C, C), 2.1), ((H, S, C, P, P), 1.4),
    ((H, S, C, C, P, P), 4.0),
)  # fmt: skip
_CUM_WEIGHTS: list[float] = []
for _, _w in _COMPOSITIONS:
    _CUM_WEIGHTS.append((_CUM_WEIGHTS[-1] if _CUM_WEIGHTS else 0.0) + _w)

# Head's birth-year window (first, last, most likely) by (has children, has parents).
_HEAD_YEARS = {
    (True, True): (1962, 1994, 1978),
    (True, False): (1950, 1996, 1975),
    (False, True): (1966, 2000, 1990),
    (False, False): (1940, 2000, 1962),
}
ADULT_BIRTH_ORD = dt.date(2001, 12, 31).toordinal()  # 24+ in the world's today
PHONE_BIRTH_ORD = dt.date(2012, 12, 31).toordinal()  # old enough to have a phone
_PHONE_SHARE = 0.01


@dataclass(slots=True)
class Population:
    layout: BlockLayout
    seq_width: int
    birth: list[int] = field(default_factory=list)  # date ordinals
    male: list[bool] = field(default_factory=list)
    seq: list[int] = field(default_factory=list)
    household: list[int] = field(default_factory=list)
    role: list[HouseholdRole] = field(default_factory=list)
    joined: list[int] = field(default_factory=list)  # MEMBER_OF validFrom, as ordinal
    phone_owner: list[int] = field(default_factory=list)  # global person index; -1 = none
    hh_first: list[int] = field(default_factory=list)
    hh_size: list[int] = field(default_factory=list)
    _ids: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.birth)

    def person_id(self, i: int) -> str:
        pid = self._ids[i]
        if pid is None:
            pid = make_resident_id(
                self.layout.district.code, from_ordinal(self.birth[i]), self.seq[i]
            )
            self._ids[i] = pid
        return pid

    def household_id(self, h: int) -> str:
        serial = self.layout.lane * PERSONS_PER_BLOCK + h + 1
        return f"{self.layout.district.code}{serial:07d}"

    def members(self, h: int) -> range:
        first = self.hh_first[h]
        return range(first, first + self.hh_size[h])

    def spouse_of(self, i: int) -> int | None:
        """i's spouse, as the household register shows it (head and spouse)."""
        role = self.role[i]
        if role is H:
            return self._member(i, S)
        return self._member(i, H) if role is S else None

    def parent_of(self, i: int) -> int | None:
        """One of i's parents registered in the same household, if any."""
        role = self.role[i]
        if role is H or role is S:
            return self._member(i, P)
        return self._member(i, H) if role is C else None

    def _member(self, i: int, role: HouseholdRole) -> int | None:
        for j in self.members(self.household[i]):
            if j != i and self.role[j] is role:
                return j
        return None


def build_population(layout: BlockLayout, seq_width: int, rng: random.Random) -> Population:
    pop = Population(layout, seq_width)
    remaining = layout.persons
    while remaining > 0:
        roles = rng.choices(_COMPOSITIONS, cum_weights=_CUM_WEIGHTS)[0][0][:remaining]
        _add_household(pop, roles, rng)
        remaining -= len(roles)
    _assign_sequences(pop)
    _share_phones(pop, rng)
    pop._ids = [None] * len(pop.birth)
    return pop


def _add_household(pop: Population, roles: tuple[HouseholdRole, ...], rng: random.Random) -> None:
    h = len(pop.hh_first)
    pop.hh_first.append(len(pop.birth))
    pop.hh_size.append(len(roles))
    lo, hi, mode = _HEAD_YEARS[(C in roles, P in roles)]
    start = year_start(lo)
    head_birth = start + int(
        rng.triangular(0, year_start(hi + 1) - start - 1, year_start(mode) - start)
    )
    head_male = rng.random() < 0.8
    head_joined = min(head_birth + rng.randint(20 * YEAR, 32 * YEAR), LAST_EVENT_ORD)
    mother = head_birth if not head_male else None
    next_child = 0
    parents_seen = 0
    for role in roles:
        if role is H:
            birth, male, joined = head_birth, head_male, head_joined
        elif role is S:
            gap = (
                rng.randint(-3 * YEAR, 5 * YEAR) if head_male else rng.randint(-5 * YEAR, 3 * YEAR)
            )
            birth = _clamp(head_birth + gap, FIRST_BIRTH_ORD, ADULT_BIRTH_ORD)
            male = not head_male
            joined = min(
                max(head_joined, birth + 20 * YEAR) + rng.randint(0, 3 * YEAR), LAST_EVENT_ORD
            )
            if head_male:
                mother = birth
        elif role is C:
            base = mother if mother is not None else head_birth
            if next_child == 0:
                next_child = base + rng.randint(22 * YEAR, 34 * YEAR)
            else:
                next_child += rng.randint(YEAR, 6 * YEAR)
            birth = min(next_child, LAST_BIRTH_ORD)
            male = rng.random() < 0.515
            joined = max(birth, head_joined)
        elif role is P:
            # two parents are a couple; a lone parent is more often a widowed mother
            male = parents_seen == 0 if roles.count(P) > 1 else rng.random() < 0.35
            parents_seen += 1
            birth = _clamp(
                head_birth - rng.randint(22 * YEAR, 36 * YEAR),
                FIRST_BIRTH_ORD,
                head_birth - 18 * YEAR,
            )
            joined = min(head_joined + rng.randint(0, 15 * YEAR), LAST_EVENT_ORD)
        else:
            birth = _clamp(
                head_birth + rng.randint(-8 * YEAR, 8 * YEAR), FIRST_BIRTH_ORD, LAST_BIRTH_ORD
            )
            male = rng.random() < 0.5
            joined = min(max(head_joined, birth) + rng.randint(0, 10 * YEAR), LAST_EVENT_ORD)
        pop.birth.append(birth)
        pop.male.append(male)
        pop.household.append(h)
        pop.role.append(role)
        pop.joined.append(max(joined, birth))


def _clamp(value: int, lo: int, hi: int) -> int:
    return lo if value < lo else hi if value > hi else value


def _assign_sequences(pop: Population) -> None:
    """Give each person a sequence number unique for (district, birth date).

    The block uses only its lane's range of numbers, odd for men and even for women as
    on real IDs; when a date's share runs out the birth date moves by a day.
    """
    half = pop.seq_width // 2
    base = SEQ_FIRST + pop.layout.lane * pop.seq_width
    used: dict[int, int] = {}
    birth, male, seq = pop.birth, pop.male, pop.seq
    for i in range(len(birth)):
        b = birth[i]
        m = 1 if male[i] else 0
        step = 1 if b < LAST_BIRTH_ORD - 366 else -1
        while (count := used.get(2 * b + m, 0)) >= half:
            b += step
        used[2 * b + m] = count + 1
        if b != birth[i]:
            birth[i] = b
            pop.joined[i] = max(pop.joined[i], b)
        seq.append(base + 2 * count + m)


def _share_phones(pop: Population, rng: random.Random) -> None:
    """Give phones to everyone old enough; about 1% use another household's number."""
    offset = pop.layout.person_offset
    with_phone: list[int] = []
    owner = pop.phone_owner
    for i, b in enumerate(pop.birth):
        if b > PHONE_BIRTH_ORD:
            owner.append(-1)
            continue
        own = offset + i
        if with_phone and rng.random() < _PHONE_SHARE:
            partner = rng.choice(with_phone)
            if pop.household[partner] != pop.household[i]:
                own = owner[partner]
        owner.append(own)
        with_phone.append(i)
