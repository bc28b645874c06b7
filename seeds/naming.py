"""Names for a block's residents and units, drawn from the block's own name stream.

Names are decided apart from structure (their own random stream), so a pass that only
needs links never pays for them, and changing a word list never moves an id or a date.
"""

from __future__ import annotations

import random
from itertools import accumulate

from domain.identifiers import SubjectKind
from domain.vocabulary import HouseholdRole
from seeds.geography import District
from seeds.population import Population
from seeds.units import Unit
from seeds.vocab import (
    CHINESE_NUMERALS,
    COOPERATIVE_PRODUCTS,
    FEMALE_GIVEN,
    FIRM_SUFFIXES,
    INDUSTRY_BY_KEY,
    MALE_GIVEN,
    NEUTRAL_GIVEN,
    SURNAMES,
    TRADE_NAMES,
)

_SURNAME_CHARS = [s for s, _ in SURNAMES]
_SURNAME_CUM = list(accumulate(w for _, w in SURNAMES))
_SUFFIXES = [s for s, _ in FIRM_SUFFIXES]
_SUFFIX_CUM = list(accumulate(w for _, w in FIRM_SUFFIXES))
_BUREAUS = (
    "市场监督管理局",
    "教育局",
    "住房和城乡建设局",
    "交通运输局",
    "农业农村局",
    "卫生健康局",
)
_SOCIETY_TRADES = ("鞋革", "服装", "电气", "泵阀", "汽摩配", "印刷", "眼镜", "锁具", "烟具", "餐饮")


def person_names(pop: Population, rng: random.Random) -> list[str]:
    """One name per resident; children carry their father's surname, as is usual."""
    names: list[str] = []
    for h in range(len(pop.hh_first)):
        members = pop.members(h)
        head = members.start
        head_surname = _surname(rng)
        spouse_surname = _surname(rng)
        family = head_surname if pop.male[head] else spouse_surname
        for i in members:
            role = pop.role[i]
            if role is HouseholdRole.HEAD:
                surname = head_surname
            elif role is HouseholdRole.SPOUSE:
                surname = spouse_surname
            elif role is HouseholdRole.CHILD:
                surname = family
            elif role is HouseholdRole.PARENT and pop.male[i] and pop.male[head]:
                surname = head_surname
            else:
                surname = _surname(rng)
            names.append(surname + _given(rng, pop.male[i]))
    return names


def _surname(rng: random.Random) -> str:
    return rng.choices(_SURNAME_CHARS, cum_weights=_SURNAME_CUM)[0]


def _given(rng: random.Random, male: bool) -> str:
    pool = MALE_GIVEN if male else FEMALE_GIVEN
    if rng.random() < 0.25:
        return rng.choice(pool)
    return rng.choice(NEUTRAL_GIVEN if rng.random() < 0.3 else pool) + rng.choice(pool)


def unit_name(unit: Unit, district: District, parent_name: str | None, rng: random.Random) -> str:
    if unit.kind is SubjectKind.ENTERPRISE:
        return _firm_name(unit, district, parent_name, rng)
    if unit.kind is SubjectKind.PUBLIC_INSTITUTION:
        return _institution_name(unit, district, rng)
    return _shop_name(unit, district, rng)


def _firm_name(unit: Unit, district: District, parent_name: str | None, rng: random.Random) -> str:
    if parent_name is not None:
        return f"{parent_name}{rng.choice(district.towns)}分公司"
    trade = rng.choice(TRADE_NAMES)
    if unit.type_code == "93":
        return f"{district.name}{trade}{rng.choice(COOPERATIVE_PRODUCTS)}专业合作社"
    word = rng.choice(INDUSTRY_BY_KEY[unit.industry].firm_words)
    suffix = rng.choices(_SUFFIXES, cum_weights=_SUFFIX_CUM)[0]
    return f"{district.firm_prefix}{trade}{word}{suffix}"


def _institution_name(unit: Unit, district: District, rng: random.Random) -> str:
    town = rng.choice(district.towns)
    prefix = district.firm_prefix
    if unit.type_code == "11":
        return rng.choice(
            (
                f"{prefix}{town}镇人民政府",
                f"{prefix}{town}街道办事处",
                f"{prefix}{rng.choice(_BUREAUS)}",
            )
        )
    if unit.type_code == "52":
        trade = rng.choice(_SOCIETY_TRADES)
        return rng.choice(
            (f"温州市{trade}行业协会", f"{prefix}{trade}商会", f"{prefix}{town}老年协会")
        )
    if unit.industry == "EDUCATION":
        if district.name.endswith("区") and rng.random() < 0.3:
            return f"温州市第{rng.choice(CHINESE_NUMERALS)}中学"
        return f"{prefix}{town}{rng.choice(('小学', '中学', '幼儿园', '第一小学'))}"
    if unit.industry == "HEALTH":
        return rng.choice(
            (
                f"{prefix}{town}镇中心卫生院",
                f"{prefix}{town}卫生院",
                f"{prefix}{town}社区卫生服务中心",
            )
        )
    return f"{prefix}{town}{rng.choice(('文化站', '图书馆', '农业技术推广站'))}"


def _shop_name(unit: Unit, district: District, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.35:
        brand = _surname(rng) + "记"
    elif r < 0.6:
        brand = "阿" + rng.choice(MALE_GIVEN + FEMALE_GIVEN)
    else:
        brand = rng.choice(TRADE_NAMES)
    return f"{district.name}{brand}{rng.choice(INDUSTRY_BY_KEY[unit.industry].shop_words)}"
