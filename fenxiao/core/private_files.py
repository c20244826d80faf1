"""Files only the people they concern may see (a buyer's after-sale photos).

They live in the private storage (`STORAGES["private"]`), never under a public URL, and are
served through a link signed for one file that expires. The page or API answer that shows a
file to someone allowed to see it makes the link, so whoever may read the after-sale may
open its photos; a link copied elsewhere stops working within two hours, and no name can be
guessed or altered. A link stays the same for an hour, so browsers cache the image, and
works for one to two hours.
"""

import mimetypes
import time

from django.core import signing
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils.functional import LazyObject, empty

SALT = "fenxiao.private-file"
HOUR = 3600


class _PrivateStorage(LazyObject):
    """`STORAGES["private"]`, looked up when first used (and again after the setting changes),
    so a model field can hold it from import on."""

    def _setup(self):
        self._wrapped = storages["private"]


_private = _PrivateStorage()


@receiver(setting_changed)
def _forget_storage(*, setting, **kwargs):
    if setting == "STORAGES":
        _private._wrapped = empty


def storage():
    return _private


def url(name: str, now: float | None = None) -> str:
    """The signed link to the private file `name`, good until the end of the next hour (the
    same link all hour long)."""
    expires = (int(now or time.time()) // HOUR + 2) * HOUR
    return reverse("private_file", args=[_signer().sign_object([name, expires], compress=True)])


def _signer():
    return signing.Signer(salt=SALT)


def serve(request, token: str):
    try:
        name, expires = _signer().unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        raise Http404 from None
    if not isinstance(expires, int) or expires <= time.time():
        raise Http404
    try:
        handle = storage().open(name)
    except (OSError, ValueError, SuspiciousFileOperation):  # gone, or a name the storage refuses
        raise Http404 from None
    response = FileResponse(handle, content_type=mimetypes.guess_type(name)[0] or "application/octet-stream")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
