from fenxiao.core.errors import DomainError


class PeriodInvalid(DomainError):
    code = "REPORT_PERIOD_INVALID"
    message = "统计时间范围有误"
    status = 400
