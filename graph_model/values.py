"""Conversions between driver values and plain Python values."""

from __future__ import annotations

import datetime as dt
import os
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


def random_ids(prefix: str, count: int) -> list[str]:
    """`count` ids: `prefix` and 32 hex digits of fresh randomness each (the shape of the
    `uuid4().hex` ids before), from one `os.urandom` call: a batch of 1,000 checks made
    1,000 getrandom syscalls, ~6% of batchCheck's API time."""
    pool = os.urandom(16 * count).hex()
    return [prefix + pool[32 * i : 32 * (i + 1)] for i in range(count)]
