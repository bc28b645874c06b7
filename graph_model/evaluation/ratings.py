"""Public credit ratings A/B/C/D of units, computed (never stored) at any instant.

A rating is a pure function of the unit's sanctions, its leaders' links and black-list
entries, the instant and the weights in `rules/evaluation/rating.yaml`: the same facts
give the same rating, so past ratings are recomputed rather than kept. Whether a
sanction counts at an instant is the shared APPLIES_AT rule (`sanctions_read.applies`).

The score is the sum of its factors (the BASE factor included); each factor names the
sanction and list behind it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from graph_model.driver import Graph
from graph_model.identifiers import SubjectKind, mask_resident_id
from graph_model.labels import UNIT_KINDS, Label, Rel
from graph_model.registry import SUBJECT_FIELDS
from graph_model.sanctions_read import SANCTION_FIELDS, applies
from graph_model.values import CITY_TZ, city_date, native
from rules.evaluation import Grade, HistoryKind, RatingConfig
from rules.models import Catalogue

Sanction = dict[str, Any]

# ---------------------------------------------------------------- the pure part


@dataclass(frozen=True)
class Factor:
    code: str
    weight: float
    detail: str


@dataclass(frozen=True)
class Rating:
    subject_id: str
    at: dt.datetime
    grade: Grade
    score: float
    factors: tuple[Factor, ...]


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

    @classmethod
    def of(cls, row: dict[str, Any]) -> LeaderLink:
        return cls(
            person_id=row["personId"],
            relation=row["relation"],
            valid_from=row["validFrom"],
            valid_to=row.get("validTo"),
            sanctions=tuple(row.get("sanctions") or ()),
        )


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


def newest_first(sanctions: Iterable[Sanction]) -> list[Sanction]:
    """Newest decision first, then by id: the order every list of entries uses."""
    by_id = sorted(sanctions, key=lambda s: s["id"])
    return sorted(by_id, key=lambda s: s["decidedOn"], reverse=True)


def ended(sanction: Sanction, at: dt.datetime) -> tuple[HistoryKind | None, dt.date] | None:
    """How and on which city day a sanction stopped applying before `at`, if it did.

    A lift at or before `at` ends it (REPAIRED; None for a revocation, which says the
    entry was wrong); reaching `validTo` first ends it as EXPIRED. None when it never
    applied, still applies, or is not recognised here.
    """
    if not sanction.get("recognized"):
        return None
    day = city_date(at)
    valid_from: dt.date = sanction["validFrom"]
    valid_to: dt.date | None = sanction.get("validTo")
    lifted_at: dt.datetime | None = sanction.get("liftedAt")
    end: tuple[HistoryKind | None, dt.date] | None = None
    if lifted_at is not None and lifted_at <= at:
        lift_kind = HistoryKind.REPAIRED if sanction.get("liftKind") == "REPAIRED" else None
        end = (lift_kind, city_date(lifted_at))
    if valid_to is not None and valid_to <= day and (end is None or valid_to <= end[1]):
        end = (HistoryKind.EXPIRED, valid_to)
    if end is None or end[1] <= valid_from:
        return None
    return end


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


# ---------------------------------------------------------------- rating history


class Step(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    QUARTER = "QUARTER"
    YEAR = "YEAR"


_MONTHS = {Step.MONTH: 1, Step.QUARTER: 3, Step.YEAR: 12}
_DAYS = {Step.DAY: 1, Step.WEEK: 7}


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day when it has no such day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    return dt.date(year, month, min(day.day, (next_month - dt.timedelta(days=1)).day))


def history_days(start: dt.date, end: dt.date, step: Step) -> list[dt.date]:
    """`start`, `start` + k·step while not after `end`, and `end` itself last."""
    days: list[dt.date] = []
    k = 0
    while True:
        if step in _DAYS:
            day = start + dt.timedelta(days=_DAYS[step] * k)
        else:
            day = add_months(start, _MONTHS[step] * k)
        if day > end:
            break
        days.append(day)
        k += 1
    if not days or days[-1] != end:
        days.append(end)
    return days


def history_size(start: dt.date, end: dt.date, step: Step) -> int:
    """How many points `history_days` gives, without building them."""
    if step in _DAYS:
        inner = (end - start).days // _DAYS[step] + 1
    else:
        months = (end.year - start.year) * 12 + end.month - start.month
        inner = months // _MONTHS[step] + 1
        if add_months(start, _MONTHS[step] * (inner - 1)) > end:
            inner -= 1
    return inner + 1  # `end` itself, at most once more


def as_of(day: dt.date, now: dt.datetime) -> dt.datetime:
    """A date's rating instant: the end of that day in the city, or now for today."""
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=CITY_TZ).astimezone(
        dt.UTC
    )
    return min(end - dt.timedelta(microseconds=1), now)


# ---------------------------------------------------------------- reading the facts

# a record `v` known at $knownAt (null: everything)
KNOWN_AT = "($knownAt IS NULL OR {v}.createdAt IS NULL OR {v}.createdAt <= $knownAt)"


def facts_return(leader_relations: Sequence[Rel]) -> str:
    """RETURN items giving a unit `s`'s sanctions and its leaders' black-list entries.

    `$knownAt` (null: everything) leaves out records created after it, so a recorded
    draw can be recomputed from what was known when it was made.
    """
    relations = "|".join(r.value for r in leader_relations)
    return (
        f"COLLECT {{ MATCH (x:{Label.SANCTION.value} {{subjectId: s.id}}) "
        f"WHERE {KNOWN_AT.format(v='x')} RETURN {SANCTION_FIELDS.format(s='x')} }} AS sanctions, "
        f"COLLECT {{ MATCH (p:{Label.PERSON.value})-[r:{relations}]->(s) "
        f"WHERE {KNOWN_AT.format(v='r')} "
        "RETURN {personId: p.id, relation: type(r), validFrom: r.validFrom, validTo: r.validTo, "
        f"sanctions: COLLECT {{ MATCH (y:{Label.SANCTION.value} {{subjectId: p.id}}) "
        f"WHERE y.kind = 'BLACK' AND {KNOWN_AT.format(v='y')} "
        f"RETURN {SANCTION_FIELDS.format(s='y')} }}}} }} AS leaders"
    )


@functools.cache
def unit_facts_query(leader_relations: tuple[Rel, ...]) -> str:
    return (
        f"UNWIND $ids AS id MATCH (s:{Label.SUBJECT.value} {{id: id}}) "
        f"RETURN {SUBJECT_FIELDS} AS subject, {facts_return(leader_relations)}"
    )


@dataclass(frozen=True)
class UnitFacts:
    subject: dict[str, Any]
    sanctions: tuple[Sanction, ...]
    leaders: tuple[LeaderLink, ...]

    @property
    def is_unit(self) -> bool:
        return SubjectKind(self.subject["kind"]) in UNIT_KINDS

    def rate(self, at: dt.datetime, config: RatingConfig, catalogue: Catalogue) -> Rating:
        return rate(self.subject["id"], self.sanctions, self.leaders, at, config, catalogue)

    @classmethod
    def of(cls, row: dict[str, Any]) -> UnitFacts:
        row = native(row)
        return cls(
            subject=dict(row["subject"]),
            sanctions=tuple(row["sanctions"]),
            leaders=tuple(LeaderLink.of(link) for link in row["leaders"]),
        )


async def unit_facts(
    graph: Graph, subject_id: str, config: RatingConfig, *, name: str = "creditRating"
) -> UnitFacts | None:
    """The facts a rating needs, in one query; None when no such subject is stored."""
    query = unit_facts_query(config.leaders.relations)
    rows = await graph.read(query, {"ids": [subject_id], "knownAt": None}, name=name)
    return UnitFacts.of(rows[0]) if rows else None
