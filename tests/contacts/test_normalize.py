import pytest
from django.core.exceptions import ValidationError

from contacts.normalize import (
    normalize_domain,
    normalize_email,
    normalize_phone,
    normalize_tag_name,
    normalize_timezone,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jane@Example.COM", "jane@example.com"),
        ("  a.b+tag@ex.io\t", "a.b+tag@ex.io"),
        ("ÉLODIE@exemple.fr", "élodie@exemple.fr"),
    ],
)
def test_emails_are_trimmed_and_lowercased(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "no-at-sign", "two@@example.com", "a@b", "<script>@x.com"])
def test_bad_emails_are_refused_with_the_value_in_the_message(raw):
    with pytest.raises(ValidationError):
        normalize_email(raw)


def test_phone_numbers_become_e164_read_in_the_contacts_country():
    assert normalize_phone("06 12 34 56 78", country="FR") == "+33612345678"
    assert normalize_phone("+1 (212) 555-0123") == "+12125550123"
    assert normalize_phone("") == ""


def test_a_local_phone_number_without_a_country_says_how_to_fix_it():
    with pytest.raises(ValidationError, match=r"start it with \+ and the country code"):
        normalize_phone("06 12 34 56 78")


def test_domains_lose_case_www_and_mailbox():
    assert normalize_domain("WWW.Acme.com.") == "acme.com"
    assert normalize_domain("sales@acme.io") == "acme.io"
    with pytest.raises(ValidationError, match="is not a domain name"):
        normalize_domain("acme")


def test_time_zones_are_iana_names():
    assert normalize_timezone("Europe/Paris") == "Europe/Paris"
    with pytest.raises(ValidationError, match="is not a time zone"):
        normalize_timezone("CET+1")


def test_tag_names_collapse_spaces_and_have_a_limit():
    assert normalize_tag_name("  webinar   2026 ") == "webinar 2026"
    with pytest.raises(ValidationError, match="longer than 100"):
        normalize_tag_name("x" * 101)
