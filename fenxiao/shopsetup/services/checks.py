"""Readiness notes a template shows (nothing to write): what the merchant gets for free or
still has to do by hand."""

from django.utils.translation import gettext as _


def share_links() -> str:
    return _("已就绪：分销中心可复制推广链接、生成二维码")


def poster_font() -> str:
    from fenxiao.distribution.services.sharing import _font_path

    if _font_path():
        return _("已就绪：分销中心可生成商品分享海报")
    return _("海报缺少中文字体：请安装 fonts-wqy-microhei 或设置 POSTER_FONT_PATH")


def dashboard_reports() -> str:
    return _("已就绪：后台首页“经营概况”显示核心指标、趋势与销售/分销/流量报表")


def stores() -> str:
    from fenxiao.stores.models import Store

    count = Store.objects.count()
    if count:
        pickup = Store.objects.filter(pickup_enabled=True).count()
        return _("已有 %(count)s 家门店，其中 %(pickup)s 家支持到店自提") % {"count": count, "pickup": pickup}
    return _("尚无门店：请在后台“门店”中添加（或使用示例数据新建一家示例门店）")


def pos_keys() -> str:
    """POS keys are made per store by the merchant (the secret is shown once, to whoever
    will type it into the till), so the template only says where, and how many stores
    are connected already."""
    from fenxiao.stores.models import PosApiKey, Store

    stores = Store.objects.count()
    connected = PosApiKey.objects.filter(is_active=True).values("store").distinct().count()
    return _(
        "POS 接口已开通：%(connected)s/%(stores)s 家门店已有接口密钥；"
        "在后台“门店 → 收银系统密钥”为门店新增密钥，接口签名说明见 /api/docs"
    ) % {"connected": connected, "stores": stores}
