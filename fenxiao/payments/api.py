from django.http import HttpResponse
from ninja import Router

from .gateways import get_gateway
from .services.notifications import handle_notification

router = Router(tags=["支付"])


@router.post("/notify/{gateway}", auth=None, url_name="payment_notify", response={200: dict})
def notify(request, gateway: str):
    """Where gateways deliver signed payment notifications. Answers SUCCESS once applied
    (or already applied), so the gateway stops retrying."""
    headers = dict(request.headers.items())
    outcome = handle_notification(gateway, headers, request.body)
    ack = get_gateway(gateway).ack_text
    if ack:
        # Some gateways (Alipay) stop retrying only on their own plain-text answer.
        return HttpResponse(ack, content_type="text/plain; charset=utf-8")
    return {"code": "SUCCESS", "message": "成功", "outcome": outcome}
