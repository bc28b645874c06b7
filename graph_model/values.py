"""Conversions between driver values and plain Python values."""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any
from zoneinfo import ZoneInfo

from neo4j.time import Date as Neo4jDate
from neo4j.time import DateTime as Neo4jDateTime

CITY_TZ = ZoneInfo("Asia/Shanghai")


def native(value: Any) -> Any:
    """Driver temporal values to `datetime` ones, recursively through dicts and lists."""
    if isinstance(value, Neo4jDateTime | Neo4jDate):
        return value.to_native()
    if isinstance(value, dict):
        return {k: native(v) for k, v in value.items()}
    if isinstance(value, list):
        return [native(v) for v in value]
    return value


def city_date(at: dt.datetime) -> dt.date:
    """The day an instant falls on in the city (Asia/Shanghai)."""
    return at.astimezone(CITY_TZ).date()


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
    datetimes (about 25 µs each, which the rust extension does not cover): for
    batches of CheckRecords it was the largest single cost (bench/README.md).
    """
    delta = aware(at) - _EPOCH
    return [delta.days * 86_400 + delta.seconds, delta.microseconds * 1000]


def time_ordered_ids(prefix: str, count: int) -> list[str]:
    """`count` ids: `prefix`, the current millisecond (12 hex digits) and 80 random bits
    (20 hex digits) each, so ids sort by when they were issued.

    Check records are keyed by these ids: random ones spread every insert across the id
    index, while ids that grow with time land at its end: Neo4j spends 24-35% less CPU
    per record (`bench/micro.py`; bench/README.md, "What was tried"). The randomness
    comes from one `os.urandom` call per batch: one per id was ~6% of batchCheck's API
    time.
    """
    stamp = f"{prefix}{time.time_ns() // 1_000_000:012x}"
    pool = os.urandom(10 * count).hex()
    return [stamp + pool[20 * i : 20 * (i + 1)] for i in range(count)]
