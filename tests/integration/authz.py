"""The roles matrix's shared parts: who may call each root field, the calls built from the
schema's types, and a small world to call them on.

Used by the authorisation matrix (test_authz_matrix.py), the compiled-plan comparison and
the page-size limits, so a field another engineer adds is covered by all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    Undefined,
    get_named_type,
)

from api.auth import Role
from api.schema import build_schema
from tests.conftest import TEST_KEYS, ApiServer
from tests.integration.helpers import enterprise_id, person_id, register

SCHEMA: GraphQLSchema = build_schema()._schema

# -- the matrix's columns: every role, and a key nobody issued -------------------------------

PUBLIC, APPROVAL, ISSUER, REGULATOR, ADMIN, PARTNER = (
    Role.PUBLIC,
    Role.APPROVAL_SYSTEM,
    Role.ISSUER,
    Role.REGULATOR,
    Role.ADMIN,
    Role.PARTNER,
)
CALLERS: dict[str, str | None] = {
    "no key": None,
    "public-key": "public-key",
    "approval-key": "approval-key",
    "court-key": "court-key",
    "regulator-key": "regulator-key",
    "admin-key": "admin-key",
    "partner-key": "partner-key",
}


def role_of(key: str | None) -> Role | None:
    """The key's role; PUBLIC without a key, None for a key nobody issued."""
    if key is None:
        return Role.PUBLIC
    return Role(TEST_KEYS[key][0]) if key in TEST_KEYS else None


# a partner platform's key reads the sanction feed and nothing else, the public catalogue
# included (contract, Part two)
ALL = frozenset(Role) - {PARTNER}
KEYED = frozenset({APPROVAL, ISSUER, REGULATOR, ADMIN})  # READ_SUBJECT and CHECK
REGULATORS = frozenset({REGULATOR, ADMIN})
ISSUERS = frozenset({ISSUER, ADMIN})

# The roles that may call each root field (contract "Authentication and roles", api/auth.py).
# A field missing here fails the suite: decide who may call it before it ships.
EXPECTED: dict[str, frozenset[Role]] = {
    # Query: catalogue (PUBLIC)
    "departments": ALL,
    "jurisdictions": ALL,
    "listTypes": ALL,
    "measures": ALL,
    # Query: approval systems and up
    "subject": KEYED,
    "sanction": KEYED,
    "jointSanctionCheck": KEYED,
    "batchCheck": KEYED,
    # Query: regulators
    "linkageStats": REGULATORS,
    "sanctionImpact": REGULATORS,
    "sanctionImpactPreview": REGULATORS,
    # Query: regulators, publication and supervision (contract core names; risk/evaluation)
    # evaluation (api/types/evaluation.py): publication is public (a person's summary needs
    # a key: refused per argument, see test_public_sees_no_personal_identifier_unmasked);
    # integrity scores are READ_SUBJECT (approval systems unlock benefits with them);
    # ratings REGULATE; inspection draws SUPERVISE
    "publishedList": ALL,
    "publicCreditSummary": ALL,
    "integrityScore": KEYED,
    "integrityBenefits": KEYED,
    "creditRating": REGULATORS,
    "creditRatingHistory": REGULATORS,
    "inspectionDraw": REGULATORS,
    "replayInspectionDraw": REGULATORS,
    # related-party risk (api/types/risk.py): REGULATE
    "relatedParties": REGULATORS,
    "ultimateBeneficialOwners": REGULATORS,
    "actualController": REGULATORS,
    "suspectedLinks": REGULATORS,
    "riskProfile": REGULATORS,
    "riskClusters": REGULATORS,
    "exportNeighbourhood": REGULATORS,
    "searchSubjects": REGULATORS,
    # the access records of personal-data reads (api/types/audit.py): REGULATE
    "accessRecords": REGULATORS,
    # Mutation: registry (ADMIN only)
    "registerSubject": frozenset({ADMIN}),
    "registerHousehold": frozenset({ADMIN}),
    "linkSubjects": frozenset({ADMIN}),
    "endLink": frozenset({ADMIN}),
    # Mutation: sanctions (issuers for their own departments, and ADMIN)
    "imposeSanction": ISSUERS,
    "liftSanction": ISSUERS,
    "fileObjection": ISSUERS,
    "resolveObjection": ISSUERS,
    # Mutation: checks' feedback
    "recordFeedback": frozenset({APPROVAL, ISSUER, ADMIN}),
    # Mutation: supervision
    "drawInspections": REGULATORS,
    # exchange between platforms (api/types/exchange.py)
    "sanctionFeed": frozenset({PARTNER, REGULATOR, ADMIN}),
    "exchangeStatus": REGULATORS,
    # Subscription
    "sanctionEvents": KEYED,
}


def root_fields(kind: str) -> list[str]:
    root = {
        "Query": SCHEMA.query_type,
        "Mutation": SCHEMA.mutation_type,
        "Subscription": SCHEMA.subscription_type,
    }[kind]
    return sorted(root.fields) if root is not None else []


# -- arguments and selections built from the schema ------------------------------------------

DATE, DATETIME = "2025-01-10", "2025-06-01T10:00:00+08:00"


def _literal(type_: GraphQLInputType, name: str, hints: dict[str, str]) -> str:
    if isinstance(type_, GraphQLNonNull):
        return _literal(type_.of_type, name, hints)
    if isinstance(type_, GraphQLList):
        return f"[{_literal(type_.of_type, name, hints)}]"
    if isinstance(type_, GraphQLEnumType):
        values = list(type_.values)
        return hints[name] if hints.get(name) in values else values[0]
    if isinstance(type_, GraphQLInputObjectType):
        parts = [
            f"{field_name}: {_literal(field.type, field_name, hints)}"
            for field_name, field in type_.fields.items()
            if _required(field) or field_name in hints
        ]
        return "{" + ", ".join(parts) + "}"
    assert isinstance(type_, GraphQLScalarType)
    scalar = type_.name
    if scalar in {"ID", "String"}:
        return f'"{hints.get(name) or (enterprise_id() if scalar == "ID" else "测试")}"'
    return {
        "Int": "1",
        "Float": "0.5",
        "Boolean": "true",
        "Date": f'"{DATE}"',
        "DateTime": f'"{DATETIME}"',
    }.get(scalar, '"x"')


def _required(arg: GraphQLArgument | GraphQLInputField) -> bool:
    return isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined


def minimal_arguments(
    args: dict[str, GraphQLArgument],
    *,
    skip: set[str] | frozenset[str] = frozenset(),
    hints: dict[str, str] | None = None,
) -> str:
    """`name: value, …` for the required arguments (and hinted ones) of a field."""
    given = hints or {}
    return ", ".join(
        f"{name}: {_literal(arg.type, name, given)}"
        for name, arg in args.items()
        if name not in skip and (_required(arg) or name in given)
    )


def full_selection(type_: GraphQLOutputType, depth: int = 3) -> str:
    """Every field without required arguments, to `depth` levels; "" for leaves."""
    named = get_named_type(type_)
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return ""
    if isinstance(named, GraphQLUnionType):
        members = " ".join(f"... on {m.name} {full_selection(m, depth)}" for m in named.types)
        return f"{{ __typename {members} }}"
    assert isinstance(named, GraphQLObjectType | GraphQLInterfaceType)
    parts = ["__typename"]
    for name, field in named.fields.items():
        if any(_required(a) for a in field.args.values()):
            continue
        inner = get_named_type(field.type)
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            parts.append(name)
        elif depth > 1:
            parts.append(f"{name} {full_selection(field.type, depth - 1)}")
    if isinstance(named, GraphQLInterfaceType):
        for impl in SCHEMA.get_implementations(named).objects:
            own = [
                n
                for n, f in impl.fields.items()
                if n not in named.fields
                and isinstance(get_named_type(f.type), GraphQLScalarType | GraphQLEnumType)
                and not any(_required(a) for a in f.args.values())
            ]
            if own:
                parts.append(f"... on {impl.name} {{ {' '.join(own)} }}")
    return "{ " + " ".join(parts) + " }"


def generic_call(kind: str, name: str, hints: dict[str, str], depth: int = 1) -> str:
    root = SCHEMA.mutation_type if kind == "Mutation" else SCHEMA.query_type
    assert root is not None
    field = root.fields[name]
    args = minimal_arguments(field.args, hints=hints)
    call = f"{name}({args})" if args else name
    selection = full_selection(field.type, depth) if depth > 1 else shallow_selection(field.type)
    operation = "mutation" if kind == "Mutation" else "query"
    return f"{operation} {{ {call} {selection} }}"


def shallow_selection(type_: GraphQLOutputType) -> str:
    named = get_named_type(type_)
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return ""
    return "{ __typename }"


# -- a small world, and one call per field that succeeds for the roles allowed ---------------


@dataclass
class World:
    company: str
    person: str
    person_name: str
    spouse: str
    spouse_name: str
    sanction: str
    person_sanction: str
    household: str

    @property
    def persons(self) -> dict[str, str]:
        return {self.person: self.person_name, self.spouse: self.spouse_name}

    def hints(self) -> dict[str, str]:
        return {
            "subjectId": self.company,
            "enterpriseId": self.company,
            "personId": self.person,
            "sanctionId": self.sanction,
            "listType": "DISHONEST_JUDGMENT_DEBTOR",
            "issuerId": "wz-intermediate-court",
            "query": "鞋业",
            "kind": "BLACK",
            "area": "SOCIAL_GOVERNANCE",
            "inspectorPool": self.person,
            "district": "330302",
        }


IMPOSE = "mutation($input: SanctionInput!) { imposeSanction(input: $input) { id } }"
_documents = iter(range(1, 10**9))


def document_no() -> str:
    """A document number no other sanction of the session carries."""
    return f"(2025)浙03执{next(_documents)}号"


def impose_on(api: ApiServer, subject: str, key: str = "court-key") -> str:
    body = api.post(
        IMPOSE,
        {
            "input": {
                "listType": "DISHONEST_JUDGMENT_DEBTOR",
                "subjectId": subject,
                "issuerId": "wz-intermediate-court",
                "decidedOn": DATE,
                "documentNo": document_no(),
                "reason": "拒不履行",
            }
        },
        key=key,
    )
    assert "errors" not in body, body
    return str(body["data"]["imposeSanction"]["id"])


def build_world(api: ApiServer) -> World:
    company, person, spouse = enterprise_id(), person_id(), person_id()
    register(api, company, "ENTERPRISE", "温州市鹿城区瓯江鞋业有限公司")
    register(api, person, "PERSON", "陈建国")
    register(api, spouse, "PERSON", "王丽芳")
    link = """mutation($input: LinkInput!) { linkSubjects(input: $input) { id } }"""
    for payload in (
        {
            "from": person,
            "to": company,
            "relation": "LEGAL_REPRESENTATIVE_OF",
            "validFrom": "2018-01-01",
        },
        {
            "from": spouse,
            "to": company,
            "relation": "EXECUTIVE_OF",
            "validFrom": "2018-01-01",
            "role": "CHAIR",
        },
    ):
        assert "errors" not in api.post(link, {"input": payload}, key="admin-key")
    household = "3303021999001"
    api.post(
        'mutation { registerHousehold(input: {id: "3303021999001", district: "330302"}) { id } }',
        key="admin-key",
    )
    return World(
        company=company,
        person=person,
        person_name="陈建国",
        spouse=spouse,
        spouse_name="王丽芳",
        sanction=impose_on(api, company),
        person_sanction=impose_on(api, person),
        household=household,
    )
