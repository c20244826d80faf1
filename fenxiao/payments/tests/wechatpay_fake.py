"""A WeChat Pay API v3 stand-in on a local socket, for tests of the real adapter (with the
few 公众号 endpoints the mall calls: 网页授权's code exchange, stable_token, template
messages and the JS-SDK ticket), and 商家转账 (the 2025 transfer-bills API).

It speaks the protocol the adapter must speak and checks it as WeChat Pay would: every
request's `Authorization` signature is verified against the merchant's public key (a bad
one is answered 401 SIGN_ERROR), every answer is signed with the "WeChat Pay public key"
pair, and notifications are encrypted with the APIv3 key. State is in memory: trades by
merchant trade number, refunds by merchant refund number and transfer bills by merchant bill
number, as the API keys them. A transfer's `user_name` must decrypt (RSA-OAEP) with the
WeChat Pay public key pair, as WeChat Pay decrypts it.
"""

import base64
import ipaddress
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fenxiao.testing import LocalProvider

from .wechat_miniprogram_fake import MINI_APPID, MiniProgramStandIn
from .wechatpay_transfer_fake import TRANSFER_PATH, TransferBillsStandIn

MCHID = "1900000109"
APPID = "wxd678efh567hg6787"
MERCHANT_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
PUBLIC_KEY_ID = "PUB_KEY_ID_0119000001092025010100000001"
API_V3_KEY = "a" * 8 + "B" * 8 + "c" * 8 + "D" * 8
MP_SECRET = "fenxiao-mp-app-secret"

_AUTH = re.compile(r'(\w+)="([^"]*)"')


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_pem(key) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def rsa_sign(key, message: bytes) -> str:
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


@dataclass
class Trade:
    out_trade_no: str
    amount: int
    description: str
    notify_url: str
    time_expire: str
    code_url: str  # the prepay id, for a JSAPI trade
    openid: str = ""
    appid: str = APPID  # the mini-program's for its trades
    state: str = "NOTPAY"
    transaction_id: str = ""
    success_time: str = ""
    refunded: int = 0
    # H5: the only address WeChat lets pay the trade (scene_info.payer_client_ip).
    client_ip: str = ""


@dataclass
class FakeRefund:
    out_refund_no: str
    out_trade_no: str
    amount: int
    refund_id: str
    status: str


@dataclass
class FakeWechatPay(LocalProvider, MiniProgramStandIn, TransferBillsStandIn):
    """The server's state and keys; `start()` serves it on 127.0.0.1."""

    MCHID = MCHID
    APPID = APPID
    PUBLIC_KEY_ID = PUBLIC_KEY_ID

    merchant_key: rsa.RSAPrivateKey = field(default_factory=new_key)
    platform_key: rsa.RSAPrivateKey = field(default_factory=new_key)
    trades: dict = field(default_factory=dict)
    refunds: dict = field(default_factory=dict)
    requests: list = field(default_factory=list)
    # Codes WeChat's 网页授权 handed out, each for one openid and usable once.
    oauth_codes: dict = field(default_factory=dict)
    # The 公众号's live access tokens, and the template messages it sent (once per client_msg_id).
    tokens: set = field(default_factory=set)
    template_messages: list = field(default_factory=list)
    # Buyers who unfollowed the 公众号: template messages to them are refused (43004).
    unfollowed: set = field(default_factory=set)
    # The JS-SDK tickets handed out, newest last.
    tickets: list = field(default_factory=list)
    # What a new refund is answered with, and what asking about it later says.
    refund_first_status: str = "PROCESSING"
    refund_later_status: str = "SUCCESS"
    # A refusal for the next refund request, e.g. (403, "NOT_ENOUGH").
    refuse_refund: tuple[int, str] | None = None
    # Sign answers with another key (a forger between the mall and WeChat Pay).
    forge_answers: bool = False
    # H5 下单's answer for a merchant not granted H5 支付, e.g. (403, "NO_AUTH"); None: granted.
    h5_refusal: tuple[int, str] | None = None

    def answer(self, method, path, headers, body):
        status, data = self.handle(
            method,
            path,
            body.decode(),
            headers.get("Authorization", ""),
            serial=headers.get("Wechatpay-Serial", ""),
        )
        if isinstance(data, bytes):  # a file the API draws (a 小程序码)
            return status, {"Content-Type": "image/jpeg"}, data
        raw = b"" if data is None else json.dumps(data, ensure_ascii=False).encode()
        return status, self.signed_headers(raw), raw

    def mp_settings(self) -> dict:
        """The mall's WECHAT_MP setting for the 公众号 bound to this merchant."""
        return {
            "SECRET": MP_SECRET,
            "API_BASE": self.base,
            "OAUTH_BASE": "https://open.weixin.qq.com",
            "JSSDK_URL": "https://res.wx.qq.com/open/js/jweixin-1.6.0.js",
        }

    def settings(self, directory: Path) -> dict:
        """The mall's WECHATPAY setting for this merchant, keys written to `directory`."""
        (directory / "apiclient_key.pem").write_bytes(private_pem(self.merchant_key))
        (directory / "pub_key.pem").write_bytes(public_pem(self.platform_key))
        return {
            "MCHID": MCHID,
            "APPID": APPID,
            "MERCHANT_SERIAL_NO": MERCHANT_SERIAL,
            "PRIVATE_KEY_FILE": str(directory / "apiclient_key.pem"),
            "API_V3_KEY": API_V3_KEY,
            "PUBLIC_KEY_ID": PUBLIC_KEY_ID,
            "PUBLIC_KEY_FILE": str(directory / "pub_key.pem"),
            "API_BASE": self.base,
        }

    # --- signing ---------------------------------------------------------------------------
    def signed_headers(self, body: bytes, *, timestamp: int | None = None, key=None) -> dict[str, str]:
        timestamp = str(timestamp if timestamp is not None else int(time.time()))
        nonce = secrets.token_hex(16)
        signer = key or (new_key() if self.forge_answers else self.platform_key)
        return {
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": PUBLIC_KEY_ID,
            "Wechatpay-Signature": rsa_sign(signer, f"{timestamp}\n{nonce}\n".encode() + body + b"\n"),
        }

    def _authorized(self, method: str, path: str, body: str, header: str) -> bool:
        if not header.startswith("WECHATPAY2-SHA256-RSA2048 "):
            return False
        parts = dict(_AUTH.findall(header))
        if parts.get("mchid") != MCHID or parts.get("serial_no") != MERCHANT_SERIAL:
            return False
        message = f"{method}\n{path}\n{parts.get('timestamp')}\n{parts.get('nonce_str')}\n{body}\n".encode()
        try:
            self.merchant_key.public_key().verify(
                base64.b64decode(parts.get("signature", "")), message, padding.PKCS1v15(), hashes.SHA256()
            )
        except Exception:
            return False
        return abs(time.time() - int(parts.get("timestamp", "0"))) < 300

    # --- the API ----------------------------------------------------------------------------
    def handle(self, method: str, target: str, body: str, authorization: str, *, serial: str = ""):
        self.requests.append((method, target, body))
        url = urlsplit(target)
        if (mini := self.miniprogram_answer(url.path, url.query, body)) is not None:
            return mini
        if url.path == "/sns/oauth2/access_token":  # the 公众号 API: keyed by its AppSecret
            return self._oauth(parse_qs(url.query))
        if url.path == "/cgi-bin/stable_token":
            return self._token(json.loads(body or "{}"))
        if url.path == "/cgi-bin/ticket/getticket":
            return self._ticket(parse_qs(url.query))
        if url.path == "/cgi-bin/message/template/send":
            return self._template_message(
                parse_qs(url.query).get("access_token", [""])[0], json.loads(body or "{}")
            )
        if not self._authorized(method, target, body, authorization):
            return 401, {"code": "SIGN_ERROR", "message": "签名错误"}
        data = json.loads(body) if body else {}
        if method == "POST" and url.path == "/v3/pay/transactions/native":
            return self._native(data)
        if method == "POST" and url.path == "/v3/pay/transactions/jsapi":
            if not (data.get("payer") or {}).get("openid"):
                return 400, {"code": "PARAM_ERROR", "message": "缺少参数 payer.openid"}
            return self._native(data, prepay=True)
        if method == "POST" and url.path == "/v3/pay/transactions/h5":
            return self._h5(data)
        if match := re.fullmatch(r"/v3/pay/transactions/out-trade-no/([^/]+)", url.path):
            if parse_qs(url.query).get("mchid") != [MCHID]:
                return 400, {"code": "PARAM_ERROR", "message": "mchid 错误"}
            return self._query(match[1])
        if method == "POST" and (
            match := re.fullmatch(r"/v3/pay/transactions/out-trade-no/([^/]+)/close", url.path)
        ):
            return self._close(match[1])
        if method == "POST" and url.path == "/v3/refund/domestic/refunds":
            return self._refund(data)
        if match := re.fullmatch(r"/v3/refund/domestic/refunds/([^/]+)", url.path):
            refund = self.refunds.get(match[1])
            if refund is None:
                return 404, {"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"}
            refund.status = self.refund_later_status if refund.status == "PROCESSING" else refund.status
            return 200, self._refund_body(refund)
        if url.path.startswith(TRANSFER_PATH):
            return self._transfer_api(method, url.path, data, serial)
        return 404, {"code": "NOT_FOUND", "message": "无此接口"}

    def _native(self, data, *, prepay=False):
        # The merchant has the 公众号 and (for JSAPI) the mini-program bound to it.
        if data.get("mchid") != MCHID or data.get("appid") not in (APPID, MINI_APPID if prepay else APPID):
            return 400, {"code": "PARAM_ERROR", "message": "appid 和 mch_id 不匹配"}
        number = data["out_trade_no"]
        trade = self.trades.get(number)
        answer = "prepay_id" if prepay else "code_url"
        if trade is not None:
            if trade.amount != data["amount"]["total"] or trade.openid != (data.get("payer") or {}).get(
                "openid", ""
            ):
                return 400, {"code": "INVALID_REQUEST", "message": "201 商户订单号重复"}
            return 200, {answer: trade.code_url}
        trade = Trade(
            out_trade_no=number,
            amount=data["amount"]["total"],
            description=data["description"],
            notify_url=data["notify_url"],
            time_expire=data.get("time_expire", ""),
            code_url=f"wx{secrets.token_hex(16)}"
            if prepay
            else f"weixin://wxpay/bizpayurl?pr={secrets.token_urlsafe(6)}",
            openid=(data.get("payer") or {}).get("openid", ""),
            appid=data["appid"],
        )
        self.trades[number] = trade
        return 200, {answer: trade.code_url}

    def _h5(self, data):
        """H5 下单: the trade's `code_url` is the h5_url, which WeChat Pay hands out only to a
        merchant granted H5 支付 (`h5_refusal`, e.g. (403, "NO_AUTH"), answers otherwise)."""
        if self.h5_refusal:
            status, code = self.h5_refusal
            return status, {
                "code": code,
                "message": "商户号该产品权限未开通，请前往商户平台>产品中心检查后重试",
            }
        if data.get("mchid") != MCHID or data.get("appid") != APPID:
            return 400, {"code": "PARAM_ERROR", "message": "appid 和 mch_id 不匹配"}
        scene = data.get("scene_info") or {}
        if not scene.get("payer_client_ip") or not (scene.get("h5_info") or {}).get("type"):
            return 400, {
                "code": "PARAM_ERROR",
                "message": "缺少参数 scene_info.payer_client_ip 或 h5_info.type",
            }
        trade = self.trades.get(data["out_trade_no"])
        if trade is not None:
            if trade.amount != data["amount"]["total"]:
                return 400, {"code": "INVALID_REQUEST", "message": "201 商户订单号重复"}
            return 200, {"h5_url": trade.code_url}
        trade = Trade(
            out_trade_no=data["out_trade_no"],
            amount=data["amount"]["total"],
            description=data["description"],
            notify_url=data["notify_url"],
            time_expire=data.get("time_expire", ""),
            code_url="https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb"
            f"?prepay_id=wx{secrets.token_hex(16)}&package={secrets.randbelow(10**10)}",
            client_ip=scene["payer_client_ip"],
        )
        self.trades[trade.out_trade_no] = trade
        return 200, {"h5_url": trade.code_url}

    def _token(self, data):
        if data.get("appid") != APPID or data.get("secret") != MP_SECRET:
            return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
        token = f"TOKEN-{secrets.token_hex(8)}"
        self.tokens.add(token)
        return 200, {"access_token": token, "expires_in": 7200}

    def _ticket(self, query):
        if query.get("access_token", [""])[0] not in self.tokens:
            return 200, {
                "errcode": 40001,
                "errmsg": "invalid credential, access_token is invalid or not latest",
            }
        if query.get("type") != ["jsapi"]:
            return 200, {"errcode": 40097, "errmsg": "invalid args"}
        self.tickets.append(f"TICKET-{secrets.token_urlsafe(24)}")
        return 200, {"errcode": 0, "errmsg": "ok", "ticket": self.tickets[-1], "expires_in": 7200}

    def _template_message(self, token, data):
        if token not in self.tokens:
            return 200, {
                "errcode": 40001,
                "errmsg": "invalid credential, access_token is invalid or not latest",
            }
        fields = data.get("data") or {}
        if any(key.startswith("thing") and len(value.get("value", "")) > 20 for key, value in fields.items()):
            return 200, {"errcode": 47003, "errmsg": "argument invalid! data.thing.value exceeds limit"}
        if not data.get("touser") or not data.get("template_id"):
            return 200, {"errcode": 40003, "errmsg": "invalid openid"}
        if data["touser"] in self.unfollowed:
            return 200, {"errcode": 43004, "errmsg": "require subscribe"}
        if all(m.get("client_msg_id") != data.get("client_msg_id") for m in self.template_messages):
            self.template_messages.append(data)
        return 200, {"errcode": 0, "errmsg": "ok", "msgid": len(self.template_messages)}

    def _oauth(self, query):
        if query.get("appid") != [APPID] or query.get("secret") != [MP_SECRET]:
            return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
        openid = self.oauth_codes.pop(query.get("code", [""])[0], None)
        if openid is None:
            return 200, {"errcode": 40029, "errmsg": "invalid code"}
        return 200, {"access_token": "ACCESS", "expires_in": 7200, "openid": openid, "scope": "snsapi_base"}

    def _query(self, number):
        trade = self.trades.get(number)
        if trade is None:
            return 404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}
        reply = {
            "appid": trade.appid,
            "mchid": MCHID,
            "out_trade_no": number,
            "trade_state": trade.state,
            "trade_state_desc": trade.state,
            "amount": {"total": trade.amount, "currency": "CNY"},
        }
        if trade.transaction_id:
            reply.update(transaction_id=trade.transaction_id, success_time=trade.success_time)
            reply["amount"].update(payer_total=trade.amount, payer_currency="CNY")
        return 200, reply

    def _close(self, number):
        trade = self.trades.get(number)
        if trade is None:
            return 404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}
        if trade.state in ("SUCCESS", "REFUND"):
            return 400, {"code": "ORDERPAID", "message": "订单已支付"}
        trade.state = "CLOSED"
        return 204, None

    def _refund(self, data):
        if self.refuse_refund:
            status, code = self.refuse_refund
            self.refuse_refund = None
            return status, {"code": code, "message": "退款被拒绝"}
        trade = self.trades.get(data["out_trade_no"])
        if trade is None or trade.state not in ("SUCCESS", "REFUND"):
            return 404, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在"}
        amount = data["amount"]
        if amount["total"] != trade.amount:
            return 400, {"code": "PARAM_ERROR", "message": "订单金额与实际不符"}
        if trade.refunded + amount["refund"] > trade.amount:
            return 400, {"code": "INVALID_REQUEST", "message": "申请退款金额超过订单可退金额"}
        trade.refunded += amount["refund"]
        trade.state = "REFUND"
        refund = FakeRefund(
            out_refund_no=data["out_refund_no"],
            out_trade_no=trade.out_trade_no,
            amount=amount["refund"],
            refund_id=f"50000{secrets.randbelow(10**20):020d}",
            status=self.refund_first_status,
        )
        self.refunds[refund.out_refund_no] = refund
        return 200, self._refund_body(refund)

    def _refund_body(self, refund: FakeRefund) -> dict:
        return {
            "refund_id": refund.refund_id,
            "out_refund_no": refund.out_refund_no,
            "out_trade_no": refund.out_trade_no,
            "status": refund.status,
            "amount": {"refund": refund.amount, "total": self.trades[refund.out_trade_no].amount},
        }

    # --- the buyer and the notifier ---------------------------------------------------------
    def pay(self, number: str, *, from_ip: str = "") -> Trade:
        """The buyer pays the trade; an H5 trade only from the address it was opened with
        (WeChat's page answers "网络环境未能通过安全验证" to any other)."""
        trade = self.trades[number]
        if (
            trade.client_ip
            and from_ip
            and ipaddress.ip_address(from_ip) != ipaddress.ip_address(trade.client_ip)
        ):
            raise PermissionError(f"H5 trade {number} opened for {trade.client_ip}, paid from {from_ip}")
        trade.state = "SUCCESS"
        trade.transaction_id = f"42000{secrets.randbelow(10**23):023d}"
        trade.success_time = "2026-12-03T10:34:56+08:00"
        return trade

    def notification(self, number: str, *, total: int | None = None, mchid: str = MCHID, **options):
        """The signed, encrypted TRANSACTION.SUCCESS notification of a paid trade: (body,
        headers). `options` go to `signed_headers` (timestamp, key)."""
        trade = self.trades[number]
        plain = {
            "mchid": mchid,
            "appid": trade.appid,
            "out_trade_no": number,
            "transaction_id": trade.transaction_id,
            "trade_type": "JSAPI" if trade.openid else "NATIVE",
            "trade_state": "SUCCESS",
            "success_time": trade.success_time,
            "payer": {"openid": trade.openid or "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            "amount": {"total": trade.amount if total is None else total, "currency": "CNY"},
        }
        body = self.envelope("TRANSACTION.SUCCESS", "支付成功", "transaction", plain)
        return body, self.signed_headers(body, **options)

    @staticmethod
    def envelope(event_type: str, summary: str, original_type: str, plain: dict) -> bytes:
        """A notification body: `plain` encrypted with the APIv3 key, as WeChat Pay sends it."""
        return _envelope(event_type, summary, original_type, plain)


def _envelope(event_type: str, summary: str, original_type: str, plain: dict) -> bytes:
    """A notification body: `plain` encrypted with the APIv3 key, as WeChat Pay sends it."""
    nonce = secrets.token_hex(6)
    ciphertext = AESGCM(API_V3_KEY.encode()).encrypt(
        nonce.encode(), json.dumps(plain, ensure_ascii=False).encode(), original_type.encode()
    )
    return json.dumps(
        {
            "id": secrets.token_hex(16),
            "create_time": "2026-12-03T10:34:57+08:00",
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": summary,
            "resource": {
                "original_type": original_type,
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(ciphertext).decode(),
                "associated_data": original_type,
                "nonce": nonce,
            },
        },
        ensure_ascii=False,
    ).encode()
