"""bench.exchange: the world Jiaxing publishes and the figures made of a run."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from api.exchange.pull import PullReport, describe
from bench import exchange
from domain.identifiers import SubjectKind, validate_subject_id
from rules.loader import catalogue_dir, load_catalogue

NOW = dt.datetime(2026, 12, 7, 23, 0, tzinfo=dt.UTC)


def test_entries_and_lifts_add_up_to_the_events_asked_for() -> None:
    assert exchange.split_events(100_000) == (90_909, 9_091)
    assert exchange.split_events(11) == (10, 1)
    assert exchange.split_events(1) == (1, 0)
    for events in (2, 7, 999, 12_345):
        entries, lifts = exchange.split_events(events)
        assert entries + lifts == events and lifts <= entries
    with pytest.raises(ValueError, match="events"):
        exchange.split_events(0)


def test_the_world_logs_exactly_the_events_asked_for_of_every_kind() -> None:
    world = exchange.jiaxing_world(2_000, seed=7, now=NOW)
    assert world.events == 2_000
    sanctions = world.sanctions
    assert len({s["id"] for s in sanctions}) == len(sanctions)
    assert all("/" not in s["id"] for s in sanctions)  # a relayed id is <source>/<id>
    lifts = Counter(s["liftKind"] for s in sanctions if s["liftedAt"] is not None)
    assert lifts["REPAIRED"] > 0 and lifts["REVOKED"] > 0  # LIFTED and REVOKED in the feed
    assert sum(lifts.values()) == exchange.split_events(2_000)[1]
    # the same seed, the same world
    again = exchange.jiaxing_world(2_000, seed=7, now=NOW)
    assert [s["id"] for s in again.sanctions] == [s["id"] for s in sanctions]


def test_every_entry_is_one_the_jiaxing_catalogue_and_wenzhou_take() -> None:
    jiaxing = load_catalogue(catalogue_dir("jiaxing"))
    wenzhou = load_catalogue()
    world = exchange.jiaxing_world(3_000, seed=1, now=NOW)
    subjects = {row["id"]: kind for kind, rows in world.subjects.items() for row in rows}
    assert len(subjects) == len(world.sanctions)  # one subject each
    for kind, rows in world.subjects.items():
        for row in rows:
            assert validate_subject_id(row["id"], kind, field="id") == row["id"]
            assert row["kind"] == kind.value and row["name"]
    recognised: Counter[bool] = Counter()
    for s in world.sanctions:
        list_type = jiaxing.list_types[s["listType"]]
        assert s["issuerId"] in list_type.issuers and s["kind"] == list_type.kind.value
        assert s["issuerId"] in jiaxing.departments
        if subjects[s["subjectId"]] is SubjectKind.PERSON:
            assert s["listType"] == exchange.PERSON_LIST
        recognised[wenzhou.is_recognized("jiaxing", s["listType"])] += 1
    assert recognised[True] > 0 and recognised[False] > 0


def test_no_entry_expires_or_is_lifted_after_the_run_starts() -> None:
    world = exchange.jiaxing_world(3_000, seed=3, now=NOW)
    for s in world.sanctions:
        assert s["validFrom"] == s["decidedOn"] < NOW.date()
        assert s["validTo"] is None or s["validTo"] > NOW.date() + dt.timedelta(days=300)
        assert s["createdAt"] < NOW
        if s["liftedAt"] is not None:
            assert s["createdAt"] < s["liftedAt"] < NOW


def test_the_pull_summary_is_read_from_what_the_pull_prints() -> None:
    line = "jiaxing: " + describe(PullReport(200, 100_000, 99_990, 10, 90_909, 75.31))
    assert exchange.pull_summary(line) == {
        "events": 100_000,
        "pages": 200,
        "applied": 99_990,
        "kept": 10,
        "registered": 90_909,
        "seconds": 75.3,
    }
    with pytest.raises(ValueError, match="no pull summary"):
        exchange.pull_summary("pull failed: HTTP 502")


def test_the_halves_of_a_pull_split_at_the_middle_event() -> None:
    marks = [(2.0, 500), (4.0, 1000), (5.0, 1500), (6.0, 2000)]
    assert exchange.halves(marks, 2000) == {"first_half": 250.0, "second_half": 500.0}
    assert exchange.halves([], 0) == {"first_half": None, "second_half": None}
    # one page: no second half to measure
    assert exchange.halves([(1.0, 500)], 500) == {"first_half": None, "second_half": None}


def test_page_figures_are_the_rate_and_observed_percentiles() -> None:
    latencies = [0.1] * 98 + [0.5, 2.0]
    figures = exchange.page_figures(latencies, 50_000, 10.0)
    assert figures == {
        "pages": 100,
        "events": 50_000,
        "seconds": 10.0,
        "events_per_s": 5000.0,
        "page_p50_ms": 100.0,
        "page_p99_ms": 500.0,
    }


def test_cpu_per_thousand_events_leaves_a_process_gone_unmeasured() -> None:
    spent = exchange.cpu_spent_s({"api": 10.0, "neo4j": 3.0}, {"api": 12.5, "neo4j": None})
    assert spent == {"api": 2.5, "neo4j": None}
    assert exchange.per_thousand_ms(spent, 10_000) == {"api": 250.0, "neo4j": None}


def test_the_verdicts_hold_the_issue_s_targets() -> None:
    assert exchange.verdict(119.9, 120, at_most=True) == "**met**"
    assert exchange.verdict(120.0, 120, at_most=True) == "not met"  # under 2 minutes
    assert exchange.verdict(5000.0, 5000, at_most=False) == "**met**"  # at least 5,000
    assert exchange.verdict(4999.9, 5000, at_most=False) == "not met"
    assert exchange.verdict(None, 5000, at_most=False) == "not measured"
    assert exchange.pull_verdict(63.3, 100_000) == "**met**"
    assert exchange.pull_verdict(121.0, 100_000) == "not met"
    assert exchange.pull_verdict(5.1, 2_000) == "(the target is for 100,000 events)"
