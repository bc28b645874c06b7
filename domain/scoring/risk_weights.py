"""The risk score's weights: a typed table, read by `domain.scoring.risk`.

Kept as data in one place (not in `rules/`, which holds the sanction catalogue) so the
weights can be reviewed and tuned without touching the scoring code. A factor adds
`per_item` for each thing that produced it, never more than `cap` in total (for
negative weights, never less than `cap`). The score is the sum, clamped to 0..100.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from domain.vocabulary import Rel


class FactorCode(StrEnum):
    OWN_BLACK_LIST = "OWN_BLACK_LIST"
    OWN_WATCH_LIST = "OWN_WATCH_LIST"
    RED_LIST = "RED_LIST"
    SANCTIONED_PARTY_D1 = "SANCTIONED_PARTY_D1"
    SANCTIONED_PARTY_D2 = "SANCTIONED_PARTY_D2"
    SUSPECTED_LINK_TO_SANCTIONED = "SUSPECTED_LINK_TO_SANCTIONED"
    CIRCULAR_SHAREHOLDING = "CIRCULAR_SHAREHOLDING"
    CROWDED_ADDRESS = "CROWDED_ADDRESS"
    LEGAL_REPRESENTATIVE_CHURN = "LEGAL_REPRESENTATIVE_CHURN"
    REPAIRED_HISTORY = "REPAIRED_HISTORY"
    REVOKED_HISTORY = "REVOKED_HISTORY"
    EXPIRED_HISTORY = "EXPIRED_HISTORY"


@dataclass(frozen=True)
class Weight:
    per_item: float
    cap: float
    meaning: str


WEIGHTS: Final[Mapping[FactorCode, Weight]] = MappingProxyType(
    {
        FactorCode.OWN_BLACK_LIST: Weight(40.0, 60.0, "a black-list entry applies to the subject"),
        FactorCode.OWN_WATCH_LIST: Weight(15.0, 25.0, "a watch-list entry applies to the subject"),
        FactorCode.RED_LIST: Weight(-10.0, -20.0, "a red-list entry applies (lowers the score)"),
        # per party: RELATION_WEIGHTS[relation] x DISTANCE_FACTOR[distance] (x WATCH_FACTOR)
        FactorCode.SANCTIONED_PARTY_D1: Weight(1.0, 40.0, "a sanctioned party one link away"),
        FactorCode.SANCTIONED_PARTY_D2: Weight(1.0, 40.0, "a sanctioned party two links away"),
        FactorCode.SUSPECTED_LINK_TO_SANCTIONED: Weight(
            6.0, 12.0, "shares a phone or an address with a sanctioned subject"
        ),
        FactorCode.CIRCULAR_SHAREHOLDING: Weight(
            10.0, 10.0, "the subject holds shares in itself through a cycle"
        ),
        FactorCode.CROWDED_ADDRESS: Weight(
            8.0, 8.0, "at least 5 other units are registered at the subject's address"
        ),
        FactorCode.LEGAL_REPRESENTATIVE_CHURN: Weight(
            4.0, 16.0, "the legal representative changed at least twice in three years"
        ),
        FactorCode.REPAIRED_HISTORY: Weight(4.0, 8.0, "a black- or watch-list entry was repaired"),
        FactorCode.REVOKED_HISTORY: Weight(0.0, 0.0, "an entry was revoked as wrong (no weight)"),
        FactorCode.EXPIRED_HISTORY: Weight(3.0, 6.0, "a black- or watch-list entry has expired"),
    }
)

# How strongly a sanctioned party reaches through each relation (distance 1, black list).
RELATION_WEIGHTS: Final[Mapping[Rel, float]] = MappingProxyType(
    {
        Rel.LEGAL_REPRESENTATIVE_OF: 20.0,
        Rel.ACTUAL_CONTROLLER_OF: 20.0,
        Rel.OPERATOR_OF: 20.0,
        Rel.SHAREHOLDER_OF: 15.0,
        Rel.BRANCH_OF: 12.0,
        Rel.EXECUTIVE_OF: 12.0,
        Rel.MEMBER_OF: 8.0,
    }
)
DISTANCE_FACTOR: Final[Mapping[int, float]] = MappingProxyType({1: 1.0, 2: 0.4})
WATCH_FACTOR: Final = 0.5  # a party only on a watch list counts half

CROWDED_ADDRESS_UNITS: Final = 5  # other units at one address that make it crowded
CHURN_WINDOW_DAYS: Final = 3 * 365
CHURN_MIN_CHANGES: Final = 2  # the factor starts at this many changes, weighing per_item each

SCORE_MIN: Final = 0.0
SCORE_MAX: Final = 100.0
