"""Builders shared by the evaluation unit tests."""

from __future__ import annotations

import datetime as dt
from typing import Any


def sanction_row(
    sid: str, list_type: str, kind: str, subject: str, **fields: Any
) -> dict[str, Any]:
    """A sanction as the scoring reads it from the graph: active and recognised in Wenzhou,
    decided and valid from 2025-01-10, unless `fields` say otherwise."""
    return {
        "id": sid,
        "listType": list_type,
        "kind": kind,
        "decidedOn": dt.date(2025, 1, 10),
        "validFrom": dt.date(2025, 1, 10),
        "validTo": None,
        "status": "ACTIVE",
        "liftKind": None,
        "liftedAt": None,
        "jurisdiction": "wenzhou",
        "recognized": True,
        "issuerId": "wz-intermediate-court",
        "subjectId": subject,
        **fields,
    }
