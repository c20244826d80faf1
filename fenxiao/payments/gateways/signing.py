"""RSA-SHA256 with PKCS#1 v1.5 padding over PEM key files: how WeChat Pay (API v3) and
Alipay (RSA2) both sign, and how the mall signs to them. The far side's key comes from a
PEM public key file, or from the certificate that carries it (Alipay's 公钥证书 mode)."""

import base64
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..errors import SignatureInvalid


@lru_cache(maxsize=8)
def private_key(path: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


@lru_cache(maxsize=8)
def public_key(path: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(Path(path).read_bytes())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


@lru_cache(maxsize=8)
def certificate_key(path: str) -> rsa.RSAPublicKey:
    """The RSA public key in the (first) certificate of a PEM file."""
    key = x509.load_pem_x509_certificate(Path(path).read_bytes()).public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not a certificate of an RSA key")
    return key


def key_problems(prefix: str, cfg: dict, names=("PRIVATE_KEY_FILE", "PUBLIC_KEY_FILE")) -> list[str]:
    """The key files of `cfg` (among PRIVATE_KEY_FILE, PUBLIC_KEY_FILE) that cannot be read."""
    loaders = {"PRIVATE_KEY_FILE": private_key, "PUBLIC_KEY_FILE": public_key}
    found = []
    for name in names:
        loader = loaders[name]
        try:
            loader(cfg[name])
        except (OSError, ValueError, TypeError) as exc:
            found.append(f"{prefix}_{name} ({cfg[name]}) cannot be read as an RSA key: {exc}")
    return found


def sign(key_file: str, message: bytes) -> str:
    """The base64 signature of `message` with the private key in `key_file`."""
    signature = private_key(key_file).sign(message, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def verify(key_file: str, message: bytes, signature: str) -> None:
    """Raise SignatureInvalid unless `signature` (base64) is the public key's over `message`."""
    _verify(public_key, key_file, message, signature)


def verify_by_certificate(cert_file: str, message: bytes, signature: str) -> None:
    """Like `verify`, with the public key of the certificate in `cert_file`."""
    _verify(certificate_key, cert_file, message, signature)


def _verify(loader, path: str, message: bytes, signature: str) -> None:
    if not isinstance(signature, str) or not signature:
        raise SignatureInvalid()
    try:
        loader(path).verify(
            base64.b64decode(signature, validate=True), message, padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, ValueError) as exc:
        raise SignatureInvalid() from exc
