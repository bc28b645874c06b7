"""Pieces every risk query shares: link validity, applying sanctions, cursors, limits."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from graph_model.errors import BadUserInput
from graph_model.labels import Label, Rel, SystemRel
from graph_model.registry import SUBJECT_FIELDS
from graph_model.sanctions_read import SANCTION_FIELDS, applies_at

ALL_RELATIONS: tuple[Rel, ...] = tuple(Rel)

# A link is valid on city day $day (CONTRIBUTING.md, "Graph conventions").
VALID_ON_DAY = "{r}.validFrom <= $day AND ({r}.validTo IS NULL OR $day < {r}.validTo)"

# Punitive list kinds: a subject with one of these applying is "sanctioned" here.
PUNITIVE_KINDS: tuple[str, ...] = ("BLACK", "WATCH")


def valid(r: str) -> str:
    return VALID_ON_DAY.format(r=r)


def rel_types(relations: Iterable[Rel]) -> str:
    """`A|B|C` for a relationship pattern; only enum values, never input."""
    return "|".join(r.value for r in sorted(set(relations), key=ALL_RELATIONS.index))


def applying_sanctions(n: str, s: str = "x", *, punitive_only: bool = False) -> str:
    """Pattern comprehension: the sanctions against subject `n` applying at $at/$day
    (only black- and watch-list ones with `punitive_only`; needs $punitiveKinds)."""
    kinds = f"{s}.kind IN $punitiveKinds AND " if punitive_only else ""
    return (
        f"[({n})<-[:{SystemRel.AGAINST.value}]-({s}:{Label.SANCTION.value}) "
        f"WHERE {kinds}{applies_at(s)} | {SANCTION_FIELDS.format(s=s)}]"
    )


def punitive_exists(n: str, s: str = "px") -> str:
    """A black- or watch-list entry against `n` applies at $at/$day."""
    return (
        f"EXISTS {{ MATCH ({n})<-[:{SystemRel.AGAINST.value}]-({s}:{Label.SANCTION.value}) "
        f"WHERE {s}.kind IN $punitiveKinds AND {applies_at(s)} }}"
    )


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


# -- opaque keyset cursors -------------------------------------------------------------------


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


def subject_map(var: str) -> str:
    """The registry's subject projection (`registry.SUBJECT_FIELDS`) over variable `var`."""
    assert SUBJECT_FIELDS.startswith("s {")
    return var + SUBJECT_FIELDS[1:]


LINK_MAP = (
    "{{id: {r}.id, from: startNode({r}).id, to: endNode({r}).id, relation: type({r}),"
    " ratio: {r}.ratio, role: {r}.role, validFrom: {r}.validFrom, validTo: {r}.validTo}}"
)


def link_map(r: str) -> str:
    return LINK_MAP.format(r=r)
