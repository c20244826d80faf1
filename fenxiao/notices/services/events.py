"""The event notices: what the mall tells a buyer or a distributor when a fact becomes true.

Each function is called by the service that makes the fact true, inside its transaction,
with plain values (this app sits below orders, payments and distribution and imports none
of them). Each fact has one key, so a notice is written once per fact and recipient.
"""

from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext_noop

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
            Draft.templated(
                buyer_id,
                gettext_noop("订单已发货"),
                gettext_noop(
                    "您的订单 %(number)s 已发货，%(carrier)s 运单号 %(tracking_number)s，请留意查收。"
                ),
                {"number": number, "carrier": {"text": carrier}, "tracking_number": tracking_number},
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
        gettext_noop("退款成功"),
        gettext_noop("您的售后 %(after_sale)s（订单 %(order)s）已退款 %(amount)s，款项按原支付方式退回。"),
        f"/orders/{order_number}/",
        args={"after_sale": after_sale_number, "order": order_number, "amount": format_fen(amount)},
        source_key=f"refund-done:{after_sale_id}",
        subject_type="after_sale",
        subject_id=after_sale_id,
    )


def after_sale_approved(
    *, buyer_id: int, after_sale_id: int, after_sale_number: str, order_number: str, days: int, address: str
) -> None:
    """A return was approved: the buyer is to ship the goods back before the deadline."""
    body = (
        gettext_noop(
            "您的售后 %(after_sale)s（订单 %(order)s）商家已同意退货，"
            "请在 %(days)s 天内寄回商品并填写退货物流，"
            "逾期售后将自动关闭。退货地址：%(address)s"
        )
        if address
        else gettext_noop(
            "您的售后 %(after_sale)s（订单 %(order)s）商家已同意退货，"
            "请在 %(days)s 天内寄回商品并填写退货物流，"
            "逾期售后将自动关闭。"
        )
    )
    notify(
        buyer_id,
        Kind.AFTER_SALE_APPROVED,
        gettext_noop("商家已同意退货，请寄回商品"),
        body,
        f"/orders/{order_number}/after-sales/{after_sale_number}/",
        args={"after_sale": after_sale_number, "order": order_number, "days": days, "address": address},
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
            Draft.templated(
                buyer_id,
                gettext_noop("售后已关闭"),
                gettext_noop(
                    "您的售后 %(after_sale)s（订单 %(order)s）因未在期限内寄回商品已自动关闭。"
                    "如仍需售后，可在售后期内重新申请。"
                ),
                {"after_sale": number, "order": order_number},
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
            Draft.templated(
                user_id,
                gettext_noop("有新的佣金"),
                gettext_noop(
                    "您推广的订单已付款，预计佣金 %(amount)s，订单完成并过售后期后结算到可提现余额。"
                ),
                {"amount": format_fen(amount)},
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
            Draft.templated(
                user_id,
                gettext_noop("有新的佣金"),
                gettext_noop("您的客户在门店消费（%(sale)s），佣金 %(amount)s，冻结期满后结算到可提现余额。"),
                {"sale": label, "amount": format_fen(amount)},
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
            Draft.templated(
                user_id,
                gettext_noop("佣金已结算"),
                gettext_noop("本次结算佣金 %(amount)s，已计入可提现余额。"),
                {"amount": format_fen(total)},
                f"commission-settled:{batch_id}:{user_id}",
                "/d/",
                "settlement_batch",
                batch_id,
            )
            for user_id, total in totals
            if total > 0
        ),
    )


def grades_upgraded(upgrades: Iterable[tuple[int, int, int, str]]) -> int:
    """Distributors the automatic check moved up a grade: (user id, distributor id, grade
    id, grade name) each. One notice per distributor and grade reached."""
    return notify_many(
        Kind.GRADE_UPGRADED,
        (
            Draft.templated(
                user_id,
                gettext_noop("分销等级已提升"),
                gettext_noop("恭喜您升级为「%(grade)s」，之后的推广订单按新等级的佣金比例计算。"),
                {"grade": {"text": grade_name}},
                f"grade-upgraded:{distributor_id}:{grade_id}",
                "/d/",
                "distributor",
                distributor_id,
            )
            for user_id, distributor_id, grade_id, grade_name in upgrades
        ),
    )


def withdrawal_paid(*, user_id: int, withdrawal_id: int, number: str, payout: int) -> None:
    notify(
        user_id,
        Kind.WITHDRAWAL_PAID,
        gettext_noop("提现已到账"),
        gettext_noop("您的提现 %(number)s 已打款 %(amount)s，请注意查收。"),
        "/d/",
        args={"number": number, "amount": format_fen(payout)},
        source_key=f"withdrawal-paid:{withdrawal_id}",
        subject_type="withdrawal",
        subject_id=withdrawal_id,
    )


def withdrawal_rejected(*, user_id: int, withdrawal_id: int, number: str, amount: int, reason: str) -> None:
    notify(
        user_id,
        Kind.WITHDRAWAL_REJECTED,
        gettext_noop("提现未通过"),
        gettext_noop("您的提现 %(number)s 未通过审核：%(reason)s。%(amount)s 已退回可提现余额。"),
        "/d/",
        args={"number": number, "reason": {"text": reason}, "amount": format_fen(amount)},
        source_key=f"withdrawal-rejected:{withdrawal_id}",
        subject_type="withdrawal",
        subject_id=withdrawal_id,
    )


def withdrawal_to_confirm(*, user_id: int, withdrawal_id: int, number: str, payout: int) -> None:
    notify(
        user_id,
        Kind.WITHDRAWAL_TO_CONFIRM,
        gettext_noop("提现待确认收款"),
        gettext_noop(
            "您的提现 %(number)s 已转出 %(amount)s，请在微信中打开「佣金提现」页点击确认收款，"
            "逾期未确认将退回可提现余额。"
        ),
        "/d/withdraw/",
        args={"number": number, "amount": format_fen(payout)},
        source_key=f"withdrawal-to-confirm:{withdrawal_id}",
        subject_type="withdrawal",
        subject_id=withdrawal_id,
    )


def withdrawal_failed(*, user_id: int, withdrawal_id: int, number: str, amount: int, reason: str) -> None:
    notify(
        user_id,
        Kind.WITHDRAWAL_FAILED,
        gettext_noop("提现打款失败"),
        gettext_noop(
            "您的提现 %(number)s 打款失败：%(reason)s。%(amount)s 已退回可提现余额，"
            "可修改收款信息后重新申请。"
        ),
        "/d/withdraw/",
        args={"number": number, "reason": {"text": reason}, "amount": format_fen(amount)},
        source_key=f"withdrawal-failed:{withdrawal_id}",
        subject_type="withdrawal",
        subject_id=withdrawal_id,
    )


def distributor_approved(*, user_id: int, distributor_id: int) -> None:
    notify(
        user_id,
        Kind.DISTRIBUTOR_APPROVED,
        gettext_noop("分销商申请已通过"),
        gettext_noop("恭喜您成为分销商！分享商品给好友，好友下单后您即可获得佣金。"),
        "/d/",
        source_key=f"distributor-approved:{distributor_id}:{_stamp()}",
        subject_type="distributor",
        subject_id=distributor_id,
    )


def distributor_rejected(*, user_id: int, distributor_id: int, reason: str) -> None:
    notify(
        user_id,
        Kind.DISTRIBUTOR_REJECTED,
        gettext_noop("分销商申请未通过"),
        gettext_noop("很抱歉，您的分销商申请未通过：%(reason)s。您可以完善信息后再次申请。"),
        "/d/",
        args={"reason": {"text": reason}},
        source_key=f"distributor-rejected:{distributor_id}:{_stamp()}",
        subject_type="distributor",
        subject_id=distributor_id,
    )


def claim_decided(*, user_id: int, claim_id: int, number: str, approved: bool, note: str) -> None:
    if approved:
        title = gettext_noop("掉单申诉已改判")
        body = gettext_noop("订单 %(number)s 已计入您的业绩，佣金按该订单重新计算。")
    else:
        title, body = gettext_noop("掉单申诉未通过"), gettext_noop("订单 %(number)s 的申诉未通过：%(note)s")
    notify(
        user_id,
        Kind.CLAIM_DECIDED,
        title,
        body,
        "/d/claims/",
        args={"number": number, "note": {"text": note[:400]}},
        source_key=f"claim-decided:{claim_id}",
        subject_type="claim",
        subject_id=claim_id,
    )
