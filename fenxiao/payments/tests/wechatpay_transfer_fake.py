"""WeChat Pay 商家转账 (`/v3/fund-app/mch-transfer/transfer-bills`), as part of the WeChat
Pay stand-in (`wechatpay_fake`): bills keyed by the merchant's number (idempotent), the real
name decrypted with the 微信支付公钥 pair, the scene's report infos checked, query and cancel,
helpers that move a bill as the recipient or WeChat Pay would, and the signed, encrypted
MCHTRANSFER.BILL.FINISHED notification.

Kept apart so the stand-in's module stays small; `FakeWechatPay` mixes it in and provides
`MCHID`, `APPID`, `PUBLIC_KEY_ID`, `platform_key`, `signed_headers` and `envelope`.
"""

import base64
import re
import secrets
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding


@dataclass
class FakeTransfer:
    out_bill_no: str
    transfer_bill_no: str
    amount: int
    openid: str
    user_name: str  # as WeChat Pay decrypted it ("" when none was sent)
    request: dict  # the create request's body, as sent
    state: str
    package_info: str = ""
    fail_reason: str = ""


TRANSFER_PATH = "/v3/fund-app/mch-transfer/transfer-bills"
# The report infos 商家转账 wants for a scene (1005 佣金报酬), checked like WeChat Pay does.
SCENE_REPORT_INFOS = {"1005": {"岗位类型", "报酬说明"}}
# The states a bill can no longer leave, and those a merchant may still cancel in.
TRANSFER_FINAL = {"SUCCESS", "FAIL", "CANCELLED"}
TRANSFER_CANCELLABLE = {"ACCEPTED", "PROCESSING", "WAIT_USER_CONFIRM", "TRANSFERING"}


@dataclass
class TransferBillsStandIn:
    # 商家转账 bills by out_bill_no; the state a new bill starts in (WAIT_USER_CONFIRM, with
    # a package_info, ACCEPTED or SUCCESS); a refusal for the next transfer call of any kind
    # (create, query, cancel), e.g. (500, "SYSTEM_ERROR"), (403, "NOT_ENOUGH"),
    # (400, "PARAM_ERROR"); what a cancel answers (CANCELLED, or CANCELING until next asked).
    transfers: dict = field(default_factory=dict)
    transfer_first_state: str = "WAIT_USER_CONFIRM"
    refuse_transfer: tuple[int, str] | None = None
    cancel_answer: str = "CANCELLED"

    def reset_transfers(self) -> None:
        """No transfer bills, and the transfer switches as they start."""
        self.transfers.clear()
        self.transfer_first_state = "WAIT_USER_CONFIRM"
        self.refuse_transfer = None
        self.cancel_answer = "CANCELLED"

    def _transfer_api(self, method, path, data, serial):
        if self.refuse_transfer:
            status, code = self.refuse_transfer
            self.refuse_transfer = None
            return status, {"code": code, "message": f"转账请求被拒绝（{code}）"}
        if method == "POST" and path == TRANSFER_PATH:
            return self._create_transfer(data, serial)
        match = re.fullmatch(TRANSFER_PATH + r"/out-bill-no/([^/]+)(/cancel)?", path)
        if match is None or (method == "POST") != bool(match[2]):
            return 404, {"code": "NOT_FOUND", "message": "无此接口"}
        bill = self.transfers.get(match[1])
        if bill is None:
            return 404, {"code": "NOT_FOUND", "message": "记录不存在"}
        if match[2]:
            if bill.state in ("SUCCESS", "FAIL"):
                return 400, {"code": "INVALID_REQUEST", "message": "转账单已完成，不可撤销"}
            if bill.state in TRANSFER_CANCELLABLE:
                bill.state = self.cancel_answer
            return 200, {
                "out_bill_no": bill.out_bill_no,
                "transfer_bill_no": bill.transfer_bill_no,
                "state": bill.state,
                "update_time": "2026-12-03T10:40:00+08:00",
            }
        if bill.state == "CANCELING":
            bill.state = "CANCELLED"
        # The query answers no package_info: only the create request hands it out.
        reply = {
            "mch_id": self.MCHID,
            "appid": self.APPID,
            "out_bill_no": bill.out_bill_no,
            "transfer_bill_no": bill.transfer_bill_no,
            "state": bill.state,
            "transfer_amount": bill.amount,
            "transfer_remark": bill.request["transfer_remark"],
            "openid": bill.openid,
            "create_time": "2026-12-03T10:34:56+08:00",
            "update_time": "2026-12-03T10:35:56+08:00",
        }
        if bill.fail_reason:
            reply["fail_reason"] = bill.fail_reason
        return 200, reply

    def _transfer_problem(self, data, serial) -> str:
        """Why WeChat Pay would answer PARAM_ERROR to this create request ("" if nothing)."""
        amount, remark = data.get("transfer_amount"), data.get("transfer_remark")
        infos = data.get("transfer_scene_report_infos") or []
        wanted = SCENE_REPORT_INFOS.get(data.get("transfer_scene_id"), set())
        if data.get("appid") != self.APPID:
            return "appid 与商户号不匹配"
        if not re.fullmatch(r"[0-9A-Za-z]{1,32}", str(data.get("out_bill_no", ""))):
            return "out_bill_no 只能由 32 位以内的数字、大小写字母组成"
        if not data.get("transfer_scene_id") or not data.get("openid"):
            return "缺少参数 transfer_scene_id 或 openid"
        if type(amount) is not int or amount <= 0:
            return "transfer_amount 须为正整数（分）"
        if not isinstance(remark, str) or not 0 < len(remark) <= 32:
            return "transfer_remark 须为 1-32 个字符"
        url = data.get("notify_url", "")
        if url and (not url.startswith("https://") or "?" in url):
            return "notify_url 须为 https 地址且不带参数"
        if not wanted <= {info.get("info_type") for info in infos if info.get("info_content")}:
            return "transfer_scene_report_infos 缺少该转账场景需报备的信息"
        if data.get("user_name") and serial != self.PUBLIC_KEY_ID:
            return "Wechatpay-Serial 与加密所用的微信支付公钥不符"
        return ""

    def _create_transfer(self, data, serial):
        if problem := self._transfer_problem(data, serial):
            return 400, {"code": "PARAM_ERROR", "message": problem}
        name = ""
        if data.get("user_name"):
            try:
                name = self.platform_key.decrypt(
                    base64.b64decode(data["user_name"]),
                    padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None),
                ).decode()
            except Exception:
                return 400, {"code": "PARAM_ERROR", "message": "user_name 解密失败"}
        bill = self.transfers.get(data["out_bill_no"])
        if bill is None:
            bill = FakeTransfer(
                out_bill_no=data["out_bill_no"],
                transfer_bill_no=f"1330000{secrets.randbelow(10**25):025d}",
                amount=data["transfer_amount"],
                openid=data["openid"],
                user_name=name,
                request=data,
                state=self.transfer_first_state,
            )
            if bill.state == "WAIT_USER_CONFIRM":
                bill.package_info = base64.b64encode(secrets.token_bytes(48)).decode()
            self.transfers[bill.out_bill_no] = bill
        elif (bill.amount, bill.openid, bill.user_name) != (data["transfer_amount"], data["openid"], name):
            return 400, {"code": "INVALID_REQUEST", "message": "商户单号重复，且与原单信息不一致"}
        # The same number answers the bill it already made (no second bill, no second payment).
        reply = {
            "out_bill_no": bill.out_bill_no,
            "transfer_bill_no": bill.transfer_bill_no,
            "create_time": "2026-12-03T10:34:56+08:00",
            "state": bill.state,
        }
        if bill.state == "WAIT_USER_CONFIRM":
            reply["package_info"] = bill.package_info
        if bill.fail_reason:
            reply["fail_reason"] = bill.fail_reason
        return 200, reply

    def confirm_transfer(self, number: str) -> FakeTransfer:
        """The distributor confirmed receipt in WeChat: the money is in their 零钱."""
        bill = self.transfers[number]
        bill.state = "SUCCESS"
        return bill

    def fail_transfer(self, number: str, reason: str = "ACCOUNT_FROZEN") -> FakeTransfer:
        bill = self.transfers[number]
        bill.state, bill.fail_reason = "FAIL", reason
        return bill

    def cancel_transfer(self, number: str) -> FakeTransfer:
        """Cancelled on WeChat Pay's side (the recipient did not confirm in time)."""
        bill = self.transfers[number]
        bill.state = "CANCELLED"
        return bill

    def transfer_notification(
        self,
        number: str,
        *,
        amount: int | None = None,
        mch_id: str | None = None,
        event_type: str = "MCHTRANSFER.BILL.FINISHED",
        **options,
    ):
        """The signed, encrypted notification of a finished transfer bill: (body, headers),
        as `notification`. `options` go to `signed_headers` (timestamp, key)."""
        bill = self.transfers[number]
        plain = {
            "mch_id": self.MCHID if mch_id is None else mch_id,
            "out_bill_no": number,
            "transfer_bill_no": bill.transfer_bill_no,
            "transfer_amount": bill.amount if amount is None else amount,
            "state": bill.state,
            "openid": bill.openid,
            "create_time": "2026-12-03T10:34:56+08:00",
            "update_time": "2026-12-03T10:35:56+08:00",
        }
        if bill.fail_reason:
            plain["fail_reason"] = bill.fail_reason
        body = self.envelope(event_type, "商家转账单据终态通知", "mch_payment", plain)
        return body, self.signed_headers(body, **options)
