from celery import shared_task


@shared_task(acks_late=True, max_retries=0)
def rollups_roll_task() -> int:
    """The regular roll (see CELERY_BEAT_SCHEDULE): the report's live part stays small."""
    from reporting.services import LedgerBusyError, rollups_roll

    try:
        return rollups_roll().actions
    except LedgerBusyError:
        return 0  # writers were busy; the next tick rolls what this one could not


@shared_task(acks_late=True, max_retries=0)
def rollups_rebuild_recent_task(*, days: int = 2) -> int:
    """Nightly: count the last days again from the ledger, once they are closed."""
    from datetime import timedelta

    from django.utils import timezone

    from reporting.services import LedgerBusyError, rollups_rebuild

    try:
        return rollups_rebuild(since=timezone.localdate() - timedelta(days=days)).actions
    except LedgerBusyError:
        return 0
