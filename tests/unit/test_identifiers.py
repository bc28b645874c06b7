"""USCC (GB 32100-2015) and resident ID (GB 11643-1999) validation."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidId
from domain.identifiers import (
    RESIDENT_CHECK,
    USCC_CHARSET,
    SubjectKind,
    make_resident_id,
    make_uscc,
    mask_resident_id,
    validate_any_subject_id,
    validate_resident_id,
    validate_subject_id,
    validate_uscc,
)

DISTRICT_CODES = ["330302", "330303", "330304", "330305", "330324", "330326", "330381"]

usccs = st.builds(
    make_uscc,
    st.sampled_from(["91", "92", "93", "11", "12", "52"]),
    st.sampled_from(DISTRICT_CODES),
    st.text(alphabet=USCC_CHARSET, min_size=8, max_size=8),
)
resident_ids = st.builds(
    make_resident_id,
    st.sampled_from(DISTRICT_CODES),
    st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(2020, 12, 31)),
    st.integers(min_value=0, max_value=999),
)


def test_known_valid_codes() -> None:
    assert validate_resident_id("11010519491231002X") == "11010519491231002X"
    for code in ("91350100M000100Y43", "91110000802100433B", "9144030071526726XG"):
        assert validate_uscc(code) == code


@given(usccs)
def test_generated_uscc_is_valid(code: str) -> None:
    assert validate_uscc(code) == code


@given(resident_ids)
def test_generated_resident_id_is_valid(rid: str) -> None:
    assert validate_resident_id(rid) == rid


@given(usccs, st.integers(min_value=0, max_value=17), st.sampled_from(USCC_CHARSET))
def test_every_single_character_corruption_of_uscc_fails(code: str, pos: int, char: str) -> None:
    if code[pos] == char:
        char = USCC_CHARSET[(USCC_CHARSET.index(char) + 1) % len(USCC_CHARSET)]
    corrupted = code[:pos] + char + code[pos + 1 :]
    with pytest.raises(InvalidId):
        validate_uscc(corrupted)


@given(resident_ids, st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_every_single_character_corruption_of_resident_id_fails(
    rid: str, pos: int, char: str
) -> None:
    if rid[pos] == char:
        char = RESIDENT_CHECK[(RESIDENT_CHECK.index(char) + 1) % 11]
    corrupted = rid[:pos] + char + rid[pos + 1 :]
    with pytest.raises(InvalidId):
        validate_resident_id(corrupted)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "18 characters"),
        ("91330302MA2ABC129", "18 characters"),
        ("91330302MA2ABC12I9", "not allowed"),
        ("91330302MA2ABC12O9", "not allowed"),
        ("9133A302MA2ABC1299", "area code"),
        ("91330302MA2ABC1298", "check character"),
    ],
)
def test_uscc_errors_say_why(value: str, reason: str) -> None:
    with pytest.raises(InvalidId, match=reason):
        validate_uscc(value, field="input.id")


def test_kind_must_agree_with_type_code() -> None:
    enterprise = make_uscc("91", "330302", "MA2ABC12")
    business = make_uscc("92", "330302", "MA2ABC12")
    institution = make_uscc("12", "330302", "MA2ABC12")
    assert validate_subject_id(enterprise, SubjectKind.ENTERPRISE) == enterprise
    assert validate_subject_id(business, SubjectKind.INDIVIDUAL_BUSINESS) == business
    assert validate_subject_id(institution, SubjectKind.PUBLIC_INSTITUTION) == institution
    with pytest.raises(InvalidId, match="type code 92"):
        validate_subject_id(business, SubjectKind.ENTERPRISE)
    with pytest.raises(InvalidId, match="type code 91"):
        validate_subject_id(enterprise, SubjectKind.PUBLIC_INSTITUTION)
    with pytest.raises(InvalidId, match="resident ID"):
        validate_subject_id(enterprise, SubjectKind.PERSON)


def test_resident_id_dates() -> None:
    with pytest.raises(InvalidId, match="not a date"):
        validate_resident_id(
            make_resident_id("330302", dt.date(1990, 1, 1), 1)[:10] + "0231" + "0011"
        )


def test_any_id_accepts_both_kinds() -> None:
    assert validate_any_subject_id("11010519491231002x") == "11010519491231002X"
    assert validate_any_subject_id(" 91350100M000100Y43 ") == "91350100M000100Y43"
    with pytest.raises(InvalidId):
        validate_any_subject_id("not-an-id")


def test_mask_keeps_six_and_four() -> None:
    assert mask_resident_id("11010519491231002X") == "110105********002X"
