"""Public region data for clients (mini-programs, the H5 picker): the bundled 省/市/区 tree."""

from typing import Any

from django.http import HttpResponse
from ninja import Router, Schema

from . import regions
from .errors import RegionNotFound

router = Router(tags=["地区"])

# The data changes only with a release; clients may keep it for a day.
CACHE_SECONDS = 24 * 3600


class RegionOut(Schema):
    code: str
    name: str


@router.get("/regions", response=list[Any], auth=None)
def region_tree(request):
    """Every province, city and district as nested lists `[code, name, children]`
    (districts have no third element), about 95 KB; the same for every client."""
    response = HttpResponse(regions.as_json(), content_type="application/json; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


@router.get("/regions/{code}/children", response=list[RegionOut], auth=None)
def region_children(request, code: str):
    """The regions one level below a province or city code (`0` for the provinces)."""
    found = regions.children("" if code == "0" else code)
    if not found and code != "0" and regions.get(code) is None:
        raise RegionNotFound()
    return [{"code": r.code, "name": r.name} for r in found]
