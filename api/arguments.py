"""Arguments the paged and bounded fields share: page sizes, depths, relation sets, the
search text, and the opaque keyset cursors they hand out and take back.

A cursor carries the key of the last row seen; the query (`graph_model`) takes the key,
never the cursor. Risk and audit cursors are JSON naming the field and a fingerprint of
its other arguments, so a cursor is refused by any other query; the published lists'
cursors are the entry's (decidedOn, sanction id).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from domain.errors import BadUserInput
from domain.text import clean_text
from domain.vocabulary import Rel
from graph_model.risk.common import ALL_RELATIONS

MAX_QUERY = 100  # characters of a search text
ENTRY_CURSOR_VERSION = "p1"


def relations_arg(relations: Sequence[Rel] | None, *, field: str = "relations") -> tuple[Rel, ...]:
    if relations is None:
        return ALL_RELATIONS
    if not relations:
        raise BadUserInput(
            f"{field}: give at least one relation type, or leave it out for all of them",
            field=field,
        )
    return tuple(sorted(set(relations), key=ALL_RELATIONS.index))


def depth_arg(depth: int, *, maximum: int, field: str = "maxDepth") -> int:
    if depth < 1:
        raise BadUserInput(f"{field}: {depth} is below 1", field=field)
    if depth > maximum:
        raise BadUserInput(f"{field}: {depth} is above the maximum of {maximum}", field=field)
    return depth


def first_arg(first: int, *, maximum: int, field: str = "first") -> int:
    if not 1 <= first <= maximum:
        raise BadUserInput(f"{field}: {first} is outside 1..{maximum}", field=field)
    return first


def clean_query(query: str) -> str:
    text = clean_text(" ".join(query.split()), "query")
    if not text:
        raise BadUserInput("query: must not be blank", field="query")
    if len(text) > MAX_QUERY:
        raise BadUserInput(f"query: longer than {MAX_QUERY} characters", field="query")
    return text


# -- risk and audit cursors --------------------------------------------------------------------


def fingerprint(*parts: object) -> str:
    """A short digest of the arguments a cursor belongs to."""
    text = json.dumps([str(p) for p in parts], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_cursor(kind: str, print_: str, key: Sequence[Any], at: dt.datetime | None = None) -> str:
    payload: dict[str, Any] = {"k": kind, "f": print_, "v": list(key)}
    if at is not None:
        payload["at"] = at.isoformat()
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class Cursor:
    """A decoded cursor: the keyset values and, for time-bound queries, the instant."""

    __slots__ = ("at", "key")

    def __init__(self, key: list[Any], at: dt.datetime | None) -> None:
        self.key = key
        self.at = at


def decode_cursor(
    cursor: str, kind: str, print_: str, *, arity: int, field: str = "after"
) -> Cursor:
    bad = BadUserInput(f"{field}: not a cursor returned by this query", field=field)
    if len(cursor) > 2000:
        raise bad
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise bad from None
    if not isinstance(payload, dict) or payload.get("k") != kind:
        raise bad
    if payload.get("f") != print_:
        raise BadUserInput(
            f"{field}: the cursor belongs to a query with other arguments", field=field
        )
    key = payload.get("v")
    if not isinstance(key, list) or len(key) != arity:
        raise bad
    at: dt.datetime | None = None
    if "at" in payload:
        try:
            at = dt.datetime.fromisoformat(str(payload["at"]))
        except ValueError:
            raise bad from None
        if at.tzinfo is None:
            raise bad
    return Cursor(key, at)


# -- published-list cursors --------------------------------------------------------------------


def encode_entry_cursor(decided_on: dt.date, sanction_id: str) -> str:
    raw = f"{ENTRY_CURSOR_VERSION}|{decided_on.isoformat()}|{sanction_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_entry_cursor(cursor: str, *, field: str = "after") -> tuple[dt.date, str]:
    """The (decidedOn, sanctionId) a cursor stands for; BAD_USER_INPUT for anything else."""
    problem = BadUserInput(f"{field}: not a cursor of this list", field=field)
    text = cursor.strip()
    if not text or len(text) > 400:
        raise problem
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        version, day, sanction_id = raw.split("|", 2)
        decided_on = dt.date.fromisoformat(day)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise problem from None
    if version != ENTRY_CURSOR_VERSION or not sanction_id:
        raise problem
    return decided_on, sanction_id
