"""WeChat template messages (公众号模板消息) to buyers who have a 微信身份 (their openid,
learnt when they paid in WeChat): one approved template per notice kind
(`NOTICE_TEMPLATES["wechat"]`), its fields filled from the notice, tapping it opens the
notice's page in the mall.

The 公众号 is the one bound to WeChat Pay (`WECHATPAY["APPID"]`, `WECHAT_MP["SECRET"]`); its
access token is shared with the JS-SDK (`customers.services.wechat_mp`).
"""

from django.conf import settings

from fenxiao.customers.services import wechat_mp
from fenxiao.customers.services.wechat_oauth import appid

from .base import ChannelAdapter, Notice, SendFailed
from .templates import clip, source_value, template_for

# How long each kind of free-text template field may be (WeChat refuses longer values:
# errcode 47003). Fields with a format (time, date, amount, numbers) are never cut: a cut
# value would be no value of that format.
FIELD_LIMITS = {"thing": 20, "character_string": 32, "letter": 32, "symbol": 5, "phrase": 5, "name": 10}
# Refusals no retry can change: the buyer unfollowed the 公众号 (43004) or refuses its
# messages (43101), an openid or template this 公众号 does not have (40003, 40037), fields
# WeChat will not take (47003). Staff can send such a row again once the cause is fixed.
PERMANENT_ERRORS = {40003, 40037, 43004, 43101, 47003}


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
            WechatIdentity.objects.filter(user=user, appid=appid()).values_list("openid", flat=True).first()
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
        try:
            answer = wechat_mp.call(
                "/cgi-bin/message/template/send", payload, {"access_token": wechat_mp.access_token()}
            )
        except wechat_mp.WechatApiFailed as exc:
            raise SendFailed(str(exc)) from exc
        code = answer.get("errcode")
        if code != 0:
            raise SendFailed(
                f"微信模板消息发送失败：{code} {answer.get('errmsg')}", permanent=code in PERMANENT_ERRORS
            )
