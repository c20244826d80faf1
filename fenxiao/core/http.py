"""Request helpers shared by the API and the H5 views."""

from django.conf import settings


def client_ip(request) -> str | None:
    """The caller's address. Behind a reverse proxy, set CLIENT_IP_HEADER to the header the
    proxy writes (e.g. HTTP_X_REAL_IP); it is trusted as is, so only set it behind one."""
    value = request.META.get(settings.CLIENT_IP_HEADER) or request.META.get("REMOTE_ADDR")
    if value and "," in value:  # X-Forwarded-For: the first entry is the client
        value = value.split(",", 1)[0]
    return value.strip() if value else None
