"""Where a chat webhook may point: a public address on the internet, never Regent's own machine or network.

A person types their chat webhook URL, and Regent then posts to it from inside the deployment: pointed at the
cloud's metadata service (169.254.169.254), the machine itself (127.0.0.1, ::1) or the private network (10/8,
172.16/12, 192.168/16, fc00::/7), it would reach what only Regent can reach. So the URL is checked twice: when it is
saved (a field error on the form and in the admin), and at each send, on every address its host resolves to then
(a name can be pointed elsewhere after it was saved); the connection then goes to the address checked, not to a
second resolution. Hosts in settings.CHAT_WEBHOOK_ALLOWED_HOSTS skip both checks (a chat server on the private
network; the tests' local receiver).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

LOCAL_NAMES = ("localhost", "localhost.localdomain")


class AddressRefused(Exception):
    """The webhook's host is, or resolves to, an address Regent does not post to; the message says which."""


def allowed(host: str) -> bool:
    return host.lower().rstrip(".") in {name.lower() for name in settings.CHAT_WEBHOOK_ALLOWED_HOSTS}


def is_public(address: str) -> bool:
    """An address on the internet: not loopback, private, link-local, shared, reserved or multicast."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return ip.is_global and not ip.is_multicast


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def address_to_post(host: str, port: int) -> str:
    """The address to connect to for `host`, resolved now; AddressRefused if any it resolves to is not public."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise AddressRefused(f"The webhook's host {host} cannot be found: {exc}") from exc
    addresses = [info[4][0] for info in found]
    if not allowed(host):
        for address in addresses:
            if not is_public(address):
                raise AddressRefused(f"The webhook's host {host} is at {address}, a private or local address.")
    return addresses[0]


def refusal(url: str) -> str | None:
    """Why a chat webhook URL may not be saved, in words a person can act on; None when it may."""
    host = urlsplit(url).hostname or ""
    if not host or allowed(host):
        return None
    literal = _literal(host)
    if literal is not None:
        return None if is_public(literal) else _words(host)
    if host.rstrip(".").lower() in LOCAL_NAMES or host.rstrip(".").lower().endswith(".localhost"):
        return _words(host)
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None  # unknown today (or no DNS here): each send resolves and checks it again
    if any(not is_public(info[4][0]) for info in found):
        return _words(host)
    return None


def _words(host: str) -> str:
    return (
        f"{host} is a private or local address: paste the incoming webhook URL your Slack or Teams channel gives "
        "(on the internet)."
    )


def validate_webhook_url(url: str) -> None:
    """The model field's validator, so the preferences page, the admin and any serializer refuse the same URLs."""
    reason = refusal(url)
    if reason:
        raise ValidationError(reason, code="private_address")
