"""Group buy (拼团) for app and mini-program clients: a group's page, and the open groups of
a promotion or product a buyer can join. Public, like the catalog: a shared group link is
opened before signing in. Opening or joining is a checkout (`POST /checkout` with the
group fields)."""

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from fenxiao.core.errors import InvalidInput
from fenxiao.core.money import format_fen

from .models import GroupBuy, GroupMemberStatus, GroupStatus
from .services import groups

router = Router(tags=["拼团"])


class MemberOut(Schema):
    name: str
    is_leader: bool
    is_virtual: bool
    paid: bool


class GroupOut(Schema):
    id: int
    promotion_id: int
    promotion_name: str
    product_id: int
    product_name: str
    sku_id: int | None
    group_price: int
    group_price_display: str
    regular_price: int
    regular_price_display: str
    size: int
    seats_taken: int
    paid_count: int
    seats_left: int
    status: str
    status_display: str
    deadline: datetime
    closed_at: datetime | None
    joinable: bool
    members: list[MemberOut]
    page_url: str


class OpenGroupOut(Schema):
    id: int
    promotion_id: int
    leader_name: str
    size: int
    seats_left: int
    deadline: datetime


class OpenGroupsQuery(Schema):
    # Ids are 64-bit: a larger number is bad input (422), not a database error.
    promotion: int | None = Field(default=None, ge=1, le=2**63 - 1)
    product: int | None = Field(default=None, ge=1, le=2**63 - 1)


def _member(member) -> MemberOut:
    return MemberOut(
        name=member.buyer.display_name if member.buyer else _("拼团用户"),
        is_leader=member.is_leader,
        is_virtual=member.is_virtual,
        paid=member.status in (GroupMemberStatus.PAID, GroupMemberStatus.REFUNDED),
    )


@router.get("/groups/{int:group_id}", response=GroupOut, summary="拼团详情")
def group_detail(request, group_id: int):
    view = groups.group_view(group_id)
    group, product = view.group, view.group.item.product
    return GroupOut(
        id=group.pk,
        promotion_id=group.promotion_id,
        promotion_name=group.promotion.name,
        product_id=product.pk,
        product_name=product.name,
        sku_id=view.sku.pk if view.sku else None,
        group_price=view.group_price,
        group_price_display=format_fen(view.group_price),
        regular_price=view.regular_price,
        regular_price_display=format_fen(view.regular_price),
        size=group.size,
        seats_taken=group.seats_taken,
        paid_count=group.paid_count,
        seats_left=view.seats_left,
        status=group.status,
        status_display=str(GroupStatus(group.status).label),
        deadline=group.deadline,
        closed_at=group.closed_at,
        joinable=view.joinable,
        members=[_member(m) for m in view.members],
        page_url=f"/groups/{group.pk}/",
    )


@router.get("/groups", response=list[OpenGroupOut], summary="可参加的团")
def open_groups(request, query: Query[OpenGroupsQuery]):
    if query.promotion is None and query.product is None:
        raise InvalidInput(_("请指定拼团活动（promotion）或商品（product）"))
    found: list[GroupBuy] = groups.open_groups(promotion_id=query.promotion, product_id=query.product)
    return [
        OpenGroupOut(
            id=g.pk,
            promotion_id=g.promotion_id,
            leader_name=g.leader.display_name,
            size=g.size,
            seats_left=g.size - g.seats_taken,
            deadline=g.deadline,
        )
        for g in found
    ]
