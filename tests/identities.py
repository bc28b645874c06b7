"""Identifiers tests need that are hard to come by."""

from __future__ import annotations

import datetime as dt

from domain.errors import InvalidId
from domain.identifiers import SubjectKind, make_resident_id, validate_uscc


def ambiguous_id(birth: dt.date) -> str:
    """A Zhejiang resident ID (province 33) born on `birth` that is also a valid credit code
    of type 33 (a public institution)."""
    for seq in range(1000):
        rid = make_resident_id("330302", birth, seq)
        try:
            validate_uscc(rid, kind=SubjectKind.PUBLIC_INSTITUTION)
        except InvalidId:
            continue
        return rid
    raise AssertionError("no ambiguous id")
