"""Public credit ratings A/B/C/D of units, computed (never stored) at any instant.

A rating is a pure function of the unit's sanctions, its leaders' links and black-list
entries, the instant and the weights in `rules/evaluation/rating.yaml`: the same facts
give the same rating, so past ratings are recomputed rather than kept. Whether a
sanction counts at an instant is the shared APPLIES_AT rule (`domain.scoring.ratings`).

The score is the sum of its factors (the BASE factor included); each factor names the
sanction and list behind it. The facts are read by `graph_model.evaluation.ratings`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.identifiers import SubjectKind, mask_resident_id
from domain.scoring.factors import Factor
from domain.scoring.ratings import Rating, Sanction, applies, ended, newest_first
from domain.time import city_date
from domain.vocabulary import UNIT_KINDS
from rules.evaluation import RatingConfig
from rules.models import Catalogue


@dataclass(frozen=True)
class LeaderLink:
    """A person leading the unit through one stored link, with their black-list entries."""

    person_id: str
    relation: str
    valid_from: dt.date
    valid_to: dt.date | None
    sanctions: tuple[Sanction, ...]

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class UnitFacts:
    """What a unit's rating is computed from."""

    subject: dict[str, Any]
    sanctions: tuple[Sanction, ...]
    leaders: tuple[LeaderLink, ...]

    @property
    def is_unit(self) -> bool:
        return SubjectKind(self.subject["kind"]) in UNIT_KINDS

    def rate(self, at: dt.datetime, config: RatingConfig, catalogue: Catalogue) -> Rating:
        return rate(self.subject["id"], self.sanctions, self.leaders, at, config, catalogue)


def _points(value: float) -> str:
    return f"{value:+g}"


def describe(sanction: Sanction, catalogue: Catalogue) -> str:
    """Which list and which entry: list type id and name, sanction id, decision, issuer."""
    list_type = catalogue.list_types.get(sanction["listType"])
    name = f" {list_type.name}" if list_type else ""
    text = (
        f"{sanction['listType']}{name}, sanction {sanction['id']} decided "
        f"{sanction['decidedOn']} by {sanction['issuerId']}"
    )
    jurisdiction = catalogue.jurisdictions.get(sanction.get("jurisdiction") or "")
    if jurisdiction is not None and not jurisdiction.local:
        text += f", relayed from {jurisdiction.id}"
    if sanction.get("status") == "UNDER_OBJECTION":
        text += ", under objection (still applies)"
    return text


def rate(
    subject_id: str,
    sanctions: Sequence[Sanction],
    leaders: Sequence[LeaderLink],
    at: dt.datetime,
    config: RatingConfig,
    catalogue: Catalogue,
) -> Rating:
    """The rating of one unit at `at` from its facts."""
    factors: list[Factor] = [Factor("BASE", config.base_score, "every unit starts here")]
    ordered = newest_first(sanctions)
    applying = [s for s in ordered if applies(s, at)]
    black = [s for s in applying if s["kind"] == "BLACK"]
    for s in black:
        weight = config.black_list.of(s["listType"])
        factors.append(Factor("BLACK_LIST", -weight, f"on black list {describe(s, catalogue)}"))
    for s in applying:
        if s["kind"] == "WATCH":
            weight = config.watch_list.of(s["listType"])
            factors.append(Factor("WATCH_LIST", -weight, f"on watch list {describe(s, catalogue)}"))

    day = city_date(at)
    for person_id in sorted({link.person_id for link in leaders}):
        links = [link for link in leaders if link.person_id == person_id and link.valid_on(day)]
        entries = newest_first(
            {s["id"]: s for link in links for s in link.sanctions if applies(s, at)}.values()
        )
        entries = [s for s in entries if s["kind"] == "BLACK"]
        if entries and config.leaders.black_list_deduction:
            relations = "/".join(sorted({link.relation for link in links}))
            lists = "; ".join(describe(s, catalogue) for s in entries)
            factors.append(
                Factor(
                    "LEADER_BLACK_LIST",
                    -config.leaders.black_list_deduction,
                    f"{relations} {mask_resident_id(person_id)} is on a black list: {lists}",
                )
            )

    for s in ordered:
        end = ended(s, at)
        if end is None:
            continue
        kind, end_day = end
        if kind is None or kind not in config.history.counts:
            continue
        tier = config.history.tier((day - end_day).days)
        weight = 0.0
        if tier is not None:
            weight = {"BLACK": tier.black, "WATCH": tier.watch}.get(s["kind"], 0.0)
        if weight:
            factors.append(
                Factor(
                    f"{kind.value}_HISTORY",
                    -weight,
                    f"{kind.value.lower()} on {end_day} ({(day - end_day).days} days ago): "
                    f"{describe(s, catalogue)}",
                )
            )

    red_total = 0.0
    for s in applying:
        if s["kind"] == "RED":
            weight = config.red_list.of(s["listType"])
            red_total += weight
            factors.append(Factor("RED_LIST", weight, f"on red list {describe(s, catalogue)}"))
    if red_total > config.red_list.cap:
        factors.append(
            Factor(
                "RED_LIST_CAP",
                config.red_list.cap - red_total,
                f"red lists add at most {_points(config.red_list.cap)} together",
            )
        )

    raw = sum(f.weight for f in factors)
    low, high = config.score_range.min, config.score_range.max
    score = min(max(raw, low), high)
    if score != raw:
        factors.append(
            Factor("SCORE_RANGE", score - raw, f"the score is kept within {low:g}..{high:g}")
        )
    grade = config.grade_of(score)
    cap = config.black_list.grade_cap
    if black and cap is not None and grade.rank < cap.rank:
        factors.append(
            Factor(
                "GRADE_CAP",
                0.0,
                f"score {score:g} would grade {grade.value}; an entry on a black list "
                f"caps the grade at {cap.value}",
            )
        )
        grade = cap
    return Rating(subject_id, at, grade, score, tuple(factors))
