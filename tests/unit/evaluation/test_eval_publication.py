"""Publication: masking of persons and opaque keyset cursors."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.arguments import decode_entry_cursor, encode_entry_cursor
from domain.errors import BadUserInput
from domain.identifiers import SubjectKind
from rules import default_catalogue
from rules.scoring.publication import mask_name, published_entry, published_list_types


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("王小明", "王**"),
        ("王五", "王*"),
        ("欧阳娜娜", "欧***"),
        ("李", "*"),
        ("", ""),
        (" 陈建国 ", "陈**"),
    ],
)
def test_names_keep_only_their_first_character(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_persons_are_masked_and_units_are_not() -> None:
    catalogue = default_catalogue()
    row = {"id": "S1", "listType": "DISHONEST_JUDGMENT_DEBTOR", "kind": "BLACK",
           "decidedOn": dt.date(2025, 1, 10), "validTo": None, "issuerId": "wz-intermediate-court"}  # fmt: skip
    person = published_entry(
        row, {"id": "11010519491231002X", "kind": "PERSON", "name": "王小明"}, catalogue
    )
    assert (person.subject_id, person.subject_name) == ("110105********002X", "王**")
    assert person.subject_kind is SubjectKind.PERSON and person.issuer == "温州市中级人民法院"
    unit = published_entry(
        row, {"id": "91330302MA00000001", "kind": "ENTERPRISE", "name": "某公司"}, catalogue
    )
    assert (unit.subject_id, unit.subject_name) == ("91330302MA00000001", "某公司")


def test_published_list_types_follow_the_catalogue() -> None:
    catalogue = default_catalogue()
    assert "TAX_ARREARS_WATCH" not in published_list_types(catalogue)
    assert published_list_types(catalogue, "WATCH") == ["SAMR_ABNORMAL_OPERATION"]
    assert set(published_list_types(catalogue, "RED")) == {
        "TAX_A_LEVEL",
        "CUSTOMS_AEO",
        "CREDIT_MODEL_UNIT",
    }


@given(st.dates(), st.text(min_size=1, max_size=80))
def test_cursors_round_trip(day: dt.date, sanction_id: str) -> None:
    cursor = encode_entry_cursor(day, sanction_id)
    assert decode_entry_cursor(cursor) == (day, sanction_id)
    assert "=" not in cursor and "|" not in cursor


@pytest.mark.parametrize(
    "cursor", ["", "  ", "not-a-cursor", "x" * 500, "cDF8MjAyNS0wMS0xMHw", "cDJ8MjAyNS0wMS0xMHxTMQ"]
)
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(BadUserInput) as caught:
        decode_entry_cursor(cursor)
    assert caught.value.field == "after"
