"""The express carriers a parcel can go with, by the codes the tracking services use
(Kuaidi100's company codes), so a code typed in a shipping file or sent by a carrier's
push maps to one name."""

from django.db import models


class Carrier(models.TextChoices):
    SF = "shunfeng", "顺丰速运"
    ZTO = "zhongtong", "中通快递"
    YTO = "yuantong", "圆通速递"
    YUNDA = "yunda", "韵达快递"
    STO = "shentong", "申通快递"
    EMS = "ems", "EMS"
    JD = "jd", "京东物流"
    JTEXPRESS = "jtexpress", "极兔速递"
    DEPPON = "debangkuaidi", "德邦快递"
    YZPY = "youzhengguonei", "邮政快递包裹"
    OTHER = "other", "其他"


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

_LOOKUP = {}
for _carrier in Carrier:
    for _name in (_carrier.value, _carrier.label, *_ALIASES.get(_carrier, ())):
        _LOOKUP[_name.strip().lower()] = _carrier


def find_carrier(text: str) -> Carrier | None:
    """The carrier a merchant means by `text` (code, name or short name), or None."""
    return _LOOKUP.get((text or "").strip().lower())


def carrier_name(code: str) -> str:
    """The display name of a stored carrier code; an unknown (older, free-text) value as is."""
    carrier = _LOOKUP.get((code or "").strip().lower())
    return carrier.label if carrier else code
