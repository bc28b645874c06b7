"""The joint check's decision and a sanction's reach, from hits as the query returns them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rules import Catalogue, load_catalogue
from rules.decision import Path, outcome, path_sort_key, reached

AT = dt.datetime(2026, 11, 27, 2, tzinfo=dt.UTC)
AREA = "ADMINISTRATIVE_APPROVAL"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def sanction(sid: str, list_type: str) -> dict[str, Any]:
    return {"id": sid, "listType": list_type}


def step(a: str, b: str, relation: str = "LEGAL_REPRESENTATIVE_OF") -> dict[str, Any]:
    return {"from": a, "relation": relation, "to": b, "validFrom": dt.date(2020, 1, 1)}


def test_punitive_measures_decide_and_suppress_incentives(catalogue: Catalogue) -> None:
    black = sanction("S1", "DISHONEST_JUDGMENT_DEBTOR")
    model = sanction("S2", "CREDIT_MODEL_UNIT")
    far: Path = [step("P", "M"), step("M", "U", "SHAREHOLDER_OF")]
    near_b: Path = [step("P", "U2")]
    near_a: Path = [step("P", "U1")]
    hits = [
        (black, "LEGAL_REPRESENTATIVE", far),
        (black, "LEGAL_REPRESENTATIVE", near_b),
        (black, "LEGAL_REPRESENTATIVE", near_a),
        (model, "SELF", []),
        (black, "SELF", []),
    ]
    result = outcome("C1", "P", True, iter(hits), AREA, AT, catalogue)
    assert result.decision == "PROHIBITED"
    rows = [(m.measure.id, m.role, m.sanction["id"], m.suppressed) for m in result.measures]
    assert rows == [
        ("DJD-HC-PROPERTY", "LEGAL_REPRESENTATIVE", "S1", False),
        ("DJD-HC-PROPERTY", "SELF", "S1", False),
        ("DJD-POSTS-COMPANY", "SELF", "S1", False),
        ("DJD-GOV-INVESTMENT", "LEGAL_REPRESENTATIVE", "S1", False),
        ("DJD-GOV-INVESTMENT", "SELF", "S1", False),
        ("MODEL-ACCEPT-MISSING-DOCS", "SELF", "S2", True),
        ("MODEL-GREEN-CHANNEL", "SELF", "S2", True),
    ]
    # one path per (measure, role, sanction): the shortest, then the first in order
    assert {m.role: m.path for m in result.measures if m.sanction["id"] == "S1"} == {
        "LEGAL_REPRESENTATIVE": near_a,
        "SELF": [],
    }


def test_incentives_alone_and_nothing_at_all(catalogue: Catalogue) -> None:
    model = sanction("S2", "CREDIT_MODEL_UNIT")
    alone = outcome("C2", "U", True, [(model, "SELF", [])], AREA, AT, catalogue)
    assert alone.decision == "INCENTIVE" and not any(m.suppressed for m in alone.measures)
    # a role no measure of the area reaches through applies nothing
    unreached = outcome("C3", "U", True, [(model, "OPERATOR", [])], AREA, AT, catalogue)
    assert (unreached.decision, unreached.measures) == ("CLEAR", [])
    unknown = outcome("C4", "X", False, [], AREA, AT, catalogue)
    assert (unknown.decision, unknown.subject_known) == ("CLEAR", False)


def test_a_sanction_reaches_each_subject_once_per_role_nearest_first() -> None:
    areas = {("L", "SELF"): ("A1",), ("L", "LEGAL_REPRESENTATIVE"): ("A1", "A2")}
    unit, person = {"id": "U"}, {"id": "P"}
    hits = [
        (person, "LEGAL_REPRESENTATIVE", [step("P", "U"), step("U", "V", "BRANCH_OF")]),
        (person, "LEGAL_REPRESENTATIVE", [step("P", "U")]),
        (unit, "SELF", []),
    ]
    assert reached(iter(hits), "L", areas) == [
        {"subject": unit, "role": "SELF", "areas": ["A1"], "path": []},
        {
            "subject": person,
            "role": "LEGAL_REPRESENTATIVE",
            "areas": ["A1", "A2"],
            "path": [step("P", "U")],
        },
    ]


def test_paths_order_by_length_then_their_steps() -> None:
    paths = [[step("B", "U")], [], [step("A", "U"), step("U", "V")], [step("A", "U")]]
    assert sorted(paths, key=path_sort_key) == [
        [],
        [step("A", "U")],
        [step("B", "U")],
        [step("A", "U"), step("U", "V")],
    ]
