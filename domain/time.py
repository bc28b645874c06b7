"""The city's time: its zone and day, instants in UTC, and ids that sort by time.

Local dates are taken in Asia/Shanghai (+08:00): that is the city's day.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from zoneinfo import ZoneInfo

CITY_TZ = ZoneInfo("Asia/Shanghai")


def city_date(at: dt.datetime) -> dt.date:
    """The day an instant falls on in the city (Asia/Shanghai)."""
    return at.astimezone(CITY_TZ).date()


def city_midnight(day: dt.date) -> dt.datetime:
    """The instant the city's `day` begins, in UTC."""
    return dt.datetime.combine(day, dt.time(), CITY_TZ).astimezone(dt.UTC)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(at: dt.datetime, *, field: str = "at") -> dt.datetime:
    """Instants without an offset are taken as city time, as a clerk would mean them.

    The result is always in UTC: a datetime carrying a named zone must never reach the
    driver, whose packing of ZoneInfo values can crash the process.
    """
    if at.tzinfo is None:
        at = at.replace(tzinfo=CITY_TZ)
    return at.astimezone(dt.UTC)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def epoch_pair(at: dt.datetime) -> list[int]:
    """[seconds, nanoseconds] since the epoch, for Cypher's `datetime({epochSeconds, nanosecond})`.

    Sending instants as two integers skips the driver's Python dehydration of aware
    datetimes, which the rust extension does not cover and which would otherwise be
    the largest cost of writing a batch of check records.
    """
    delta = aware(at) - _EPOCH
    return [delta.days * 86_400 + delta.seconds, delta.microseconds * 1000]


def time_ordered_ids(prefix: str, count: int) -> list[str]:
    """`count` ids: `prefix`, the current millisecond (12 hex digits) and 80 random bits
    (20 hex digits) each, so ids sort by when they were issued.

    Check records are keyed by these ids: random ones would spread every insert across
    the id index, while ids that grow with time land at its end, which costs Neo4j less
    per record. The randomness comes from one `os.urandom` call per batch rather than
    a system call per id.
    """
    stamp = f"{prefix}{time.time_ns() // 1_000_000:012x}"
    pool = os.urandom(10 * count).hex()
    return [stamp + pool[20 * i : 20 * (i + 1)] for i in range(count)]
