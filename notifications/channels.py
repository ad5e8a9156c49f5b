"""How a message is written for each channel, and sent on it once.

Slack incoming webhooks take `text` (the fallback shown in notifications) and Block Kit `blocks`: a header,
a section in mrkdwn, and a link button. Microsoft Teams (Workflows and incoming webhooks) takes a message whose
one attachment is an Adaptive Card (`application/vnd.microsoft.card.adaptive`) with text blocks and an
`Action.OpenUrl`. Email goes through Django's email framework (SMTP, the EMAIL_* settings).
"""

import http.client
import json
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage

from notifications import chat_hosts

SLACK_HEADER_LIMIT = 150  # Block Kit: a header's plain text
SLACK_SECTION_LIMIT = 3000  # Block Kit: a section's text
SEVERITY_COLOURS = {"info": "Default", "warning": "Warning", "critical": "Attention"}


class DeliveryFailed(Exception):
    """One attempt failed; the message says why, for the delivery's record."""


@dataclass(frozen=True)
class Message:
    """What to tell people: the same words on every channel.

    `kind` says what it is about ("approval.requested", "alert.fired"), `severity` is info, warning or critical,
    `link` opens the matter in Regent, and `key` names the occasion: one delivery per key, person and channel,
    so a message sent twice for the same occasion (a task run again) reaches nobody twice.
    """

    subject: str
    text: str
    kind: str
    key: str
    severity: str = "info"
    link: str = ""


def slack_payload(message: Message) -> dict:
    body = _mrkdwn_escape(message.text)[:SLACK_SECTION_LIMIT]
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.subject[:SLACK_HEADER_LIMIT]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": body}},
    ]
    if message.link:
        button = {"type": "button", "text": {"type": "plain_text", "text": "Open in Regent"}, "url": message.link}
        blocks.append({"type": "actions", "elements": [button]})
    return {"text": f"{message.subject}: {message.text}", "blocks": blocks}


def teams_payload(message: Message) -> dict:
    card: dict = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": message.subject,
                "weight": "Bolder",
                "size": "Medium",
                "color": SEVERITY_COLOURS.get(message.severity, "Default"),
                "wrap": True,
            },
            *({"type": "TextBlock", "text": paragraph, "wrap": True} for paragraph in message.text.split("\n\n")),
        ],
    }
    if message.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open in Regent", "url": message.link}]
    attachment = {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
    return {"type": "message", "attachments": [attachment]}


def _mrkdwn_escape(text: str) -> str:
    """Slack reads &, < and > as markup: escaped, an agent's words cannot ping a channel or forge a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def send_email(address: str, message: Message) -> None:
    body = f"{message.text}\n\n{message.link}\n" if message.link else f"{message.text}\n"
    email = EmailMessage(subject=message.subject, body=body, to=[address])
    try:
        email.send()
    except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc


def post_json(url: str, payload: dict) -> None:
    """POST `payload` to a chat webhook, connecting only to the public address its host resolves to now
    (notifications.chat_hosts). Redirects are not followed: a 3xx is a failed attempt."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryFailed("The webhook URL is not an http or https address.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = chat_hosts.address_to_post(parts.hostname, port)
    except (chat_hosts.AddressRefused, ValueError) as exc:
        raise DeliveryFailed(str(exc)) from exc
    body = json.dumps(payload, separators=(",", ":")).encode()
    timeout = settings.NOTIFY_TIMEOUT_SECONDS
    if parts.scheme == "https":
        connection: http.client.HTTPConnection = _PinnedHTTPSConnection(parts.hostname, port, address, timeout)
    else:
        connection = _PinnedHTTPConnection(parts.hostname, port, address, timeout)
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    try:
        connection.request(
            "POST", target, body=body, headers={"Content-Type": "application/json", "User-Agent": "Regent/1"}
        )
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        connection.close()
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status}")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to `address` (already checked), with the URL's host in the Host header."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to `address` (already checked); the certificate must still name the URL's host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address
        self.tls = ssl.create_default_context()

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)
