"""The strawberry schema: the concerns' roots merged, limits and caches on."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from api.documents import DocumentCache, document_gate
from api.errors import normalise
from api.limits import QueryLimits
from api.settings import Settings
from api.types.audit import AuditQuery
from api.types.catalogue import CatalogueQuery
from api.types.checks import CheckMutation, CheckQuery
from api.types.evaluation import EvaluationMutation, EvaluationQuery
from api.types.events import EventSubscription
from api.types.exchange import ExchangeQuery, ExchangeStatusQuery
from api.types.risk import RiskQuery
from api.types.sanctions import SanctionMutation, SanctionQuery, home_jurisdiction_default
from api.types.subjects import SUBJECT_TYPES, RegistryMutation, RegistryQuery

QUERY_ROOTS: tuple[type, ...] = (
    CatalogueQuery,
    RegistryQuery,
    CheckQuery,
    SanctionQuery,
    EvaluationQuery,
    RiskQuery,
    AuditQuery,
    ExchangeQuery,
    ExchangeStatusQuery,
)
MUTATION_ROOTS: tuple[type, ...] = (
    RegistryMutation,
    SanctionMutation,
    CheckMutation,
    EvaluationMutation,
)
SUBSCRIPTION_ROOTS: tuple[type, ...] = (EventSubscription,)


class CreditLinkSchema(strawberry.Schema):
    documents: DocumentCache

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # logging of unexpected errors happens once, in api.errors.classify
        normalise(errors)


def build_schema(settings: Settings | None = None) -> CreditLinkSchema:
    settings = settings or Settings()
    query = merge_types("Query", QUERY_ROOTS)
    mutation = merge_types("Mutation", MUTATION_ROOTS)
    subscription: Any = (
        merge_types("Subscription", SUBSCRIPTION_ROOTS) if SUBSCRIPTION_ROOTS else None
    )
    documents = DocumentCache(
        QueryLimits.of(settings),
        max_tokens=settings.max_tokens,
        introspection=settings.introspection,
    )
    schema = CreditLinkSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        types=list(SUBJECT_TYPES),
        extensions=[document_gate(documents)],
    )
    home_jurisdiction_default(schema, settings.jurisdiction)
    schema.documents = documents
    return schema


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
