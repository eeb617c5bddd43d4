from dataclasses import asdict

from celery import shared_task


@shared_task(acks_late=True, max_retries=3)
def segment_rebuild_task(*, segment_id: int) -> dict:
    """A saved segment re-forms, and with it every segment that uses it."""
    from segments.models import Segment
    from segments.services import segment_rebuild

    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None:
        return {}
    return {slug: asdict(diff) for slug, diff in segment_rebuild(segment=segment).items()}


@shared_task(acks_late=True, max_retries=0)
def segments_rebuild_timed_task() -> int:
    """Beat: segments whose conditions move with the clock."""
    from segments.services import segments_rebuild_timed

    return len(segments_rebuild_timed())
