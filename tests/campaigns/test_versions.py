"""Publishing a new version while contacts are inside: see where they are, move them."""

from datetime import timedelta

import pytest

from campaigns.models import Campaign, Enrollment
from campaigns.services import (
    CampaignError,
    campaign_enroll,
    campaign_publish,
    campaign_update,
    enrollments_migrate,
)
from ledger.models import Action
from tests.campaigns.conftest import published, run_due
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

V1 = [
    {"key": "pause", "type": "wait", "days": 2},
    {"key": "old-wait", "type": "wait", "days": 5},
    {"key": "hello", "type": "add_tag", "tags": ["v1"]},
]
V2 = [
    {"key": "pause", "type": "wait", "days": 2},
    {"key": "hello", "type": "add_tag", "tags": ["v2"]},
]


@pytest.fixture
def two_versions(as_marketer, clock):
    """Two contacts in the first wait and one in the second, then version 2 drops the second."""
    campaign = published(steps=V1)
    early = ContactFactory()
    campaign_enroll(campaign=campaign, contact_ids=[early.pk])
    run_due()
    clock.shift(timedelta(days=2))
    run_due()  # early is now in "old-wait"
    first, second = ContactFactory(), ContactFactory()
    campaign_enroll(campaign=campaign, contact_ids=[first.pk, second.pk])
    run_due()
    campaign_update(campaign=campaign, data={"steps": V2})
    campaign_publish(campaign=campaign)
    campaign.refresh_from_db()
    return campaign, early, [first, second]


def test_placement_shows_who_is_where_and_who_could_move(two_versions):
    from campaigns.selectors import campaign_placement

    campaign, _, _ = two_versions

    assert campaign_placement(campaign=campaign) == {
        "version": 2,
        "inside": [
            {
                "version": 1,
                "step": "old-wait",
                "contacts": 1,
                "on_published": False,
                "step_in_published": False,
            },
            {"version": 1, "step": "pause", "contacts": 2, "on_published": False, "step_in_published": True},
        ],
        "movable": 2,
        "would_stay": 1,
    }


def test_moving_takes_contacts_to_the_same_step_of_the_new_version(two_versions, clock):
    campaign, early, moved = two_versions

    result = enrollments_migrate(campaign=campaign)

    assert (result["moved"], [row["step"] for row in result["stayed"]]) == (2, ["old-wait"])
    versions = dict(Enrollment.objects.values_list("contact_id", "version__number"))
    assert versions == {early.pk: 1, moved[0].pk: 2, moved[1].pk: 2}
    action = Action.objects.get(verb="campaign.contacts_moved")
    assert (action.actor_kind, action.details["moved"]) == ("manual", 2)

    # their wait goes on as it was, then they follow the new version's steps
    clock.shift(timedelta(days=5))
    run_due()
    assert [list(contact.tags.values_list("name", flat=True)) for contact in moved] == [["v2"], ["v2"]]
    assert list(early.tags.values_list("name", flat=True)) == ["v1"]


def test_moving_only_some_versions_and_not_before_publishing(as_marketer, two_versions):
    campaign, _, _ = two_versions
    assert enrollments_migrate(campaign=campaign, from_versions=[7])["moved"] == 0

    with pytest.raises(CampaignError, match="publish the campaign"):
        enrollments_migrate(campaign=Campaign.objects.create(name="Never published", steps=V2))


def test_the_api_publishes_shows_and_moves(writer, as_marketer, two_versions):
    campaign, _, _ = two_versions
    url = f"/api/v1/campaigns/{campaign.pk}"
    writer.patch(f"{url}/", {"steps": [*V2, {"key": "bye", "type": "exit"}]}, format="json")

    published_ = writer.post(f"{url}/publish/", {}, format="json").json()
    placement = writer.get(f"{url}/placement/").json()
    moved = writer.post(f"{url}/migrate/", {"from_versions": [1]}, format="json").json()

    assert (published_["version"], published_["inside"]["movable"]) == (3, 2)
    assert placement == published_["inside"]
    assert (moved["version"], moved["moved"], moved["stayed"][0]["step"]) == (3, 2, "old-wait")
    bad = writer.post(f"{url}/migrate/", {"from_versions": ["x"]}, format="json")
    assert bad.status_code == 400
