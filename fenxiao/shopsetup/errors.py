from fenxiao.core.errors import DomainError


class UnknownTemplate(DomainError):
    code = "SETUP_UNKNOWN_TEMPLATE"
    message = "没有这个开店模板（可选：starter、smb、chain）"
    status = 404
