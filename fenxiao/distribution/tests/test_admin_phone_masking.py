"""The distribution backend masks phones (139****0002) for staff who may not see them (财务,
or any role without `customers.view_customer_phone`), as the 客户 and order pages do: the
distributors and their parents, the ledger and its team, withdrawals, 掉单申诉 (the buyer,
the attribution, the touches), 客户关系, 推广访问记录, 风控审核 and the trust list, with the
detail actions' summaries. 运营 and a superuser see the whole numbers. The payee's account on
a withdrawal stays whole: finance pays into it."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fenxiao.customers.services.staff import FINANCE, OPERATIONS, ensure_staff_groups
from fenxiao.distribution.models import (
    CustomerBinding,
    Distributor,
    OrderClaim,
    RiskReview,
    RiskTrust,
    Touch,
    TouchSource,
    Withdrawal,
)
from fenxiao.distribution.services import binding, claims, risk
from fenxiao.orders.services import lifecycle
from fenxiao.testing import login, make_address, make_buyer, make_staff

from .backend import credit, designate, list_url, paid_order, request_withdrawal, url

pytestmark = pytest.mark.django_db

# The world fixture's people: distributors a, b (a's team) and an applicant; a buyer bound
# to b whose order a claims; a buyer and a mother whose orders b's own phone received.
A, B, APPLICANT, BUYER, SUSPECT, MOTHER = (f"1390000000{n}" for n in range(1, 7))
PHONES = (A, B, APPLICANT, BUYER, SUSPECT, MOTHER)
# What a role needs beyond 财务 to open every page here (the actions of 运营).
EXTRA = [
    "distribution.change_distributor",
    "distribution.change_orderclaim",
    "distribution.change_customerbinding",
    "distribution.view_touch",
]


def masked(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


def member_of(role: str, perms: list[str] | None = None):
    ensure_staff_groups()
    user = make_staff(role, perms=perms)
    user.groups.add(Group.objects.get(name=role))
    return user


def page(client, url, data=None) -> str:
    reply = client.post(url, data) if data is not None else client.get(url)
    assert reply.status_code == 200, url
    return reply.content.decode()


def pages(world) -> list[tuple[str, dict | None, str, list[str]]]:
    """Each page: (url, POST data or None, the permission it takes, the phones it shows)."""
    a, b = world["a"], world["b"]
    claim = OrderClaim.objects.get()
    bound = CustomerBinding.objects.get(buyer=world["buyer"])
    review = RiskReview.objects.get(status="open")
    withdrawal = world["withdrawal"]
    touch = Touch.objects.filter(buyer=world["buyer"]).first()
    distributors = list_url(Distributor)
    return [
        (distributors, None, "distribution.view_distributor", [A, B, APPLICANT]),
        (url(b), None, "distribution.view_distributor", [A, B]),  # b and its parent a
        (
            reverse("admin:distribution_distributor_ledger", args=[a.pk]),
            None,
            "distribution.view_distributor",
            [A, B],
        ),
        (
            reverse("admin:distribution_distributor_approve", args=[world["pending"].pk]),
            None,
            "distribution.change_distributor",
            [APPLICANT],
        ),
        (
            distributors,  # the bulk rejection's confirmation lists the applicants
            {"action": "reject_selected", "_selected_action": [str(world["pending"].pk)]},
            "distribution.change_distributor",
            [APPLICANT],
        ),
        (list_url(Withdrawal), None, "distribution.view_withdrawal", [B]),
        (url(withdrawal), None, "distribution.view_withdrawal", [B]),
        (
            reverse("admin:distribution_withdrawal_approve", args=[withdrawal.pk]),
            None,
            "distribution.change_withdrawal",
            [B],
        ),
        # The claimant a, and b who had the order.
        (list_url(OrderClaim), None, "distribution.view_orderclaim", [A, B]),
        # …and the buyer, the attribution chain (b, a) and the buyer's touches through b.
        (url(claim), None, "distribution.view_orderclaim", [A, B, BUYER]),
        (
            reverse("admin:distribution_orderclaim_approve", args=[claim.pk]),
            None,
            "distribution.change_orderclaim",
            [A],
        ),
        (list_url(CustomerBinding), None, "distribution.view_customerbinding", [B, BUYER, SUSPECT, MOTHER]),
        (url(bound), None, "distribution.view_customerbinding", [B, BUYER]),
        (
            reverse("admin:distribution_customerbinding_reassign", args=[bound.pk]),
            None,
            "distribution.change_customerbinding",
            [B, BUYER],
        ),
        (list_url(Touch), None, "distribution.view_touch", [A, B, BUYER, SUSPECT, MOTHER]),
        (url(touch), None, "distribution.view_touch", [B, BUYER]),
        (list_url(RiskReview), None, "distribution.view_riskreview", [B, SUSPECT, MOTHER]),
        (url(review), None, "distribution.view_riskreview", [B, SUSPECT]),
        (
            reverse("admin:distribution_riskreview_clear", args=[review.pk]),
            None,
            "distribution.change_riskreview",
            [B, SUSPECT],
        ),
        (list_url(RiskTrust), None, "distribution.view_risktrust", [B, MOTHER]),
    ]


def test_finance_sees_masked_phones_on_every_distribution_page_it_opens(world):
    finance = member_of(FINANCE)
    client = login(finance)
    opened = 0
    for address, data, perm, phones in pages(world):
        if not finance.has_perm(perm):
            continue
        body = page(client, address, data)
        opened += 1
        for phone in PHONES:
            assert phone not in body, (address, phone)
        for phone in phones:
            assert masked(phone) in body, (address, phone)
    assert opened >= 12  # lists, pages, the ledger and finance's own actions


def test_a_role_without_the_phone_permission_sees_them_masked_on_the_actions_too(world):
    """A merchant's own role (财务 plus reviewing distributors, claims and bindings) still
    lacks view_customer_phone: the action pages' summaries and titles mask too."""
    client = login(member_of(FINANCE, perms=EXTRA))
    for address, data, _perm, phones in pages(world):
        body = page(client, address, data)
        for phone in PHONES:
            assert phone not in body, (address, phone)
        for phone in phones:
            assert masked(phone) in body, (address, phone)


@pytest.mark.parametrize("role", [OPERATIONS, "superuser"])
def test_operations_and_a_superuser_see_whole_phones(world, role):
    user = make_staff("boss", superuser=True) if role == "superuser" else member_of(OPERATIONS)
    client = login(user)
    opened = 0
    for address, data, perm, phones in pages(world):
        if not user.has_perm(perm):
            continue
        body = page(client, address, data)
        opened += 1
        for phone in phones:
            assert phone in body, (address, phone)
    assert opened >= (20 if role == "superuser" else 15)


def test_the_payee_account_stays_whole_for_finance(world):
    """Finance pays into the account: a phone-number Alipay account is shown in full on the
    list, the page, the approval page and the payout file; the distributor's phone is not."""
    b = world["b"]
    credit(b, 5000)
    payee = "13700000009"
    withdrawal = request_withdrawal(b, amount=1000, account={"name": "王五", "account": payee})
    client = login(member_of(FINANCE))
    for address in (
        list_url(Withdrawal),
        url(withdrawal),
        reverse("admin:distribution_withdrawal_approve", args=[withdrawal.pk]),
    ):
        body = page(client, address)
        assert payee in body, address
        assert B not in body and masked(B) in body, address
    reply = client.post(
        list_url(Withdrawal),
        {"action": "export_selected_csv", "index": "0", "_selected_action": [str(withdrawal.pk)]},
    )
    assert reply.status_code == 200
    text = reply.content.decode("utf-8-sig")
    assert payee in text and masked(B) in text and B not in text


def test_finance_finds_a_distributor_by_phone_and_sees_it_masked(world):
    """Searching by the whole number still works (staff who know it may look it up); the
    row found shows it masked."""
    client = login(member_of(FINANCE))
    for model in (Distributor, Withdrawal, CustomerBinding, RiskReview):
        reply = client.get(list_url(model), {"q": B})
        assert reply.status_code == 200, model
        assert len(reply.context["cl"].result_list) >= 1, model
        assert masked(B) in reply.content.decode(), model


LISTS = (Distributor, Withdrawal, OrderClaim, CustomerBinding, Touch, RiskReview, RiskTrust)


def more_of_everything(world, staff) -> None:
    """Three more rows on each list: distributors, bindings and touches, withdrawals, held
    orders (reviews, one cleared with trust) and claims."""
    a, b, sku = world["a"], world["b"], world["sku"]
    for n in range(3):  # phones of their own: make_buyer's would meet the world's
        newcomer = designate(parent=a, phone=f"1360000000{n}")
        credit(newcomer, 5000)
        request_withdrawal(newcomer, amount=300)
        binding.record_touch(make_buyer(f"1361000000{n}"), b, TouchSource.LINK)
        suspect = make_buyer(f"1362000000{n}")
        binding.record_touch(suspect, b, TouchSource.LINK)
        make_address(suspect, phone=b.user.phone)
        held = paid_order(suspect, sku)
        lifecycle.ship(held, staff, carrier="顺丰速运", tracking_number=f"SF{held.pk}")
        order = paid_order(world["buyer"], sku)
        claims.file(a, order_number=order.number, phone_tail=world["buyer"].phone[-4:], reason="线下介绍")
    risk.clear(
        RiskReview.objects.filter(status="open").order_by("pk").first(), staff, note="熟人", trust=True
    )


def test_the_lists_cost_the_same_queries_for_more_rows(world, staff):
    client = login(member_of(FINANCE, perms=EXTRA))
    few = {}
    for model in LISTS:
        client.get(list_url(model))  # warm the session and the content types
        with CaptureQueriesContext(connection) as queries:
            assert client.get(list_url(model)).status_code == 200
        few[model] = len(queries)
    rows = {model: model.objects.count() for model in LISTS}
    more_of_everything(world, staff)
    for model in LISTS:
        assert model.objects.count() > rows[model], model
        with CaptureQueriesContext(connection) as queries:
            reply = client.get(list_url(model))
        assert reply.status_code == 200
        assert len(reply.context["cl"].result_list) == model.objects.count(), model
        assert len(queries) <= few[model], (model, [q["sql"] for q in queries.captured_queries])
