"""Wenzhou's 12 county-level divisions (GB/T 2260) and what the generator weighs them by.

Population weights are rough registered populations in units of 10,000; the unit
multipliers skew firms toward the urban districts and the industrial county-level
cities, and the industry boosts encode each place's signature trade.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from domain.identifiers import SubjectKind


@dataclass(frozen=True, slots=True)
class District:
    code: str
    name: str  # full name, e.g. 鹿城区 / 乐清市
    firm_prefix: str  # how firm names begin: 温州市鹿城区 for urban districts, else the name
    population: float
    unit_multiplier: Mapping[SubjectKind, float]
    industry_boost: Mapping[str, float] = field(default_factory=dict)
    towns: tuple[str, ...] = ()
    roads: tuple[str, ...] = ()


def _mult(enterprise: float, institution: float, individual: float) -> Mapping[SubjectKind, float]:
    return MappingProxyType(
        {
            SubjectKind.ENTERPRISE: enterprise,
            SubjectKind.PUBLIC_INSTITUTION: institution,
            SubjectKind.INDIVIDUAL_BUSINESS: individual,
            SubjectKind.PERSON: 1.0,
        }
    )


DISTRICTS: tuple[District, ...] = (
    District(
        "330302",
        "鹿城区",
        "温州市鹿城区",
        76,
        _mult(1.8, 1.6, 1.3),
        {"FOOTWEAR": 3.0, "LIGHTERS": 2.0, "CLOTHING": 1.5, "TRADE": 1.5},
        ("五马", "南汇", "松台", "七都", "双屿", "藤桥", "仰义", "滨江"),
        ("解放路", "人民路", "府前街", "车站大道", "飞霞南路", "学院路", "锦绣路", "鞋都大道"),
    ),
    District(
        "330303",
        "龙湾区",
        "温州市龙湾区",
        40,
        _mult(1.6, 1.0, 1.2),
        {"SYNTHETIC_LEATHER": 4.0, "VALVES_PUMPS": 1.5, "LOCKS": 1.5},
        ("永中", "蒲州", "海滨", "状元", "瑶溪", "沙城", "天河", "海城"),
        ("永宁西路", "永定路", "龙湾大道", "滨海大道", "机场大道", "瑶溪路", "蒲州路", "沙城路"),
    ),
    District(
        "330304",
        "瓯海区",
        "温州市瓯海区",
        46,
        _mult(1.6, 1.0, 1.3),
        {"EYEGLASSES": 4.0, "LOCKS": 3.0, "CLOTHING": 2.0, "LIGHTERS": 1.5},
        ("景山", "梧田", "南白象", "娄桥", "潘桥", "郭溪", "瞿溪", "泽雅"),
        ("瓯海大道", "梧田大街", "娄桥路", "南湖路", "茶山路", "潘桥路", "郭溪路", "瞿溪路"),
    ),
    District(
        "330305",
        "洞头区",
        "温州市洞头区",
        15,
        _mult(0.6, 1.2, 1.0),
        {"TRADE": 1.5, "LOGISTICS": 1.5, "CATERING": 2.0},
        ("北岙", "东屏", "元觉", "霓屿", "大门", "鹿西"),
        ("环岛东路", "海霞路", "东岙路", "中心街", "望海路", "灵昆路"),
    ),
    District(
        "330324",
        "永嘉县",
        "永嘉县",
        97,
        _mult(1.0, 1.0, 1.0),
        {"VALVES_PUMPS": 6.0, "CLOTHING": 1.2},
        ("瓯北", "东城", "北城", "南城", "桥头", "桥下", "上塘", "岩头"),
        ("阀门大道", "楠江路", "双塔路", "江北大道", "罗浮大街", "县前路", "龙桥路", "环城路"),
    ),
    District(
        "330326",
        "平阳县",
        "平阳县",
        91,
        _mult(0.8, 1.0, 1.0),
        {"SYNTHETIC_LEATHER": 2.0, "PRINTING_PACKAGING": 1.5, "CLOTHING": 1.2},
        ("昆阳", "鳌江", "萧江", "水头", "万全", "腾蛟", "麻步", "山门"),
        ("坡南路", "城东路", "鳌江大道", "水头大道", "萧江路", "平阳大道", "解放街", "新城路"),
    ),
    District(
        "330327",
        "苍南县",
        "苍南县",
        88,
        _mult(0.8, 1.0, 1.0),
        {"PRINTING_PACKAGING": 2.0, "CLOTHING": 1.2, "TRADE": 1.2},
        ("灵溪", "矾山", "马站", "桥墩", "钱库", "金乡", "藻溪", "宜山"),
        ("玉苍路", "人民大道", "灵江路", "建兴路", "春晖路", "江滨路", "金乡大道", "站前路"),
    ),
    District(
        "330328",
        "文成县",
        "文成县",
        41,
        _mult(0.4, 1.0, 0.7),
        {"CATERING": 2.0, "TRADE": 1.2, "AGRICULTURE": 3.0},
        ("大峃", "珊溪", "玉壶", "南田", "黄坦", "巨屿"),
        ("建设路", "伯温路", "新城大道", "大会岭路", "县前路", "珊溪路"),
    ),
    District(
        "330329",
        "泰顺县",
        "泰顺县",
        37,
        _mult(0.4, 1.0, 0.7),
        {"CATERING": 2.0, "AGRICULTURE": 3.0},
        ("罗阳", "司前", "泗溪", "雅阳", "仕阳", "筱村"),
        ("罗阳大道", "新城路", "廊桥路", "人民路", "中心街", "泗溪路"),
    ),
    District(
        "330381",
        "瑞安市",
        "瑞安市",
        126,
        _mult(1.1, 1.0, 1.1),
        {"AUTO_PARTS": 6.0, "FOOTWEAR": 1.5, "PRINTING_PACKAGING": 1.2},
        ("安阳", "玉海", "锦湖", "东山", "上望", "塘下", "飞云", "莘塍"),
        (
            "万松路",
            "安阳路",
            "瑞祥大道",
            "塘下大道",
            "汽摩配大道",
            "罗阳大道",
            "虹桥路",
            "莘塍大道",
        ),
    ),
    District(
        "330382",
        "乐清市",
        "乐清市",
        131,
        _mult(1.3, 1.0, 1.2),
        {"ELECTRICAL_EQUIPMENT": 8.0, "VALVES_PUMPS": 1.2},
        ("乐成", "城东", "城南", "柳市", "北白象", "虹桥", "大荆", "白石"),
        ("宁康路", "清远路", "柳市大道", "电器城路", "旭阳路", "伯乐路", "双雁路", "虹桥大道"),
    ),
    District(
        "330383",
        "龙港市",
        "龙港市",
        38,
        _mult(1.2, 0.8, 1.1),
        {"PRINTING_PACKAGING": 8.0, "CLOTHING": 1.2},
        ("龙港", "新城", "舥艚", "芦浦", "云岩", "湖前"),
        ("世纪大道", "人民路", "印刷城路", "站前大道", "龙翔路", "湖前路"),
    ),
)

DISTRICT_BY_CODE: Mapping[str, District] = MappingProxyType({d.code: d for d in DISTRICTS})
