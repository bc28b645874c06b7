"""Inspection sampling: weighted without replacement, reproducible, conflict-free."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import BadUserInput, InvalidId
from domain.identifiers import make_resident_id
from domain.scoring.inspections import (
    Conflict,
    DrawParams,
    assign_inspectors,
    choose_targets,
    differences,
    first_reasons,
    frame_digest,
    inspector_rng,
    staff,
    target_rng,
    weighted_sample,
)
from domain.scoring.ratings import Grade
from rules.evaluation import EvaluationConfig
from rules.scoring.inspections import validate_params

POOL = [make_resident_id("330302", dt.date(1970 + n, 5, 17), n) for n in range(4)]


def test_the_same_seed_draws_the_same_targets_in_any_input_order() -> None:
    candidates = [(f"U{n:03d}", [0.5, 1.0, 2.0, 4.0][n % 4]) for n in range(50)]
    first = weighted_sample(candidates, 10, target_rng("wz-2026"))
    shuffled = candidates[:]
    random.Random(7).shuffle(shuffled)
    assert weighted_sample(shuffled, 10, target_rng("wz-2026")) == first
    assert len(set(first)) == 10
    others = {tuple(weighted_sample(candidates, 10, target_rng(f"seed-{n}"))) for n in range(5)}
    assert len(others) > 1


@given(
    st.lists(
        st.tuples(st.text(min_size=1, max_size=5), st.sampled_from([0.5, 1.0, 2.0, 4.0])),
        unique_by=lambda c: c[0],
    ),
    st.integers(min_value=0, max_value=30),
    st.text(max_size=10),
)
def test_a_sample_is_a_subset_without_repeats(
    candidates: list[tuple[str, float]], count: int, seed: str
) -> None:
    drawn = weighted_sample(candidates, count, target_rng(seed))
    assert len(drawn) == min(count, len(candidates)) == len(set(drawn))
    assert set(drawn) <= {c for c, _ in candidates}


def test_first_picks_follow_the_weights() -> None:
    # one unit per grade: P(first) is weight / 7.5
    candidates = [("A", 0.5), ("B", 1.0), ("C", 2.0), ("D", 4.0)]
    trials = 20000
    first = Counter(weighted_sample(candidates, 1, random.Random(n))[0] for n in range(trials))
    for unit, weight in candidates:
        assert first[unit] / trials == pytest.approx(weight / 7.5, abs=0.015)


def test_inspectors_avoid_conflicts_and_replay() -> None:
    targets = ["U1", "U2", "U3"]
    conflicts = {"U1": {POOL[0]}, "U2": {POOL[0], POOL[1]}}
    blocks = assign_inspectors(targets, POOL, conflicts, 2, inspector_rng("s"))
    assert len(blocks) == 3 and all(len(set(b)) == 2 for b in blocks)
    assert POOL[0] not in blocks[0] and not {POOL[0], POOL[1]} & set(blocks[1])
    assert (
        assign_inspectors(targets, list(reversed(POOL)), conflicts, 2, inspector_rng("s")) == blocks
    )
    with pytest.raises(BadUserInput) as caught:
        assign_inspectors(targets, POOL, {"U2": set(POOL[:3])}, 2, inspector_rng("s"))
    assert caught.value.field == "input.inspectorPool" and "target 2 (U2)" in caught.value.message


def test_the_frame_digest_ignores_order_but_not_grades() -> None:
    frame = [("U1", Grade.A), ("U2", Grade.C)]
    assert frame_digest(frame) == frame_digest(list(reversed(frame)))
    assert frame_digest(frame) != frame_digest([("U1", Grade.A), ("U2", Grade.D)])


def _params(config: EvaluationConfig, **changes: object) -> None:
    fields: dict[str, object] = {
        "district": "330302", "industry": "FOOTWEAR", "count": 3, "seed": None,
        "pool": POOL[:2], "per_target": 2, "new_seed": "abc",
    }  # fmt: skip
    fields.update(changes)
    validate_params(config, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"count": 0}, "input.count"),
        ({"count": 501}, "input.count"),
        ({"per_target": 0}, "input.inspectorsPerTarget"),
        ({"per_target": 11}, "input.inspectorsPerTarget"),
        ({"seed": ""}, "input.seed"),
        ({"seed": "a\nb"}, "input.seed"),
        ({"district": "杭州"}, "input.district"),
        ({"industry": ""}, "input.industry"),
        ({"pool": []}, "input.inspectorPool"),
        ({"pool": [POOL[0], POOL[0]]}, "input.inspectorPool[1]"),
        ({"pool": POOL[:1]}, "input.inspectorPool"),
        ({"pool": ["x"] * 2001}, "input.inspectorPool"),
    ],
)
def test_bad_parameters_name_their_input(
    config: EvaluationConfig, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(BadUserInput) as caught:
        _params(config, **changes)
    assert caught.value.field == field


def test_ids_are_validated_and_a_seed_is_supplied(config: EvaluationConfig) -> None:
    with pytest.raises(InvalidId) as caught:
        _params(config, pool=[POOL[0], "91330302MA0000001X"])
    assert caught.value.field == "input.inspectorPool[1]"
    params = validate_params(
        config,
        district="鹿城区",
        industry=" FOOTWEAR ",
        count=3,
        seed=None,
        pool=POOL,
        per_target=2,
        new_seed="abc",
    )
    assert (params.seed, params.district, params.industry, params.pool) == (
        "abc",
        "330302",
        "FOOTWEAR",
        tuple(POOL),
    )


# -- staffing a draw from its graded frame and the conflicts read ---------------------------


PARAMS = DrawParams(None, None, 2, "wz-2026", tuple(POOL), 2)
AT = dt.datetime(2026, 11, 27, 2, tzinfo=dt.UTC)
FRAME = [
    ({"id": f"U{n}", "kind": "ENTERPRISE", "name": f"u{n}"}, grade)
    for n, grade in enumerate([Grade.A, Grade.B, Grade.C, Grade.D])
]
GRADE_OF = {subject["id"]: grade for subject, grade in FRAME}


def test_an_inspector_conflicts_once_under_the_strongest_reason() -> None:
    found = {"VIA_UNIT": [POOL[2], POOL[1]], "HOUSEHOLD": [POOL[1]], "LINKED": [POOL[3]]}
    assert first_reasons("U1", found) == [
        Conflict("U1", POOL[3], "LINKED"),
        Conflict("U1", POOL[1], "HOUSEHOLD"),
        Conflict("U1", POOL[2], "VIA_UNIT"),
    ]
    assert first_reasons("U1", {}) == []


def test_a_draw_is_staffed_around_its_conflicts_in_target_order() -> None:
    params = PARAMS
    weights = {Grade.A: 0.5, Grade.B: 1.0, Grade.C: 2.0, Grade.D: 4.0}
    chosen = choose_targets(FRAME, weights, params)
    assert chosen == weighted_sample(
        [("U0", 0.5), ("U1", 1.0), ("U2", 2.0), ("U3", 4.0)], 2, target_rng("wz-2026")
    )
    first, second = chosen
    conflicts = [Conflict(second, POOL[0], "LINKED"), Conflict(first, POOL[1], "VIA_UNIT")]
    conflicts += [Conflict(first, POOL[0], "HOUSEHOLD")]
    draw = staff(params, AT, FRAME, chosen, conflicts)
    assert draw.target_ids == chosen
    assert [grade for _, grade in draw.targets] == [GRADE_OF[t] for t in chosen]
    assert [(c.target, c.inspector) for c in draw.conflicts] == [
        (first, POOL[0]),
        (first, POOL[1]),
        (second, POOL[0]),
    ]
    assert not {POOL[0], POOL[1]} & set(draw.inspectors[0]) and POOL[0] not in draw.inspectors[1]
    assert draw.candidate_count == 4
    assert draw.digest == frame_digest([(s["id"], g) for s, g in FRAME])
    assert staff(params, AT, list(reversed(FRAME)), chosen, list(reversed(conflicts))) == draw


def test_a_replay_names_each_thing_that_differs() -> None:
    params = PARAMS
    recorded = staff(params, AT, FRAME, ["U3", "U2"], [])
    assert differences(recorded, recorded) == []
    regraded = [(s, Grade.D) for s, _ in FRAME]
    assert differences(recorded, staff(params, AT, regraded, ["U3", "U2"], [])) == [
        "the frame differs: 4 units graded now as of the draw, 4 then",
        "the targets' grades differ",
    ]
    other = staff(params, AT, FRAME, ["U3", "U1"], [Conflict("U1", POOL[0], "LINKED")])
    assert differences(recorded, other) == ["the targets differ", "the inspectors differ"]
    smaller = staff(params, AT, FRAME[1:], ["U3", "U2"], [])
    assert differences(recorded, smaller)[0] == (
        "the frame differs: 3 units graded now as of the draw, 4 then"
    )
