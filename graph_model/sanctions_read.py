"""Reading sanctions: shapes, and the applies-at rule shared by every query."""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.time import city_date, utc_now
from domain.vocabulary import Label, SystemRel
from graph_model.driver import Graph
from graph_model.values import native

# A sanction applies at instant $at (city date $day). Every query that asks whether a
# sanction applies uses this text (through `applies_at`), so the rule lives in one place;
# `domain.scoring.ratings.applies` is the same rule for a sanction already read.
APPLIES_AT = (
    "{s}.recognized AND ({s}.liftedAt IS NULL OR {at} < {s}.liftedAt) "
    "AND {s}.validFrom <= $day AND ({s}.validTo IS NULL OR $day < {s}.validTo)"
)

# The instant sent as `domain.time.epoch_pair` (two integers) rather than as a datetime: the
# driver packs an aware datetime in Python, many times slower than two integers; Cypher
# only evaluates this for lifted sanctions.
AT_FROM_EPOCH = "datetime({epochSeconds: $at[0], nanosecond: $at[1]})"


def applies_at(s: str, *, at: str = "$at") -> str:
    """The APPLIES_AT rule for sanction variable `s`, the instant given by `at`."""
    return APPLIES_AT.format(s=s, at=at)


SANCTION_FIELDS = (
    "{s} {{.id, .listType, .kind, .decidedOn, .validFrom, .validTo, .status, .liftKind,"
    " .liftedAt, .jurisdiction, .recognized, .documentNo, .reason, .issuerId, .subjectId,"
    " .liftReason, .objectionReason, .objectionNote, .sourceJurisdiction, .sourceId, .receivedAt,"
    " responsiblePersonIds: [({s})-[:" + SystemRel.RESPONSIBLE_PERSON.value + "]->(p) | p.id]}}"
)

SANCTIONS_OF_SUBJECTS = (
    f"UNWIND $ids AS sid MATCH (s:{Label.SANCTION.value} {{subjectId: sid}}) "
    "WHERE $at IS NULL OR (" + applies_at("s") + ") "
    f"RETURN sid, {SANCTION_FIELDS.format(s='s')} AS sanction "
    "ORDER BY s.decidedOn DESC, s.id"
)

SANCTIONS_BY_ID = (
    f"UNWIND $ids AS id MATCH (s:{Label.SANCTION.value} {{id: id}}) "
    f"RETURN {SANCTION_FIELDS.format(s='s')} AS sanction"
)


def shown_status(sanction: dict[str, Any], now: dt.datetime | None = None) -> str:
    """The status a reader sees: lifted, expired, or the due-process status."""
    now = now or utc_now()
    lifted_at = sanction.get("liftedAt")
    if lifted_at is not None and lifted_at <= now:
        return str(sanction["liftKind"])
    valid_to = sanction.get("validTo")
    if valid_to is not None and valid_to <= city_date(now):
        return "EXPIRED"
    return str(sanction["status"])


async def sanctions_of_subjects(
    graph: Graph, subject_ids: list[str], at: dt.datetime | None
) -> dict[str, list[dict[str, Any]]]:
    params = {"ids": subject_ids, "at": at, "day": city_date(at) if at else None}
    rows = await graph.read(SANCTIONS_OF_SUBJECTS, params, name="sanctionsOfSubjects")
    found: dict[str, list[dict[str, Any]]] = {sid: [] for sid in subject_ids}
    for row in rows:
        found[row["sid"]].append(native(row["sanction"]))
    return found


async def sanctions_by_id(graph: Graph, sanction_ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = await graph.read(SANCTIONS_BY_ID, {"ids": sanction_ids}, name="sanctionsById")
    return {row["sanction"]["id"]: native(row["sanction"]) for row in rows}
