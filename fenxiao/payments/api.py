from ninja import Router

from .services.notifications import handle_notification

router = Router(tags=["支付"])


@router.post("/notify/{gateway}", auth=None, url_name="payment_notify", response={200: dict})
def notify(request, gateway: str):
    """Where gateways deliver signed payment notifications. Answers SUCCESS once applied
    (or already applied), so the gateway stops retrying."""
    headers = dict(request.headers.items())
    outcome = handle_notification(gateway, headers, request.body)
    return {"code": "SUCCESS", "message": "成功", "outcome": outcome}
