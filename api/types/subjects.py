"""Subjects, households and links: the registry part of the contract."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from api.auth import Capability
from api.context import Info
from api.types.enums import RelationType, SubjectKind
from domain.identifiers import SubjectKind as DomainKind
from domain.identifiers import validate_any_subject_id, validate_subject_id
from domain.time import aware
from domain.vocabulary import Rel
from graph_model import registry

if TYPE_CHECKING:
    from api.types.sanctions import Sanction

SanctionRef = Annotated["Sanction", strawberry.lazy("api.types.sanctions")]


@strawberry.interface
class Subject:
    id: strawberry.ID
    kind: SubjectKind
    name: str
    district: str | None

    @strawberry.field(
        description="All sanctions against this subject, or those applying at activeAt."
    )
    async def sanctions(
        self, info: Info, active_at: dt.datetime | None = None
    ) -> list[SanctionRef]:
        from api.types.sanctions import sanctions_of_subject

        return await sanctions_of_subject(
            info, str(self.id), aware(active_at, field="activeAt") if active_at else None
        )


@strawberry.type
class Enterprise(Subject):
    industry: str | None
    registered_capital: float | None
    established_on: dt.date | None
    status: str | None


@strawberry.type
class PublicInstitution(Subject):
    industry: str | None
    status: str | None


@strawberry.type
class IndividualBusiness(Subject):
    industry: str | None
    established_on: dt.date | None
    status: str | None


@strawberry.type
class Person(Subject):
    birth_date: dt.date | None


def subject_from_row(row: dict[str, Any]) -> Subject:
    kind = DomainKind(row["kind"])
    common: dict[str, Any] = {
        "id": strawberry.ID(row["id"]),
        "kind": kind,
        "name": row.get("name") or "",
        "district": row.get("district"),
    }
    if kind is DomainKind.ENTERPRISE:
        return Enterprise(
            **common,
            industry=row.get("industry"),
            registered_capital=row.get("registeredCapital"),
            established_on=row.get("establishedOn"),
            status=row.get("status"),
        )
    if kind is DomainKind.PUBLIC_INSTITUTION:
        return PublicInstitution(**common, industry=row.get("industry"), status=row.get("status"))
    if kind is DomainKind.INDIVIDUAL_BUSINESS:
        return IndividualBusiness(
            **common,
            industry=row.get("industry"),
            established_on=row.get("establishedOn"),
            status=row.get("status"),
        )
    return Person(**common, birth_date=row.get("birthDate"))


SUBJECT_TYPES = (Enterprise, PublicInstitution, IndividualBusiness, Person)


@strawberry.type
class Household:
    id: strawberry.ID
    district: str | None
    address: str | None


@strawberry.type
class Link:
    id: strawberry.ID
    from_: strawberry.ID = strawberry.field(name="from")
    to: strawberry.ID
    relation: RelationType
    ratio: float | None
    role: str | None
    valid_from: dt.date
    valid_to: dt.date | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> Link:
        return cls(
            id=strawberry.ID(row["id"]),
            from_=strawberry.ID(row["from"]),
            to=strawberry.ID(row["to"]),
            relation=Rel(row["relation"]),
            ratio=row.get("ratio"),
            role=row.get("role"),
            valid_from=row["validFrom"],
            valid_to=row.get("validTo"),
        )


@strawberry.input
class SubjectInput:
    id: strawberry.ID
    kind: SubjectKind
    name: str
    district: str | None = None
    industry: str | None = None


@strawberry.input
class HouseholdInput:
    id: strawberry.ID
    district: str | None = None
    address: str | None = None


@strawberry.input
class LinkInput:
    from_: strawberry.ID = strawberry.field(name="from")
    to: strawberry.ID
    relation: RelationType
    ratio: float | None = None
    role: str | None = None
    valid_from: dt.date
    valid_to: dt.date | None = None


@strawberry.type
class RegistryQuery:
    @strawberry.field(description="A subject by USCC or resident ID; null when not registered.")
    async def subject(self, info: Info, id: strawberry.ID) -> Subject | None:
        info.context.require(Capability.READ_SUBJECT, "subject")
        subject_id = validate_any_subject_id(str(id), field="id")
        info.context.audit("subject", [subject_id])
        row = await info.context.subject_loader().load(subject_id)
        return subject_from_row(row) if row else None


@strawberry.type
class RegistryMutation:
    @strawberry.mutation(description="Register a subject, or update one already registered.")
    async def register_subject(self, info: Info, input: SubjectInput) -> Subject:
        info.context.require(Capability.REGISTER, "registerSubject")
        row = await registry.register_subject(
            info.context.graph,
            subject_id=str(input.id),
            kind=DomainKind(input.kind),
            name=input.name,
            district=input.district,
            industry=input.industry,
        )
        return subject_from_row(row)

    @strawberry.mutation(description="Register a household (户), or update one.")
    async def register_household(self, info: Info, input: HouseholdInput) -> Household:
        info.context.require(Capability.REGISTER, "registerHousehold")
        row = await registry.register_household(
            info.context.graph,
            household_id=str(input.id),
            district=input.district,
            address=input.address,
        )
        return Household(
            id=strawberry.ID(row["id"]), district=row["district"], address=row["address"]
        )

    @strawberry.mutation(description="Link two subjects (or a person to a household) for a period.")
    async def link_subjects(self, info: Info, input: LinkInput) -> Link:
        info.context.require(Capability.REGISTER, "linkSubjects")
        relation = Rel(input.relation)
        source = validate_any_subject_id(str(input.from_), field="input.from")
        if relation is Rel.MEMBER_OF:
            source = validate_subject_id(str(input.from_), DomainKind.PERSON, field="input.from")
            target = str(input.to).strip()
        else:
            target = validate_any_subject_id(str(input.to), field="input.to")
        row = await registry.link_subjects(
            info.context.graph,
            registry.LinkSpec(
                source_id=source,
                target_id=target,
                relation=relation,
                valid_from=input.valid_from,
                valid_to=input.valid_to,
                ratio=input.ratio,
                role=input.role,
                source=f"api:{info.context.principal.name}",
            ),
        )
        return Link.of(row)

    @strawberry.mutation(description="End a link on validTo (the link is valid before that day).")
    async def end_link(self, info: Info, id: strawberry.ID, valid_to: dt.date) -> Link:
        info.context.require(Capability.REGISTER, "endLink")
        return Link.of(await registry.end_link(info.context.graph, str(id), valid_to))
