from django.test import Client

from segments import services
from tests.factories import ContactFactory


def test_the_contact_page_says_which_segments_hold_the_contact_and_why(as_robot, viewer):
    # given
    anne = ContactFactory(email="anne@example.net", country="FR", score=80)
    french = services.segment_create(
        name="Hot French leads",
        conditions={"all": [{"field": "country", "op": "eq", "value": "FR"},
                            {"field": "score", "op": "gte", "value": 90}]},
    )  # fmt: skip
    services.segment_rebuild(segment=french)
    guests = services.segment_create(name="Webinar guests", kind="static")
    services.static_members_add(segment=guests, contact_ids=[anne.pk])
    client = Client()
    client.force_login(viewer)

    # when
    page = client.get(f"/contacts/{anne.pk}/").content.decode()
    home = client.get("/home/").content.decode()

    # then
    panel = page[page.index('id="contact-segments"') :]
    assert "Hot French leads" in panel and "Webinar guests" in panel
    assert '✓</span>\n  <span class="visually-hidden">holds:</span>\n  Country is FR' in panel
    assert '✗</span>\n  <span class="visually-hidden">does not hold:</span>\n  Score is at least 90' in panel
    assert "A list kept by hand." in panel
    assert "No intent shown yet." in page and "No scoring rule gives this contact points." in page
    assert "No intent recognised lately" in home
    assert "No campaign is running" in home
    segments = home[home.index('id="home-segments"') :]
    assert "Webinar guests" in segments and "Hot French leads" in segments


def test_the_contact_page_shows_its_intents_as_they_stand_now(as_robot, viewer):
    # given
    from intents.models import Intent, IntentSignal

    anne = ContactFactory()
    IntentSignal.objects.create(contact=anne, intent=Intent.objects.get(key="compare"), score=0.8)
    client = Client()
    client.force_login(viewer)

    # when
    page = client.get(f"/contacts/{anne.pk}/").content.decode()

    # then
    panel = page[page.index('id="contact-intents"') : page.index('id="contact-score"')]
    assert "Compare" in panel and "0.80" in panel


def test_the_home_page_lists_running_campaigns_with_their_counts(as_robot, viewer):
    # given a campaign whose contacts wait three days
    from campaigns.services import campaign_create, campaign_enroll, campaign_publish

    people = [ContactFactory(), ContactFactory()]
    nurture = campaign_create(name="Nurture", steps=[{"key": "pause", "type": "wait", "days": 3}])
    campaign_publish(campaign=nurture)
    campaign_enroll(campaign=nurture, contact_ids=[person.pk for person in people])
    client = Client()
    client.force_login(viewer)

    # when
    home = client.get("/home/").content.decode()

    # then
    panel = home[home.index('id="home-campaigns"') : home.index('id="home-segments"')]
    assert "Nurture" in panel
    assert '<td class="number">2</td><td class="number">0</td>' in panel.replace("\n", "").replace(
        "          ", ""
    )
