from playwright.sync_api import expect

from intents.models import Intent, IntentExample, IntentModel
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import TouchpointFactory
from tests.intents.data import labelled_rows


def test_a_marketer_labels_a_touchpoint_trains_a_model_and_reads_its_evaluation(page, marketer, celery_eager):
    # given labelled examples and a chat message nobody labelled yet
    intents = {intent.key: intent for intent in Intent.objects.all()}
    IntentExample.objects.bulk_create(
        [IntentExample(text=text, intent=intents.get(label)) for text, label in labelled_rows()]
    )
    touchpoint = TouchpointFactory(kind_id="chat_message", text="We will not renew, please close our account")

    # when she opens the touchpoint and labels it
    log_in(page, "maya")
    page.goto(f"/admin/contacts/touchpoint/{touchpoint.pk}/change/")
    page.click("#label-touchpoint")
    page.select_option("#id_intent", label="Churn risk")
    page.click("input[name=_save]")

    # then the label is kept with her name
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    example = IntentExample.objects.get(touchpoint=touchpoint)
    assert (example.intent.key, example.labelled_by) == ("churn_risk", "maya")

    # when she trains a new version from the model page
    page.goto("/admin/intents/intentmodel/")
    page.click("#train-model", timeout=120_000)  # the job runs inside this request here

    # then the version's evaluation on held-out examples is shown
    expect(page.locator("#evaluation")).to_be_visible(timeout=60_000)
    expect(page.locator("#eval-accuracy")).to_contain_text("%")
    expect(page.locator("#evaluation")).to_contain_text("churn_risk")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "admin-intent-model.png", full_page=True)

    # and she activates it
    page.click("#activate-model")
    expect(page.locator(".messagelist")).to_contain_text("now recognises new touchpoints")
    assert IntentModel.objects.get().is_active


def test_the_touchpoint_page_says_which_rule_recognised_its_intent(page, marketer):
    # given a behaviour rule and a visit of the pricing page, recognised as a worker would
    from intents.models import BehaviourRule, ScoringRule
    from intents.scoring import lead_scores_update
    from intents.services import touchpoints_recognise
    from ledger.context import Actor, acting_as

    BehaviourRule.objects.create(
        name="Pricing pages",
        intent=Intent.objects.get(key="compare"),
        kind_id="page_view",
        conditions=[{"property": "path", "operator": "starts_with", "value": "/pricing"}],
    )
    ScoringRule.objects.create(
        name="Pricing visit",
        kind="engagement",
        conditions=[{"property": "path", "operator": "starts_with", "value": "/pricing"}],
        points=25,
    )
    touchpoint = TouchpointFactory(kind_id="page_view", properties={"path": "/pricing/teams"})
    with acting_as(Actor.for_task("tests.worker")):
        touchpoints_recognise(touchpoint_ids=[touchpoint.pk])
        lead_scores_update(touchpoint_ids=[touchpoint.pk])

    # when she opens the touchpoint
    log_in(page, "maya")
    page.goto(f"/admin/contacts/touchpoint/{touchpoint.pk}/change/")

    # then she reads why it shows compare
    expect(page.locator("#recognition")).to_contain_text("behaviour rule “Pricing pages”: kind is page_view")
    expect(page.locator("#recognition")).to_contain_text("path starts with '/pricing'")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "admin-touchpoint-recognition.png", full_page=True)

    # and on the contact's page, how its score is built and the intent it shows, decayed to now
    page.goto(f"/admin/contacts/contact/{touchpoint.contact_id}/change/")
    expect(page.locator("#score-explained")).to_contain_text("Pricing visit")
    expect(page.locator("#score-explained tfoot")).to_contain_text("25")
    signals = page.locator("#intent_signals-group")
    expect(signals).to_contain_text("Compare")
    expect(signals).to_contain_text("0.80")
    signals.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "admin-contact-intents.png", full_page=True)
