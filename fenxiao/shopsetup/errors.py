from django.utils.translation import gettext_lazy as _

from fenxiao.core.errors import DomainError


class UnknownTemplate(DomainError):
    code = "SETUP_UNKNOWN_TEMPLATE"
    message = _("没有这个开店模板（可选：starter、smb、chain）")
    status = 404
