from django.utils.translation import gettext_lazy as _

from fenxiao.core.errors import DomainError


class PeriodInvalid(DomainError):
    code = "REPORT_PERIOD_INVALID"
    message = _("统计时间范围有误")
    status = 400
