"""Where tracking services push parcel trails (Kuaidi100-style signed form posts)."""

from ninja import Path, Router

from .services.tracking import record_push

router = Router(tags=["物流"])


@router.post(
    "/callback/{provider}/{subscription_id}", auth=None, url_name="logistics_callback", response={200: dict}
)
def callback(request, provider: str, subscription_id: int = Path(..., ge=1, le=2**63 - 1)):
    """A push of one parcel's trail, signed with its subscription's salt. Answered with
    `result: true` once stored (or already stored), so the service stops re-pushing; a bad
    signature is refused with 400 and nothing is stored."""
    added = record_push(provider, subscription_id, {k: request.POST.get(k, "") for k in ("param", "sign")})
    return {"result": True, "returnCode": "200", "message": "成功", "added": added}
