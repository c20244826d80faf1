from django.utils.translation import gettext_lazy as _

from fenxiao.core.errors import DomainError


class SettingsInvalid(DomainError):
    code = "DISTRIBUTION_SETTINGS_INVALID"
    message = _("分销设置有误")


class TooManyLevels(DomainError):
    code = "DISTRIBUTION_LEVELS_EXCEEDED"
    message = _("分销层级最多 3 级（超过 3 级涉嫌传销）")


class RuleExceedsGuard(DomainError):
    code = "COMMISSION_RULE_EXCEEDS_GUARD"
    message = _("佣金规则可能超过单商品佣金上限")


class RuleInvalid(DomainError):
    code = "COMMISSION_RULE_INVALID"
    message = _("佣金规则有误")


class NotADistributor(DomainError):
    code = "NOT_A_DISTRIBUTOR"
    message = _("您还不是分销商")
    status = 403


class DistributorNotFound(DomainError):
    code = "DISTRIBUTOR_NOT_FOUND"
    message = _("分销商不存在")
    status = 404


class ApplicationNotAllowed(DomainError):
    code = "DISTRIBUTOR_APPLICATION_NOT_ALLOWED"
    message = _("当前不能申请成为分销商")
    status = 409


class BindingRefused(DomainError):
    code = "BINDING_REFUSED"
    message = _("无法绑定该分销商")
    status = 409


class LoopRefused(DomainError):
    code = "DISTRIBUTOR_LOOP_REFUSED"
    message = _("不能形成循环的上下级关系")
    status = 409


class WithdrawalInvalid(DomainError):
    code = "WITHDRAWAL_INVALID"
    message = _("提现申请有误")


class WithdrawalBelowMinimum(DomainError):
    code = "WITHDRAWAL_BELOW_MINIMUM"
    message = _("提现金额低于最低提现金额")


class WithdrawalAboveMaximum(DomainError):
    code = "WITHDRAWAL_ABOVE_MAXIMUM"
    message = _("提现金额超过单次最高提现金额")


class WithdrawalAboveBalance(DomainError):
    code = "WITHDRAWAL_ABOVE_BALANCE"
    message = _("提现金额超过可提现余额")
    status = 409


class WithdrawalLimitReached(DomainError):
    code = "WITHDRAWAL_LIMIT_REACHED"
    message = _("本周期提现次数已用完")
    status = 409


class WithdrawalNotFound(DomainError):
    code = "WITHDRAWAL_NOT_FOUND"
    message = _("提现单不存在")
    status = 404


class BatchNotFound(DomainError):
    code = "SETTLEMENT_BATCH_NOT_FOUND"
    message = _("结算批次不存在")
    status = 404


class PayoutNotificationUnsupported(DomainError):
    code = "PAYOUT_NOTIFICATION_UNSUPPORTED"
    message = _("该提现方式不接收打款通知")
    status = 404


class MiniProgramCodeUnavailable(DomainError):
    """WeChat did not draw the 小程序码 (unreachable, its rate cap, or the merchant's
    mini-program set up wrong, which is logged): the distributor tries again later."""

    code = "MINIPROGRAM_CODE_UNAVAILABLE"
    message = _("暂时无法生成小程序码，请稍后再试")
    status = 503


class AgreementNotAccepted(DomainError):
    """申请时须同意协议 is on and the applicant did not tick 我已阅读并同意."""

    code = "AGREEMENT_NOT_ACCEPTED"
    message = _("请阅读并同意《分销商协议》后再申请")
    status = 400


class AgreementOutdated(DomainError):
    """The merchant changed the 分销商协议 after the page or app showed it: the applicant
    agreed to text that is no longer the terms, so they read the new version first."""

    code = "AGREEMENT_OUTDATED"
    message = _("分销商协议已更新，请阅读新版本后重新同意")
    status = 409


class AgreementNotFound(DomainError):
    code = "AGREEMENT_NOT_FOUND"
    message = _("本店暂未发布分销商协议")
    status = 404
