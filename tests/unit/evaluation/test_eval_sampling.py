"""Inspection sampling: weighted without replacement, reproducible, conflict-free."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph_model.errors import BadUserInput, InvalidId
from graph_model.evaluation.inspections import (
    assign_inspectors,
    frame_digest,
    inspector_rng,
    target_rng,
    validate_params,
    weighted_sample,
)
from graph_model.identifiers import make_resident_id
from rules.evaluation import EvaluationConfig, Grade, default_evaluation

POOL = [make_resident_id("330302", dt.date(1970 + n, 5, 17), n) for n in range(4)]


@pytest.fixture(scope="module")
def config() -> EvaluationConfig:
    return default_evaluation()


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
