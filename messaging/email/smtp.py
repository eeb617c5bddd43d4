"""A batch of e-mails handed to an SMTP server over one connection, the server reading one
e-mail while the next is rendered.

`smtplib.sendmail` sends a command, waits for the answer, sends the next: the sender sat idle
for four answers per e-mail (MAIL, RCPT, DATA, the body), the server idle while the sender
rendered. Here each command is sent, `idle()` does a stage of the caller's next e-mail, and
only then is the answer read; the answer to the body is left to `finish()`, after the next
e-mail is made. Both processes work at once, and still no command is sent before the answer
to the one before it (RFC 5321; the server need not offer PIPELINING).

Only for Django's own SMTP back-end, whose connection is an `smtplib.SMTP`: it hands the
server the bytes `BulkEmail` writes itself (`smtp_bytes`). Any other back-end (console, file,
locmem, an API provider, a subclass that changes how it sends) gets each e-mail through its
`send_messages`, answered at once, and reads Django's own `message()` as for any e-mail.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
from collections.abc import Callable

from django.core.mail.backends.smtp import EmailBackend as SmtpBackend

from messaging.email.mime import PLAIN_ADDRESS, BulkEmail

_LEADING_DOT = re.compile(rb"(?m)^\.")


def _nothing() -> None:
    pass


class OneByOne:
    """Any back-end: each e-mail sent and answered by `send_messages`."""

    answers_at_start = True  # `start` hands the e-mail over and has its answer

    def __init__(self, backend):
        self.backend = backend

    def prepare(self, email: BulkEmail) -> None:
        """Nothing ahead: the back-end makes the message it wants when it sends."""

    def start(self, email: BulkEmail, idle: Callable[[], None] = _nothing, handover=_nothing) -> None:
        handover()
        self.backend.send_messages([email])

    def finish(self) -> None:
        pass


class Overlapped:
    """`start` sends an e-mail up to its body; `finish` reads the server's answer to it."""

    answers_at_start = False

    def __init__(self, backend: SmtpBackend):
        self.backend = backend
        self.client: smtplib.SMTP = backend.connection
        self.client.ehlo_or_helo_if_needed()
        self.eight_bit = self.client.has_extn("8bitmime")
        self.size = self.client.has_extn("size")

    def prepare(self, email: BulkEmail) -> None:
        """The e-mail's bytes written ahead, for this server (8bit when it takes it)."""
        email.prepare(eight_bit=self.eight_bit)

    def _address(self, address: str) -> str:
        address = str(address)
        return address if PLAIN_ADDRESS.fullmatch(address) else self.backend.prep_address(address)

    def _command(self, command: str, argument: str, idle: Callable[[], None]) -> tuple[int, bytes]:
        self.client.putcmd(command, argument)
        idle()
        return self.client.getreply()

    def start(self, email: BulkEmail, idle: Callable[[], None] = _nothing, handover=_nothing) -> None:
        """MAIL, RCPT and DATA, then the body; `idle` runs while each answer is on its way,
        and `handover` before the body, which alone makes the server take the e-mail."""
        sender = self._address(email.from_email)
        recipients = [self._address(address) for address in email.recipients()]
        data, eight_bit = email.smtp_bytes(eight_bit=self.eight_bit)
        options = [f"SIZE={len(data)}"] if self.size else []
        if eight_bit:
            options.append("BODY=8BITMIME")
        code, reply = self._command(
            "mail", f"FROM:{smtplib.quoteaddr(sender)}{''.join(' ' + o for o in options)}", idle
        )
        if code != 250:
            self._reset(code)
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused = {}
        for recipient in recipients:
            code, reply = self._command("rcpt", f"TO:{smtplib.quoteaddr(recipient)}", idle)
            if code not in (250, 251):
                refused[recipient] = (code, reply)
        if len(refused) == len(recipients):
            self._reset(code)
            raise smtplib.SMTPRecipientsRefused(refused)
        code, reply = self._command("data", "", idle)
        if code != 354:
            self._reset(code)
            raise smtplib.SMTPDataError(code, reply)
        if data.startswith(b".") or b"\n." in data:  # a line starting with a dot is doubled
            data = _LEADING_DOT.sub(b"..", data)
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        handover()
        self.client.send(data + b".\r\n")

    def finish(self) -> None:
        code, reply = self.client.getreply()
        if code != 250:
            self._reset(code)
            raise smtplib.SMTPDataError(code, reply)

    def _reset(self, code: int) -> None:
        if code == 421:  # the server is closing the connection
            self.client.close()
            return
        with contextlib.suppress(smtplib.SMTPServerDisconnected):
            self.client.rset()


def sender_for(backend) -> OneByOne | Overlapped:
    """How to send over this (open) back-end."""
    if (
        isinstance(backend, SmtpBackend)
        and isinstance(getattr(backend, "connection", None), smtplib.SMTP)
        and type(backend)._send is SmtpBackend._send
        and type(backend).send_messages is SmtpBackend.send_messages
    ):
        return Overlapped(backend)
    return OneByOne(backend)
