"""How API callers prove who they are: a bearer token (apps, mini-programs) or the session (H5)."""

from ninja.security import HttpBearer, django_auth

from fenxiao.core.errors import PermissionDenied

from .services.accounts import user_for_token


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


buyer_auth = [TokenAuth(), django_auth]


def require_perm(request, *perms: str) -> None:
    """Staff endpoints: the caller must be active staff holding every named permission."""
    user = request.user
    if not (user.is_active and user.is_staff and user.has_perms(perms)):
        raise PermissionDenied()
