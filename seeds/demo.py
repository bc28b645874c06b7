"""The demo world: about 2,000 subjects, every kind of link, and a showcase to tell.

Wenzhou's true mix (3.7% enterprises, 0.15% institutions, 8.4% individual businesses,
88% residents) would give a 2,000-subject demo about 3 public institutions and barely
70 firms, too few to show ownership chains, branches, boards and list entries of every
type. So the demo over-weights units: ~300 enterprises, ~40 public institutions, ~400
individual businesses and ~1,260 residents (still enough of them to lead every unit
and form households), and lists units and residents at a few times the city's rate,
for about 40 entries.

The showcase: 温州市鹿城区瓯江鞋业有限公司 is a dishonest judgment debtor; its legal
representative heads a household with a school-age child, so checking the legal
representative finds a restriction, and checking the child finds the high-fee
private school restriction. A Yueqing firm holds a TAX_A_LEVEL red-list entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from domain.identifiers import SubjectKind
from domain.vocabulary import HouseholdRole, Rel
from seeds.block import Block, SubjectOverride
from seeds.dates import add_years, instant
from seeds.generator import World, WorldPatch, generate
from seeds.lists import (
    CITY_BY_KEY,
    HOME,
    LIST_BY_TYPE,
    City,
    catalogue_recognition,
    document_no,
    issuer_id,
    issuer_name,
)
from seeds.rows import SanctionRow
from seeds.spec import WorldSpec
from seeds.units import Unit

DEMO_SPEC: Final = WorldSpec(
    n_subjects=2_000,
    mix=MappingProxyType(
        {
            SubjectKind.ENTERPRISE: 300,
            SubjectKind.PUBLIC_INSTITUTION: 40,
            SubjectKind.INDIVIDUAL_BUSINESS: 400,
            SubjectKind.PERSON: 1_260,
        }
    ),
    unit_sanction_rate=0.04,
    person_sanction_rate=0.006,
    # the demo runs against the app's own catalogue, so its entries should agree with it
    recognition=catalogue_recognition(),
)
SHOWCASE_NAME: Final = "温州市鹿城区瓯江鞋业有限公司"
DEBTOR_SANCTION_ID: Final = "SN-DEMO-00001"
RED_SANCTION_ID: Final = "SN-DEMO-00002"
PARTNER_RECOGNISED_ID: Final = "SN-DEMO-00003"
PARTNER_UNRECOGNISED_ID: Final = "SN-DEMO-00004"
_SCHOOL_AGE_FROM = dt.date(2010, 1, 1).toordinal()
_DEBTOR_ON = dt.date(2025, 3, 18)  # the showcase debtor's decision date
_JIAXING, _HUZHOU = (CITY_BY_KEY["jiaxing"], CITY_BY_KEY["huzhou"])


@dataclass(frozen=True)
class _Showcase:
    enterprise: str
    legal_representative: str
    household: str
    child: str
    red_enterprise: str
    partner_person: str  # a Jiaxing court's debtor: recognised in Wenzhou
    partner_firm: str  # a Huzhou procurement record: stored, not recognised
    quiet: frozenset[str]

    def entries(self) -> tuple[SanctionRow, ...]:
        debtor, procurement = "DISHONEST_JUDGMENT_DEBTOR", "GOV_PROCUREMENT_BAD_RECORD"
        return (
            _entry(DEBTOR_SANCTION_ID, debtor, self.enterprise, _DEBTOR_ON, 1234),
            _entry(RED_SANCTION_ID, "TAX_A_LEVEL", self.red_enterprise, dt.date(2025, 4, 20), 18),
            _entry(
                PARTNER_RECOGNISED_ID, debtor, self.partner_person, dt.date(2024, 9, 12), 562,
                _JIAXING,
            ),
            _entry(
                PARTNER_UNRECOGNISED_ID, procurement, self.partner_firm, dt.date(2025, 6, 3), 27,
                _HUZHOU,
            ),
        )  # fmt: skip


def demo_world() -> World:
    showcase = _find_showcase(generate(DEMO_SPEC))
    patch = WorldPatch(
        overrides={showcase.enterprise: SubjectOverride(name=SHOWCASE_NAME, industry="FOOTWEAR")},
        extra_sanctions=showcase.entries(),
        quiet=showcase.quiet,
    )
    return generate(DEMO_SPEC, patch)


def _entry(
    sanction_id: str,
    list_type: str,
    subject: str,
    decided: dt.date,
    n: int,
    city: City = HOME,
) -> SanctionRow:
    spec = LIST_BY_TYPE[list_type]
    return SanctionRow(
        id=sanction_id,
        listType=list_type,
        kind=spec.kind,
        decidedOn=decided,
        validFrom=decided,
        validTo=add_years(decided, 3),
        status="ACTIVE",
        liftKind=None,
        liftedAt=None,
        jurisdiction=city.key,
        recognized=DEMO_SPEC.recognition(list_type, city.key),
        documentNo=document_no(spec, city, decided.year, n),
        reason=spec.reason,
        issuerId=issuer_id(spec),
        issuerName=issuer_name(spec),
        subjectId=subject,
        responsiblePersonIds=[],
        createdAt=instant(decided, 10),
    )


def _find_showcase(world: World) -> _Showcase:
    """The first Lucheng firm whose legal representative heads a household with a child."""
    first_block = {b.district.code: b.index for b in world.layout.blocks if b.lane == 0}
    home = world.block(first_block["330302"])  # 鹿城区
    pop = home.population
    for unit in _plain_firms(home):
        lr = unit.leader
        if pop.role[lr] is not HouseholdRole.HEAD or not _led_on(home, unit, lr, _DEBTOR_ON):
            continue
        members = list(pop.members(pop.household[lr]))
        children = [
            j for j in members
            if pop.role[j] is HouseholdRole.CHILD and pop.birth[j] >= _SCHOOL_AGE_FROM
        ]  # fmt: skip
        if not children:
            continue
        red = _plain_firms(world.block(first_block["330382"]))[0]  # 乐清市
        partner_firm = _plain_firms(world.block(first_block["330303"]))[0]  # 龙湾区
        ouhai = world.block(first_block["330304"]).population  # 瓯海区
        partner_person = ouhai.person_id(ouhai.hh_first[0])  # a household head
        # Keep the story clean: no generated entry against the family, the units they
        # are tied to, or the other showcase subjects.
        family = {pop.person_id(j) for j in members}
        tied = {t.dst.id for t in home.organisations.ties if t.person in members}
        others = {unit.id, red.id, partner_firm.id, partner_person}
        return _Showcase(
            enterprise=unit.id,
            legal_representative=pop.person_id(lr),
            household=pop.household_id(pop.household[lr]),
            child=pop.person_id(children[0]),
            red_enterprise=red.id,
            partner_person=partner_person,
            partner_firm=partner_firm.id,
            quiet=frozenset(family | tied | others),
        )
    raise RuntimeError("the demo world has no firm fit for the showcase; adjust DEMO_SPEC")


def _plain_firms(block: Block) -> list[Unit]:
    """Active limited companies that are neither branches nor have branches."""
    firms = block.units(SubjectKind.ENTERPRISE)
    parents = {id(u.parent) for u in firms if u.parent is not None}
    return [
        u for u in firms
        if u.type_code == "91" and u.status == "ACTIVE" and u.parent is None
        and id(u) not in parents
    ]  # fmt: skip


def _led_on(block: Block, unit: Unit, person: int, day: dt.date) -> bool:
    """Whether `person` was `unit`'s legal representative on `day`."""
    d = day.toordinal()
    return any(
        t.rel is Rel.LEGAL_REPRESENTATIVE_OF
        and t.dst is unit
        and t.person == person
        and t.start <= d
        and (t.end is None or d < t.end)
        for t in block.organisations.ties
    )


def _showcase_ids() -> dict[str, str]:
    showcase = _find_showcase(generate(DEMO_SPEC))
    return {
        "dishonest_enterprise_id": showcase.enterprise,
        "dishonest_enterprise_name": SHOWCASE_NAME,
        "dishonest_sanction_id": DEBTOR_SANCTION_ID,
        "legal_representative_id": showcase.legal_representative,
        "household_id": showcase.household,
        "child_id": showcase.child,
        "red_list_enterprise_id": showcase.red_enterprise,
        "red_list_sanction_id": RED_SANCTION_ID,
        "partner_recognised_person_id": showcase.partner_person,
        "partner_recognised_sanction_id": PARTNER_RECOGNISED_ID,
        "partner_unrecognised_enterprise_id": showcase.partner_firm,
        "partner_unrecognised_sanction_id": PARTNER_UNRECOGNISED_ID,
    }


DEMO_SHOWCASE: Final[dict[str, str]] = _showcase_ids()
"""The ids a README walks through (computed once, from the demo spec, at import)."""
