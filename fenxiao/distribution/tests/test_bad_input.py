"""Bad input gets a 4xx with a code and a Chinese message, and writes nothing."""

import re

import pytest

from fenxiao.distribution.models import (
    CustomerBinding,
    Distributor,
    LedgerEntry,
    Touch,
    Withdrawal,
)
from fenxiao.testing import api_for, make_buyer, make_staff

from .helpers import configure, earn, ledger_sum, make_distributor

pytestmark = pytest.mark.django_db

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def refused(reply, status: int, code: str) -> dict:
    assert reply.status_code == status, reply.content
    body = reply.json()
    assert body["code"] == code
    assert CHINESE.search(body["message"]), body
    return body


@pytest.fixture
def funded():
    """A distributor with 10000 × 10% = ¥10.00 settled."""
    distributor = make_distributor()
    earn(distributor, 10000)
    return distributor


def snapshot(distributor):
    return (
        Withdrawal.objects.count(),
        list(LedgerEntry.objects.order_by("pk").values_list("pk", "amount")),
        ledger_sum(distributor),
    )


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        (
            {"amount": 99, "method": "alipay", "account": {"name": "王五", "account": "a@b.cn"}},
            400,
            "WITHDRAWAL_BELOW_MINIMUM",
            "最低提现 ¥1.00",
        ),
        (
            {"amount": 1001, "method": "alipay", "account": {"name": "王五", "account": "a@b.cn"}},
            409,
            "WITHDRAWAL_ABOVE_BALANCE",
            "可提现余额 ¥10.00",
        ),
        (
            {"amount": 500, "method": "paypal", "account": {"name": "王五", "account": "a@b.cn"}},
            400,
            "WITHDRAWAL_INVALID",
            "不支持该提现方式",
        ),
        (
            {"amount": 500, "method": "alipay", "account": {"name": "王五"}},
            400,
            "WITHDRAWAL_INVALID",
            "请填写收款账号",
        ),
        (
            {"amount": 500, "method": "bank", "account": {"name": "王五", "account": "6225"}},
            400,
            "WITHDRAWAL_INVALID",
            "请填写开户银行",
        ),
        (
            {"amount": 500, "method": "wechat", "account": {"name": "  ", "account": "wx"}},
            400,
            "WITHDRAWAL_INVALID",
            "请填写收款人姓名",
        ),
        (
            {"amount": 0, "method": "alipay", "account": {"name": "王五", "account": "a@b.cn"}},
            422,
            "INVALID_INPUT",
            None,
        ),
        ({"amount": "十元", "method": "alipay"}, 422, "INVALID_INPUT", None),
        ({"amount": 500, "method": "alipay", "account": {}, "fee": 0}, 422, "INVALID_INPUT", None),
    ],
)
def test_bad_withdrawal_requests(funded, body, status, code, message):
    before = snapshot(funded)
    body = refused(api_for(funded.user).post("/distribution/withdrawals", body), status, code)
    if message:
        assert body["message"] == message
    assert snapshot(funded) == before


@pytest.mark.parametrize(
    ("method", "account", "message"),
    [
        ("alipay", {"name": "王五", "account": "abc"}, "支付宝账号应为手机号或邮箱"),
        ("alipay", {"name": "王五", "account": "1380013800"}, "支付宝账号应为手机号或邮箱"),
        ("alipay", {"name": "王五", "account": "wangwu@alipay"}, "支付宝账号应为手机号或邮箱"),
        ("bank", {"name": "王五", "bank": "招商银行", "account": "6225 88"}, "银行卡号应为 12–19 位数字"),
        (
            "bank",
            {"name": "王五", "bank": "招商银行", "account": "6225-abcd-0000-0001"},
            "银行卡号应为 12–19 位数字",
        ),
    ],
)
def test_an_account_that_cannot_be_one_is_refused_before_anything_is_held(funded, method, account, message):
    before = snapshot(funded)
    body = refused(
        api_for(funded.user).post(
            "/distribution/withdrawals", {"amount": 500, "method": method, "account": account}
        ),
        400,
        "ACCOUNT_INVALID",
    )
    assert body["message"] == message
    assert snapshot(funded) == before


@pytest.mark.parametrize(
    ("method", "account"),
    [
        ("alipay", {"name": "王五", "account": "13800138000"}),
        ("alipay", {"name": "王五", "account": "wang.wu@example.com"}),
        ("bank", {"name": "王五", "bank": "招商银行", "account": "6225 8800 0000 0000"}),
        ("bank", {"name": "王五", "bank": "招商银行", "account": "6225-8800-0000-0000-123"}),
    ],
)
def test_accounts_as_people_type_them_are_taken(funded, method, account):
    reply = api_for(funded.user).post(
        "/distribution/withdrawals", {"amount": 500, "method": method, "account": account}
    )
    assert reply.status_code == 201, reply.content
    assert Withdrawal.objects.get().account["account"] == account["account"]  # as typed


def test_asking_for_more_than_the_balance_and_the_maximum_is_answered_with_the_balance(funded):
    configure(withdraw_max=500)
    body = refused(
        api_for(funded.user).post(
            "/distribution/withdrawals",
            {"amount": 99900, "method": "alipay", "account": {"name": "王五", "account": "a@b.cn"}},
        ),
        409,
        "WITHDRAWAL_ABOVE_BALANCE",
    )
    assert body["message"] == "可提现余额 ¥10.00"
    # Within the balance, the maximum still holds.
    body = refused(
        api_for(funded.user).post(
            "/distribution/withdrawals",
            {"amount": 600, "method": "alipay", "account": {"name": "王五", "account": "a@b.cn"}},
        ),
        400,
        "WITHDRAWAL_ABOVE_MAXIMUM",
    )
    assert body["message"] == "单次最高提现 ¥5.00"


def test_a_method_the_merchant_has_switched_off_is_refused(funded):
    configure(withdraw_methods=["bank"])
    before = snapshot(funded)
    refused(
        api_for(funded.user).post(
            "/distribution/withdrawals",
            {"amount": 500, "method": "alipay", "account": {"name": "王五", "account": "a@b.cn"}},
        ),
        400,
        "WITHDRAWAL_INVALID",
    )
    assert snapshot(funded) == before


def test_approving_an_already_paid_withdrawal(funded):
    finance = api_for(make_staff(perms=["distribution.change_withdrawal"]))
    number = (
        api_for(funded.user)
        .post(
            "/distribution/withdrawals",
            {"amount": 500, "method": "alipay", "account": {"name": "王五", "account": "a@b.cn"}},
        )
        .json()["number"]
    )
    assert finance.post(f"/staff/distribution/withdrawals/{number}/approve").json()["status"] == "paid"
    before = snapshot(funded)

    refused(
        finance.post(f"/staff/distribution/withdrawals/{number}/approve"), 409, "INVALID_STATE_TRANSITION"
    )
    refused(
        finance.post(f"/staff/distribution/withdrawals/{number}/paid", {"reference": "X"}),
        409,
        "INVALID_STATE_TRANSITION",
    )
    refused(finance.post("/staff/distribution/withdrawals/W000/approve"), 404, "WITHDRAWAL_NOT_FOUND")
    assert snapshot(funded) == before
    assert Withdrawal.objects.get(number=number).status == "paid"


def test_binding_to_oneself_through_the_api(funded):
    before = Touch.objects.count()
    refused(
        api_for(funded.user).post("/distribution/bind", {"code": funded.referral_code}),
        409,
        "BINDING_REFUSED",
    )
    assert not CustomerBinding.objects.filter(buyer=funded.user).exists()
    assert Touch.objects.count() == before


def test_binding_into_a_loop_or_to_an_inactive_distributor_through_the_api():
    from .helpers import suspend

    x = make_distributor()
    y = make_distributor(parent=x)
    idle = make_distributor()
    suspend(idle)
    api = api_for(x.user)
    refused(api.post("/distribution/bind", {"code": y.referral_code}), 409, "DISTRIBUTOR_LOOP_REFUSED")
    refused(api.post("/distribution/bind", {"code": idle.referral_code}), 409, "BINDING_REFUSED")
    assert not CustomerBinding.objects.filter(buyer=x.user).exists()
    assert not Touch.objects.filter(buyer=x.user).exists()


def test_binding_through_the_api_works_for_a_good_code():
    a = make_distributor()
    buyer = make_buyer()
    reply = api_for(buyer).post("/distribution/bind", {"code": a.referral_code.lower(), "source": "qr"})
    assert reply.status_code == 200, reply.content
    assert reply.json() == {
        "decision": "bound",
        "decision_display": "已绑定",
        "rule": "first",
        "reason": "首次绑定",
        "distributor_code": a.referral_code,
    }
    assert CustomerBinding.objects.get(buyer=buyer).source == "qr"


@pytest.mark.parametrize("code", ["NOSUCH99", "", "X" * 12])
def test_unknown_referral_code(code):
    buyer = make_buyer()
    refused(api_for(buyer).post("/distribution/bind", {"code": code}), 404, "DISTRIBUTOR_NOT_FOUND")
    assert Touch.objects.count() == 0
    assert not CustomerBinding.objects.exists()


def test_malformed_bind_requests():
    api = api_for(make_buyer())
    refused(api.post("/distribution/bind", {"code": "X" * 13}), 422, "INVALID_INPUT")
    refused(api.post("/distribution/bind", {"code": "ABC", "source": "manual"}), 422, "INVALID_INPUT")
    assert Touch.objects.count() == 0


@pytest.mark.parametrize("name", ["😀😀", "张三123", "王", "·李四", "<b>李</b>"])
def test_a_real_name_that_is_no_name_is_refused(name):
    configure(enable_mode="apply", review_mode="manual", require_real_name=True)
    api = api_for(make_buyer())
    refused(api.post("/distribution/apply", {"real_name": name}), 400, "REAL_NAME_INVALID")
    assert not Distributor.objects.exists()


@pytest.mark.parametrize("name", ["赵六", "阿依古丽·买买提", "John Smith", "Mary J. Lee", "欧阳娜娜"])
def test_real_names_as_on_an_id_are_taken(name):
    configure(enable_mode="apply", review_mode="manual", require_real_name=True)
    assert api_for(make_buyer()).post("/distribution/apply", {"real_name": name}).status_code == 201


def test_applying_twice():
    configure(enable_mode="apply", review_mode="manual", require_real_name=True)
    buyer = make_buyer()
    api = api_for(buyer)
    refused(api.post("/distribution/apply", {"real_name": " "}), 400, "REAL_NAME_REQUIRED")
    assert not Distributor.objects.exists()
    first = api.post("/distribution/apply", {"real_name": "赵六", "note": "宝妈，朋友圈推广"})
    assert first.status_code == 201
    assert first.json()["status"] == "pending"

    body = refused(
        api.post("/distribution/apply", {"real_name": "赵六"}), 409, "DISTRIBUTOR_APPLICATION_NOT_ALLOWED"
    )
    assert body["message"] == "您已提交申请或已是分销商"
    distributor = Distributor.objects.get()
    assert (distributor.status, distributor.real_name, distributor.apply_note) == (
        "pending",
        "赵六",
        "宝妈，朋友圈推广",
    )


def test_applying_in_designated_mode():
    configure(enable_mode="designated")
    body = refused(
        api_for(make_buyer()).post("/distribution/apply", {"real_name": "赵六"}),
        409,
        "DISTRIBUTOR_APPLICATION_NOT_ALLOWED",
    )
    assert body["message"] == "本店分销商由商家指定，暂不开放申请"
    assert not Distributor.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/distribution/dashboard",
        "/distribution/commissions",
        "/distribution/team",
        "/distribution/balance",
        "/distribution/withdrawals",
        "/distribution/rankings",
    ],
)
def test_a_non_distributor_cannot_see_distributor_pages(path):
    reply = api_for(make_buyer()).get(path)
    body = refused(reply, 403, "NOT_A_DISTRIBUTOR")
    assert body["message"] == "您还不是分销商"


def test_a_pending_applicant_is_not_yet_a_distributor():
    configure(enable_mode="apply", review_mode="manual", require_real_name=False)
    buyer = make_buyer()
    api = api_for(buyer)
    assert api.post("/distribution/apply", {}).status_code == 201
    refused(api.get("/distribution/dashboard"), 403, "NOT_A_DISTRIBUTOR")
    refused(
        api.post(
            "/distribution/withdrawals",
            {"amount": 500, "method": "alipay", "account": {"name": "王五", "account": "a@b.cn"}},
        ),
        403,
        "NOT_A_DISTRIBUTOR",
    )
    assert Withdrawal.objects.count() == 0


def test_signed_out_callers_get_401():
    from fenxiao.testing import ApiClient

    body = refused(ApiClient().get("/distribution/dashboard"), 401, "UNAUTHORIZED")
    assert body["message"] == "请先登录"


@pytest.mark.parametrize(
    ("method", "account", "stored"),
    [
        # A Chinese IME types full-width digits: finance must get a number it can pay to.
        (
            "bank",
            {"name": "王五", "bank": "招商银行", "account": "６２２５　８８００　００００　００００"},
            "6225 8800 0000 0000",
        ),
        ("alipay", {"name": "王五", "account": "１３８００１３８０００"}, "13800138000"),
        ("alipay", {"name": "王五", "account": "ｗａｎｇ＠example.com"}, "wang@example.com"),
    ],
)
def test_full_width_account_numbers_are_taken_and_stored_in_ascii(funded, method, account, stored):
    reply = api_for(funded.user).post(
        "/distribution/withdrawals", {"amount": 500, "method": method, "account": account}
    )
    assert reply.status_code == 201, reply.content
    assert Withdrawal.objects.get().account["account"] == stored


def test_digits_of_other_scripts_are_not_a_bank_card(funded):
    before = snapshot(funded)
    body = refused(
        api_for(funded.user).post(
            "/distribution/withdrawals",
            {
                "amount": 500,
                "method": "bank",
                "account": {"name": "王五", "bank": "招商银行", "account": "٦٢٢٥٨٨٠٠٠٠٠٠٠٠٠٠"},
            },
        ),
        400,
        "ACCOUNT_INVALID",
    )
    assert body["message"] == "银行卡号应为 12–19 位数字"
    assert snapshot(funded) == before
