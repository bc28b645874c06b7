"""Taking in another platform's sanction events: a partner's feed page, or a list file.

A batch of events from one source is applied in one write transaction together with the
source's new position, so a pull cut off half-way has applied whole pages and its cursor
says exactly which: it resumes there, and nothing is applied twice or lost.

Each event carries its entry as the change left it. An entry relayed here keeps the id
`<source>/<its id there>` (a `/` never occurs in a local id), so applying an event again
changes nothing; it is relayed by the local department the catalogue names for its list
type, holds `jurisdiction` = the source and `recognized` per this catalogue, and keeps its
provenance (`sourceJurisdiction`, `sourceId`, `receivedAt`). A subject unknown here is
registered from the event. An event that cannot be applied (a malformed id, a list type
this catalogue does not have, an entry of a third jurisdiction, a change to an entry never
received) is kept aside with its reason, never dropped silently; its entry's later events
are kept aside as well, since they change what is not here.

Each applied change is also appended to the local event log (with the source's
jurisdiction, so the local feed never publishes it again), so subscribers here hear it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from neo4j import AsyncManagedTransaction

from domain.errors import BadUserInput, Conflict, InvalidId
from domain.identifiers import SubjectKind, validate_subject_id
from domain.text import clean_text
from domain.vocabulary import KIND_LABEL, Label, SystemRel
from graph_model import event_log
from graph_model.driver import Graph
from graph_model.event_log import EventKind
from graph_model.values import native
from rules.models import Catalogue

MAX_TEXT = 2000
MAX_ID = 120

# the contract's feed kinds, as the local log records the same change
LOCAL_KIND = {
    "IMPOSED": EventKind.IMPOSED,
    "LIFTED": EventKind.LIFTED,
    "REVOKED": EventKind.LIFTED,
    "EXPIRED": EventKind.EXPIRED,
    "UPDATED": EventKind.UPDATED,
}
LIFT_KIND = {"LIFTED": "REPAIRED", "REVOKED": "REVOKED"}
# what a relayed entry's stored due-process status may be; the rest is shown from liftedAt
# and validTo as for any entry
STORED_STATUS = frozenset({"ACTIVE", "UNDER_OBJECTION"})
FEED_STATUSES = frozenset({"ACTIVE", "UNDER_OBJECTION", "REPAIRED", "REVOKED", "EXPIRED"})

_SOURCE = f"(x:{Label.EXCHANGE_SOURCE.value} {{id: $source}})"
# the source's node, locked for the transaction (the SET) before its position is read, so
# two pulls of one source apply pages one after the other and a stale one is refused
LOCK_SOURCE = (
    f"MERGE {_SOURCE} ON CREATE SET x.createdAt = datetime(), x.applied = 0 "
    "SET x._lock = true REMOVE x._lock RETURN x.cursor AS cursor"
)
# `applied` counts the events applied (one applied before is skipped, not counted), and
# `lastAppliedAt` moves only when one was; what is kept aside is counted from the kept
# events themselves (graph_model.exchange.status), which are kept once
ADVANCE_SOURCE = (
    f"MATCH {_SOURCE} SET x.cursor = coalesce($cursor, x.cursor), "
    "x.applied = x.applied + $applied, x.url = coalesce($url, x.url), "
    "x.lastAppliedAt = CASE WHEN $applied > 0 THEN $now ELSE x.lastAppliedAt END"
)
KNOWN = (
    "RETURN "
    f"COLLECT {{ UNWIND $sanctionIds AS id MATCH (s:{Label.SANCTION.value} {{id: id}}) "
    "RETURN s {.id, .liftKind, .liftedAt, .liftReason, history: coalesce(s.history, [])} } "
    "AS sanctions, "
    f"COLLECT {{ UNWIND $subjectIds AS id MATCH (p:{Label.SUBJECT.value} {{id: id}}) "
    "RETURN p {.id, .kind} } AS subjects"
)


def _register_query(kind: SubjectKind) -> str:
    return (
        f"UNWIND $rows AS row MERGE (p:{Label.SUBJECT.value} {{id: row.id}}) "
        f"ON CREATE SET p:{KIND_LABEL[kind].value}, p.kind = row.kind, p.name = row.name, "
        "p.createdAt = $now, p.updatedAt = $now, p.registeredFrom = $source "
        "RETURN count(p) AS written"
    )


REGISTER = {kind: _register_query(kind) for kind in SubjectKind}
UPSERT_SANCTIONS = (
    f"UNWIND $rows AS row MATCH (d:{Label.DEPARTMENT.value} {{id: row.props.issuerId}}) "
    f"MATCH (p:{Label.SUBJECT.value} {{id: row.props.subjectId}}) "
    f"MERGE (s:{Label.SANCTION.value} {{id: row.props.id}}) "
    "ON CREATE SET s.createdAt = $now, s.receivedAt = $now "
    "SET s += row.props, s.history = coalesce(s.history, []) + row.history "
    f"MERGE (d)-[:{SystemRel.ISSUED.value}]->(s) MERGE (s)-[:{SystemRel.AGAINST.value}]->(p) "
    "RETURN count(s) AS written"
)
KEEP_ASIDE = (
    f"UNWIND $rows AS row MERGE (r:{Label.EXCHANGE_REJECTION.value} {{id: row.id}}) "
    "ON CREATE SET r += row RETURN count(r) AS written"
)


def local_id(source: str, source_id: str) -> str:
    return f"{source}/{source_id}"


@dataclass(frozen=True)
class Incoming:
    """One event from a source: `sanction` holds the feed's FeedSanction fields, by their
    contract names, with dates and instants as Python values."""

    event_id: str
    kind: str
    at: dt.datetime
    sanction: dict[str, Any]


@dataclass
class Applied:
    applied: int = 0
    kept_aside: list[dict[str, Any]] = field(default_factory=list)
    registered: int = 0
    unchanged: int = 0  # events already applied before


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Refused(f"{name}: missing")
    if len(value) > limit:
        raise _Refused(f"{name}: longer than {limit} characters")
    try:
        return clean_text(value.strip(), name, multiline=True)
    except BadUserInput as exc:
        raise _Refused(exc.message) from None


def _checked(event: Incoming, source: str, catalogue: Catalogue) -> dict[str, Any]:
    """The event's entry, cleaned; `_Refused` says why it cannot be applied here."""
    entry = event.sanction
    if event.kind not in LOCAL_KIND:
        raise _Refused(f"kind: unknown event kind {event.kind[:30]!r}")
    if entry.get("jurisdiction") != source:
        raise _Refused(
            f"jurisdiction: an entry of {str(entry.get('jurisdiction'))[:40]!r}, not of {source}: "
            "only a source's own entries are taken from it"
        )
    source_id = _text(entry.get("id"), "sanction.id", MAX_ID)
    if "/" in source_id:
        raise _Refused("sanction.id: contains '/'")
    list_type = catalogue.list_types.get(str(entry.get("listType")))
    if list_type is None:
        raise _Refused(f"listType: {str(entry.get('listType'))[:60]!r} is not in this catalogue")
    try:
        kind = SubjectKind(str(entry.get("subjectKind")))
    except ValueError:
        raise _Refused(
            f"subjectKind: {str(entry.get('subjectKind'))[:30]!r} is not a subject kind"
        ) from None
    try:
        subject_id = validate_subject_id(str(entry.get("subjectId")), kind, field="subjectId")
    except InvalidId as exc:
        raise _Refused(exc.message) from None
    status = entry.get("status")
    if status not in FEED_STATUSES:
        raise _Refused(f"status: {str(status)[:30]!r} is not a sanction status")
    decided, start, end = entry.get("decidedOn"), entry.get("validFrom"), entry.get("validTo")
    if not isinstance(decided, dt.date) or not isinstance(start, dt.date):
        raise _Refused("decidedOn, validFrom: required dates")
    if end is not None and (not isinstance(end, dt.date) or end <= start):
        raise _Refused(f"validTo: {end} is not after validFrom {start}")
    lifted_at = entry.get("liftedAt")
    if event.kind in LIFT_KIND:
        lifted_at = lifted_at or event.at
    return {
        "id": local_id(source, source_id),
        "listType": list_type.id,
        "kind": list_type.kind.value,
        "decidedOn": decided,
        "validFrom": start,
        "validTo": end,
        "status": status if status in STORED_STATUS else "ACTIVE",
        "jurisdiction": source,
        "recognized": catalogue.is_recognized(source, list_type.id),
        "documentNo": _text(entry.get("documentNo"), "documentNo", MAX_TEXT),
        "reason": _text(entry.get("reason"), "reason", MAX_TEXT),
        "issuerId": catalogue.relaying_department(list_type.id).id,
        "subjectId": subject_id,
        "liftedAt": lifted_at,
        "sourceJurisdiction": source,
        "sourceId": source_id,
        "sourceIssuer": _text(entry.get("issuer"), "issuer", 200),
        "logged": True,
        "_subjectKind": kind,
        "_subjectName": _text(entry.get("subjectName"), "subjectName", 200),
        # how a lift seen here was made: by the event, else by the status the entry shows
        "_liftKind": LIFT_KIND.get(event.kind)
        or ("REVOKED" if status == "REVOKED" else "REPAIRED"),
    }


def refusal(event: Incoming, source: str, catalogue: Catalogue) -> str | None:
    """Why `event` could not be applied here by the per-event rule, or None. A list file
    (graph_model.exchange.list_file) asks it of every line before anything is written, so
    what the file's validator lets through is never kept aside."""
    try:
        _checked(event, source, catalogue)
    except _Refused as refused:
        return refused.reason
    return None


@dataclass
class _Plan:
    sanctions: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: dict[str, list[str]] = field(default_factory=dict)
    subjects: dict[str, tuple[SubjectKind, str]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    kept_aside: list[dict[str, Any]] = field(default_factory=list)
    applied: int = 0
    unchanged: int = 0  # events already applied (an imposition received before)


def _plan(
    events: Sequence[Incoming],
    source: str,
    catalogue: Catalogue,
    known: dict[str, dict[str, Any]],
    subject_kinds: dict[str, str],
    now: dt.datetime,
) -> _Plan:
    plan = _Plan()
    refused_entries: set[str] = set()
    # the events each entry here has had applied (its history names them): under the
    # source's lock, so an event is applied once however many pulls or imports race
    mark = f"|exchange:{source}|"
    applied = {
        sid: {h.rsplit("|", 1)[1] for h in entry.get("history") or () if mark in h}
        for sid, entry in known.items()
    }
    for event in events:
        raw_id = str(event.sanction.get("id"))[:MAX_ID]
        done = applied.setdefault(local_id(source, raw_id), set())
        if event.event_id[:MAX_ID] in done:
            plan.unchanged += 1
            continue
        try:
            entry = _checked(event, source, catalogue)
            sid = entry["id"]
            if sid in refused_entries:
                raise _Refused("an earlier event of this entry was kept aside")
            current = plan.sanctions.get(sid) or known.get(sid)
            if event.kind != "IMPOSED" and current is None:
                raise _Refused("a change to an entry never received here")
            subject_kind = entry.pop("_subjectKind")
            subject_name = entry.pop("_subjectName")
            lift_kind = entry.pop("_liftKind")
            stored_kind = subject_kinds.get(entry["subjectId"])
            if stored_kind is not None and stored_kind != subject_kind.value:
                raise _Refused(
                    f"subjectId: {entry['subjectId']} is registered here as {stored_kind}, "
                    f"not {subject_kind.value}"
                )
        except _Refused as refused:
            refused_entries.add(local_id(source, raw_id))
            plan.kept_aside.append(
                {
                    "id": f"{source}:{event.event_id[:MAX_ID]}",
                    "source": source,
                    "eventId": event.event_id[:MAX_ID],
                    "kind": event.kind[:30],
                    "sanctionId": raw_id,
                    "reason": refused.reason,
                    "at": event.at,
                    "keptAt": now,
                    "payload": orjson.dumps(
                        {"kind": event.kind, "at": event.at, "sanction": event.sanction},
                        default=str,
                    ).decode(),
                }
            )
            continue
        if event.kind == "IMPOSED" and current is not None:
            plan.unchanged += 1  # imposed here already: what came after it is newer
            continue
        if stored_kind is None:
            subject_kinds[entry["subjectId"]] = subject_kind.value
            plan.subjects[entry["subjectId"]] = (subject_kind, subject_name)
        if current is not None and current.get("liftedAt") is not None:
            # a lift is final at the source (lifting never undoes): an event applied again
            # out of order must not bring a lifted entry back
            entry["liftedAt"], entry["liftKind"] = current["liftedAt"], current["liftKind"]
            entry["liftReason"] = current.get("liftReason")
        else:
            entry["liftKind"] = lift_kind if entry["liftedAt"] else None
            entry["liftReason"] = f"{event.kind} in {source}" if entry["liftedAt"] else None
        plan.sanctions[sid] = entry
        plan.history.setdefault(sid, []).append(
            f"{event.at.isoformat()}|{event.kind}{mark}{event.event_id[:MAX_ID]}"
        )
        done.add(event.event_id[:MAX_ID])
        plan.events.append(
            event_log.event_row(
                LOCAL_KIND[event.kind], entry, event.at, lift_kind=LIFT_KIND.get(event.kind)
            )
        )
        plan.applied += 1
    return plan


async def _write(tx: AsyncManagedTransaction, plan: _Plan, source: str, now: dt.datetime) -> int:
    registered = 0
    by_kind: dict[SubjectKind, list[dict[str, Any]]] = {}
    for subject_id, (kind, name) in plan.subjects.items():
        by_kind.setdefault(kind, []).append({"id": subject_id, "kind": kind.value, "name": name})
    for kind, rows in by_kind.items():
        result = await tx.run(REGISTER[kind], rows=rows, now=now, source=source)
        record = await result.single()
        registered += int(record["written"]) if record else 0
    rows = [{"props": props, "history": plan.history[sid]} for sid, props in plan.sanctions.items()]
    if rows:
        result = await tx.run(UPSERT_SANCTIONS, rows=rows, now=now)
        record = await result.single()
        written = int(record["written"]) if record else 0
        if written != len(rows):  # a relaying department missing from the graph
            raise Conflict(
                f"only {written} of {len(rows)} entries from {source} could be stored: "
                "are the catalogue's departments in the graph (creditlink migrate)?"
            )
    if plan.kept_aside:
        await tx.run(KEEP_ASIDE, rows=plan.kept_aside)
    # last: the log's counter lock (see event_log.append)
    await event_log.append_many(tx, plan.events)
    return registered


async def apply_events(
    graph: Graph,
    catalogue: Catalogue,
    source: str,
    events: Sequence[Incoming],
    *,
    cursor: tuple[str | None, str] | None = None,
    url: str | None = None,
) -> Applied:
    """Apply `events` from `source` in one transaction.

    With `cursor` = (the position the events were read after, the position after them),
    the source's position moves with them, and a position other than the first (another
    pull got there first) is refused with `Conflict`, applying nothing."""
    if source not in catalogue.jurisdictions or catalogue.jurisdictions[source].local:
        raise BadUserInput(
            f"jurisdiction: {source[:40]!r} is not a partner in this catalogue",
            field="jurisdiction",
        )
    now = dt.datetime.now(dt.UTC)
    ids = sorted({local_id(source, str(e.sanction.get("id"))[:MAX_ID]) for e in events})
    subject_ids = sorted({str(e.sanction.get("subjectId"))[:40] for e in events})

    async def work(tx: AsyncManagedTransaction) -> Applied:
        record = await (await tx.run(LOCK_SOURCE, source=source)).single()
        position = record["cursor"] if record else None
        if cursor is not None and position != cursor[0]:
            raise Conflict(
                f"the position of {source} moved (another pull?): {position!r}, not {cursor[0]!r}"
            )
        found = await (await tx.run(KNOWN, sanctionIds=ids, subjectIds=subject_ids)).single()
        assert found is not None
        known = {s["id"]: native(s) for s in found["sanctions"]}
        kinds = {p["id"]: p["kind"] for p in found["subjects"]}
        plan = _plan(events, source, catalogue, known, kinds, now)
        registered = await _write_and_advance(tx, plan, source, now, cursor, url)
        return Applied(plan.applied, plan.kept_aside, registered, plan.unchanged)

    return await graph.write_tx(work, name="exchange.apply")


async def _write_and_advance(
    tx: AsyncManagedTransaction,
    plan: _Plan,
    source: str,
    now: dt.datetime,
    cursor: tuple[str | None, str] | None,
    url: str | None,
) -> int:
    await tx.run(
        ADVANCE_SOURCE,
        source=source,
        cursor=cursor[1] if cursor is not None else None,
        applied=plan.applied,
        now=now,
        url=url,
    )
    return await _write(tx, plan, source, now)
