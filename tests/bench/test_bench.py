import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from contacts.models import Account, Contact, Touchpoint
from segments.models import Segment


def test_bench_prints_one_json_line_per_case_against_a_baseline_and_leaves_nothing(db, capsys):
    call_command("bench", "admin_contacts", "--scale", "300")

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["bench"] for line in lines] == [
        "admin_contacts.list",
        "admin_contacts.filter",
        "admin_contacts.search",
    ]
    for line in lines:
        assert line["n"] == 300
        assert line["seconds"] > 0 and line["baseline_seconds"] > 0
        assert line["ratio"] == pytest.approx(line["seconds"] / line["baseline_seconds"], rel=0.01)
        assert line["peak_rss_mb"] > 0
        assert {"per_second", "baseline"} <= set(line)
    assert not Contact.objects.exists()
    assert not Account.objects.exists()


def test_bench_names_the_known_benchmarks_when_asked_for_an_unknown_one(db):
    with pytest.raises(
        CommandError,
        match=(
            "unknown benchmark 'nope'; known: admin_contacts, audience_export, campaign_advance, "
            "campaign_enroll, email_send, import_contacts, import_touchpoints, ingest_api, "
            "intent_discovery, intents, intents_pipeline, journey, report_ratio, segment_incremental, "
            "segment_latency, segment_rebuild, trigger_latency"
        ),
    ):
        call_command("bench", "nope")


@pytest.mark.parametrize("name", ["import_contacts", "import_touchpoints"])
def test_import_benchmarks_measure_rows_per_second_and_leave_nothing(db, capsys, name):
    call_command("bench", name, "--scale", "200")

    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert (line["bench"], line["n"], line["per"], line["created"]) == (name, 200, "row", 200)
    assert line["per_second"] == pytest.approx(200 / line["seconds"], rel=0.01)
    # The floor wrote again at least each row and its ledger action.
    assert line["floor_rows"] >= 2 * 200 and line["floor_seconds"] > 0
    assert line["over_floor"] == pytest.approx(line["seconds"] / line["floor_seconds"], rel=0.01)
    assert not Contact.objects.exists()


@pytest.mark.worker
def test_the_api_benchmark_posts_to_a_real_server_and_cleans_up(transactional_db, capsys):
    from contacts.models import PendingTouchpoint, Touchpoint
    from ledger.models import ApiKey

    call_command("bench", "ingest_api", "--scale", "1000")

    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert (line["created"], line["stored"], line["per"]) == (1000, 1000, "touchpoint")
    assert not Touchpoint.objects.exists()
    assert not PendingTouchpoint.objects.exists()  # no worker ran; nothing is left queued
    assert not Contact.objects.exists()
    assert not ApiKey.objects.exists()


@pytest.mark.worker
def test_the_api_benchmark_cleans_up_also_when_it_fails(transactional_db, monkeypatch):
    from bench import ingest_api
    from contacts.models import Touchpoint
    from ledger.models import Action, ApiKey

    def broken(batches):
        raise RuntimeError("the baseline broke")

    monkeypatch.setattr(ingest_api, "_raw_copy_seconds", broken)

    with pytest.raises(RuntimeError, match="the baseline broke"):
        call_command("bench", "ingest_api", "--scale", "500")

    assert not Touchpoint.objects.exists()
    assert not Contact.objects.exists()
    assert not ApiKey.objects.exists()
    assert not Action.objects.exists()


def test_segment_benchmarks_agree_with_their_baselines_and_leave_nothing(transactional_db, capsys):
    # when
    call_command("bench", "segment_rebuild", "--scale", "300")
    call_command("bench", "segment_incremental", "--scale", "300")

    # then
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["bench"], line.get("tree")) for line in lines] == [
        ("segment_rebuild", "example"),
        ("segment_rebuild", "account_based"),
        ("segment_incremental", None),
    ]
    assert all(line["agrees_with_baseline"] for line in lines[:2])
    assert lines[2]["segments"] == 50
    assert not Contact.objects.exists() and not Segment.objects.exists() and not Touchpoint.objects.exists()


def test_the_report_benchmark_checks_its_figures_against_the_ledger_and_leaves_nothing(db, capsys):
    from ledger.models import Action
    from reporting.models import ActionRollup

    call_command("bench", "report_ratio", "--scale", "20000")

    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert (line["bench"], line["n"], line["per"]) == ("report_ratio", 20000, "report")
    assert 0 < line["actions_in_period"] < 20000
    assert line["seconds"] > 0 and line["baseline_seconds"] > 0
    assert not Action.objects.exists()
    assert not ActionRollup.objects.exists()


def test_the_latency_benchmark_sees_every_contact_enter_through_a_real_worker(transactional_db, capsys):
    # when
    call_command("bench", "segment_latency", "--scale", "40")

    # then
    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines() if text.startswith("{")]
    assert (line["bench"], line["n"], line["entered"]) == ("segment_latency", 40, 40)
    assert 0 < line["median_seconds"] <= line["seconds"] <= line["max_seconds"]
    assert not Contact.objects.exists() and not Segment.objects.exists() and not Touchpoint.objects.exists()


def test_the_email_benchmark_hands_every_e_mail_to_a_real_smtp_server_and_leaves_nothing(db, capsys):
    from messaging.models import EmailTemplate, OutboxMessage

    call_command("bench", "email_send", "--scale", "60")

    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert (line["bench"], line["n"], line["per"], line["sent"], line["received"]) == (
        "email_send", 60, "e-mail", 60, 60,
    )  # fmt: skip
    assert line["seconds"] > 0 and line["baseline_seconds"] > 0
    assert not OutboxMessage.objects.exists() and not EmailTemplate.objects.exists()
    assert not Contact.objects.exists()


@pytest.mark.worker
def test_the_journey_benchmark_runs_every_contact_through_two_workers_and_cleans_up(transactional_db, capsys):
    from campaigns.models import Campaign, Enrollment
    from messaging.models import OutboxMessage

    call_command("bench", "journey", "--scale", "30")

    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines() if text.startswith("{")]
    assert (line["bench"], line["n"], line["steps"], line["statuses"]) == ("journey", 30, 150, {"exited": 30})
    assert (line["messages_sent"], line["mails_written"], line["mails_distinct"]) == (30, 30, 30)
    assert line["baseline_per_second"] > 0
    assert not Contact.objects.exists() and not Campaign.objects.exists()
    assert not Enrollment.objects.exists() and not OutboxMessage.objects.exists()


@pytest.mark.worker
def test_the_trigger_latency_benchmark_sees_every_first_e_mail_and_cleans_up(transactional_db, capsys):
    from campaigns.models import Campaign, Enrollment
    from messaging.models import OutboxMessage

    call_command("bench", "trigger_latency", "--scale", "6")

    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines() if text.startswith("{")]
    assert (line["bench"], line["n"], line["in_outbox"]) == ("trigger_latency", 6, 6)
    assert 0 < line["median_seconds"] <= line["seconds"] <= line["max_seconds"]
    assert not Contact.objects.exists() and not Campaign.objects.exists()
    assert not Enrollment.objects.exists() and not OutboxMessage.objects.exists()
