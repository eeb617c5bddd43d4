"""A contact's score and intents over time, rebuilt from the ledger, and its campaigns."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from contacts.services import contact_update
from intents import services as intents
from intents.models import BehaviourRule, Intent
from intents.selectors import intent_signal_list
from reporting.history import Point, contact_intent_history, contact_score_history, history_chart
from tests.factories import ContactFactory, TouchpointFactory

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def pricing(db):
    compare = Intent.objects.get(key="compare")
    compare.half_life_hours = 24
    compare.save()
    BehaviourRule.objects.create(
        name="Pricing pages",
        intent=compare,
        kind_id="page_view",
        conditions=[{"property": "path", "operator": "starts_with", "value": "/pricing"}],
        confidence=0.8,
    )
    BehaviourRule.objects.create(
        name="Help pages",
        intent=Intent.objects.get(key="support"),
        kind_id="page_view",
        conditions=[{"property": "path", "operator": "starts_with", "value": "/help"}],
        confidence=0.5,
    )
    return compare


def visit(contact, path, at):
    with time_machine.travel(at, tick=False):
        touchpoint = TouchpointFactory(contact=contact, kind_id="page_view", properties={"path": path})
        intents.touchpoints_recognise(touchpoint_ids=[touchpoint.pk])


def value_at(series, at):
    return [point.value for point in series.points if point.at == at]


def test_the_intent_curve_rises_with_each_sign_fades_and_ends_at_the_stored_signal(as_robot, pricing):
    contact = ContactFactory()
    visit(contact, "/pricing", T0)
    visit(contact, "/pricing/faq", T0 + timedelta(hours=24))
    visit(contact, "/help/login", T0 + timedelta(hours=30))
    now = T0 + timedelta(hours=72)

    history = contact_intent_history(contact_id=contact.pk, now=now)

    # ranked by strength now: support fades slower than compare's one-day half-life
    assert [series.name for series in history] == ["Support", "Compare"]
    support, compare = history
    # 0 before the first sign, 0.8 after it; a day later half is left, and the second sign
    # combines with it: 1 - (1 - 0.4) * (1 - 0.8)
    assert value_at(compare, T0) == pytest.approx([0.0, 0.8])
    assert value_at(compare, T0 + timedelta(hours=24)) == pytest.approx([0.4, 0.88])
    between = [p.value for p in compare.points if T0 < p.at < T0 + timedelta(hours=24)]
    assert between == sorted(between, reverse=True) and 0.4 < min(between) < max(between) < 0.8
    # the curves end where the stored signals stand now
    stored = {s.intent.name: s.current_score for s in intent_signal_list(contact_id=contact.pk, at=now)}
    assert compare.points[-1].at == now
    assert compare.points[-1].value == pytest.approx(stored["Compare"])
    assert support.points[-1].value == pytest.approx(stored["Support"])


def test_the_score_history_is_each_change_the_ledger_holds(as_robot, db):
    with time_machine.travel(T0, tick=False):
        contact = ContactFactory(score=5)
    for hours, score in ((1, 20), (5, 45), (9, 30)):
        with time_machine.travel(T0 + timedelta(hours=hours), tick=False):
            contact_update(contact=contact, data={"score": score})
    with time_machine.travel(T0 + timedelta(hours=10), tick=False):
        contact_update(contact=contact, data={"job_title": "CMO"})  # not a score change
    now = T0 + timedelta(days=2)

    series = contact_score_history(contact=contact, now=now)

    assert [(p.at, p.value) for p in series.points] == [
        (T0, 5),
        (T0 + timedelta(hours=1), 20),
        (T0 + timedelta(hours=5), 45),
        (T0 + timedelta(hours=9), 30),
        (now, 30),
    ]


def test_the_chart_starts_at_the_window_with_the_value_then(as_robot, db):
    with time_machine.travel(T0, tick=False):
        contact = ContactFactory(score=0)
        contact_update(contact=contact, data={"score": 10})
    with time_machine.travel(T0 + timedelta(days=40), tick=False):
        contact_update(contact=contact, data={"score": 25})
    now = T0 + timedelta(days=50)
    series = contact_score_history(contact=contact, now=now)

    chart = history_chart([series], since=T0 + timedelta(days=30))

    points = chart["datasets"][0]["points"]
    assert [(p["x"], p["y"]) for p in points] == [
        (int((T0 + timedelta(days=30)).timestamp() * 1000), 10),
        (int((T0 + timedelta(days=40)).timestamp() * 1000), 25),
        (int(now.timestamp() * 1000), 25),
    ]


def test_a_busy_contact_draws_a_bounded_number_of_points(as_robot, pricing):
    contact = ContactFactory()
    for n in range(30):
        visit(contact, f"/pricing/{n}", T0 + timedelta(hours=n * 30))
    now = T0 + timedelta(days=40)
    series = contact_intent_history(contact_id=contact.pk, now=now)[0]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("reporting.history.MAX_POINTS", 50)
        points = history_chart([series])["datasets"][0]["points"]

    assert 25 <= len(points) <= 50
    assert points[-1]["x"] == int(now.timestamp() * 1000)  # today's value is always drawn


def test_the_contact_page_draws_both_histories_and_lists_campaigns(as_robot, pricing, viewer):
    from campaigns.services import campaign_create, campaign_enroll, campaign_publish

    contact = ContactFactory(first_name="Ada")
    visit(contact, "/pricing", T0)
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        contact_update(contact=contact, data={"score": 40})
        campaign = campaign_create(
            name="Welcome <b>series</b>",
            steps=[
                {"key": "pause", "type": "wait", "days": 3, "label": "Give them three days"},
                {"key": "done", "type": "exit"},
            ],
        )
        campaign_publish(campaign=campaign)
        campaign_enroll(campaign=campaign, contact_ids=[contact.pk])

        client = Client()
        client.force_login(viewer)
        page = client.get(f"/contacts/{contact.pk}/").content.decode()

    assert 'id="score-history-chart"' in page and 'id="intent-history-chart"' in page
    intent_data = page.split('id="intent-history" type="application/json">', 1)[1].split("</script>", 1)[0]
    assert [d["label"] for d in json.loads(intent_data)["datasets"]] == ["Compare"]
    enrollments = page.split('id="contact-enrollments"', 1)[1].split("</section>", 1)[0]
    assert "Welcome &lt;b&gt;series&lt;/b&gt;" in enrollments  # a name is text, never markup
    assert "v1" in enrollments and "Give them three days" in enrollments


def test_a_contact_with_no_history_says_so(viewer, db):
    contact = ContactFactory()
    client = Client()
    client.force_login(viewer)
    page = client.get(f"/contacts/{contact.pk}/").content.decode()

    assert "The score has not changed yet." in page
    assert "No intent shown yet." in page
    assert "Not in any campaign yet." in page


def test_a_change_dated_before_the_contact_existed_still_starts_the_line(as_robot, db):
    # an import may carry history older than the row that holds it
    with time_machine.travel(T0 + timedelta(days=5), tick=False):
        contact = ContactFactory(score=0)
    with time_machine.travel(T0, tick=False):
        contact_update(contact=contact, data={"score": 12})

    series = contact_score_history(contact=contact, now=T0 + timedelta(days=6))

    assert [p.at for p in series.points] == sorted(p.at for p in series.points)
    assert series.points[0] == Point(T0, 0)
