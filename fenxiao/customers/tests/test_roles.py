"""The two built-in staff roles, page by page: each opens every backend page its work needs,
its actions go through, and the pages of the other role answer 403 and are not in its
sidebar."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from fenxiao.core import jobs
from fenxiao.customers.services.staff import FINANCE, OPERATIONS, ensure_staff_groups
from fenxiao.distribution.models import CustomerBinding, SettlementBatch, Withdrawal
from fenxiao.distribution.services import ledger
from fenxiao.distribution.tests.backend import paid_order, staff, world  # noqa: F401
from fenxiao.orders.models import AfterSaleStatus, Order, OrderStatus
from fenxiao.orders.services import after_sales
from fenxiao.payments.models import Payment
from fenxiao.testing import make_staff

pytestmark = pytest.mark.django_db

BACKEND = "/backend/"


def member_of(role: str) -> Client:
    user = make_staff(role)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def changelist(label: str) -> str:
    app_label, model = label.split(".")
    return reverse(f"admin:{app_label}_{model}_changelist")


def change(obj, action: str = "change") -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{action}", args=[obj.pk])


# The list pages each role works on; they also appear in its sidebar.
OPERATIONS_PAGES = [
    "catalog.product",
    "catalog.category",
    "storefront.banner",
    "orders.order",
    "orders.aftersale",
    "orders.ordersettings",
    "payments.payment",
    "distribution.distributor",
    "distribution.customerbinding",
    "distribution.touch",
    "distribution.distributorgrade",
    "distribution.commissionrule",
    "distribution.salestier",
    "distribution.distributionsettings",
    "distribution.settingschange",
    "distribution.commission",
    "customers.user",
]
FINANCE_PAGES = [
    "distribution.commission",
    "distribution.settlementbatch",
    "distribution.withdrawal",
    "distribution.distributor",
    "payments.payment",
    "payments.refund",
    "payments.paymentnotification",
    "payments.refusednotificationtally",
    "payments.sandboxtrade",
    "orders.order",
    "orders.aftersale",
    "customers.user",
]
# Pages of the other role (or of the superuser only): 403 and not in the sidebar.
OPERATIONS_FORBIDDEN = [
    "distribution.settlementbatch",
    "distribution.withdrawal",
    "payments.refund",
    "payments.paymentnotification",
    "payments.refusednotificationtally",
    "payments.sandboxtrade",
    "auth.group",
]
FINANCE_FORBIDDEN = ["catalog.category", "storefront.banner", "auth.group"]


@pytest.fixture
def after_sale(world):  # noqa: F811
    order = Order.objects.filter(status=OrderStatus.PENDING_SHIPMENT).first()
    line = order.lines.first()
    return after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason="不想要了", lines=[{"line_id": line.pk}]
    )


def sidebar_links(client) -> str:
    page = client.get(BACKEND)
    assert page.status_code == 200
    return page.content.decode()


@pytest.mark.parametrize(
    "role, pages, forbidden",
    [
        (OPERATIONS, OPERATIONS_PAGES, OPERATIONS_FORBIDDEN),
        (FINANCE, FINANCE_PAGES, FINANCE_FORBIDDEN),
    ],
)
def test_each_role_opens_its_pages_and_only_those(world, after_sale, role, pages, forbidden):  # noqa: F811
    client = member_of(role)
    index = sidebar_links(client)
    for label in pages:
        reply = client.get(changelist(label), follow=True)
        assert reply.status_code == 200, label
        assert f'href="{changelist(label)}"' in index, label
        model = next(m for m in admin.site._registry if m._meta.label_lower == label)
        obj = model.objects.order_by("pk").first()
        if obj is not None:
            assert client.get(change(obj)).status_code == 200, label
    for label in forbidden:
        assert client.get(changelist(label)).status_code == 403, label
        assert f'href="{changelist(label)}"' not in index, label


def test_every_registered_page_answers_by_permission(world, after_sale):  # noqa: F811
    """No page of the backend gives a role a 500 or leaks past its permissions."""
    for role in (OPERATIONS, FINANCE):
        client = member_of(role)
        user = client.get(BACKEND).wsgi_request.user
        for model in admin.site._registry:
            opts = model._meta
            allowed = user.has_perm(f"{opts.app_label}.view_{opts.model_name}") or user.has_perm(
                f"{opts.app_label}.change_{opts.model_name}"
            )
            if opts.label_lower == "core.job":  # the job centre: whoever may run a kind of job
                allowed = jobs.may_open_job_center(user)
            reply = client.get(changelist(opts.label_lower), follow=True)
            assert reply.status_code == (200 if allowed else 403), (role, opts.label_lower)


def test_finance_settles_pays_out_and_approves_refunds(world, after_sale):  # noqa: F811
    finance = member_of(FINANCE)
    batch = world["batch"]
    assert finance.get(change(batch, "approve_batch")).status_code == 200
    assert finance.post(change(batch, "approve_batch"), {"_confirm": "1"}).status_code == 302
    batch.refresh_from_db()
    assert batch.status == "settled"
    assert (
        finance.get(reverse("admin:distribution_settlementbatch_create_batch"), follow=True).status_code
        == 200
    )

    withdrawal = world["withdrawal"]
    assert finance.post(change(withdrawal, "approve"), {"_confirm": "1"}).status_code == 302
    withdrawal.refresh_from_db()
    assert withdrawal.status == "paid"

    # A payment still waiting for its notification: finance asks the gateway; operations may not.
    payment = Payment.objects.order_by("pk").first()
    query = changelist("payments.payment") + f"{payment.pk}/query/"
    assert finance.get(query, follow=True).status_code == 200
    assert member_of(OPERATIONS).get(query).status_code == 403

    # The distributor's ledger page, amounts in yuan.
    ledger_page = finance.get(change(world["b"], "ledger"))
    assert ledger_page.status_code == 200

    assert finance.post(change(after_sale, "approve_after_sale"), {"_confirm": "1"}).status_code == 302
    after_sale.refresh_from_db()
    assert after_sale.status in (AfterSaleStatus.APPROVED, AfterSaleStatus.REFUNDED)

    # Not finance's work: prices, shipping, catalog, distributor status, bindings, rules.
    order = Order.objects.order_by("pk").first()
    assert finance.get(change(order, "ship_order")).status_code == 403
    assert finance.get(change(order, "adjust_price")).status_code == 403
    assert finance.get(change(world["b"], "suspend")).status_code == 403
    assert finance.get(reverse("admin:catalog_product_add")).status_code == 403
    assert finance.get(reverse("admin:distribution_commissionrule_add")).status_code == 403
    binding = CustomerBinding.objects.order_by("pk").first()
    assert finance.get(change(binding, "reassign")).status_code == 403


def test_operations_runs_the_shop_but_moves_no_money(world, after_sale):  # noqa: F811
    ops = member_of(OPERATIONS)
    order = paid_order(world["buyer"], world["sku"])
    reply = ops.post(change(order, "ship_order"), {"carrier": "shunfeng", "tracking_number": "SF1"})
    assert reply.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED

    distributor = world["a"]
    assert ops.post(change(distributor, "suspend"), {"reason": "违规推广"}).status_code == 302
    distributor.refresh_from_db()
    assert distributor.status == "suspended"
    assert ops.get(reverse("admin:distribution_distributor_designate"), follow=True).status_code == 200
    assert ops.get(reverse("admin:catalog_product_add")).status_code == 200
    assert ops.get(reverse("admin:distribution_commissionrule_add")).status_code == 200

    # Money moves are finance's: batches, withdrawals.
    batch, withdrawal = world["batch"], world["withdrawal"]
    balance = ledger.balance(world["b"].pk)
    assert ops.post(change(batch, "approve_batch"), {"_confirm": "1"}).status_code == 403
    assert ops.post(change(withdrawal, "approve"), {"_confirm": "1"}).status_code == 403
    assert SettlementBatch.objects.get(pk=batch.pk).status == "pending_review"
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == "requested"
    assert ledger.balance(world["b"].pk) == balance


def test_roles_are_set_to_their_definition_on_every_migrate():
    finance = Group.objects.get(name=FINANCE)
    finance.permissions.clear()
    extra = Group.objects.get(name=OPERATIONS)
    stray = Permission.objects.get(codename="change_withdrawal")
    extra.permissions.add(stray)
    call_command("migrate", verbosity=0)
    assert finance.permissions.filter(codename="change_withdrawal").exists()
    assert not extra.permissions.filter(pk=stray.pk).exists()
    count = finance.permissions.count()
    ensure_staff_groups()
    ensure_staff_groups()
    assert finance.permissions.count() == count
    assert Group.objects.filter(name__in=[FINANCE, OPERATIONS]).count() == 2


def test_role_page_says_what_the_role_does():
    boss = Client()
    boss.force_login(make_staff("boss", superuser=True))
    finance = Group.objects.get(name=FINANCE)
    body = boss.get(reverse("admin:auth_group_change", args=[finance.pk])).content.decode()
    assert "提现审核与打款" in body and "每次升级后恢复为系统定义" in body
