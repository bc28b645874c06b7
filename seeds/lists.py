"""The sanction lists the generator draws from: who issues each, whom it may name, wording.

Issuers are the Wenzhou catalogue's departments
(`rules/catalogues/wenzhou/departments.yaml`) for every entry: an entry relayed from a
partner city keeps its `jurisdiction` and its original document number, and is recorded
under the Wenzhou department that the list type names, as the API records such entries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING

from domain.identifiers import SubjectKind

if TYPE_CHECKING:
    from rules.models import Catalogue

E = SubjectKind.ENTERPRISE
PI = SubjectKind.PUBLIC_INSTITUTION
IB = SubjectKind.INDIVIDUAL_BUSINESS
P = SubjectKind.PERSON


@dataclass(frozen=True, slots=True)
class ListSpec:
    list_type: str
    kind: str  # BLACK, RED or WATCH
    department: str  # issuer id without the city prefix
    weights: Mapping[SubjectKind, float]  # how often a sanctioned subject of a kind gets this list
    document: str  # document-number pattern: {court} {city} {year} {n}
    reason: str


def _w(**weights: float) -> Mapping[SubjectKind, float]:
    kinds = {"E": E, "PI": PI, "IB": IB, "P": P}
    return MappingProxyType({kinds[k]: v for k, v in weights.items()})


LIST_SPECS: tuple[ListSpec, ...] = (
    ListSpec(
        "DISHONEST_JUDGMENT_DEBTOR", "BLACK", "intermediate-court",
        _w(E=30, PI=40, IB=30, P=85), "({year}){court}执{n}号",
        "有履行能力而拒不履行生效法律文书确定的义务",
    ),
    ListSpec(
        "SAMR_SERIOUS_ILLEGAL", "BLACK", "amr", _w(E=8, PI=5, IB=8),
        "{city}市监处罚〔{year}〕{n}号", "提交虚假材料取得登记且情节严重",
    ),
    ListSpec(
        "MAJOR_TAX_VIOLATION", "BLACK", "tax", _w(E=8, PI=5, IB=8),
        "{city}税稽罚〔{year}〕{n}号", "虚开增值税专用发票,偷税数额较大",
    ),
    ListSpec(
        "GOV_PROCUREMENT_BAD_RECORD", "BLACK", "finance", _w(E=4, PI=10, IB=2),
        "{city}财采监〔{year}〕{n}号", "政府采购活动中提供虚假材料谋取中标",
    ),
    ListSpec(
        "CUSTOMS_DISHONEST", "BLACK", "customs", _w(E=3),
        "{city}关缉违字〔{year}〕{n}号", "走私违法且拒不缴纳罚款",
    ),
    ListSpec(
        "WAGE_ARREARS_DISHONEST", "BLACK", "hrss", _w(E=5, PI=5, IB=6, P=15),
        "{city}人社欠薪〔{year}〕{n}号", "克扣、无故拖欠劳动者劳动报酬数额较大",
    ),
    ListSpec(
        "SAMR_ABNORMAL_OPERATION", "WATCH", "amr", _w(E=25, IB=40),
        "{city}市监异〔{year}〕{n}号", "未按规定报送年度报告",
    ),
    ListSpec(
        "TAX_A_LEVEL", "RED", "tax", _w(E=12),
        "{city}税信A〔{year}〕{n}号", "纳税信用评价为A级",
    ),
    ListSpec(
        "CUSTOMS_AEO", "RED", "customs", _w(E=5),
        "{city}关认证〔{year}〕{n}号", "海关高级认证企业(AEO)",
    ),
)  # fmt: skip
LIST_BY_TYPE: Mapping[str, ListSpec] = MappingProxyType({s.list_type: s for s in LIST_SPECS})


@dataclass(frozen=True, slots=True)
class City:
    key: str  # jurisdiction value, as in rules/catalogues/wenzhou/jurisdictions.yaml
    short: str  # one-character abbreviation used in document numbers
    court: str  # intermediate court code in case numbers
    name: str


HOME = City("wenzhou", "温", "浙03", "温州")
PARTNERS: tuple[City, ...] = (
    City("jiaxing", "嘉", "浙04", "嘉兴"),
    City("jinhua", "金", "浙07", "金华"),
    City("huzhou", "湖", "浙05", "湖州"),
)
CITY_BY_KEY: Mapping[str, City] = MappingProxyType({c.key: c for c in (HOME, *PARTNERS)})

_DEPARTMENT_NAMES = {
    "intermediate-court": "{city}市中级人民法院",
    "amr": "{city}市市场监督管理局",
    "tax": "国家税务总局{city}市税务局",
    "finance": "{city}市财政局",
    "customs": "{city}海关",
    "hrss": "{city}市人力资源和社会保障局",
}

Recognition = Callable[[str, str], bool]
"""(listType, jurisdiction) -> whether Wenzhou applies that partner city's entry."""

MUTUALLY_RECOGNISED = frozenset(
    {"DISHONEST_JUDGMENT_DEBTOR", "SAMR_SERIOUS_ILLEGAL", "MAJOR_TAX_VIOLATION"}
)


def default_recognition(list_type: str, jurisdiction: str) -> bool:
    """Without a catalogue: home entries always, partners' only for three lists."""
    return jurisdiction == HOME.key or list_type in MUTUALLY_RECOGNISED


def catalogue_recognition() -> Recognition:
    """Recognition as `rules/catalogues/wenzhou/jurisdictions.yaml` says, loaded on first use."""
    from rules.loader import load_catalogue  # only worlds that ask pay for the YAML

    @cache
    def catalogue() -> Catalogue:
        return load_catalogue()

    def recognised(list_type: str, jurisdiction: str) -> bool:
        return catalogue().is_recognized(jurisdiction, list_type)

    return recognised


def issuer_id(spec: ListSpec) -> str:
    return f"wz-{spec.department}"


def issuer_name(spec: ListSpec) -> str:
    return _DEPARTMENT_NAMES[spec.department].format(city=HOME.name)


def document_no(spec: ListSpec, city: City, year: int, n: int) -> str:
    return spec.document.format(court=city.court, city=city.short, year=year, n=n)
