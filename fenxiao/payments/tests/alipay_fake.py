"""Alipay's open API gateway on a local socket, for tests of the real adapter.

It checks what Alipay checks: every request's RSA2 signature against the app's public key
(a bad one is answered `isv.invalid-signature`), and signs every answer over the exact text
of its `…_response` object, and every notification over its sorted fields, with "Alipay's"
key. The buyer's side is `open_cashier` (the form the mall's pay page posts) and `pay`.

单笔转账 (`alipay.fund.trans.uni.transfer`, `alipay.fund.trans.common.query`): transfers
are keyed by out_biz_no and idempotent (the same number answers with the first transfer;
other data under it is PAYMENT_INFO_INCONSISTENCY). `transfer_status` is what a new
transfer answers with (`finish_transfer` ends a DEALING one), `transfer_error` a sub_code
every transfer is refused with, and payees whose account starts with a prefix of
`refused_payees` are refused with its sub_code.

公钥证书 mode (`settings(directory, cert_mode=True)`): the fake is its own small CA (an RSA
root, a second RSA root and an ECDSA root in the root bundle) and issues the app's and
"Alipay's" certificates with known serial numbers. Each request must carry the app_cert_sn
and alipay_root_cert_sn the fake computes from its certificates (the SDKs' way, written out
here independently of the client), and answers name `alipay_cert_sn`.
"""

import base64
import datetime
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from fenxiao.payments.gateways.alipay_client import fen, sign_content, yuan
from fenxiao.testing import LocalProvider

from .wechatpay_fake import new_key, private_pem, public_pem

APP_ID = "2021004100000001"
APP_CERT_SERIAL = 0x20211018100000000000000000000001
ALIPAY_CERT_SERIAL = 0x20211018100000000000000000000002
ROOT_SERIALS = (0x2019042200000001, 0x2019042200000002, 0x2019042200000003)
# RSA-signed roots count in alipay_root_cert_sn: sha1WithRSAEncryption, sha256WithRSAEncryption.
ROOT_SN_ALGORITHMS = {"1.2.840.113549.1.1.5", "1.2.840.113549.1.1.11"}
SHORT_NAMES = {
    NameOID.COMMON_NAME: "CN",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.LOCALITY_NAME: "L",
    NameOID.STATE_OR_PROVINCE_NAME: "ST",
    NameOID.COUNTRY_NAME: "C",
}


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


def issuer_sn(cert: x509.Certificate) -> str:
    """The SDKs' SN: md5 of the issuer, most specific attribute first (`CN=…,OU=…,O=…,C=…`),
    then the serial number in decimal. (The fake's names need no escaping.)"""
    issuer = ",".join(f"{SHORT_NAMES[a.oid]}={a.value}" for a in reversed(list(cert.issuer)))
    return hashlib.md5(f"{issuer}{cert.serial_number}".encode(), usedforsecurity=False).hexdigest()


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Fake Ant Financial"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Certification Authority"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def _certificate(subject, issuer, public_key, signer, serial, digest=None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(signer, digest or hashes.SHA256())
    )


def pem(*certs: x509.Certificate) -> bytes:
    return b"\n".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs)


@dataclass
class AliTransfer:
    out_biz_no: str
    amount: int
    identity: str
    name: str
    biz: dict
    order_id: str
    status: str
    pay_fund_order_id: str = ""
    error_code: str = ""


@dataclass
class FakeAlipay(LocalProvider):
    app_key: rsa.RSAPrivateKey = field(default_factory=new_key)
    alipay_key: rsa.RSAPrivateKey = field(default_factory=new_key)
    trades: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)
    forge_answers: bool = False
    # Every request's form, for the tests to look at (cert SNs, biz_content).
    forms: list = field(default_factory=list)
    transfers: dict = field(default_factory=dict)  # out_biz_no -> AliTransfer
    transfer_status: str = "SUCCESS"
    transfer_error: str | None = None
    refused_payees: dict = field(
        default_factory=lambda: {
            "fail": "PAYEE_NOT_EXIST",
            "wrongname": "PAYEE_USER_INFO_ERROR",
            "unverified": "PAYEE_NOT_RELNAME_CERTIFY",
        }
    )
    cert_mode: bool = False
    # In certificate mode, the SN answers name (None: the one of the fake's Alipay certificate).
    answer_cert_sn: str | None = None

    def reset(self) -> None:
        """Each test starts with an empty gateway in public-key mode."""
        self.trades.clear()
        self.calls.clear()
        self.forms.clear()
        self.transfers.clear()
        self.forge_answers, self.cert_mode, self.answer_cert_sn = False, False, None
        self.transfer_status, self.transfer_error = "SUCCESS", None

    def answer(self, method, path, headers, body):
        raw = self.handle(dict(parse_qsl(body.decode("utf-8")))).encode()
        return 200, {"Content-Type": "text/html;charset=utf-8"}, raw

    @property
    def gateway(self) -> str:
        return self.base + "/gateway.do"

    def settings(self, directory: Path, cert_mode: bool = False) -> dict:
        """settings.ALIPAY for the mall; in certificate mode without PUBLIC_KEY_FILE, so
        answers can only verify with the key inside the Alipay certificate."""
        self.cert_mode = cert_mode
        (directory / "alipay_app_key.pem").write_bytes(private_pem(self.app_key))
        cfg = {
            "APP_ID": APP_ID,
            "PRIVATE_KEY_FILE": str(directory / "alipay_app_key.pem"),
            "GATEWAY": self.gateway,
        }
        if not cert_mode:
            (directory / "alipay_public_key.pem").write_bytes(public_pem(self.alipay_key))
            return {**cfg, "PUBLIC_KEY_FILE": str(directory / "alipay_public_key.pem")}
        files = {
            "APP_CERT_FILE": ("appCertPublicKey.crt", pem(self.app_cert)),
            "ALIPAY_CERT_FILE": ("alipayCertPublicKey_RSA2.crt", pem(self.alipay_cert)),
            "ROOT_CERT_FILE": ("alipayRootCert.crt", pem(*self.root_certs)),
        }
        for key, (name, content) in files.items():
            (directory / name).write_bytes(content)
            cfg[key] = str(directory / name)
        return cfg

    # --- the fake's certificate authority ---------------------------------------------------
    @cached_property
    def _root_keys(self) -> tuple:
        return new_key(), new_key(), ec.generate_private_key(ec.SECP256R1())

    @cached_property
    def root_certs(self) -> list[x509.Certificate]:
        """The root bundle: two RSA-signed roots (they count in the SN) around an ECDSA one
        (which does not), as Alipay's own bundle mixes them."""
        rsa_root, second_root, ec_root = self._root_keys
        names = [_name("Fake Alipay Root R1"), _name("Fake Alipay Root E1"), _name("Fake Alipay Root R2")]
        return [
            _certificate(names[0], names[0], rsa_root.public_key(), rsa_root, ROOT_SERIALS[0]),
            _certificate(names[1], names[1], ec_root.public_key(), ec_root, ROOT_SERIALS[1], hashes.SHA384()),
            _certificate(names[2], names[2], second_root.public_key(), second_root, ROOT_SERIALS[2]),
        ]

    def _issued(self, common: str, key, serial: int) -> x509.Certificate:
        root = self.root_certs[0]
        return _certificate(_name(common), root.subject, key.public_key(), self._root_keys[0], serial)

    @cached_property
    def app_cert(self) -> x509.Certificate:
        return self._issued(f"{APP_ID} app", self.app_key, APP_CERT_SERIAL)

    @cached_property
    def alipay_cert(self) -> x509.Certificate:
        return self._issued("Fake Alipay RSA2", self.alipay_key, ALIPAY_CERT_SERIAL)

    @property
    def app_cert_sn(self) -> str:
        return issuer_sn(self.app_cert)

    @property
    def alipay_cert_sn(self) -> str:
        return issuer_sn(self.alipay_cert)

    @property
    def root_cert_sn(self) -> str:
        return "_".join(
            issuer_sn(cert)
            for cert in self.root_certs
            if cert.signature_algorithm_oid.dotted_string in ROOT_SN_ALGORITHMS
        )

    def _cert_problem(self, form: dict) -> dict | None:
        """Alipay's refusal of a request without the right certificate SNs (certificate mode)."""
        if not self.cert_mode:
            return None
        if form.get("app_cert_sn") != self.app_cert_sn:
            return {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-app-cert-sn"}
        if form.get("alipay_root_cert_sn") != self.root_cert_sn:
            return {
                "code": "40002",
                "msg": "Invalid Arguments",
                "sub_code": "isv.invalid-alipay-root-cert-sn",
            }
        return None

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
        self.forms.append(form)
        node = method.replace(".", "_") + "_response"
        if not self._signed_by_app(form):
            answer = {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature"}
        else:
            biz = json.loads(form["biz_content"])
            answer = self._cert_problem(form) or self._operation(method)(biz)
        text = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
        signer = new_key() if self.forge_answers else self.alipay_key
        cert_sn = ""
        if self.cert_mode:
            cert_sn = f'"alipay_cert_sn":"{self.answer_cert_sn or self.alipay_cert_sn}",'
        return f'{{"{node}":{text},{cert_sn}"sign":"{rsa2(signer, text)}"}}'

    def _operation(self, method: str):
        if method.startswith("alipay.fund.trans."):
            return getattr(self, "_fund_" + method.split(".", 3)[-1].replace(".", "_"))
        return getattr(self, "_" + method.split(".", 2)[-1].replace(".", "_"))

    def _missing(self):
        return {
            "code": "40004",
            "msg": "Business Failed",
            "sub_code": "ACQ.TRADE_NOT_EXIST",
            "sub_msg": "交易不存在",
        }

    def _failed(self, sub_code: str, sub_msg: str = "") -> dict:
        if sub_code.startswith(("aop.", "isp.")):  # the gateway's own trouble: "service unavailable"
            return {"code": "20000", "msg": "Service Currently Unavailable", "sub_code": sub_code}
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

    # --- 单笔转账 ----------------------------------------------------------------------------
    def _fund_uni_transfer(self, biz):
        payee = biz.get("payee_info") or {}
        if (
            biz.get("product_code") != "TRANS_ACCOUNT_NO_PWD"
            or biz.get("biz_scene") != "DIRECT_TRANSFER"
            or payee.get("identity_type") != "ALIPAY_LOGON_ID"
            or not payee.get("identity")
            or not payee.get("name")  # required with ALIPAY_LOGON_ID
            or not biz.get("order_title")
        ):
            return self._failed("INVALID_PARAMETER", "参数有误")
        try:
            amount = fen(biz["trans_amount"])
        except (KeyError, ValueError):
            return self._failed("INVALID_PARAMETER", "转账金额格式有误")
        number = biz["out_biz_no"]
        if self.transfer_error:  # every request, a number already booked included
            return self._failed(self.transfer_error, "转账失败")
        transfer = self.transfers.get(number)
        if transfer is not None:
            if (transfer.amount, transfer.identity, transfer.name) != (
                amount,
                payee["identity"],
                payee["name"],
            ):
                return self._failed(
                    "PAYMENT_INFO_INCONSISTENCY", "两次请求商户单号一样，但是收款人或金额不一致"
                )
            return self._transfer_answer(transfer)  # idempotent: the first transfer, no money moves
        if amount < 10:
            return self._failed("EXCEED_LIMIT_SM_MIN_AMOUNT", "单笔最低转账金额0.1元")
        for prefix, sub_code in self.refused_payees.items():
            if payee["identity"].lower().startswith(prefix):
                return self._failed(sub_code, "收款方信息有误")
        transfer = AliTransfer(
            out_biz_no=number,
            amount=amount,
            identity=payee["identity"],
            name=payee["name"],
            biz=biz,
            order_id=f"20261203110070000006{secrets.randbelow(10**12):012d}",
            status=self.transfer_status,
        )
        if transfer.status == "SUCCESS":
            transfer.pay_fund_order_id = f"20261203110070001506{secrets.randbelow(10**12):012d}"
        self.transfers[number] = transfer
        return self._transfer_answer(transfer)

    def _transfer_answer(self, transfer: AliTransfer) -> dict:
        answer = {
            "code": "10000",
            "msg": "Success",
            "out_biz_no": transfer.out_biz_no,
            "order_id": transfer.order_id,
            "status": transfer.status,
            "trans_date": "2026-12-03 10:34:56",
        }
        if transfer.pay_fund_order_id:
            answer["pay_fund_order_id"] = transfer.pay_fund_order_id
        return answer

    def _fund_common_query(self, biz):
        if biz.get("product_code") != "TRANS_ACCOUNT_NO_PWD" or biz.get("biz_scene") != "DIRECT_TRANSFER":
            return self._failed("INVALID_PARAMETER", "参数有误")
        transfer = self.transfers.get(biz.get("out_biz_no"))
        if transfer is None:
            return self._failed("ORDER_NOT_EXIST", "转账订单不存在")
        answer = {
            "code": "10000",
            "msg": "Success",
            "out_biz_no": transfer.out_biz_no,
            "order_id": transfer.order_id,
            "status": transfer.status,
        }
        if transfer.status == "SUCCESS":
            answer.update(
                pay_fund_order_id=transfer.pay_fund_order_id,
                trans_amount=yuan(transfer.amount),
                pay_date="2026-12-03 10:35:56",
            )
        elif transfer.status in ("FAIL", "REFUND"):
            answer.update(error_code=transfer.error_code, fail_reason="收款方账户状态异常")
        return answer

    def finish_transfer(self, out_biz_no: str, status: str = "SUCCESS", error_code: str = "") -> AliTransfer:
        """A DEALING transfer ends (SUCCESS, or FAIL with `error_code`)."""
        transfer = self.transfers[out_biz_no]
        transfer.status, transfer.error_code = status, error_code
        if status == "SUCCESS":
            transfer.pay_fund_order_id = f"20261203110070001506{secrets.randbelow(10**12):012d}"
        return transfer

    # --- the buyer --------------------------------------------------------------------------
    def open_cashier(self, fields: dict) -> AliTrade:
        """The buyer's browser posts the pay page's form: Alipay checks it and opens the trade."""
        assert self._signed_by_app(fields), "the pay page's form is not signed by the app"
        assert self._cert_problem(fields) is None, "the pay page's form lacks the certificate SNs"
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
