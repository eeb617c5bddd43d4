"""A kind of trigger is one module: registered, it is checked, described, fired by the event
it listens to, backtested and offered, with no other change anywhere."""

import importlib
import sys
import textwrap
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.engine.backtest import backtest
from campaigns.models import Enrollment
from campaigns.services import CampaignError, campaign_create
from campaigns.triggers import trigger_describe, trigger_kind, trigger_kind_choices, trigger_kind_unregister
from contacts import services as contact_services
from tests.campaigns.conftest import published
from tests.factories import ContactFactory

MODULE = '''
from campaigns.steps.base import Field
from campaigns.triggers import trigger_kind_register
from campaigns.triggers.base import TriggerKind


@trigger_kind_register
class CityChanged(TriggerKind):
    """A contact moved to a city (a throwaway kind of the tests)."""

    kind = "moved_to"
    label = "A contact moved to a city"
    listens = "contacts_changed"
    fields = (Field("value", "text", label="the city", required=True),)

    def build(self, trigger, data, path, known):
        trigger.field, trigger.value = "city", data.get("value")
        return [] if trigger.value else [(f"{path}.value", "name the city")]

    def describe(self, trigger):
        return f"moved to {trigger.value}"

    def fire(self, triggers, *, now, contact_ids, fields, **event):
        from campaigns.enrollment import enroll
        from contacts.models import Contact

        created = []
        for trigger in triggers:
            if "city" in fields:
                moved = Contact.objects.filter(pk__in=contact_ids, city=trigger.value)
                ids = list(moved.values_list("pk", flat=True))
                context = {"trigger": trigger.pk}
                created += enroll(campaign=trigger.campaign, contact_ids=ids, now=now, context=context)
        return created

    def backtest(self, trigger, since, until):
        return (
            "SELECT contact_id, count(*) FROM ledger_action WHERE verb = 'contact.updated'"
            " AND details -> 'changes' -> 'city' ->> 1 = %s AND occurred_at > %s AND occurred_at <= %s"
            " GROUP BY contact_id",
            [trigger.value, since, until],
        )
'''


@pytest.fixture
def moved_to(tmp_path, monkeypatch):
    (tmp_path / "moved_to_trigger.py").write_text(textwrap.dedent(MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("moved_to_trigger")
    yield trigger_kind("moved_to")
    trigger_kind_unregister("moved_to")
    sys.modules.pop("moved_to_trigger", None)


def test_a_registered_kind_of_trigger_is_checked_fired_and_backtested(moved_to, as_marketer, clock):
    # given the kind registered by its module alone
    assert ("moved_to", "A contact moved to a city") in trigger_kind_choices()
    with pytest.raises(CampaignError) as refused:
        campaign_create(name="Bad", triggers=[{"kind": "moved_to"}])
    assert ("triggers[0].value", "name the city") in refused.value.errors

    campaign = published(
        name="Welcome to Lyon", steps=[{"key": "tag", "type": "add_tag", "tags": ["lyonnais"]}],
        triggers=[{"kind": "moved_to", "value": "Lyon"}],
    )  # fmt: skip
    assert trigger_describe(campaign.triggers.get()) == "moved to Lyon"

    # when contacts move, through the contacts' own services and their announcement
    mover, stayer = ContactFactory(city="Paris"), ContactFactory(city="Paris")
    contact_services.contact_update(contact=mover, data={"city": "Lyon"})
    contact_services.contact_update(contact=stayer, data={"city": "Nice"})
    contact_services.contacts_changed_announce(contact_ids=[mover.pk, stayer.pk], fields=["city"])

    # then the one who moved there enters, and history says the same
    assert list(Enrollment.objects.filter(campaign=campaign).values_list("contact_id", flat=True)) == [
        mover.pk
    ]
    clock.shift(timedelta(minutes=1))
    result = backtest(campaign=campaign, days=1, now=timezone.now())
    assert (result["triggers"][0]["description"], result["contacts"]) == ("moved to Lyon", 1)
