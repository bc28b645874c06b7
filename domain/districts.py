"""Wenzhou's 12 county-level divisions (GB/T 2260); subjects store the code."""

from __future__ import annotations

from domain.errors import BadUserInput

DISTRICTS: dict[str, str] = {
    "330302": "鹿城区",
    "330303": "龙湾区",
    "330304": "瓯海区",
    "330305": "洞头区",
    "330324": "永嘉县",
    "330326": "平阳县",
    "330327": "苍南县",
    "330328": "文成县",
    "330329": "泰顺县",
    "330381": "瑞安市",
    "330382": "乐清市",
    "330383": "龙港市",
}
_BY_NAME = {name: code for code, name in DISTRICTS.items()}
_BY_NAME.update({name[:-1]: code for code, name in DISTRICTS.items()})


def normalise_district(value: str | None, *, field: str = "district") -> str | None:
    """A district code from its code or Chinese name; None stays None."""
    if value is None:
        return None
    text = value.strip()
    if text in DISTRICTS:
        return text
    if text in _BY_NAME:
        return _BY_NAME[text]
    raise BadUserInput(
        f"{field}: {text[:40]!r} is not one of Wenzhou's districts "
        f"(a GB/T 2260 code such as 330302 or a name such as 鹿城区)",
        field=field,
    )
