"""The personal integrity score (0..1000, in the style of Wenzhou's 瓯江分).

Five dimensions, each derived from the graph, capped at its maximum and explained by
the points that made it (`rules/evaluation/integrity.yaml`):

- IDENTITY: registered, registered locally, age, household registration now;
- LAW_ABIDING: the person's own black-list entries, entries naming them as responsible,
  black-list entries of units they led when the entry was decided (the joint check's
  decision-date rule), and recent repaired or expired entries;
- COMMERCIAL_CREDIT: the credit grade of each unit they lead now (graded on the unit's
  own record, so the person's own entries are not counted twice);
- DAILY_LIFE: stable household registration, and watch-list entries (arrears) now;
- SOCIAL_CONTRIBUTION: red-list entries of the person and of the units they lead now.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graph_model.districts import DISTRICTS
from graph_model.driver import Graph
from graph_model.evaluation.ratings import (
    Factor,
    Sanction,
    describe,
    ended,
    newest_first,
    rate,
)
from graph_model.labels import Label, Rel, SystemRel
from graph_model.registry import SUBJECT_FIELDS
from graph_model.sanctions_read import SANCTION_FIELDS, applies
from graph_model.values import city_date, native
from rules.evaluation import Band, Benefit, EvaluationConfig, IntegrityConfig
from rules.models import Catalogue


@dataclass(frozen=True)
class Dimension:
    name: str
    label: str
    score: int
    max: int
    factors: tuple[Factor, ...]

    @property
    def detail(self) -> str:
        return "; ".join(f"{f.detail} ({f.weight:+g})" for f in self.factors)


@dataclass(frozen=True)
class IntegrityScore:
    person_id: str
    at: dt.datetime
    score: int
    band: Band
    dimensions: tuple[Dimension, ...]


@dataclass(frozen=True)
class Link:
    """A dated link from the person: to a household, or to a unit (with its sanctions)."""

    target: dict[str, Any]
    relation: str
    role: str | None
    valid_from: dt.date
    valid_to: dt.date | None
    sanctions: tuple[Sanction, ...] = ()

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)

    @classmethod
    def of(cls, row: dict[str, Any]) -> Link:
        return cls(
            target=dict(row["target"]),
            relation=row["relation"],
            role=row.get("role"),
            valid_from=row["validFrom"],
            valid_to=row.get("validTo"),
            sanctions=tuple(row.get("sanctions") or ()),
        )


@dataclass(frozen=True)
class PersonFacts:
    person: dict[str, Any]
    own: tuple[Sanction, ...]  # against the person
    named: tuple[Sanction, ...]  # against others, naming the person as responsible
    households: tuple[Link, ...]
    led: tuple[Link, ...]  # links to units of the lead relations (any role, any time)

    @classmethod
    def of(cls, row: dict[str, Any]) -> PersonFacts:
        row = native(row)
        return cls(
            person=dict(row["person"]),
            own=tuple(row["own"]),
            named=tuple(row["named"]),
            households=tuple(Link.of(h) for h in row["households"]),
            led=tuple(Link.of(u) for u in row["led"]),
        )


class _Points:
    """The factors of one dimension, summed and clamped to 0..max."""

    def __init__(self, name: str, label: str, maximum: int) -> None:
        self.name, self.label, self.max = name, label, maximum
        self.factors: list[Factor] = []

    def add(self, code: str, points: int, detail: str) -> None:
        if points:
            self.factors.append(Factor(code, float(points), detail))

    def done(self) -> Dimension:
        raw = int(sum(f.weight for f in self.factors))
        score = min(max(raw, 0), self.max)
        if score != raw:
            self.factors.append(
                Factor("DIMENSION_RANGE", float(score - raw), f"kept within 0..{self.max}")
            )
        return Dimension(self.name, self.label, score, self.max, tuple(self.factors))


def birth_date(person: dict[str, Any]) -> dt.date | None:
    stored = person.get("birthDate")
    if isinstance(stored, dt.date):
        return stored
    pid = str(person.get("id") or "")
    try:
        return dt.date(int(pid[6:10]), int(pid[10:12]), int(pid[12:14]))
    except ValueError:
        return None


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _unit_name(unit: dict[str, Any]) -> str:
    return f"{unit.get('name') or ''} ({unit['id']})".strip()


def score_person(
    facts: PersonFacts, at: dt.datetime, config: EvaluationConfig, catalogue: Catalogue
) -> IntegrityScore:
    """The integrity score of one person at `at` from their facts."""
    cfg = config.integrity
    day = city_date(at)
    households = [h for h in facts.households if h.valid_on(day)]
    led_ever: dict[str, list[Link]] = {}  # unit id -> the person's lead links to it
    for link in facts.led:
        if cfg.leads(link.relation, link.role):
            led_ever.setdefault(link.target["id"], []).append(link)
    led_now = {
        unit_id: current
        for unit_id, links in sorted(led_ever.items())
        if (current := [link for link in links if link.valid_on(day)])
    }
    dimensions = (
        _identity(facts.person, households, day, cfg),
        _law_abiding(facts, led_ever, at, cfg, catalogue),
        _commercial(led_now, at, config, catalogue),
        _daily_life(facts, households, at, cfg, catalogue),
        _social(facts, led_now, at, cfg, catalogue),
    )
    total = sum(d.score for d in dimensions)
    return IntegrityScore(facts.person["id"], at, total, cfg.band_of(total), dimensions)


def _identity(
    person: dict[str, Any], households: list[Link], day: dt.date, cfg: IntegrityConfig
) -> Dimension:
    points = _Points("IDENTITY", cfg.identity.label, cfg.identity.max)
    points.add("REGISTERED", cfg.identity.registered, "registered resident (实名登记)")
    local_id = str(person["id"]).startswith(cfg.identity.local_area_prefix)
    if person.get("district") in DISTRICTS or local_id:
        points.add("LOCAL", cfg.identity.local, "registered in Wenzhou")
    born = birth_date(person)
    if born is not None:
        age = age_on(born, day)
        adult = cfg.identity.adult
        if adult.min_age <= age < adult.max_age:
            points.add("AGE", adult.points, f"aged {age} ({adult.min_age}-{adult.max_age - 1})")
        else:
            points.add("AGE", adult.otherwise, f"aged {age}")
    if households:
        ids = ", ".join(sorted({h.target["id"] for h in households}))
        points.add("HOUSEHOLD", cfg.identity.household, f"registered in household {ids}")
    return points.done()


def _law_abiding(
    facts: PersonFacts,
    led_ever: dict[str, list[Link]],
    at: dt.datetime,
    cfg: IntegrityConfig,
    catalogue: Catalogue,
) -> Dimension:
    law = cfg.law_abiding
    day = city_date(at)
    points = _Points("LAW_ABIDING", law.label, law.max)
    points.add("CLEAN", law.clean, "starting point")
    ever_listed = [
        s
        for s in facts.own
        if s["kind"] in {"BLACK", "WATCH"}
        and s.get("recognized")
        and s.get("liftKind") != "REVOKED"
        and s["validFrom"] <= day
    ]
    if not ever_listed:
        points.add("NEVER_LISTED", law.never_listed, "never on a black or watch list")
    for s in newest_first(facts.own):
        if s["kind"] == "BLACK" and applies(s, at):
            points.add("OWN_BLACK_LIST", -law.own_black, f"on black list {describe(s, catalogue)}")
    for s in newest_first(facts.named):
        if s["kind"] == "BLACK" and applies(s, at):
            points.add(
                "NAMED_RESPONSIBLE",
                -law.named_responsible,
                f"named responsible in {describe(s, catalogue)} against {s['subjectId']}",
            )
    # a unit's entry reaches those who led it when it was decided (the check's rule)
    for _, links in sorted(led_ever.items()):
        reaching = [
            s
            for s in newest_first(links[0].sanctions)
            if s["kind"] == "BLACK"
            and applies(s, at)
            and any(link.valid_on(s["decidedOn"]) for link in links)
        ]
        if reaching:
            relations = "/".join(sorted({link.relation for link in links}))
            entries = "; ".join(describe(s, catalogue) for s in reaching)
            points.add(
                "LED_UNIT_BLACK_LIST",
                -law.led_unit_black,
                f"{relations} of {_unit_name(links[0].target)} when it was listed: {entries}",
            )
    for s in newest_first(facts.own):
        end = ended(s, at)
        if end is None or s["kind"] not in {"BLACK", "WATCH"}:
            continue
        kind, end_day = end
        if kind is not None and (day - end_day).days < law.history_window_days:
            deduction = law.history_black if s["kind"] == "BLACK" else law.history_watch
            points.add(
                f"{kind.value}_HISTORY",
                -deduction,
                f"{kind.value.lower()} on {end_day}: {describe(s, catalogue)}",
            )
    return points.done()


def _commercial(
    led_now: dict[str, list[Link]],
    at: dt.datetime,
    config: EvaluationConfig,
    catalogue: Catalogue,
) -> Dimension:
    commercial = config.integrity.commercial_credit
    points = _Points("COMMERCIAL_CREDIT", commercial.label, commercial.max)
    points.add("BASE", commercial.base, "starting point")
    for unit_id, links in led_now.items():
        # graded on the unit's own record: the person's own entries count elsewhere
        rating = rate(unit_id, links[0].sanctions, (), at, config.rating, catalogue)
        relations = "/".join(sorted({_lead_name(link) for link in links}))
        points.add(
            "LED_UNIT_GRADE",
            commercial.led_unit_grade[rating.grade],
            f"{relations} of {_unit_name(links[0].target)}, graded {rating.grade.value} "
            f"(score {rating.score:g})",
        )
    return points.done()


def _daily_life(
    facts: PersonFacts,
    households: list[Link],
    at: dt.datetime,
    cfg: IntegrityConfig,
    catalogue: Catalogue,
) -> Dimension:
    life = cfg.daily_life
    points = _Points("DAILY_LIFE", life.label, life.max)
    points.add("BASE", life.base, "starting point")
    if households:
        since = min(h.valid_from for h in households)
        years = max(age_on(since, city_date(at)), 0)
        tenure = min(years * life.household_points_per_year, life.household_points_cap)
        points.add("HOUSEHOLD_TENURE", tenure, f"{years} full years in the household since {since}")
    for s in newest_first(facts.own):
        if s["kind"] == "WATCH" and applies(s, at):
            points.add("OWN_WATCH_LIST", -life.own_watch, f"on watch list {describe(s, catalogue)}")
    return points.done()


def _social(
    facts: PersonFacts,
    led_now: dict[str, list[Link]],
    at: dt.datetime,
    cfg: IntegrityConfig,
    catalogue: Catalogue,
) -> Dimension:
    social = cfg.social_contribution
    points = _Points("SOCIAL_CONTRIBUTION", social.label, social.max)
    points.add("BASE", social.base, "starting point")
    for s in newest_first(facts.own):
        if s["kind"] == "RED" and applies(s, at):
            points.add("OWN_RED_LIST", social.own_red, f"on red list {describe(s, catalogue)}")
    for links in led_now.values():
        for s in newest_first(links[0].sanctions):
            if s["kind"] == "RED" and applies(s, at):
                points.add(
                    "LED_UNIT_RED_LIST",
                    social.led_unit_red,
                    f"leads {_unit_name(links[0].target)}, on red list {describe(s, catalogue)}",
                )
    return points.done()


def _lead_name(link: Link) -> str:
    return f"{link.relation}:{link.role}" if link.role else link.relation


# ---------------------------------------------------------------- benefits


@dataclass(frozen=True)
class Eligibility:
    benefit: Benefit
    qualified: bool
    gap: int  # points still missing; 0 when qualified


def eligibility(score: int, benefits: Sequence[Benefit]) -> list[Eligibility]:
    """Every benefit, lowest threshold first, with whether the score reaches it."""
    ordered = sorted(benefits, key=lambda b: (b.min_score, b.id))
    return [Eligibility(b, score >= b.min_score, max(b.min_score - score, 0)) for b in ordered]


@dataclass(frozen=True)
class Recognition:
    jurisdiction: str
    name: str
    bands: tuple[str, ...]
    recognized: bool


def recognition(band: Band, config: EvaluationConfig, catalogue: Catalogue) -> list[Recognition]:
    """Which partner cities honour the band (信用互认)."""
    result = []
    for partner in config.integrity.partner_recognition:
        jurisdiction = catalogue.jurisdictions.get(partner.jurisdiction)
        name = jurisdiction.name if jurisdiction else partner.jurisdiction
        result.append(
            Recognition(partner.jurisdiction, name, partner.bands, band.code in partner.bands)
        )
    return result


# ---------------------------------------------------------------- reading the facts


@functools.cache
def person_facts_query(lead_relations: tuple[Rel, ...]) -> str:
    relations = "|".join(r.value for r in lead_relations)
    sanction = SANCTION_FIELDS.format(s="x")
    return (
        f"MATCH (s:{Label.PERSON.value} {{id: $id}}) "
        f"RETURN {SUBJECT_FIELDS} AS person, "
        f"COLLECT {{ MATCH (x:{Label.SANCTION.value} {{subjectId: s.id}}) "
        f"RETURN {sanction} }} AS own, "
        f"COLLECT {{ MATCH (x:{Label.SANCTION.value})-[:{SystemRel.RESPONSIBLE_PERSON.value}]->(s) "
        f"WHERE x.subjectId <> s.id RETURN {sanction} }} AS named, "
        f"COLLECT {{ MATCH (s)-[r:{Rel.MEMBER_OF.value}]->(h:{Label.HOUSEHOLD.value}) "
        "RETURN {target: {id: h.id}, relation: type(r), role: r.role, validFrom: r.validFrom, "
        "validTo: r.validTo} } AS households, "
        f"COLLECT {{ MATCH (s)-[r:{relations}]->(u:{Label.SUBJECT.value}) "
        "RETURN {target: u {.id, .kind, .name}, relation: type(r), role: r.role, "
        "validFrom: r.validFrom, validTo: r.validTo, "
        f"sanctions: COLLECT {{ MATCH (x:{Label.SANCTION.value} {{subjectId: u.id}}) "
        f"RETURN {sanction} }}}} }} AS led"
    )


async def person_facts(
    graph: Graph, person_id: str, config: EvaluationConfig
) -> PersonFacts | None:
    """What the score needs, in one query; None when no such person is stored."""
    query = person_facts_query(config.integrity.lead_relations)
    rows = await graph.read(query, {"id": person_id}, name="integrityScore")
    return PersonFacts.of(rows[0]) if rows else None
