"""Links in messages that open an approval request in Regent: signed, expiring, single-use, behind login.

A link names the request and the person it was sent to, signed with SECRET_KEY (django.core.signing) and dated:
it works for APPROVAL_LINK_MAX_AGE_SECONDS, once, for that person once logged in. Following it only opens the
request's decision page; deciding is done there, with the same controls and rules as everywhere else.
"""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse

from notifications.models import FollowedLink

SALT = "notifications.approval-link"


class LinkRefused(Exception):
    """A link that does not open anything; the message says why, for the person who followed it."""

    status_code = 400


class LinkExpired(LinkRefused):
    status_code = 410


class LinkUsed(LinkRefused):
    status_code = 410


class NotYourLink(LinkRefused):
    status_code = 403


@dataclass(frozen=True)
class ApprovalLink:
    approval_id: int
    user_id: int
    nonce: str


def approval_link(approval_id: int, user_id: int) -> str:
    """The absolute URL a message carries for this person to open this request."""
    token = signing.dumps({"a": approval_id, "u": user_id, "n": secrets.token_hex(16)}, salt=SALT)
    return settings.SITE_URL.rstrip("/") + reverse("notifications:approval-link", args=[token])


def read(token: str) -> ApprovalLink:
    try:
        fields = signing.loads(token, salt=SALT, max_age=settings.APPROVAL_LINK_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise LinkExpired(
            "This link has expired. Open the approvals inbox to see whether the request still waits for you."
        ) from None
    except signing.BadSignature:
        raise LinkRefused("This link is not one Regent sent, or it was changed on the way.") from None
    return ApprovalLink(approval_id=int(fields["a"]), user_id=int(fields["u"]), nonce=str(fields["n"]))


def follow(token: str, user) -> ApprovalLink:
    """Check a followed link for the logged-in person and spend it; the request it opens, or why not."""
    link = read(token)
    if link.user_id != user.pk:
        raise NotYourLink("This link was sent to someone else. Log in as that person, or open your own inbox.")
    try:
        with transaction.atomic():
            FollowedLink.objects.create(nonce=link.nonce, user=user)
    except IntegrityError:
        raise LinkUsed(
            "This link was already used: each works once. Open the request from the approvals inbox."
        ) from None
    return link
