"""Demo orders in every state, made only through the order, payment and after-sale services.

Payment and refunds normally finish in the background (the sandbox's notification, the
refund task); here they are completed in-process so the demo needs no worker.
"""

from datetime import timedelta
from random import Random

from django.utils import timezone

from fenxiao.catalog.models import Sku
from fenxiao.orders.models import ActorKind, AfterSale, AfterSaleKind, Order, OrderSettings
from fenxiao.orders.services import after_sales, lifecycle
from fenxiao.orders.services.checkout import place_order
from fenxiao.payments.gateways.sandbox import SandboxGateway, paid_notification
from fenxiao.payments.models import Refund, RefundStatus
from fenxiao.payments.services.payments import apply_gateway_payment, start_payment
from fenxiao.payments.services.refunds import execute_refund

from .people import People
from .timeline import DAY, HOUR, MINUTE, Story, rewrite

CARRIERS = {"顺丰速运": "SF", "中通快递": "7853", "圆通速递": "YT", "韵达快递": "4318", "京东物流": "JDVA"}
NOTES = ["", "", "", "请尽快发货，谢谢", "放门口快递柜就行", "送人的，请不要放价格单"]
CANCEL_REASONS = ["不想要了", "地址填错了，重新下单", "拍错规格了"]


def configure_order_settings() -> OrderSettings:
    settings = OrderSettings.current()
    settings.shipping_fee = 1000
    settings.free_shipping_threshold = 9900
    # A return is approved only with an address to send the goods back to.
    settings.return_recipient = "售后仓 王仓管"
    settings.return_phone = "0571-86880000"
    settings.return_address = "浙江省杭州市余杭区仓前街道文一西路 1288 号 退货仓 3 号门"
    settings.save()
    return settings


def pay_in_sandbox(order: Order) -> None:
    """The buyer pays at the sandbox cashier; the gateway's notification is applied here."""
    payment = start_payment(order, "sandbox")
    trade = SandboxGateway().complete_trade(payment.out_trade_no, notify=False)
    apply_gateway_payment("sandbox", paid_notification(trade))


class Shop:
    """Buyers and staff acting on orders; each step also marks when it happened."""

    def __init__(self, rng: Random, people: People, skus: list[Sku], settings: OrderSettings):
        self.rng = rng
        self.people = people
        self.settings = settings
        self.skus = [sku for sku in skus if sku.stock >= 20]

    def place(self, story: Story, lines: int = 0) -> Order:
        buyer = self.rng.choice(self.people.buyers)
        address = self.rng.choice(list(buyer.addresses.order_by("id")))
        count = lines or self.rng.choice([1, 1, 1, 2, 2, 3])
        picks = self.rng.sample(self.skus, count)
        order = place_order(
            buyer,
            [(sku.pk, self.rng.choice([1, 1, 1, 2])) for sku in picks],
            address_id=address.pk,
            note=self.rng.choice(NOTES),
        )
        story.mark("created")
        return order

    def pay(self, order: Order, story: Story) -> Order:
        pay_in_sandbox(order)
        story.mark("paid", (MINUTE, 25 * MINUTE))
        order.refresh_from_db()
        return order

    def ship(self, order: Order, story: Story) -> Order:
        carrier, prefix = self.rng.choice(list(CARRIERS.items()))
        tracking = prefix + "".join(self.rng.choices("0123456789", k=12))
        story.mark("shipped", (3 * HOUR, 30 * HOUR))
        return lifecycle.ship(order, self.people.operations, carrier=carrier, tracking_number=tracking)

    def confirm(self, order: Order, story: Story) -> Order:
        story.mark("completed", (30 * HOUR, 96 * HOUR))
        return lifecycle.complete(order, actor=order.buyer)

    def cancel_unpaid(self, order: Order, story: Story) -> None:
        story.mark("cancelled", (5 * MINUTE, 25 * MINUTE))
        lifecycle.cancel_unpaid(order, actor=order.buyer, reason=self.rng.choice(CANCEL_REASONS))

    def time_out(self, order: Order, story: Story) -> None:
        timeout = self.settings.payment_timeout_minutes * MINUTE
        story.mark("cancelled", (timeout, timeout + MINUTE))
        lifecycle.cancel_unpaid(order, actor_kind=ActorKind.SYSTEM, reason="超时未付款，系统自动取消")

    def cancel_paid(self, order: Order, story: Story) -> None:
        """The buyer cancels before shipment: refunded in full without review."""
        lifecycle.cancel(order, order.buyer, reason="临时有事，不需要了")
        number = order.after_sales.get().number
        story.mark("after_sale_requested", (HOUR, 6 * HOUR), after_sale=number)
        story.mark("after_sale_approved", (1, 5), after_sale=number)
        story.mark("cancelled")
        self.settle_refunds(order, story, number)

    def request(self, order: Order, story: Story, kind: str, reason: str, lines: list[dict]) -> AfterSale:
        sale = after_sales.request_after_sale(order, order.buyer, kind=kind, reason=reason, lines=lines)
        story.mark("after_sale_requested", (2 * HOUR, 48 * HOUR), after_sale=sale.number)
        return sale

    def approve(self, sale: AfterSale, story: Story) -> None:
        after_sales.approve(sale, self.people.finance)
        story.mark("after_sale_approved", (HOUR, 20 * HOUR), after_sale=sale.number)
        if sale.kind == AfterSaleKind.RETURN_REFUND:
            # A return is refunded only once the goods are back in the warehouse.
            after_sales.ship_back(
                sale, sale.order.buyer, carrier="zhongtong", tracking_number=f"7853{sale.pk:08d}"
            )
            story.mark("after_sale_shipped_back", (6 * HOUR, 30 * HOUR), after_sale=sale.number)
            after_sales.receive(sale, self.people.operations, restock=True)
            story.mark("after_sale_received", (DAY, 3 * DAY), after_sale=sale.number)
        self.settle_refunds(sale.order, story, sale.number)

    def reject(self, sale: AfterSale, story: Story, reason: str) -> None:
        after_sales.reject(sale, self.people.operations, reason=reason)
        story.mark("after_sale_rejected", (HOUR, 20 * HOUR), after_sale=sale.number)

    def settle_refunds(self, order: Order, story: Story, number: str) -> None:
        """Run the refund task's work now; it is idempotent if the task ran already."""
        pending = Refund.objects.filter(payment__order=order, status=RefundStatus.PENDING)
        for refund_id in pending.values_list("pk", flat=True):
            execute_refund(refund_id)
        story.mark("refunded", (MINUTE, 5 * MINUTE), after_sale=number)


# Scenarios: each builds one order through the services, marking its story as it goes.


def placed(shop, story):
    return shop.place(story)


def paying(shop, story):
    """The buyer is at the cashier: a payment is open but not paid."""
    order = shop.place(story)
    start_payment(order, "sandbox")
    return order


def paid(shop, story, lines=0):
    return shop.pay(shop.place(story, lines), story)


def shipped(shop, story, lines=0):
    return shop.ship(paid(shop, story, lines), story)


def completed(shop, story, lines=0):
    return shop.confirm(shipped(shop, story, lines), story)


def cancelled_unpaid(shop, story):
    order = shop.place(story)
    shop.cancel_unpaid(order, story)
    return order


def timed_out(shop, story):
    order = shop.place(story)
    shop.time_out(order, story)
    return order


def cancelled_refunded(shop, story):
    order = paid(shop, story)
    shop.cancel_paid(order, story)
    return order


def compensated(shop, story):
    """Completed, then 30% of one line refunded for a flaw, goods kept."""
    order = completed(shop, story)
    line = order.lines.first()
    sale = shop.request(
        order,
        story,
        AfterSaleKind.REFUND_ONLY,
        "外包装有破损，协商部分退款",
        [{"line_id": line.pk, "quantity": 0, "amount": line.paid_amount * 3 // 10}],
    )
    shop.approve(sale, story)
    return order


def returned_one_line(shop, story):
    """Completed, then one of two lines sent back and refunded."""
    order = completed(shop, story, lines=2)
    sale = shop.request(
        order,
        story,
        AfterSaleKind.RETURN_REFUND,
        "尺码不合适，申请退货退款",
        [{"line_id": order.lines.last().pk}],
    )
    shop.approve(sale, story)
    return order


def after_sale_waiting(shop, story):
    order = completed(shop, story)
    line = order.lines.first()
    shop.request(
        order,
        story,
        AfterSaleKind.RETURN_REFUND,
        "收到的颜色与图片不符",
        [{"line_id": line.pk, "quantity": 1}],
    )
    return order


def after_sale_rejected(shop, story):
    order = completed(shop, story)
    sale = shop.request(
        order, story, AfterSaleKind.REFUND_ONLY, "不太喜欢", [{"line_id": order.lines.first().pk}]
    )
    shop.reject(sale, story, "商品无质量问题，如需退货请申请退货退款")
    return order


# scenario, how many, how long ago the first event happened (range, seconds). The longest
# story (completed, then an after-sale) spans under nine days, so it still ends in the past.
PLAN = [
    (completed, 8, (10 * DAY, 30 * DAY)),
    # completed within the freeze period: their commission is still frozen
    (completed, 3, (6 * DAY, 7 * DAY)),
    (compensated, 1, (12 * DAY, 25 * DAY)),
    (returned_one_line, 1, (12 * DAY, 25 * DAY)),
    (after_sale_rejected, 1, (10 * DAY, 20 * DAY)),
    (after_sale_waiting, 1, (9 * DAY, 10 * DAY)),
    (cancelled_unpaid, 2, (1 * DAY, 25 * DAY)),
    (timed_out, 1, (1 * DAY, 25 * DAY)),
    (cancelled_refunded, 2, (2 * DAY, 20 * DAY)),
    (shipped, 4, (2 * DAY, 5 * DAY)),
    (paid, 4, (2 * HOUR, 2 * DAY)),
    (placed, 2, (3 * MINUTE, 15 * MINUTE)),
    (paying, 1, (2 * MINUTE, 3 * MINUTE)),
]


def build_orders(rng: Random, people: People, skus: list[Sku], settings: OrderSettings) -> None:
    """Play the plan oldest first, so ids rise with time as in a real shop."""
    shop = Shop(rng, people, skus, settings)
    now = timezone.now()
    starts = sorted(
        (
            (now - timedelta(seconds=rng.uniform(*ages)), scenario)
            for scenario, count, ages in PLAN
            for _ in range(count)
        ),
        key=lambda pair: pair[0],
    )
    for start, scenario in starts:
        story = Story(start, rng)
        rewrite(scenario(shop, story), story, settings)
