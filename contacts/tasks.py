from celery import shared_task


@shared_task(acks_late=True, max_retries=5)
def contact_capture_task(
    *,
    email: str,
    data: dict | None = None,
    kind: str = "form_submit",
    properties: dict | None = None,
    source: str = "",
    external_id: str | None = None,
) -> int:
    """Capture a form submission in the background. With an external_id, a redelivered
    message finds its touchpoint already stored and does nothing twice."""
    from contacts.models import Touchpoint
    from contacts.services import contact_capture

    if external_id:
        existing = Touchpoint.objects.filter(external_id=external_id).values_list("pk", flat=True).first()
        if existing:
            return existing
    touchpoint = contact_capture(
        email=email, data=data, kind=kind, properties=properties, source=source, external_id=external_id
    )
    return touchpoint.pk


@shared_task(acks_late=True, max_retries=0)
def touchpoints_captured_task() -> int:
    """New touchpoints wait in PostgreSQL; this wakes a worker to announce them to whoever
    reacts to them (intents, segments, campaigns connect to contacts.signals.touchpoints_captured).
    Also on the beat, for any whose wake-up was lost or whose worker died."""
    from contacts.services import touchpoints_react

    return touchpoints_react()


@shared_task(acks_late=True, max_retries=0)
def import_job_run_task(*, job_id: int) -> None:
    """An import a person started in the browser. Its effects are that person's manual
    work (the service says so), even though a worker carries it out."""
    from contacts.imports.browser import import_job_run

    import_job_run(job_id=job_id)


@shared_task(acks_late=True, max_retries=5)
def touchpoints_import_announce_task(*, job_id: int) -> int:
    """The touchpoints an import created, announced like those from the API."""
    from contacts.services import touchpoints_import_announce

    return touchpoints_import_announce(job_id=job_id)


@shared_task(acks_late=True, max_retries=5)
def contacts_changed_task(*, contact_ids: list[int], fields: list[str]) -> int:
    """Changed contacts are announced to whoever reacts to them (segments re-form)."""
    from contacts.services import contacts_changed_announce

    return contacts_changed_announce(contact_ids=contact_ids, fields=fields)
