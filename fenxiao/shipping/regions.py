"""China's administrative divisions (省/市/区 with their codes), bundled with the code so
the address picker and the shipping-fee templates work without any network.

The data is `data/regions.json` (see its `source` key and `data/REGIONS_LICENSE.txt`):
34 province-level regions, their cities and districts, about 95 KB, read once per process.
Addresses keep names (that is what a parcel label and the buyer show), so the checks here
are by name; templates keep province codes, which never change with a renamed province.

This module imports no app: the address book (`customers`, below `shipping`) validates
with it too.
"""

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.utils.translation import gettext as _

DATA_FILE = Path(__file__).parent / "data" / "regions.json"

# The province-level regions a mainland shop usually treats apart (remote, or not served).
HONG_KONG, MACAO, TAIWAN = "81", "82", "71"
XINJIANG, TIBET = "65", "54"


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    children: tuple["Region", ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class _Index:
    provinces: tuple[Region, ...]
    by_code: dict[str, Region]
    province_by_name: dict[str, Region]


def _build(rows) -> tuple[Region, ...]:
    return tuple(Region(row[0], row[1], _build(row[2]) if len(row) > 2 else ()) for row in rows)


@cache
def _raw() -> str:
    return DATA_FILE.read_text(encoding="utf-8")


@cache
def _index() -> _Index:
    provinces = _build(json.loads(_raw())["regions"])
    by_code: dict[str, Region] = {}
    stack = list(provinces)
    while stack:
        region = stack.pop()
        by_code[region.code] = region
        stack.extend(region.children)
    return _Index(provinces, by_code, {p.name: p for p in provinces})


def provinces() -> tuple[Region, ...]:
    return _index().provinces


def province_choices() -> list[tuple[str, str]]:
    """(code, name) of every province-level region, for a multi-select."""
    return [(p.code, p.name) for p in provinces()]


def get(code: str) -> Region | None:
    return _index().by_code.get(str(code or ""))


def children(code: str | None) -> tuple[Region, ...]:
    """The regions one level below `code`; the provinces for an empty code; () if unknown."""
    if not code:
        return provinces()
    region = get(code)
    return region.children if region else ()


def province_name(code: str) -> str:
    region = get(code)
    return region.name if region else code


def province_code(name: str) -> str | None:
    """The code of a province by its name as stored on an address (or None)."""
    region = _index().province_by_name.get((name or "").strip())
    return region.code if region else None


def find_triple(province: str, city: str, district: str = "") -> str | None:
    """Why (province, city, district) names are not a real place, or None when they are.

    The district may be left out only where the city has none below it."""
    problem = find_problem(province, city, district)
    return problem[1] if problem else None


def find_problem(province: str, city: str, district: str = "") -> tuple[str, str] | None:
    """As `find_triple`, with the field at fault ("province", "city" or "district")."""
    p = _index().province_by_name.get((province or "").strip())
    if p is None:
        return "province", _("未知的省份：%(province)s") % {"province": province}
    c = next((r for r in p.children if r.name == (city or "").strip()), None)
    if c is None:
        return "city", _("%(province)s下没有“%(city)s”") % {"province": p.name, "city": city}
    district = (district or "").strip()
    if not district:
        return ("district", _("请选择区/县")) if c.children else None
    if not any(r.name == district for r in c.children):
        return "district", _("%(province)s%(city)s下没有“%(district)s”") % {
            "province": p.name,
            "city": c.name,
            "district": district,
        }
    return None


@cache
def as_json() -> str:
    """The whole tree as compact nested lists `[code, name, children]`, for the H5 picker
    and the mini-program API: one cacheable document, built once per process."""
    return json.dumps(json.loads(_raw())["regions"], ensure_ascii=False, separators=(",", ":"))


def picker_options(province: str = "", city: str = "") -> dict:
    """What the 省/市/区 selects list for an address being edited, by name: every province,
    the cities of the chosen province, the districts of the chosen city. The page works
    before (or without) the picker's script loading the whole tree."""
    p = _index().province_by_name.get((province or "").strip())
    c = next((r for r in p.children if r.name == (city or "").strip()), None) if p else None
    return {
        "provinces": provinces(),
        "cities": p.children if p else (),
        "districts": c.children if c else (),
    }
