import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts.imports.browser import import_job_run, import_preview, import_queue, import_upload
from contacts.models import Contact, ImportJob
from ledger.models import Action

CSV = (
    b"E-mail;First Name;Company;Favourite colour\n"
    b"jane@acme.com;Jane;Acme;blue\n"
    b"not-an-email;Bob;Beta;red\n"
    b"tom@acme.com;Tom;Acme;green\n"
)


def upload(user, content=CSV, name="webinar-w42.csv", kind="contacts"):
    return import_upload(kind=kind, uploaded=SimpleUploadedFile(name, content), user=user)


def test_an_upload_suggests_a_field_for_each_column(marketer):
    job = upload(marketer)

    assert job.status == ImportJob.Status.UPLOADED
    assert job.mapping == {
        "E-mail": "email",
        "First Name": "first_name",
        "Company": "account_name",
        "Favourite colour": "Favourite colour",
    }
    columns, rows = import_preview(job=job)
    assert columns == ["E-mail", "First Name", "Company", "Favourite colour"]
    assert rows[0] == ["jane@acme.com", "Jane", "Acme", "blue"]


def test_a_file_that_cannot_be_read_is_refused_at_upload(marketer):
    with pytest.raises(ValidationError, match="not UTF-8"):
        upload(marketer, content="email\nélodie@exemple.fr\n".encode("latin-1"))
    assert not ImportJob.objects.exists()


def test_the_mapping_must_name_the_email_column_once(marketer):
    job = upload(marketer)

    with pytest.raises(ValidationError, match="map a column to email"):
        import_queue(job=job, mapping={**job.mapping, "E-mail": ""})
    with pytest.raises(ValidationError, match="more than one column is mapped to first_name"):
        import_queue(job=job, mapping={**job.mapping, "Company": "first_name"})


def test_a_queued_job_runs_once_as_the_persons_manual_work(marketer, django_capture_on_commit_callbacks):
    job = upload(marketer)
    with django_capture_on_commit_callbacks() as callbacks:
        import_queue(job=job, mapping={**job.mapping, "Favourite colour": ""})
    assert len(callbacks) == 1

    finished = import_job_run(job_id=job.pk)
    again = import_job_run(job_id=job.pk)

    assert again is None
    assert finished.status == ImportJob.Status.DONE
    assert (finished.counts["created"], finished.counts["rejected"]) == (2, 1)
    jane = Contact.objects.get(email="jane@acme.com")
    assert (jane.first_name, jane.account.name, jane.attributes) == ("Jane", "Acme", {})
    actions = Action.objects.filter(contact_id=jane.pk, category="import")
    assert {(a.actor_kind, a.actor_type, a.actor_name) for a in actions} == {("manual", "user", "maya")}
    rejects = list(csv.reader(io.StringIO(finished.rejects.read().decode())))
    assert rejects[0][0] == "line" and rejects[1][0] == "3"
    assert "not-an-email" in rejects[1]


def test_the_pages_walk_a_person_through_an_import(
    client, marketer, celery_eager, django_capture_on_commit_callbacks
):
    client.force_login(marketer)

    response = client.post(
        reverse("admin:contacts_importjob_upload"),
        {"kind": "contacts", "file": SimpleUploadedFile("list.csv", CSV)},
    )
    job = ImportJob.objects.get()
    assert response.url == reverse("admin:contacts_importjob_map", args=[job.pk])
    assert b"jane@acme.com" in client.get(response.url).content

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            response.url, {"map-0": "email", "map-1": "first_name", "map-2": "account_name", "map-3": ""}
        )
    status = client.get(started.url)

    assert b"Created" in status.content
    download = client.get(reverse("admin:contacts_importjob_rejects", args=[job.pk]))
    assert b"not-an-email" in b"".join(download.streaming_content)


def test_a_viewer_cannot_import(client, viewer):
    client.force_login(viewer)

    response = client.post(
        reverse("admin:contacts_importjob_upload"),
        {"kind": "contacts", "file": SimpleUploadedFile("list.csv", CSV)},
    )

    assert response.status_code == 403
    assert not ImportJob.objects.exists()
