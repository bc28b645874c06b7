"""The list file format (docs/list-format.md) without a database: the header, every kind of
bad line named with its line number, the kind an id implies, entry and event ids, order."""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import BadUserInput
from domain.identifiers import SubjectKind, make_resident_id, make_uscc
from domain.text import clean_text
from graph_model.exchange.apply import Incoming, refusal
from graph_model.exchange.list_file import (
    MAX_LINE_BYTES,
    Report,
    Scanner,
    _Fields,
    entry_id,
)
from rules.loader import load_catalogue
from rules.models import Catalogue
from tests.identities import ambiguous_id

SOURCE = "national"
ENTERPRISE = make_uscc("91", "330302", "MA0LTX01")
BUSINESS = make_uscc("92", "330302", "MA0LTX02")
INSTITUTION = make_uscc("12", "330302", "MB0LTX03")
PERSON = make_resident_id("330302", dt.date(1980, 1, 2), 17)
HEADER = {
    "format": "creditlink-list",
    "version": 1,
    "source": SOURCE,
    "generatedAt": "2026-01-10T08:00:00+08:00",
}
IMPOSE = {
    "action": "impose",
    "listType": "DISHONEST_JUDGMENT_DEBTOR",
    "caseNo": "（2025）浙0302执1号",
    "authority": "温州市鹿城区人民法院",
    "name": "温州某贸易有限公司",
    "id": ENTERPRISE,
    "decidedOn": "2025-03-01",
    "reason": "有履行能力而拒不履行生效法律文书确定的义务",
}
LIFT = {**IMPOSE, "action": "lift", "liftedAt": "2025-09-01T10:00:00+08:00"}


@functools.cache
def catalogue() -> Catalogue:
    return load_catalogue()


def write(path: Path, *lines: Any) -> Path:
    """Each of `lines` as a JSON line (a str or bytes is written as it is)."""
    out = bytearray()
    for line in lines:
        if isinstance(line, bytes):
            out += line
        elif isinstance(line, str):
            out += line.encode()
        else:
            out += json.dumps(line, ensure_ascii=False).encode()
        out += b"\n"
    path.write_bytes(bytes(out))
    return path


def scan(path: Path, source: str = SOURCE) -> tuple[Scanner, list[Any]]:
    scanner = Scanner(path, source, catalogue())
    return scanner, list(scanner.lines())


def problems(report: Report) -> list[tuple[int, str, str]]:
    return [(p.line, p.field, p.reason) for p in report.problems]


def test_a_good_file_reads_every_line_as_the_feeds_event(tmp_path: Path) -> None:
    path = write(tmp_path / "list.jsonl", HEADER, IMPOSE, LIFT)
    scanner, lines = scan(path)
    assert scanner.report.ok, scanner.report.format()
    assert scanner.report.lines == 2 and [line.number for line in lines] == [2, 3]
    imposed, lifted = lines
    assert imposed.entry_id == lifted.entry_id  # one entry, two changes
    assert imposed.event.event_id != lifted.event.event_id
    assert (imposed.event.kind, lifted.event.kind) == ("IMPOSED", "LIFTED")
    sanction = imposed.event.sanction
    assert sanction["id"] == imposed.entry_id and sanction["jurisdiction"] == SOURCE
    assert sanction["documentNo"] == IMPOSE["caseNo"]
    assert sanction["issuer"] == IMPOSE["authority"]
    assert sanction["subjectName"] == IMPOSE["name"]
    assert sanction["subjectKind"] == "ENTERPRISE"
    assert sanction["validFrom"] == sanction["decidedOn"] == dt.date(2025, 3, 1)
    assert sanction["validTo"] is None and sanction["liftedAt"] is None
    # an imposition takes effect from the city's start of its decision day
    assert imposed.event.at == dt.datetime(2025, 2, 28, 16, 0, tzinfo=dt.UTC)
    assert lifted.event.at == dt.datetime(2025, 9, 1, 2, 0, tzinfo=dt.UTC)
    assert lifted.event.sanction["liftedAt"] == lifted.event.at
    assert scanner.pending == {}


def test_ids_are_stable_digests_of_key_and_content(tmp_path: Path) -> None:
    reordered = {key: IMPOSE[key] for key in reversed(list(IMPOSE))}
    half_width = {**IMPOSE, "caseNo": "(2025)浙0302执1号"}
    other_case = {**IMPOSE, "caseNo": "（2025）浙0302执2号"}
    path = write(
        tmp_path / "list.jsonl",
        HEADER,
        IMPOSE,
        json.dumps(reordered, ensure_ascii=False, indent=None, separators=(" , ", " : ")),
        half_width,
        other_case,
    )
    scanner, lines = scan(path)
    assert scanner.report.ok, scanner.report.format()
    first, again, half, other = lines
    assert first.event.event_id == again.event.event_id  # spacing and key order do not count
    assert half.entry_id == first.entry_id  # full-width brackets are the same case number
    assert half.event.event_id != first.event.event_id  # but the line says it differently
    assert other.entry_id != first.entry_id
    assert first.entry_id == entry_id("DISHONEST_JUDGMENT_DEBTOR", "(2025)浙0302执1号", ENTERPRISE)
    assert first.entry_id.startswith("L") and len(first.entry_id) == 25


@pytest.mark.parametrize(
    ("subject_id", "kind"),
    [
        (ENTERPRISE, SubjectKind.ENTERPRISE),
        (BUSINESS, SubjectKind.INDIVIDUAL_BUSINESS),
        (INSTITUTION, SubjectKind.PUBLIC_INSTITUTION),
        (PERSON, SubjectKind.PERSON),
    ],
)
def test_the_kind_is_inferred_from_the_id(tmp_path: Path, subject_id: str, kind: str) -> None:
    path = write(tmp_path / "list.jsonl", HEADER, {**IMPOSE, "id": subject_id})
    scanner, lines = scan(path)
    assert scanner.report.ok, scanner.report.format()
    assert lines[0].subject_kind is kind
    assert lines[0].event.sanction["subjectKind"] == kind


def test_a_given_kind_that_fits_the_id_is_taken(tmp_path: Path) -> None:
    path = write(tmp_path / "list.jsonl", HEADER, {**IMPOSE, "subjectKind": "ENTERPRISE"})
    scanner, lines = scan(path)
    assert scanner.report.ok and lines[0].subject_kind is SubjectKind.ENTERPRISE


def _ambiguous_id() -> str:
    return ambiguous_id(dt.date(1980, 1, 2))


def test_an_ambiguous_id_is_one_subject_of_one_kind_in_a_file(tmp_path: Path) -> None:
    both = _ambiguous_id()
    institution = {**IMPOSE, "id": both, "subjectKind": "PUBLIC_INSTITUTION"}
    person = {**IMPOSE, "id": both, "caseNo": "（2025）浙0302执9号"}  # inferred: PERSON
    path = write(tmp_path / "list.jsonl", HEADER, institution, person)
    scanner, lines = scan(path)
    assert [line.number for line in lines] == [2]
    assert lines[0].subject_kind is SubjectKind.PUBLIC_INSTITUTION
    assert problems(scanner.report) == [
        (3, "subjectKind", "PERSON, but line 2 gave PUBLIC_INSTITUTION for this id")
    ]


# One bad field each, on a line of a good file; (field, the reason's start).
BAD_LINES: list[tuple[Any, str, str]] = [
    ({**IMPOSE, "action": "delete"}, "action", "'delete': one of impose, lift, revoke"),
    ({k: v for k, v in IMPOSE.items() if k != "action"}, "action", "missing"),
    ({**IMPOSE, "listType": "NO_SUCH_LIST"}, "listType", "'NO_SUCH_LIST' is not a list type"),
    ({k: v for k, v in IMPOSE.items() if k != "listType"}, "listType", "missing"),
    ({**IMPOSE, "caseNo": "  "}, "caseNo", "empty"),
    ({**IMPOSE, "caseNo": 12}, "caseNo", "must be a string"),
    ({**IMPOSE, "caseNo": "x" * 101}, "caseNo", "longer than 100 characters"),
    ({k: v for k, v in IMPOSE.items() if k != "authority"}, "authority", "missing"),
    ({**IMPOSE, "name": "某\u200b公司"}, "name", "zero-width character U+200B"),
    ({**IMPOSE, "name": "某公司\n第二行"}, "name", "control character U+000A"),
    ({**IMPOSE, "name": "名" * 201}, "name", "longer than 200 characters"),
    ({**IMPOSE, "reason": "有\u202e履行"}, "reason", "bidirectional control character U+202E"),
    ({**IMPOSE, "reason": "理" * 2001}, "reason", "longer than 2000 characters"),
    ({**IMPOSE, "id": ENTERPRISE[:-1] + "0"}, "id", "check character of the credit code"),
    ({**IMPOSE, "id": PERSON[:-1] + "0"}, "id", "check character of the resident ID"),
    ({**IMPOSE, "id": 91330302}, "id", "must be a string"),
    ({**IMPOSE, "id": "123"}, "id", "a unified social credit code has 18 characters"),
    ({**IMPOSE, "subjectKind": "COMPANY"}, "subjectKind", "'COMPANY': one of ENTERPRISE"),
    ({**IMPOSE, "subjectKind": "PERSON"}, "subjectKind", "PERSON does not fit the id"),
    ({**IMPOSE, "id": PERSON, "subjectKind": "ENTERPRISE"}, "subjectKind", "ENTERPRISE does"),
    (
        {**IMPOSE, "subjectKind": "INDIVIDUAL_BUSINESS"},
        "subjectKind",
        "INDIVIDUAL_BUSINESS does not fit the id (a credit code of type 91): type code 91",
    ),
    (
        {**IMPOSE, "id": make_uscc("N2", "330302", "MA0LTX04")},
        "subjectKind",
        "missing, and the id's type code N2 implies no subject kind",
    ),
    ({**IMPOSE, "decidedOn": "2025-02-30"}, "decidedOn", "'2025-02-30' is not a date"),
    ({**IMPOSE, "decidedOn": "20250301"}, "decidedOn", "'20250301' is not a date (YYYY-MM-DD)"),
    ({k: v for k, v in IMPOSE.items() if k != "decidedOn"}, "decidedOn", "missing"),
    ({**IMPOSE, "decidedOn": "2026-01-11"}, "decidedOn", "2026-01-11 is after the file was"),
    ({**IMPOSE, "validFrom": "March"}, "validFrom", "'March' is not a date"),
    ({**IMPOSE, "validTo": "2025-03-01"}, "validTo", "2025-03-01 is not after validFrom"),
    (
        {**IMPOSE, "validFrom": "2025-04-01", "validTo": "2025-03-15"},
        "validTo",
        "2025-03-15 is not after validFrom 2025-04-01",
    ),
    ({k: v for k, v in IMPOSE.items() if k != "reason"}, "reason", "missing"),
    ({**IMPOSE, "liftedAt": "2025-09-01T00:00:00Z"}, "liftedAt", "only a lift or revoke line"),
    ({**IMPOSE, "action": "revoke"}, "liftedAt", "missing"),
    ({**LIFT, "liftedAt": "2025-09-01T10:00:00"}, "liftedAt", "'2025-09-01T10:00:00' has no"),
    ({**LIFT, "liftedAt": "yesterday"}, "liftedAt", "'yesterday' is not an ISO 8601 instant"),
    ({**LIFT, "liftedAt": "2025-02-28T15:59:59Z"}, "liftedAt", "2025-02-28T15:59:59+00:00 is"),
    ({**LIFT, "liftedAt": "2026-01-10T00:00:01Z"}, "liftedAt", "2026-01-10T00:00:01+00:00 is"),
    ({**IMPOSE, "validto": "2027-01-01"}, "'validto'", "unknown field; did you mean validTo?"),
    ({**IMPOSE, "note": "x"}, "'note'", "unknown field"),
    ([IMPOSE], "line", "not a JSON object"),
    ('{"action": "impose",}', "line", "not JSON: trailing comma is not allowed at column"),
    ("", "line", "empty: every line is one JSON object"),
    (b'{"name": "\xe6\x9f\x90\xff"}', "line", "not UTF-8 (byte 14)"),
    ('{"reason": "' + "x" * MAX_LINE_BYTES + '"}', "line", f"longer than {MAX_LINE_BYTES}"),
]


@pytest.mark.parametrize(("line", "field", "reason"), BAD_LINES)
def test_each_bad_line_is_named_with_its_number_and_field(
    tmp_path: Path, line: Any, field: str, reason: str
) -> None:
    other = {**IMPOSE, "caseNo": "（2025）浙0302执7号"}
    path = write(tmp_path / "list.jsonl", HEADER, other, line, other)
    scanner, lines = scan(path)
    assert [good.number for good in lines] == [2, 4]  # the good lines around it still read
    found = problems(scanner.report)
    assert [(n, f) for n, f, _ in found] == [(3, field)], found
    assert found[0][2].startswith(reason), found[0][2]
    assert scanner.report.bad_lines == {3}


def test_every_bad_line_is_reported_and_the_printout_is_capped(tmp_path: Path) -> None:
    bad = {**IMPOSE, "id": ENTERPRISE[:-1] + "0"}
    path = write(tmp_path / "list.jsonl", HEADER, IMPOSE, bad, IMPOSE, bad, {**bad, "x": 1})
    scanner, _ = scan(path)
    report = scanner.report
    assert sorted(report.bad_lines) == [3, 5, 6] and report.problem_count == 4
    text = report.format(limit=3)
    assert text.splitlines() == [
        f"{path}:3: id: check character of the credit code is wrong",
        f"{path}:5: id: check character of the credit code is wrong",
        f"{path}:6: 'x': unknown field",
        "... and 1 more problem(s)",
        f"3 bad line(s) in {path}: nothing was written",
    ]


def test_a_byte_order_mark_and_crlf_line_ends_are_read(tmp_path: Path) -> None:
    path = tmp_path / "list.jsonl"
    text = json.dumps(HEADER) + "\r\n" + json.dumps(IMPOSE, ensure_ascii=False) + "\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    scanner, lines = scan(path)
    assert scanner.report.ok, scanner.report.format()
    assert len(lines) == 1


@pytest.mark.parametrize(
    ("header", "field", "reason"),
    [
        ({**HEADER, "format": "csv"}, "format", "'csv', not 'creditlink-list'"),
        ({**HEADER, "version": 2}, "version", "2 is not a version this CreditLink reads (1)"),
        ({**HEADER, "version": True}, "version", "True is not a version this CreditLink reads"),
        ({**HEADER, "version": "1"}, "version", "'1' is not a version this CreditLink reads"),
        ({**HEADER, "source": "zhejiang"}, "source", "the header says 'zhejiang', not national"),
        ({**HEADER, "generatedAt": "2026-01-10"}, "generatedAt", "'2026-01-10' has no offset"),
        ({**HEADER, "generatedAt": None}, "generatedAt", "missing"),
        (
            {**HEADER, "generatedAt": "2999-01-01T00:00:00Z"},
            "generatedAt",
            "2999-01-01T00:00:00+00:00 is in the future",
        ),
        ({**HEADER, "lines": 3}, "'lines'", "unknown field"),
        (IMPOSE, "header", "line 1 must be the header"),
        ("[]", "line", "not a JSON object (the header)"),
    ],
)
def test_a_bad_header_refuses_the_file_before_any_line(
    tmp_path: Path, header: Any, field: str, reason: str
) -> None:
    path = write(tmp_path / "list.jsonl", header, IMPOSE, {**IMPOSE, "id": "bad"})
    scanner, lines = scan(path)
    assert lines == []
    found = problems(scanner.report)
    assert [(n, f) for n, f, _ in found] == [(1, field)], found
    assert found[0][2].startswith(reason), found[0][2]
    assert scanner.report.lines == 0  # the lines are not read without their header


def test_an_empty_file_has_no_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    scanner, lines = scan(path)
    assert lines == []
    assert problems(scanner.report) == [
        (1, "header", "the file is empty: line 1 must be the header (creditlink-list)")
    ]


def test_a_lift_before_its_imposition_in_the_file_is_left_to_the_database(tmp_path: Path) -> None:
    earlier = {**LIFT, "caseNo": "（2024）浙0302执5号"}
    path = write(
        tmp_path / "list.jsonl", HEADER, earlier, IMPOSE, LIFT, {**LIFT, "action": "revoke"}
    )
    scanner, lines = scan(path)
    assert scanner.report.ok, scanner.report.format()
    assert len(lines) == 4
    (pending,) = scanner.pending.items()
    assert pending == (f"{SOURCE}/{lines[0].entry_id}", [2])  # the others follow line 3


def test_a_bad_imposition_still_orders_the_lines_after_it(tmp_path: Path) -> None:
    bad = {**IMPOSE, "reason": ""}
    path = write(tmp_path / "list.jsonl", HEADER, bad, LIFT)
    scanner, _ = scan(path)
    assert problems(scanner.report) == [(2, "reason", "empty")]
    assert scanner.pending == {}  # the lift is not also reported as an orphan


def test_the_per_event_rule_is_the_feeds() -> None:
    sanction = {
        "id": "L1",
        "listType": "DISHONEST_JUDGMENT_DEBTOR",
        "subjectId": ENTERPRISE,
        "subjectKind": "ENTERPRISE",
        "subjectName": "某公司",
        "issuer": "某法院",
        "jurisdiction": SOURCE,
        "decidedOn": dt.date(2025, 3, 1),
        "validFrom": dt.date(2025, 3, 1),
        "validTo": None,
        "status": "ACTIVE",
        "documentNo": "（2025）浙0302执1号",
        "reason": "有履行能力而拒不履行",
        "liftedAt": None,
    }
    at = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    assert refusal(Incoming("F1", "IMPOSED", at, sanction), SOURCE, catalogue()) is None
    other = Incoming("F1", "IMPOSED", at, {**sanction, "jurisdiction": "zhejiang"})
    reason = refusal(other, SOURCE, catalogue())
    assert reason is not None and reason.startswith("jurisdiction: an entry of 'zhejiang'")


def test_the_documents_example_lines_are_a_valid_file(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "list-format.md").read_text("utf-8")
    examples = [line for line in doc.splitlines() if line.startswith('{"')]
    header = json.loads(examples[0])
    entries = [json.loads(line) for line in examples[1:]]
    assert header["format"] == "creditlink-list" and len(entries) == 2
    path = write(tmp_path / "example.jsonl", header, *entries)
    scanner, lines = scan(path)
    assert scanner.report.ok, scanner.report.format()
    assert [line.action for line in lines] == ["impose", "lift"]
    assert lines[0].entry_id == lines[1].entry_id


def test_a_value_shown_in_a_reason_is_clipped(tmp_path: Path) -> None:
    path = write(tmp_path / "list.jsonl", HEADER, {**IMPOSE, "decidedOn": list(range(10_000))})
    scanner, _ = scan(path)
    ((line, field, reason),) = problems(scanner.report)
    assert (line, field) == (2, "decidedOn")
    assert reason.startswith("[0, 1, 2, ") and reason.endswith("... is not a date (YYYY-MM-DD)")
    assert len(reason) < 100


@given(st.text(min_size=1, max_size=30))
def test_a_text_field_is_read_as_the_text_rule_reads_it(value: str) -> None:
    """Printable text takes a shortcut past the rule: it must come out as the rule says."""
    fields = _Fields({"name": value})
    got = fields.text("name", 1000)
    try:
        expected: str | None = clean_text(value.strip(), "name")
    except BadUserInput:
        expected = None
    if not value.strip():
        assert fields.problems == [("name", "empty")]
        return
    assert got == expected
    assert bool(fields.problems) == (expected is None)
