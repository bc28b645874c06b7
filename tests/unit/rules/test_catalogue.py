"""The packaged catalogue loads and holds what DESIGN.md §3 asks; broken samples are
reported with the right code, file and line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from domain.identifiers import SubjectKind
from domain.vocabulary import Effect, ListKind, Rel
from rules import (
    Catalogue,
    CatalogueInvalid,
    Code,
    Direction,
    EvaluatedAt,
    Issue,
    check_catalogue,
    load_catalogue,
)
from rules.cli import main_check

BROKEN = Path(__file__).parent / "broken"

AREAS = {
    "ADMINISTRATIVE_APPROVAL": "行政审批",
    "LAW_ENFORCEMENT_SUPERVISION": "执法监管",
    "CONVENIENCE_SERVICES": "便民服务",
    "PUBLIC_RESOURCE_TRANSACTIONS": "公共资源交易",
    "FINANCING_SERVICES": "融资服务",
    "RISK_PREVENTION_CONTROL": "风险防控",
    "INDUSTRY_SUPERVISION": "行业监管",
    "SOCIAL_GOVERNANCE": "社会治理",
    "OTHER_GOVERNMENT_AFFAIRS": "其他政务",
    "GOVERNMENT_SELF_CONSTRUCTION": "政府自身建设",
}
DEPARTMENTS = {
    "wz-intermediate-court": "温州市中级人民法院",
    "wz-tax": "国家税务总局温州市税务局",
    "wz-amr": "温州市市场监督管理局",
    "wz-drc": "温州市发展和改革委员会（市信用办）",
    "wz-public-resources": "温州市公共资源交易中心",
    "wz-finance": "温州市财政局",
    "wz-hrss": "温州市人力资源和社会保障局",
    "wz-ecology": "温州市生态环境局",
    "wz-transport": "温州市交通运输局",
    "wz-medical-insurance": "温州市医疗保障局",
    "wz-commerce": "温州市商务局",
    "wz-housing": "温州市住房和城乡建设局",
    "wz-education": "温州市教育局",
    "wz-emergency": "温州市应急管理局",
    "wz-customs": "温州海关",
    "wz-civil-affairs": "温州市民政局",
    "wz-public-security": "温州市公安局",
    "wz-culture-tourism": "温州市文化广电旅游局",
    "wz-health": "温州市卫生健康委员会",
    "wz-natural-resources": "温州市自然资源和规划局",
    "wz-pboc": "中国人民银行温州市分行",
    "wz-nfra": "国家金融监督管理总局温州监管分局",
    "wz-big-data": "温州市大数据发展管理局",
}
LIST_TYPES: dict[str, tuple[ListKind, set[str]]] = {
    "DISHONEST_JUDGMENT_DEBTOR": (ListKind.BLACK, {"wz-intermediate-court"}),
    "SAMR_SERIOUS_ILLEGAL": (ListKind.BLACK, {"wz-amr"}),
    "MAJOR_TAX_VIOLATION": (ListKind.BLACK, {"wz-tax"}),
    "GOV_PROCUREMENT_BAD_RECORD": (ListKind.BLACK, {"wz-finance"}),
    "CUSTOMS_DISHONEST": (ListKind.BLACK, {"wz-customs"}),
    "SOCIAL_INSURANCE_DISHONEST": (ListKind.BLACK, {"wz-hrss", "wz-medical-insurance"}),
    "WAGE_ARREARS_DISHONEST": (ListKind.BLACK, {"wz-hrss"}),
    "ENV_SERIOUS_DISHONEST": (ListKind.BLACK, {"wz-ecology"}),
    "SAFETY_PRODUCTION_DISHONEST": (ListKind.BLACK, {"wz-emergency"}),
    "SAMR_ABNORMAL_OPERATION": (ListKind.WATCH, {"wz-amr"}),
    "TAX_ARREARS_WATCH": (ListKind.WATCH, {"wz-tax"}),
    "TAX_A_LEVEL": (ListKind.RED, {"wz-tax"}),
    "CUSTOMS_AEO": (ListKind.RED, {"wz-customs"}),
    "CREDIT_MODEL_UNIT": (ListKind.RED, {"wz-drc"}),
}
PARTNERS = ("jiaxing", "jinhua", "huzhou")
ABOVE = ("zhejiang", "national")  # the provincial and national platforms


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


# ------------------------------------------------------------------ the real catalogue


def test_the_packaged_catalogue_has_no_issues() -> None:
    assert check_catalogue() == []


def test_the_ten_areas(catalogue: Catalogue) -> None:
    assert {a.id: a.name for a in catalogue.areas.values()} == AREAS


def test_every_area_is_covered_by_a_punitive_measure(catalogue: Catalogue) -> None:
    covered = {m.area for m in catalogue.measures.values() if m.effect.punitive}
    assert covered == set(AREAS)


def test_departments_are_the_wenzhou_bodies(catalogue: Catalogue) -> None:
    assert len(catalogue.departments) >= 20
    names = {d.id: d.name for d in catalogue.departments.values()}
    assert names.items() >= DEPARTMENTS.items()


def test_list_types_kinds_and_issuers(catalogue: Catalogue) -> None:
    found = {lt.id: (lt.kind, set(lt.issuers)) for lt in catalogue.list_types.values()}
    assert found == LIST_TYPES


def test_list_type_periods_and_publication(catalogue: Catalogue) -> None:
    list_types = catalogue.list_types
    for list_type in list_types.values():
        if list_type.kind is ListKind.RED:
            assert list_type.min_repair_days is None
            assert list_type.default_duration_days is not None
            assert 365 <= list_type.default_duration_days <= 3 * 365
    assert list_types["SAMR_SERIOUS_ILLEGAL"].default_duration_days == 1095
    assert list_types["SAMR_SERIOUS_ILLEGAL"].min_repair_days == 365
    assert list_types["MAJOR_TAX_VIOLATION"].default_duration_days == 1095
    assert not list_types["TAX_ARREARS_WATCH"].published
    assert sum(lt.min_repair_days == 365 for lt in list_types.values()) >= 7


def test_roles_have_the_designed_patterns(catalogue: Catalogue) -> None:
    roles = catalogue.roles
    assert roles["SELF"].steps == () and roles["SELF"].via == ()
    assert roles["DIRECTLY_RESPONSIBLE_PERSON"].named_by_sanction
    assert roles["DIRECTLY_RESPONSIBLE_PERSON"].steps == ()
    principal = roles["PRINCIPAL_RESPONSIBLE_PERSON"].steps
    assert [(s.relations, s.direction, s.at) for s in principal] == [
        ((Rel.EXECUTIVE_OF,), Direction.IN, EvaluatedAt.DECISION)
    ]
    assert principal[0].link_roles == frozenset({"CHAIR", "GENERAL_MANAGER", "PRINCIPAL"})
    assert roles["DIRECTOR_SUPERVISOR_MANAGER"].steps[0].link_roles is None
    led = roles["LED_UNIT"]
    assert led.sanctioned_kinds == frozenset({SubjectKind.PERSON})
    assert [(s.relations, s.direction, s.at) for s in led.steps] == [
        ((Rel.LEGAL_REPRESENTATIVE_OF, Rel.ACTUAL_CONTROLLER_OF), Direction.OUT, EvaluatedAt.CHECK)
    ]
    child = roles["HOUSEHOLD_CHILD"]
    assert child.via == (
        "SELF",
        "LEGAL_REPRESENTATIVE",
        "PRINCIPAL_RESPONSIBLE_PERSON",
        "ACTUAL_CONTROLLER",
    )
    assert [(s.direction, s.link_roles) for s in child.steps] == [
        (Direction.OUT, frozenset({"HEAD", "SPOUSE", "PARENT"})),
        (Direction.IN, frozenset({"CHILD"})),
    ]


def test_role_depths(catalogue: Catalogue) -> None:
    depths = {role.id: role.depth for role in catalogue.roles.values()}
    assert max(depths.values()) <= 3
    assert depths["HOUSEHOLD_CHILD"] == 3
    assert depths["SELF"] == depths["DIRECTLY_RESPONSIBLE_PERSON"] == 0
    assert depths["LEGAL_REPRESENTATIVE"] == depths["LED_UNIT"] == 1


def test_every_role_is_used_by_some_measure(catalogue: Catalogue) -> None:
    used = {role for m in catalogue.measures.values() for role in m.roles}
    assert used == set(catalogue.roles)


def test_measures_state_basis_implementers_and_stay_within_their_basis(
    catalogue: Catalogue,
) -> None:
    assert len(catalogue.measures) >= 45
    for measure in catalogue.measures.values():
        list_type = catalogue.list_types[measure.list_type]
        assert measure.legal_basis.strip() and measure.description.strip()
        assert set(measure.implementers) <= set(catalogue.departments)
        assert set(measure.roles) <= set(list_type.basis_roles)
        assert (measure.effect is Effect.INCENTIVE) == (list_type.kind is ListKind.RED)


def test_the_2016_memorandum_reaches_children_at_private_schools(catalogue: Catalogue) -> None:
    school = [m for m in catalogue.measures.values() if "HOUSEHOLD_CHILD" in m.roles]
    assert [(m.list_type, m.area, m.name) for m in school] == [
        ("DISHONEST_JUDGMENT_DEBTOR", "CONVENIENCE_SERVICES", "限制子女就读高收费私立学校")
    ]


def test_an_incentive_and_a_punitive_measure_share_an_area(catalogue: Catalogue) -> None:
    approval = catalogue.measures_for(area="ADMINISTRATIVE_APPROVAL")
    assert any(m.list_type == "TAX_A_LEVEL" and m.effect is Effect.INCENTIVE for m in approval)
    assert any(
        catalogue.list_types[m.list_type].kind is ListKind.BLACK
        and m.effect in (Effect.PROHIBIT, Effect.RESTRICT)
        for m in approval
    )


def test_jurisdictions(catalogue: Catalogue) -> None:
    jurisdictions = catalogue.jurisdictions
    assert set(jurisdictions) == {"wenzhou", *PARTNERS, *ABOVE}
    assert jurisdictions["wenzhou"].local
    assert catalogue.local_jurisdiction is jurisdictions["wenzhou"]
    assert set(jurisdictions["wenzhou"].recognized_list_types) == set(catalogue.list_types)
    prefixes = {j.id: j.department_prefix for j in jurisdictions.values()}
    assert prefixes == {
        "wenzhou": "wz-",
        "jiaxing": "jx-",
        "jinhua": "jh-",
        "huzhou": "hz-",
        "zhejiang": "zj-",
        "national": "cn-",
    }
    black = {lt.id for lt in catalogue.list_types.values() if lt.kind is ListKind.BLACK}
    recognised = [frozenset(jurisdictions[p].recognized_list_types) for p in PARTNERS]
    for partner, lists in zip(PARTNERS, recognised, strict=True):
        assert not jurisdictions[partner].local
        assert black - lists, f"{partner} recognises every black list"
    assert len(set(recognised)) == len(PARTNERS)
    # the platforms above relay the national lists, not the city's own
    national = set(catalogue.list_types) - {"TAX_ARREARS_WATCH", "CREDIT_MODEL_UNIT"}
    for source in ABOVE:
        assert not jurisdictions[source].local
        assert set(jurisdictions[source].recognized_list_types) == national


def test_the_relaying_department_is_the_list_types_first_issuer(catalogue: Catalogue) -> None:
    assert catalogue.relaying_department("DISHONEST_JUDGMENT_DEBTOR").id == "wz-intermediate-court"
    assert catalogue.relaying_department("SOCIAL_INSURANCE_DISHONEST").id == "wz-hrss"
    with pytest.raises(KeyError):
        catalogue.relaying_department("NO_SUCH_LIST")


# ------------------------------------------------------------------ broken samples

ONE_DEFECT = [
    ("yaml_syntax", Code.YAML_SYNTAX, "measures.yaml", 3),
    ("duplicate_key", Code.DUPLICATE_KEY, "measures.yaml", 7),
    ("unknown_section", Code.UNKNOWN_SECTION, "extra.yaml", 2),
    ("missing_field", Code.MISSING_FIELD, "measures.yaml", 11),
    ("wrong_type", Code.WRONG_TYPE, "list_types.yaml", 6),
    ("bad_value", Code.BAD_VALUE, "measures.yaml", 15),
    ("unknown_field", Code.UNKNOWN_FIELD, "measures.yaml", 29),
    ("duplicate_id", Code.DUPLICATE_ID, "measures_more.yaml", 2),
    ("unknown_area", Code.UNKNOWN_AREA, "measures.yaml", 14),
    ("unknown_role", Code.UNKNOWN_ROLE, "measures.yaml", 9),
    ("unknown_via_role", Code.UNKNOWN_ROLE, "roles.yaml", 15),
    ("unknown_department", Code.UNKNOWN_DEPARTMENT, "measures.yaml", 27),
    ("issuer_not_department", Code.NOT_A_DEPARTMENT, "list_types.yaml", 5),
    ("unknown_list_type", Code.UNKNOWN_LIST_TYPE, "measures.yaml", 22),
    ("jurisdiction_unknown_list_type", Code.UNKNOWN_LIST_TYPE, "jurisdictions.yaml", 8),
    ("missing_legal_basis", Code.MISSING_LEGAL_BASIS, "measures.yaml", 20),
    ("blank_legal_basis", Code.MISSING_LEGAL_BASIS, "list_types.yaml", 10),
    ("role_too_deep", Code.ROLE_TOO_DEEP, "roles.yaml", 10),
    ("via_cycle", Code.VIA_CYCLE, "roles.yaml", 5),
    ("role_beyond_basis", Code.ROLE_BEYOND_BASIS, "measures.yaml", 25),
    ("incentive_on_black_list", Code.INCENTIVE_ON_NON_RED_LIST, "measures.yaml", 15),
    ("punitive_on_red_list", Code.PUNITIVE_ON_RED_LIST, "measures.yaml", 24),
    ("unknown_relation", Code.UNKNOWN_RELATION, "roles.yaml", 11),
    ("unknown_link_role", Code.UNKNOWN_LINK_ROLE, "roles.yaml", 18),
    ("local_jurisdiction_incomplete", Code.LOCAL_JURISDICTION_INCOMPLETE, "jurisdictions.yaml", 2),
    ("no_local_jurisdiction", Code.LOCAL_JURISDICTION_COUNT, "jurisdictions.yaml", 2),
    ("several_local_jurisdictions", Code.LOCAL_JURISDICTION_COUNT, "jurisdictions.yaml", 3),
    ("duplicate_department_prefix", Code.DUPLICATE_DEPARTMENT_PREFIX, "jurisdictions.yaml", 3),
    ("bad_department_prefix", Code.BAD_VALUE, "jurisdictions.yaml", 3),
    ("department_prefix", Code.DEPARTMENT_PREFIX, "base.yaml", 9),
]


def _where(issue: Issue) -> tuple[Code, Path, int]:
    return issue.code, Path(issue.file).resolve(), issue.line


def test_every_broken_sample_is_tested() -> None:
    tested = {case for case, *_ in ONE_DEFECT} | {"several_defects"}
    assert {d.name for d in BROKEN.iterdir() if d.is_dir()} == tested


@pytest.mark.parametrize(
    ("case", "code", "file", "line"), ONE_DEFECT, ids=[case for case, *_ in ONE_DEFECT]
)
def test_a_broken_sample_reports_its_one_defect(
    case: str, code: Code, file: str, line: int
) -> None:
    directory = BROKEN / case
    issues = check_catalogue(directory)
    assert [_where(i) for i in issues] == [(code, (directory / file).resolve(), line)]
    # the reported line is the one the sample marks as defective
    marked = (directory / file).read_text(encoding="utf-8").splitlines()[line - 1]
    assert "# defect" in marked
    with pytest.raises(CatalogueInvalid) as raised:
        load_catalogue(directory)
    assert list(raised.value.issues) == issues


def test_all_defects_of_a_catalogue_are_reported() -> None:
    directory = BROKEN / "several_defects"
    expected = {
        (Code.UNKNOWN_AREA, "measures.yaml", 14),
        (Code.MISSING_LEGAL_BASIS, "measures.yaml", 26),
        (Code.UNKNOWN_DEPARTMENT, "measures.yaml", 9),
        (Code.VIA_CYCLE, "roles.yaml", 7),
        (Code.BAD_VALUE, "list_types.yaml", 13),
        (Code.UNKNOWN_LIST_TYPE, "jurisdictions.yaml", 3),
    }
    issues = check_catalogue(directory)
    assert {_where(i) for i in issues} == {
        (code, (directory / file).resolve(), line) for code, file, line in expected
    }
    assert issues == sorted(issues), "issues come in file and line order"


def test_issue_text_names_file_line_and_code() -> None:
    issue = Issue(
        "rules/catalogues/wenzhou/measures/x.yaml", 12, Code.UNKNOWN_ROLE, "measure M-1: …"
    )
    assert str(issue) == "rules/catalogues/wenzhou/measures/x.yaml:12: unknown-role: measure M-1: …"


def test_a_catalogue_without_jurisdictions_has_no_local_one(tmp_path: Path) -> None:
    base = (BROKEN / "department_prefix" / "base.yaml").read_text(encoding="utf-8")
    (tmp_path / "base.yaml").write_text(base.replace("jx-amr", "wz-amr-jx"), encoding="utf-8")
    issues = check_catalogue(tmp_path)
    assert [(i.code, i.file, i.line) for i in issues] == [
        (Code.LOCAL_JURISDICTION_COUNT, tmp_path.as_posix(), 0)
    ]


def test_an_empty_directory_is_not_a_catalogue(tmp_path: Path) -> None:
    [issue] = check_catalogue(tmp_path)
    assert issue.code is Code.EMPTY_CATALOGUE


def test_a_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    (tmp_path / "areas.yaml").write_bytes("areas: [{id: A, name: 行政审批}]".encode("gb18030"))
    [issue] = check_catalogue(tmp_path)
    assert (issue.code, Path(issue.file).name) == (Code.YAML_SYNTAX, "areas.yaml")


# ------------------------------------------------------------------ the CLI entry point


def test_main_check_summarises_a_valid_catalogue() -> None:
    out = io.StringIO()
    assert main_check(None, out=out) == 0
    summary = out.getvalue().strip()
    assert summary.startswith("catalogue of wenzhou OK: 10 areas, 23 departments, 14 list types, ")
    assert summary.endswith(" measures, 9 roles, 6 jurisdictions")


def test_main_check_prints_one_issue_per_line() -> None:
    out = io.StringIO()
    assert main_check(str(BROKEN / "several_defects"), out=out) == 1
    lines = out.getvalue().splitlines()
    assert len(lines) == 6
    assert all(line.split(":")[0].endswith(".yaml") for line in lines)
    assert any(": via-cycle: role LEGAL_REPRESENTATIVE: " in line for line in lines)
