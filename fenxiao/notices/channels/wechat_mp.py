"""WeChat template messages (公众号模板消息) to buyers who have a 微信身份 (their openid,
learnt when they paid in WeChat): one approved template per notice kind
(`NOTICE_TEMPLATES["wechat"]`), its fields filled from the notice, tapping it opens the
notice's page in the mall.

The 公众号 is the one bound to WeChat Pay (`WECHATPAY["APPID"]`, `WECHAT_MP["SECRET"]`).
Its access token comes from `stable_token`, which does not revoke the token another node
holds, and is cached in the shared cache until shortly before it expires.
"""

import json
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.cache import cache

from .base import ChannelAdapter, Notice, SendFailed
from .templates import clip, source_value, template_for

TIMEOUT_SECONDS = 10
# Answers meaning the access token is no longer good: fetch a new one next time.
TOKEN_ERRORS = {40001, 40014, 42001}
# How long each kind of free-text template field may be (WeChat refuses longer values:
# errcode 47003). Fields with a format (time, date, amount, numbers) are never cut: a cut
# value would be no value of that format.
FIELD_LIMITS = {"thing": 20, "character_string": 32, "letter": 32, "symbol": 5, "phrase": 5, "name": 10}


def _appid() -> str:
    return settings.WECHATPAY.get("APPID", "")


def _call(path: str, payload: dict, query: dict | None = None) -> dict:
    url = settings.WECHAT_MP["API_BASE"] + path + ("?" + urllib.parse.urlencode(query) if query else "")
    request = urllib.request.Request(  # noqa: S310 - the configured https API base
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            answer = json.loads(response.read())
    except (OSError, ValueError) as exc:
        raise SendFailed(f"微信接口无法连接：{exc}") from exc
    if not isinstance(answer, dict):
        raise SendFailed("微信接口应答无法解析")
    return answer


def access_token() -> str:
    key = f"wechat-mp-token:{_appid()}"
    token = cache.get(key)
    if token:
        return token
    answer = _call(
        "/cgi-bin/stable_token",
        {"grant_type": "client_credential", "appid": _appid(), "secret": settings.WECHAT_MP["SECRET"]},
    )
    token = answer.get("access_token")
    if not token:
        raise SendFailed(f"获取公众号 access_token 失败：{answer.get('errcode')} {answer.get('errmsg')}")
    cache.set(key, token, max(int(answer.get("expires_in") or 7200) - 300, 60))
    return token


def _fill(field: str, value: str) -> str:
    limit = FIELD_LIMITS.get(field.rstrip("0123456789"))
    return clip(value, limit) if limit else value


class WechatTemplateMessages(ChannelAdapter):
    name = "mp"
    label = "公众号模板消息"

    @classmethod
    def serves(cls, kind: str) -> bool:
        return template_for("wechat", kind) is not None

    def address(self, user) -> str | None:
        from fenxiao.customers.models import WechatIdentity

        return (
            WechatIdentity.objects.filter(user=user, appid=_appid()).values_list("openid", flat=True).first()
        )

    def _data(self, notice: Notice) -> tuple[str, dict[str, str]]:
        entry = template_for("wechat", notice.kind)
        if entry is None:
            raise SendFailed(f"未配置“{notice.kind}”的模板消息")
        values = {
            field: _fill(field, source_value(notice, source)) for field, source in entry["fields"].items()
        }
        return entry["template"], values

    def render(self, notice: Notice) -> str:
        template, values = self._data(notice)
        return f"[{template}] " + "；".join(f"{field}：{value}" for field, value in values.items())

    def send(self, *, address: str, notice: Notice, reference: str) -> None:
        template, values = self._data(notice)
        payload = {
            "touser": address,
            "template_id": template,
            "data": {field: {"value": value} for field, value in values.items()},
            # WeChat ignores a second send with the same id: a re-driven row is sent once.
            "client_msg_id": reference,
        }
        if notice.link:
            payload["url"] = settings.SITE_URL + notice.link
        answer = _call("/cgi-bin/message/template/send", payload, {"access_token": access_token()})
        code = answer.get("errcode")
        if code in TOKEN_ERRORS:
            cache.delete(f"wechat-mp-token:{_appid()}")
        if code != 0:
            raise SendFailed(f"微信模板消息发送失败：{code} {answer.get('errmsg')}")
