"""Identifier validation: USCC (GB 32100-2015) and resident ID (GB 11643-1999).

Identifiers are validated on the way in, never trusted. Both validators return the
normalised id (upper case) or raise `InvalidId` naming the field and the reason.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from operator import mul

from domain.errors import InvalidId

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_CHARSET)}
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_CHECK = "10X98765432"


class SubjectKind(StrEnum):
    ENTERPRISE = "ENTERPRISE"
    PUBLIC_INSTITUTION = "PUBLIC_INSTITUTION"
    INDIVIDUAL_BUSINESS = "INDIVIDUAL_BUSINESS"
    PERSON = "PERSON"


# Registration-authority + organisation-type codes (the first two characters).
ENTERPRISE_TYPE_CODES = frozenset({"91", "93"})  # enterprises, farmers' cooperatives
INDIVIDUAL_BUSINESS_TYPE_CODES = frozenset({"92"})
PUBLIC_INSTITUTION_TYPE_CODES = frozenset(
    {"11", "12", "13", "19", "51", "52", "53", "59", "31", "32", "33", "34", "39"}
)
TYPE_CODES_BY_KIND: dict[SubjectKind, frozenset[str]] = {
    SubjectKind.ENTERPRISE: ENTERPRISE_TYPE_CODES,
    SubjectKind.INDIVIDUAL_BUSINESS: INDIVIDUAL_BUSINESS_TYPE_CODES,
    SubjectKind.PUBLIC_INSTITUTION: PUBLIC_INSTITUTION_TYPE_CODES,
}


def uscc_check_char(first17: str) -> str:
    total = sum(map(mul, map(_USCC_VALUE.__getitem__, first17), USCC_WEIGHTS))
    check = 31 - total % 31
    return USCC_CHARSET[0 if check == 31 else check]


def resident_check_char(first17: str) -> str:
    # a third cheaper than a zip: batchCheck validates up to 1,000 ids per call
    total = sum(map(mul, map(int, first17), RESIDENT_WEIGHTS))
    return RESIDENT_CHECK[total % 11]


def validate_uscc(value: str, *, field: str = "id", kind: SubjectKind | None = None) -> str:
    code = value.strip().upper() if isinstance(value, str) else ""
    if len(code) != 18:
        raise InvalidId(f"{field}: a unified social credit code has 18 characters", field=field)
    bad = [c for c in code if c not in _USCC_VALUE]
    if bad:
        raise InvalidId(
            f"{field}: character {bad[0]!r} is not allowed in a unified social credit code",
            field=field,
        )
    if not code[2:8].isdigit():
        raise InvalidId(f"{field}: positions 3-8 must be a numeric area code", field=field)
    if uscc_check_char(code[:17]) != code[17]:
        raise InvalidId(f"{field}: check character of the credit code is wrong", field=field)
    if kind is not None and kind is not SubjectKind.PERSON:
        allowed = TYPE_CODES_BY_KIND[kind]
        if code[:2] not in allowed:
            raise InvalidId(
                f"{field}: type code {code[:2]} does not fit kind {kind.value} "
                f"(expected one of {', '.join(sorted(allowed))})",
                field=field,
            )
    return code


def validate_resident_id(value: str, *, field: str = "id") -> str:
    rid = value.strip().upper() if isinstance(value, str) else ""
    if len(rid) != 18:
        raise InvalidId(f"{field}: a resident ID has 18 characters", field=field)
    if not rid[:17].isdigit() or not (rid[17].isdigit() or rid[17] == "X"):
        raise InvalidId(f"{field}: a resident ID is 17 digits and a digit or X", field=field)
    try:
        birth = dt.date(int(rid[6:10]), int(rid[10:12]), int(rid[12:14]))
    except ValueError:
        raise InvalidId(f"{field}: birth date {rid[6:14]} is not a date", field=field) from None
    if birth.year < 1900 or birth > dt.date.today():
        raise InvalidId(f"{field}: birth date {rid[6:14]} is out of range", field=field)
    if resident_check_char(rid[:17]) != rid[17]:
        raise InvalidId(f"{field}: check character of the resident ID is wrong", field=field)
    return rid


def validate_subject_id(value: str, kind: SubjectKind, *, field: str = "id") -> str:
    if kind is SubjectKind.PERSON:
        return validate_resident_id(value, field=field)
    return validate_uscc(value, field=field, kind=kind)


def validate_any_subject_id(value: str, *, field: str = "id") -> str:
    """A well-formed id of any kind: resident ID for 18 digits(+X), else USCC."""
    raw = value.strip().upper() if isinstance(value, str) else ""
    if len(raw) == 18 and raw[:17].isdigit() and (raw[17].isdigit() or raw[17] == "X"):
        try:
            return validate_resident_id(raw, field=field)
        except InvalidId:
            # an all-digit code may still be a valid USCC (e.g. type code 11/12)
            try:
                return validate_uscc(raw, field=field)
            except InvalidId:
                pass
            raise
    return validate_uscc(raw, field=field)


def kind_of_valid_id(value: str) -> SubjectKind | None:
    """The kind a valid id's type code implies, or None for a resident ID."""
    for kind, codes in TYPE_CODES_BY_KIND.items():
        if value[:2] in codes and not is_resident_id(value):
            return kind
    return None


def is_resident_id(value: str) -> bool:
    """Whether `value` is a valid resident ID (an all-digit USCC may look like one)."""
    try:
        validate_resident_id(value)
    except InvalidId:
        return False
    return True


def make_uscc(type_code: str, area_code: str, org_code8: str) -> str:
    """Build a valid USCC from its parts; org_code8 is 8 chars of the charset + its own check."""
    body = f"{type_code}{area_code}{org_code8}"
    if len(body) != 16:
        raise ValueError("type code (2) + area code (6) + organisation code (8) expected")
    # the organisation code's own check char (GB 11714) is simplified to a charset char
    org_check = USCC_CHARSET[sum(_USCC_VALUE[c] for c in org_code8) % 10]
    first17 = body + org_check
    return first17 + uscc_check_char(first17)


def make_resident_id(area_code: str, birth: dt.date, sequence: int) -> str:
    first17 = f"{area_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + resident_check_char(first17)


def mask_resident_id(value: str) -> str:
    """First 6 and last 4 characters kept, the 8 between as '*'."""
    if len(value) != 18:
        return "*" * len(value)
    return value[:6] + "*" * 8 + value[-4:]
