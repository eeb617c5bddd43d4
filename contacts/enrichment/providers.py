"""Providers suggest values for a contact. The built-in one infers from what is known;
the HTTP one asks an external enrichment service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import phonenumbers
from phonenumbers import timezone as phone_timezones

from contacts.enrichment.free_mail import is_free_mail

# What a provider may fill; anything else it returns is ignored.
FIELDS = ("account_id", "first_name", "last_name", "job_title", "city", "country", "timezone")


class EnrichmentError(RuntimeError):
    pass


@dataclass(frozen=True)
class ContactFacts:
    id: int
    email: str
    phone: str = ""
    country: str = ""
    values: Mapping[str, Any] = field(default_factory=dict)  # every enrichable field as it stands

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2].lower()


class Provider(Protocol):
    name: str

    def suggest_many(self, contacts: Sequence[ContactFacts]) -> dict[int, dict[str, Any]]: ...


def _single_zone(zones: Sequence[str]) -> str:
    return zones[0] if len(zones) == 1 and zones[0] != "Etc/Unknown" else ""


def country_from_phone(phone: str) -> str:
    if not phone:
        return ""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone)) or ""
    except phonenumbers.NumberParseException:
        return ""


def timezone_from(phone: str, country: str) -> str:
    """The number's own zone when it has one; else the country's, when it has only one
    (France yes, the United States no)."""
    if phone:
        try:
            zone = _single_zone(phone_timezones.time_zones_for_number(phonenumbers.parse(phone)))
        except phonenumbers.NumberParseException:
            zone = ""
        if zone:
            return zone
    code = phonenumbers.country_code_for_region(country) if country else 0
    if not code:
        return ""
    anywhere = phonenumbers.PhoneNumber(country_code=code, national_number=0)
    return _single_zone(phone_timezones.time_zones_for_geographical_number(anywhere))


class BuiltinProvider:
    """The account by e-mail domain (free-mail domains excluded), the country from the
    phone number, the time zone from the number or the country."""

    name = "built-in"

    def suggest_many(self, contacts: Sequence[ContactFacts]) -> dict[int, dict[str, Any]]:
        from contacts.models import Account

        domains = {c.domain for c in contacts if c.domain and not is_free_mail(c.domain)}
        accounts = (
            dict(Account.objects.filter(domain__in=domains).values_list("domain", "pk")) if domains else {}
        )
        suggestions = {}
        for contact in contacts:
            country = contact.country or country_from_phone(contact.phone)
            suggestion = {
                "account_id": accounts.get(contact.domain),
                "country": country,
                "timezone": timezone_from(contact.phone, country),
            }
            suggestions[contact.id] = {key: value for key, value in suggestion.items() if value}
        return suggestions


class HttpProvider:
    """POSTs {"contacts": [{"id", "email", "phone", "country"}...]} to an enrichment service and
    reads back {"contacts": [{"id": ..., "job_title": ..., ...}]}."""

    name = "http"

    def __init__(self, *, url: str, token: str = "", timeout: float = 5.0, transport=None):
        self.url, self.timeout = url, timeout
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.transport = transport

    def suggest_many(self, contacts: Sequence[ContactFacts]) -> dict[int, dict[str, Any]]:
        body = {
            "contacts": [
                {"id": c.id, "email": c.email, "phone": c.phone, "country": c.country} for c in contacts
            ]
        }
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                response = client.post(self.url, json=body, headers=self.headers)
            response.raise_for_status()
            answer = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise EnrichmentError(f"the enrichment service at {self.url} failed: {error}") from error
        items = answer.get("contacts") if isinstance(answer, dict) else None
        if not isinstance(items, list):
            raise EnrichmentError(f"the enrichment service at {self.url} answered without a contacts list")
        wanted = {c.id for c in contacts}
        suggestions: dict[int, dict[str, Any]] = {}
        for item in items:
            if isinstance(item, dict) and item.get("id") in wanted:
                suggestions[item["id"]] = {
                    key: value
                    for key, value in item.items()
                    if key in FIELDS and key != "account_id" and isinstance(value, str) and value.strip()
                }
        return suggestions
