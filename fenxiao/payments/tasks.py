from django.db.models import F
from django.utils import timezone
from huey.contrib.djhuey import db_task

from .gateways import sandbox
from .models import SandboxTrade


class NotificationNotAcknowledged(Exception):
    """The mall did not answer SUCCESS; Huey retries, as a real gateway does."""


@db_task(retries=8, retry_delay=15)
def deliver_sandbox_notification(out_trade_no: str) -> None:
    trade = SandboxTrade.objects.get(out_trade_no=out_trade_no)
    if trade.status != SandboxTrade.Status.PAID:
        return
    body, headers = sandbox.SandboxGateway().build_notification(trade)
    SandboxTrade.objects.filter(pk=trade.pk).update(notify_attempts=F("notify_attempts") + 1)
    status, reply = sandbox.deliver(trade.notify_url, body, headers)
    if status != 200 or b"SUCCESS" not in reply:
        raise NotificationNotAcknowledged(f"{status} {reply[:200]!r}")
    SandboxTrade.objects.filter(pk=trade.pk).update(notified_at=timezone.now())


@db_task(retries=5, retry_delay=30)
def execute_refund(refund_id: int) -> None:
    from .services.refunds import execute_refund as run

    run(refund_id)
