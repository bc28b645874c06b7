"""The sanction lifecycle: impose, lift (repair or revoke), object, resolve.

Each transition is one write transaction that reads the state it checks under the
sanction's write lock, so two concurrent calls cannot both succeed, and that appends the
change's event to the sanction event log (`graph_model.event_log`) as its last statement:
the event exists exactly when the change committed. Last, because the log's counter is the
one lock every sanction write takes: taken after the transaction's other locks, it is never
held while another is waited for, so no lock cycle can form. Lifting never deletes:
`liftedAt` keeps history, so a check about an earlier time still sees the sanction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

from domain.errors import BadUserInput, Conflict, Forbidden, NotFound
from domain.identifiers import SubjectKind, validate_any_subject_id, validate_resident_id
from domain.text import clean_text
from domain.time import city_date, utc_now
from domain.vocabulary import Label, SystemRel
from graph_model import event_log
from graph_model.driver import Graph, single_map
from graph_model.event_log import EventKind
from graph_model.sanctions_read import SANCTION_FIELDS
from graph_model.values import native
from rules.models import Catalogue

MAX_TEXT = 2000
MAX_DOCUMENT_NO = 120
MAX_RESPONSIBLE = 20

GET_SANCTION = (
    f"MATCH (s:{Label.SANCTION.value} {{id: $id}}) "
    f"RETURN {SANCTION_FIELDS.format(s='s')} AS sanction"
)
# the SET takes the sanction's write lock before its state is read (the REMOVE leaves nothing
# behind): a second transition of the sanction waits, then reads what the first committed
LOCK_SANCTION = (
    f"MATCH (s:{Label.SANCTION.value} {{id: $id}}) SET s._lock = true REMOVE s._lock "
    f"RETURN {SANCTION_FIELDS.format(s='s')} AS sanction"
)
SUBJECT_KINDS = (
    f"UNWIND $ids AS id MATCH (p:{Label.SUBJECT.value} {{id: id}}) "
    "RETURN p.id AS id, p.kind AS kind"
)
CREATE_SANCTION = (
    f"MATCH (d:{Label.DEPARTMENT.value} {{id: $issuerId}}) "
    f"MATCH (subject:{Label.SUBJECT.value} {{id: $subjectId}}) "
    f"CREATE (d)-[:{SystemRel.ISSUED.value}]->(s:{Label.SANCTION.value})"
    f"-[:{SystemRel.AGAINST.value}]->(subject) "
    "SET s = $props, s.createdAt = datetime() "
    "WITH s "
    f"CALL (s) {{ UNWIND $responsible AS pid MATCH (p:{Label.PERSON.value} {{id: pid}}) "
    f"CREATE (s)-[:{SystemRel.RESPONSIBLE_PERSON.value}]->(p) }} "
    f"RETURN {SANCTION_FIELDS.format(s='s')} AS sanction"
)
LIFT_SANCTION = (
    f"MATCH (s:{Label.SANCTION.value} {{id: $id}}) "
    "SET s.liftKind = $kind, s.liftedAt = $at, s.liftReason = $reason, s.liftedBy = $by, "
    "s.history = coalesce(s.history, []) + $event "
    f"RETURN {SANCTION_FIELDS.format(s='s')} AS sanction"
)
SET_OBJECTION = (
    f"MATCH (s:{Label.SANCTION.value} {{id: $id}}) "
    "SET s.status = $status, s.objectionReason = coalesce($reason, s.objectionReason), "
    "s.objectionNote = coalesce($note, s.objectionNote), "
    "s.history = coalesce(s.history, []) + $event "
    f"RETURN {SANCTION_FIELDS.format(s='s')} AS sanction"
)
RESOLVE_REVOKE = (
    f"MATCH (s:{Label.SANCTION.value} {{id: $id}}) "
    "SET s.status = 'ACTIVE', s.liftKind = 'REVOKED', s.liftedAt = $at, "
    "s.liftReason = $note, s.objectionNote = $note, s.liftedBy = $by, "
    "s.history = coalesce(s.history, []) + $event "
    f"RETURN {SANCTION_FIELDS.format(s='s')} AS sanction"
)


@dataclass(frozen=True)
class SanctionRequest:
    client_id: str | None
    list_type: str
    subject_id: str
    issuer_id: str
    decided_on: dt.date
    valid_from: dt.date | None
    valid_to: dt.date | None
    document_no: str
    reason: str
    jurisdiction: str
    responsible_person_ids: tuple[str, ...]


@dataclass(frozen=True)
class Actor:
    """Who asks: a department is bound for ISSUER keys; ADMIN may act for any issuer."""

    name: str
    department: str | None
    any_department: bool


def _text(value: str, field: str, limit: int) -> str:
    text = clean_text((value or "").strip(), field, multiline=True)
    if not text:
        raise BadUserInput(f"{field}: must not be blank", field=field)
    if len(text) > limit:
        raise BadUserInput(f"{field}: longer than {limit} characters", field=field)
    return text


def _client_id(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not (1 <= len(text) <= 80) or not all(c.isalnum() or c in "-_.:" for c in text):
        raise BadUserInput(
            "input.id: a client sanction id is 1-80 letters, digits or - _ . :", field="input.id"
        )
    return text


def _event(kind: str, by: str, at: dt.datetime, note: str | None = None) -> list[str]:
    return [f"{at.isoformat()}|{kind}|{by}|{(note or '')[:200]}"]


def validate_request(
    catalogue: Catalogue, req: SanctionRequest, actor: Actor, today: dt.date
) -> dict[str, Any]:
    """Everything that can be checked without the database; returns the node's properties."""
    list_type = catalogue.list_types.get(req.list_type)
    if list_type is None:
        raise BadUserInput(
            f"input.listType: unknown list type {req.list_type[:60]!r}", field="input.listType"
        )
    if req.issuer_id not in catalogue.departments:
        raise BadUserInput(
            f"input.issuerId: unknown department {req.issuer_id[:60]!r}", field="input.issuerId"
        )
    if not actor.any_department and actor.department != req.issuer_id:
        raise Forbidden(
            f"input.issuerId: your key acts for {actor.department}, not {req.issuer_id}",
            field="input.issuerId",
        )
    if not catalogue.may_issue(req.issuer_id, req.list_type):
        raise BadUserInput(
            f"input.issuerId: {req.issuer_id} is not authorised to issue {req.list_type} "
            f"(issuers: {', '.join(list_type.issuers)})",
            field="input.issuerId",
        )
    jurisdiction = catalogue.jurisdictions.get(req.jurisdiction)
    if jurisdiction is None:
        raise BadUserInput(
            f"input.jurisdiction: unknown jurisdiction {req.jurisdiction[:60]!r}",
            field="input.jurisdiction",
        )
    if req.decided_on > today:
        raise BadUserInput(
            f"input.decidedOn: {req.decided_on} is in the future", field="input.decidedOn"
        )
    valid_from = req.valid_from or req.decided_on
    if valid_from < req.decided_on:
        raise BadUserInput(
            f"input.validFrom: {valid_from} is before the decision on {req.decided_on}",
            field="input.validFrom",
        )
    valid_to = req.valid_to
    if valid_to is None and list_type.default_duration_days is not None:
        valid_to = valid_from + dt.timedelta(days=list_type.default_duration_days)
    if valid_to is not None and valid_to <= valid_from:
        raise BadUserInput(
            f"input.validTo: {valid_to} is not after validFrom {valid_from}", field="input.validTo"
        )
    if len(req.responsible_person_ids) > MAX_RESPONSIBLE:
        raise BadUserInput(
            f"input.responsiblePersonIds: at most {MAX_RESPONSIBLE}",
            field="input.responsiblePersonIds",
        )
    return {
        "id": _client_id(req.client_id) or f"S{uuid.uuid4().hex}",
        "listType": list_type.id,
        "kind": list_type.kind.value,
        "decidedOn": req.decided_on,
        "validFrom": valid_from,
        "validTo": valid_to,
        "status": "ACTIVE",
        "jurisdiction": jurisdiction.id,
        "recognized": catalogue.is_recognized(jurisdiction.id, list_type.id),
        "documentNo": _text(req.document_no, "input.documentNo", MAX_DOCUMENT_NO),
        "reason": _text(req.reason, "input.reason", MAX_TEXT),
        "issuerId": req.issuer_id,
        "subjectId": validate_any_subject_id(req.subject_id, field="input.subjectId"),
        # its expiry is published in this jurisdiction's feed (graph_model.exchange.feed)
        "expiryDue": valid_to if jurisdiction.local else None,
    }


_COMPARED = (
    "listType",
    "decidedOn",
    "validFrom",
    "validTo",
    "jurisdiction",
    "documentNo",
    "reason",
    "issuerId",
    "subjectId",
)


async def impose(
    graph: Graph, catalogue: Catalogue, req: SanctionRequest, actor: Actor
) -> tuple[dict[str, Any], bool]:
    """The sanction, and whether it was created now (False: an identical retry)."""
    now = utc_now()
    props = validate_request(catalogue, req, actor, city_date(now))
    responsible = sorted(
        {
            validate_resident_id(p, field="input.responsiblePersonIds")
            for p in req.responsible_person_ids
        }
    )
    props["history"] = _event("IMPOSED", actor.name, now)
    props["logged"] = True  # its event is appended below (graph_model.event_log)

    async def work(tx: AsyncManagedTransaction) -> tuple[dict[str, Any], bool]:
        existing = await (await tx.run(GET_SANCTION, id=props["id"])).single()
        if existing is not None:
            current = native(existing["sanction"])
            same = (
                all(current.get(k) == props[k] for k in _COMPARED)
                and sorted(current.get("responsiblePersonIds") or []) == responsible
            )
            if not same:
                raise Conflict(
                    f"input.id: sanction {props['id']} exists with different fields",
                    field="input.id",
                )
            return current, False
        kinds = {
            r["id"]: r["kind"]
            async for r in await tx.run(SUBJECT_KINDS, ids=[props["subjectId"], *responsible])
        }
        if props["subjectId"] not in kinds:
            raise NotFound(
                f"input.subjectId: no subject {props['subjectId']}", field="input.subjectId"
            )
        for pid in responsible:
            if kinds.get(pid) != SubjectKind.PERSON.value:
                raise NotFound(
                    f"input.responsiblePersonIds: no person {pid}",
                    field="input.responsiblePersonIds",
                )
        created = await (
            await tx.run(
                CREATE_SANCTION,
                props=props,
                issuerId=props["issuerId"],
                subjectId=props["subjectId"],
                responsible=responsible,
            )
        ).single()
        if created is None:
            raise NotFound(f"input.issuerId: department {props['issuerId']} is not in the graph")
        sanction: dict[str, Any] = native(created["sanction"])
        await event_log.append(tx, EventKind.IMPOSED, sanction, now)
        return sanction, True

    return await graph.write_tx(work, name="imposeSanction")


async def _load_for_change(
    tx: AsyncManagedTransaction, sanction_id: str, actor: Actor, field: str
) -> dict[str, Any]:
    found = await (await tx.run(LOCK_SANCTION, id=sanction_id)).single()
    if found is None:
        raise NotFound(f"{field}: no sanction {sanction_id[:60]}", field=field)
    sanction: dict[str, Any] = native(found["sanction"])
    if not actor.any_department and sanction["issuerId"] != actor.department:
        raise Forbidden(
            f"{field}: sanction {sanction_id} was issued by {sanction['issuerId']}, "
            "not your department",
            field=field,
        )
    return sanction


async def lift(
    graph: Graph,
    catalogue: Catalogue,
    *,
    sanction_id: str,
    kind: str,
    reason: str,
    effective_at: dt.datetime | None,
    actor: Actor,
) -> dict[str, Any]:
    if kind not in {"REPAIRED", "REVOKED"}:
        raise BadUserInput(f"input.kind: unknown lift kind {kind[:20]!r}", field="input.kind")
    clean_reason = _text(reason, "input.reason", MAX_TEXT)
    now = utc_now()
    at = effective_at or now

    async def work(tx: AsyncManagedTransaction) -> dict[str, Any]:
        sanction = await _load_for_change(tx, sanction_id, actor, "input.sanctionId")
        if sanction.get("liftedAt") is not None:
            raise Conflict(
                f"input.sanctionId: sanction {sanction_id} was already lifted "
                f"({sanction['liftKind']} at {sanction['liftedAt'].isoformat()})",
                field="input.sanctionId",
            )
        if kind == "REPAIRED":
            list_type = catalogue.list_types.get(sanction["listType"])
            minimum = list_type.min_repair_days if list_type else None
            if minimum:
                earliest = sanction["validFrom"] + dt.timedelta(days=minimum)
                if city_date(at) < earliest:
                    raise BadUserInput(
                        f"input.effectiveAt: {sanction['listType']} may be repaired only "
                        f"{minimum} days after {sanction['validFrom']}, i.e. from {earliest}",
                        field="input.effectiveAt",
                    )
        lifted = await single_map(
            tx,
            LIFT_SANCTION,
            "sanction",
            id=sanction_id,
            kind=kind,
            at=at,
            reason=clean_reason,
            by=actor.name,
            event=_event(kind, actor.name, now, clean_reason),
        )
        await event_log.append(tx, EventKind.LIFTED, lifted, now, lift_kind=kind)
        return lifted

    return await graph.write_tx(work, name="liftSanction")


async def file_objection(
    graph: Graph, *, sanction_id: str, reason: str, actor: Actor
) -> dict[str, Any]:
    clean_reason = _text(reason, "reason", MAX_TEXT)
    now = utc_now()

    async def work(tx: AsyncManagedTransaction) -> dict[str, Any]:
        sanction = await _load_for_change(tx, sanction_id, actor, "sanctionId")
        if sanction.get("liftedAt") is not None and sanction["liftedAt"] <= now:
            raise Conflict(f"sanctionId: sanction {sanction_id} is lifted", field="sanctionId")
        if sanction["status"] == "UNDER_OBJECTION":
            raise Conflict(
                f"sanctionId: an objection to {sanction_id} is already pending", field="sanctionId"
            )
        filed = await single_map(
            tx,
            SET_OBJECTION,
            "sanction",
            id=sanction_id,
            status="UNDER_OBJECTION",
            reason=clean_reason,
            note=None,
            event=_event("OBJECTION_FILED", actor.name, now, clean_reason),
        )
        await event_log.append(tx, EventKind.OBJECTION_FILED, filed, now)
        return filed

    return await graph.write_tx(work, name="fileObjection")


async def resolve_objection(
    graph: Graph, *, sanction_id: str, upheld: bool, note: str | None, actor: Actor
) -> dict[str, Any]:
    """An upheld objection revokes the sanction now; a rejected one restores ACTIVE."""
    clean_note = _text(note, "note", MAX_TEXT) if note else None
    now = utc_now()

    async def work(tx: AsyncManagedTransaction) -> dict[str, Any]:
        sanction = await _load_for_change(tx, sanction_id, actor, "sanctionId")
        if sanction["status"] != "UNDER_OBJECTION":
            raise Conflict(
                f"sanctionId: sanction {sanction_id} has no pending objection", field="sanctionId"
            )
        kind = "OBJECTION_UPHELD" if upheld else "OBJECTION_REJECTED"
        event = _event(kind, actor.name, now, clean_note)
        if upheld:
            query, params = RESOLVE_REVOKE, {"at": now, "by": actor.name}
        else:
            query, params = SET_OBJECTION, {"status": "ACTIVE", "reason": None}
        resolved = await single_map(
            tx, query, "sanction", params, id=sanction_id, note=clean_note, event=event
        )
        await event_log.append(
            tx,
            EventKind.OBJECTION_RESOLVED,
            resolved,
            now,
            lift_kind="REVOKED" if upheld else None,
            upheld=upheld,
        )
        return resolved

    return await graph.write_tx(work, name="resolveObjection")


async def get_sanction(graph: Graph, sanction_id: str) -> dict[str, Any] | None:
    rows = await graph.read(GET_SANCTION, {"id": sanction_id}, name="sanction")
    return native(rows[0]["sanction"]) if rows else None
