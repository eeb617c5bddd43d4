from django.contrib.auth import get_user_model
from django.core.management import call_command

from contacts.models import ConsentChange, Contact, Touchpoint
from ledger.models import Action


def test_seed_demo_loads_a_plausible_quarter(db, capsys):
    call_command("seed_demo", "--contacts", "60")

    out = capsys.readouterr().out
    assert "Loaded" in out and "mops-demo" in out
    assert Contact.objects.count() == 60
    assert Contact.objects.filter(account__isnull=False).exists()
    assert Touchpoint.objects.filter(kind_id="page_view").exists()
    assert ConsentChange.objects.exists()
    kinds = set(Action.objects.values_list("actor_kind", flat=True))
    assert kinds == {"algorithmic", "manual"}
    manual_share = Action.objects.filter(actor_kind="manual").count() / Action.objects.count()
    assert 0 < manual_share < 0.2
    # every action points at a real contact or at none
    orphans = Action.objects.exclude(contact_id=None).exclude(contact_id__in=Contact.objects.values("pk"))
    assert not orphans.exists()


def test_seed_demo_creates_one_login_per_role_and_leaves_passwords_alone(db):
    call_command("seed_demo", "--contacts", "5")
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("changed-by-the-team")
    admin.save()

    call_command("seed_demo", "--if-empty")

    admin.refresh_from_db()
    assert admin.check_password("changed-by-the-team")
    assert Contact.objects.count() == 5
    roles = dict(get_user_model().objects.values_list("username", "groups__name"))
    assert (roles["admin"], roles["marketer"], roles["viewer"]) == ("Admin", "Marketer", "Viewer")


def test_seed_demo_is_deterministic_for_a_seed(db):
    call_command("seed_demo", "--contacts", "20", "--seed", "7")
    fields = ("first_name", "last_name", "country", "lifecycle_stage", "score")
    first = list(Contact.objects.order_by("pk").values_list(*fields))
    Contact.objects.all().delete()

    call_command("seed_demo", "--contacts", "20", "--seed", "7")

    again = list(Contact.objects.order_by("pk").values_list(*fields))
    assert again == first


def test_seed_demo_twice_adds_more_without_clashing(db):
    call_command("seed_demo", "--contacts", "15")
    call_command("seed_demo", "--contacts", "15")

    assert Contact.objects.count() == 30


def test_seed_demo_replays_intents_and_scores_as_they_happened(db):
    from intents.models import IntentSignal

    call_command("seed_demo", "--contacts", "40", "--seed", "3")

    detected = Action.objects.filter(verb="intent.detected")
    assert detected.exists() and IntentSignal.objects.exists()
    # recognised on the days the touchpoints came in, not all at the moment of seeding
    days = {at.date() for at in detected.values_list("occurred_at", flat=True)}
    assert len(days) > 10
    assert Contact.objects.filter(score__gt=0).exists()
    assert Action.objects.filter(verb="contact.scored").dates("occurred_at", "day").count() > 10


def test_seed_demo_campaigns_send_e_mail_templates(db):
    from campaigns.models import Campaign
    from messaging.models import EmailTemplate
    from messaging.services import email_template_preview

    call_command("seed_demo", "--contacts", "10")
    call_command("seed_demo", "--contacts", "10")

    templates = {template.slug: template for template in EmailTemplate.objects.select_related("layout")}
    assert {"welcome", "webinar-confirmation", "webinar-follow-up"} <= set(templates)
    named = {
        step["template"]
        for campaign in Campaign.objects.filter(status="active")
        for step in campaign.version.steps
        if step["type"] == "send_email"
    }
    assert named and named <= set(templates)
    rendered = email_template_preview(template=templates["welcome"], contact=Contact.objects.first())
    assert "Northwind Analytics" in rendered.html and "welcome to Northwind" in rendered.subject
