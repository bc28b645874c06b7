"""One block's records, made from its plan: subjects, households, memberships, links, sanctions.

A block is rebuilt from (spec, index) alone, with random streams of its own per
purpose, so any block can be produced on any worker, in any order, identically.
With `spec.link_history`, memberships and links are followed by the block's history
(`seeds.history`), numbered on after the current ones of their type: the rows without
history are, id for id, the first rows with it.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping
from typing import TypedDict

from domain.identifiers import SubjectKind
from domain.vocabulary import Rel
from seeds.contacts import (
    address_hash,
    household_address,
    person_phone,
    phone_hash,
    unit_address,
    unit_phone,
)
from seeds.dates import from_ordinal
from seeds.history import History, build_history
from seeds.layout import PERSONS_PER_BLOCK, BlockLayout
from seeds.naming import person_names, unit_name
from seeds.organisations import Organisations, build_organisations
from seeds.population import Population, build_population
from seeds.rows import HouseholdRow, LinkRow, SanctionRow, SubjectRow
from seeds.sanctions import build_sanctions
from seeds.spec import WorldSpec
from seeds.units import Tie, Unit

LINK_PREFIX: Mapping[Rel, str] = {
    Rel.LEGAL_REPRESENTATIVE_OF: "LR",
    Rel.SHAREHOLDER_OF: "SH",
    Rel.EXECUTIVE_OF: "EX",
    Rel.OPERATOR_OF: "OP",
    Rel.MEMBER_OF: "MB",
    Rel.BRANCH_OF: "BR",
    Rel.ACTUAL_CONTROLLER_OF: "AC",
}
_REGISTRY_BY_TYPE_CODE = {
    "11": "organ-registry",
    "12": "institution-registry",
    "52": "civil-affairs",
}


class SubjectOverride(TypedDict, total=False):
    name: str
    industry: str


def block_rng(seed: int, purpose: str, block: int) -> random.Random:
    # A string seed is hashed with SHA-512, so streams are stable across runs and
    # independent of PYTHONHASHSEED.
    return random.Random(f"{seed}:{purpose}:{block}")


class Block:
    def __init__(
        self,
        layout: BlockLayout,
        seq_width: int,
        spec: WorldSpec,
        overrides: Mapping[str, SubjectOverride],
        quiet: frozenset[str],
    ) -> None:
        self.layout = layout
        self.spec = spec
        self._overrides = overrides
        self._quiet = quiet
        index = layout.index
        self.population: Population = build_population(
            layout, seq_width, block_rng(spec.seed, "people", index)
        )
        self.organisations: Organisations = build_organisations(
            self.population, layout, spec.seed, block_rng(spec.seed, "units", index)
        )
        self._links: dict[Rel, list[LinkRow]] | None = None
        self._sanctions: list[SanctionRow] | None = None
        self._history: History | None = None

    @property
    def index(self) -> int:
        return self.layout.index

    def units(self, kind: SubjectKind) -> list[Unit]:
        return self.organisations.units[kind]

    @property
    def history(self) -> History | None:
        """The block's ended ties (planned on first use); None unless the spec asks for them."""
        if not self.spec.link_history:
            return None
        if self._history is None:
            self._history = build_history(
                self.population,
                self.organisations,
                block_rng(self.spec.seed, "history", self.index),
            )
        return self._history

    # -- nodes -------------------------------------------------------------------------

    def subjects(self, kind: SubjectKind) -> list[SubjectRow]:
        rows = self._persons() if kind is SubjectKind.PERSON else self._units(kind)
        if self._overrides:
            for row in rows:
                override = self._overrides.get(row["id"])
                if override is not None:
                    _apply(row, override)
        return rows

    def _persons(self) -> list[SubjectRow]:
        pop, seed = self.population, self.spec.seed
        names = person_names(pop, block_rng(seed, "person-names", self.index))
        district = self.layout.district.code
        rows: list[SubjectRow] = []
        for i, owner in enumerate(pop.phone_owner):
            row = SubjectRow(
                id=pop.person_id(i),
                kind="PERSON",
                name=names[i],
                district=district,
                birthDate=from_ordinal(pop.birth[i]),
            )
            if owner >= 0:
                row["phoneHash"] = phone_hash(person_phone(owner, seed))
            rows.append(row)
        return rows

    def _units(self, kind: SubjectKind) -> list[SubjectRow]:
        seed, district = self.spec.seed, self.layout.district
        rng = block_rng(seed, f"names-{kind.value}", self.index)
        names: dict[int, str] = {}  # by id(unit): a branch takes its parent's name
        rows: list[SubjectRow] = []
        for unit in self.organisations.units[kind]:
            parent = names.get(id(unit.parent)) if unit.parent is not None else None
            name = unit_name(unit, district, parent, rng)
            names[id(unit)] = name
            is_person, owner = unit.phone_owner
            phone = person_phone(owner, seed) if is_person else unit_phone(owner, seed)
            row = SubjectRow(
                id=unit.id,
                kind=kind.value,
                name=name,
                district=district.code,
                industry=unit.industry,
                establishedOn=from_ordinal(unit.established),
                status=unit.status,
                phoneHash=phone_hash(phone),
                addressHash=address_hash(unit_address(district, unit.address_owner)),
            )
            capital = _capital(unit, rng)
            if capital is not None:
                row["registeredCapital"] = capital
            rows.append(row)
        return rows

    def households(self) -> list[HouseholdRow]:
        pop, district = self.population, self.layout.district
        serial0 = self.layout.lane * PERSONS_PER_BLOCK
        return [
            HouseholdRow(
                id=pop.household_id(h),
                district=district.code,
                address=household_address(district, serial0 + h),
            )
            for h in range(len(pop.hh_first))
        ]

    # -- relationships -----------------------------------------------------------------

    def memberships(self) -> list[LinkRow]:
        pop = self.population
        prefix = f"{LINK_PREFIX[Rel.MEMBER_OF]}-{self.index:05d}-"
        current = ((i, pop.household[i], pop.joined[i], None, pop.role[i]) for i in range(len(pop)))
        history = self.history
        ended = (
            (m.person, m.household, m.start, m.end, m.role)
            for m in (history.memberships if history is not None else ())
        )
        return [
            LinkRow(
                id=f"{prefix}{n:06d}",
                src=pop.person_id(person),
                dst=pop.household_id(household),
                validFrom=from_ordinal(start),
                validTo=from_ordinal(end) if end is not None else None,
                source="public-security",
                role=role.value,
            )
            for n, (person, household, start, end, role) in enumerate(
                itertools.chain(current, ended), start=1
            )
        ]

    def links(self, rel: Rel) -> list[LinkRow]:
        if rel is Rel.MEMBER_OF:
            return self.memberships()
        if self._links is None:
            self._links = self._build_links()
        return self._links.get(rel, [])

    def _build_links(self) -> dict[Rel, list[LinkRow]]:
        pop = self.population
        by_rel: dict[Rel, list[LinkRow]] = {}
        history = self.history
        for tie in itertools.chain(self.organisations.ties, history.ties if history else ()):
            rows = by_rel.setdefault(tie.rel, [])
            if tie.person is not None:
                src = pop.person_id(tie.person)
            elif tie.unit is not None:
                src = tie.unit.id
            else:  # pragma: no cover - the planner always sets one end
                raise AssertionError(f"{tie.rel} tie without a source")
            row = LinkRow(
                id=f"{LINK_PREFIX[tie.rel]}-{self.index:05d}-{len(rows) + 1:06d}",
                src=src,
                dst=tie.dst.id,
                validFrom=from_ordinal(tie.start),
                validTo=None if tie.end is None else from_ordinal(tie.end),
                source=_source(tie),
            )
            if tie.rel is Rel.SHAREHOLDER_OF:
                row["ratio"] = tie.ratio_bp / 10_000
            if tie.role is not None:
                row["role"] = str(tie.role)
            rows.append(row)
        return by_rel

    def link_count(self, rel: Rel) -> int:
        """How many links of `rel` the block has, without building their rows."""
        history = self.history
        ended = history.count(rel) if history is not None else 0
        if rel is Rel.MEMBER_OF:
            return len(self.population) + ended
        return sum(1 for t in self.organisations.ties if t.rel is rel) + ended

    # -- sanctions ---------------------------------------------------------------------

    def sanctions(self) -> list[SanctionRow]:
        if self._sanctions is None:
            rows = build_sanctions(
                self.population,
                self.organisations,
                self.spec,
                self.index,
                block_rng(self.spec.seed, "sanctions", self.index),
            )
            quiet = self._quiet
            self._sanctions = [
                r
                for r in rows
                if r["subjectId"] not in quiet
                and not any(p in quiet for p in r["responsiblePersonIds"])
            ]
        return self._sanctions


def _apply(row: SubjectRow, override: SubjectOverride) -> None:
    if "name" in override:
        row["name"] = override["name"]
    if "industry" in override:
        row["industry"] = override["industry"]


def _source(tie: Tie) -> str:
    if tie.rel is Rel.ACTUAL_CONTROLLER_OF:
        return "annual-report"
    if tie.rel in (Rel.LEGAL_REPRESENTATIVE_OF, Rel.EXECUTIVE_OF):
        return _REGISTRY_BY_TYPE_CODE.get(tie.dst.type_code, "amr-registry")
    return "amr-registry"


def _capital(unit: Unit, rng: random.Random) -> float | None:
    """Registered capital (or an institution's start-up funds) in 10,000 CNY."""
    if unit.kind is SubjectKind.ENTERPRISE:
        if unit.parent is not None:
            return None  # a branch has no capital of its own
        median, spread, cap = (50.0, 0.8, 2000.0) if unit.type_code == "93" else (100.0, 1.4, 5e5)
    elif unit.kind is SubjectKind.INDIVIDUAL_BUSINESS:
        median, spread, cap = 5.0, 1.0, 500.0
    elif unit.type_code == "12":
        median, spread, cap = 300.0, 1.0, 5e4
    else:
        return None
    value = math.exp(rng.gauss(math.log(median), spread))
    return round(min(max(value, 0.1), cap), 2)
