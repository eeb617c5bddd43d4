"""A batch of e-mails handed to an SMTP server over one connection, the server reading one
e-mail while the next is rendered.

`smtplib.sendmail` waits for the server's answer to an e-mail's body before it returns, and
reading the body is most of the server's work: the sender sat idle meanwhile. Here the body
is sent, the caller renders the next e-mail, and only then is the answer read, so both sides
work at once. No command is sent before the answer to the one before it (RFC 5321; the
server need not offer PIPELINING).

Only for Django's own SMTP back-end, whose connection is an `smtplib.SMTP`; any other
back-end (console, locmem, an API provider, a subclass that changes how it sends) gets each
e-mail through its `send_messages`, answered at once.
"""

from __future__ import annotations

import contextlib
import re
import smtplib

from django.core.mail.backends.smtp import EmailBackend as SmtpBackend

from campaigns.channels.mime import PLAIN_ADDRESS, BulkEmail

_LEADING_DOT = re.compile(rb"(?m)^\.")


class OneByOne:
    """Any back-end: each e-mail sent and answered by `send_messages`."""

    def __init__(self, backend):
        self.backend = backend

    def start(self, email: BulkEmail) -> None:
        self.backend.send_messages([email])

    def finish(self) -> None:
        pass


class Overlapped:
    """`start` sends an e-mail up to its body; `finish` reads the server's answer to it."""

    def __init__(self, backend: SmtpBackend):
        self.backend = backend
        self.client: smtplib.SMTP = backend.connection
        self.client.ehlo_or_helo_if_needed()
        self.eight_bit = self.client.has_extn("8bitmime")
        self.size = self.client.has_extn("size")

    def _address(self, address: str) -> str:
        address = str(address)
        return address if PLAIN_ADDRESS.fullmatch(address) else self.backend.prep_address(address)

    def start(self, email: BulkEmail) -> None:
        sender = self._address(email.from_email)
        recipients = [self._address(address) for address in email.recipients()]
        data, eight_bit = email.smtp_bytes(eight_bit=self.eight_bit)
        options = [f"SIZE={len(data)}"] if self.size else []
        if eight_bit:
            options.append("BODY=8BITMIME")
        code, reply = self.client.mail(sender, options)
        if code != 250:
            self._reset(code)
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused = {}
        for recipient in recipients:
            code, reply = self.client.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, reply)
        if len(refused) == len(recipients):
            self._reset(code)
            raise smtplib.SMTPRecipientsRefused(refused)
        code, reply = self.client.docmd("data")
        if code != 354:
            self._reset(code)
            raise smtplib.SMTPDataError(code, reply)
        if data.startswith(b".") or b"\n." in data:  # a line starting with a dot is doubled
            data = _LEADING_DOT.sub(b"..", data)
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
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
