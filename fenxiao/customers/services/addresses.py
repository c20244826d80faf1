"""A buyer's address book. Province, city and district must name a real place in the
bundled division data (`fenxiao.shipping.regions`, which imports no app): a parcel label
needs it, and shipping-fee templates price by province."""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from fenxiao.core.numbers import half_width
from fenxiao.shipping import regions

from ..errors import AddressInvalid, AddressNotFound
from ..models import PHONE_PATTERN, Address, User

# The model's validator uses a Unicode `\d`, which lets full-width digits through.
_phone_re = re.compile(PHONE_PATTERN, re.ASCII)

ADDRESS_FIELDS = ("recipient", "phone", "province", "city", "district", "detail")


def _typed(field: str, value) -> str:
    value = str(value or "").strip()
    # A phone typed on a full-width keyboard (１３８ …) is kept as the ASCII digits a courier
    # dials and the order search finds.
    return "".join(half_width(value).split()).replace("-", "") if field == "phone" else value


def get_address(user: User, address_id: int) -> Address:
    address = Address.objects.filter(user=user, pk=address_id).first()
    if address is None:
        raise AddressNotFound()
    return address


def _validate(address: Address) -> None:
    for field in ("recipient", "phone", "province", "city", "detail"):
        if not str(getattr(address, field) or "").strip():
            raise AddressInvalid(
                _("请填写%(field)s") % {"field": Address._meta.get_field(field).verbose_name}
            )
    if not _phone_re.fullmatch(address.phone):
        raise AddressInvalid(_("请输入有效的中国大陆手机号"))
    problem = regions.find_triple(address.province, address.city, address.district)
    if problem:
        raise AddressInvalid(_("请选择正确的省/市/区：%(problem)s") % {"problem": problem})
    try:
        address.full_clean(exclude=["user"])
    except ValidationError as exc:
        raise AddressInvalid(_("；").join(exc.messages)) from exc


def clean_address(data: dict) -> dict:
    """Validate address fields that are not kept in an address book (an order's address)."""
    probe = Address(**{f: _typed(f, data.get(f)) for f in ADDRESS_FIELDS})
    _validate(probe)
    return {f: getattr(probe, f) for f in ADDRESS_FIELDS}


@transaction.atomic
def save_address(user: User, data: dict, address_id: int | None = None) -> Address:
    address = get_address(user, address_id) if address_id else Address(user=user)
    for field in ADDRESS_FIELDS:
        if field in data and data[field] is not None:
            setattr(address, field, _typed(field, data[field]))
    make_default = bool(data.get("is_default")) or not Address.objects.filter(user=user).exists()
    _validate(address)
    if make_default:
        Address.objects.filter(user=user, is_default=True).exclude(pk=address.pk).update(is_default=False)
        address.is_default = True
    address.save()
    return address


@transaction.atomic
def delete_address(user: User, address_id: int) -> None:
    address = get_address(user, address_id)
    was_default = address.is_default
    address.delete()
    if was_default:
        successor = Address.objects.filter(user=user).order_by("-id").first()
        if successor:
            Address.objects.filter(pk=successor.pk).update(is_default=True)
