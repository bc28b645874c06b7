"""Contact data: raw phones and addresses derived from an index, and their hashes.

Only hashes are stored (`phoneHash`, `addressHash`); the raw value is normalised first
so that the same number written two ways hashes the same. Raw values come from affine
bijections of a subject's global index, so distinct subjects never collide by chance:
a shared hash always means a deliberately shared contact.

The hashes here are bare sha256 digests, the same for every deployment, which keeps the
generator deterministic; they are never stored as such: every writer keys them with the
deployment's secret on the way in (`graph_model.contact_key.keyed_hash`).
"""

from __future__ import annotations

import hashlib
import unicodedata

from seeds.geography import District

_MOBILE_SPACE = 10**9
_MOBILE_MULT = 738_061_397  # odd and not a multiple of 5: invertible modulo 10**9
_LANDLINE_SPACE = 4 * 10**7
_LANDLINE_MULT = 27_182_817  # coprime with 2 and 5: invertible modulo 4 * 10**7


def normalise_phone(raw: str) -> str:
    digits = "".join(c for c in unicodedata.normalize("NFKC", raw) if c.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]  # +86 country code on a mobile number
    return digits


def normalise_address(raw: str) -> str:
    return "".join(unicodedata.normalize("NFKC", raw).split())


def contact_hash(normalised: str) -> str:
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def phone_hash(raw: str) -> str:
    return contact_hash(normalise_phone(raw))


def address_hash(raw: str) -> str:
    return contact_hash(normalise_address(raw))


def person_phone(index: int, seed: int) -> str:
    """A mobile number unique to person `index` (for index < 10**9), in varied spellings."""
    body = (_MOBILE_MULT * index + seed) % _MOBILE_SPACE
    number = f"1{'3589'[(index + seed) % 4]}{body:09d}"
    match index % 3:
        case 0:
            return number
        case 1:
            return f"{number[:3]} {number[3:7]} {number[7:]}"
        case _:
            return f"+86 {number[:3]}-{number[3:7]}-{number[7:]}"


def unit_phone(index: int, seed: int) -> str:
    """A Wenzhou landline unique to unit `index` (for index < 4 * 10**7)."""
    body = (_LANDLINE_MULT * index + seed) % _LANDLINE_SPACE + 5 * 10**7
    return f"0577-{body}" if index % 2 else f"(0577){body}"


def unit_address(district: District, index: int) -> str:
    """A registered address unique to unit `index` within `district`."""
    roads = len(district.roads)
    road = index % roads
    number = (index // roads) % 998 + 1
    floor = index // (roads * 998) + 1
    town = district.towns[road % len(district.towns)]
    area = "街道" if district.name.endswith("区") else "镇"
    spacing = " " if index % 5 == 0 else ""  # some registries pad with spaces
    return (
        f"浙江省温州市{spacing}{district.name}{town}{area}{spacing}"
        f"{district.roads[road]}{number}号{floor}楼"
    )


def household_address(district: District, serial: int) -> str:
    roads = len(district.roads)
    road = serial % roads
    number = (serial // roads) % 600 + 1
    unit = serial // (roads * 600) % 30 + 1
    room = serial // (roads * 600 * 30) + 101
    town = district.towns[(serial // 7) % len(district.towns)]
    area = "街道" if district.name.endswith("区") else "镇"
    return (
        f"浙江省温州市{district.name}{town}{area}{district.roads[road]}{number}号{unit}幢{room}室"
    )
