"""分销商协议: publishing versions of the terms, and a distributor agreeing to one.

The invariant: a distributor's `agreement` is a version they were shown and agreed to,
never one they were not. An application names the version it agreed to (`agreed_version`);
if the merchant changed the text since the page or app showed it, the application is
refused (`AgreementOutdated`), not recorded against text the applicant never read.

- The text is a setting (`DistributionSettings.agreement_text`): each saved change of it is
  a new numbered version (`publish`, called by `config.update_settings` under the settings
  row lock, so two saves at once number one after the other). An empty text publishes
  nothing: the shop has no terms then, and nobody is asked to agree.
- 申请时须同意协议 (`agreement_required`) makes the tick part of an application
  (`for_application`). Those who join with no form (人人分销, 满足条件, designated, a store
  QR) record nothing when they join; the center asks them to agree (`needs_agreement`,
  `agree`).
"""

from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import AgreementNotAccepted, AgreementNotFound, AgreementOutdated, SettingsInvalid
from ..models import DistributionSettings, Distributor, DistributorAgreement
from . import config

# Where the H5 storefront shows the terms (the API hands it to apps).
PAGE = "/d/agreement/"
# Far beyond real terms (a few thousand characters), far below what a page should carry.
MAX_TEXT = 20_000

# The terms a new shop starts from (the shop templates and the demo set them): short, and
# only what the system really does — commission on real sales, no fees, settlement after
# the after-sale window, suspension for abuse, tax by law.
DEFAULT_TEXT = """\
欢迎成为本店分销商。申请前请仔细阅读本协议，勾选同意即表示您接受以下约定。

一、佣金只来自真实销售。好友通过您分享的链接、二维码或海报购买商品，订单完成后您按本店公布的比例获得佣金；邀请他人成为分销商本身不产生任何报酬。

二、本店不收取任何费用。成为分销商免费，没有入门费、保证金或培训费，也不要求您购买商品或囤货。

三、佣金在订单完成且售后期结束后结算到您的账户，可按分销中心公布的提现规则提现。订单退款的，相应佣金取消；已结算的，从您的余额中扣回。

四、请如实介绍商品，不得虚假宣传、刷单、用他人账户自购或以其他不正当方式获取佣金。出现上述行为的，本店可暂停或取消您的分销资格，相关佣金暂停结算或不予结算。

五、佣金属于您的个人收入，依法缴纳个人所得税。

六、您可随时联系本店停止分销；本店也可在通知您后终止合作。终止前已结算的佣金仍可提现。本协议修改时，本店会在分销中心请您阅读并同意新版本。"""


def normalise(text: str) -> str:
    """The text as kept: line breaks of any browser as \\n, no trailing blanks."""
    return "\n".join(line.rstrip() for line in (text or "").replace("\r\n", "\n").split("\n")).strip()


def check_text(cfg: DistributionSettings) -> None:
    cfg.agreement_text = normalise(cfg.agreement_text)
    if len(cfg.agreement_text) > MAX_TEXT:
        raise SettingsInvalid(_("分销商协议最多 %(count)s 字") % {"count": MAX_TEXT})


def publish(cfg: DistributionSettings, staff) -> DistributorAgreement | None:
    """The settings' text, just saved with a change, as the next version (none for an empty
    text). Call with the settings row locked (`config.update_settings`)."""
    if not cfg.agreement_text:
        return None
    last = DistributorAgreement.objects.order_by("-version").values_list("version", flat=True).first()
    return DistributorAgreement.objects.create(
        version=(last or 0) + 1, text=cfg.agreement_text, created_by=staff
    )


def current(cfg: DistributionSettings | None = None) -> DistributorAgreement | None:
    """The version in force: the latest, while the settings hold a text."""
    cfg = cfg or config.current()
    if not cfg.agreement_text:
        return None
    return DistributorAgreement.objects.order_by("-version").first()


def required(cfg: DistributionSettings | None = None) -> DistributorAgreement | None:
    """The version an applicant must agree to (申请时须同意协议 on), or None."""
    cfg = cfg or config.current()
    return current(cfg) if cfg.agreement_required else None


def for_application(cfg: DistributionSettings, agreed_version: int | None) -> DistributorAgreement | None:
    """The version an application records, checked against the one in force: refused
    without a tick when agreeing is required, or with a version the merchant has replaced
    since. Without the requirement a stale or missing version records nothing."""
    terms = current(cfg)
    if terms is None:
        return None
    if not cfg.agreement_required:
        return terms if agreed_version == terms.version else None
    if agreed_version is None:
        raise AgreementNotAccepted()
    if agreed_version != terms.version:
        raise AgreementOutdated(current_version=terms.version)
    return terms


def needs_agreement(distributor: Distributor | None, cfg: DistributionSettings | None = None):
    """The version `distributor` should still agree to (the center's prompt), or None."""
    if distributor is None:
        return None
    terms = required(cfg)
    if terms is None or distributor.agreement_id == terms.pk:
        return None
    return terms


def agree(distributor: Distributor, version: int | None, now=None) -> Distributor:
    """`distributor` agrees to `version`, which must be the one in force. Agreeing again to
    the version already agreed keeps the first time."""
    terms = current()
    if terms is None:
        raise AgreementNotFound()
    if version != terms.version:
        raise AgreementOutdated(current_version=terms.version)
    now = now or timezone.now()
    if (
        Distributor.objects.filter(pk=distributor.pk)
        .exclude(agreement=terms)
        .update(agreement=terms, agreed_at=now)
    ):
        distributor.agreement, distributor.agreed_at = terms, now
    else:
        distributor.refresh_from_db(fields=["agreement", "agreed_at"])
    return distributor
