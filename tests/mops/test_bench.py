import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from contacts.models import Account, Contact


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
            "unknown benchmark 'nope'; known: admin_contacts, import_contacts, import_touchpoints, ingest_api"
        ),
    ):
        call_command("bench", "nope")
