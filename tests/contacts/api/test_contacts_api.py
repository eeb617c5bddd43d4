import pytest

from contacts.models import ConsentChange, Contact
from ledger.models import Action
from tests.factories import AccountFactory, ContactFactory


def test_create_returns_the_normalised_contact(writer):
    account = AccountFactory()

    response = writer.post(
        "/api/v1/contacts/",
        {
            "email": " Jane@ACME.com",
            "first_name": "Jane",
            "country": "fr",
            "phone": "06 12 34 56 78",
            "account": account.pk,
            "tags": ["VIP", "webinar"],
            "consent_email": "subscribed",
            "attributes": {"plan": "pro"},
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["email"], body["country"], body["phone"]) == ("jane@acme.com", "FR", "+33612345678")
    assert (body["account"], body["account_name"], body["tags"]) == (
        account.pk,
        account.name,
        ["VIP", "webinar"],
    )
    assert body["consent_email"] == "subscribed"
    assert ConsentChange.objects.get().source == "API"


def test_errors_name_the_field(writer):
    response = writer.post(
        "/api/v1/contacts/", {"email": "jane@", "score": "lots", "shoe": 42}, format="json"
    )

    assert response.status_code == 400
    paths = {error["path"] for error in response.json()["errors"]}
    assert paths == {"score", "shoe"}


def test_a_bad_email_is_a_400_on_email(writer):
    response = writer.post("/api/v1/contacts/", {"email": "jane@"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "email"
    assert "not a valid e-mail address" in response.json()["errors"][0]["message"]


def test_a_duplicate_email_is_a_400_not_a_500(writer):
    ContactFactory(email="jane@acme.com")

    response = writer.post("/api/v1/contacts/", {"email": "JANE@acme.com"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "email"


def test_retrieve_update_and_delete(writer):
    contact = ContactFactory(city="Lyon")
    url = f"/api/v1/contacts/{contact.pk}/"

    assert writer.get(url).json()["city"] == "Lyon"
    patched = writer.patch(url, {"city": "Paris", "tags": ["a"]}, format="json")
    assert patched.status_code == 200
    assert (patched.json()["city"], patched.json()["tags"]) == ("Paris", ["a"])
    assert writer.delete(url).status_code == 204
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert set(Action.objects.values_list("verb", flat=True)) == {
        "contact.updated",
        "tag.added",
        "contact.deleted",
    }


def test_upsert_creates_then_updates_by_email_keeping_what_is_left_out(writer):
    first = writer.post("/api/v1/contacts/upsert/", {"email": "Sam@x.io", "city": "Oslo"}, format="json")
    second = writer.post(
        "/api/v1/contacts/upsert/", {"email": "sam@X.IO", "job_title": "CMO", "city": ""}, format="json"
    )

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert (second.json()["city"], second.json()["job_title"]) == ("Oslo", "CMO")


def test_upsert_without_email_says_so(writer):
    response = writer.post("/api/v1/contacts/upsert/", {"city": "Oslo"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [{"path": "email", "message": "This field is required."}]


def test_list_filters_and_pages_with_a_cursor(writer):
    acme = AccountFactory()
    for n in range(5):
        ContactFactory(email=f"fr{n}@acme.com", country="FR", account=acme)
    ContactFactory(email="de@other.com", country="DE")

    page = writer.get("/api/v1/contacts/", {"country": "fr", "page_size": 2}).json()
    emails = [c["email"] for c in page["results"]]
    while page["next"]:
        page = writer.get(page["next"]).json()
        emails += [c["email"] for c in page["results"]]

    assert sorted(emails) == [f"fr{n}@acme.com" for n in range(5)]
    assert writer.get("/api/v1/contacts/", {"account": acme.pk}).json()["results"][0]["account"] == acme.pk
    assert writer.get("/api/v1/contacts/", {"email": "DE@other.com"}).json()["results"][0]["country"] == "DE"


def test_list_filters_by_tag_and_update_time(writer, as_robot):
    from contacts.services import contact_tags_add

    tagged = ContactFactory()
    contact_tags_add(contact=tagged, names=["VIP"])
    ContactFactory()

    by_tag = writer.get("/api/v1/contacts/", {"tag": "vip"}).json()["results"]
    assert [c["id"] for c in by_tag] == [tagged.pk]
    assert writer.get("/api/v1/contacts/", {"updated_since": "2999-01-01T00:00:00Z"}).json()["results"] == []
    odd_offset = writer.get("/api/v1/contacts/", {"updated_since": "0327-09-07T16:04:34+19:58"})
    assert odd_offset.status_code == 200
    bad = writer.get("/api/v1/contacts/", {"updated_since": "yesterday"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["path"] == "updated_since"


def test_accounts_crud(writer):
    created = writer.post("/api/v1/accounts/", {"name": "Acme", "domain": "WWW.Acme.com"}, format="json")
    assert created.status_code == 201
    assert created.json()["domain"] == "acme.com"
    url = f"/api/v1/accounts/{created.json()['id']}/"
    assert writer.patch(url, {"industry": "Retail"}, format="json").json()["industry"] == "Retail"
    assert writer.get("/api/v1/accounts/", {"domain": "acme.com"}).json()["results"][0]["name"] == "Acme"
    duplicate = writer.post("/api/v1/accounts/", {"name": "Acme 2", "domain": "acme.com"}, format="json")
    assert duplicate.status_code == 400
    assert writer.delete(url).status_code == 204


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b'{"email": "\xff\xfe"}', "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b'{"email": NaN}', "application/json"),
        (b"email=x", "application/x-www-form-urlencoded"),
        (b'"just a string"', "application/json"),
        (b"[1, 2]", "application/json"),
    ],
)
def test_malformed_bodies_are_400s_in_the_error_format(writer, body, content_type):
    response = writer.generic("POST", "/api/v1/contacts/", body, content_type=content_type)

    assert 400 <= response.status_code < 500
    assert response.json()["errors"]


def test_a_body_over_the_limit_is_a_400_in_the_error_format(writer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = b'{"email": "a@b.co", "city": "' + b"x" * 2000 + b'"}'

    response = writer.generic("POST", "/api/v1/contacts/", body, content_type="application/json")

    assert response.status_code in (400, 413)
    assert "too large" in response.json()["errors"][0]["message"]


def test_each_key_has_its_own_rate(writer, reader, monkeypatch):
    from django.core.cache import cache

    from common.api.throttling import PerKeyThrottle

    cache.clear()
    monkeypatch.setattr(PerKeyThrottle, "THROTTLE_RATES", {"per_key": "3/min"})

    codes = [writer.get("/api/v1/contacts/").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    assert reader.get("/api/v1/contacts/").status_code == 200
    assert writer.get("/api/v1/contacts/").json()["errors"][0]["message"].startswith("Request was throttled")
    cache.clear()


def test_upsert_with_a_bad_email_names_the_field(writer):
    response = writer.post("/api/v1/contacts/upsert/", {"email": "jane@"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "email"
