from celery import shared_task


@shared_task(acks_late=True, max_retries=0)
def leads_escalate_task() -> int:
    """Beat, every minute: leads whose first-response deadline passed are escalated."""
    from django.utils import timezone

    from routing.services import leads_escalate

    return leads_escalate(now=timezone.now())
