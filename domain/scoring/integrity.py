"""The pieces of the personal integrity score that need no configuration: a dimension
with the points that made it, and a person's age.

The score itself (`rules.scoring.integrity.score_person`) applies the points
of `rules/evaluation/integrity.yaml` to the person's facts with these.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from domain.scoring.factors import Factor


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


class Points:
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
