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
    assert "No intent recognised lately" in home
    segments = home[home.index('id="home-segments"') :]
    assert "Webinar guests" in segments and "Hot French leads" in segments
