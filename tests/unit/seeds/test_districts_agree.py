"""The generator's richer district table must name the same 12 divisions the API accepts."""

from __future__ import annotations

from domain.districts import DISTRICTS as API_DISTRICTS
from seeds.geography import DISTRICTS as SEED_DISTRICTS


def test_seed_districts_are_the_api_districts() -> None:
    assert {d.code: d.name for d in SEED_DISTRICTS} == API_DISTRICTS
