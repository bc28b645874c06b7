"""The generated world's fixed calendar.

The world has its own "today" so that output never depends on the machine's clock:
the same seed gives the same world on any day.
"""

from __future__ import annotations

import datetime as dt

WORLD_TODAY = dt.date(2026, 11, 27)
LAST_EVENT = dt.date(2026, 10, 31)  # the latest day anything in the world happens
FIRST_BIRTH = dt.date(1940, 1, 1)
LAST_BIRTH = dt.date(2020, 12, 31)
SANCTIONS_FROM = dt.date(2021, 1, 1)

SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")

LAST_EVENT_ORD = LAST_EVENT.toordinal()
FIRST_BIRTH_ORD = FIRST_BIRTH.toordinal()
LAST_BIRTH_ORD = LAST_BIRTH.toordinal()
YEAR = 365  # day arithmetic on ordinals: a year off by a leap day is fine for synthetic dates


def years_after(ordinal: int, years: int) -> int:
    """A day at least `years` calendar years after `ordinal` (leap days included)."""
    return ordinal + years * YEAR + years // 4 + 1


def year_start(year: int) -> int:
    return dt.date(year, 1, 1).toordinal()


def add_years(day: dt.date, years: int) -> dt.date:
    """Same month and day `years` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def instant(day: dt.date, hour: int) -> dt.datetime:
    """`hour` o'clock local time in Wenzhou on `day`, as a UTC instant."""
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI).astimezone(dt.UTC)


def from_ordinal(ordinal: int) -> dt.date:
    return dt.date.fromordinal(ordinal)
