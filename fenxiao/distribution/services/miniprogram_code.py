"""小程序码: a distributor's referral as the merchant's mini-program code, for sharing in
WeChat where a link to the H5 shop is not what buyers open (a poster in Moments, a chat).

WeChat draws the code (`getwxacodeunlimit`, no cap on how many codes, a rate cap per
minute) for one page of the published mini-program with a `scene` of at most 32
characters, which the mini-program reads when scanned: here `r=<referral code>` and, for
a product, `&p=<product id>`, a query string the mini-program parses and sends on as
`POST /api/v1/distribution/bind` (source `qr`) and the product page to open.

A code never changes for the same page and scene, so each is kept in the shared cache for
a month: the cluster asks WeChat once per distributor and product, not per share.

Configuration: `settings.WECHAT_MINIPROGRAM` (APPID, SECRET, API_BASE as for sign-in,
SHARE_PAGE the page a code opens, ENV_VERSION release / trial / develop).
"""

import hashlib
import logging

from django.core.cache import cache
from django.utils.translation import gettext_lazy

from fenxiao.catalog.errors import ProductNotFound
from fenxiao.catalog.models import Product
from fenxiao.customers.services import wechat_miniprogram, wechat_mp

from ..errors import MiniProgramCodeUnavailable
from ..models import Distributor

logger = logging.getLogger(__name__)

NOT_CONFIGURED = gettext_lazy("商城暂未开通微信小程序，无法生成小程序码，请使用二维码或海报分享")

SCENE_MAX = 32
CACHE_SECONDS = 30 * 24 * 3600
DEFAULT_PAGE = "pages/index/index"
# WeChat's answers that no retry of the same request can change: the page is not in the
# published mini-program (41030), the arguments are refused (40097, 40169).
MISCONFIGURED = {41030, 40097, 40169}


def scene(distributor: Distributor, product_id: int | None = None) -> str:
    text = f"r={distributor.referral_code}" + (f"&p={product_id}" if product_id else "")
    if len(text) > SCENE_MAX:  # a product id past 15 digits: share the shop instead
        return f"r={distributor.referral_code}"
    return text


def _page() -> str:
    return wechat_miniprogram.config().get("SHARE_PAGE") or DEFAULT_PAGE


def _env_version() -> str:
    return wechat_miniprogram.config().get("ENV_VERSION") or "release"


def _cache_key(page: str, text: str) -> str:
    plain = f"{wechat_miniprogram.appid()}|{page}|{_env_version()}|{text}"
    return f"wxacode:{hashlib.sha256(plain.encode()).hexdigest()[:32]}"


def image(distributor: Distributor, product_id: int | None = None) -> bytes:
    """The distributor's 小程序码 (JPEG, as WeChat draws it), for the shop or a listed product."""
    if not wechat_miniprogram.configured():
        raise MiniProgramCodeUnavailable(NOT_CONFIGURED, code="WECHAT_MINIPROGRAM_NOT_CONFIGURED", status=400)
    if product_id is not None and not Product.objects.filter(pk=product_id, is_listed=True).exists():
        raise ProductNotFound()
    page, text = _page(), scene(distributor, product_id)
    key = _cache_key(page, text)
    found = cache.get(key)
    if found:
        return found
    drawn = _draw(page, text)
    cache.set(key, drawn, CACHE_SECONDS)
    return drawn


def _draw(page: str, text: str) -> bytes:
    target = wechat_miniprogram.app()
    payload = {"scene": text, "page": page, "check_path": False, "env_version": _env_version(), "width": 430}
    answer: dict = {}
    # One retry with a fresh token: another node's stable_token call may have replaced it.
    for _attempt in range(2):
        try:
            token = wechat_mp.access_token(app=target)
            drawn, answer = wechat_mp.call_for_file(
                "/wxa/getwxacodeunlimit", payload, {"access_token": token}, app=target
            )
        except wechat_mp.WechatApiFailed as exc:
            logger.warning("WeChat getwxacodeunlimit failed: %s", exc)
            raise MiniProgramCodeUnavailable() from exc
        if drawn is not None:
            return drawn
        if answer.get("errcode") not in wechat_mp.TOKEN_ERRORS:
            break
    errcode = answer.get("errcode")
    # For the merchant to fix (the page not published, a wrong env_version) or WeChat's
    # rate cap; the distributor is asked to try later either way.
    log = logger.error if errcode in MISCONFIGURED else logger.warning
    log("WeChat getwxacodeunlimit refused (page %s): %s %s", page, errcode, answer.get("errmsg"))
    raise MiniProgramCodeUnavailable(errcode=errcode)
