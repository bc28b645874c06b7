"""The pieces of credit ratings that need no configuration: grades, whether a sanction
applies and how it ended, the order of entries, and the days a rating history is taken on.

The rating itself (`rules.scoring.ratings.rate`) applies the weights of
`rules/evaluation/rating.yaml` to these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.scoring.factors import Factor
from domain.time import CITY_TZ, city_date

Sanction = dict[str, Any]


class Grade(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"

    @property
    def rank(self) -> int:
        """0 for A (best) .. 3 for D (worst)."""
        return list(Grade).index(self)


class HistoryKind(StrEnum):
    REPAIRED = "REPAIRED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True)
class Rating:
    subject_id: str
    at: dt.datetime
    grade: Grade
    score: float
    factors: tuple[Factor, ...]


def newest_first(sanctions: Iterable[Sanction]) -> list[Sanction]:
    """Newest decision first, then by id: the order every list of entries uses."""
    by_id = sorted(sanctions, key=lambda s: s["id"])
    return sorted(by_id, key=lambda s: s["decidedOn"], reverse=True)


def applies(sanction: Sanction, at: dt.datetime) -> bool:
    """The APPLIES_AT rule (`graph_model.sanctions_read.APPLIES_AT`) for one sanction read."""
    day = city_date(at)
    lifted_at = sanction.get("liftedAt")
    valid_to = sanction.get("validTo")
    return (
        bool(sanction.get("recognized"))
        and (lifted_at is None or at < lifted_at)
        and sanction["validFrom"] <= day
        and (valid_to is None or day < valid_to)
    )


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
