"""Domain errors: every refusal a service makes carries a stable code and a Chinese message.

Apps declare their own subclasses in `<app>/errors.py`; the API turns any of them into a
4xx JSON body `{"code": ..., "message": ...}` and the H5 pages show the message.
"""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "DOMAIN_ERROR"
    message = _("操作失败")
    status = 400

    def __init__(
        self, message: str | None = None, *, code: str | None = None, status: int | None = None, **details
    ):
        # A class's message is translated lazily; the refusal keeps it in the language of
        # the request that raised it.
        self.message = str(message or self.message)
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details
        super().__init__(self.message)

    def as_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class NotFound(DomainError):
    code = "NOT_FOUND"
    message = _("未找到对应的记录")
    status = 404


class PermissionDenied(DomainError):
    code = "PERMISSION_DENIED"
    message = _("没有权限执行此操作")
    status = 403


class InvalidTransition(DomainError):
    code = "INVALID_STATE_TRANSITION"
    message = _("当前状态不允许此操作")
    status = 409


class InvalidInput(DomainError):
    code = "INVALID_INPUT"
    message = _("请求参数有误")
    status = 400
