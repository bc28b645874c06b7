"""The domain's vocabulary: graph labels, relation types and roles, and the contract's
enums (areas, list kinds, effects, decisions, sanction states, feedback outcomes).

Each is spelled here once. Cypher builders interpolate labels and types only from these
enums, never from input; the API registers the contract's enums with strawberry under
their schema names (`api.types.enums`), so a value cannot drift between the layers.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from domain.identifiers import SubjectKind


class Label(StrEnum):
    SUBJECT = "Subject"
    ENTERPRISE = "Enterprise"
    PUBLIC_INSTITUTION = "PublicInstitution"
    INDIVIDUAL_BUSINESS = "IndividualBusiness"
    PERSON = "Person"
    HOUSEHOLD = "Household"
    SANCTION = "Sanction"
    DEPARTMENT = "Department"
    CHECK_RECORD = "CheckRecord"
    CHECK_BATCH = "CheckBatch"
    FEEDBACK = "Feedback"
    MIGRATION = "Migration"
    INSPECTION_DRAW = "InspectionDraw"
    CONTACT = "Contact"
    ACCESS_RECORD = "AccessRecord"
    CONTACT_KEY = "ContactKey"  # the key contact hashes are keyed with (contact_key.py)
    EVENT_LOG = "EventLog"  # the sanction event log's counter (graph_model.event_log)
    SANCTION_EVENT = "SanctionEvent"  # one committed change of a sanction, in that log
    EXCHANGE_SOURCE = "ExchangeSource"  # a partner or list source: its cursor and counts
    EXCHANGE_REJECTION = "ExchangeRejection"  # an event from a source kept aside, and why


KIND_LABEL: dict[SubjectKind, Label] = {
    SubjectKind.ENTERPRISE: Label.ENTERPRISE,
    SubjectKind.PUBLIC_INSTITUTION: Label.PUBLIC_INSTITUTION,
    SubjectKind.INDIVIDUAL_BUSINESS: Label.INDIVIDUAL_BUSINESS,
    SubjectKind.PERSON: Label.PERSON,
}
UNIT_KINDS = frozenset(
    {SubjectKind.ENTERPRISE, SubjectKind.PUBLIC_INSTITUTION, SubjectKind.INDIVIDUAL_BUSINESS}
)


class Rel(StrEnum):
    """Relationships between subjects (and households); each carries validFrom/validTo."""

    LEGAL_REPRESENTATIVE_OF = "LEGAL_REPRESENTATIVE_OF"
    SHAREHOLDER_OF = "SHAREHOLDER_OF"
    EXECUTIVE_OF = "EXECUTIVE_OF"
    OPERATOR_OF = "OPERATOR_OF"
    MEMBER_OF = "MEMBER_OF"
    BRANCH_OF = "BRANCH_OF"
    ACTUAL_CONTROLLER_OF = "ACTUAL_CONTROLLER_OF"


class SystemRel(StrEnum):
    """Relationships the system itself writes (sanctions, the closed loop)."""

    ISSUED = "ISSUED"
    AGAINST = "AGAINST"
    RESPONSIBLE_PERSON = "RESPONSIBLE_PERSON"
    ABOUT = "ABOUT"
    ASKED_BY = "ASKED_BY"
    ON_CHECK = "ON_CHECK"
    HAS_CONTACT = "HAS_CONTACT"


class ExecutiveRole(StrEnum):
    CHAIR = "CHAIR"
    DIRECTOR = "DIRECTOR"
    SUPERVISOR = "SUPERVISOR"
    GENERAL_MANAGER = "GENERAL_MANAGER"
    PRINCIPAL = "PRINCIPAL"
    OTHER = "OTHER"


class HouseholdRole(StrEnum):
    HEAD = "HEAD"
    SPOUSE = "SPOUSE"
    CHILD = "CHILD"
    PARENT = "PARENT"
    OTHER = "OTHER"


# Which kinds each relation may join: (allowed source kinds, allowed target kinds).
# None as a target means a Household.
RELATION_ENDS: dict[Rel, tuple[frozenset[SubjectKind], frozenset[SubjectKind] | None]] = {
    Rel.LEGAL_REPRESENTATIVE_OF: (frozenset({SubjectKind.PERSON}), UNIT_KINDS),
    Rel.SHAREHOLDER_OF: (
        frozenset({SubjectKind.PERSON}) | UNIT_KINDS,
        frozenset({SubjectKind.ENTERPRISE}),
    ),
    Rel.EXECUTIVE_OF: (frozenset({SubjectKind.PERSON}), UNIT_KINDS),
    Rel.OPERATOR_OF: (
        frozenset({SubjectKind.PERSON}),
        frozenset({SubjectKind.INDIVIDUAL_BUSINESS}),
    ),
    Rel.MEMBER_OF: (frozenset({SubjectKind.PERSON}), None),
    Rel.BRANCH_OF: (UNIT_KINDS, UNIT_KINDS),
    Rel.ACTUAL_CONTROLLER_OF: (frozenset({SubjectKind.PERSON}) | UNIT_KINDS, UNIT_KINDS),
}
ROLE_VALUES: dict[Rel, frozenset[str]] = {
    Rel.EXECUTIVE_OF: frozenset(r.value for r in ExecutiveRole),
    Rel.MEMBER_OF: frozenset(r.value for r in HouseholdRole),
}


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


class ListKind(StrEnum):
    BLACK = "BLACK"
    RED = "RED"
    WATCH = "WATCH"


# Punitive list kinds: a subject with one of these applying is "sanctioned".
PUNITIVE_KINDS: tuple[str, ...] = (ListKind.BLACK.value, ListKind.WATCH.value)


class Effect(StrEnum):
    """What a measure does. Punitive effects are ordered; INCENTIVE stands apart."""

    PROHIBIT = "PROHIBIT"
    RESTRICT = "RESTRICT"
    STRICT_REVIEW = "STRICT_REVIEW"
    ALERT = "ALERT"
    INCENTIVE = "INCENTIVE"

    @property
    def punitive(self) -> bool:
        return self is not Effect.INCENTIVE

    @property
    def strength(self) -> int:
        """Higher is stronger; INCENTIVE is 0 so any punitive effect outranks it."""
        return _STRENGTH[self]


PUNITIVE_EFFECTS: tuple[Effect, ...] = (
    Effect.PROHIBIT,
    Effect.RESTRICT,
    Effect.STRICT_REVIEW,
    Effect.ALERT,
)
_STRENGTH: dict[Effect, int] = {
    effect: len(PUNITIVE_EFFECTS) - i for i, effect in enumerate(PUNITIVE_EFFECTS)
} | {Effect.INCENTIVE: 0}


def strongest(effects: Iterable[Effect]) -> Effect | None:
    """The strongest punitive effect among `effects`, or None when there is none."""
    punitive = [e for e in effects if e.punitive]
    return max(punitive, key=lambda e: e.strength) if punitive else None


class Decision(StrEnum):
    PROHIBITED = "PROHIBITED"
    RESTRICTED = "RESTRICTED"
    STRICT_REVIEW = "STRICT_REVIEW"
    ALERT = "ALERT"
    INCENTIVE = "INCENTIVE"
    CLEAR = "CLEAR"


class SanctionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    UNDER_OBJECTION = "UNDER_OBJECTION"
    REPAIRED = "REPAIRED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


class LiftKind(StrEnum):
    REPAIRED = "REPAIRED"
    REVOKED = "REVOKED"


class FeedbackOutcome(StrEnum):
    APPLIED = "APPLIED"
    NOT_APPLIED = "NOT_APPLIED"
    PARTIALLY_APPLIED = "PARTIALLY_APPLIED"
