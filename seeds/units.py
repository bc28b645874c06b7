"""Units and ties in plan form, before they become rows.

A block first plans its units and the ties between them and its residents as small
objects, so later decisions (a cross-holding that takes part of an earlier firm's
shares) can still adjust earlier plans; rows are made from the final plan.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from dataclasses import dataclass, field

from domain.identifiers import USCC_CHARSET, SubjectKind, make_uscc
from domain.vocabulary import Rel
from seeds.geography import DISTRICTS
from seeds.layout import UNIT_KINDS
from seeds.population import ADULT_BIRTH_ORD, Population

_DISTRICT_NO = {d.code: i for i, d in enumerate(DISTRICTS)}
_ORG_SPACE = 31**8
_ORG_MULT = 7_777_777_777  # not a multiple of 31: x -> a*x + b is a bijection modulo 31**8
_OLDEST_LEADER_ORD = dt.date(1945, 1, 1).toordinal()
_PRIME_AGE = (dt.date(1955, 1, 1).toordinal(), dt.date(1995, 12, 31).toordinal())


@dataclass(slots=True, eq=False)
class Unit:
    kind: SubjectKind
    local: int  # index among the block's units of this kind
    id: str
    type_code: str
    established: int  # date ordinal
    industry: str
    founder: int  # person index: first legal representative, main shareholder
    leader: int  # person index: current legal representative
    status: str = "ACTIVE"
    parent: Unit | None = None  # the firm this one is a branch of
    corporate_holder: Unit | None = None
    founder_holding: Tie | None = None
    executives: list[Tie] = field(default_factory=list)
    phone_owner: tuple[bool, int] = (False, 0)  # (is a person's number, global index)
    address_owner: int = 0  # index within the district of the unit whose address it uses


@dataclass(slots=True, eq=False)
class Tie:
    """One planned relationship: from a person (index) or a unit, to a unit."""

    rel: Rel
    dst: Unit
    start: int  # date ordinal
    end: int | None = None
    person: int | None = None
    unit: Unit | None = None
    ratio_bp: int = 0  # shareholding in basis points
    role: str | None = None


def unit_id(kind: SubjectKind, type_code: str, area: str, lane: int, local: int, seed: int) -> str:
    """A USCC unique per (kind, district, lane, local): the serial is scrambled, not hashed."""
    # (kind, district, lane, local) packs into < 2.7e11, inside the 31**8 code space
    serial = (((UNIT_KINDS.index(kind) * 64 + _DISTRICT_NO[area]) * 1024 + lane) << 20) + local
    x = (_ORG_MULT * serial + seed) % _ORG_SPACE
    chars = []
    for _ in range(8):
        x, digit = divmod(x, 31)
        chars.append(USCC_CHARSET[digit])
    return make_uscc(type_code, area, "".join(chars))


class LeaderPool:
    """Adults who may lead, own or sit on the board of a unit.

    Household heads and spouses in their prime are the likeliest, which also makes many
    leaders parents of registered children.
    """

    def __init__(self, pop: Population) -> None:
        self.pop = pop
        self.people: list[int] = []
        self.cum: list[float] = []
        total = 0.0
        lo, hi = _PRIME_AGE
        for i, b in enumerate(pop.birth):
            if b > ADULT_BIRTH_ORD or b < _OLDEST_LEADER_ORD:
                continue
            role = pop.role[i].value
            weight = 4.0 if role == "HEAD" else 2.5 if role == "SPOUSE" else 1.0
            if not lo <= b <= hi:
                weight *= 0.35
            total += weight
            self.people.append(i)
            self.cum.append(total)
        if not self.people:
            # a tiny block whose only adults are its oldest (born before 1945): they lead
            for i, b in enumerate(pop.birth):
                if b <= ADULT_BIRTH_ORD:
                    total += 1.0
                    self.people.append(i)
                    self.cum.append(total)
        if not self.people:
            # a block always has a household head, and heads are born by 2000
            raise ValueError(f"block {pop.layout.index} has no adult to lead its units")

    def pick(self, rng: random.Random) -> int:
        return self.people[bisect.bisect_right(self.cum, rng.random() * self.cum[-1])]

    def pick_other(self, rng: random.Random, avoid: set[int]) -> int | None:
        """Someone not in `avoid`, or None when a small block keeps offering the same few."""
        for _ in range(8):
            i = self.pick(rng)
            if i not in avoid:
                return i
        return None
