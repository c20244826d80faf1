"""Alipay's open API gateway on a local socket, for tests of the real adapter.

It checks what Alipay checks: every request's RSA2 signature against the app's public key
(a bad one is answered `isv.invalid-signature`), and signs every answer over the exact text
of its `…_response` object, and every notification over its sorted fields, with "Alipay's"
key. The buyer's side is `open_cashier` (the form the mall's pay page posts) and `pay`.
"""

import base64
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from fenxiao.payments.gateways.alipay_client import fen, sign_content, yuan
from fenxiao.testing import LocalProvider

from .wechatpay_fake import new_key, private_pem, public_pem

APP_ID = "2021004100000001"


def rsa2(key: rsa.RSAPrivateKey, content: str) -> str:
    return base64.b64encode(key.sign(content.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


@dataclass
class AliTrade:
    out_trade_no: str
    total: int
    biz: dict
    notify_url: str
    return_url: str
    status: str = "WAIT_BUYER_PAY"
    trade_no: str = ""
    gmt_payment: str = ""
    refunds: dict = field(default_factory=dict)  # out_request_no -> fen


@dataclass
class FakeAlipay(LocalProvider):
    app_key: rsa.RSAPrivateKey = field(default_factory=new_key)
    alipay_key: rsa.RSAPrivateKey = field(default_factory=new_key)
    trades: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)
    forge_answers: bool = False

    def answer(self, method, path, headers, body):
        raw = self.handle(dict(parse_qsl(body.decode("utf-8")))).encode()
        return 200, {"Content-Type": "text/html;charset=utf-8"}, raw

    @property
    def gateway(self) -> str:
        return self.base + "/gateway.do"

    def settings(self, directory: Path) -> dict:
        (directory / "alipay_app_key.pem").write_bytes(private_pem(self.app_key))
        (directory / "alipay_public_key.pem").write_bytes(public_pem(self.alipay_key))
        return {
            "APP_ID": APP_ID,
            "PRIVATE_KEY_FILE": str(directory / "alipay_app_key.pem"),
            "PUBLIC_KEY_FILE": str(directory / "alipay_public_key.pem"),
            "GATEWAY": self.gateway,
        }

    def _signed_by_app(self, form: dict) -> bool:
        try:
            self.app_key.public_key().verify(
                base64.b64decode(form.get("sign", "")),
                sign_content({k: v for k, v in form.items() if k != "sign"}).encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except Exception:
            return False
        return form.get("app_id") == APP_ID and form.get("sign_type") == "RSA2"

    # --- the API ----------------------------------------------------------------------------
    def handle(self, form: dict) -> str:
        method = form.get("method", "")
        self.calls.append(method)
        node = method.replace(".", "_") + "_response"
        if not self._signed_by_app(form):
            answer = {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature"}
        else:
            biz = json.loads(form["biz_content"])
            answer = getattr(self, "_" + method.split(".", 2)[-1].replace(".", "_"))(biz)
        text = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
        signer = new_key() if self.forge_answers else self.alipay_key
        return f'{{"{node}":{text},"sign":"{rsa2(signer, text)}"}}'

    def _missing(self):
        return {
            "code": "40004",
            "msg": "Business Failed",
            "sub_code": "ACQ.TRADE_NOT_EXIST",
            "sub_msg": "交易不存在",
        }

    def _failed(self, sub_code: str, sub_msg: str = "") -> dict:
        return {"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg}

    def _query(self, biz):
        trade = self.trades.get(biz["out_trade_no"])
        if trade is None:
            return self._missing()
        answer = {
            "code": "10000",
            "msg": "Success",
            "out_trade_no": trade.out_trade_no,
            "trade_status": trade.status,
            "total_amount": yuan(trade.total),
        }
        if trade.trade_no:
            answer.update(trade_no=trade.trade_no, send_pay_date=trade.gmt_payment)
        return answer

    def _close(self, biz):
        trade = self.trades.get(biz["out_trade_no"])
        if trade is None:
            return self._missing()
        if trade.status != "WAIT_BUYER_PAY":
            return {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_STATUS_ERROR"}
        trade.status = "TRADE_CLOSED"
        return {"code": "10000", "msg": "Success", "out_trade_no": trade.out_trade_no}

    def _refund(self, biz):
        trade = self.trades.get(biz["out_trade_no"])
        if trade is None or trade.status not in ("TRADE_SUCCESS", "TRADE_FINISHED"):
            return self._missing()
        number = biz["out_request_no"]
        if number not in trade.refunds:
            amount = fen(biz["refund_amount"])
            if sum(trade.refunds.values()) + amount > trade.total:
                return {
                    "code": "40004",
                    "msg": "Business Failed",
                    "sub_code": "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
                }
            trade.refunds[number] = amount
            changed = "Y"
        else:
            changed = "N"  # asked again under the same number: nothing moves
        return {
            "code": "10000",
            "msg": "Success",
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "fund_change": changed,
            "refund_fee": yuan(sum(trade.refunds.values())),
        }

    def _fastpay_refund_query(self, biz):
        trade = self.trades.get(biz["out_trade_no"])
        amount = trade.refunds.get(biz["out_request_no"]) if trade else None
        if amount is None:
            return {"code": "10000", "msg": "Success"}
        return {
            "code": "10000",
            "msg": "Success",
            "refund_status": "REFUND_SUCCESS",
            "refund_amount": yuan(amount),
        }

    # --- the buyer --------------------------------------------------------------------------
    def open_cashier(self, fields: dict) -> AliTrade:
        """The buyer's browser posts the pay page's form: Alipay checks it and opens the trade."""
        assert self._signed_by_app(fields), "the pay page's form is not signed by the app"
        assert fields["method"] == "alipay.trade.wap.pay"
        biz = json.loads(fields["biz_content"])
        trade = self.trades.get(biz["out_trade_no"]) or AliTrade(
            out_trade_no=biz["out_trade_no"],
            total=fen(biz["total_amount"]),
            biz=biz,
            notify_url=fields["notify_url"],
            return_url=fields["return_url"],
        )
        self.trades[trade.out_trade_no] = trade
        return trade

    def pay(self, out_trade_no: str) -> AliTrade:
        trade = self.trades[out_trade_no]
        trade.status = "TRADE_SUCCESS"
        trade.trade_no = f"2026120322001{secrets.randbelow(10**15):015d}"
        trade.gmt_payment = "2026-12-03 10:34:56"
        return trade

    def notification(self, out_trade_no: str, **changes) -> bytes:
        """The signed form Alipay posts to the notify URL (`changes` alter fields before
        signing; `sign=…` after)."""
        trade = self.trades[out_trade_no]
        form = {
            "notify_time": "2026-12-03 10:34:57",
            "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(16),
            "app_id": APP_ID,
            "charset": "utf-8",
            "version": "1.0",
            "trade_no": trade.trade_no,
            "out_trade_no": out_trade_no,
            "trade_status": trade.status,
            "total_amount": yuan(trade.total),
            "receipt_amount": yuan(trade.total),
            "buyer_pay_amount": yuan(trade.total),
            "gmt_create": "2026-12-03 10:34:40",
            "gmt_payment": trade.gmt_payment,
            "subject": trade.biz["subject"],
        }
        late = {k: v for k, v in changes.items() if k == "sign"}
        form.update({k: v for k, v in changes.items() if k != "sign"})
        form["sign"] = rsa2(self.alipay_key, sign_content(form))
        form["sign_type"] = "RSA2"
        form.update(late)
        return urlencode(form).encode()
