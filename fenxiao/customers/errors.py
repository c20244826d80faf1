from django.utils.translation import gettext_lazy as _

from fenxiao.core.errors import DomainError


class InvalidPhone(DomainError):
    code = "INVALID_PHONE"
    message = _("请输入有效的中国大陆手机号")
    status = 400


class RegisterRateLimited(DomainError):
    code = "REGISTER_RATE_LIMITED"
    message = _("注册尝试过于频繁，请稍后再试")
    status = 429


class PasswordResetRateLimited(DomainError):
    code = "RESET_RATE_LIMITED"
    message = _("重置密码尝试过于频繁，请稍后再试")
    status = 429


class WrongPassword(DomainError):
    code = "WRONG_PASSWORD"
    message = _("原密码不正确")
    status = 400


class WeakPassword(DomainError):
    code = "WEAK_PASSWORD"
    message = _("密码不符合要求")
    status = 400


class LoginFailed(DomainError):
    code = "LOGIN_FAILED"
    message = _("手机号或密码错误")
    status = 401


class LoginRateLimited(DomainError):
    code = "LOGIN_RATE_LIMITED"
    message = _("登录失败次数过多，请稍后再试")
    status = 429


class AddressInvalid(DomainError):
    code = "ADDRESS_INVALID"
    message = _("收货地址信息不完整")
    status = 400


class AddressNotFound(DomainError):
    code = "ADDRESS_NOT_FOUND"
    message = _("收货地址不存在")
    status = 404


class WalletInsufficient(DomainError):
    code = "WALLET_INSUFFICIENT"
    message = _("商城余额不足")
    status = 409


class SmsCodeInvalid(DomainError):
    # Also the answer for a number that already has an account: such a number is never sent
    # a registration code, so the two cannot be told apart.
    code = "SMS_CODE_INVALID"
    message = _("验证码错误或已过期")
    status = 400


class SmsRateLimited(DomainError):
    code = "SMS_RATE_LIMITED"
    message = _("验证码发送过于频繁，请稍后再试")
    status = 429


class SmsUnavailable(DomainError):
    code = "SMS_UNAVAILABLE"
    message = _("短信服务暂未开通，暂时无法发送验证码，请稍后再试或联系客服")
    status = 503


class TagInvalid(DomainError):
    code = "TAG_INVALID"
    message = _("标签设置有误")
    status = 400


class SegmentInvalid(DomainError):
    code = "SEGMENT_INVALID"
    message = _("分群条件有误")
    status = 400


class WechatAuthFailed(DomainError):
    code = "WECHAT_AUTH_FAILED"
    message = _("微信授权失败，请返回重试")
    status = 400


class WechatMiniProgramSignInFailed(DomainError):
    """The mini-program's sign-in was refused; each case raises it with its own code."""

    code = "WECHAT_CODE_INVALID"
    message = _("微信登录凭证无效或已过期，请重新进入小程序后再试")
    status = 400


class WechatBindConflict(DomainError):
    code = "WECHAT_BIND_CONFLICT"
    message = _("该微信正在绑定另一个账号，请稍后重试")
    status = 409
