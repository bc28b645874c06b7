"""The sanction feed: this jurisdiction's changes, in commit order, for other platforms.

The feed is the sanction event log (`graph_model.event_log`) read by `seq`, keeping the
events of entries of this instance's own jurisdiction: entries relayed from elsewhere are
in the log (local subscribers hear them) but are never published again, so two cities
pulling each other cannot echo an entry back and forth.

No event is skipped, whatever commits while the feed is read. Appends commit in `seq`
order (the log's counter lock), so every `seq` up to the log's head belongs to a committed
event; a read that finds `seq` n+1 but not n has overtaken a commit that is not visible
yet, and the page ends before the hole, to be read again by the next page. A cursor on a
timestamp would skip such late commits; a cursor on `seq` with this rule cannot.

A page is two reads: the window after the cursor as bare `seq`s, each marked whether it is
this jurisdiction's (cheap, however many relayed events it passes over), then the whole
events of the `seq`s the page keeps. Events never change once committed, so the second
read finds what the first saw; should one be gone (the database emptied in between), the
page ends before it.

Expiry is the one change no transaction makes: an entry's `validTo` simply comes. Before
each read, `publish_expiries` appends an EXPIRED event for each of this jurisdiction's
entries whose `validTo` has come (once: the entry's `expiryDue` mark goes with it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

from domain.time import city_midnight
from domain.vocabulary import Label
from graph_model import event_log
from graph_model.driver import Graph
from graph_model.event_log import LOG_ID, EventKind
from graph_model.sanctions_read import SANCTION_FIELDS
from graph_model.values import native

# events looked at per page beyond those returned: relayed ones are passed over, and a
# page must still end in bounded work when most of the log is other jurisdictions'
SCAN_FACTOR = 8
MAX_SCAN = 20_000

# The log's head, and the events with `$after < seq <= $upto` in order, each as its `seq`
# and whether it is this jurisdiction's: two small values per event, so passing over the
# window costs little, whatever the page keeps of it.
FEED_WINDOW = (
    f"OPTIONAL MATCH (log:{Label.EVENT_LOG.value} {{id: $log}}) "
    "RETURN log.logId AS logId, coalesce(log.seq, 0) AS head, COLLECT { "
    f"MATCH (e:{Label.SANCTION_EVENT.value}) WHERE $after < e.seq <= $upto "
    "WITH e ORDER BY e.seq "
    "RETURN [e.seq, coalesce(e.jurisdiction = $own, false)] } AS window"
)
# An event's dates and instants as plain values (`_day`, `_instant` rebuild them): the
# driver's own conversion of a temporal value costs more than all the rest of an event.
_DAY = "toString(e.{name})"
_INSTANT = (
    "CASE WHEN e.{name} IS NULL THEN null "
    "ELSE [e.{name}.epochSeconds, e.{name}.nanosecond, e.{name}.offsetSeconds] END"
)
_PLAIN = ", ".join(
    [f"{n}: {_DAY.format(name=n)}" for n in ("decidedOn", "validFrom", "validTo")]
    + [f"{n}: {_INSTANT.format(name=n)}" for n in ("at", "liftedAt")]
)
# The events of `$seqs`: each with the entry as the event recorded it (falling back, for
# events logged before events kept their entry, to the entry as it is now: only those read
# the entry), its subject's kind and name.
FEED_EVENTS = (
    f"UNWIND $seqs AS seq MATCH (e:{Label.SANCTION_EVENT.value} {{seq: seq}}) "
    f"RETURN e {{ .*, {_PLAIN}, "
    "  now: CASE WHEN e.listType IS NULL THEN "
    f"    COLLECT {{ MATCH (s:{Label.SANCTION.value} {{id: e.sanctionId}}) "
    "     RETURN s {.listType, .decidedOn, .validFrom, .validTo, .documentNo, .reason, "
    "     .issuerId, .liftedAt, .status} }[0] END, "
    f"  subject: COLLECT {{ MATCH (p:{Label.SUBJECT.value} {{id: e.subjectId}}) "
    "     RETURN p {.kind, .name} }[0] "
    "} AS event"
)
ISSUER_NAMES = (
    f"UNWIND $ids AS id MATCH (d:{Label.DEPARTMENT.value} {{id: id}}) "
    "RETURN d.id AS id, d.name AS name"
)

# Entries of this jurisdiction whose validTo has come and whose expiry is not yet published,
# locked (the SET) before they are read again, so two publishers never publish one twice.
DUE_EXPIRIES = (
    f"MATCH (s:{Label.SANCTION.value}) WHERE s.expiryDue <= $day "
    "WITH s ORDER BY s.expiryDue, s.id LIMIT $limit "
    "SET s._lock = true REMOVE s._lock "
    "WITH s WHERE s.expiryDue <= $day "
    "REMOVE s.expiryDue "
    f"RETURN {SANCTION_FIELDS.format(s='s')} AS sanction"
)
EXPIRY_BATCH = 1000


@dataclass(frozen=True)
class FeedRead:
    log_id: str | None
    # this jurisdiction's events of the page, each {seq, id, kind, at, liftKind, sanction}
    events: list[dict[str, Any]]
    # the last seq the page covers: every event up to it was looked at
    through: int
    has_more: bool


def _sanction(event: dict[str, Any], issuers: dict[str, str]) -> dict[str, Any]:
    """The entry as the event recorded it, in the feed's shape."""
    now = event.get("now") or {}
    # an event logged before events kept their entry has none: the entry as it is now
    kept = event if event.get("listType") is not None else now
    entry = {name: kept.get(name) for name in event_log.SNAPSHOT_FIELDS}
    subject = event.get("subject") or {}
    return {
        "id": event["sanctionId"],
        "listType": entry["listType"],
        "subjectId": event["subjectId"],
        "subjectKind": subject.get("kind"),
        "subjectName": subject.get("name"),
        "issuer": issuers.get(str(entry["issuerId"]), entry["issuerId"]),
        "issuerId": entry["issuerId"],
        "jurisdiction": event["jurisdiction"],
        "decidedOn": entry["decidedOn"],
        "validFrom": entry["validFrom"],
        "validTo": entry["validTo"],
        "status": event.get("status") or now.get("status") or "ACTIVE",
        "documentNo": entry["documentNo"],
        "reason": entry["reason"],
        "liftedAt": entry["liftedAt"],
    }


def feed_kind(event: dict[str, Any]) -> str:
    """The contract's kind of a logged event: IMPOSED, LIFTED, REVOKED, EXPIRED, UPDATED."""
    kind = EventKind(event["kind"])
    if kind in (EventKind.IMPOSED, EventKind.EXPIRED, EventKind.UPDATED):
        return kind.value
    if event.get("liftKind") == "REVOKED":  # a revocation, or an upheld objection
        return "REVOKED"
    if kind is EventKind.LIFTED:
        return "LIFTED"
    return "UPDATED"  # an objection filed, or one rejected: the status changed


def effective_at(event: dict[str, Any]) -> dt.datetime:
    """When the change takes effect: a lift at its effective time, the rest when made."""
    lifted_at = event["sanction"].get("liftedAt")
    if event.get("liftKind") is not None and lifted_at is not None:
        return lifted_at  # type: ignore[no-any-return]
    return event["at"]  # type: ignore[no-any-return]


def _day(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def _instant(parts: list[int] | None) -> dt.datetime | None:
    """[epoch seconds, nanoseconds, offset seconds] as the aware datetime (to the
    microsecond, as Python holds it) in that offset."""
    if parts is None:
        return None
    seconds, nanos, offset = parts
    zone = dt.timezone(dt.timedelta(seconds=offset))
    return dt.datetime.fromtimestamp(seconds, zone) + dt.timedelta(microseconds=nanos // 1000)


def _event(raw: dict[str, Any]) -> dict[str, Any]:
    """A row of FEED_EVENTS with Python dates and instants."""
    event = dict(raw)
    for name in ("decidedOn", "validFrom", "validTo"):
        event[name] = _day(raw[name])
    for name in ("at", "liftedAt"):
        event[name] = _instant(raw[name])
    if event.get("now") is not None:
        event["now"] = native(event["now"])
    return event


async def read_feed(graph: Graph, own: str, after: int, first: int) -> FeedRead:
    """Up to `first` of `own`'s events after `seq` `after`, none skipped (module doc)."""
    scan = min(max(first * SCAN_FACTOR, first), MAX_SCAN)
    rows = await graph.read(
        FEED_WINDOW,
        {"log": LOG_ID, "after": after, "upto": after + scan, "own": own},
        name="sanctionFeed",
    )
    row = rows[0]
    head = int(row["head"])
    through = after
    kept: list[int] = []
    for seq, ours in row["window"]:
        if seq != through + 1:
            break  # a commit not visible yet: the next page reads from here
        if ours:
            if len(kept) == first:
                break
            kept.append(seq)
        through = seq
    found: dict[int, dict[str, Any]] = {}
    if kept:
        read = await graph.read(FEED_EVENTS, {"seqs": kept}, name="sanctionFeed.events")
        found = {int(r["event"]["seq"]): _event(r["event"]) for r in read}
    mine: list[dict[str, Any]] = []
    for seq in kept:
        if seq not in found:  # gone since the window was read: end the page before it
            through = seq - 1
            break
        mine.append(found[seq])
    issuers: dict[str, str] = {}
    issuer_ids = {e.get("issuerId") or (e.get("now") or {}).get("issuerId") for e in mine}
    if issuer_ids - {None}:
        names = await graph.read(
            ISSUER_NAMES, {"ids": sorted(issuer_ids - {None})}, name="sanctionFeed.issuers"
        )
        issuers = {r["id"]: r["name"] for r in names}
    events = [
        {
            "seq": int(e["seq"]),
            "id": e["id"],
            "kind": e["kind"],
            "liftKind": e.get("liftKind"),
            "upheld": e.get("upheld"),
            "at": e["at"],
            "sanction": _sanction(e, issuers),
        }
        for e in mine
    ]
    return FeedRead(row["logId"], events, through, through < head)


async def publish_expiries(graph: Graph, today: dt.date) -> int:
    """Append an EXPIRED event for every entry whose `validTo` is today or earlier and whose
    expiry is not yet published; returns how many were published."""
    published = 0
    while True:

        async def work(tx: AsyncManagedTransaction) -> int:
            result = await tx.run(DUE_EXPIRIES, day=today, limit=EXPIRY_BATCH)
            due = [native(r["sanction"]) async for r in result]
            rows = [
                event_log.event_row(EventKind.EXPIRED, s, city_midnight(s["validTo"]))
                for s in due
                # lifted before it ran out: it never expired
                if s.get("liftedAt") is None or s["liftedAt"] > city_midnight(s["validTo"])
            ]
            await event_log.append_many(tx, rows)
            return len(due)

        done = await graph.write_tx(work, name="sanctionFeed.expiries")
        published += done
        if done < EXPIRY_BATCH:
            return published
