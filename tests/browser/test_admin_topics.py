"""Discover, name, recognise: unrecognised chat messages become topics, a marketer names
one, and after retraining the next such message is recognised."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from intents.models import DiscoveredTopic, Intent, IntentExample, IntentModel, TouchpointIntent
from intents.services import touchpoints_recognise
from ledger.context import Actor, acting_as
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import ContactFactory, TouchpointFactory
from tests.intents.data import ONE_OFFS, chat_texts, labelled_rows

SIZES = {"1366x768": (1366, 768), "1920x1080": (1920, 1080)}


def _arrive(texts, *, hours_ago=2):
    """Chat messages arrive and are recognised as the worker does."""
    at = timezone.now() - timedelta(hours=hours_ago)
    contacts = [ContactFactory() for _ in range(3)]
    touchpoints = [
        TouchpointFactory(
            kind_id="chat_message", channel="chat", text=text, occurred_at=at, contact=contacts[i % 3]
        )
        for i, text in enumerate(texts)
    ]
    with acting_as(Actor.for_task("contacts.tasks.touchpoints_captured_task")):
        touchpoints_recognise(touchpoint_ids=[tp.pk for tp in touchpoints])
    return touchpoints


def _screens(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    for label, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=ARTIFACTS / f"{name}-{label}.png", full_page=True)


def test_a_marketer_names_a_discovered_topic_and_the_next_such_message_is_recognised(
    page, marketer, celery_eager
):
    # given labelled examples of the intents we know, and chat messages of two kinds that
    # no rule and no model recognised
    intents = {intent.key: intent for intent in Intent.objects.all()}
    IntentExample.objects.bulk_create(
        [IntentExample(text=text, intent=intents.get(label)) for text, label in labelled_rows()]
    )
    _arrive(chat_texts("double_charge", 12) + chat_texts("invoice_address", 12) + ONE_OFFS)
    assert set(TouchpointIntent.objects.values_list("method", flat=True)) == {"none"}

    # when she asks for discovery on the topics page
    log_in(page, "maya")
    page.goto("/admin/intents/discoveredtopic/")
    page.click("#discover-topics")  # the worker's job runs inside this request here

    # then two topics are proposed, with their size and trend
    expect(page.locator(".messagelist")).to_contain_text("Discovery is running")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text("Proposed")
    _screens(page, "admin-topics")

    # and the home page shows them as new this week
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto("/home/")
    expect(page.locator("#home-topics tbody tr")).to_have_count(2)
    page.locator("#home-topics").scroll_into_view_if_needed()
    _screens(page, "home-topics")

    # when she opens the invoice topic, reads it and names it, asking for a new version
    topic = next(t for t in DiscoveredTopic.objects.all() if {"invoice", "address"} & set(t.words))
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"/admin/intents/discoveredtopic/{topic.pk}/change/")
    expect(page.locator("#topic-texts li")).to_have_count(8)
    expect(page.locator("#topic-contacts tbody tr")).to_have_count(3)
    _screens(page, "admin-topic")
    page.set_viewport_size({"width": 1400, "height": 900})
    page.fill("#id_name", "Invoice address")
    page.check("#id_retrain")
    page.click("#name-topic-submit", timeout=120_000)  # the training runs inside this request here

    # then the intent exists with those texts as its examples, and the new version is shown
    expect(page.locator(".messagelist")).to_contain_text("the new intent “Invoice address”")
    expect(page.locator("#evaluation")).to_be_visible(timeout=60_000)
    intent = Intent.objects.get(key="invoice_address")
    examples = IntentExample.objects.filter(intent=intent)
    assert examples.count() == DiscoveredTopic.objects.get(pk=topic.pk).size >= 10
    assert set(examples.values_list("labelled_by", flat=True)) == {"maya"}

    # when she activates it and the next such message arrives
    page.click("#activate-model")
    expect(page.locator(".messagelist")).to_contain_text("now recognises new touchpoints")
    assert IntentModel.objects.get(is_active=True).status == "ready"
    (message,) = _arrive(["please change the address on our invoices to the new office"], hours_ago=0)

    # then it is recognised as the new intent, by the model
    recognition = TouchpointIntent.objects.get(touchpoint=message)
    assert (recognition.intent, recognition.method) == (intent, "model")

    # and the topic page says what became of it
    page.goto(f"/admin/intents/discoveredtopic/{topic.pk}/change/")
    expect(page.locator("#topic-status")).to_contain_text("Named: it is the intent Invoice address")
