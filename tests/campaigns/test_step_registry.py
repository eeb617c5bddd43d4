"""A step type is one module: registered, it is validated, run by the engine (one contact
and a batch), offered and checked by the admin's form, drawn, and simulated, with no other
change anywhere."""

import importlib
import json
import sys
import textwrap

import pytest
from django.test import Client

from campaigns.models import Campaign, Enrollment, StepRun
from campaigns.services import CampaignError, campaign_create, campaign_enroll, campaign_simulate
from campaigns.steps import step_type, step_type_unregister, step_types
from contacts.models import Contact
from tests.campaigns.conftest import published, run_due
from tests.campaigns.test_admin import form
from tests.factories import ContactFactory

MODULE = '''
from campaigns.steps import step_type_register
from campaigns.steps.base import Field, Outcome, StepType, would
from campaigns.steps.sending import contact_of
from contacts.services import contact_update


@step_type_register
class SetCity(StepType):
    """Moves the contact to a city (a throwaway type of the tests)."""

    type = "set_city"
    label = "Move to a city"
    fields = (Field("city", "text", label="City", required=True),)

    def defaults(self, options):
        return {"city": "Lyon"}

    def check(self, step, path, known):
        return [] if str(step["city"]).strip() else [(f"{path}.city", "name the city")]

    def describe(self, step, names):
        return f"to {step['city']}"

    def run(self, step, run):
        if run.dry:
            return would(step, run, city=step["city"])
        changes = contact_update(contact=contact_of(run), data={"city": step["city"]})
        return Outcome(next=run.following(step), detail={"changes": changes})
'''


@pytest.fixture
def set_city(tmp_path, monkeypatch):
    """The module, written and imported as a deployment would bring it."""
    (tmp_path / "set_city_step.py").write_text(textwrap.dedent(MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("set_city_step")
    yield step_type("set_city")
    step_type_unregister("set_city")
    sys.modules.pop("set_city_step", None)


STEPS = [
    {"key": "move", "type": "set_city", "city": "Nantes"},
    {"key": "tag", "type": "add_tag", "tags": ["moved"]},
]


def test_a_registered_step_type_is_checked_run_offered_drawn_and_simulated(
    set_city, marketer, as_marketer, clock
):
    # given the type registered by its module alone
    assert "set_city" in step_types()

    # validation reads its schema and its own check
    with pytest.raises(CampaignError) as refused:
        campaign_create(name="Bad", steps=[{"key": "move", "type": "set_city"}])
    assert ("steps[0].city", "required") in refused.value.errors
    with pytest.raises(CampaignError) as refused:
        campaign_create(name="Bad", steps=[{"key": "move", "type": "set_city", "city": " "}])
    assert ("steps[0].city", "name the city") in refused.value.errors

    # the engine runs it for one contact and for a batch
    campaign = published(name="Movers", steps=STEPS)
    people = ContactFactory.create_batch(3, city="Paris")
    campaign_enroll(campaign=campaign, contact_ids=[p.pk for p in people])
    run_due()
    assert set(Contact.objects.filter(pk__in=[p.pk for p in people]).values_list("city", flat=True)) == {
        "Nantes"
    }
    assert StepRun.objects.filter(campaign=campaign, step_key="move", outcome="done").count() == 3
    assert set(Enrollment.objects.filter(campaign=campaign).values_list("status", flat=True)) == {"completed"}

    # the admin offers it to the step editor, checks it in the form and draws it
    client = Client()
    client.force_login(marketer)
    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").content.decode()
    options = json.loads(
        page.split('<script id="step-options" type="application/json">')[1].split("</script>")[0]
    )
    assert ["set_city", "Move to a city"] in options["types"]
    assert options["schemas"]["set_city"]["fields"][0]["widget"] == "text"
    assert options["schemas"]["set_city"]["defaults"] == {"city": "Lyon"}
    assert "to Nantes" in page  # its line on the drawing
    bad = client.post(
        "/admin/campaigns/campaign/add/",
        form(name="Bad", steps=json.dumps([{"key": "m", "type": "set_city"}])),
    )
    assert "steps[0].city: required" in bad.content.decode()
    assert (
        client.post("/admin/campaigns/campaign/add/", form(name="Good", steps=json.dumps(STEPS))).status_code
        == 302
    )

    # and the simulation runs it dry
    someone = ContactFactory(city="Paris")
    result = campaign_simulate(
        campaign=Campaign.objects.get(name="Good"), contact_ids=[someone.pk], draft=True
    )
    (path,) = result["paths"]
    assert path["steps"][0]["detail"] == {"would_change": {"city": "Nantes"}}
    assert Contact.objects.get(pk=someone.pk).city == "Paris"
