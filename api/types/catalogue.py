"""The catalogue as GraphQL: departments, jurisdictions, list types, measures."""

from __future__ import annotations

import strawberry

from api.auth import Capability
from api.context import Info
from api.types.enums import ApplicationArea, Effect, ListKind
from domain.errors import BadUserInput
from rules import models


@strawberry.type
class Department:
    id: strawberry.ID
    name: str

    @classmethod
    def of(cls, department: models.Department) -> Department:
        return cls(id=strawberry.ID(department.id), name=department.name)


@strawberry.type
class Jurisdiction:
    id: strawberry.ID
    name: str
    local: bool
    recognized_list_types: list[strawberry.ID]

    @classmethod
    def of(cls, jurisdiction: models.Jurisdiction) -> Jurisdiction:
        return cls(
            id=strawberry.ID(jurisdiction.id),
            name=jurisdiction.name,
            local=jurisdiction.local,
            recognized_list_types=[strawberry.ID(x) for x in jurisdiction.recognized_list_types],
        )


@strawberry.type
class Measure:
    id: strawberry.ID
    name: str
    area: ApplicationArea
    effect: Effect
    roles: list[str]
    legal_basis: str
    list_type_id: strawberry.ID
    description: str
    implementer_ids: strawberry.Private[tuple[str, ...]]

    @strawberry.field
    def implementers(self, info: Info) -> list[Department]:
        return [department_of(info, i) for i in self.implementer_ids]

    @classmethod
    def of(cls, measure: models.Measure) -> Measure:
        return cls(
            id=strawberry.ID(measure.id),
            name=measure.name,
            area=ApplicationArea(measure.area),
            effect=Effect(measure.effect),
            roles=list(measure.roles),
            legal_basis=measure.legal_basis,
            list_type_id=strawberry.ID(measure.list_type),
            description=measure.description,
            implementer_ids=tuple(measure.implementers),
        )


@strawberry.type
class ListType:
    id: strawberry.ID
    name: str
    kind: ListKind
    default_duration_days: int | None
    min_repair_days: int | None
    published: bool
    legal_basis: str
    issuer_ids: strawberry.Private[tuple[str, ...]]

    @strawberry.field
    def issuers(self, info: Info) -> list[Department]:
        return [department_of(info, i) for i in self.issuer_ids]

    @strawberry.field
    def measures(self, info: Info) -> list[Measure]:
        return [Measure.of(m) for m in info.context.catalogue.measures_for(list_type=str(self.id))]

    @classmethod
    def of(cls, list_type: models.ListType) -> ListType:
        return cls(
            id=strawberry.ID(list_type.id),
            name=list_type.name,
            kind=ListKind(list_type.kind),
            default_duration_days=list_type.default_duration_days,
            min_repair_days=list_type.min_repair_days,
            published=list_type.published,
            legal_basis=list_type.legal_basis,
            issuer_ids=tuple(list_type.issuers),
        )


def list_type_of(info: Info, list_type_id: str) -> ListType:
    return ListType.of(info.context.catalogue.list_types[list_type_id])


def department_of(info: Info, department_id: str) -> Department:
    department = info.context.catalogue.departments.get(department_id)
    if department is None:
        # a department removed from the catalogue after it issued: still name it
        return Department(id=strawberry.ID(department_id), name=department_id)
    return Department.of(department)


@strawberry.type
class CatalogueQuery:
    @strawberry.field(description="The departments of the catalogue: issuers and implementers.")
    def departments(self, info: Info) -> list[Department]:
        info.context.require(Capability.CATALOGUE, "departments")
        return [Department.of(d) for d in info.context.catalogue.departments.values()]

    @strawberry.field(description="This city and the partner cities whose lists it recognises.")
    def jurisdictions(self, info: Info) -> list[Jurisdiction]:
        info.context.require(Capability.CATALOGUE, "jurisdictions")
        return [Jurisdiction.of(j) for j in info.context.catalogue.jurisdictions.values()]

    @strawberry.field(description="Black, red and watch list types with their measures.")
    def list_types(self, info: Info) -> list[ListType]:
        info.context.require(Capability.CATALOGUE, "listTypes")
        return [ListType.of(lt) for lt in info.context.catalogue.list_types.values()]

    @strawberry.field(description="Measures, optionally of one area and/or one list type.")
    def measures(
        self,
        info: Info,
        area: ApplicationArea | None = None,
        list_type: strawberry.ID | None = None,
    ) -> list[Measure]:
        info.context.require(Capability.CATALOGUE, "measures")
        catalogue = info.context.catalogue
        if list_type is not None and str(list_type) not in catalogue.list_types:
            raise BadUserInput(
                f"listType: unknown list type {str(list_type)[:60]!r}", field="listType"
            )
        found = catalogue.measures_for(
            list_type=str(list_type) if list_type is not None else None,
            area=area.value if area is not None else None,
        )
        return [Measure.of(m) for m in found]
