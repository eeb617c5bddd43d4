"""A campaign e-mail as MIME bytes, written directly.

Python's `email` package parses every header into a structured object and folds it again
on output: about ten milliseconds per message on a busy machine, more than rendering and
sending together. A campaign e-mail has a known shape (a few plain headers, a text part and
an HTML part, no attachments), so `BulkEmail` writes that shape itself with quoted-printable
bodies (binascii, in C) and RFC 2047 subjects when needed. Back-ends that call `.message()`
(SMTP, console, file) get these bytes; API back-ends (django-anymail) read the fields as
for any Django e-mail. Anything else (attachments) goes through Django's own writer.
"""

from __future__ import annotations

import binascii
import email.policy
import uuid
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

CRLF = "\r\n"


def _checked(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"the {name} header must be one line")
    return value


_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_+@")


def _address(value: str) -> str:
    if value.count("@") == 1 and _PLAIN.issuperset(value):  # a bare address, the common case
        return value
    name, address = parseaddr(_checked("address", value))
    if not address:
        raise ValueError(f"invalid address {value!r}")
    if not address.isascii():
        local, _, domain = address.rpartition("@")
        address = f"{local}@{domain.encode('idna').decode('ascii')}"
    return formataddr((name, address), charset="utf-8")


def _text(value: str) -> str:
    """A header's free text: as it is when ASCII, else RFC 2047 encoded words."""
    if value.isascii() and len(value) < 900:
        return value
    return Header(value, "utf-8", maxlinelen=76).encode(linesep=CRLF)


def _qp(text: str) -> bytes:
    body = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(body, quotetabs=False, istext=True, header=False).replace(b"\n", b"\r\n")


def _part(subtype: str, text: str) -> bytes:
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
        f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}"
    ).encode("ascii")
    return head + _qp(text)


class _Written:
    """What `.message()` returns: the bytes, for back-ends that send or print them."""

    def __init__(self, data: bytes):
        self.data = data

    def as_bytes(self, unixfrom: bool = False, linesep: str = CRLF, policy=None) -> bytes:
        return self.data if linesep == CRLF else self.data.replace(b"\r\n", linesep.encode())

    def as_string(self, unixfrom: bool = False, linesep: str = "\n", policy=None) -> str:
        return self.as_bytes(linesep=linesep).decode("utf-8", errors="replace")

    __bytes__ = as_bytes
    __str__ = as_string


class BulkEmail(EmailMultiAlternatives):
    """Written once: `prepare()` before a batch is sent keeps the sending loop to the network."""

    _written: _Written | None = None

    def prepare(self) -> BulkEmail:
        self._written = self._write()
        return self

    def message(self, *, policy=email.policy.default):
        if self.attachments or any(mimetype != "text/html" for _, mimetype in self.alternatives):
            return super().message(policy=policy)
        return self._written or self._write()

    def _write(self) -> _Written:
        headers = {
            "From": _address(str(self.from_email)),
            "To": ", ".join(_address(str(address)) for address in self.to),
            "Subject": _text(_checked("Subject", str(self.subject))),
            "Date": formatdate(localtime=settings.EMAIL_USE_LOCALTIME),
            "MIME-Version": "1.0",
        }
        if self.cc:
            headers["Cc"] = ", ".join(_address(str(address)) for address in self.cc)
        if self.reply_to:
            headers["Reply-To"] = ", ".join(_address(str(address)) for address in self.reply_to)
        for name, value in self.extra_headers.items():
            if name.lower() in ("from", "to", "cc", "subject", "date", "mime-version"):
                headers[name.title() if name.lower() != "mime-version" else name] = str(value)
                continue
            headers[name] = _text(_checked(name, str(value)))
        lines = [f"{name}: {value}" for name, value in headers.items()]
        if self.alternatives:
            boundary = f"=_mops_{uuid.uuid4().hex}"
            lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
            head = (CRLF.join(lines) + CRLF + CRLF).encode("utf-8")
            parts = [_part("plain", self.body)] + [_part("html", str(html)) for html, _ in self.alternatives]
            separator = f"{CRLF}--{boundary}{CRLF}".encode("ascii")
            body = (
                f"--{boundary}{CRLF}".encode("ascii")
                + separator.join(parts)
                + f"{CRLF}--{boundary}--{CRLF}".encode("ascii")
            )
            return _Written(head + body)
        lines.append('Content-Type: text/plain; charset="utf-8"')
        lines.append("Content-Transfer-Encoding: quoted-printable")
        return _Written((CRLF.join(lines) + CRLF + CRLF).encode("utf-8") + _qp(self.body))
