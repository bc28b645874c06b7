"""Suspected links: the bases a suspicion rests on, in the order they are shown.

Sharing a phone, an address or a household is never a registered relationship: no check,
impact preview or role pattern reads it. Regulators see the basis, never the contact.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class SuspicionBasis(StrEnum):
    SHARED_PHONE = "SHARED_PHONE"
    SHARED_ADDRESS = "SHARED_ADDRESS"
    SHARED_HOUSEHOLD = "SHARED_HOUSEHOLD"


def ordered_bases(bases: Iterable[str]) -> list[str]:
    """The bases in `SuspicionBasis` order."""
    order = list(SuspicionBasis)
    return sorted(bases, key=lambda b: order.index(SuspicionBasis(b)))
