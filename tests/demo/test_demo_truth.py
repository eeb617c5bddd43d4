"""The demo tells the truth: nothing in it happened after the moment it was loaded, the
lifecycle stages agree with the lead score's MQL threshold, and its two campaigns have
people inside whose e-mails went out through the console back-end `make run` uses."""

import re
from email.header import decode_header, make_header

import time_machine
from django.core.management import call_command
from django.db.models import OuterRef, Subquery

from campaigns.models import Campaign, Enrollment
from contacts.models import ConsentChange, Contact, ContactTag, PendingTouchpoint, Touchpoint
from intents.models import EngagementPoints, IntentSignal
from ledger.counting import RULES
from ledger.models import Action
from messaging.models import OutboxMessage
from segments.models import MembershipEvent
from tests.clock import NOW

# each demo campaign, and the touchpoints of the last hour that bring people into it
CAMPAIGNS = {
    "Welcome new sign-ups": {"kind_id": "form_submit", "properties__form": "trial-signup"},
    "Webinar: Dashboards that people read": {
        "kind_id": "webinar_registration",
        "properties__webinar_id": "w-43",
    },
}


def seed(*args: str) -> None:
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", *args)


def test_nothing_in_the_demo_happened_after_it_was_loaded(db):
    # when the demo `make run` loads (400 contacts, seed 42) is loaded at NOW
    seed()

    # then every date it wrote is NOW or before
    dated = [
        (Action, "occurred_at"),
        (Touchpoint, "occurred_at"),
        (Touchpoint, "created_at"),
        (Contact, "created_at"),
        (Contact, "updated_at"),
        (ConsentChange, "changed_at"),
        (ContactTag, "added_at"),
        (MembershipEvent, "occurred_at"),
        (IntentSignal, "updated_at"),
        (EngagementPoints, "updated_at"),
    ]
    for model, field in dated:
        assert model.objects.exists(), model
        late = model.objects.filter(**{f"{field}__gt": NOW})
        assert not late.exists(), (
            f"{model.__name__}.{field} after the load: {list(late.values_list(field)[:5])}"
        )
    # and nothing was done to a contact before it existed
    born = Subquery(Contact.objects.filter(pk=OuterRef("contact_id")).values("created_at"))
    early = Action.objects.exclude(contact_id=None).filter(occurred_at__lt=born)
    assert not early.exists(), list(early.values_list("verb", flat=True)[:5])
    # and every action it wrote straight into the ledger is of a kind the counting rule knows
    verbs = set(Action.objects.values_list("verb", flat=True).distinct())
    assert verbs - set(RULES) == set()


def test_lifecycle_stages_agree_with_the_mql_threshold(db, settings):
    # when the demo `make run` loads is loaded
    seed()

    # then nobody at or above the threshold is still a subscriber or a lead, every MQL is there
    threshold = settings.LEAD_SCORE_MQL_THRESHOLD
    above = Contact.objects.filter(score__gte=threshold)
    assert above.exists() and Contact.objects.filter(score__lt=threshold).exists()
    assert not above.filter(lifecycle_stage__in=["subscriber", "lead"]).exists()
    mqls = Contact.objects.filter(lifecycle_stage="mql")
    assert mqls.exists()
    assert not mqls.filter(score__lt=threshold).exists()
    # and the ledger says when each of them reached it
    reached = Action.objects.filter(verb="contact.mql_reached").values("contact_id")
    assert not mqls.exclude(pk__in=reached).exists()


def test_the_last_hours_sign_ups_and_registrations_wait_for_a_worker(db):
    # when
    seed("--contacts", "60")

    # then the touchpoints each campaign listens for came in through the ingest service
    pending = Touchpoint.objects.filter(pk__in=PendingTouchpoint.objects.values("touchpoint_id"))
    for arrival in CAMPAIGNS.values():
        arrived = pending.filter(**arrival)
        assert arrived.exists(), arrival
        assert not arrived.filter(contact__consent_email="unsubscribed").exists()
        captured = Action.objects.filter(
            verb="touchpoint.captured", object_id__in=[str(pk) for pk in arrived.values_list("pk", flat=True)]
        )
        assert captured.count() == arrived.count()
        assert set(captured.values_list("actor_kind", "actor_type")) == {("algorithmic", "integration")}
    assert pending.count() == sum(pending.filter(**arrival).count() for arrival in CAMPAIGNS.values())


def test_the_demo_campaigns_enroll_and_send_through_the_console_back_end(
    db, settings, capsys, celery_eager, django_capture_on_commit_callbacks
):
    # given the e-mail back-end of `make run` (EMAIL_URL's default, consolemail://)
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

    # when the demo is loaded, and what it queued is run (by the worker, here eagerly)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", "--contacts", "60")

    # then each campaign has contacts inside, whose first e-mail is sent and printed
    printed = capsys.readouterr().out
    for name, arrival in CAMPAIGNS.items():
        campaign = Campaign.objects.get(name=name)
        enrollments = Enrollment.objects.filter(campaign=campaign)
        arrived = Touchpoint.objects.filter(**arrival)
        assert enrollments.count() == arrived.values("contact_id").distinct().count() > 0
        # inside: waiting for the next e-mail
        assert enrollments.filter(status="waiting").count() == enrollments.count()
        messages = OutboxMessage.objects.filter(origin_id=campaign.pk, channel="email")
        assert messages.count() == enrollments.count()
        assert set(messages.values_list("status", flat=True)) == {"sent"}
        sent = Action.objects.filter(verb="email.sent", contact_id__in=enrollments.values("contact_id"))
        assert sent.count() >= enrollments.count()
    subjects = [  # decoded: a name that is not ASCII is encoded in the header
        str(make_header(decode_header(value)))
        for value in re.findall(r"^Subject: (.+(?:\r?\n[ \t].+)*)", printed, re.MULTILINE)
    ]
    assert (
        len([s for s in subjects if "welcome to Northwind" in s])
        == Enrollment.objects.filter(campaign__name="Welcome new sign-ups").count()
    )
    assert (
        len([s for s in subjects if "Thursday, 4 pm CET" in s])
        == Enrollment.objects.filter(campaign__name="Webinar: Dashboards that people read").count()
    )
