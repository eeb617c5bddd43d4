"""Conversion to the goal: of the enrollments in the campaign and of those that came to each
step, how many are of a contact the goal holds for now."""

import pytest

from campaigns.models import StepRun
from campaigns.selectors import campaign_stats
from campaigns.services import campaign_enroll
from contacts.services import contact_tags_add
from tests.campaigns.conftest import published, run_due
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

STEPS = [
    {"key": "french", "type": "branch", "conditions": {"field": "country", "op": "eq", "value": "FR"},
     "yes": "welcome", "no": "pause"},
    {"key": "welcome", "type": "add_tag", "tags": ["welcomed"]},
    {"key": "pause", "type": "wait", "days": 3},
]  # fmt: skip


def test_the_goal_counts_contacts_once_per_step_and_for_the_whole_campaign(as_marketer, clock):
    # given three contacts in a journey whose goal is the "customer" tag
    campaign = published(steps=STEPS, goal={"tag": "customer"})
    lea, max_, ana = (ContactFactory(country=country) for country in ("FR", "FR", "DE"))
    campaign_enroll(campaign=campaign, contact_ids=[lea.pk, max_.pk, ana.pk])
    run_due()

    # when one French contact and the German one become customers
    contact_tags_add(contact=lea, names=["customer"])
    contact_tags_add(contact=ana, names=["customer"])

    # and Léa comes to the welcome step a second time (a loop would bring her back)
    first = StepRun.objects.get(step_key="welcome", enrollment__contact=lea)
    StepRun.objects.create(enrollment=first.enrollment, campaign=campaign, step_key="welcome", visit=2)

    # then each enrollment counts once per step, however often it came
    stats = campaign_stats(campaign=campaign)
    assert stats["goal"] == {"entered": 3, "reached": 2}
    rows = {row["key"]: (row["came"], row["goal"]) for row in stats["steps"]}
    assert rows == {"french": (3, 2), "welcome": (2, 1), "pause": (3, 2)}
    assert {row["key"]: row["entered"] for row in stats["steps"]}["welcome"] == 3  # the runs, as before


def test_without_a_goal_there_is_no_conversion(as_marketer, clock):
    campaign = published(steps=STEPS)

    stats = campaign_stats(campaign=campaign)

    assert stats["goal"] is None and "goal" not in stats["steps"][0]
