"""The express carriers a parcel can go with, by the codes the tracking services use
(Kuaidi100's company codes), so a code typed in a shipping file or sent by a carrier's
push maps to one name."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Carrier(models.TextChoices):
    SF = "shunfeng", _("顺丰速运")
    ZTO = "zhongtong", _("中通快递")
    YTO = "yuantong", _("圆通速递")
    YUNDA = "yunda", _("韵达快递")
    STO = "shentong", _("申通快递")
    EMS = "ems", "EMS"
    JD = "jd", _("京东物流")
    JTEXPRESS = "jtexpress", _("极兔速递")
    DEPPON = "debangkuaidi", _("德邦快递")
    YZPY = "youzhengguonei", _("邮政快递包裹")
    OTHER = "other", _("其他")


# What merchants type in a shipping file besides the code: the name, and the short names
# every Chinese merchant uses.
_ALIASES = {
    Carrier.SF: ("顺丰", "sf"),
    Carrier.ZTO: ("中通", "zto"),
    Carrier.YTO: ("圆通", "yto"),
    Carrier.YUNDA: ("韵达", "yd"),
    Carrier.STO: ("申通", "sto"),
    Carrier.EMS: ("中国邮政ems", "邮政ems"),
    Carrier.JD: ("京东", "京东快递", "jdl"),
    Carrier.JTEXPRESS: ("极兔", "jt", "j&t"),
    Carrier.DEPPON: ("德邦", "deppon"),
    Carrier.YZPY: ("邮政", "中国邮政", "邮政包裹"),
}

# The Chinese names, what shipping files and carriers' pushes carry, whatever language the
# page is shown in (the labels above are translated when read).
_NAMES = {
    Carrier.SF: "顺丰速运",
    Carrier.ZTO: "中通快递",
    Carrier.YTO: "圆通速递",
    Carrier.YUNDA: "韵达快递",
    Carrier.STO: "申通快递",
    Carrier.EMS: "EMS",
    Carrier.JD: "京东物流",
    Carrier.JTEXPRESS: "极兔速递",
    Carrier.DEPPON: "德邦快递",
    Carrier.YZPY: "邮政快递包裹",
    Carrier.OTHER: "其他",
}

_LOOKUP = {}
for _carrier in Carrier:
    for _name in (_carrier.value, _NAMES[_carrier], *_ALIASES.get(_carrier, ())):
        _LOOKUP[_name.strip().lower()] = _carrier


# Merchants end a carrier's short name with whichever word they are used to: 圆通快递 for
# 圆通速递, 顺丰快递 for 顺丰速运.
_SUFFIXES = ("快递", "速递", "速运", "物流", "快运", "express")


def find_carrier(text: str) -> Carrier | None:
    """The carrier a merchant means by `text` (code, name or short name, with any of the
    usual endings), or None."""
    key = (text or "").strip().lower()
    if key in _LOOKUP:
        return _LOOKUP[key]
    for suffix in _SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return _LOOKUP.get(key.removesuffix(suffix).strip())
    return None


def carrier_name(code: str) -> str:
    """The display name of a stored carrier code; an unknown (older, free-text) value as is."""
    carrier = _LOOKUP.get((code or "").strip().lower())
    return str(carrier.label) if carrier else code


def carrier_record_name(code: str) -> str:
    """The Chinese name of a stored carrier code, for text that is stored or sent (order
    logs, buyers' notifications, export files): the same whatever language the page is in."""
    carrier = _LOOKUP.get((code or "").strip().lower())
    return _NAMES[carrier] if carrier else code
