"""Local password login: refused whole when PASSWORD_LOGIN is off, and throttled per username (accounts.throttle)."""

import math

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from accounts import throttle


class PasswordBackend(ModelBackend):
    """Django's password check, off with PASSWORD_LOGIN=false; permissions are still answered here either way."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.PASSWORD_LOGIN:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class PasswordLoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Your username and password did not match. Please try again.",
        "locked": "Too many failed attempts to log in as this person. Try again in %(wait)s.",
    }
    retry_after = 0  # seconds, when the username is locked

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if wait := throttle.seconds_locked(username):
            raise self._locked(wait)
        try:
            cleaned = super().clean()
        except ValidationError as error:
            if error.code == "invalid_login" and (wait := throttle.record_failure(username)):
                raise self._locked(wait) from None
            raise
        throttle.forget(username)
        return cleaned

    def _locked(self, wait: int) -> ValidationError:
        self.retry_after = wait
        minutes = math.ceil(wait / 60)
        in_words = f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"
        return ValidationError(self.error_messages["locked"], code="locked", params={"wait": in_words})
