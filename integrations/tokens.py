"""Personal API tokens: a person's access for scripts and BI tools, expiring and revocable.

Like agent keys, tokens are 256-bit random secrets stored as a SHA-256 digest: one indexed lookup per
request. A token acts as its person, with that person's roles and department scope.
"""

import datetime as dt
import secrets

from django.db import transaction
from django.utils import timezone

from audit import chain
from integrations.models import PersonalToken
from orchestration.keys import SEEN_EVERY, digest_key
from restapi.domain_errors import DomainError

TOKEN_PREFIX = "rgp_"  # noqa: S105 (a public prefix, not a secret)
PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
MAX_LIFETIME = dt.timedelta(days=365)


class TokenError(DomainError):
    """A token that cannot be issued as asked; the message says why."""

    field = "expires_at"


@transaction.atomic
def issue_token(user, name: str, *, expires_at: dt.datetime) -> tuple[PersonalToken, str]:
    """Create a token for the person and return it with its secret: the only time anyone sees the secret."""
    now = timezone.now()
    if expires_at <= now:
        raise TokenError("The expiry must be in the future.")
    if expires_at > now + MAX_LIFETIME:
        raise TokenError(f"A token may live at most {MAX_LIFETIME.days} days.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = PersonalToken.objects.create(
        user=user, name=name, prefix=raw[:PREFIX_LENGTH], digest=digest_key(raw), expires_at=expires_at
    )
    chain.record(
        "token.issued",
        subject_type="personal_token",
        subject_id=token.pk,
        actor=user,
        after={"name": name, "prefix": token.prefix, "expires_at": expires_at},
    )
    return token, raw


@transaction.atomic
def revoke_token(token: PersonalToken, *, by) -> bool:
    """Revoke the token; return whether it was still active."""
    revoked = PersonalToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if revoked:
        chain.record(
            "token.revoked",
            subject_type="personal_token",
            subject_id=token.pk,
            actor=by,
            after={"prefix": token.prefix},
        )
    return bool(revoked)


def authenticate_token(raw: str) -> PersonalToken | None:
    """The active, unexpired token with this secret, with its user; None otherwise."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    token = (
        PersonalToken.objects.select_related("user")
        .filter(digest=digest_key(raw), revoked_at__isnull=True, expires_at__gt=now, user__is_active=True)
        .first()
    )
    if token is not None and (token.last_used_at is None or now - token.last_used_at > SEEN_EVERY):
        PersonalToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
