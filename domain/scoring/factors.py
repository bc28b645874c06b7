"""The one explanation type of every score: what added how many points, and why."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Factor:
    """`weight` points (negative lowers the score) under `code`; `detail` names the cause."""

    code: str
    weight: float
    detail: str
