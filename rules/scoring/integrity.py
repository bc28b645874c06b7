"""The personal integrity score (0..1000, in the style of Wenzhou's 瓯江分).

Five dimensions, each computed from the person's facts (read by
`graph_model.evaluation.integrity`), capped at its maximum and explained by the points
that made it (`rules/evaluation/integrity.yaml`):

- IDENTITY: registered, registered locally, age, household registration now;
- LAW_ABIDING: the person's own black-list entries, entries naming them as responsible,
  black-list entries of units they led when the entry was decided (the joint check's
  decision-date rule), and recent repaired or expired entries;
- COMMERCIAL_CREDIT: the credit grade of each unit they lead now (graded on the unit's
  own record, so the person's own entries are not counted twice);
- DAILY_LIFE: stable household registration, and watch-list entries (arrears) now;
- SOCIAL_CONTRIBUTION: red-list entries of the person and of the units they lead now.

Then the benefits a score unlocks and the partner cities that honour its band.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.districts import DISTRICTS
from domain.scoring.integrity import Dimension, Points, age_on, birth_date
from domain.scoring.ratings import Sanction, applies, ended, newest_first
from domain.time import city_date
from rules.evaluation import Band, Benefit, EvaluationConfig
from rules.models import Catalogue
from rules.scoring.ratings import describe, rate


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


@dataclass(frozen=True)
class PersonFacts:
    person: dict[str, Any]
    own: tuple[Sanction, ...]  # against the person
    named: tuple[Sanction, ...]  # against others, naming the person as responsible
    households: tuple[Link, ...]
    led: tuple[Link, ...]  # links to units of the lead relations (any role, any time)


def _unit_name(unit: dict[str, Any]) -> str:
    return f"{unit.get('name') or ''} ({unit['id']})".strip()


@dataclass(frozen=True)
class _Situation:
    """What the dimensions read: the person's facts as they stand at `at`."""

    facts: PersonFacts
    at: dt.datetime
    day: dt.date  # the city's day at `at`
    households: list[Link]  # valid on `day`
    led_ever: dict[str, list[Link]]  # unit id -> the person's lead links to it
    led_now: dict[str, list[Link]]  # the same, only the links valid on `day`
    config: EvaluationConfig
    catalogue: Catalogue


def score_person(
    facts: PersonFacts, at: dt.datetime, config: EvaluationConfig, catalogue: Catalogue
) -> IntegrityScore:
    """The integrity score of one person at `at` from their facts."""
    cfg = config.integrity
    day = city_date(at)
    led_ever: dict[str, list[Link]] = {}
    for link in facts.led:
        if cfg.leads(link.relation, link.role):
            led_ever.setdefault(link.target["id"], []).append(link)
    led_now = {
        unit_id: current
        for unit_id, links in sorted(led_ever.items())
        if (current := [link for link in links if link.valid_on(day)])
    }
    households = [h for h in facts.households if h.valid_on(day)]
    sit = _Situation(facts, at, day, households, led_ever, led_now, config, catalogue)
    dimensions = tuple(
        dimension(sit) for dimension in (_identity, _law_abiding, _commercial, _daily_life, _social)
    )
    total = sum(d.score for d in dimensions)
    return IntegrityScore(facts.person["id"], at, total, cfg.band_of(total), dimensions)


def _identity(sit: _Situation) -> Dimension:
    cfg, person, households = sit.config.integrity, sit.facts.person, sit.households
    points = Points("IDENTITY", cfg.identity.label, cfg.identity.max)
    points.add("REGISTERED", cfg.identity.registered, "registered resident (实名登记)")
    local_id = str(person["id"]).startswith(cfg.identity.local_area_prefix)
    if person.get("district") in DISTRICTS or local_id:
        points.add("LOCAL", cfg.identity.local, "registered in Wenzhou")
    born = birth_date(person)
    if born is not None:
        age = age_on(born, sit.day)
        adult = cfg.identity.adult
        if adult.min_age <= age < adult.max_age:
            points.add("AGE", adult.points, f"aged {age} ({adult.min_age}-{adult.max_age - 1})")
        else:
            points.add("AGE", adult.otherwise, f"aged {age}")
    if households:
        ids = ", ".join(sorted({h.target["id"] for h in households}))
        points.add("HOUSEHOLD", cfg.identity.household, f"registered in household {ids}")
    return points.done()


def _law_abiding(sit: _Situation) -> Dimension:
    facts, at, day, catalogue = sit.facts, sit.at, sit.day, sit.catalogue
    law = sit.config.integrity.law_abiding
    points = Points("LAW_ABIDING", law.label, law.max)
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
    for _, links in sorted(sit.led_ever.items()):
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


def _commercial(sit: _Situation) -> Dimension:
    commercial = sit.config.integrity.commercial_credit
    points = Points("COMMERCIAL_CREDIT", commercial.label, commercial.max)
    points.add("BASE", commercial.base, "starting point")
    for unit_id, links in sit.led_now.items():
        # graded on the unit's own record: the person's own entries count elsewhere
        rating = rate(unit_id, links[0].sanctions, (), sit.at, sit.config.rating, sit.catalogue)
        relations = "/".join(sorted({_lead_name(link) for link in links}))
        points.add(
            "LED_UNIT_GRADE",
            commercial.led_unit_grade[rating.grade],
            f"{relations} of {_unit_name(links[0].target)}, graded {rating.grade.value} "
            f"(score {rating.score:g})",
        )
    return points.done()


def _daily_life(sit: _Situation) -> Dimension:
    life = sit.config.integrity.daily_life
    points = Points("DAILY_LIFE", life.label, life.max)
    points.add("BASE", life.base, "starting point")
    if sit.households:
        since = min(h.valid_from for h in sit.households)
        years = max(age_on(since, sit.day), 0)
        tenure = min(years * life.household_points_per_year, life.household_points_cap)
        points.add("HOUSEHOLD_TENURE", tenure, f"{years} full years in the household since {since}")
    for s in newest_first(sit.facts.own):
        if s["kind"] == "WATCH" and applies(s, sit.at):
            points.add(
                "OWN_WATCH_LIST", -life.own_watch, f"on watch list {describe(s, sit.catalogue)}"
            )
    return points.done()


def _social(sit: _Situation) -> Dimension:
    at, catalogue = sit.at, sit.catalogue
    social = sit.config.integrity.social_contribution
    points = Points("SOCIAL_CONTRIBUTION", social.label, social.max)
    points.add("BASE", social.base, "starting point")
    for s in newest_first(sit.facts.own):
        if s["kind"] == "RED" and applies(s, at):
            points.add("OWN_RED_LIST", social.own_red, f"on red list {describe(s, catalogue)}")
    for links in sit.led_now.values():
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
