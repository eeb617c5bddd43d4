"""One normaliser per kind of value, shared by forms, services, the API and imports,
so the same input is cleaned the same way whichever door it came through."""

from __future__ import annotations

import functools
import zoneinfo

import phonenumbers
from django.core.exceptions import ValidationError
from email_validator import EmailNotValidError, validate_email


def normalize_email(value: str) -> str:
    """Trimmed, syntax-checked and lower-cased (the whole address, so that
    Jane@Acme.com and jane@acme.com are one contact)."""
    return _normalize_email((value or "").strip())


# The same people come back again and again (every touchpoint names its contact), and a
# full syntax check costs more than storing the touchpoint: remember the good answers.
@functools.lru_cache(maxsize=100_000)
def _normalize_email(raw: str) -> str:
    if not raw:
        raise ValidationError("an e-mail address is required", code="required")
    try:
        result = validate_email(raw, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as error:
        raise ValidationError(f"{raw!r} is not a valid e-mail address: {error}", code="invalid") from error
    return result.normalized.lower()


def normalize_domain(value: str) -> str:
    domain = (value or "").strip().lower().removeprefix("www.").rstrip(".")
    if "@" in domain:
        domain = domain.rsplit("@", 1)[1]
    if domain and ("." not in domain or " " in domain or "/" in domain):
        raise ValidationError(
            f"{value!r} is not a domain name (expected something like acme.com)", code="invalid"
        )
    return domain


def normalize_phone(value: str, *, country: str = "") -> str:
    """E.164 (+33612345678). A number without a leading + is read in the contact's country."""
    raw = (value or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, (country or "").upper() or None)
    except phonenumbers.NumberParseException as error:
        hint = "" if raw.startswith("+") or country else " (start it with + and the country code)"
        raise ValidationError(f"{raw!r} is not a phone number{hint}: {error}", code="invalid") from error
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(f"{raw!r} is not a possible phone number", code="invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_timezone(value: str) -> str:
    name = (value or "").strip()
    if name and name not in _timezones():
        raise ValidationError(
            f"{name!r} is not a time zone (expected an IANA name like Europe/Paris)", code="invalid"
        )
    return name


def normalize_tag_name(value: str) -> str:
    name = " ".join((value or "").split())
    if not name:
        raise ValidationError("a tag name cannot be empty", code="required")
    if len(name) > 100:
        raise ValidationError(f"tag {name[:20]!r}… is longer than 100 characters", code="max_length")
    return name


_TIMEZONES: frozenset[str] | None = None


def _timezones() -> frozenset[str]:
    global _TIMEZONES
    if _TIMEZONES is None:
        _TIMEZONES = frozenset(zoneinfo.available_timezones())
    return _TIMEZONES
