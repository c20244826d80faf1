"""A store's till (POS) for the tests of the POS sync API: a signed client, the store it
belongs to and an offline sale's body (the `store` and `till` fixtures: conftest.py)."""

import json
import secrets
import time

from django.test import Client
from django.utils import timezone

from fenxiao.stores.models import Store
from fenxiao.stores.services import pos_keys


def make_store(name="西湖店"):
    return Store.objects.create(
        name=name, province="浙江省", city="杭州市", district="西湖区", address_detail="文三路 1 号"
    )


class Till:
    """A store's POS: signs every request like the README says."""

    def __init__(self, store, name="前台收银"):
        self.key, self.secret = pos_keys.create_key(store, name=name)
        self.client = Client()

    def call(
        self, method, path, body=None, *, timestamp=None, nonce=None, secret=None, idempotency=None, query=""
    ):
        raw = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or secrets.token_hex(8)
        full = "/api/v1/pos" + path
        signature = pos_keys.sign(secret or self.secret, timestamp, nonce, method, full, raw)
        headers = {
            "HTTP_X_FENXIAO_KEY": self.key.key_id,
            "HTTP_X_FENXIAO_TIMESTAMP": timestamp,
            "HTTP_X_FENXIAO_NONCE": nonce,
            "HTTP_X_FENXIAO_SIGNATURE": signature,
        }
        if idempotency:
            headers["HTTP_IDEMPOTENCY_KEY"] = idempotency
        if method == "GET":
            return self.client.get(full + query, **headers)
        return self.client.generic(method, full, raw, content_type="application/json", **headers)


def sale(sale_id="S-0001", phone=None, total=12800, lines=None):
    return {
        "sale_id": sale_id,
        "member_phone": phone,
        "lines": lines or [{"sku_code": "TILL-ONLY-1", "quantity": 2, "amount": total}],
        "total": total,
        "sold_at": timezone.now().isoformat(),
    }
