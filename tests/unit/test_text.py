"""`domain.text.clean_text`: the one rule for characters in names and free text."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.errors import ErrorCode, code_of
from domain.errors import BadUserInput
from domain.text import BIDI_CONTROLS, ZERO_WIDTH, clean_text

BIDI = [
    "\u061c",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
OTHER_REFUSED = {
    "NUL": "\x00",
    "escape": "\x1b",
    "DEL": "\x7f",
    "C1 control": "\x85",
    "soft hyphen (Cf)": "\u00ad",
    "interlinear annotation (Cf)": "\ufff9",
    "private use (Co)": "\ue000",
    "supplementary private use (Co)": "\U000f0000",
    "lone surrogate (Cs)": "\ud800",
    "unassigned (Cn)": "\u0378",
    "noncharacter (Cn)": "\uffff",
    "line separator (Zl)": "\u2028",
    "paragraph separator (Zp)": "\u2029",
}
LEGIT = [
    "温州市鹿城区鞋业有限公司",
    "张三",
    "买买提·艾力",
    "阿卜杜拉·艾山",
    "温州（鹿城）鞋业有限公司",
    "O'Brien & Sons 鞋业",
    "全角　空格",  # U+3000 ideographic space is a visible separator (Zs)
    "𠮷野家",  # a supplementary-plane Han character
]


def refused(value: str, field: str = "input.name", **kw: bool) -> BadUserInput:
    with pytest.raises(BadUserInput) as caught:
        clean_text(value, field, **kw)
    return caught.value


def test_the_named_sets_are_the_brief() -> None:
    assert set(BIDI) == BIDI_CONTROLS
    assert set(INVISIBLE) == ZERO_WIDTH


@pytest.mark.parametrize("char", BIDI, ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_bidirectional_controls_are_refused(char: str) -> None:
    error = refused("温州" + char + "鞋业")
    assert code_of(error) is ErrorCode.BAD_USER_INPUT
    assert error.field == "input.name"
    assert error.message.startswith("input.name: bidirectional control character")
    assert f"U+{ord(char):04X}" in error.message


@pytest.mark.parametrize("char", INVISIBLE, ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_zero_width_characters_are_refused(char: str) -> None:
    for value in (char + "张三", "张" + char + "三", "张三" + char):
        error = refused(value)
        assert error.message.startswith("input.name: zero-width character"), error.message


@pytest.mark.parametrize("char", OTHER_REFUSED.values(), ids=OTHER_REFUSED.keys())
def test_other_control_format_private_and_unassigned_characters_are_refused(char: str) -> None:
    assert refused("名" + char + "字", "industry").field == "industry"
    # multi-line text takes newlines and tabs, nothing else of these
    assert refused("名" + char + "字", "input.reason", multiline=True).field == "input.reason"


def test_multiline_text_may_hold_newlines_and_tabs_and_names_may_not() -> None:
    assert clean_text("第一行\n第二行\t完", "input.reason", multiline=True) == "第一行\n第二行\t完"
    for char in "\n\t\r":
        refused("第一行" + char + "第二行")
    refused("第一行\r\n第二行", multiline=True)


@pytest.mark.parametrize("name", LEGIT)
def test_legit_names_pass_unchanged(name: str) -> None:
    assert clean_text(name, "input.name") == name


def test_accepted_text_is_nfc() -> None:
    assert clean_text("Cafe\u0301", "input.name") == "Caf\u00e9"
    assert clean_text("\u212b", "input.name") == "\u00c5"  # ANGSTROM SIGN → Å
    # NFC, not NFKC: full-width and compatibility forms stay as typed
    assert clean_text("ＡＢＣ有限公司", "input.name") == "ＡＢＣ有限公司"


def test_the_message_never_echoes_the_text() -> None:
    secret = "330302198005060128张三"
    error = refused(secret + "\u202e")
    assert secret not in error.message and "U+202E" in error.message


REFUSED_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}


@given(st.text())
def test_the_rule_is_the_categories_and_the_result_is_nfc(value: str) -> None:
    bad = [c for c in value if unicodedata.category(c) in REFUSED_CATEGORIES]
    if bad:
        error = refused(value)
        assert f"U+{ord(bad[0]):04X}" in error.message  # the first offending character
    else:
        result = clean_text(value, "input.name")
        assert result == unicodedata.normalize("NFC", value)
        assert unicodedata.is_normalized("NFC", result)


@given(st.text(st.characters(codec="utf-8", exclude_categories=("C", "Zl", "Zp"))))
def test_visible_text_always_passes_and_cleaning_is_idempotent(value: str) -> None:
    once = clean_text(value, "input.name")
    assert clean_text(once, "input.name") == once


@given(
    st.text(st.characters(exclude_categories=("C", "Zl", "Zp"))),
    st.sampled_from(sorted(BIDI_CONTROLS | ZERO_WIDTH)),
    st.text(st.characters(exclude_categories=("C", "Zl", "Zp"))),
)
def test_one_invisible_character_anywhere_is_enough(head: str, char: str, tail: str) -> None:
    for multiline in (False, True):
        refused(head + char + tail, "input.name", multiline=multiline)
