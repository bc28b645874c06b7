"""The rating as a pure function: deductions, history tiers, red-list cap, leaders, caps."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.scoring.ratings import (
    Grade,
    HistoryKind,
    Rating,
    Step,
    add_months,
    as_of,
    ended,
    history_days,
    history_size,
)
from domain.time import CITY_TZ
from rules import Catalogue, default_catalogue
from rules.evaluation import EvaluationConfig, default_evaluation
from rules.scoring.ratings import LeaderLink, rate
from tests.unit.evaluation.helpers import sanction_row

AT = dt.datetime(2026, 11, 27, 10, 0, tzinfo=CITY_TZ)
_ids = itertools.count(1)
KINDS = {
    "DISHONEST_JUDGMENT_DEBTOR": "BLACK",
    "SAMR_SERIOUS_ILLEGAL": "BLACK",
    "MAJOR_TAX_VIOLATION": "BLACK",
    "SAFETY_PRODUCTION_DISHONEST": "BLACK",
    "SAMR_ABNORMAL_OPERATION": "WATCH",
    "TAX_A_LEVEL": "RED",
    "CUSTOMS_AEO": "RED",
    "CREDIT_MODEL_UNIT": "RED",
}


def sanction(list_type: str = "DISHONEST_JUDGMENT_DEBTOR", **fields: Any) -> dict[str, Any]:
    sid = f"S{next(_ids):04d}"
    return sanction_row(sid, list_type, KINDS[list_type], "91330302MA00000001", **fields)


def run(
    config: EvaluationConfig,
    catalogue: Catalogue,
    sanctions: list[dict[str, Any]],
    leaders: tuple[LeaderLink, ...] = (),
    at: dt.datetime = AT,
) -> Rating:
    result = rate("91330302MA00000001", sanctions, leaders, at, config.rating, catalogue)
    assert sum(f.weight for f in result.factors) == pytest.approx(result.score)
    return result


def codes(result: Rating) -> list[str]:
    return [f.code for f in result.factors]


def test_clean_unit(config: EvaluationConfig, catalogue: Catalogue) -> None:
    result = run(config, catalogue, [])
    assert (result.grade, result.score, codes(result)) == (Grade.A, 100.0, ["BASE"])


def test_black_lists_deduct_by_list_type_and_cap_the_grade(
    config: EvaluationConfig, catalogue: Catalogue
) -> None:
    djd = sanction()
    one = run(config, catalogue, [djd])
    assert (one.grade, one.score) == (Grade.C, 70.0)
    assert djd["id"] in one.factors[1].detail and "失信被执行人" in one.factors[1].detail
    two = run(config, catalogue, [djd, sanction("SAMR_SERIOUS_ILLEGAL")])
    assert (two.grade, two.score) == (Grade.D, 30.0)
    # red lists lift the score to B, but a black-list entry caps the grade at C
    capped = run(
        config,
        catalogue,
        [djd, sanction("TAX_A_LEVEL"), sanction("CUSTOMS_AEO"), sanction("CREDIT_MODEL_UNIT")],
    )
    assert capped.score == 80.0 and capped.grade == Grade.C
    assert codes(capped)[-1] == "GRADE_CAP" and capped.factors[-1].weight == 0


def test_red_lists_are_capped_and_the_score_stays_in_range(
    config: EvaluationConfig, catalogue: Catalogue
) -> None:
    red = run(
        config,
        catalogue,
        [sanction("TAX_A_LEVEL"), sanction("CUSTOMS_AEO"), sanction("CREDIT_MODEL_UNIT")],
    )
    assert red.score == 110.0 and "RED_LIST_CAP" in codes(red)
    many = [sanction(t) for t in ("DISHONEST_JUDGMENT_DEBTOR", "SAMR_SERIOUS_ILLEGAL", "MAJOR_TAX_VIOLATION",
                                  "SAFETY_PRODUCTION_DISHONEST")]  # fmt: skip
    floor = run(config, catalogue, many)
    assert floor.score == 0.0 and floor.grade == Grade.D and codes(floor)[-1] == "SCORE_RANGE"


def test_history_tiers_and_lift_kinds(config: EvaluationConfig, catalogue: Catalogue) -> None:
    def lifted(days_ago: int, kind: str = "REPAIRED") -> dict[str, Any]:
        start = dt.date(2022, 1, 10)
        return sanction(
            decidedOn=start,
            validFrom=start,
            liftKind=kind,
            liftedAt=AT - dt.timedelta(days=days_ago),
        )

    assert run(config, catalogue, [lifted(100)]).score == 85.0
    assert run(config, catalogue, [lifted(800)]).score == 92.0
    assert run(config, catalogue, [lifted(1100)]).score == 100.0
    assert codes(run(config, catalogue, [lifted(10, "REVOKED")])) == ["BASE"]
    expired = sanction(validFrom=dt.date(2023, 1, 1), validTo=dt.date(2025, 1, 1))
    assert codes(run(config, catalogue, [expired])) == ["BASE", "EXPIRED_HISTORY"]
    watch = sanction(
        "SAMR_ABNORMAL_OPERATION", liftKind="REPAIRED", liftedAt=AT - dt.timedelta(days=5)
    )
    assert run(config, catalogue, [watch]).score == 97.0
    # before the lift the entry applied
    assert run(config, catalogue, [lifted(100)], at=AT - dt.timedelta(days=101)).score == 70.0


def test_ended(config: EvaluationConfig) -> None:
    assert ended(sanction(), AT) is None
    assert ended(sanction(recognized=False, validTo=dt.date(2025, 6, 1)), AT) is None
    repaired = sanction(liftKind="REPAIRED", liftedAt=dt.datetime(2026, 3, 1, 9, tzinfo=CITY_TZ))
    assert ended(repaired, AT) == (HistoryKind.REPAIRED, dt.date(2026, 3, 1))
    assert ended(repaired, dt.datetime(2026, 2, 1, tzinfo=CITY_TZ)) is None
    # it had already expired when it was lifted
    late = sanction(
        validTo=dt.date(2025, 6, 1), liftKind="REPAIRED", liftedAt=AT - dt.timedelta(days=1)
    )
    assert ended(late, AT) == (HistoryKind.EXPIRED, dt.date(2025, 6, 1))
    # lifted before it ever started
    never = sanction(
        validFrom=dt.date(2026, 6, 1),
        liftKind="REVOKED",
        liftedAt=dt.datetime(2026, 5, 1, tzinfo=CITY_TZ),
    )
    assert ended(never, AT) is None


def test_unrecognised_and_future_entries_do_not_count(
    config: EvaluationConfig, catalogue: Catalogue
) -> None:
    assert (
        run(config, catalogue, [sanction(recognized=False, jurisdiction="jinhua")]).score == 100.0
    )
    assert run(config, catalogue, [sanction(validFrom=dt.date(2027, 1, 1))]).score == 100.0


def test_leaders_on_a_black_list(config: EvaluationConfig, catalogue: Catalogue) -> None:
    person = "330302197505170011"
    entry = sanction(subjectId=person)
    rep = LeaderLink(person, "LEGAL_REPRESENTATIVE_OF", dt.date(2019, 1, 1), None, (entry,))
    controller = LeaderLink(person, "ACTUAL_CONTROLLER_OF", dt.date(2019, 1, 1), None, (entry,))
    result = run(config, catalogue, [], (rep, controller))
    assert result.score == 90.0 and codes(result) == ["BASE", "LEADER_BLACK_LIST"]
    assert (
        person not in result.factors[1].detail and "330302********0011" in result.factors[1].detail
    )
    former = LeaderLink(
        person, "LEGAL_REPRESENTATIVE_OF", dt.date(2019, 1, 1), dt.date(2024, 1, 1), (entry,)
    )
    assert run(config, catalogue, [], (former,)).score == 100.0


@settings(deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(KINDS)),
            st.integers(min_value=-2000, max_value=400),  # validFrom, days from AT
            st.one_of(st.none(), st.integers(min_value=1, max_value=2000)),  # duration
            st.one_of(
                st.none(),
                st.tuples(st.sampled_from(["REPAIRED", "REVOKED"]), st.integers(-1500, 300)),
            ),
            st.booleans(),
        ),
        max_size=8,
    )
)
def test_score_is_the_sum_of_its_factors_and_in_range(entries: list[Any]) -> None:
    config, catalogue = default_evaluation(), default_catalogue()
    rows = []
    for list_type, start, duration, lift, recognised in entries:
        valid_from = AT.date() + dt.timedelta(days=start)
        rows.append(
            sanction(
                list_type,
                validFrom=valid_from,
                decidedOn=valid_from,
                validTo=valid_from + dt.timedelta(days=duration) if duration else None,
                liftKind=lift[0] if lift else None,
                liftedAt=AT + dt.timedelta(days=lift[1]) if lift else None,
                recognized=recognised,
            )
        )
    result = run(config, catalogue, rows)
    assert 0 <= result.score <= 110
    by_score = config.rating.grade_of(result.score)
    assert result.grade == by_score or (result.grade == Grade.C and "GRADE_CAP" in codes(result))


def test_add_months_clamps_to_the_month_end() -> None:
    assert add_months(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2025, 11, 30), 3) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2025, 12, 15), 12) == dt.date(2026, 12, 15)


@given(
    st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2026, 12, 31)),
    st.integers(min_value=0, max_value=1500),
    st.sampled_from(list(Step)),
)
def test_history_days_match_their_size(start: dt.date, span: int, step: Step) -> None:
    end = start + dt.timedelta(days=span)
    days = history_days(start, end, step)
    assert days[0] == start and days[-1] == end
    assert days == sorted(set(days))
    assert len(days) <= history_size(start, end, step) <= len(days) + 1


def test_as_of_is_the_end_of_the_city_day_but_never_after_now() -> None:
    at = as_of(dt.date(2025, 3, 1), AT)
    assert at.astimezone(CITY_TZ).date() == dt.date(2025, 3, 1)
    assert at + dt.timedelta(microseconds=1) == dt.datetime(2025, 3, 2, tzinfo=CITY_TZ)
    assert as_of(AT.date(), AT) == AT
