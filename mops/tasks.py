from celery import shared_task


@shared_task(acks_late=True, max_retries=0)
def noop_task(*, n: int = 0) -> int:
    """Does nothing: the cost of a task alone, the baseline of the worker benchmarks."""
    return n
