"""Alipay's open API (支付宝开放平台): RSA2-signed requests, verified answers and
notifications, and amounts in yuan strings.

Every request is the common parameters plus `biz_content`, signed RSA-SHA256 with the
app's private key over the sorted `key=value` pairs. Every answer is signed by Alipay over
the exact text of its `…_response` object, and every notification over its sorted form
fields. Configuration comes from `settings.ALIPAY`; `problems()` lists what is missing or
wrong, for the system check.

Two ways to know Alipay's key, as the app is set up on Alipay's open platform:
- 公钥 mode: PUBLIC_KEY_FILE holds the Alipay public key.
- 公钥证书 mode (what Alipay requires for fund transfers), when APP_CERT_FILE,
  ALIPAY_CERT_FILE and ROOT_CERT_FILE are all set: every request also carries, inside the
  signed parameters, `app_cert_sn` (the app's certificate) and `alipay_root_cert_sn`
  (Alipay's root bundle), and answers and notifications are verified with the key inside
  ALIPAY_CERT_FILE. An SN is Alipay's SDKs' identifier of a certificate: the md5 hex of
  its issuer's RFC 2253 name (most specific first, as Java's X500Principal.getName()
  writes it) followed by its serial number in decimal; the root's joins with "_" the SNs
  of the bundle's RSA-signed (sha1/sha256WithRSAEncryption) certificates.
"""

import hashlib
import http.client
import json
import logging
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.utils import timezone

from ..errors import GatewayUnreachable, SignatureInvalid
from . import signing

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
REQUIRED = ("APP_ID", "PRIVATE_KEY_FILE", "PUBLIC_KEY_FILE")
CERT_FILES = ("APP_CERT_FILE", "ALIPAY_CERT_FILE", "ROOT_CERT_FILE")
# sha1WithRSAEncryption, sha256WithRSAEncryption: the root certificates that count in
# alipay_root_cert_sn (Alipay's bundle also holds ECDSA and SM2 roots, which do not).
RSA_SIGNED = {"1.2.840.113549.1.1.5", "1.2.840.113549.1.1.11"}
_YUAN = re.compile(r"^([0-9]{1,9})(?:\.([0-9]{1,2}))?$")
_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def config() -> dict:
    return dict(getattr(settings, "ALIPAY", {}) or {})


def cert_mode(cfg: dict) -> bool:
    return all(cfg.get(name) for name in CERT_FILES)


def problems() -> list[str]:
    cfg = config()
    certs = [name for name in CERT_FILES if cfg.get(name)]
    if certs and not cert_mode(cfg):
        # Half a certificate setup signs requests Alipay rejects: say which files are missing.
        return [
            f"ALIPAY_{name} is not set (certificate mode needs all of {', '.join(CERT_FILES)})"
            for name in CERT_FILES
            if name not in certs
        ]
    required = ("APP_ID", "PRIVATE_KEY_FILE", *CERT_FILES) if certs else REQUIRED
    missing = [f"ALIPAY_{name} is not set" for name in required if not cfg.get(name)]
    if missing:
        return missing
    if not certs:
        return signing.key_problems("ALIPAY", cfg)
    return signing.key_problems("ALIPAY", cfg, names=("PRIVATE_KEY_FILE",)) + _cert_problems(cfg)


def _cert_problems(cfg: dict) -> list[str]:
    found = []
    for name, reader in (
        ("APP_CERT_FILE", cert_sn_of_file),
        ("ALIPAY_CERT_FILE", signing.certificate_key),
        ("ROOT_CERT_FILE", root_cert_sn_of_file),
    ):
        try:
            reader(cfg[name])
        except (OSError, ValueError, TypeError) as exc:
            found.append(f"ALIPAY_{name} ({cfg[name]}) cannot be read as a certificate: {exc}")
    if not found:
        try:
            app_key = _first_certificate(cfg["APP_CERT_FILE"]).public_key()
            own_key = signing.private_key(cfg["PRIVATE_KEY_FILE"]).public_key()
        except (OSError, ValueError, TypeError):
            return found  # the private key's problem is reported on its own
        if _der(app_key) != _der(own_key):
            found.append(
                f"ALIPAY_APP_CERT_FILE ({cfg['APP_CERT_FILE']}) is not the certificate of "
                "ALIPAY_PRIVATE_KEY_FILE's key: Alipay would refuse every request"
            )
    return found


def _der(public_key) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# --- certificate serial numbers (SN) ------------------------------------------------------
def cert_sn(cert: x509.Certificate) -> str:
    """Alipay's SN of a certificate: md5 hex of the issuer's RFC 2253 name and the serial
    number in decimal. (cryptography's RFC 4514 string is RFC 2253's for the attribute
    types CAs use: CN, OU, O, L, ST, C …, escaped alike.)"""
    text = cert.issuer.rfc4514_string() + str(cert.serial_number)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def root_cert_sn(pem: bytes) -> str:
    """alipay_root_cert_sn of a root bundle: the SNs of its RSA-signed certificates, "_"-joined
    in the bundle's order."""
    sns = []
    for block in _PEM_CERT.findall(pem.decode("ascii", errors="replace")):
        der = ssl.PEM_cert_to_DER_cert(block)
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError:
            # cryptography refuses some ECDSA/SM2 roots' encoding (parameters on the
            # signature algorithm); those do not count, but an RSA-signed one must be read.
            if _signature_oid(der) in RSA_SIGNED:
                raise
            continue
        if cert.signature_algorithm_oid.dotted_string in RSA_SIGNED:
            sns.append(cert_sn(cert))
    if not sns:
        raise ValueError("no RSA-signed certificate in the root bundle")
    return "_".join(sns)


@lru_cache(maxsize=8)
def _first_certificate(path: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(Path(path).read_bytes())


def cert_sn_of_file(path: str) -> str:
    return cert_sn(_first_certificate(path))


@lru_cache(maxsize=8)
def root_cert_sn_of_file(path: str) -> str:
    return root_cert_sn(Path(path).read_bytes())


def _signature_oid(der: bytes) -> str:
    """The dotted OID of a DER certificate's outer signatureAlgorithm, read by hand for the
    certificates cryptography will not parse. ValueError when it is not DER."""

    def element(at: int) -> tuple[int, int, int]:  # (tag, content start, content end)
        if at + 2 > len(der):
            raise ValueError("truncated certificate")
        tag, length, at = der[at], der[at + 1], at + 2
        if length & 0x80:
            count = length & 0x7F
            length, at = int.from_bytes(der[at : at + count], "big"), at + count
        return tag, at, at + length

    try:
        _, body, _ = element(0)  # Certificate
        _, _, tbs_end = element(body)  # tbsCertificate, skipped
        _, algorithm, _ = element(tbs_end)  # signatureAlgorithm
        tag, start, end = element(algorithm)
    except IndexError as exc:
        raise ValueError("not a DER certificate") from exc
    if tag != 0x06:
        raise ValueError("no algorithm OID")
    numbers, value = [], 0
    for byte in der[start:end]:
        value = value << 7 | byte & 0x7F
        if not byte & 0x80:
            numbers.append(value)
            value = 0
    if not numbers:
        raise ValueError("empty OID")
    first = min(numbers[0] // 40, 2)
    return ".".join(str(n) for n in (first, numbers[0] - 40 * first, *numbers[1:]))


def yuan(fen: int) -> str:
    """Alipay's amount: yuan with two decimals, from integer fen (no float on the way)."""
    return f"{fen // 100}.{fen % 100:02d}"


def fen(amount: str) -> int:
    """Integer fen from Alipay's yuan string; ValueError when it is not one."""
    match = _YUAN.match(str(amount).strip())
    if not match:
        raise ValueError(f"not an amount: {amount!r}")
    return int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))


def china_time(moment) -> str:
    return timezone.localtime(moment, timezone.get_fixed_timezone(480)).strftime("%Y-%m-%d %H:%M:%S")


def sign_content(params: dict) -> str:
    """The string Alipay signs: every non-empty parameter but the signature, sorted."""
    return "&".join(
        f"{key}={params[key]}" for key in sorted(params) if key != "sign" and params[key] not in ("", None)
    )


class AlipayClient:
    def __init__(self, cfg: dict | None = None):
        self.cfg = cfg or config()
        self.app_id = self.cfg["APP_ID"]
        self.gateway = self.cfg.get("GATEWAY") or "https://openapi.alipay.com/gateway.do"
        self.cert_mode = cert_mode(self.cfg)

    def sign(self, content: str) -> str:
        return signing.sign(self.cfg["PRIVATE_KEY_FILE"], content.encode())

    def verify(self, content: str, signature: str) -> None:
        if self.cert_mode:
            signing.verify_by_certificate(self.cfg["ALIPAY_CERT_FILE"], content.encode(), signature)
        else:
            signing.verify(self.cfg["PUBLIC_KEY_FILE"], content.encode(), signature)

    def cert_sns(self) -> dict[str, str]:
        """The certificate parameters every request carries in certificate mode."""
        if not self.cert_mode:
            return {}
        return {
            "app_cert_sn": cert_sn_of_file(self.cfg["APP_CERT_FILE"]),
            "alipay_root_cert_sn": root_cert_sn_of_file(self.cfg["ROOT_CERT_FILE"]),
        }

    def signed(self, method: str, biz: dict, **extra: str) -> dict[str, str]:
        """The request's parameters, signed: what a form posts or a call sends."""
        params = {
            "app_id": self.app_id,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": china_time(timezone.now()),
            "version": "1.0",
            "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
            **self.cert_sns(),
            **{key: value for key, value in extra.items() if value},
        }
        params["sign"] = self.sign(sign_content(params))
        return params

    def call(self, method: str, biz: dict) -> dict:
        """One API call; returns its verified `…_response` object. Raises GatewayUnreachable
        when no verified answer came back: the caller asks again later."""
        body = urllib.parse.urlencode(self.signed(method, biz)).encode()
        request = urllib.request.Request(  # noqa: S310 - the configured https gateway
            self.gateway,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                text = response.read().decode("utf-8")
        except (OSError, ValueError, http.client.HTTPException) as exc:  # incl. UnicodeDecodeError
            raise GatewayUnreachable() from exc
        node = method.replace(".", "_") + "_response"
        try:
            raw, signature = _response_text(text, node)
            if self.cert_mode:
                self._check_cert_sn(text)
            self.verify(raw, signature)
            answer = json.loads(raw)
        except (ValueError, IndexError, TypeError, AttributeError, SignatureInvalid) as exc:
            # Unsigned or not Alipay's (a proxy's page, or forged): not an answer.
            raise GatewayUnreachable() from exc
        if not isinstance(answer, dict):
            raise GatewayUnreachable()
        return answer

    def _check_cert_sn(self, text: str) -> None:
        """Alipay names the certificate it signed with; another than ALIPAY_CERT_FILE's means
        Alipay renewed its certificate, and every answer fails until the new one is installed."""
        signed_with = json.loads(text).get("alipay_cert_sn")
        expected = cert_sn_of_file(self.cfg["ALIPAY_CERT_FILE"])
        if signed_with and signed_with != expected:
            logger.error(
                "Alipay signed with certificate SN %s, ALIPAY_CERT_FILE holds %s: download Alipay's "
                "new 支付宝公钥证书 from the open platform",
                signed_with,
                expected,
            )

    def verify_notification(self, form: dict[str, str]) -> None:
        signature = form.get("sign", "")
        if not signature:
            raise SignatureInvalid()
        self.verify(
            sign_content({k: v for k, v in form.items() if k not in ("sign", "sign_type")}), signature
        )


def _response_text(text: str, node: str) -> tuple[str, str]:
    """The exact text of the answer's `node` object (what Alipay signed) and its signature."""
    start = text.find(f'"{node}"')
    if start < 0:
        raise ValueError("no response object")
    start = text.index(":", start + len(node) + 2) + 1
    while text[start].isspace():
        start += 1
    _, end = json.JSONDecoder().raw_decode(text, start)
    signature = json.loads(text).get("sign")
    if not signature:
        raise ValueError("unsigned answer")
    return text[start:end], signature
