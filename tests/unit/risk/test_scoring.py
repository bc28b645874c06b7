"""The risk score and the controller rules on hand-made facts (no database)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from domain.scoring.control import ControlBasis, ControlFinding, find_controller
from domain.scoring.ownership import Holdings
from domain.scoring.risk import legal_representative_changes, score
from domain.scoring.risk_weights import RELATION_WEIGHTS, WEIGHTS, FactorCode
from domain.vocabulary import Rel

AT = dt.datetime(2026, 11, 1, 2, tzinfo=dt.UTC)


def facts(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": "ENTERPRISE", "name": "x", "own": [], "near": [], "suspects": [], "cycles": [],
        "reps": [], "unitsAtAddress": 0,
    }  # fmt: skip
    return {**base, **extra}


def entry(i: str, kind: str = "BLACK", applies: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "id": i, "listType": "DISHONEST_JUDGMENT_DEBTOR", "kind": kind, "applies": applies,
        "validFrom": dt.date(2025, 1, 1), "validTo": None, "liftKind": None, "liftedAt": None,
        "recognized": True, **extra,
    }  # fmt: skip


def party(i: str, relations: list[str], kind: str = "BLACK") -> dict[str, Any]:
    path = [{"from": f"n{k}", "relation": r, "to": f"n{k + 1}"} for k, r in enumerate(relations)]
    return {
        "id": i,
        "name": i,
        "kind": "PERSON",
        "path": path,
        "sanction": {"id": f"S{i}", "listType": "X", "kind": kind},
    }


def test_caps_clamp_and_order() -> None:
    profile = score(facts(own=[entry("a"), entry("b"), entry("c")]), "me", AT)
    weights = [f.weight for f in profile.factors if f.code == "OWN_BLACK_LIST"]
    assert sum(weights) == WEIGHTS[FactorCode.OWN_BLACK_LIST].cap == 60.0
    assert weights == [40.0, 20.0, 0.0]  # the third still shows, weighing nothing
    many = [party(f"p{i}", ["LEGAL_REPRESENTATIVE_OF"]) for i in range(5)]
    full = score(facts(own=[entry("a"), entry("b")], near=many), "me", AT)
    assert full.score == 100.0  # 60 + 40, clamped to the scale's top anyway
    assert [f.weight for f in full.factors] == sorted(
        (f.weight for f in full.factors), key=lambda w: -abs(w)
    )
    red = score(facts(own=[entry("r", kind="RED")]), "me", AT)
    assert red.score == 0.0 and red.factors[0].weight == -10.0


def test_parties_by_strongest_path_distance_and_list_kind() -> None:
    profile = score(
        facts(near=[
            party("x", ["MEMBER_OF", "MEMBER_OF"]),
            party("x", ["SHAREHOLDER_OF"]),  # the same party, closer: this one counts
            party("w", ["EXECUTIVE_OF"], kind="WATCH"),
            party("me", ["LEGAL_REPRESENTATIVE_OF"]),  # never the subject itself
        ]),
        "me", AT,
    )  # fmt: skip
    by_detail = {f.detail.split()[0]: (f.code, f.weight) for f in profile.factors}
    assert by_detail["x"] == (
        "SANCTIONED_PARTY_D1",
        RELATION_WEIGHTS[Rel.SHAREHOLDER_OF],
    )
    assert by_detail["w"] == ("SANCTIONED_PARTY_D1", 6.0)  # 12 x 0.5 for a watch list
    assert "me" not in by_detail
    two = score(facts(near=[party("y", ["LEGAL_REPRESENTATIVE_OF", "MEMBER_OF"])]), "me", AT)
    assert two.factors[0].code == "SANCTIONED_PARTY_D2" and two.factors[0].weight == pytest.approx(
        3.2
    )


def test_history_and_churn() -> None:
    lifted = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    profile = score(
        facts(own=[
            entry("rep", applies=False, liftKind="REPAIRED", liftedAt=lifted),
            entry("rev", applies=False, liftKind="REVOKED", liftedAt=lifted),
            entry("exp", kind="WATCH", applies=False, validTo=dt.date(2025, 6, 1)),
            entry("later", applies=False, liftKind="REPAIRED", liftedAt=AT + dt.timedelta(days=1)),
        ]),
        "me", AT,
    )  # fmt: skip
    assert {(f.code, f.weight) for f in profile.factors} == {
        ("REPAIRED_HISTORY", 4.0), ("REVOKED_HISTORY", 0.0), ("EXPIRED_HISTORY", 3.0),
    }  # fmt: skip
    reps = [
        {"person": "a", "validFrom": dt.date(2010, 1, 1), "validTo": dt.date(2024, 1, 1)},
        {"person": "b", "validFrom": dt.date(2024, 1, 1), "validTo": dt.date(2026, 1, 1)},
        {"person": "c", "validFrom": dt.date(2026, 1, 1), "validTo": None},
        {"person": "d", "validFrom": dt.date(2027, 1, 1), "validTo": None},  # not yet
    ]
    assert [r["person"] for r in legal_representative_changes(reps, dt.date(2026, 11, 1))] == [
        "b",
        "c",
    ]
    # a unit's first legal representative is no change, however recent
    assert legal_representative_changes(reps[2:3], dt.date(2026, 11, 1)) == []
    assert score(facts(reps=reps), "me", AT).factors[0].weight == 8.0
    assert score(facts(kind="PERSON", unitsAtAddress=9), "me", AT).factors == []


def holdings(
    links: list[tuple[str, str, float]], kinds: dict[str, str], controls: list[tuple[str, str]] = ()
) -> Holdings:  # type: ignore[assignment]
    def row(i: str) -> dict[str, Any]:
        return {"id": i, "kind": kinds.get(i, "ENTERPRISE")}

    ids = {"T"} | {a for a, _, _ in links} | {b for _, b, _ in links}
    return Holdings(
        target="T", kind="ENTERPRISE", nodes={i: row(i) for i in ids},
        links=[
            {"id": f"L{n}", "from": a, "to": b, "ratio": r, "validFrom": dt.date(2020, 1, 1), "validTo": None}
            for n, (a, b, r) in enumerate(links)
        ],
        controls=[
            {"link": {"id": f"C{n}", "from": a, "to": b, "validFrom": dt.date(2020, 1, 1), "validTo": None},
             "controller": row(a)}
            for n, (a, b) in enumerate(controls)
        ],
        unexpanded=set(), truncated=False,
    )  # fmt: skip


def control(holdings: Holdings, at: dt.datetime) -> ControlFinding:
    return find_controller(holdings, at, threshold=0.25, path_count_cap=1_000, field="enterpriseId")


def test_controller_rules() -> None:
    people = {"P": "PERSON", "Q": "PERSON", "R": "PERSON"}
    chain = control(holdings([("P", "M", 0.51), ("M", "T", 0.6), ("Q", "T", 0.4)], people), AT)
    assert (
        chain.basis is ControlBasis.MAJORITY_CHAIN
        and chain.controller
        and chain.controller["id"] == "P"
    )
    assert chain.share == pytest.approx(0.306)
    # a cross-holding majority loop has no top: fall back to the largest owner
    loop = control(
        holdings([("A", "T", 0.6), ("T", "A", 0.6), ("P", "A", 0.4), ("Q", "T", 0.4)], people), AT
    )
    assert loop.basis is ControlBasis.LARGEST_BENEFICIAL_OWNER
    assert any("cycle" in line for line in loop.reasoning)
    split = control(holdings([("P", "T", 0.3), ("Q", "T", 0.3), ("R", "T", 0.4)], people), AT)
    assert (
        split.basis is ControlBasis.LARGEST_BENEFICIAL_OWNER
        and split.controller
        and split.controller["id"] == "R"
    )
    declared = control(holdings([("P", "T", 0.9)], people, controls=(("Q", "T"),)), AT)
    assert (
        declared.basis is ControlBasis.DECLARED
        and declared.controller
        and declared.controller["id"] == "Q"
    )
    nobody = control(holdings([], people), AT)
    assert nobody.basis is ControlBasis.NONE and nobody.controller is None
