"""A campaign e-mail, and the MIME bytes our own SMTP sending writes for it directly.

`BulkEmail` is a Django `EmailMultiAlternatives` like any other: its `message()` is Django's
own, a real `email.message.EmailMessage`, so every back-end gets what it expects (console,
file, locmem, SMTP, django-anymail, a back-end of one's own).

Only our own SMTP sending (`messaging.email.smtp.Overlapped`, used with Django's SMTP
back-end) takes another path: `smtp_bytes()`. Python's `email` package parses every header
into a structured object and folds it again on output: about ten milliseconds per message on
a busy machine, more than rendering and sending together. A campaign e-mail has a known shape
(a few plain headers, a text part and an HTML part, no attachments), so for the SMTP server
`BulkEmail` writes that shape itself, with RFC 2047 encoded words for a header that is not
ASCII. These bytes never reach any other back-end.

A body whose lines all fit the 998 octets of RFC 5322 goes as it is, `7bit` when ASCII, else
`8bit` (sent with BODY=8BITMIME to a server that offers it, RFC 6152); one with a longer line
is quoted-printable (binascii, in C). Quoted-printable cuts every line at 76 characters, and
an SMTP server reads the body a line at a time: the same e-mail in half the lines is half
the server's work. Anything else (attachments, other alternatives) goes through Django's own
writer on that path too.
"""

from __future__ import annotations

import base64
import binascii
import email.policy
import re
import uuid
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from typing import NamedTuple

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

CRLF = "\r\n"


def _checked(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"the {name} header must be one line")
    return value


# A bare address of dot-atoms (the common case): written as it is, in a header and in the
# envelope alike; anything else goes through the parsers.
PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
MAX_LINE = 998  # octets of a line, without its CRLF (RFC 5322 2.1.1)
_WORD_OCTETS = 45  # of UTF-8 in one encoded word: 60 of base64, 72 with =?utf-8?b?...?=


def _address(value: str) -> str:
    if PLAIN_ADDRESS.fullmatch(value):
        return value
    name, address = parseaddr(_checked("address", value))
    if not address:
        raise ValueError(f"invalid address {value!r}")
    if not address.isascii():
        local, _, domain = address.rpartition("@")
        address = f"{local}@{domain.encode('idna').decode('ascii')}"
    return formataddr((name, address), charset="utf-8")


def _text(value: str) -> str:
    """A header's free text: as it is when ASCII, else RFC 2047 encoded words (base64 of
    whole characters, at most 75 characters a word, one word a folded line)."""
    if value.isascii():
        return value if len(value) < 900 else Header(value, "us-ascii", maxlinelen=76).encode(linesep=CRLF)
    words, chunk, size = [], [], 0
    for character in value:
        octets = len(character.encode("utf-8", "surrogatepass"))
        if size + octets > _WORD_OCTETS:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(character)
        size += octets
    words.append("".join(chunk))
    encoded = (base64.b64encode(word.encode("utf-8")).decode("ascii") for word in words)
    return f"{CRLF} ".join(f"=?utf-8?b?{word}?=" for word in encoded)


def _body(text: str, *, eight_bit: bool) -> tuple[str, bytes]:
    """The transfer encoding of a text body and its bytes, lines ended by CRLF."""
    body = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    if b"\x00" not in body and max(map(len, body.split(b"\n"))) <= MAX_LINE:
        if body.isascii():
            return "7bit", body.replace(b"\n", b"\r\n")
        if eight_bit:
            return "8bit", body.replace(b"\n", b"\r\n")
    quoted = binascii.b2a_qp(body, quotetabs=False, istext=True, header=False)
    return "quoted-printable", quoted.replace(b"\n", b"\r\n")


def _part(subtype: str, text: str, *, eight_bit: bool) -> tuple[str, bytes]:
    encoding, body = _body(text, eight_bit=eight_bit)
    head = f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}Content-Transfer-Encoding: {encoding}'
    head = (head + CRLF + CRLF).encode("ascii")
    return encoding, head + body


class _Written(NamedTuple):
    """The bytes for an SMTP server (not a message: no back-end ever sees it); `eight_bit`
    when a part is 8bit."""

    data: bytes
    eight_bit: bool


class BulkEmail(EmailMultiAlternatives):
    """`message()` is Django's own. `prepare()` before a batch is sent writes the bytes of our
    own SMTP sending once, so its sending loop is kept to the network."""

    _written: _Written | None = None

    def prepare(self, *, eight_bit: bool = True) -> BulkEmail:
        """Write the SMTP bytes now (`eight_bit`: the server offers 8BITMIME). Raises
        ValueError for an address or a header that cannot be written."""
        if self._own_shape():
            self._written = self._write(eight_bit=eight_bit)
        return self

    def _own_shape(self) -> bool:
        return not self.attachments and all(mimetype == "text/html" for _, mimetype in self.alternatives)

    def smtp_bytes(self, *, eight_bit: bool) -> tuple[bytes, bool]:
        """The bytes to hand to an SMTP server, and whether they are 8bit; `eight_bit`: the
        server offers 8BITMIME (without it, 8bit parts are written quoted-printable)."""
        if not self._own_shape():  # Django's own writer, as its SMTP back-end would send it
            return self.message(policy=email.policy.SMTP).as_bytes(), False
        written = self._written or self._write(eight_bit=eight_bit)
        if written.eight_bit and not eight_bit:
            written = self._write(eight_bit=False)
        return written.data, written.eight_bit

    def _write(self, *, eight_bit: bool = True) -> _Written:
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
            parts = [_part("plain", self.body, eight_bit=eight_bit)]
            parts += [_part("html", str(html), eight_bit=eight_bit) for html, _ in self.alternatives]
            separator = f"{CRLF}--{boundary}{CRLF}".encode("ascii")
            body = (
                f"--{boundary}{CRLF}".encode("ascii")
                + separator.join(part for _, part in parts)
                + f"{CRLF}--{boundary}--{CRLF}".encode("ascii")
            )
            return _Written(head + body, eight_bit=any(encoding == "8bit" for encoding, _ in parts))
        encoding, body = _body(self.body, eight_bit=eight_bit)
        lines.append('Content-Type: text/plain; charset="utf-8"')
        lines.append(f"Content-Transfer-Encoding: {encoding}")
        return _Written((CRLF.join(lines) + CRLF + CRLF).encode("utf-8") + body, eight_bit=encoding == "8bit")
