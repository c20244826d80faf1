"""Store staff (店长, 导购): added by phone in the backend; a 导购 earns commission as a
distributor, made one in one step (指定分销) when they are not yet."""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from fenxiao.core.errors import DomainError
from fenxiao.customers.services.accounts import normalise_phone
from fenxiao.distribution.models import Distributor
from fenxiao.distribution.services import distributors

from ..errors import StaffRefused, StaffUserNotFound
from ..models import Store, StoreStaff


def user_by_phone(phone: str):
    try:
        phone = normalise_phone(phone)
    except DomainError as error:
        raise StaffUserNotFound(error.message) from None
    user = get_user_model().objects.filter(phone=phone).first()
    if user is None:
        raise StaffUserNotFound()
    return user


def refuse_if_on_staff(store: Store, user) -> None:
    """Adding someone already working at the store would change their role unnoticed (店长
    → 导购): a role is changed on the staff member's own page instead. Someone who left may
    be added again."""
    current = StoreStaff.objects.filter(store=store, user=user, is_active=True).first()
    if current is not None:
        raise StaffRefused(
            _("%(name)s 已是%(store)s的%(role)s；调整岗位请打开这名员工修改")
            % {"name": user.display_name, "store": store.name, "role": current.get_role_display()}
        )


@transaction.atomic
def add(
    store: Store, phone: str, role: str = StoreStaff.Role.GUIDE, *, make_distributor: bool = False, by=None
):
    """Add the user with `phone` as staff of `store`, or take back someone who left."""
    if role not in StoreStaff.Role.values:
        raise StaffRefused(_("请选择岗位（店长或导购）"))
    user = user_by_phone(phone)
    refuse_if_on_staff(store, user)
    try:
        with transaction.atomic():
            staff, created = StoreStaff.objects.get_or_create(
                store=store, user=user, defaults={"role": role, "is_active": True}
            )
    except IntegrityError:
        staff, created = StoreStaff.objects.get(store=store, user=user), False
    if not created:
        StoreStaff.objects.filter(pk=staff.pk).update(role=role, is_active=True)
        staff.refresh_from_db()
    if role == StoreStaff.Role.MANAGER and store.manager_id is None:
        Store.objects.filter(pk=store.pk).update(manager=user)
    if make_distributor:
        make_guide_distributor(staff, by=by)
    return staff


def remove(staff: StoreStaff) -> None:
    """Staff who leave keep their history (members, commission): the row is only deactivated."""
    remove_many([staff.pk])


def remove_many(staff_ids) -> int:
    """离职 for a selection, in one statement: how many were on staff until now (those who
    had already left are left as they are, and not counted)."""
    return StoreStaff.objects.filter(pk__in=list(staff_ids), is_active=True).update(is_active=False)


def make_guide_distributor(staff: StoreStaff, *, by=None) -> Distributor:
    """指定分销 in one step: a pending or suspended account is activated, none is created."""
    return distributors.designate(staff.user, by)
