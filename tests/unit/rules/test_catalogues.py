"""One catalogue per jurisdiction: Jiaxing's loads clean and mirrors Wenzhou's national
vocabulary and lists; a catalogue is refused for an instance of another jurisdiction; a
list type keeps one id everywhere and departments never collide across catalogues."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from api.cli import main as creditlink
from domain.vocabulary import ListKind
from rules import (
    CATALOGUES_DIR,
    Catalogue,
    CatalogueInvalid,
    Code,
    catalogue_dir,
    check_catalogue,
    default_catalogue,
    load_catalogue,
)
from rules.cli import main_check

# the list types Wenzhou recognises from Jiaxing: mutual recognition makes them Jiaxing's too
MUTUAL = (
    "DISHONEST_JUDGMENT_DEBTOR",
    "SAMR_SERIOUS_ILLEGAL",
    "MAJOR_TAX_VIOLATION",
    "GOV_PROCUREMENT_BAD_RECORD",
    "TAX_A_LEVEL",
    "CUSTOMS_AEO",
)
JIAXING_BODIES = {
    "jx-intermediate-court": ("嘉兴市中级人民法院", "court"),
    "jx-tax": ("国家税务总局嘉兴市税务局", "tax"),
    "jx-amr": ("嘉兴市市场监督管理局", "regulator"),
    "jx-finance": ("嘉兴市财政局", "finance"),
    "jx-customs": ("嘉兴海关", "customs"),
    "jx-public-resources": ("嘉兴市公共资源交易中心", "trading-centre"),
    "jx-drc": ("嘉兴市发展和改革委员会", "credit-office"),
    "jx-pboc": ("中国人民银行嘉兴市分行", "central-bank"),
    "jx-hrss": ("嘉兴市人力资源和社会保障局", "regulator"),
    "jx-natural-resources": ("嘉兴市自然资源和规划局", "regulator"),
}


@pytest.fixture(scope="module")
def wenzhou() -> Catalogue:
    return load_catalogue(catalogue_dir("wenzhou"), jurisdiction="wenzhou")


@pytest.fixture(scope="module")
def jiaxing() -> Catalogue:
    return load_catalogue(catalogue_dir("jiaxing"), jurisdiction="jiaxing")


def test_the_repository_ships_wenzhou_and_jiaxing() -> None:
    assert {p.name for p in CATALOGUES_DIR.iterdir() if p.is_dir()} >= {"wenzhou", "jiaxing"}
    assert check_catalogue(None, "jiaxing") == []
    assert check_catalogue(None, "wenzhou") == []
    # the packaged default is Wenzhou's
    assert default_catalogue().local_jurisdiction.id == "wenzhou"
    assert load_catalogue().local_jurisdiction.id == "wenzhou"
    assert load_catalogue(jurisdiction="jiaxing").local_jurisdiction.id == "jiaxing"


def test_areas_and_roles_are_the_same_national_vocabulary(
    wenzhou: Catalogue, jiaxing: Catalogue
) -> None:
    assert jiaxing.areas == wenzhou.areas
    assert list(jiaxing.areas) == list(wenzhou.areas)
    assert jiaxing.roles == wenzhou.roles
    assert list(jiaxing.roles) == list(wenzhou.roles)


def test_jiaxing_is_local_and_recognises_wenzhou_as_wenzhou_recognises_it(
    wenzhou: Catalogue, jiaxing: Catalogue
) -> None:
    home = jiaxing.local_jurisdiction
    assert (home.id, home.name, home.department_prefix) == ("jiaxing", "嘉兴", "jx-")
    assert set(home.recognized_list_types) == set(jiaxing.list_types)
    assert wenzhou.jurisdictions["jiaxing"].recognized_list_types == MUTUAL
    assert jiaxing.jurisdictions["wenzhou"].recognized_list_types == MUTUAL
    assert not jiaxing.jurisdictions["wenzhou"].local
    for source in ("zhejiang", "national"):
        above = jiaxing.jurisdictions[source]
        assert not above.local and set(above.recognized_list_types) == set(MUTUAL)
        assert above.department_prefix == wenzhou.jurisdictions[source].department_prefix
    # every jurisdiction has one prefix in both catalogues
    for jid in set(jiaxing.jurisdictions) & set(wenzhou.jurisdictions):
        assert (
            jiaxing.jurisdictions[jid].department_prefix
            == wenzhou.jurisdictions[jid].department_prefix
        )


def test_jiaxing_departments_are_its_real_bodies(jiaxing: Catalogue) -> None:
    found = {d.id: (d.name, d.kind) for d in jiaxing.departments.values()}
    assert found.items() >= JIAXING_BODIES.items()
    assert all(d.startswith("jx-") for d in found)


def test_departments_never_collide_across_catalogues(
    wenzhou: Catalogue, jiaxing: Catalogue
) -> None:
    assert not set(wenzhou.departments) & set(jiaxing.departments)


def test_jiaxing_lists_are_wenzhous_national_lists_with_jiaxing_issuers(
    wenzhou: Catalogue, jiaxing: Catalogue
) -> None:
    # the mutually recognised lists, and one Wenzhou stores unrecognised when relayed
    assert tuple(jiaxing.list_types) == (*MUTUAL, "CUSTOMS_DISHONEST")
    assert "CUSTOMS_DISHONEST" not in wenzhou.jurisdictions["jiaxing"].recognized_list_types
    for list_type in jiaxing.list_types.values():
        same = wenzhou.list_types[list_type.id]
        assert list_type.model_dump(exclude={"issuers"}) == same.model_dump(exclude={"issuers"})
        assert list_type.issuers and all(i.startswith("jx-") for i in list_type.issuers)
    assert jiaxing.issuers_of("DISHONEST_JUDGMENT_DEBTOR")[0].kind == "court"
    assert [d.id for d in jiaxing.issuers_of("MAJOR_TAX_VIOLATION")] == ["jx-tax"]
    assert [d.id for d in jiaxing.issuers_of("CUSTOMS_AEO")] == ["jx-customs"]


def test_jiaxing_measures_are_wenzhous_with_jiaxing_implementers(
    wenzhou: Catalogue, jiaxing: Catalogue
) -> None:
    for list_type in (*MUTUAL, "CUSTOMS_DISHONEST"):
        ours = {m.id: m for m in jiaxing.measures_for(list_type=list_type)}
        theirs = {m.id: m for m in wenzhou.measures_for(list_type=list_type)}
        assert ours and set(ours) == set(theirs), list_type
        for mid, measure in ours.items():
            same = {"implementers"}
            assert measure.model_dump(exclude=same) == theirs[mid].model_dump(exclude=same)
            assert all(i.startswith("jx-") for i in measure.implementers), mid
    # every area can be checked: each has a punitive measure, and red lists reward
    punitive = {m.area for m in jiaxing.measures.values() if m.effect.punitive}
    assert punitive == set(jiaxing.areas)
    red = {lt.id for lt in jiaxing.list_types.values() if lt.kind is ListKind.RED}
    assert red == {m.list_type for m in jiaxing.measures.values() if not m.effect.punitive}


def test_the_relaying_department_is_jiaxings_own_issuer(jiaxing: Catalogue) -> None:
    assert jiaxing.relaying_department("DISHONEST_JUDGMENT_DEBTOR").id == "jx-intermediate-court"
    assert jiaxing.relaying_department("SAMR_SERIOUS_ILLEGAL").id == "jx-amr"
    with pytest.raises(KeyError):
        jiaxing.relaying_department("WAGE_ARREARS_DISHONEST")  # not a list Jiaxing keeps here


# ------------------------------------------------------------------ against the instance


@pytest.mark.parametrize(
    ("directory", "jurisdiction", "local"),
    [("wenzhou", "jiaxing", "wenzhou"), ("jiaxing", "wenzhou", "jiaxing")],
)
def test_a_catalogue_is_refused_for_another_jurisdiction(
    directory: str, jurisdiction: str, local: str
) -> None:
    with pytest.raises(CatalogueInvalid) as raised:
        load_catalogue(catalogue_dir(directory), jurisdiction=jurisdiction)
    [issue] = raised.value.issues
    assert issue.code is Code.JURISDICTION_MISMATCH
    assert Path(issue.file).resolve() == (catalogue_dir(directory) / "jurisdictions.yaml")
    marked = Path(issue.file).read_text(encoding="utf-8").splitlines()[issue.line - 1]
    assert marked == f"  - id: {local}"
    assert f"the catalogue of {local}, not of {jurisdiction}" in issue.message
    # without a jurisdiction to answer to, the same catalogue is valid
    assert check_catalogue(catalogue_dir(directory)) == []


def test_a_jurisdiction_that_is_no_id_names_no_directory() -> None:
    for bad in ("../wenzhou", "Wenzhou", "w", ""):
        with pytest.raises(ValueError, match="not a jurisdiction id"):
            catalogue_dir(bad)


def test_rules_check_takes_a_jurisdiction(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    assert main_check(None, jurisdiction="jiaxing", out=out) == 0
    assert out.getvalue().startswith("catalogue of jiaxing OK: 10 areas, ")
    out = io.StringIO()
    assert main_check(str(catalogue_dir("wenzhou")), jurisdiction="jiaxing", out=out) == 1
    [line] = out.getvalue().splitlines()
    assert line.endswith(
        "jurisdictions.yaml:8: jurisdiction-mismatch: this is the catalogue of wenzhou, not "
        "of jiaxing, the jurisdiction this instance is; use jiaxing's catalogue"
    )
    out = io.StringIO()
    assert main_check(None, jurisdiction="../etc", out=out) == 2
    assert out.getvalue().startswith("--jurisdiction: not a jurisdiction id")
    # the command itself
    assert creditlink(["rules", "check", "--jurisdiction", "jiaxing"]) == 0
    assert "catalogue of jiaxing OK" in capsys.readouterr().out
    assert (
        creditlink(["rules", "check", str(catalogue_dir("jiaxing")), "--jurisdiction", "wenzhou"])
        == 1
    )
    assert "jurisdiction-mismatch" in capsys.readouterr().out
