"""A real SMTP server on the loopback interface (aiosmtpd) that keeps or counts what it
receives: what the e-mail tests and the `email_send` benchmark send to."""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self, keep: bool):
        self.keep = keep
        self.received: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.count += 1
            if self.keep:
                self.received.append(envelope.original_content or envelope.content)
                self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    """`with SmtpSink() as sink:` a server on 127.0.0.1:sink.port; `sink.messages()` parsed."""

    def __init__(self, *, keep: bool = True):
        self.handler = _Handler(keep)
        self.port = _free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def count(self) -> int:
        return self.handler.count

    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(raw, policy=policy.default) for raw in self.handler.received]
