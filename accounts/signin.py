"""Signing a person in with what the identity provider vouches for: their account here, roles and departments."""

import hashlib

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from accounts import grants
from accounts.models import SignInIdentity
from audit import chain


def enabled() -> bool:
    """Single sign-on is on when a client id is configured (OIDC_RP_CLIENT_ID)."""
    return bool(settings.OIDC_RP_CLIENT_ID)


def groups_in(claims: dict) -> list[str]:
    """The groups claim as a list of names; providers send a list, a few a single string."""
    value = claims.get(settings.OIDC_GROUPS_CLAIM) or []
    if isinstance(value, str):
        value = [value]
    return sorted({str(group) for group in value if isinstance(group, str | int)})


def sign_in(claims: dict) -> User | None:
    """The person the provider's claims describe, with exactly the roles and departments their groups give now.

    None when none of their groups is mapped: a newcomer is not created, and someone known loses every role and
    department. A person is found by the provider's `sub` only, never by name or email, so an account at the
    provider cannot take over a local one that happens to share its email.
    """
    subject = str(claims["sub"])
    with transaction.atomic(durable=True), chain.acting_as(f"sso:{settings.OIDC_PROVIDER_NAME}"):
        identity = SignInIdentity.objects.select_for_update().select_related("user").filter(subject=subject).first()
        given = grants.grants_for(groups_in(claims))
        if identity is None:
            if not given.mapped:
                return None
            user = User.objects.create_user(_free_username(claims, subject))
            identity = SignInIdentity(user=user, subject=subject)
        user = identity.user
        user.email = claims.get("email", user.email) or ""
        user.first_name = (claims.get("given_name") or user.first_name)[:150]
        user.last_name = (claims.get("family_name") or user.last_name)[:150]
        user.save(update_fields=["email", "first_name", "last_name"])
        identity.groups, identity.last_sign_in = groups_in(claims), timezone.now()
        identity.save()
        grants.apply(user, given)
    return user if given.mapped else None


def _free_username(claims: dict, subject: str) -> str:
    wanted = str(claims.get("preferred_username") or claims.get("email") or subject)[:120]
    if not User.objects.filter(username=wanted).exists():
        return wanted
    return f"{wanted}-{hashlib.sha256(subject.encode()).hexdigest()[:8]}"
