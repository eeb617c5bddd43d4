"""The pages and links an e-mail leads to. No login: the signed token in the URL says who.

The unsubscribe URL answers RFC 8058's one-click POST (no cookie, no CSRF token, no
redirect) and, for a person following the link, shows a confirmation page: a GET never
unsubscribes, since link scanners fetch every URL of a message.
"""

from __future__ import annotations

import base64

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from contacts.models import ConsentStatus, Contact
from ledger.context import acting_as
from messaging.email import links
from messaging.email.tracking import (
    EMAIL_LINKS,
    contact_preferences_set,
    contact_unsubscribe,
    email_click_record,
    email_open_record,
)
from messaging.models import OutboxMessage

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
CHANNELS = (
    ("email", "E-mail", "Newsletters, invitations and follow-ups"),
    ("sms", "Text messages (SMS)", "Reminders and short news on your phone"),
)


def _refused(request: HttpRequest, reason: str, status: int = 400) -> HttpResponse:
    return render(request, "email/refused.html", {"reason": reason}, status=status)


def _message(tracked: links.Tracked) -> OutboxMessage | None:
    return OutboxMessage.objects.filter(pk=tracked.message_id, contact_id=tracked.contact_id).first()


def _evidence(request: HttpRequest) -> dict:
    return {
        "ip": request.META.get("REMOTE_ADDR", ""),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
    }


@never_cache
@require_GET
def email_open(request: HttpRequest, token: str) -> HttpResponse:
    try:
        tracked = links.opened(token)
    except links.LinkRefused as error:
        return _refused(request, str(error), status=404)
    message = _message(tracked)
    if message is None:
        return _refused(request, "this e-mail is not known here", status=404)
    with acting_as(EMAIL_LINKS):
        email_open_record(message=message)
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
@require_GET
def email_click(request: HttpRequest, token: str) -> HttpResponse:
    try:
        tracked = links.clicked(token)
    except links.LinkRefused as error:
        return _refused(request, str(error))
    message = _message(tracked)
    if message is None:
        return _refused(request, "this e-mail is not known here", status=404)
    with acting_as(EMAIL_LINKS):
        email_click_record(message=message, url=tracked.url)
    return HttpResponseRedirect(tracked.url)


def _recipient(token: str) -> tuple[Contact | None, OutboxMessage | None, str]:
    """The contact a token names, the message it came in, or why not."""
    try:
        tracked = links.unsubscriber(token)
    except links.LinkRefused as error:
        return None, None, str(error)
    if tracked.contact_id == 0:
        return None, None, "this was a test e-mail: there is nobody to unsubscribe"
    contact = Contact.objects.filter(pk=tracked.contact_id).first()
    if contact is None:
        return None, None, "we no longer keep this address"
    message = _message(tracked) if tracked.message_id else None
    return contact, message, ""


def _masked(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:2]}{'•' * max(1, len(local) - 2)}@{domain}"


@csrf_exempt  # the token in the URL is the credential; RFC 8058 POSTs carry no cookie
@never_cache
@require_http_methods(["GET", "POST"])
def email_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    contact, message, problem = _recipient(token)
    if contact is None:
        return _refused(request, problem, status=404)
    context = {
        "token": token,
        "address": _masked(contact.email),
        "preferences": links.preferences_url(token=token),
    }
    if request.method == "GET":
        context["already"] = contact.consent_email == ConsentStatus.UNSUBSCRIBED
        return render(request, "email/unsubscribe.html", context)
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    with acting_as(EMAIL_LINKS):
        contact_unsubscribe(
            contact=contact,
            method="one-click" if one_click else "unsubscribe page",
            message=message,
            evidence=_evidence(request),
        )
    return render(request, "email/unsubscribed.html", context)


@csrf_exempt  # the token in the URL is the credential, as for the unsubscribe link
@never_cache
@require_http_methods(["GET", "POST"])
def email_preferences(request: HttpRequest, token: str) -> HttpResponse:
    contact, message, problem = _recipient(token)
    if contact is None:
        return _refused(request, problem, status=404)
    saved = False
    if request.method == "POST":
        wanted = {channel: request.POST.get(channel) == "on" for channel, _, _ in CHANNELS}
        with acting_as(EMAIL_LINKS):
            contact_preferences_set(
                contact=contact,
                wanted=wanted,
                method="preference page",
                message=message,
                evidence=_evidence(request),
            )
        contact.refresh_from_db()
        saved = True
    channels = [
        {
            "key": key,
            "name": name,
            "what": what,
            "on": getattr(contact, f"consent_{key}") != ConsentStatus.UNSUBSCRIBED,
        }
        for key, name, what in CHANNELS
    ]
    return render(
        request,
        "email/preferences.html",
        {
            "token": token,
            "address": _masked(contact.email),
            "channels": channels,
            "saved": saved,
            "first_name": contact.first_name,
        },
    )
