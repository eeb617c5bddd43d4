"""Cleaning one imported value, the same way the forms and the API clean it, but fast
enough for a million rows: the library validators cost tens of microseconds per call,
so the common shapes take a shortcut whose answer is the same (tests pin that)."""

from __future__ import annotations

import functools
import json
import re
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from email_validator import SPECIAL_USE_DOMAIN_NAMES

from contacts.normalize import normalize_email, normalize_phone

INT_MIN, INT_MAX = -(2**31), 2**31 - 1


class CellError(ValueError):
    """What is wrong with one value; the importer prefixes the column."""


def message_of(error: ValidationError) -> str:
    return " ".join(error.messages)


def text(value: Any) -> str:
    """A cell as text. JSON Lines may carry numbers and booleans where CSV has text."""
    if value is None:
        return ""
    if isinstance(value, str):
        if "\x00" in value:
            raise CellError("contains a NUL character, which cannot be stored")
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise CellError(f"expected a text value, not a JSON {type(value).__name__}")


def limited(value: str, max_length: int) -> str:
    if len(value) > max_length:
        raise CellError(f"{len(value):,} characters, at most {max_length} are allowed")
    return value


def limited_text(value: Any, max_length: int) -> str:
    return limited(text(value), max_length)


# A strict subset of RFC 5322's dot-atom: every address it matches is valid for
# email_validator too, and normalised by it to exactly local@domain.
_SIMPLE_LOCAL = re.compile(r"[A-Za-z0-9_+\-]+(?:\.[A-Za-z0-9_+\-]+)*")
_SIMPLE_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?")


# An ordinary ASCII host name: labels of letters, digits and inner hyphens, 63 at most.
_HOST_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?")


def _plain_domain(domain: str) -> str | None:
    """The lower-cased domain when email_validator would accept it as it is, None when
    only the library can tell. A file of a million contacts has a hundred thousand company
    domains; the library's Unicode checks cost 70 microseconds each."""
    lowered = domain.lower()
    labels = lowered.split(".")
    if len(lowered) > 253 or len(labels) < 2 or not lowered[-1].isalpha():
        return None
    for label in labels:
        # "ab--" is an IDNA label (or a bad one): the library decides.
        if not _HOST_LABEL.fullmatch(label) or label[2:4] == "--":
            return None
    for reserved in SPECIAL_USE_DOMAIN_NAMES:
        if lowered == reserved or lowered.endswith("." + reserved):
            return None
    return lowered


@functools.lru_cache(maxsize=65536)
def _domain_verdict(domain: str) -> str | None:
    """The normalised domain, or None when email_validator refuses it. The verdict does
    not depend on the part before the @, so one check serves every address there."""
    plain = _plain_domain(domain)
    if plain is not None:
        return plain
    try:
        return normalize_email(f"a@{domain}")[2:]
    except ValidationError:
        return None


def email(value: Any) -> str:
    """contacts.normalize.normalize_email, with a shortcut for the everyday address."""
    raw = text(value)
    local, at, domain = raw.rpartition("@")
    if at and len(raw) <= 250 and _SIMPLE_LOCAL.fullmatch(local) and _SIMPLE_DOMAIN.fullmatch(domain):
        clean_domain = _domain_verdict(domain)
        if clean_domain is not None:
            return f"{local}@{clean_domain}".lower()
    try:
        return normalize_email(raw)
    except ValidationError as error:
        raise CellError(message_of(error)) from None


@functools.lru_cache(maxsize=65536)
def _phone(raw: str, country: str) -> tuple[str, str]:
    try:
        return normalize_phone(raw, country=country), ""
    except ValidationError as error:
        return "", message_of(error)


def phone(value: Any, *, country: str) -> str:
    raw = text(value)
    if not raw:
        return ""
    clean, problem = _phone(raw, country)
    if problem:
        raise CellError(problem)
    return clean


_COUNTRIES: dict[str, str] | None = None


def country(value: Any) -> str:
    """ISO 3166 alpha-2 code from a code or an English name, any case."""
    global _COUNTRIES
    raw = text(value)
    if not raw:
        return ""
    if _COUNTRIES is None:
        from django_countries import countries

        names: dict[str, str] = {}
        for code, name in countries:
            names[str(name).lower()] = code
            names[code.lower()] = code
        _COUNTRIES = names
    code = _COUNTRIES.get(raw.lower())
    if code is None:
        raise CellError(f"{raw!r} is not a country (expected a code like FR or a name like France)")
    return code


def integer(value: Any, *, minimum: int = INT_MIN, maximum: int = INT_MAX) -> int | None:
    if isinstance(value, bool):
        raise CellError(f"expected a whole number, not {value!r}")
    if isinstance(value, int):
        number = value
    else:
        raw = text(value)
        if not raw:
            return None
        try:
            number = int(raw)
        except ValueError:
            try:
                as_float = float(raw)
            except ValueError:
                as_float = float("nan")
            if not as_float.is_integer():
                raise CellError(f"{raw!r} is not a whole number") from None
            number = int(as_float)  # "12.0", as spreadsheets like to write it
    if not minimum <= number <= maximum:
        raise CellError(f"{number} is out of range ({minimum} to {maximum})")
    return number


def choice(value: Any, *, choices: dict[str, str], hint: str) -> str:
    """One of the keys of choices (compared in lower case), mapped to its stored value."""
    raw = text(value)
    if not raw:
        return ""
    found = choices.get(raw.lower())
    if found is None:
        raise CellError(f"{raw!r} is not {hint}")
    return found


def moment(value: Any) -> datetime:
    """ISO 8601. Without an offset, the time is read in the project's time zone."""
    raw = text(value)
    if not raw:
        raise CellError("a date and time is required (ISO 8601, e.g. 2026-03-01T14:30:00+01:00)")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise CellError(
            f"{raw!r} is not an ISO 8601 date and time (e.g. 2026-03-01T14:30:00+01:00)"
        ) from None
    if parsed.tzinfo is None:
        parsed = timezone.make_aware(parsed)
    return parsed


def json_object(value: Any) -> dict:
    """A JSON object, given as one (JSON Lines) or as its text (a CSV cell)."""
    if isinstance(value, dict):
        return value
    raw = text(value)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise CellError(f"not valid JSON: {error.msg} (character {error.pos + 1})") from None
    if not isinstance(data, dict):
        raise CellError('expected a JSON object, e.g. {"plan": "pro"}')
    return data


def json_text(data: dict) -> str:
    """Serialised for COPY into a jsonb column, which cannot hold a NUL character."""
    dumped = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if "\\u0000" in dumped:
        raise CellError("contains a NUL character, which cannot be stored")
    return dumped
