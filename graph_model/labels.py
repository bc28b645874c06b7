"""Labels, relationship types and property names: the only place they are spelled.

Cypher builders interpolate labels and types only from these enums, never from input.
"""

from __future__ import annotations

from enum import StrEnum

from graph_model.identifiers import SubjectKind


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
