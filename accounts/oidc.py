"""OpenID Connect sign-in through mozilla-django-oidc: its code flow (state, nonce, the ID token's signature
checked against the provider's keys), with people found and their access set by accounts.signin."""

import logging

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts import signin

# Set in the session when the provider vouched for someone none of whose groups is mapped: the refusal page says so.
REFUSED_UNMAPPED = "sso_refused_unmapped"

logger = logging.getLogger(__name__)


class SignInBackend(OIDCAuthenticationBackend):
    """Listed in AUTHENTICATION_BACKENDS always; it reads the OIDC settings only while single sign-on is on."""

    def __init__(self, *args, **kwargs) -> None:
        if signin.enabled():
            super().__init__(*args, **kwargs)
        else:
            self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        if not signin.enabled():
            return None
        try:
            return super().authenticate(request, **kwargs)
        except (requests.RequestException, SuspiciousOperation) as error:  # a refusal page, not an error page
            logger.warning("Single sign-on failed: %s", error)
            return None

    def get_user(self, user_id):
        """Django's own: an account made inactive ends its open sessions (the library's keeps them)."""
        return ModelBackend.get_user(self, user_id)

    def verify_token(self, token, **kwargs):
        """The library checks the signature and nonce; an ID token must also be meant for Regent, and come from
        the configured issuer when one is (OIDC Core 3.1.3.7)."""
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        if settings.OIDC_RP_CLIENT_ID not in (audience if isinstance(audience, list) else [audience]):
            raise SuspiciousOperation("The ID token was issued for another client.")
        if settings.OIDC_OP_ISSUER and payload.get("iss") != settings.OIDC_OP_ISSUER:
            raise SuspiciousOperation(f"The ID token was issued by {payload.get('iss')!r}, not OIDC_OP_ISSUER.")
        return payload

    def retrieve_matching_jwk(self, token):
        """A token without a key id is allowed when the provider publishes one key (RFC 7515 4.1.4, OIDC Core
        10.1); the library would fail on the missing `kid`."""
        if "kid" in jwt.get_unverified_header(token):
            return super().retrieve_matching_jwk(token)
        response = requests.get(settings.OIDC_OP_JWKS_ENDPOINT, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        keys = response.json().get("keys", [])
        if len(keys) != 1:
            raise SuspiciousOperation("The ID token names no key and the provider publishes several.")
        return jwt.PyJWK(keys[0])

    def get_or_create_user(self, access_token, id_token, payload):
        userinfo = self.get_userinfo(access_token, id_token, payload)
        if str(userinfo.get("sub")) != str(payload.get("sub")):  # OpenID Connect Core 5.3.2
            raise SuspiciousOperation("The userinfo's subject is not the ID token's.")
        user = signin.sign_in({**payload, **userinfo})
        if user is None:
            self.request.session[REFUSED_UNMAPPED] = True
        return user


class SignInStart(OIDCAuthenticationRequestView):
    def dispatch(self, request, *args, **kwargs):
        if not signin.enabled():
            raise Http404("Single sign-on is not configured.")
        return super().dispatch(request, *args, **kwargs)


class SignInCallback(OIDCAuthenticationCallbackView):
    def dispatch(self, request, *args, **kwargs):
        if not signin.enabled():
            raise Http404("Single sign-on is not configured.")
        return super().dispatch(request, *args, **kwargs)

    @property
    def failure_url(self) -> str:
        return reverse("sso-refused")
