"""Failed enrollments retried by people (admin, API), and transient step errors tried again
by the engine itself with a growing delay."""

from datetime import timedelta

import pytest

from campaigns.engine.advance import MAX_ATTEMPTS, retry_delay
from campaigns.engine.errors import TransientStepError
from campaigns.models import Enrollment, StepRun
from campaigns.services import campaign_enroll, enrollments_retry
from campaigns.steps import step_type_register, step_type_unregister
from campaigns.steps.base import Outcome, StepType
from ledger.models import Action
from tests.campaigns.conftest import NOW, published, run_due
from tests.factories import ContactFactory

BAD_ZONE = {"key": "zone", "type": "set_field", "field": "timezone", "value": "Mars/Olympus"}


@pytest.fixture
def flaky():
    """A step type whose provider fails a given number of times before it answers: types
    slot into the engine through the step types' registry."""
    failures = {"left": 0}

    @step_type_register
    class Flaky(StepType):
        type = "flaky"
        label = "Call a flaky provider"

        def run(self, step, run):
            if failures["left"]:
                failures["left"] -= 1
                raise TransientStepError("the provider timed out")
            return Outcome(next=run.following(step), detail={"called": True})

    yield failures
    step_type_unregister("flaky")


def _enrolled(campaign, contact) -> Enrollment:
    assert campaign_enroll(campaign=campaign, contact_ids=[contact.pk])["enrolled"] == [contact.pk]
    return Enrollment.objects.get(campaign=campaign, contact=contact)


def test_a_transient_error_keeps_the_enrollment_at_its_step_and_tries_again_later(as_marketer, clock, flaky):
    # given a step whose provider fails twice
    flaky["left"] = 2
    campaign = published(
        steps=[{"key": "call", "type": "flaky"}, {"key": "tag", "type": "add_tag", "tags": ["x"]}]
    )
    enrollment = _enrolled(campaign, ContactFactory())

    # when it runs
    run_due()

    # then it waits at the step, its run not recorded, due again after the first delay
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.step_key, enrollment.attempts) == ("active", "call", 1)
    assert enrollment.next_run_at == NOW + retry_delay(1) == NOW + timedelta(seconds=30)
    assert "the provider timed out" in enrollment.error
    assert not StepRun.objects.filter(enrollment=enrollment).exists()

    # nothing happens before it is due; each failure doubles the delay
    clock.shift(retry_delay(1) - timedelta(seconds=1))
    assert run_due() == 0
    clock.shift(timedelta(seconds=1))
    run_due()
    enrollment.refresh_from_db()
    assert enrollment.attempts == 2
    assert enrollment.next_run_at == NOW + retry_delay(1) + retry_delay(2)
    assert retry_delay(2) == 2 * retry_delay(1)

    # and once the provider answers, the journey goes on with the step run once
    clock.shift(retry_delay(2))
    run_due()
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.attempts, enrollment.error) == ("completed", 0, "")
    assert list(StepRun.objects.filter(enrollment=enrollment).values_list("step_key", "outcome")) == [
        ("call", "done"), ("tag", "done"),
    ]  # fmt: skip


def test_a_step_that_keeps_failing_fails_the_enrollment_after_its_attempts(as_marketer, clock, flaky):
    flaky["left"] = MAX_ATTEMPTS
    campaign = published(steps=[{"key": "call", "type": "flaky"}])
    enrollment = _enrolled(campaign, ContactFactory())

    for attempt in range(1, MAX_ATTEMPTS + 1):
        run_due()
        clock.shift(retry_delay(attempt))

    enrollment.refresh_from_db()
    assert enrollment.status == "failed"
    assert enrollment.error == f"call (flaky): the provider timed out (after {MAX_ATTEMPTS} attempts)"
    assert StepRun.objects.get(enrollment=enrollment).outcome == "failed"


def test_one_contacts_failure_fails_only_its_enrollment_in_a_batch(as_marketer, clock):
    # given a batch in which one contact cannot take the step (its score would overflow)
    campaign = published(steps=[{"key": "score", "type": "adjust_score", "by": 1}])
    fine = ContactFactory.create_batch(3)
    overflowing = ContactFactory(score=2**31 - 1)
    campaign_enroll(campaign=campaign, contact_ids=[c.pk for c in [*fine, overflowing]])

    run_due()

    statuses = dict(Enrollment.objects.values_list("contact_id", "status"))
    assert statuses == {**{c.pk: "completed" for c in fine}, overflowing.pk: "failed"}
    assert Action.objects.filter(verb="contact.updated", details__changes__score=[0, 1]).count() == 3


def test_a_failed_enrollment_retried_runs_the_failed_step_again_and_goes_on(as_marketer, clock):
    # given an enrollment failed at a step, which is then fixed in its data
    campaign = published(
        steps=[{"key": "score", "type": "adjust_score", "by": 1}, {"key": "end", "type": "exit"}]
    )
    contact = ContactFactory(score=2**31 - 1)
    enrollment = _enrolled(campaign, contact)
    run_due()
    enrollment.refresh_from_db()
    assert enrollment.status == "failed"
    contact.score = 0
    contact.save()

    # when it is retried
    result = enrollments_retry(enrollment_ids=[enrollment.pk, 999_999])
    run_due()

    # then it ran the step again, once, and finished
    assert result == {"retried": [enrollment.pk], "not_retried": [999_999]}
    enrollment.refresh_from_db()
    contact.refresh_from_db()
    assert (enrollment.status, enrollment.error, contact.score) == ("exited", "", 1)
    assert list(StepRun.objects.filter(enrollment=enrollment).values_list("step_key", "outcome")) == [
        ("score", "done"), ("end", "done"),
    ]  # fmt: skip
    retried = Action.objects.get(verb="campaign.retried")
    assert (retried.actor_kind, retried.contact_id) == ("manual", contact.pk)


def test_an_enrollment_whose_contact_is_back_in_the_campaign_is_not_retried(as_marketer, clock):
    campaign = published(steps=[BAD_ZONE], reentry="always")
    contact = ContactFactory()
    first = _enrolled(campaign, contact)
    run_due()
    assert campaign_enroll(campaign=campaign, contact_ids=[contact.pk])["enrolled"] == [contact.pk]  # live

    assert enrollments_retry(enrollment_ids=[first.pk]) == {"retried": [], "not_retried": [first.pk]}


def test_the_api_retries_a_campaigns_failed_enrollments(writer, as_marketer, clock):
    campaign = published(steps=[BAD_ZONE])
    failed = _enrolled(campaign, ContactFactory())
    run_due()

    response = writer.post(f"/api/v1/campaigns/{campaign.pk}/retry/", {}, format="json")

    assert response.status_code == 200
    assert response.json() == {"retried": [failed.pk], "not_retried": []}
    failed.refresh_from_db()
    assert (failed.status, failed.next_run_at) == ("active", NOW)


def test_the_api_says_which_enrollments_were_not_retried(writer, as_marketer, clock):
    campaign = published(steps=[BAD_ZONE])
    failed = _enrolled(campaign, ContactFactory())

    response = writer.post(
        f"/api/v1/campaigns/{campaign.pk}/retry/", {"enrollment_ids": [failed.pk]}, format="json"
    )

    assert response.json() == {"retried": [], "not_retried": [failed.pk]}  # not failed (yet)


def test_the_admin_action_retries_the_selected_enrollments(client, marketer, as_marketer, clock):
    campaign = published(steps=[BAD_ZONE])
    failed = _enrolled(campaign, ContactFactory())
    run_due()
    client.force_login(marketer)

    response = client.post(
        "/admin/campaigns/enrollment/", {"action": "retry", "_selected_action": [failed.pk]}, follow=True
    )

    assert "1 enrollments start again" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == "active"
    assert Action.objects.get(verb="campaign.retried").actor_name == "maya"
