"""The devices an account signs in on, by the mall's first-party visitor id: the cookie
the storefront sets for its traffic figures, or the random id an app or mini-program sends
in a header. No IP address or hardware id is kept."""

import re

from django.utils import timezone

from ..models import SignInDevice

COOKIE = "fx_vid"
COOKIE_AGE = 365 * 24 * 3600
# Apps and mini-programs that keep no cookies may send their own random id in this header.
HEADER = "HTTP_X_FENXIAO_VISITOR"
_ID = re.compile(r"[0-9a-f]{32}")


def valid(value: str | None) -> str | None:
    """The id if it is one this site could have issued (32 lowercase hex), else None."""
    return value if value and len(value) == 32 and _ID.fullmatch(value) else None


def from_request(request) -> str | None:
    return valid(request.COOKIES.get(COOKIE)) or valid(request.META.get(HEADER, "").lower())


def remember(user, request) -> None:
    """Note that `user` signed in on the request's device (nothing without an id). Staff
    accounts are not buyers or distributors: their devices are not kept."""
    device = from_request(request)
    if device is None or user is None or user.is_staff:
        return
    now = timezone.now()
    SignInDevice.objects.bulk_create(
        [SignInDevice(user=user, device=device, last_seen=now)], ignore_conflicts=True
    )
    SignInDevice.objects.filter(user=user, device=device).update(last_seen=now)


def of_users(user_ids) -> list[tuple[int, str]]:
    """(user id, device) for every device these accounts signed in on."""
    return list(SignInDevice.objects.filter(user_id__in=list(user_ids)).values_list("user_id", "device"))
