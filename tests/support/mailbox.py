"""A real SMTP server in a thread of the test (aiosmtpd): it accepts every message and keeps it, parsed."""

import email
import email.policy
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.support.servers import free_port

ARRIVAL_SECONDS = 10.0


class Mailbox:
    """aiosmtpd's handler: each message received over SMTP, with its envelope's recipients."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def start(self) -> "Mailbox":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        return [message for recipients, message in self.messages if address in recipients]

    def wait_for(self, address: str, timeout: float = ARRIVAL_SECONDS) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while not self.to(address):
            if time.monotonic() > deadline:
                raise AssertionError(f"no email reached {address} within {timeout}s")
            time.sleep(0.05)
        return self.to(address)[0]
