"""Sanctions (list entries) as GraphQL, and their lifecycle mutations."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from graphql import GraphQLInputObjectType
from strawberry.dataloader import DataLoader

from api.auth import Capability, Role
from api.context import Info
from api.events import impacted_at
from api.types.catalogue import Department, ListType, department_of, list_type_of
from api.types.enums import ApplicationArea, LiftKind, SanctionStatus
from domain.errors import BadUserInput, NotFound
from domain.identifiers import validate_any_subject_id
from domain.time import aware, city_date, utc_now
from graph_model import sanctions, sanctions_read

if TYPE_CHECKING:
    from api.types.checks import PathStep
    from api.types.subjects import Subject

SubjectRef = Annotated["Subject", strawberry.lazy("api.types.subjects")]
PathStepRef = Annotated["PathStep", strawberry.lazy("api.types.checks")]


@strawberry.type(description="Where an entry relayed from another platform came from.")
class SanctionSource:
    jurisdiction: strawberry.ID = strawberry.field(description="The platform it came from.")
    source_id: strawberry.ID = strawberry.field(description="Its id there.")
    received_at: dt.datetime = strawberry.field(description="When it first arrived here.")

    @classmethod
    def of(cls, row: dict[str, Any]) -> SanctionSource | None:
        if row.get("sourceJurisdiction") is None:
            return None
        return cls(
            jurisdiction=strawberry.ID(row["sourceJurisdiction"]),
            source_id=strawberry.ID(row["sourceId"]),
            received_at=row["receivedAt"],
        )


@strawberry.type
class Sanction:
    id: strawberry.ID
    decided_on: dt.date
    valid_from: dt.date
    valid_to: dt.date | None
    status: SanctionStatus
    jurisdiction: strawberry.ID
    recognized: bool
    document_no: str
    reason: str
    lifted_at: dt.datetime | None
    responsible_person_ids: list[strawberry.ID]
    source: SanctionSource | None = strawberry.field(
        description="Where a relayed entry came from (a partner's feed or a list file); "
        "null for an entry issued here."
    )
    list_type_id: strawberry.Private[str]
    issuer_id: strawberry.Private[str]
    subject_id: strawberry.Private[str]

    @strawberry.field
    def list_type(self, info: Info) -> ListType:
        return list_type_of(info, self.list_type_id)

    @strawberry.field
    def issuer(self, info: Info) -> Department:
        return department_of(info, self.issuer_id)

    @strawberry.field
    async def subject(self, info: Info) -> SubjectRef:
        from api.types.subjects import subject_from_row

        row = await info.context.subject_loader().load(self.subject_id)
        assert row is not None, "a sanction always hangs off a stored subject"
        return subject_from_row(row)

    @classmethod
    def of(cls, row: dict[str, Any]) -> Sanction:
        return cls(
            id=strawberry.ID(row["id"]),
            decided_on=row["decidedOn"],
            valid_from=row["validFrom"],
            valid_to=row.get("validTo"),
            status=SanctionStatus(sanctions_read.shown_status(row)),
            jurisdiction=strawberry.ID(row["jurisdiction"]),
            recognized=bool(row["recognized"]),
            document_no=row.get("documentNo") or "",
            reason=row.get("reason") or "",
            lifted_at=row.get("liftedAt"),
            responsible_person_ids=[
                strawberry.ID(p) for p in row.get("responsiblePersonIds") or []
            ],
            source=SanctionSource.of(row),
            list_type_id=row["listType"],
            issuer_id=row["issuerId"],
            subject_id=row["subjectId"],
        )


def _sanctions_loader(info: Info, at: dt.datetime | None) -> DataLoader[str, list[dict[str, Any]]]:
    key = f"sanctions@{at.isoformat() if at else 'all'}"
    loader = info.context.loaders.get(key)
    if loader is None:
        graph = info.context.graph

        async def load(ids: list[str]) -> list[list[dict[str, Any]]]:
            found = await sanctions_read.sanctions_of_subjects(graph, ids, at)
            return [found[i] for i in ids]

        loader = DataLoader(load_fn=load, max_batch_size=1000)
        info.context.loaders[key] = loader
    return loader


async def sanctions_of_subject(
    info: Info, subject_id: str, at: dt.datetime | None
) -> list[Sanction]:
    rows = await _sanctions_loader(info, at).load(subject_id)
    return [Sanction.of(row) for row in rows]


@strawberry.input
class SanctionInput:
    id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Optional client key: the same id with the same fields "
        "returns the same sanction.",
    )
    list_type: strawberry.ID
    subject_id: strawberry.ID
    issuer_id: strawberry.ID
    decided_on: dt.date
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    document_no: str
    reason: str
    # the contract's default; each instance's schema has its own jurisdiction here
    # (`home_jurisdiction_default`), so the exported schema, an instance of the default
    # settings, shows "wenzhou"
    jurisdiction: strawberry.ID | None = strawberry.ID("wenzhou")
    responsible_person_ids: list[strawberry.ID] | None = None


@strawberry.input
class LiftInput:
    sanction_id: strawberry.ID
    kind: LiftKind
    reason: str
    effective_at: dt.datetime | None = None


@strawberry.input
class SanctionPreviewInput:
    list_type: strawberry.ID
    subject_id: strawberry.ID
    decided_on: dt.date | None = None
    responsible_person_ids: list[strawberry.ID] | None = None


@strawberry.type
class ImpactedSubject:
    subject: SubjectRef
    role: str
    areas: list[ApplicationArea]
    path: list[PathStepRef]


def _actor(info: Info, what: str) -> sanctions.Actor:
    principal = info.context.require(Capability.SANCTION, what)
    return sanctions.Actor(
        name=principal.name,
        department=principal.department,
        any_department=principal.role is Role.ADMIN,
    )


def home_jurisdiction_default(schema: strawberry.Schema, jurisdiction: str) -> None:
    """An issuer's sanction without `jurisdiction` is the instance's own: on this schema,
    `SanctionInput.jurisdiction` defaults to `jurisdiction`. Set on graphql-core's input
    field, which both fills in an omitted field and prints the default in the SDL and
    introspection, so what a client reads is what it gets."""
    input_type = schema._schema.type_map["SanctionInput"]
    assert isinstance(input_type, GraphQLInputObjectType)
    input_type.fields["jurisdiction"].default_value = jurisdiction


def _request(input: SanctionInput, home: str) -> sanctions.SanctionRequest:
    return sanctions.SanctionRequest(
        client_id=str(input.id) if input.id is not None else None,
        list_type=str(input.list_type),
        subject_id=str(input.subject_id),
        issuer_id=str(input.issuer_id),
        decided_on=input.decided_on,
        valid_from=input.valid_from,
        valid_to=input.valid_to,
        document_no=input.document_no,
        reason=input.reason,
        jurisdiction=str(input.jurisdiction) if input.jurisdiction is not None else home,
        responsible_person_ids=tuple(str(p) for p in input.responsible_person_ids or ()),
    )


async def impacted(info: Info, sanction: dict[str, Any], at: dt.datetime) -> list[dict[str, Any]]:
    """Who the sanction reaches at `at`; no one when it does not apply then."""
    return await impacted_at(info.context.graph, info.context.state.impact, sanction, at)


def _impacted_types(entries: list[dict[str, Any]]) -> list[ImpactedSubject]:
    from api.types.checks import path_steps
    from api.types.subjects import subject_from_row

    return [
        ImpactedSubject(
            subject=subject_from_row(entry["subject"]),
            role=entry["role"],
            areas=[ApplicationArea(a) for a in entry["areas"]],
            path=path_steps(entry["path"]),
        )
        for entry in entries
    ]


@strawberry.type
class SanctionQuery:
    @strawberry.field(
        description="Every subject a sanction reaches, once per role, with the areas."
    )
    async def sanction_impact(
        self,
        info: Info,
        sanction_id: strawberry.ID,
        at: dt.datetime | None = None,
    ) -> list[ImpactedSubject]:
        info.context.require(Capability.REGULATE, "sanctionImpact")
        sanction = await sanctions.get_sanction(info.context.graph, str(sanction_id))
        if sanction is None:
            raise NotFound(f"sanctionId: no sanction {str(sanction_id)[:60]}", field="sanctionId")
        return _impacted_types(await impacted(info, sanction, aware(at) if at else utc_now()))

    @strawberry.field(description="Whom a sanction would reach if it were imposed now.")
    async def sanction_impact_preview(
        self, info: Info, input: SanctionPreviewInput
    ) -> list[ImpactedSubject]:
        info.context.require(Capability.REGULATE, "sanctionImpactPreview")
        catalogue = info.context.catalogue
        if str(input.list_type) not in catalogue.list_types:
            raise BadUserInput(
                f"input.listType: unknown list type {str(input.list_type)[:60]!r}",
                field="input.listType",
            )
        subject_id = validate_any_subject_id(str(input.subject_id), field="input.subjectId")
        given = input.responsible_person_ids or ()
        if len(given) > sanctions.MAX_RESPONSIBLE:
            # as imposeSanction would refuse it; checked here whatever the transport
            raise BadUserInput(
                f"input.responsiblePersonIds: at most {sanctions.MAX_RESPONSIBLE}",
                field="input.responsiblePersonIds",
            )
        named = [validate_any_subject_id(str(p), field="input.responsiblePersonIds") for p in given]
        if await info.context.subject_loader().load(subject_id) is None:
            raise NotFound(f"input.subjectId: no subject {subject_id}", field="input.subjectId")
        now = utc_now()
        entries = await info.context.state.impact.impact(
            info.context.graph,
            list_type=str(input.list_type),
            subject_id=subject_id,
            decided_on=input.decided_on or city_date(now),
            named=named,
            at=now,
        )
        return _impacted_types(entries)

    @strawberry.field(description="One sanction by id.")
    async def sanction(self, info: Info, id: strawberry.ID) -> Sanction | None:
        info.context.require(Capability.READ_SUBJECT, "sanction")
        info.context.audit("sanction", [str(id)], id_kind="sanctionIds")
        row = await sanctions.get_sanction(info.context.graph, str(id))
        return Sanction.of(row) if row else None


@strawberry.type
class SanctionMutation:
    @strawberry.mutation(description="Put a subject on a list, for a department authorised to.")
    async def impose_sanction(self, info: Info, input: SanctionInput) -> Sanction:
        actor = _actor(info, "imposeSanction")
        # its event reaches subscribers through the event log (api.event_tail)
        row, _ = await sanctions.impose(
            info.context.graph,
            info.context.catalogue,
            _request(input, home=info.context.catalogue.local_jurisdiction.id),
            actor,
        )
        return Sanction.of(row)

    @strawberry.mutation(description="Lift a sanction (REPAIRED or REVOKED) from effectiveAt on.")
    async def lift_sanction(self, info: Info, input: LiftInput) -> Sanction:
        actor = _actor(info, "liftSanction")
        row = await sanctions.lift(
            info.context.graph,
            info.context.catalogue,
            sanction_id=str(input.sanction_id),
            kind=LiftKind(input.kind).value,
            reason=input.reason,
            effective_at=aware(input.effective_at, field="input.effectiveAt")
            if input.effective_at
            else None,
            actor=actor,
        )
        return Sanction.of(row)

    @strawberry.mutation(
        description="Record an objection: the sanction applies, marked UNDER_OBJECTION."
    )
    async def file_objection(self, info: Info, sanction_id: strawberry.ID, reason: str) -> Sanction:
        actor = _actor(info, "fileObjection")
        row = await sanctions.file_objection(
            info.context.graph, sanction_id=str(sanction_id), reason=reason, actor=actor
        )
        return Sanction.of(row)

    @strawberry.mutation(
        description="Resolve a pending objection: upheld revokes the sanction now, "
        "not upheld restores it to ACTIVE."
    )
    async def resolve_objection(
        self,
        info: Info,
        sanction_id: strawberry.ID,
        upheld: bool,
        note: str | None = None,
    ) -> Sanction:
        actor = _actor(info, "resolveObjection")
        row = await sanctions.resolve_objection(
            info.context.graph, sanction_id=str(sanction_id), upheld=upheld, note=note, actor=actor
        )
        return Sanction.of(row)
