"""The event notices: what the mall tells a buyer or a distributor when a fact becomes true.

Each function is called by the service that makes the fact true, inside its transaction,
with plain values (this app sits below orders, payments and distribution and imports none
of them). Each fact has one key, so a notice is written once per fact and recipient.
"""

from collections.abc import Iterable

from django.utils import timezone

from fenxiao.core.money import format_fen

from ..models import Kind
from .inbox import Draft, notify, notify_many


def _stamp() -> str:
    # For a decision that may be taken again on the same row (a rejected applicant
    # applies again): each decision is its own fact.
    return timezone.now().strftime("%Y%m%d%H%M%S%f")


def order_shipped(
    *, buyer_id: int, order_id: int, number: str, carrier: str, tracking_number: str, parcel_id: int = 0
) -> None:
    parcels_shipped([(buyer_id, order_id, number, carrier, tracking_number, parcel_id)])


def parcels_shipped(parcels: Iterable[tuple[int, int, str, str, str, int]]) -> int:
    """Parcels that left (one, or a batch shipment's chunk): (buyer id, order id, order
    number, carrier name, tracking number, parcel id) each. An order shipped in several
    parcels gets one notice per parcel (each its own fact)."""
    return notify_many(
        Kind.ORDER_SHIPPED,
        (
            Draft(
                buyer_id,
                "订单已发货",
                f"您的订单 {number} 已发货，{carrier} 运单号 {tracking_number}，请留意查收。",
                f"order-shipped:{order_id}" + (f":{parcel_id}" if parcel_id else ""),
                f"/orders/{number}/",
                "order",
                order_id,
            )
            for buyer_id, order_id, number, carrier, tracking_number, parcel_id in parcels
        ),
    )


def refund_done(
    *, buyer_id: int, after_sale_id: int, after_sale_number: str, order_number: str, amount: int
) -> None:
    notify(
        buyer_id,
        Kind.REFUND_DONE,
        "退款成功",
        f"您的售后 {after_sale_number}（订单 {order_number}）已退款 {format_fen(amount)}，"
        "款项按原支付方式退回。",
        f"/orders/{order_number}/",
        source_key=f"refund-done:{after_sale_id}",
        subject_type="after_sale",
        subject_id=after_sale_id,
    )


def after_sale_approved(
    *, buyer_id: int, after_sale_id: int, after_sale_number: str, order_number: str, days: int, address: str
) -> None:
    """A return was approved: the buyer is to ship the goods back before the deadline."""
    where = f"退货地址：{address}" if address else ""
    notify(
        buyer_id,
        Kind.AFTER_SALE_APPROVED,
        "商家已同意退货，请寄回商品",
        f"您的售后 {after_sale_number}（订单 {order_number}）商家已同意退货，"
        f"请在 {days} 天内寄回商品并填写退货物流，逾期售后将自动关闭。{where}",
        f"/orders/{order_number}/after-sales/{after_sale_number}/",
        source_key=f"after-sale-approved:{after_sale_id}",
        subject_type="after_sale",
        subject_id=after_sale_id,
    )


def after_sales_closed(closed: Iterable[tuple[int, int, str, str]]) -> int:
    """Returns never shipped back in time were closed (the sweep, many at once):
    (buyer id, after-sale id, after-sale number, order number) for each."""
    return notify_many(
        Kind.AFTER_SALE_CLOSED,
        (
            Draft(
                buyer_id,
                "售后已关闭",
                f"您的售后 {number}（订单 {order_number}）因未在期限内寄回商品已自动关闭。"
                "如仍需售后，可在售后期内重新申请。",
                f"after-sale-closed:{after_sale_id}",
                f"/orders/{order_number}/after-sales/{number}/",
                "after_sale",
                after_sale_id,
            )
            for buyer_id, after_sale_id, number, order_number in closed
        ),
    )


def commission_arrived(*, order_id: int, amounts: dict[int, int]) -> None:
    """A buyer paid an order that earns commission: one notice per distributor (by user id)
    with what the order earns them in total, across lines and levels."""
    notify_many(
        Kind.COMMISSION_ARRIVED,
        (
            Draft(
                user_id,
                "有新的佣金",
                f"您推广的订单已付款，预计佣金 {format_fen(amount)}，订单完成并过售后期后结算到可提现余额。",
                f"commission-arrived:{order_id}:{user_id}",
                "/d/commissions/",
                "order",
                order_id,
            )
            for user_id, amount in amounts.items()
            if amount > 0
        ),
    )


def commission_arrived_in_store(*, sale_key: str, label: str, amounts: dict[int, int]) -> None:
    """A member bought at a store's till and it earns commission (already past payment and
    completion, so it is frozen until the hold ends): one notice per distributor."""
    notify_many(
        Kind.COMMISSION_ARRIVED,
        (
            Draft(
                user_id,
                "有新的佣金",
                f"您的客户在门店消费（{label}），佣金 {format_fen(amount)}，冻结期满后结算到可提现余额。",
                f"commission-arrived:{sale_key}:{user_id}",
                "/d/commissions/",
            )
            for user_id, amount in amounts.items()
            if amount > 0
        ),
    )


def commission_settled(*, batch_id: int, totals: Iterable[tuple[int, int]]) -> int:
    """A settlement run finished: one notice per distributor (user id, net total settled),
    streamed from the caller's query in chunks."""
    return notify_many(
        Kind.COMMISSION_SETTLED,
        (
            Draft(
                user_id,
                "佣金已结算",
                f"本次结算佣金 {format_fen(total)}，已计入可提现余额。",
                f"commission-settled:{batch_id}:{user_id}",
                "/d/",
                "settlement_batch",
                batch_id,
            )
            for user_id, total in totals
            if total > 0
        ),
    )


def withdrawal_paid(*, user_id: int, withdrawal_id: int, number: str, payout: int) -> None:
    notify(
        user_id,
        Kind.WITHDRAWAL_PAID,
        "提现已到账",
        f"您的提现 {number} 已打款 {format_fen(payout)}，请注意查收。",
        "/d/",
        source_key=f"withdrawal-paid:{withdrawal_id}",
        subject_type="withdrawal",
        subject_id=withdrawal_id,
    )


def withdrawal_rejected(*, user_id: int, withdrawal_id: int, number: str, amount: int, reason: str) -> None:
    notify(
        user_id,
        Kind.WITHDRAWAL_REJECTED,
        "提现未通过",
        f"您的提现 {number} 未通过审核：{reason}。{format_fen(amount)} 已退回可提现余额。",
        "/d/",
        source_key=f"withdrawal-rejected:{withdrawal_id}",
        subject_type="withdrawal",
        subject_id=withdrawal_id,
    )


def withdrawal_to_confirm(*, user_id: int, withdrawal_id: int, number: str, payout: int) -> None:
    notify(
        user_id,
        Kind.WITHDRAWAL_TO_CONFIRM,
        "提现待确认收款",
        f"您的提现 {number} 已转出 {format_fen(payout)}，请在微信中打开「佣金提现」页点击确认收款，"
        "逾期未确认将退回可提现余额。",
        "/d/withdraw/",
        source_key=f"withdrawal-to-confirm:{withdrawal_id}",
        subject_type="withdrawal",
        subject_id=withdrawal_id,
    )


def withdrawal_failed(*, user_id: int, withdrawal_id: int, number: str, amount: int, reason: str) -> None:
    notify(
        user_id,
        Kind.WITHDRAWAL_FAILED,
        "提现打款失败",
        f"您的提现 {number} 打款失败：{reason}。{format_fen(amount)} 已退回可提现余额，"
        "可修改收款信息后重新申请。",
        "/d/withdraw/",
        source_key=f"withdrawal-failed:{withdrawal_id}",
        subject_type="withdrawal",
        subject_id=withdrawal_id,
    )


def distributor_approved(*, user_id: int, distributor_id: int) -> None:
    notify(
        user_id,
        Kind.DISTRIBUTOR_APPROVED,
        "分销商申请已通过",
        "恭喜您成为分销商！分享商品给好友，好友下单后您即可获得佣金。",
        "/d/",
        source_key=f"distributor-approved:{distributor_id}:{_stamp()}",
        subject_type="distributor",
        subject_id=distributor_id,
    )


def distributor_rejected(*, user_id: int, distributor_id: int, reason: str) -> None:
    notify(
        user_id,
        Kind.DISTRIBUTOR_REJECTED,
        "分销商申请未通过",
        f"很抱歉，您的分销商申请未通过：{reason}。您可以完善信息后再次申请。",
        "/d/",
        source_key=f"distributor-rejected:{distributor_id}:{_stamp()}",
        subject_type="distributor",
        subject_id=distributor_id,
    )


def claim_decided(*, user_id: int, claim_id: int, number: str, approved: bool, note: str) -> None:
    if approved:
        title, body = "掉单申诉已改判", f"订单 {number} 已计入您的业绩，佣金按该订单重新计算。"
    else:
        title, body = "掉单申诉未通过", f"订单 {number} 的申诉未通过：{note}"
    notify(
        user_id,
        Kind.CLAIM_DECIDED,
        title,
        body[:500],
        "/d/claims/",
        source_key=f"claim-decided:{claim_id}",
        subject_type="claim",
        subject_id=claim_id,
    )
