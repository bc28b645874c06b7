"""A feed page as both ends see it, and the exact bytes its signature covers.

The signature covers the page's meaning, not the text of one HTTP response: the server
signs the canonical form of what it serves, the puller rebuilds the same form from what it
received and verifies that. The canonical form (version 1) is the JSON object

    {"v": 1, "jurisdiction": J, "after": <the cursor asked after, or null>,
     "cursor": C, "hasMore": B, "events": [{"id", "kind", "at", "sanction": {...}}, ...]}

with every field of `FeedEvent` and `FeedSanction`, dates as `YYYY-MM-DD`, instants in UTC
as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, keys sorted, no spaces, UTF-8. `after` and the
jurisdiction are signed so a page cannot be replayed at another place in the feed or as
another city's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import orjson

FORMAT_VERSION = 1

# what a puller asks for: every field the signature covers
FEED_QUERY = """
query Feed($after: String, $first: Int) {
  sanctionFeed(after: $after, first: $first) {
    jurisdiction cursor hasMore keyId signature
    events {
      id kind at
      sanction {
        id listType subjectId subjectKind subjectName issuer jurisdiction
        decidedOn validFrom validTo status documentNo reason liftedAt
      }
    }
  }
}
"""


class PageMalformed(ValueError):
    """A response that is not a feed page; the message says which field."""


def instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class FeedSanctionData:
    id: str
    listType: str
    subjectId: str
    subjectKind: str
    subjectName: str
    issuer: str
    jurisdiction: str
    decidedOn: dt.date
    validFrom: dt.date
    validTo: dt.date | None
    status: str
    documentNo: str
    reason: str
    liftedAt: dt.datetime | None

    def canonical(self) -> dict[str, Any]:
        out = dict(self.__dict__)  # shallow: every field is a scalar (asdict deep-copies)
        for name in ("decidedOn", "validFrom", "validTo"):
            out[name] = out[name].isoformat() if out[name] is not None else None
        out["liftedAt"] = instant(self.liftedAt) if self.liftedAt is not None else None
        return out


@dataclass(frozen=True)
class FeedEventData:
    id: str
    kind: str
    at: dt.datetime
    sanction: FeedSanctionData

    def canonical(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "at": instant(self.at),
            "sanction": self.sanction.canonical(),
        }


@dataclass(frozen=True)
class FeedPageData:
    jurisdiction: str
    after: str | None
    cursor: str
    has_more: bool
    events: tuple[FeedEventData, ...]

    def signed_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "v": FORMAT_VERSION,
                "jurisdiction": self.jurisdiction,
                "after": self.after,
                "cursor": self.cursor,
                "hasMore": self.has_more,
                "events": [e.canonical() for e in self.events],
            },
            option=orjson.OPT_SORT_KEYS,
        )


def _field(data: dict[str, Any], name: str, where: str, kind: type) -> Any:
    value = data.get(name)
    if not isinstance(value, kind):
        raise PageMalformed(f"{where}.{name}: expected {kind.__name__}, got {value!r:.60}")
    return value


def _date(data: dict[str, Any], name: str, where: str, *, optional: bool = False) -> Any:
    if optional and data.get(name) is None:
        return None
    text = _field(data, name, where, str)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise PageMalformed(f"{where}.{name}: not a date: {text[:40]!r}") from None


def _instant(data: dict[str, Any], name: str, where: str, *, optional: bool = False) -> Any:
    if optional and data.get(name) is None:
        return None
    text = _field(data, name, where, str)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise PageMalformed(f"{where}.{name}: not a date-time: {text[:40]!r}") from None
    if value.tzinfo is None:
        raise PageMalformed(f"{where}.{name}: a date-time without its offset: {text[:40]!r}")
    return value


def _sanction(data: Any, where: str) -> FeedSanctionData:
    if not isinstance(data, dict):
        raise PageMalformed(f"{where}: expected an object")
    text = {
        name: _field(data, name, where, str)
        for name in (
            "id",
            "listType",
            "subjectId",
            "subjectKind",
            "subjectName",
            "issuer",
            "jurisdiction",
            "status",
            "documentNo",
            "reason",
        )
    }
    return FeedSanctionData(
        **text,
        decidedOn=_date(data, "decidedOn", where),
        validFrom=_date(data, "validFrom", where),
        validTo=_date(data, "validTo", where, optional=True),
        liftedAt=_instant(data, "liftedAt", where, optional=True),
    )


def parse_page(data: Any, after: str | None) -> tuple[FeedPageData, str, str]:
    """The page in a `sanctionFeed` result (as `FEED_QUERY` selects it), asked `after`;
    with the id of the key that signed it and the signature."""
    where = "sanctionFeed"
    if not isinstance(data, dict):
        raise PageMalformed(f"{where}: expected an object")
    events_data = _field(data, "events", where, list)
    events = []
    for i, raw in enumerate(events_data):
        at = f"{where}.events[{i}]"
        if not isinstance(raw, dict):
            raise PageMalformed(f"{at}: expected an object")
        events.append(
            FeedEventData(
                id=_field(raw, "id", at, str),
                kind=_field(raw, "kind", at, str),
                at=_instant(raw, "at", at),
                sanction=_sanction(raw.get("sanction"), f"{at}.sanction"),
            )
        )
    page = FeedPageData(
        jurisdiction=_field(data, "jurisdiction", where, str),
        after=after,
        cursor=_field(data, "cursor", where, str),
        has_more=_field(data, "hasMore", where, bool),
        events=tuple(events),
    )
    return page, _field(data, "keyId", where, str), _field(data, "signature", where, str)
