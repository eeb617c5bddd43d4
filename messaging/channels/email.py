"""The e-mail channel: personalise a template for a contact, build the message with the
headers inbox providers ask for, and hand a batch to Django's e-mail back-end over one
connection.

Every e-mail carries a Message-ID made from its outbox key (the same message always has
the same id), `List-Unsubscribe` with a signed HTTPS link (and a mailto when
`EMAIL_UNSUBSCRIBE_MAILTO` is set) and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
(RFC 8058). Its links, in the HTML and in the plain text, go through signed click
redirects, and it carries an open pixel.
"""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache, partial
from html import escape, unescape
from html.parser import HTMLParser
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.utils.safestring import mark_safe

from contacts.models import Contact
from ledger.origins import origins_describe
from messaging.channels.base import Attempt, OutboxStopped
from messaging.email import links, rendering, smtp
from messaging.email.mime import BulkEmail
from messaging.email.rendering import RenderError
from messaging.models import EmailTemplate, OutboxMessage

logger = logging.getLogger(__name__)

DEFAULT_LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ subject }}</title></head>
<body style="margin:0;padding:0;background:#f3f4f6;font-family:Helvetica,Arial,sans-serif;color:#1f2937">
<div style="display:none;max-height:0;overflow:hidden;opacity:0">{{ preheader }}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f3f4f6">
<tr><td align="center" style="padding:24px 12px">
<table role="presentation" width="600" cellpadding="0" cellspacing="0"
       style="max-width:600px;width:100%;background:#ffffff;border-radius:8px">
<tr><td style="padding:32px 36px;font-size:16px;line-height:1.55">{{ content }}</td></tr>
</table>
<p style="font-size:12px;color:#6b7280;margin:16px 0 0">
You receive this because you are in touch with us.
<a href="{{ unsubscribe_url }}" style="color:#6b7280">Unsubscribe</a> ·
<a href="{{ preferences_url }}" style="color:#6b7280">Choose what you receive</a></p>
</td></tr></table></body></html>"""

TEMPLATE_PARTS = ("subject", "preheader", "html", "text")


# --- rendering ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    subject: str
    preheader: str
    html: str
    text: str


class CompiledTemplate:
    """A template's parts and layout compiled once, rendered for many contacts."""

    def __init__(
        self, *, subject: str, preheader: str = "", html: str = "", text: str = "", layout: str = ""
    ):
        self.subject = rendering.compile_template(subject)
        self.preheader = rendering.compile_template(preheader)
        self.html = rendering.compile_template(html) if html.strip() else None
        self.text = rendering.compile_template(text) if text.strip() else None
        self.layout = rendering.compile_template(layout or DEFAULT_LAYOUT) if self.html else None
        if self.html is not None and self.text is None:
            self.text = _text_template(html, layout or DEFAULT_LAYOUT)

    @classmethod
    def of(cls, template: EmailTemplate) -> CompiledTemplate:
        layout = template.layout.html if template.layout_id else ""
        return compiled_for_sources(
            template.subject, template.preheader, template.html, template.text, layout
        )

    def render(self, data: dict[str, Any]) -> Rendered:
        renderer = rendering.Renderer(data)
        subject = " ".join(renderer.render(self.subject, autoescape=False).split())
        preheader = " ".join(renderer.render(self.preheader, autoescape=False).split())
        framing = {"preheader": preheader, "subject": subject}
        html = ""
        if self.html is not None:
            content = renderer.render(self.html, autoescape=True)
            framed = {**framing, "content": mark_safe(content)}  # noqa: S308 - rendered by the sandbox, escaped
            html = renderer.render(self.layout, autoescape=True, extra=framed)
        text = renderer.render(self.text, autoescape=False, extra=framing) if self.text is not None else ""
        # Plain text out, never Django's "safe" strings: a page that shows a rendering escapes it.
        return Rendered(*(str.__str__(part) for part in (subject, preheader, html, text)))


@lru_cache(maxsize=32)
def compiled_for_sources(subject: str, preheader: str, html: str, text: str, layout: str) -> CompiledTemplate:
    """Compiled once per process for the same sources (batch after batch of one campaign):
    parsing and making the plain text from the HTML cost as much as rendering many e-mails.
    Keyed by the sources themselves, so an edited template is compiled again."""
    return CompiledTemplate(subject=subject, preheader=preheader, html=html, text=text, layout=layout)


_CONTENT = re.compile(r"\{\{\s*content\s*\}\}")


def _text_template(html: str, layout: str):
    """The plain-text part as a template of its own, made once from the HTML and the layout:
    the tags and variables are text to the HTML reader, so they come through in place and are
    rendered per contact without HTML escaping."""
    try:
        source = html_to_text(_CONTENT.sub(lambda _: html, layout, count=1))
        return rendering.compile_template(source)
    except RenderError:  # a tag split by the conversion: fall back to the template's HTML alone
        return rendering.compile_template(html_to_text(html))


def template_data(
    *, contact: dict, account: dict | None, campaign_name: str, unsubscribe: str = "", preferences: str = ""
) -> dict[str, Any]:
    """What a template can read: plain values only."""
    return {
        "contact": rendering.contact_data(contact),
        "account": rendering.account_data(account),
        "campaign": {"name": campaign_name},
        "unsubscribe_url": unsubscribe,
        "preferences_url": preferences,
    }


CONTACT_COLUMNS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "job_title",
    "city",
    "country",
    "timezone",
    "lifecycle_stage",
    "score",
    "attributes",
    "consent_email",
    "account_id",
)
ACCOUNT_COLUMNS = ("name", "domain", "industry", "employees", "country", "attributes")


def contact_values(contact_ids: Iterable[int]) -> dict[int, tuple[dict, dict | None]]:
    """Contacts and their accounts as plain dicts, in one query."""
    columns = [*CONTACT_COLUMNS, *(f"account__{name}" for name in ACCOUNT_COLUMNS)]
    found = {}
    for row in Contact.objects.filter(pk__in=list(contact_ids)).values(*columns):
        contact = {name: row[name] for name in CONTACT_COLUMNS}
        account = {name: row[f"account__{name}"] for name in ACCOUNT_COLUMNS} if row["account_id"] else None
        found[row["id"]] = (contact, account)
    return found


# --- HTML to text ----------------------------------------------------------------------------


class _TextWriter(HTMLParser):
    BLOCKS = {
        "p",
        "div",
        "table",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "blockquote",
        "section",
    }
    SKIP = {"style", "script", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.href: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in self.SKIP:
            self.skipping += 1
        elif "display:none" in (attributes.get("style") or "").replace(" ", ""):
            self.hidden += 1 if tag == "div" else 0
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")
        elif tag == "td":
            self.parts.append(" ")
        if tag == "a":
            self.href.append(attributes.get("href") or "")
        elif tag == "img" and attributes.get("alt"):
            self.parts.append(attributes["alt"])

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "div" and self.hidden:
            self.hidden -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")
        if tag == "a" and self.href:
            href = self.href.pop()
            if href.startswith(("http://", "https://", "mailto:", "{{")):
                self.parts.append(f" ({href.removeprefix('mailto:')})")

    def handle_data(self, data):
        if not self.skipping and not self.hidden:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """A readable plain-text part from the HTML: paragraphs, list items, links with their URL."""
    if not html:
        return ""
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    text = "".join(writer.parts)
    lines = [line.strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


# --- tracking ---------------------------------------------------------------------------------

_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
# A web address in plain text ends at a space, a quote, a bracket or an angle bracket; a
# full stop or a comma right after it ends the sentence, not the address.
_TEXT_URL = re.compile(r"""https?://[^\s<>"'()\[\]]+""", re.IGNORECASE)
_TRAILING = ".,;:!?"


class _Clicks:
    """Click redirects of one e-mail: each target signed once, for both parts."""

    def __init__(self, *, message_id: int, contact_id: int, keep: Sequence[str] = ()):
        self.message_id, self.contact_id, self.keep = message_id, contact_id, set(keep)
        self.signed: dict[str, str] = {}

    def url(self, url: str) -> str:
        if url in self.keep:
            return url
        if url not in self.signed:
            signed = links.click_url(message_id=self.message_id, contact_id=self.contact_id, url=url)
            self.signed[url] = signed
        return self.signed[url]


def tracked_html(
    html: str, *, message_id: int, contact_id: int, keep: Sequence[str] = (), clicks: _Clicks | None = None
) -> str:
    """Links through signed click redirects (except the unsubscribe and preferences links),
    and an open pixel before the end of the body."""
    clicks = clicks or _Clicks(message_id=message_id, contact_id=contact_id, keep=keep)

    def swap(match: re.Match) -> str:
        url = unescape(match.group(3)).strip()
        if not url.lower().startswith(("http://", "https://")) or url in clicks.keep:
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}{escape(clicks.url(url))}{match.group(2)}"

    html = _HREF.sub(swap, html)
    pixel = (
        f'<img src="{escape(links.open_url(message_id=message_id, contact_id=contact_id))}" width="1" '
        'height="1" alt="" style="display:block;border:0;width:1px;height:1px">'
    )
    closing = html.lower().rfind("</body>")
    return html[:closing] + pixel + html[closing:] if closing >= 0 else html + pixel


def tracked_text(
    text: str, *, message_id: int, contact_id: int, keep: Sequence[str] = (), clicks: _Clicks | None = None
) -> str:
    """The web addresses of a plain-text part through the same signed click redirects as
    the HTML's (except the unsubscribe and preferences links)."""
    clicks = clicks or _Clicks(message_id=message_id, contact_id=contact_id, keep=keep)

    def swap(match: re.Match) -> str:
        found = match.group(0)
        url = found.rstrip(_TRAILING)
        return clicks.url(url) + found[len(url) :]

    return _TEXT_URL.sub(swap, text)


# --- building and sending ---------------------------------------------------------------------


def message_id_header(key: str) -> str:
    domain = settings.EMAIL_MESSAGE_ID_DOMAIN or settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    return f"<{key[:40]}@{domain.strip('>')}>"


def email_build(
    *,
    rendered: Rendered,
    to: str,
    key: str,
    unsubscribe: str,
    message_id: int | None,
    contact_id: int,
    track: bool = True,
) -> BulkEmail:
    unsubscribe_link = links.unsubscribe_url(token=unsubscribe)
    targets = [f"<{unsubscribe_link}>"]
    if settings.EMAIL_UNSUBSCRIBE_MAILTO:
        targets.append(f"<mailto:{settings.EMAIL_UNSUBSCRIBE_MAILTO}?subject=unsubscribe-{unsubscribe}>")
    headers = {
        "Message-ID": message_id_header(key),
        "List-Unsubscribe": ", ".join(targets),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "X-Message-Key": key,
    }
    text, html = rendered.text, rendered.html
    if track and message_id:
        keep = [unsubscribe_link, links.preferences_url(token=unsubscribe)]
        clicks = _Clicks(message_id=message_id, contact_id=contact_id, keep=keep)
        text = tracked_text(text, message_id=message_id, contact_id=contact_id, clicks=clicks)
        if html:
            html = tracked_html(html, message_id=message_id, contact_id=contact_id, clicks=clicks)
    email = BulkEmail(
        subject=rendered.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=headers,
    )
    if html:
        email.attach_alternative(html, "text/html")
    return email


def personalise(
    compiled: CompiledTemplate,
    *,
    contact: dict,
    account: dict | None,
    campaign_name: str,
    message_id: int | None,
    test: bool = False,
) -> tuple[Rendered, str]:
    """The template rendered for one contact, and the unsubscribe token of this e-mail (a test
    e-mail's token names no contact: unsubscribing from it changes nobody)."""
    token = links.unsubscribe_token(contact_id=0 if test else contact["id"], message_id=message_id)
    data = template_data(
        contact=contact,
        account=account,
        campaign_name=campaign_name,
        unsubscribe=links.unsubscribe_url(token=token),
        preferences=links.preferences_url(token=token),
    )
    return compiled.render(data), token


def _compiled_for(messages: Sequence[OutboxMessage]) -> dict[int, CompiledTemplate | RenderError]:
    """One compiled template per message: stored templates compiled once for the batch."""
    slugs = {m.payload["template"] for m in messages if m.payload.get("template")}
    templates = {t.slug: t for t in EmailTemplate.objects.filter(slug__in=slugs).select_related("layout")}
    by_slug: dict[str, CompiledTemplate | RenderError] = {}
    compiled: dict[int, CompiledTemplate | RenderError] = {}
    for message in messages:
        slug = message.payload.get("template")
        try:
            if slug:
                if slug not in by_slug:
                    if slug not in templates:
                        raise RenderError(f"the e-mail template “{slug}” no longer exists")
                    by_slug[slug] = CompiledTemplate.of(templates[slug])
                compiled[message.pk] = by_slug[slug]
            else:  # a step written with its subject and body inline: plain text
                subject, body = message.payload.get("subject", ""), message.payload.get("body", "")
                compiled[message.pk] = compiled_for_sources(subject, "", "", body, "")
        except RenderError as error:
            by_slug[slug] = error
            compiled[message.pk] = error
    return compiled


def _permanent(error: Exception) -> bool:
    """A refusal that sending again will not change (5xx, refused recipient)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return True
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def _origin_names(messages: Sequence[OutboxMessage]) -> dict[tuple[str, int | None], str]:
    """What each message's origin is called (a campaign's name, for `{{ campaign.name }}`),
    in one query per kind of origin."""
    origins = origins_describe((m.origin_type, m.origin_id) for m in messages)
    return {key: origin.name for key, origin in origins.items()}


def _prepared(
    messages: Sequence[OutboxMessage],
    refused: list[tuple[OutboxMessage, Attempt]],
    prepare: Callable[[BulkEmail], None],
) -> Iterator[tuple[OutboxMessage, BulkEmail, str] | None]:
    """Each message rendered and written when the sender asks for it, a stage at a time:
    None after each stage (render, links, what the sender `prepare`s ahead: our own SMTP
    sending's bytes), then the e-mail. One that cannot be made is added to `refused`, failed,
    and skipped."""
    people = contact_values(m.contact_id for m in messages)
    names = _origin_names(messages)
    compiled = _compiled_for(messages)
    for message in messages:
        template = compiled[message.pk]
        contact, account = people.get(message.contact_id, (None, None))
        if contact is None:
            refused.append((message, Attempt(ok=False, error="the contact no longer exists")))
            continue
        if isinstance(template, RenderError):
            refused.append((message, Attempt(ok=False, error=str(template))))
            continue
        try:
            rendered, token = personalise(
                template,
                contact=contact,
                account=account,
                campaign_name=names.get((message.origin_type, message.origin_id), ""),
                message_id=message.pk,
            )
        except RenderError as error:
            refused.append((message, Attempt(ok=False, error=str(error))))
            continue
        yield None
        to = message.payload.get("to") or contact["email"]
        email = email_build(
            rendered=rendered,
            to=to,
            key=message.key,
            unsubscribe=token,
            message_id=message.pk,
            contact_id=message.contact_id,
        )
        yield None
        try:
            prepare(email)
        except ValueError as error:  # an address or a header that cannot be written
            refused.append((message, Attempt(ok=False, error=str(error))))
            continue
        yield message, email, rendered.subject


class _Ahead:
    """The batch's e-mails made a stage at a time: `step()` runs one stage of the next e-mail
    (while the server answers a command of the one being sent), `next()` finishes it."""

    def __init__(self, stages: Iterator[tuple[OutboxMessage, BulkEmail, str] | None]):
        self.stages = stages
        self.ready: tuple[OutboxMessage, BulkEmail, str] | None = None
        self.exhausted = False
        self.error: Exception | None = None

    def step(self) -> None:
        if self.ready is not None or self.exhausted or self.error is not None:
            return
        try:
            item = next(self.stages)
        except StopIteration:
            self.exhausted = True
        except Exception as error:  # raised by `next()`, not in the middle of an SMTP command
            self.error = error
        else:
            self.ready = item

    def next(self) -> tuple[OutboxMessage, BulkEmail, str] | None:
        """The next e-mail, made to the end; None when there are no more."""
        while self.ready is None and not self.exhausted and self.error is None:
            self.step()
        if self.error is not None:
            raise self.error
        item, self.ready = self.ready, None
        return item


class _Interrupted(Exception):
    """Sending stopped: the connection is gone or the server said later."""

    def __init__(self, message: str, *, uncertain: bool = False):
        super().__init__(message)
        self.uncertain = uncertain  # the e-mail being answered may have been taken


def _attempt(step: Callable[[], None], *, awaiting_answer: bool = False) -> Attempt:
    """One step of sending a message. A refusal for good is a failed attempt; any other
    error interrupts the batch, since the connection cannot be trusted. Lost while the
    answer to a whole e-mail was awaited, the e-mail may have been taken."""
    started = time.monotonic()
    try:
        step()
    except OutboxStopped:
        raise
    except Exception as error:
        if isinstance(error, ValueError) or _permanent(error):  # ValueError: an unwritable address
            return Attempt(ok=False, error=str(error), status_code=getattr(error, "smtp_code", None))
        if not isinstance(error, OSError):  # not the network nor the server: say it in the log
            logger.exception("the e-mail back-end failed to send a message")
        never_taken = isinstance(
            error, smtplib.SMTPResponseException | ConnectionRefusedError | socket.gaierror
        )
        raise _Interrupted(
            f"{type(error).__name__}: {error}", uncertain=awaiting_answer and not never_taken
        ) from error
    return Attempt(ok=True, duration_ms=int((time.monotonic() - started) * 1000))


class EmailChannel:
    """E-mails, a batch over one connection of the configured Django back-end."""

    name = "email"
    category = "email"

    def send_batch(
        self, messages: Sequence[OutboxMessage], *, now: datetime, handover: Callable[[], None]
    ) -> Iterator[tuple[OutboxMessage, Attempt]]:
        """Render and send the messages in order, each yielded as soon as the server has
        answered for it. Each e-mail is made while the server answers the one before it
        (see `smtp`); the next is not started before the outbox has taken the answer."""
        connection = get_connection()
        try:
            connection.open()
            sender = smtp.sender_for(connection)
        except OSError as error:  # could not connect at all
            with contextlib.suppress(Exception):
                connection.close()
            for message in messages:
                yield message, Attempt(ok=False, error=f"{type(error).__name__}: {error}", retryable=True)
            return
        refused: list[tuple[OutboxMessage, Attempt]] = []
        ahead = _Ahead(_prepared(messages, refused, sender.prepare))
        answered: set[int] = set()
        started = False
        try:
            while True:
                try:
                    item = ahead.next()
                except Exception as error:
                    if not started:  # nothing reached the server: the caller puts the batch back
                        raise
                    logger.exception("making an e-mail of the batch failed; the rest will be retried")
                    raise _Interrupted(f"{type(error).__name__}: {error}") from error
                finally:
                    while refused:
                        message, attempt = refused.pop(0)
                        answered.add(message.pk)
                        yield message, attempt
                if item is None:
                    break
                message, email, subject = item
                started = True
                attempt = _attempt(
                    partial(sender.start, email, ahead.step, handover),
                    awaiting_answer=sender.answers_at_start,
                )
                if attempt.ok:
                    attempt = _attempt(sender.finish, awaiting_answer=True)
                answered.add(message.pk)
                yield message, replace(attempt, summary=subject) if attempt.ok else attempt
        except _Interrupted as error:
            # The e-mail whose answer was lost may have been taken; the rest go back, to be sent later.
            while refused:
                message, attempt = refused.pop(0)
                answered.add(message.pk)
                yield message, attempt
            for message in messages:
                if message.pk not in answered:
                    answered.add(message.pk)
                    uncertain, error.uncertain = error.uncertain, False
                    yield message, Attempt(ok=False, error=str(error), retryable=True, uncertain=uncertain)
        finally:
            with contextlib.suppress(Exception):  # a connection that will not close cleanly is dropped anyway
                connection.close()


CHANNEL = EmailChannel()


def test_send(*, template: EmailTemplate, contact: Contact, to: str) -> Rendered:
    """The template as this contact would get it, sent to `to` (the marketer), marked as a test.
    Its links are the real ones, without tracking: nothing the marketer clicks counts."""
    compiled = CompiledTemplate.of(template)
    (contact_dict, account) = contact_values([contact.pk])[contact.pk]
    rendered, token = personalise(
        compiled, contact=contact_dict, account=account, campaign_name="(test)", message_id=None, test=True
    )
    email = email_build(
        rendered=Rendered(f"[Test] {rendered.subject}", rendered.preheader, rendered.html, rendered.text),
        to=to,
        key=f"test{template.pk}x{contact.pk}x{uuid.uuid4().hex}",
        unsubscribe=token,
        message_id=None,
        contact_id=contact.pk,
        track=False,
    )
    email.send()
    return rendered
