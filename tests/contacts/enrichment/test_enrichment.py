import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from contacts.enrichment.free_mail import is_free_mail
from contacts.enrichment.providers import BuiltinProvider, HttpProvider, timezone_from
from contacts.enrichment.service import contacts_enrich
from contacts.models import Contact
from contacts.services import touchpoints_announce
from ledger.models import Action
from tests.factories import AccountFactory, ContactFactory, TouchpointFactory


def test_free_mail_comes_from_the_maintained_list():
    assert is_free_mail("gmail.com") and is_free_mail("GMX.de")
    assert not is_free_mail("acme.com")


@pytest.mark.parametrize(
    ("phone", "country", "zone"),
    [
        ("+33612345678", "", "Europe/Paris"),
        ("", "NL", "Europe/Amsterdam"),
        ("+12125550100", "US", "America/New_York"),  # the number's area tells
        ("", "US", ""),  # a country of many zones does not
    ],
)
def test_the_time_zone_comes_from_the_number_or_a_single_zone_country(phone, country, zone):
    assert timezone_from(phone, country) == zone


def test_the_built_in_provider_matches_the_account_and_infers_country_and_zone(as_robot):
    # given an account and contacts at its domain and at a free-mail domain
    acme = AccountFactory(domain="acme.com")
    AccountFactory(name="Gmail", domain="gmail.com")  # someone typed it in; still free mail
    worker = ContactFactory(email="jane@acme.com", phone="+33612345678")
    private = ContactFactory(email="bob@gmail.com")
    known = ContactFactory(email="ann@acme.com", country="DE", timezone="Europe/Berlin")

    # when they are enriched
    assert contacts_enrich(contact_ids=[worker.pk, private.pk, known.pk], providers=[BuiltinProvider()]) == 2

    # then the work contact gets its account, country and zone; free mail gets no account
    worker.refresh_from_db()
    assert (worker.account, worker.country.code, worker.timezone) == (acme, "FR", "Europe/Paris")
    private.refresh_from_db()
    assert private.account is None
    known.refresh_from_db()
    assert (known.account, known.country.code, known.timezone) == (acme, "DE", "Europe/Berlin")
    action = Action.objects.get(contact_id=worker.pk, verb="contact.enriched")
    assert (action.category, action.actor_kind) == ("enrichment", "algorithmic")
    assert action.details["account_id"] == {"value": acme.pk, "provider": "built-in"}
    assert not Action.objects.filter(contact_id=private.pk).exists()


def test_enrichment_fills_only_what_is_empty_and_a_second_run_changes_nothing(as_robot):
    contact = ContactFactory(email="x@acme.com", phone="+33612345678", timezone="America/Lima")
    assert contacts_enrich(contact_ids=[contact.pk], providers=[BuiltinProvider()]) == 1
    contact.refresh_from_db()
    assert (contact.country.code, contact.timezone) == ("FR", "America/Lima")
    assert contacts_enrich(contact_ids=[contact.pk], providers=[BuiltinProvider()]) == 0


class FakeEnrichmentService(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeEnrichmentService.received.append((self.headers.get("Authorization"), body))
        answer = {
            "contacts": [
                {"id": item["id"], "job_title": "CMO", "city": "Lyon", "country": "zz", "score": "99"}
                for item in body["contacts"]
            ]
        }
        data = json.dumps(answer).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_service():
    FakeEnrichmentService.received = []
    FakeEnrichmentService.status = 200
    server = HTTPServer(("127.0.0.1", 0), FakeEnrichmentService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/enrich"
    server.shutdown()
    server.server_close()


def test_the_http_provider_asks_an_external_service(as_robot, fake_service):
    contact = ContactFactory(email="jane@acme.com")

    enriched = contacts_enrich(
        contact_ids=[contact.pk], providers=[HttpProvider(url=fake_service, token="s3cret", timeout=3)]
    )

    assert enriched == 1
    ((authorization, body),) = FakeEnrichmentService.received
    assert authorization == "Bearer s3cret"
    assert body == {"contacts": [{"id": contact.pk, "email": "jane@acme.com", "phone": "", "country": ""}]}
    contact.refresh_from_db()
    # known fields are taken, an invalid country and unknown fields are not
    assert (contact.job_title, contact.city, contact.country.code) == ("CMO", "Lyon", "")


def test_a_failing_service_is_skipped_and_the_built_in_provider_still_works(as_robot, fake_service):
    FakeEnrichmentService.status = 503
    contact = ContactFactory(email="jane@acme.com", phone="+33612345678")

    enriched = contacts_enrich(
        contact_ids=[contact.pk], providers=[HttpProvider(url=fake_service, timeout=3), BuiltinProvider()]
    )

    assert enriched == 1
    assert Contact.objects.get(pk=contact.pk).country.code == "FR"


def test_new_touchpoints_enrich_their_contacts(as_robot):
    touchpoint = TouchpointFactory(contact=ContactFactory(email="new@acme.com", phone="+4915112345678"))

    touchpoints_announce(touchpoint_ids=[touchpoint.pk])

    contact = Contact.objects.get(pk=touchpoint.contact_id)
    assert (contact.country.code, contact.timezone) == ("DE", "Europe/Berlin")
