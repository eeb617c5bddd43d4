"""The topic pages of the back-office: the list, a topic, and what a person decides there."""

import pytest
import time_machine
from django.test import Client

from intents import services
from intents.models import DiscoveredTopic
from ledger.context import Actor, acting_as
from ledger.models import Action
from segments.models import Segment
from tests.intents.test_discovery import NOW, two_needs  # noqa: F401 - the fixture


@pytest.fixture
def topics(two_needs):  # noqa: F811
    with (
        time_machine.travel(NOW, tick=False),
        acting_as(Actor.for_task("intents.tasks.topics_discover_task")),
    ):
        services.topics_discover()
    return list(DiscoveredTopic.objects.order_by("-size", "pk"))


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_list_shows_each_topic_with_its_trend_in_plain_words(
    topics, marketer, django_assert_max_num_queries
):
    client = _client(marketer)
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(12):
        page = client.get("/admin/intents/discoveredtopic/")
    html = page.content.decode()
    assert page.status_code == 200
    for topic in topics:
        assert topic.title in html
    assert html.count('class="topic-trend"') == len(topics)
    assert "texts over the last 14 days" in html
    assert "Discover topics now" in html


def test_a_topic_page_shows_its_texts_words_and_writers(topics, marketer):
    topic = topics[0]
    with time_machine.travel(NOW, tick=False):
        page = _client(marketer).get(f"/admin/intents/discoveredtopic/{topic.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("<li>“") == min(8, topic.size)
    for word in topic.words:
        assert f"<span>{word}</span>" in html
    assert "Who wrote them" in html and "Name it" in html
    assert "centroid" not in html


def test_dismissing_and_opening_the_contacts_from_the_page(topics, marketer):
    client = _client(marketer)
    topic = topics[0]

    listed = client.post(f"/admin/segments/segment/from-topic/{topic.pk}/")
    dismissed = client.post(f"/admin/intents/discoveredtopic/{topic.pk}/dismiss/", follow=True)

    segment = Segment.objects.get(kind="static")
    assert listed.url == f"/admin/segments/segment/{segment.pk}/change/"
    assert segment.size == topic.contact_count
    assert "is dismissed" in dismissed.content.decode()
    assert DiscoveredTopic.objects.get(pk=topic.pk).status == "dismissed"
    assert Action.objects.get(verb="topic.dismissed").actor_name == "maya"


def test_a_name_form_with_nothing_in_it_says_what_is_missing(topics, marketer):
    page = _client(marketer).post(f"/admin/intents/discoveredtopic/{topics[0].pk}/name/", {}, follow=True)
    assert "Give the new intent a name" in page.content.decode()
    assert DiscoveredTopic.objects.get(pk=topics[0].pk).status == "proposed"


def test_a_viewer_reads_topics_but_cannot_decide(topics, viewer):
    client = _client(viewer)
    assert client.get(f"/admin/intents/discoveredtopic/{topics[0].pk}/change/").status_code == 200
    assert (
        "Name it" not in client.get(f"/admin/intents/discoveredtopic/{topics[0].pk}/change/").content.decode()
    )
    assert client.post(f"/admin/intents/discoveredtopic/{topics[0].pk}/dismiss/").status_code == 403
    assert DiscoveredTopic.objects.get(pk=topics[0].pk).status == "proposed"
