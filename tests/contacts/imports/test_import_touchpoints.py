import csv
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from contacts.models import Contact, ImportJob, Touchpoint
from ledger.models import Action
from tests.factories import ContactFactory, TouchpointFactory

HEADER = "email,kind,channel,occurred_at,source,text,external_id,properties\n"


def run(path, *args):
    out = StringIO()
    call_command("import_touchpoints", str(path), *args, stdout=out)
    return out.getvalue().splitlines()


def write(tmp_path, text, name="touchpoints.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def rejects_of(path):
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_touchpoints_are_stored_on_known_and_new_contacts_with_the_kinds_channel(db, tmp_path):
    # given
    jane = ContactFactory(email="jane@acme.com")
    path = write(
        tmp_path,
        HEADER
        + 'JANE@acme.com,page_view,,2026-01-05T10:00:00Z,site,,,"{""path"": ""/pricing""}"\n'
        + 'new@acme.com,webinar_registration,,2026-01-05T11:00:00+01:00,,"Looking forward\nto it",w-1,\n',
    )

    # when
    lines = run(path)

    # then
    assert lines[-1] == "created 2, duplicate 0, rejected 0"
    view = Touchpoint.objects.get(contact=jane)
    assert (view.kind_id, view.channel, view.properties) == ("page_view", "web", {"path": "/pricing"})
    assert view.occurred_at == datetime(2026, 1, 5, 10, tzinfo=UTC)
    registration = Touchpoint.objects.get(contact__email="new@acme.com")
    assert (registration.channel, registration.text) == ("events", "Looking forward\nto it")
    assert Action.objects.filter(verb="touchpoint.imported", actor_kind="manual").count() == 2
    made = Action.objects.filter(verb="contact.created_with_touchpoint", contact_id=registration.contact_id)
    assert made.exists()


def test_an_unknown_kind_is_rejected_with_the_known_ones(db, tmp_path):
    # given
    path = write(tmp_path, HEADER + "jane@acme.com,wbinar,,2026-01-05T10:00:00Z,,,,\n")
    rejects = tmp_path / "rejects.csv"

    # when
    lines = run(path, "--rejects", str(rejects))

    # then
    assert lines[-1] == "created 0, duplicate 0, rejected 1"
    reason = rejects_of(rejects)[0]["reason"]
    assert reason.startswith("kind: 'wbinar' is not a known touchpoint kind (known: ad_click, call,")
    assert "more)" in reason
    assert not Contact.objects.exists()


def test_a_known_external_id_is_a_duplicate_not_an_error(db, tmp_path):
    # given
    TouchpointFactory(external_id="evt-1")
    path = write(
        tmp_path,
        HEADER
        + "jane@acme.com,page_view,,2026-01-05T10:00:00Z,,,evt-1,\n"
        + "jane@acme.com,page_view,,2026-01-05T10:00:00Z,,,evt-2,\n"
        + "jane@acme.com,page_view,,2026-01-05T10:01:00Z,,,evt-2,\n",
    )

    # when
    lines = run(path)

    # then
    assert lines[-1] == "created 1, duplicate 2, rejected 0"
    assert Touchpoint.objects.filter(external_id="evt-2").count() == 1


def test_a_bad_occurred_at_is_rejected_with_its_line(db, tmp_path):
    # given
    path = write(
        tmp_path,
        HEADER
        + "jane@acme.com,page_view,,yesterday,,,,\n"
        + "jane@acme.com,page_view,,,,,,\n"
        + "jane@acme.com,page_view,fax,2026-01-05,,,,\n",
    )
    rejects = tmp_path / "rejects.csv"

    # when
    run(path, "--rejects", str(rejects))

    # then
    rows = rejects_of(rejects)
    assert [(row["line"], row["reason"]) for row in rows] == [
        ("2", "occurred_at: 'yesterday' is not an ISO 8601 date and time (e.g. 2026-03-01T14:30:00+01:00)"),
        ("3", "occurred_at: a date and time is required (ISO 8601, e.g. 2026-03-01T14:30:00+01:00)"),
        ("4", "channel: 'fax' is not a channel (web, email, sms, social, ads, events, phone, chat, search, "
              "commerce, direct_mail, other)"),
    ]  # fmt: skip


def test_a_second_run_changes_nothing_also_without_external_ids(db, tmp_path):
    # given
    path = write(
        tmp_path,
        HEADER
        + "jane@acme.com,page_view,,2026-01-05T10:00:00Z,,,,\n"
        + "jane@acme.com,email_open,,2026-01-05T10:00:00Z,,,e-1,\n",
    )
    run(path)
    actions = Action.objects.count()

    # when
    lines = run(path)

    # then
    assert lines[-1] == "created 0, duplicate 2, rejected 0"
    assert Touchpoint.objects.count() == 2
    assert Action.objects.count() == actions


def test_a_dry_run_writes_nothing(db, tmp_path):
    # given
    path = write(tmp_path, HEADER + "jane@acme.com,page_view,,2026-01-05T10:00:00Z,,,,\n")

    # when
    lines = run(path, "--dry-run")

    # then
    assert lines[-1] == "created 1, duplicate 0, rejected 0"
    assert not Touchpoint.objects.exists()
    assert not Contact.objects.exists()
    assert not ImportJob.objects.exists()


def test_json_lines_take_properties_as_an_object_and_reject_bad_lines(db, tmp_path):
    # given
    path = write(
        tmp_path,
        '{"email": "jane@acme.com", "kind": "purchase", "occurred_at": "2026-01-05T10:00:00Z",'
        ' "properties": {"amount": 99}, "currency": "EUR"}\n'
        "{nope\n",
        name="touchpoints.jsonl",
    )
    rejects = tmp_path / "rejects.csv"

    # when
    lines = run(path, "--rejects", str(rejects))

    # then
    assert lines[-1] == "created 1, duplicate 0, rejected 1"
    assert Touchpoint.objects.get().properties == {"amount": 99, "currency": "EUR"}
    assert rejects_of(rejects)[0]["line"] == "2"


def test_a_file_without_the_required_columns_is_refused(db, tmp_path):
    path = write(tmp_path, "email,occurred_at\njane@acme.com,2026-01-05\n")

    with pytest.raises(CommandError, match="the header has no 'kind' column"):
        run(path)


def test_the_number_of_queries_does_not_grow_with_the_rows(db, tmp_path, django_assert_max_num_queries):
    # given
    def file_of(count, name):
        body = "".join(f"p{i}@acme.com,page_view,,2026-01-05T10:00:00Z,,,{name}-{i},\n" for i in range(count))
        return write(tmp_path, HEADER + body, name=name)

    with django_assert_max_num_queries(30) as small:
        run(file_of(10, "small.csv"))

    # when
    with django_assert_max_num_queries(30) as large:
        lines = run(file_of(200, "large.csv"))

    # then
    assert lines[-1] == "created 200, duplicate 0, rejected 0"
    assert len(large.captured_queries) == len(small.captured_queries)


def test_imported_touchpoints_are_announced_once_for_the_file(
    db, tmp_path, celery_eager, django_capture_on_commit_callbacks
):
    from contacts.signals import touchpoints_captured

    path = write(
        tmp_path,
        "email,kind,occurred_at,external_id\n"
        "a@example.com,page_view,2026-11-01T10:00:00Z,t-1\n"
        "b@example.com,email_open,2026-11-02T10:00:00Z,t-2\n",
    )
    heard = []

    def receiver(sender, touchpoint_ids, **kwargs):
        heard.append(sorted(touchpoint_ids))

    touchpoints_captured.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run(path)
    finally:
        touchpoints_captured.disconnect(receiver)

    assert heard == [sorted(Touchpoint.objects.values_list("pk", flat=True))]


def test_a_latin1_line_after_the_first_chunk_leaves_nothing_behind(db, tmp_path, monkeypatch):
    # given: chunks of two rows, so the first chunk is written before the bad line is read
    monkeypatch.setattr("contacts.imports.touchpoints.COPY_ROWS", 1)
    monkeypatch.setattr("contacts.imports.touchpoints.CHUNK_ROWS", 2)
    rows = [f"p{i}@acme.com,page_view,,2026-01-05T10:00:00Z,,,t-{i},\n".encode() for i in range(5)]
    rows.append("élodie@exemple.fr,page_view,,2026-01-05T10:00:00Z,,,t-9,\n".encode("latin-1"))
    path = tmp_path / "touchpoints.csv"
    path.write_bytes(HEADER.encode() + b"".join(rows))

    # when
    with pytest.raises(CommandError) as error:
        run(path)

    # then
    assert "line 7: the file is not UTF-8 (byte 0xe9)" in str(error.value)
    assert not Touchpoint.objects.exists()
    assert not Contact.objects.exists()


def test_rows_across_many_chunks_are_all_stored_once_chunk_after_chunk(db, tmp_path, monkeypatch):
    # given
    monkeypatch.setattr("contacts.imports.touchpoints.COPY_ROWS", 1)
    monkeypatch.setattr("contacts.imports.touchpoints.CHUNK_ROWS", 3)
    body = "".join(
        f'p{i % 4}@acme.com,page_view,,2026-01-05T10:{i:02d}:00Z,,"tab\there, line\nbreak\\",t-{i},\n'
        for i in range(10)
    )
    path = write(tmp_path, HEADER + body)

    # when
    lines = run(path)

    # then
    assert lines[-1] == "created 10, duplicate 0, rejected 0"
    stored = list(
        Touchpoint.objects.order_by("id").values_list("external_id", "text", "contact__email", "contact_id")
    )
    assert sorted(row[:3] for row in stored) == sorted(
        (f"t-{i}", "tab\there, line\nbreak\\", f"p{i % 4}@acme.com") for i in range(10)
    )
    # ids grow chunk after chunk; inside a chunk they go contact by contact
    chunks = [(int(row[0][2:]) // 3, row[3]) for row in stored]
    assert chunks == sorted(chunks)
