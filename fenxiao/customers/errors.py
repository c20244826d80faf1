from fenxiao.core.errors import DomainError


class InvalidPhone(DomainError):
    code = "INVALID_PHONE"
    message = "请输入有效的中国大陆手机号"
    status = 400


class RegistrationRefused(DomainError):
    # Deliberately says nothing about whether the number has an account (see register_buyer).
    code = "REGISTRATION_REFUSED"
    message = "无法使用该手机号注册。如果您已有账号，请直接登录或联系客服"
    status = 400


class RegisterRateLimited(DomainError):
    code = "REGISTER_RATE_LIMITED"
    message = "注册尝试过于频繁，请稍后再试"
    status = 429


class WeakPassword(DomainError):
    code = "WEAK_PASSWORD"
    message = "密码不符合要求"
    status = 400


class LoginFailed(DomainError):
    code = "LOGIN_FAILED"
    message = "手机号或密码错误"
    status = 401


class LoginRateLimited(DomainError):
    code = "LOGIN_RATE_LIMITED"
    message = "登录失败次数过多，请稍后再试"
    status = 429


class AddressInvalid(DomainError):
    code = "ADDRESS_INVALID"
    message = "收货地址信息不完整"
    status = 400


class AddressNotFound(DomainError):
    code = "ADDRESS_NOT_FOUND"
    message = "收货地址不存在"
    status = 404


class WalletInsufficient(DomainError):
    code = "WALLET_INSUFFICIENT"
    message = "商城余额不足"
    status = 409
