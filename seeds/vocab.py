"""Words the generator builds names from: surnames, given names, trade names, industries.

Industry keys are stable upper-case codes (what `industry` stores); the Chinese words
only appear inside generated names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

# Common surnames, weighted roughly as in Wenzhou (陈 and 王 lead, 林 and 黄 are
# far more common than nationally).
SURNAMES: tuple[tuple[str, int], ...] = (
    ("陈", 110), ("王", 80), ("林", 55), ("黄", 45), ("张", 45), ("李", 42), ("周", 30),
    ("吴", 28), ("郑", 28), ("徐", 26), ("潘", 20), ("金", 20), ("叶", 19), ("朱", 18),
    ("刘", 18), ("胡", 15), ("杨", 14), ("蔡", 12), ("谢", 12), ("卢", 10), ("董", 9),
    ("池", 8), ("薛", 7), ("戴", 7), ("孙", 7), ("应", 6), ("余", 6), ("施", 6),
    ("郭", 6), ("邵", 5), ("季", 5), ("夏", 5), ("钱", 4), ("章", 4), ("项", 4),
    ("汤", 4), ("包", 4), ("虞", 3), ("缪", 3), ("苏", 3),
)  # fmt: skip

MALE_GIVEN = "伟强军杰俊涛斌勇磊鹏峰浩明建国华志文海波辉刚超宇晨阳宏德林超亮鑫"
FEMALE_GIVEN = "芳丽娜敏静燕霞红萍玲婷雪梅琴慧颖洁佳怡欣悦蓉瑶丹露晶莉琳云"
NEUTRAL_GIVEN = "子一晓春秋安宁乐平永新嘉思雨"

# Trade names (字号). 瓯江 is left out on purpose: the demo's showcase firm owns it.
TRADE_NAMES: tuple[str, ...] = (
    "鹿城", "瓯海", "东方", "宏达", "正泰", "德力西", "华峰", "新力", "兴业", "恒通",
    "金鹰", "红蜻蜓", "康达", "天正", "顺发", "精工", "长城", "海晶", "万利", "百盛",
    "华联", "环宇", "中元", "瑞丰", "永盛", "嘉利", "浙南", "雁荡", "南麂", "江心",
    "大洋", "恒丰", "利达", "飞翔", "金星", "宝龙", "新华", "远东", "龙腾", "信达",
    "鸿运", "恒星", "华泰", "中天", "开元", "东瓯", "永强", "伟业", "盛达", "海通",
    "天一", "万达", "振华", "昌盛", "骏马", "通力", "众成", "立信", "华光", "三星",
)  # fmt: skip

CHINESE_NUMERALS: tuple[str, ...] = (
    "一", "二", "三", "四", "五", "六", "七", "八", "九", "十",
    "十一", "十二", "十三", "十四", "十五", "十六", "十七", "十八", "十九", "二十",
    "二十一", "二十二", "二十三",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Industry:
    key: str
    weight: float  # share among enterprises before district boosts
    firm_words: tuple[str, ...]  # what goes between the trade name and 有限公司
    shop_words: tuple[str, ...]  # individual-business shop names in this trade


INDUSTRIES: tuple[Industry, ...] = (
    Industry("FOOTWEAR", 9, ("鞋业", "鞋材"), ("鞋店", "鞋材加工厂", "皮鞋店")),
    Industry("CLOTHING", 8, ("服饰", "服装"), ("服装店", "童装店", "制衣作坊")),
    Industry("LIGHTERS", 2, ("烟具", "打火机"), ("打火机配件加工厂",)),
    Industry("EYEGLASSES", 2, ("眼镜", "光学"), ("眼镜店",)),
    Industry("ELECTRICAL_EQUIPMENT", 7, ("电气", "电器", "开关"), ("电器配件加工厂", "电器维修部")),
    Industry("VALVES_PUMPS", 4, ("阀门", "泵业", "流体设备"), ("阀门配件加工厂",)),
    Industry("AUTO_PARTS", 4, ("汽车部件", "汽摩配件"), ("汽车修理部", "汽配店")),
    Industry("PRINTING_PACKAGING", 4, ("印刷", "包装", "印业"), ("印刷店", "包装材料店")),
    Industry("LOCKS", 1.5, ("锁业", "五金"), ("五金店", "配锁店")),
    Industry("SYNTHETIC_LEATHER", 1.5, ("合成革", "皮革"), ("皮革经营部",)),
    Industry("TRADE", 16, ("贸易", "进出口", "商贸"), ("便利店", "日用品商店", "水果店", "超市")),
    Industry("CATERING", 6, ("餐饮管理", "酒店管理"), ("小吃店", "餐馆", "面馆", "奶茶店")),
    Industry("CONSTRUCTION", 8, ("建设", "建筑工程", "装饰工程"), ("装修队", "建材店")),
    Industry("TECHNOLOGY", 9, ("科技", "网络科技", "信息技术"), ("手机维修店", "电脑店")),
    Industry("LOGISTICS", 4, ("物流", "供应链"), ("快递服务部", "货运部")),
    Industry("SERVICES", 8, ("商务咨询", "文化传媒", "物业管理"), ("理发店", "美容店", "洗衣店")),
    Industry("AGRICULTURE", 1, ("农业开发", "生态农业"), ("农资店", "水产经营部")),
)  # fmt: skip
INDUSTRY_BY_KEY: Mapping[str, Industry] = MappingProxyType({i.key: i for i in INDUSTRIES})

# Cooperatives (type code 93) are farmers' cooperatives.
COOPERATIVE_PRODUCTS = ("杨梅", "柑橘", "茶叶", "蔬菜", "水产", "农机", "花卉", "竹笋")

FIRM_SUFFIXES: tuple[tuple[str, int], ...] = (
    ("有限公司", 88),
    ("股份有限公司", 6),
    ("集团有限公司", 2),
    ("有限责任公司", 4),
)
