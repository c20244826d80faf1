"""Payout adapters for withdrawals: WeChat 商家转账 ("wechatpay", to the distributor's
微信零钱 by openid; they confirm receipt in WeChat), Alipay 单笔转账 ("alipay", to a 支付宝
account by its login id and real name), and a sandbox for both.

Which adapter pays each method is `PAYOUT_ADAPTERS` (settings). A method without one is
paid by hand: finance transfers the money and marks the withdrawal paid. The sandbox pays
nobody, so it serves only a demo or a developer's machine.

Like the real services, a transfer is idempotent on the merchant's number (a second
request with the same number answers with the first transfer and moves no money) and may
fail for reasons on the recipient's side (a wrong real name, an unverified account).

`SANDBOX_GATEWAY_DELAY_SECONDS` (a setting, 0 by default) makes the sandbox answer slowly
after booking the transfer, like a service whose reply is lost: tests use it to stop a
worker mid-call.
"""

import secrets
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string
from django.utils.translation import gettext_noop

from .base import PayoutGateway, PayoutNotice, PayoutResult

__all__ = ["PayoutGateway", "PayoutNotice", "PayoutResult", "adapter_name", "gateway_for", "pays_by_openid"]

# In the reference of every transfer the sandbox books: the reconciliation flags such a
# "paid" withdrawal outside a demo.
SANDBOX_MARK = "-SBX-"


class SandboxPayoutGateway(PayoutGateway):
    """Refuses accounts without a real name, or whose id starts with "fail" (to test failures)."""

    def transfer(self, *, out_biz_no, amount, account) -> PayoutResult:
        from ..models import SandboxPayout

        name = str(account.get("name") or "").strip()
        number = str(account.get("account") or "").strip()
        if not name:
            return PayoutResult.refused(gettext_noop("收款人实名信息缺失"))
        if not number or number.lower().startswith("fail"):
            return PayoutResult.refused(gettext_noop("收款账户不存在或未实名认证"))
        reference = f"{self.channel.upper()}{SANDBOX_MARK}{secrets.token_hex(8).upper()}"
        try:
            with transaction.atomic():
                SandboxPayout.objects.create(
                    out_biz_no=out_biz_no, amount=amount, channel=self.channel, reference=reference
                )
        except IntegrityError:
            reference = SandboxPayout.objects.get(out_biz_no=out_biz_no).reference
        delay = float(getattr(settings, "SANDBOX_GATEWAY_DELAY_SECONDS", 0) or 0)
        if delay > 0:
            time.sleep(delay)
        return PayoutResult.paid(reference)


# Adapters that move no real money, and so are never used in production.
DEMO_ONLY = {"sandbox"}


class PayoutUnavailable(Exception):
    """No payout adapter is set up for the method any more."""


# Each adapter's class, imported only when it pays.
ADAPTERS = {
    "sandbox": "fenxiao.distribution.payouts.SandboxPayoutGateway",
    "wechatpay": "fenxiao.distribution.payouts.wechatpay.WechatTransferGateway",
    "alipay": "fenxiao.distribution.payouts.alipay.AlipayTransferGateway",
}


# Adapters that pay a WeChat user by their openid under the 公众号 (learnt in WeChat's
# browser), not by an account number the distributor types.
BY_OPENID = {"wechatpay"}


def adapter_names() -> set[str]:
    return set(ADAPTERS)


def adapter_name(method: str) -> str | None:
    """The adapter that pays `method` automatically, or None when finance pays it by hand."""
    name = settings.PAYOUT_ADAPTERS.get(method) or None
    if name is None or name not in ADAPTERS:
        return None
    if name in DEMO_ONLY and not (settings.DEMO_MODE or settings.DEBUG):
        return None
    return name


def pays_by_openid(method: str) -> bool:
    return adapter_name(method) in BY_OPENID


def gateway_for(method: str) -> PayoutGateway:
    name = adapter_name(method)
    if name is None:
        raise PayoutUnavailable(f"提现方式 {method} 未配置自动打款通道")
    return import_string(ADAPTERS[name])(method)
