"""The contract's enums, bound to the domain's own enums so values never drift."""

from __future__ import annotations

from enum import StrEnum

import strawberry

from graph_model.identifiers import SubjectKind
from graph_model.labels import Rel as RelationType

# The domain's own enums, registered with strawberry under the contract's names.
strawberry.enum(SubjectKind, name="SubjectKind")
strawberry.enum(RelationType, name="RelationType")

__all__ = ["RelationType", "SubjectKind"]


@strawberry.enum
class ApplicationArea(StrEnum):
    ADMINISTRATIVE_APPROVAL = "ADMINISTRATIVE_APPROVAL"
    LAW_ENFORCEMENT_SUPERVISION = "LAW_ENFORCEMENT_SUPERVISION"
    CONVENIENCE_SERVICES = "CONVENIENCE_SERVICES"
    PUBLIC_RESOURCE_TRANSACTIONS = "PUBLIC_RESOURCE_TRANSACTIONS"
    FINANCING_SERVICES = "FINANCING_SERVICES"
    RISK_PREVENTION_CONTROL = "RISK_PREVENTION_CONTROL"
    INDUSTRY_SUPERVISION = "INDUSTRY_SUPERVISION"
    SOCIAL_GOVERNANCE = "SOCIAL_GOVERNANCE"
    OTHER_GOVERNMENT_AFFAIRS = "OTHER_GOVERNMENT_AFFAIRS"
    GOVERNMENT_SELF_CONSTRUCTION = "GOVERNMENT_SELF_CONSTRUCTION"


@strawberry.enum
class ListKind(StrEnum):
    BLACK = "BLACK"
    RED = "RED"
    WATCH = "WATCH"


@strawberry.enum
class Effect(StrEnum):
    PROHIBIT = "PROHIBIT"
    RESTRICT = "RESTRICT"
    STRICT_REVIEW = "STRICT_REVIEW"
    ALERT = "ALERT"
    INCENTIVE = "INCENTIVE"


@strawberry.enum
class Decision(StrEnum):
    PROHIBITED = "PROHIBITED"
    RESTRICTED = "RESTRICTED"
    STRICT_REVIEW = "STRICT_REVIEW"
    ALERT = "ALERT"
    INCENTIVE = "INCENTIVE"
    CLEAR = "CLEAR"


@strawberry.enum
class SanctionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    UNDER_OBJECTION = "UNDER_OBJECTION"
    REPAIRED = "REPAIRED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


@strawberry.enum
class LiftKind(StrEnum):
    REPAIRED = "REPAIRED"
    REVOKED = "REVOKED"


@strawberry.enum
class FeedbackOutcome(StrEnum):
    APPLIED = "APPLIED"
    NOT_APPLIED = "NOT_APPLIED"
    PARTIALLY_APPLIED = "PARTIALLY_APPLIED"
