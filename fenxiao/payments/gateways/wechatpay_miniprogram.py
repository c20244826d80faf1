"""WeChat Pay in the merchant's WeChat mini-program (小程序支付): a JSAPI trade opened
under the mini-program's AppID (same merchant number: the merchant must bind the
mini-program to the merchant account on the merchant platform) for the buyer's openid
under the mini-program, which the mall learnt when they signed in there
(`customers.services.wechat_miniprogram`). The API's pay answer carries what
`wx.requestPayment` takes (`client_params`), signed with the merchant key.

Offered only through the API (the mini-program calls it): a browser cannot open the
mini-program's payment, so H5 pages never list it (`app_only`). Notifications (to this
gateway's own address), queries, closing and refunds are the JSAPI gateway's.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy

from .base import PaymentIntent
from .wechatpay import WechatPayJsapiGateway
from .wechatpay_client import WechatPayClient, config


def miniprogram_appid() -> str:
    return (getattr(settings, "WECHAT_MINIPROGRAM", {}) or {}).get("APPID", "")


class WechatPayMiniProgramGateway(WechatPayJsapiGateway):
    name = "wechatpay_miniprogram"
    label = gettext_lazy("微信支付")
    # No page of the mall's: the mini-program opens WeChat's payment with `client_params`.
    pay_page = ""
    in_wechat = None
    app_only = True
    # The payer is the openid bound to the paying account under `payer_appid`, taken from
    # the account by the payments service, never from the request.
    payer_from_account = True

    def __init__(self, client: WechatPayClient | None = None):
        # The merchant's own settings with the mini-program's AppID: requests, prepay
        # signatures and the appid a notification must name all follow it.
        super().__init__(client or WechatPayClient({**config(), "APPID": miniprogram_appid()}))

    @property
    def payer_appid(self) -> str:
        return self.client.appid

    def create_payment(
        self, *, out_trade_no, amount, description, return_url, expires_at=None, payer_id=""
    ) -> PaymentIntent:
        intent = super().create_payment(
            out_trade_no=out_trade_no,
            amount=amount,
            description=description,
            return_url=return_url,
            expires_at=expires_at,
            payer_id=payer_id,
        )
        # The mall's pay page cannot open a mini-program's payment: no address to send to.
        return PaymentIntent(pay_url="", pay_code=intent.pay_code)

    def client_params(self, prepay_id: str) -> dict[str, str]:
        """What `wx.requestPayment` takes: the JSAPI signature over the mini-program's AppID
        (which the call itself does not take: the mini-program is the app)."""
        params = super().client_params(prepay_id)
        del params["appId"]
        return params
