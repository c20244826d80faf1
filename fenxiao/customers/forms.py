"""The backend's login form: the same attempt limits as the H5 and API logins."""

from django import forms
from unfold.forms import AuthenticationForm

from fenxiao.core.http import client_ip

from .errors import LoginFailed, LoginRateLimited
from .services import accounts


class BackendLoginForm(AuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = accounts.login_with_username(
                    username=username,
                    password=password,
                    client_ip=client_ip(self.request) if self.request else None,
                    request=self.request,
                )
            except LoginRateLimited as exc:
                raise forms.ValidationError(exc.message, code="rate_limited") from exc
            except LoginFailed as exc:
                raise self.get_invalid_login_error() from exc
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data
