"""The registry: subjects, households and the dated links between them."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

from domain.districts import normalise_district
from domain.errors import BadUserInput, Conflict, NotFound
from domain.identifiers import SubjectKind, validate_subject_id
from domain.text import clean_text
from domain.vocabulary import KIND_LABEL, RELATION_ENDS, ROLE_VALUES, Label, Rel
from graph_model.driver import Graph, single_map
from graph_model.values import native

MAX_NAME = 200
MAX_TEXT = 500

SUBJECT_FIELDS = (
    "s {.id, .kind, .name, .district, .industry, .registeredCapital, .establishedOn,"
    " .status, .birthDate}"
)
GET_SUBJECT = f"MATCH (s:{Label.SUBJECT.value} {{id: $id}}) RETURN {SUBJECT_FIELDS} AS subject"
GET_SUBJECTS = (
    f"UNWIND $ids AS id MATCH (s:{Label.SUBJECT.value} {{id: id}}) "
    f"RETURN {SUBJECT_FIELDS} AS subject"
)
SUBJECT_KIND = f"MATCH (s:{Label.SUBJECT.value} {{id: $id}}) RETURN s.kind AS kind"
HOUSEHOLD_EXISTS = f"MATCH (h:{Label.HOUSEHOLD.value} {{id: $id}}) RETURN h.id AS id"
# any one subject will do: the label scan stops at the first
HOLDS_SUBJECTS = f"MATCH (s:{Label.SUBJECT.value}) RETURN s.id AS id LIMIT 1"


def _register_subject_query(kind: SubjectKind) -> str:
    return (
        f"MERGE (s:{Label.SUBJECT.value} {{id: $id}}) "
        "ON CREATE SET s.createdAt = datetime(), s.kind = $kind "
        f"SET s:{KIND_LABEL[kind].value}, s.name = $name, "
        "s.district = coalesce($district, s.district), "
        "s.industry = coalesce($industry, s.industry), s.updatedAt = datetime() "
        f"RETURN {SUBJECT_FIELDS} AS subject"
    )


REGISTER_SUBJECT = {kind: _register_subject_query(kind) for kind in SubjectKind}

REGISTER_HOUSEHOLD = (
    f"MERGE (h:{Label.HOUSEHOLD.value} {{id: $id}}) "
    "ON CREATE SET h.createdAt = datetime() "
    "SET h.district = coalesce($district, h.district), h.address = coalesce($address, h.address) "
    "RETURN h {.id, .district, .address} AS household"
)

LINK_FIELDS = (
    "{id: r.id, from: a.id, to: b.id, relation: type(r), ratio: r.ratio, role: r.role,"
    " validFrom: r.validFrom, validTo: r.validTo, source: r.source}"
)


def _create_link_query(rel: Rel) -> str:
    target = Label.HOUSEHOLD if RELATION_ENDS[rel][1] is None else Label.SUBJECT
    return (
        f"MATCH (a:{Label.SUBJECT.value} {{id: $from}}) "
        f"MATCH (b:{target.value} {{id: $to}}) "
        f"CREATE (a)-[r:{rel.value} {{id: $linkId, validFrom: $validFrom, validTo: $validTo, "
        "source: $source, ratio: $ratio, role: $role, createdAt: datetime()}]->(b) "
        f"RETURN {LINK_FIELDS} AS link"
    )


def _same_link_query(rel: Rel) -> str:
    target = Label.HOUSEHOLD if RELATION_ENDS[rel][1] is None else Label.SUBJECT
    return (
        f"MATCH (a:{Label.SUBJECT.value} {{id: $from}})-[r:{rel.value}]->"
        f"(b:{target.value} {{id: $to}}) "
        "WHERE r.validFrom = $validFrom "
        + " ".join(
            f"AND (r.{p} = ${p} OR (r.{p} IS NULL AND ${p} IS NULL))"
            for p in ("validTo", "ratio", "role")
        )
        + " "
        f"RETURN {LINK_FIELDS} AS link LIMIT 1"
    )


CREATE_LINK = {rel: _create_link_query(rel) for rel in Rel}
SAME_LINK = {rel: _same_link_query(rel) for rel in Rel}

# One indexed lookup per relationship type: a link id alone does not say its type.
FIND_LINK = " UNION ALL ".join(
    f"MATCH (a)-[r:{rel.value} {{id: $id}}]->(b) RETURN {LINK_FIELDS} AS link" for rel in Rel
)


def _end_link_query(rel: Rel) -> str:
    return (
        f"MATCH (a)-[r:{rel.value} {{id: $id}}]->(b) SET r.validTo = $validTo, "
        f"r.endedAt = datetime() RETURN {LINK_FIELDS} AS link"
    )


END_LINK = {rel: _end_link_query(rel) for rel in Rel}


@dataclass(frozen=True)
class LinkSpec:
    source_id: str
    target_id: str
    relation: Rel
    valid_from: dt.date
    valid_to: dt.date | None = None
    ratio: float | None = None
    role: str | None = None
    source: str = "api"


def _text(value: str | None, field: str, limit: int, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise BadUserInput(f"{field}: required", field=field)
        return None
    text = clean_text(value.strip(), field)
    if required and not text:
        raise BadUserInput(f"{field}: must not be blank", field=field)
    if len(text) > limit:
        raise BadUserInput(f"{field}: longer than {limit} characters", field=field)
    return text or None


async def register_subject(
    graph: Graph,
    *,
    subject_id: str,
    kind: SubjectKind,
    name: str,
    district: str | None = None,
    industry: str | None = None,
) -> dict[str, Any]:
    sid = validate_subject_id(subject_id, kind, field="input.id")
    clean_name = _text(name, "input.name", MAX_NAME, required=True)
    clean_district = normalise_district(district, field="input.district")
    clean_industry = _text(industry, "input.industry", MAX_NAME)

    async def work(tx: AsyncManagedTransaction) -> dict[str, Any]:
        existing = await (await tx.run(SUBJECT_KIND, id=sid)).single()
        if existing is not None and existing["kind"] != kind.value:
            raise Conflict(
                f"input.id: {sid} is already registered as {existing['kind']}, not {kind.value}",
                field="input.id",
            )
        params = {
            "id": sid,
            "kind": kind.value,
            "name": clean_name,
            "district": clean_district,
            "industry": clean_industry,
        }
        return await single_map(tx, REGISTER_SUBJECT[kind], "subject", params)

    return await graph.write_tx(work, name="registerSubject")


async def register_household(
    graph: Graph, *, household_id: str, district: str | None, address: str | None
) -> dict[str, Any]:
    hid = (household_id or "").strip()
    if not (1 <= len(hid) <= 40) or not all(c.isalnum() or c in "-_" for c in hid):
        raise BadUserInput(
            "input.id: a household number is 1-40 letters, digits, '-' or '_'", field="input.id"
        )
    params = {
        "id": hid,
        "district": normalise_district(district, field="input.district"),
        "address": _text(address, "input.address", MAX_TEXT),
    }
    rows = await graph.write(REGISTER_HOUSEHOLD, params, name="registerHousehold")
    return dict(rows[0]["household"])


def _check_link_shape(spec: LinkSpec) -> None:
    if spec.source_id == spec.target_id:
        raise BadUserInput("input.to: a subject cannot be linked to itself", field="input.to")
    if spec.valid_to is not None and spec.valid_to <= spec.valid_from:
        raise BadUserInput(
            f"input.validTo: {spec.valid_to} is not after validFrom {spec.valid_from}",
            field="input.validTo",
        )
    if spec.ratio is not None:
        if spec.relation is not Rel.SHAREHOLDER_OF:
            raise BadUserInput(
                f"input.ratio: only SHAREHOLDER_OF links carry a ratio, not {spec.relation.value}",
                field="input.ratio",
            )
        if not (0.0 < spec.ratio <= 1.0):
            raise BadUserInput(f"input.ratio: {spec.ratio} is outside (0, 1]", field="input.ratio")
    elif spec.relation is Rel.SHAREHOLDER_OF:
        raise BadUserInput("input.ratio: a SHAREHOLDER_OF link needs a ratio", field="input.ratio")
    allowed_roles = ROLE_VALUES.get(spec.relation)
    if spec.role is not None:
        if allowed_roles is None:
            raise BadUserInput(
                f"input.role: {spec.relation.value} links carry no role", field="input.role"
            )
        if spec.role not in allowed_roles:
            raise BadUserInput(
                f"input.role: {spec.role[:40]!r} is not one of {', '.join(sorted(allowed_roles))}",
                field="input.role",
            )
    elif allowed_roles is not None:
        raise BadUserInput(
            f"input.role: a {spec.relation.value} link needs a role "
            f"({', '.join(sorted(allowed_roles))})",
            field="input.role",
        )


async def _link_end(
    tx: AsyncManagedTransaction,
    spec: LinkSpec,
    subject_id: str,
    kinds: frozenset[SubjectKind],
    field: str,
    verb: str,
) -> None:
    """One end of a new link: NOT_FOUND when `subject_id` is no subject, BAD_USER_INPUT when
    the relation cannot `verb` a subject of its kind (`kinds` are those it can)."""
    found = await (await tx.run(SUBJECT_KIND, id=subject_id)).single()
    if found is None:
        raise NotFound(f"{field}: no subject {subject_id}", field=field)
    if SubjectKind(found["kind"]) not in kinds:
        raise BadUserInput(
            f"input.relation: {spec.relation.value} cannot {verb} a {found['kind']} "
            f"(allowed: {', '.join(sorted(k.value for k in kinds))})",
            field="input.relation",
        )


async def link_subjects(graph: Graph, spec: LinkSpec) -> dict[str, Any]:
    """Create a dated link; an identical existing link is returned instead (safe retries)."""
    _check_link_shape(spec)
    sources, targets = RELATION_ENDS[spec.relation]
    params = {
        "from": spec.source_id,
        "to": spec.target_id,
        "validFrom": spec.valid_from,
        "validTo": spec.valid_to,
        "ratio": spec.ratio,
        "role": spec.role,
        "source": spec.source,
    }

    async def work(tx: AsyncManagedTransaction) -> dict[str, Any]:
        await _link_end(tx, spec, spec.source_id, sources, "input.from", "start at")
        if targets is None:
            target = await (await tx.run(HOUSEHOLD_EXISTS, id=spec.target_id)).single()
            if target is None:
                raise NotFound(f"input.to: no household {spec.target_id}", field="input.to")
        else:
            await _link_end(tx, spec, spec.target_id, targets, "input.to", "end at")
        same = await (await tx.run(SAME_LINK[spec.relation], params)).single()
        if same is not None:
            return dict(native(same["link"]))
        link_id = f"L{uuid.uuid4().hex}"
        return await single_map(tx, CREATE_LINK[spec.relation], "link", params, linkId=link_id)

    return await graph.write_tx(work, name="linkSubjects")


async def end_link(graph: Graph, link_id: str, valid_to: dt.date) -> dict[str, Any]:
    async def work(tx: AsyncManagedTransaction) -> dict[str, Any]:
        found = await (await tx.run(FIND_LINK, id=link_id)).single()
        if found is None:
            raise NotFound(f"id: no link {link_id[:60]}", field="id")
        link = native(found["link"])
        if link["validTo"] is not None:
            raise Conflict(f"id: link {link_id} already ended on {link['validTo']}", field="id")
        if valid_to <= link["validFrom"]:
            raise BadUserInput(
                f"validTo: {valid_to} is not after the link's validFrom {link['validFrom']}",
                field="validTo",
            )
        query = END_LINK[Rel(link["relation"])]
        return await single_map(tx, query, "link", id=link_id, validTo=valid_to)

    return await graph.write_tx(work, name="endLink")


async def get_subject(graph: Graph, subject_id: str) -> dict[str, Any] | None:
    rows = await graph.read(GET_SUBJECT, {"id": subject_id}, name="subject")
    return dict(native(rows[0]["subject"])) if rows else None


async def get_subjects(graph: Graph, subject_ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = await graph.read(GET_SUBJECTS, {"ids": subject_ids}, name="subjects")
    return {row["subject"]["id"]: dict(native(row["subject"])) for row in rows}


async def holds_subjects(graph: Graph) -> bool:
    """Whether the database holds any subject (an empty one gets the demo world)."""
    return bool(await graph.read(HOLDS_SUBJECTS, name="holdsSubjects"))
