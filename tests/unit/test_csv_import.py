"""`graph_model.csv_import` without a database: every bad-row kind, the report's format."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import pytest

from graph_model.csv_import import HOUSEHOLD, ImportFiles, Problem, Report, validate
from rules.loader import load_catalogue
from rules.models import Catalogue
from tests.csv_files import (
    BUSINESS,
    CHILD,
    ENTERPRISE,
    HOUSEHOLDS,
    LINKS,
    PERSON,
    PERSON2,
    SANCTIONS,
    SUBJECTS,
    write,
)

TODAY = dt.date(2026, 11, 27)


@functools.cache
def catalogue() -> Catalogue:
    return load_catalogue()


async def run(files: ImportFiles, known: dict[str, str] | None = None) -> Report:
    async def resolver(subjects: set[str], households: set[str]) -> dict[str, str]:
        return {k: v for k, v in (known or {}).items() if k in subjects | households}

    report, _ = await validate(files, catalogue(), resolver=resolver, today=TODAY)
    return report


def problems(report: Report) -> set[tuple[str, int, str]]:
    return {(Path(p.file).stem, p.line, p.field) for p in report.problems}


async def test_good_files_validate(tmp_path: Path) -> None:
    files = write(
        tmp_path, subjects=SUBJECTS, households=HOUSEHOLDS, links=LINKS, sanctions=SANCTIONS
    )
    report = await run(files)
    assert report.ok, report.format()
    assert report.rows == {"subjects": 5, "households": 1, "links": 6, "sanctions": 2}


async def test_references_resolve_against_the_database(tmp_path: Path) -> None:
    files = write(tmp_path, links=LINKS, sanctions=SANCTIONS)
    known = {
        ENTERPRISE: "ENTERPRISE",
        BUSINESS: "INDIVIDUAL_BUSINESS",
        PERSON: "PERSON",
        PERSON2: "PERSON",
        CHILD: "PERSON",
        "H330302000001": HOUSEHOLD,
    }
    assert (await run(files, known)).ok
    report = await run(files, {})
    assert (
        Problem(
            str(tmp_path / "links.csv"),
            2,
            "from",
            f"no subject {PERSON} in the files or the database",
        )
        in report.problems
    )
    assert ("links", 6, "to") in problems(report)  # the household
    assert ("sanctions", 2, "subjectId") in problems(report)
    assert ("sanctions", 2, "responsiblePersonIds") in problems(report)


async def test_every_bad_subject_field_is_reported(tmp_path: Path) -> None:
    bad = f"""id,kind,name,district,industry,registeredCapital,establishedOn,status,birthDate
91330302MA2B3C4D62,ENTERPRISE,坏校验码,330302,,,,,
{PERSON},ENTERPRISE,人当企业,330302,,,,,
{ENTERPRISE},COMPANY,未知类型,330302,,,,,
{ENTERPRISE},ENTERPRISE,,999999,,-3,2010-13-01,CLOSED,1980-01-01
{PERSON},PERSON,张三,330302,鞋,,,,1980-05-07
{PERSON2},PERSON,李四,330302,,,,,
{PERSON2},PERSON,李四,330302,,,,,
{CHILD},PERSON,名\x01字,330302,,abc,,,
{CHILD},PERSON,only three
{BUSINESS},INDIVIDUAL_BUSINESS,未来店,330302,,,2999-01-01,,
"""
    report = await run(write(tmp_path, subjects=bad))
    got = problems(report)
    assert ("subjects", 2, "id") in got  # check character
    assert ("subjects", 3, "id") in got  # a resident ID is no USCC
    assert ("subjects", 4, "kind") in got
    for column in ("name", "district", "registeredCapital", "establishedOn", "status", "birthDate"):
        assert ("subjects", 5, column) in got, column
    assert ("subjects", 6, "industry") in got  # not a person's property
    assert ("subjects", 6, "birthDate") in got  # differs from the ID
    assert not any(line == 7 for _, line, _ in got)
    assert ("subjects", 8, "id") in got  # duplicate of line 7
    assert ("subjects", 11, "establishedOn") in got  # in the future
    assert ("subjects", 9, "name") in got  # control character
    assert ("subjects", 9, "registeredCapital") in got
    assert ("subjects", 10, "row") in got  # wrong number of fields
    reasons = {(p.line, p.field): p.reason for p in report.problems}
    assert "check character" in reasons[(2, "id")]
    assert reasons[(8, "id")] == f"{PERSON2} is already on line 7"


async def test_invisible_characters_are_refused_in_imported_text(tmp_path: Path) -> None:
    """The same character rule as the API: bidi controls and zero-width characters in a
    name, industry, address or sanction text are row problems naming the column."""
    subjects = f"""id,kind,name,district,industry,registeredCapital,establishedOn,status,birthDate
{ENTERPRISE},ENTERPRISE,温州\u202e司公限有业鞋,330302,footwear,,,,
{BUSINESS},INDIVIDUAL_BUSINESS,鹿城小吃店,330302,cater\u200bing,,,,
{PERSON},PERSON,买买提·艾力,330302,,,,,
{PERSON2},PERSON,张\ufeff三,,,,,,
"""
    households = "id,district,address\nH330302000001,330302,鹿城区\u2066某街1号\n"
    head = "id,listType,subjectId,issuerId,decidedOn,validFrom,validTo,status,jurisdiction,documentNo,reason,responsiblePersonIds\n"
    sanctions = (
        head + f",MAJOR_TAX_VIOLATION,{ENTERPRISE},wz-tax,2025-01-01,,,,,D1,拒不\u200f履行,\n"
    )
    report = await run(
        write(tmp_path, subjects=subjects, households=households, sanctions=sanctions)
    )
    got = problems(report)
    assert ("subjects", 2, "name") in got
    assert ("subjects", 3, "industry") in got
    assert not any(file == "subjects" and line == 4 for file, line, _ in got)  # 买买提·艾力
    assert ("subjects", 5, "name") in got
    assert ("households", 2, "address") in got
    assert ("sanctions", 2, "reason") in got
    reasons = {(Path(p.file).stem, p.line, p.field): p.reason for p in report.problems}
    assert "bidirectional control character U+202E" in reasons[("subjects", 2, "name")]
    assert "zero-width character U+200B" in reasons[("subjects", 3, "industry")]


async def test_bad_headers_reject_the_file(tmp_path: Path) -> None:
    report = await run(write(tmp_path, subjects="id,kind,colour\n", households=""))
    got = problems(report)
    assert ("subjects", 1, "colour") in got
    assert ("subjects", 1, "name") in got
    assert ("households", 1, "header") in got


async def test_every_bad_link_kind_is_reported(tmp_path: Path) -> None:
    bad = f"""id,from,to,relation,validFrom,validTo,ratio,role,source
,{PERSON},{ENTERPRISE},OWNS,2010-04-01,,,,
,{ENTERPRISE},{PERSON},LEGAL_REPRESENTATIVE_OF,2010-04-01,,,,
,{PERSON},{ENTERPRISE},SHAREHOLDER_OF,2010-04-01,,1.5,,
,{PERSON},{ENTERPRISE},SHAREHOLDER_OF,2010-04-01,,,,
,{PERSON},{ENTERPRISE},LEGAL_REPRESENTATIVE_OF,2010-04-01,,0.5,,
,{PERSON},{ENTERPRISE},EXECUTIVE_OF,2010-04-01,,,KING,
,{PERSON},{ENTERPRISE},EXECUTIVE_OF,2010-04-01,,,,
,{PERSON},{ENTERPRISE},LEGAL_REPRESENTATIVE_OF,2010-04-01,2009-01-01,,,
,{ENTERPRISE},{ENTERPRISE},BRANCH_OF,2010-04-01,,,,
,{PERSON},{ENTERPRISE},LEGAL_REPRESENTATIVE_OF,01/04/2010,,,,
,{PERSON},{BUSINESS},OPERATOR_OF,2015-01-01,,,,
,{PERSON},{ENTERPRISE},OPERATOR_OF,2015-01-01,,,,
,{PERSON},bad household!,MEMBER_OF,2015-01-01,,,HEAD,
,{PERSON},{ENTERPRISE},LEGAL_REPRESENTATIVE_OF,,,,,
"""
    files = write(tmp_path, subjects=SUBJECTS, links=bad)
    report = await run(files)
    got = problems(report)
    expected = {
        2: "relation",  # unknown relation
        3: "from",  # an enterprise cannot be a legal representative
        4: "ratio",  # outside (0, 1]
        5: "ratio",  # missing
        6: "ratio",  # not on this relation
        7: "role",  # unknown role
        8: "role",  # missing
        9: "validTo",  # before validFrom
        10: "to",  # self link
        11: "validFrom",  # not ISO
        13: "to",  # operator of an enterprise
        14: "to",  # bad household number
        15: "validFrom",  # required
    }
    for line, column in expected.items():
        assert ("links", line, column) in got, (line, column, sorted(got))
    assert not any(line == 12 for _, line, _ in got if _ == "links")
    reasons = {(p.line, p.field): p.reason for p in report.problems if "links" in p.file}
    assert reasons[(3, "from")].startswith("LEGAL_REPRESENTATIVE_OF cannot start at a ENTERPRISE")
    assert reasons[(13, "to")].startswith("OPERATOR_OF cannot end at a ENTERPRISE")


async def test_every_bad_sanction_kind_is_reported(tmp_path: Path) -> None:
    head = "id,listType,subjectId,issuerId,decidedOn,validFrom,validTo,status,jurisdiction,documentNo,reason,responsiblePersonIds\n"
    rows = [
        f",NO_SUCH_LIST,{ENTERPRISE},wz-tax,2025-01-01,,,,,D1,r,",
        f",MAJOR_TAX_VIOLATION,{ENTERPRISE},wz-nowhere,2025-01-01,,,,,D2,r,",
        f",MAJOR_TAX_VIOLATION,{ENTERPRISE},wz-amr,2025-01-01,,,,,D3,r,",
        f",MAJOR_TAX_VIOLATION,{ENTERPRISE},wz-tax,2025-01-01,,,,shanghai,D4,r,",
        f",MAJOR_TAX_VIOLATION,{ENTERPRISE},wz-tax,2027-01-01,,,,,D5,r,",
        f",MAJOR_TAX_VIOLATION,{ENTERPRISE},wz-tax,2025-01-01,2024-01-01,,,,D6,r,",
        f",MAJOR_TAX_VIOLATION,{ENTERPRISE},wz-tax,2025-01-01,,2024-01-01,,,D7,r,",
        f",MAJOR_TAX_VIOLATION,{ENTERPRISE},wz-tax,2025-01-01,,,LIFTED,,D8,r,",
        f",MAJOR_TAX_VIOLATION,{ENTERPRISE},wz-tax,2025-01-01,,,,,,r,",
        f",MAJOR_TAX_VIOLATION,{ENTERPRISE},wz-tax,2025-01-01,,,,,D10,r,{ENTERPRISE}",
        f",MAJOR_TAX_VIOLATION,{ENTERPRISE},wz-tax,2025-01-01,,,,,D11,r,{BUSINESS[:17]}X",
        ",MAJOR_TAX_VIOLATION,NOT-AN-ID,wz-tax,2025-01-01,,,,,D12,r,",
        f"bad id!,MAJOR_TAX_VIOLATION,{ENTERPRISE},wz-tax,2025-01-01,,,,,D13,r,",
    ]
    report = await run(write(tmp_path, subjects=SUBJECTS, sanctions=head + "\n".join(rows) + "\n"))
    got = problems(report)
    expected = {
        2: "listType",
        3: "issuerId",
        4: "issuerId",
        5: "jurisdiction",
        6: "decidedOn",
        7: "validFrom",
        8: "validTo",
        9: "status",
        10: "documentNo",
        11: "responsiblePersonIds[0]",  # a credit code, not a resident ID
        12: "responsiblePersonIds[0]",  # not a resident ID
        13: "subjectId",
        14: "id",
    }
    for line, column in expected.items():
        assert ("sanctions", line, column) in got, (line, column, sorted(got))


def test_report_format_names_file_line_field_reason() -> None:
    report = Report(
        problems=[
            Problem("b.csv", 3, "ratio", "0 is outside (0, 1]"),
            Problem("a.csv", 7, "id", "check character of the credit code is wrong"),
            Problem("a.csv", 7, "name", "required"),
        ]
    )
    assert report.format().splitlines() == [
        "a.csv:7: id: check character of the credit code is wrong",
        "a.csv:7: name: required",
        "b.csv:3: ratio: 0 is outside (0, 1]",
        "2 bad row(s) in a.csv, b.csv: nothing was written",
    ]
    assert report.format(limit=1).splitlines()[1] == "... and 2 more"
    assert Report().format() == "no problems"


@pytest.mark.parametrize("bom", [True, False])
async def test_utf8_with_or_without_bom(tmp_path: Path, bom: bool) -> None:
    path = tmp_path / "households.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + HOUSEHOLDS.encode())
    assert (await run(ImportFiles(households=path))).ok
