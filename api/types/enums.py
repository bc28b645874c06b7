"""The contract's enums: the domain's own enums, registered with strawberry under the
schema's names, so a value is declared once and cannot drift between the layers."""

from __future__ import annotations

import strawberry

from domain.identifiers import SubjectKind
from domain.vocabulary import (
    ApplicationArea,
    Decision,
    Effect,
    FeedbackOutcome,
    LiftKind,
    ListKind,
    SanctionStatus,
)
from domain.vocabulary import Rel as RelationType

strawberry.enum(SubjectKind, name="SubjectKind")
strawberry.enum(RelationType, name="RelationType")
strawberry.enum(ApplicationArea, name="ApplicationArea")
strawberry.enum(ListKind, name="ListKind")
strawberry.enum(Effect, name="Effect")
strawberry.enum(Decision, name="Decision")
strawberry.enum(SanctionStatus, name="SanctionStatus")
strawberry.enum(LiftKind, name="LiftKind")
strawberry.enum(FeedbackOutcome, name="FeedbackOutcome")

__all__ = [
    "ApplicationArea",
    "Decision",
    "Effect",
    "FeedbackOutcome",
    "LiftKind",
    "ListKind",
    "RelationType",
    "SanctionStatus",
    "SubjectKind",
]
