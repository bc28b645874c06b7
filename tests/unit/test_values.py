"""Instants and ids as graph_model sends them to Neo4j."""

from __future__ import annotations

import datetime as dt
import re
import time

from domain.time import CITY_TZ, epoch_pair, time_ordered_ids


def test_epoch_pair_keeps_every_microsecond_and_any_offset() -> None:
    instant = dt.datetime(2025, 3, 1, 2, 0, 0, 999_999, tzinfo=dt.UTC)
    assert epoch_pair(instant) == [1_740_794_400, 999_999_000]
    assert epoch_pair(instant.astimezone(CITY_TZ)) == epoch_pair(instant)
    before_1970 = dt.datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=dt.UTC)
    assert epoch_pair(before_1970) == [-1, 500_000_000]


def test_time_ordered_ids_are_prefixed_hex_distinct_and_sort_by_issue() -> None:
    before = time.time_ns() // 1_000_000
    ids = time_ordered_ids("C", 1000)
    after = time.time_ns() // 1_000_000
    assert len(ids) == 1000
    assert all(re.fullmatch(r"C[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == 1000
    assert all(before <= int(i[1:13], 16) <= after for i in ids)
    time.sleep(0.002)  # into a later millisecond: the ids' order is their time's
    later = time_ordered_ids("C", 1)[0]
    assert later > max(ids)
    assert time_ordered_ids("C", 0) == []
