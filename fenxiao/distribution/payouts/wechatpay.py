"""WeChat Pay 商家转账 (the 2025 API, `/v3/fund-app/mch-transfer/transfer-bills`): a
distributor's withdrawal paid to their 微信零钱.

The transfer is made for the distributor's openid under WECHATPAY's APPID, in the
merchant's transfer scene (1005 佣金报酬 by default). WeChat Pay answers with a bill in
WAIT_USER_CONFIRM and a `package_info`: the money moves only once the distributor confirms
receipt with it in WeChat (the H5 button), and WeChat Pay cancels the bill if they do not in
time. The outcome comes as a signed, encrypted MCHTRANSFER.BILL.FINISHED notification, or
by asking (`query`). The merchant's bill number (`out_bill_no`, the withdrawal number) makes
every attempt idempotent: WeChat Pay answers a repeated number with the bill it already made.

Signing, verifying answers and decrypting notifications are `WechatPayClient`'s, with the
payment gateway's configuration (`settings.WECHATPAY`). The transfer adds these keys, each
optional:

- `TRANSFER_SCENE_ID`: the 转账场景 approved on the merchant platform ("1005", 佣金报酬).
- `TRANSFER_RECV_PERCEPTION`: what the recipient is shown the money is (用户收款感知,
  "劳务报酬"); it must be one the scene allows. Empty: not sent (WeChat's default).
- `TRANSFER_REPORT_INFOS`: the scene's 报备信息, a list of {"info_type", "info_content"}
  (for 1005: 岗位类型 and 报酬说明).

Failure reasons are stored on the withdrawal as they are: plain Chinese, not translated.
"""

import base64
import json
import time
from urllib.parse import quote

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_noop

from fenxiao.payments.errors import (
    GatewayRefused,
    NotificationExpired,
    NotificationMalformed,
    SignatureInvalid,
)
from fenxiao.payments.gateways import signing
from fenxiao.payments.gateways.wechatpay_client import WechatPayClient

from .base import PayoutGateway, PayoutNotice, PayoutResult

TRANSFER_BILLS = "/v3/fund-app/mch-transfer/transfer-bills"
FINISHED_EVENT = "MCHTRANSFER.BILL.FINISHED"
# A bill in these states is sent again when asked about (see `query`).
RESEND_STATES = ("ACCEPTED", "PROCESSING", "WAIT_USER_CONFIRM")
REMARK_PREFIX = "佣金提现 "
REMARK_MAX = 32
REASON_MAX = 200

DEFAULT_SCENE_ID = "1005"
DEFAULT_RECV_PERCEPTION = "劳务报酬"
DEFAULT_REPORT_INFOS = (
    {"info_type": "岗位类型", "info_content": "分销员"},
    {"info_type": "报酬说明", "info_content": "分销佣金提现"},
)

NO_OPENID = gettext_noop("未绑定微信，无法转账到微信零钱")
CANCELLED = gettext_noop("转账已撤销：收款用户未在规定时间内确认收款，或商户撤销了转账")
# Accepted, the outcome still to come. CANCELING ends CANCELLED, or SUCCESS when the
# recipient confirmed first.
PENDING_STATES = {"ACCEPTED", "PROCESSING", "TRANSFERING", "CANCELING", "WAIT_USER_CONFIRM"}
FINAL_STATES = {"SUCCESS", "FAIL", "CANCELLED"}

FAIL_REASONS = {
    "ACCOUNT_FROZEN": gettext_noop("收款用户的微信账户已冻结"),
    "REAL_NAME_CHECK_FAIL": gettext_noop("收款用户未完成微信实名认证"),
    "NAME_NOT_CORRECT": gettext_noop("收款人姓名与微信实名不一致"),
    "OPENID_INVALID": gettext_noop("收款用户的 openid 无效"),
    "TRANSFER_QUOTA_EXCEED": gettext_noop("超过收款用户的单笔收款额度"),
    "DAY_RECEIVED_QUOTA_EXCEED": gettext_noop("超过收款用户的当日收款额度"),
    "MONTH_RECEIVED_QUOTA_EXCEED": gettext_noop("超过收款用户的当月收款额度"),
    "DAY_RECEIVED_COUNT_EXCEED": gettext_noop("超过收款用户的当日收款次数"),
    "ID_CARD_NOT_CORRECT": gettext_noop("收款人身份证校验不通过"),
    "ACCOUNT_NOT_EXIST": gettext_noop("收款用户的微信账户不存在"),
    "TRANSFER_RISK": gettext_noop("该笔转账存在风险，已被微信拦截"),
    "REALNAME_ACCOUNT_RECEIVED_QUOTA_EXCEED": gettext_noop("超过收款用户同一实名下账户的收款额度"),
    "RECEIVE_ACCOUNT_NOT_PERMMIT": gettext_noop("收款用户的账户暂不允许收款"),
    "PAYEE_ACCOUNT_ABNORMAL": gettext_noop("收款用户的账户异常"),
    "PAYER_ACCOUNT_ABNORMAL": gettext_noop("商户付款账户异常"),
    "TRANSFER_SCENE_UNAVAILABLE": gettext_noop("该转账场景暂不可用"),
    "TRANSFER_SCENE_INVALID": gettext_noop("转账场景无效"),
    "TRANSFER_REMARK_SET_FAIL": gettext_noop("转账备注设置失败"),
    "RECEIVE_ACCOUNT_NOT_CONFIGURE": gettext_noop("商户未配置该收款账户"),
    "BLOCK_B2C_USERLIMITAMOUNT_BSRULE_MONTH": gettext_noop("超过收款用户单月接收金额上限"),
    "BLOCK_B2C_USERLIMITAMOUNT_MONTH": gettext_noop("收款用户账户收款受限，本月不能再向其转账"),
    "NON_OVERSEAS_USER": gettext_noop("收款用户不是境外用户，不适用该转账场景"),
    "OVERSEAS_USER": gettext_noop("收款用户是境外用户，不适用该转账场景"),
    "MERCHANT_REJECT": gettext_noop("商户已驳回该笔转账"),
    "MERCHANT_NOT_CONFIRM": gettext_noop("商户未在规定时间内确认该笔转账"),
    "OTHER_FAIL_REASON_TYPE": gettext_noop("其他原因导致转账失败"),
}

# Answers that say nothing of the bill and are asked again later with the same number: the
# far side is busy or short of money (NOT_ENOUGH: the merchant's balance, topped up by
# finance), or the mall's own keys are being fixed (SIGN_ERROR).
RETRY_CODES = {"SYSTEM_ERROR", "FREQUENCY_LIMITED", "NOT_ENOUGH", "RATELIMIT_EXCEEDED", "SIGN_ERROR"}
ERROR_CODES = {
    "PARAM_ERROR": gettext_noop("参数错误"),
    "INVALID_REQUEST": gettext_noop("请求不符合转账规则"),
    "NO_AUTH": gettext_noop("商户无此转账权限"),
    "OPENID_INVALID": gettext_noop("收款用户的 openid 无效"),
}


def notify_url(channel: str) -> str:
    """Where WeChat Pay notifies the transfer's outcome."""
    return settings.SITE_URL + reverse("api:payout_notify", args=[channel])


def encrypt_name(key_file: str, name: str) -> str:
    """`name` as WeChat Pay takes a sensitive field: RSA-OAEP (SHA-1) with the 微信支付公钥,
    base64. The client names that key in every request's `Wechatpay-Serial`."""
    # OAEP with SHA-1 is the padding WeChat Pay decrypts (SHA-1 is not broken inside OAEP).
    sha1 = hashes.SHA1()  # noqa: S303
    cipher = signing.public_key(key_file).encrypt(
        name.encode(), padding.OAEP(mgf=padding.MGF1(sha1), algorithm=sha1, label=None)
    )
    return base64.b64encode(cipher).decode()


def fail_reason(code: str) -> str:
    return FAIL_REASONS.get(code, f"微信转账失败（{code or '未知原因'}）")


def _retry_later(reply) -> bool:
    return reply.status >= 500 or reply.status in (401, 429) or reply.code in RETRY_CODES


def _error(reply) -> str:
    code = reply.code or str(reply.status)
    label = ERROR_CODES.get(code, "")
    message = str(reply.data.get("message", "")).strip()
    text = f"{label}（{code}）" if label else code
    return f"{text}：{message}" if message else text


def _refused(reply) -> PayoutResult:
    return PayoutResult.refused(f"微信支付拒绝转账，{_error(reply)}"[:REASON_MAX])


def _retry(action: str, reply) -> GatewayRefused:
    return GatewayRefused(f"微信支付暂不能{action}（稍后用同一单号重试）：{_error(reply)}")


def result_of(bill: dict) -> PayoutResult:
    """A transfer bill's state as a payout result. Raises on a state this module does not
    know: better asked again than guessed."""
    state = bill.get("state")
    reference = str(bill.get("transfer_bill_no") or "")
    if state == "SUCCESS":
        return PayoutResult.paid(reference)
    if state == "FAIL":
        return PayoutResult.refused(fail_reason(str(bill.get("fail_reason") or "")), reference)
    if state == "CANCELLED":
        return PayoutResult.refused(CANCELLED, reference)
    if state == "WAIT_USER_CONFIRM":
        return PayoutResult.pending(reference, confirm_package=str(bill.get("package_info") or ""))
    if state in PENDING_STATES:
        return PayoutResult.pending(reference)
    raise GatewayRefused(f"微信转账单状态未知：{state!r}")


class WechatTransferGateway(PayoutGateway):
    def __init__(self, channel: str = "wechat", client: WechatPayClient | None = None):
        super().__init__(channel)
        self._client = client

    @property
    def client(self) -> WechatPayClient:
        # Made on first use: a refusal that needs no call works without the keys.
        if self._client is None:
            self._client = WechatPayClient()
        return self._client

    def transfer(self, *, out_biz_no, amount, account) -> PayoutResult:
        openid = str((account or {}).get("openid") or "").strip()
        if not openid:
            return PayoutResult.refused(NO_OPENID)
        _check_amount(amount)
        name = str((account or {}).get("name") or "").strip()
        reply = self.client.request("POST", TRANSFER_BILLS, self._bill(out_biz_no, amount, openid, name))
        if reply.ok:
            return self._checked(reply.data, out_biz_no, amount)
        if _retry_later(reply):
            raise _retry("转账", reply)
        # A refusal may be of the number itself (already taken by a bill whose answer was
        # lost and which the request, re-sent, no longer matches to the letter): whether a
        # bill stands under the number, not the refusal, says what became of the money.
        bill = self._find(out_biz_no)
        if bill is None:
            return _refused(reply)
        return self._checked(bill, out_biz_no, amount)

    def query(self, *, out_biz_no, amount, account=None) -> PayoutResult:
        bill = self._find(out_biz_no)
        if bill is None:
            # Asked only about bills WeChat Pay accepted: one it does not know is not an
            # answer (its records lagging, or a wrong account), so asked again later.
            raise GatewayRefused(f"微信支付查无转账单 {out_biz_no}，稍后再查")
        if bill.get("state") in RESEND_STATES and account:
            # ACCEPTED and PROCESSING (funds short) move on only when the same bill is sent
            # again, and only the answer to sending carries WAIT_USER_CONFIRM's package:
            # re-sent under the same number, which never makes a second bill.
            return self.transfer(out_biz_no=out_biz_no, amount=amount, account=account)
        return self._checked(bill, out_biz_no, amount)

    def cancel(self, out_biz_no: str) -> PayoutResult:
        """Withdraw a transfer the recipient has not confirmed yet: refused once CANCELLED,
        pending while CANCELING. One already settled answers with its outcome."""
        reply = self.client.request("POST", f"{self._bill_path(out_biz_no)}/cancel")
        if reply.ok:
            return result_of(reply.data)
        if _retry_later(reply):
            raise _retry("撤销转账", reply)
        bill = self._find(out_biz_no)  # refused: paid or failed meanwhile, say
        if bill is None:
            raise GatewayRefused(f"微信支付查无转账单 {out_biz_no}，无法撤销：{_error(reply)}")
        return self._checked(bill, out_biz_no, None)

    def parse_notification(self, headers, body) -> PayoutNotice:
        sent_at = self.client.verify({k.lower(): v for k, v in headers.items()}, body)
        if abs(time.time() - sent_at) > settings.PAYMENT_NOTIFY_MAX_AGE_SECONDS:
            raise NotificationExpired()
        try:
            envelope = json.loads(body)
            if not isinstance(envelope, dict) or envelope.get("event_type") != FINISHED_EVENT:
                # Only finished transfers are notified to this address.
                raise NotificationMalformed()
            bill = self.client.decrypt(envelope["resource"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise NotificationMalformed() from exc
        if bill.get("mch_id") != self.client.mchid:
            # Signed by WeChat Pay but about another merchant's transfer.
            raise SignatureInvalid()
        number, amount = bill.get("out_bill_no"), bill.get("transfer_amount")
        if not number or not isinstance(number, str) or type(amount) is not int:
            raise NotificationMalformed()
        if bill.get("state") not in FINAL_STATES or not bill.get("transfer_bill_no"):
            raise NotificationMalformed()
        return PayoutNotice(out_biz_no=number, amount=amount, result=result_of(bill))

    # --- the requests --------------------------------------------------------------------------
    def _bill(self, out_biz_no: str, amount: int, openid: str, name: str) -> dict:
        cfg = self.client.cfg
        payload = {
            "appid": self.client.appid,
            "out_bill_no": out_biz_no,
            "transfer_scene_id": str(cfg.get("TRANSFER_SCENE_ID") or DEFAULT_SCENE_ID),
            "openid": openid,
            "transfer_amount": amount,
            "transfer_remark": (REMARK_PREFIX + out_biz_no)[:REMARK_MAX],
            "notify_url": notify_url(self.channel),
        }
        if name:
            # WeChat Pay checks it against the openid's real name (NAME_NOT_CORRECT if not).
            payload["user_name"] = encrypt_name(cfg["PUBLIC_KEY_FILE"], name)
        perception = cfg.get("TRANSFER_RECV_PERCEPTION", DEFAULT_RECV_PERCEPTION)
        if perception:
            payload["user_recv_perception"] = str(perception)
        infos = cfg.get("TRANSFER_REPORT_INFOS", DEFAULT_REPORT_INFOS)
        payload["transfer_scene_report_infos"] = [
            {"info_type": str(info["info_type"]), "info_content": str(info["info_content"])}
            for info in infos or ()
        ]
        return payload

    def _bill_path(self, out_biz_no: str) -> str:
        return f"{TRANSFER_BILLS}/out-bill-no/{quote(out_biz_no, safe='')}"

    def _find(self, out_biz_no: str) -> dict | None:
        """The bill under the number as WeChat Pay has it; None when it has none."""
        reply = self.client.request("GET", self._bill_path(out_biz_no))
        if reply.ok:
            return reply.data
        if reply.status == 404:
            return None
        raise _retry("查询转账单", reply)

    def _checked(self, bill: dict, out_biz_no: str, amount: int | None) -> PayoutResult:
        # A bill for another number or sum is never taken as this transfer's outcome.
        if bill.get("out_bill_no") not in (None, out_biz_no):
            raise GatewayRefused(f"微信转账单号不符：{bill.get('out_bill_no')!r}，应为 {out_biz_no}")
        billed = bill.get("transfer_amount")
        if amount is not None and billed is not None and billed != amount:
            raise GatewayRefused(f"微信转账单 {out_biz_no} 的金额为 {billed} 分，本次提现为 {amount} 分")
        return result_of(bill)


def _check_amount(amount) -> None:
    if type(amount) is not int or amount <= 0:
        raise ValueError(f"transfer amount must be a positive integer of fen, got {amount!r}")
