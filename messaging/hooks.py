"""Inbound hooks from providers: bounce and complaint reports, SMS replies.

They are not part of the API (no API key: providers cannot send one); each checks its own
proof of origin instead: our HMAC signature or a shared secret for bounce reports, Twilio's
request signature for SMS. What they record is algorithmic work of the provider.
"""

from __future__ import annotations

import hmac
import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ledger.context import ALGORITHMIC, Actor, acting_as
from messaging.feedback import (
    BOUNCE,
    COMPLAINT,
    HARD,
    SOFT,
    EmailFeedback,
    email_feedback_record,
    sms_reply_receive,
)
from messaging.signing import SIGNATURE_HEADER, signature_valid, twilio_signature

MAX_EVENTS = 1000


def _errors(status: int, *items: tuple[str, str]) -> JsonResponse:
    return JsonResponse(
        {"errors": [{"path": path, "message": message} for path, message in items]}, status=status
    )


def _bounce_request_authentic(request: HttpRequest) -> bool:
    secret = settings.BOUNCE_WEBHOOK_SECRET
    if not secret:
        return False
    header = request.headers.get(SIGNATURE_HEADER, "")
    if header:
        return signature_valid(secret=secret, body=request.body, header=header)
    bearer = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(bearer) and hmac.compare_digest(bearer.encode(), secret.encode())


def _parse_events(raw: bytes) -> tuple[list[EmailFeedback], list[tuple[str, str]]]:
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        return [], [("", f"the body is not JSON: {error}")]
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        return [], [("events", 'expected {"events": [...]}')]
    if len(document["events"]) > MAX_EVENTS:
        return [], [("events", f"at most {MAX_EVENTS} events per request")]
    events, errors = [], []
    for index, item in enumerate(document["events"]):
        path = f"events[{index}]"
        if not isinstance(item, dict):
            errors.append((path, "expected an object"))
            continue
        kind = item.get("type")
        if kind not in (BOUNCE, COMPLAINT):
            errors.append((f"{path}.type", f"expected 'bounce' or 'complaint', not {kind!r}"))
            continue
        email = item.get("email")
        if not isinstance(email, str) or "@" not in email:
            errors.append((f"{path}.email", "an e-mail address is required"))
            continue
        bounce_type = item.get("bounce_type", HARD)
        if kind == BOUNCE and bounce_type not in (HARD, SOFT):
            errors.append((f"{path}.bounce_type", f"expected 'hard' or 'soft', not {bounce_type!r}"))
            continue
        message_id = item.get("message_id") or ""
        detail = item.get("detail") or item.get("diagnostic") or ""
        if not isinstance(message_id, str) or not isinstance(detail, str):
            errors.append((path, "message_id and detail must be strings"))
            continue
        events.append(
            EmailFeedback(
                type=kind,
                email=email,
                bounce_type=bounce_type,
                message_id=message_id[:200],
                detail=detail[:500],
            )
        )
    return events, errors


@csrf_exempt
@require_POST
def bounces_webhook(request: HttpRequest) -> JsonResponse:
    """`POST /hooks/email/feedback/` with `{"events": [{"type": "bounce"|"complaint", "email": ...,
    "bounce_type": "hard"|"soft", "message_id": ...}]}`, signed (`X-Mops-Signature`) or with
    `Authorization: Bearer <BOUNCE_WEBHOOK_SECRET>`. All events are checked before any is kept."""
    if not _bounce_request_authentic(request):
        return _errors(403, ("", "missing or wrong signature (X-Mops-Signature) or bearer secret"))
    events, errors = _parse_events(request.body)
    if errors:
        return _errors(400, *errors)
    with acting_as(Actor(kind=ALGORITHMIC, type="integration", name="e-mail feedback webhook")):
        result = email_feedback_record(events=events, source="feedback webhook")
    return JsonResponse(
        {
            "recorded": result.recorded,
            "duplicates": result.duplicates,
            "suppressed_addresses": result.suppressed_addresses,
            "suppressed_messages": result.suppressed_messages,
        }
    )


def twilio_request_authentic(request: HttpRequest) -> bool:
    token = settings.SMS_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = settings.SMS_INBOUND_URL or request.build_absolute_uri()
    params = {key: request.POST.get(key, "") for key in request.POST}
    return hmac.compare_digest(twilio_signature(auth_token=token, url=url, params=params), signature)


@csrf_exempt
@require_POST
def sms_inbound_twilio(request: HttpRequest) -> HttpResponse:
    """`POST /hooks/sms/inbound/`: an SMS sent to our number, in Twilio's format (form fields
    From, To, Body), signed by Twilio with the account's auth token."""
    if not twilio_request_authentic(request):
        return HttpResponse("missing or wrong X-Twilio-Signature", status=403, content_type="text/plain")
    sender, body = request.POST.get("From", ""), request.POST.get("Body", "")
    if not sender:
        return HttpResponse("From is required", status=400, content_type="text/plain")
    with acting_as(Actor(kind=ALGORITHMIC, type="integration", name="SMS provider (inbound)")):
        sms_reply_receive(from_number=sender, body=body, source="sms inbound")
    # An empty reply: the provider answers STOP itself, as carriers require.
    return HttpResponse(
        '<?xml version="1.0" encoding="UTF-8"?><Response></Response>', content_type="text/xml"
    )
