"""Alipay 单笔转账 (`alipay.fund.trans.uni.transfer`, product TRANS_ACCOUNT_NO_PWD, scene
DIRECT_TRANSFER) of a withdrawal to the distributor's 支付宝 account, named by its login (a
phone number or an email) and checked by Alipay against the account's real name.

Alipay only allows fund transfers to apps in 公钥证书 mode: set APP_CERT_FILE,
ALIPAY_CERT_FILE and ROOT_CERT_FILE in settings.ALIPAY (see `alipay_client`).

What an answer means:
- `code` 10000: the transfer exists; its `status` says SUCCESS (paid), DEALING / WAIT_PAY /
  INIT (accepted, asked again with `query`), or FAIL / CLOSED / REFUND (the money did not
  move, or came back).
- `code` 40004 for the recipient or the request (no such account, a wrong real name, over
  a personal limit …): refused, with a plain Chinese reason stored on the withdrawal. No
  money moved: the distributor corrects the account and asks again.
- the merchant's side (balance short, Alipay busy, daily limit, an app not allowed to
  transfer …), or no verified answer at all: an exception. The caller asks again later
  with the same out_biz_no, which Alipay answers with the first transfer and never pays
  twice.
Amounts are integer fen, sent as yuan strings.
"""

from django.utils.translation import gettext_noop

from fenxiao.payments.gateways.alipay_client import AlipayClient, fen, yuan

from .base import PayoutGateway, PayoutResult

PRODUCT_CODE = "TRANS_ACCOUNT_NO_PWD"
BIZ_SCENE = "DIRECT_TRANSFER"
DEFAULT_TITLE = "佣金提现"
PAID = {"SUCCESS"}
# Any other status (DEALING, WAIT_PAY, INIT, UNKNOWN, none yet) is a transfer under way.
ENDED = {"FAIL", "CLOSED", "REFUND"}

# Refusals for the recipient or the request: the money did not move and asking again with
# the same data would be refused again. Reasons are stored on rows in Chinese and shown
# through the catalogs (`Withdrawal.failure_reason_text`).
REFUSALS = {
    "PAYEE_NOT_EXIST": gettext_noop("收款支付宝账号不存在"),
    "PAYEE_USER_INFO_ERROR": gettext_noop("收款人姓名与支付宝实名不一致"),
    "PAYEE_ACC_OCUPIED": gettext_noop("该手机号对应多个支付宝账户，请核对收款账号与姓名"),
    "PAYEE_CERT_INFO_ERROR": gettext_noop("收款人身份信息与支付宝实名不一致"),
    "PAYEE_ACCOUNT_STATUS_ERROR": gettext_noop("收款支付宝账户状态异常，无法收款"),
    "PAYEE_USERINFO_STATUS_ERROR": gettext_noop("收款支付宝账户状态异常，无法收款"),
    "PAYEE_NOT_RELNAME_CERTIFY": gettext_noop("收款支付宝账户未实名认证"),
    "PAYEE_ACCOUNT_NOT_EXSIT": gettext_noop("收款支付宝账号不存在"),  # sic: Alipay's spelling
    "PERMIT_CHECK_PERM_IDENTITY_THEFT": gettext_noop("收款账户存在身份冒用风险，支付宝拒绝转账"),
    "PERMIT_NON_BANK_LIMIT_PAYEE": gettext_noop("收款支付宝账户未完善身份信息或已达收款限额，暂无法收款"),
    "PAYEE_TRUSTEESHIP_ACC_OVER_LIMIT": gettext_noop("收款支付宝账户已达收款限额"),
    "EXCEED_LIMIT_PERSONAL_SM_AMOUNT": gettext_noop("单笔金额超过支付宝转账给个人的限额"),
    "EXCEED_LIMIT_SM_AMOUNT": gettext_noop("单笔金额超过支付宝转账限额"),
    "EXCEED_LIMIT_SM_MIN_AMOUNT": gettext_noop("金额低于支付宝单笔转账最低金额（0.10 元）"),
    "INVALID_PARAMETER": gettext_noop("转账信息有误"),
}
# The merchant's side, passing or to be fixed by the merchant (not the distributor): asked
# again later with the same number. Any sub_code starting "PAYER_" (the paying account)
# or ending "SYSTEM_ERROR" is one too.
DEFERRED = {
    "EXCEED_LIMIT_DM_AMOUNT",  # the merchant's daily total
    "EXCEED_LIMIT_MM_AMOUNT",  # the merchant's monthly total
    "EXCEED_LIMIT_DM_MAX_AMOUNT",
    # The number was used with another amount or payee: a human must look, nothing is refused.
    "PAYMENT_INFO_INCONSISTENCY",
    "PERMIT_CHECK_PERM_LIMITED",  # the merchant's account is restricted
    "NO_ACCOUNT_RECEIVE_PERMISSION",
    "PRODUCT_NOT_SIGN",  # 单笔转账 not signed for this app
}


class AlipayTransferDelayed(Exception):
    """Alipay gave no final word on the transfer (busy, the merchant's balance or limits,
    an unknown number): ask again later with the same out_biz_no."""


def _said(answer: dict) -> str:
    code = answer.get("sub_code") or answer.get("code") or ""
    return f"{code} {answer.get('sub_msg') or answer.get('msg') or ''}".strip()[:200]


def _refusal(answer: dict) -> str:
    sub_code = answer.get("sub_code") or ""
    reason = REFUSALS.get(sub_code)
    if reason is None:
        return f"支付宝拒绝转账：{_said(answer)}"
    if sub_code == "INVALID_PARAMETER" and answer.get("sub_msg"):
        return f"{reason}：{answer['sub_msg']}"[:200]
    return reason


def _deferred(answer: dict) -> bool:
    sub_code = answer.get("sub_code") or ""
    return (
        answer.get("code") != "40004"  # 20000 busy, 40001/40002/40006: the request or the app
        or sub_code in DEFERRED
        or sub_code.startswith(("PAYER_", "aop.", "isp.", "isv."))
        or sub_code.endswith("SYSTEM_ERROR")
    )


class AlipayTransferGateway(PayoutGateway):
    def __init__(self, channel: str, client: AlipayClient | None = None):
        super().__init__(channel)
        self._client = client

    @property
    def client(self) -> AlipayClient:
        # Read settings when a transfer is made, not when the adapter is looked up.
        if self._client is None:
            self._client = AlipayClient()
        return self._client

    def transfer(self, *, out_biz_no, amount, account) -> PayoutResult:
        name = str(account.get("name") or "").strip()
        login = str(account.get("account") or "").strip()
        if not name:
            return PayoutResult.refused(gettext_noop("收款人真实姓名缺失"))
        if not login:
            return PayoutResult.refused(gettext_noop("收款支付宝账号缺失"))
        if amount <= 0:
            return PayoutResult.refused(gettext_noop("转账金额必须大于 0"))
        answer = self.client.call(
            "alipay.fund.trans.uni.transfer",
            {
                "out_biz_no": out_biz_no,
                "trans_amount": yuan(amount),
                "product_code": PRODUCT_CODE,
                "biz_scene": BIZ_SCENE,
                "order_title": (self.client.cfg.get("TRANSFER_TITLE") or DEFAULT_TITLE)[:64],
                "payee_info": {"identity": login, "identity_type": "ALIPAY_LOGON_ID", "name": name},
                "remark": f"{DEFAULT_TITLE} {out_biz_no}"[:200],
            },
        )
        if answer.get("code") == "10000":
            return self._state(answer, out_biz_no, amount)
        if _deferred(answer):
            raise AlipayTransferDelayed(f"支付宝暂未转账（{_said(answer)}），稍后以同一单号重试")
        # A refusal may be of the number itself, re-sent after a lost answer: whether a
        # transfer stands under it, not the refusal, says what became of the money.
        found = self.client.call(
            "alipay.fund.trans.common.query",
            {"out_biz_no": out_biz_no, "product_code": PRODUCT_CODE, "biz_scene": BIZ_SCENE},
        )
        if found.get("code") == "10000":
            return self._state(found, out_biz_no, amount)
        if str(found.get("sub_code") or "") != "ORDER_NOT_EXIST":
            raise AlipayTransferDelayed(f"支付宝拒绝转账但查询未确认结果（{_said(found)}），稍后重试")
        return PayoutResult.refused(_refusal(answer), reference=str(answer.get("order_id") or ""))

    def query(self, *, out_biz_no, amount, account) -> PayoutResult:
        answer = self.client.call(
            "alipay.fund.trans.common.query",
            {"out_biz_no": out_biz_no, "product_code": PRODUCT_CODE, "biz_scene": BIZ_SCENE},
        )
        if answer.get("code") == "10000":
            return self._state(answer, out_biz_no, amount)
        # Asking is never a refusal: only a transfer Alipay says failed releases the money
        # (ORDER_NOT_EXIST included: the transfer's answer was DEALING, so it exists).
        raise AlipayTransferDelayed(f"支付宝转账查询无结果（{_said(answer)}），稍后再查")

    def _state(self, answer: dict, out_biz_no: str, amount: int) -> PayoutResult:
        """A transfer Alipay has (code 10000), by its status."""
        if str(answer.get("out_biz_no") or out_biz_no) != out_biz_no:
            raise AlipayTransferDelayed(f"支付宝的应答不是转账 {out_biz_no} 的")
        if answer.get("trans_amount") not in (None, ""):
            try:
                moved = fen(answer["trans_amount"])
            except ValueError:
                moved = None
            if moved != amount:
                # Never recorded as this withdrawal's payment: a human looks (the error is kept).
                raise AlipayTransferDelayed(
                    f"支付宝转账 {out_biz_no} 的金额 {answer['trans_amount']} 元"
                    f"与提现金额 {yuan(amount)} 元不符"
                )
        reference = str(answer.get("order_id") or "")
        status = answer.get("status")
        if status in PAID:
            return PayoutResult.paid(reference)
        if status in ENDED:
            reason = REFUSALS.get(answer.get("error_code") or "") or answer.get("fail_reason")
            return PayoutResult.refused(
                str(reason or f"支付宝转账失败（{status}）")[:200], reference=reference
            )
        # DEALING and the like, or no status yet: accepted, the outcome comes later.
        return PayoutResult.pending(reference)
