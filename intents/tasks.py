from celery import shared_task


@shared_task(acks_late=True, max_retries=0)
def intent_model_train_task(*, model_id: int) -> None:
    """Train a version someone asked for; the service records the outcome on the version."""
    from intents.services import intent_model_train

    intent_model_train(model_id=model_id)


@shared_task(acks_late=True, max_retries=0)
def lead_scores_refresh_task() -> int:
    """Every hour on the beat's schedule (`intents-lead-scores-refresh`): scores fall as
    engagement fades."""
    from intents.scoring import lead_scores_refresh

    return lead_scores_refresh()


def touchpoints_captured_receiver(sender, *, touchpoint_ids: list[int], **kwargs) -> None:
    """New touchpoints were announced (in the contacts worker task): recognise their intent
    and update the lead scores there and then, in the same worker."""
    from intents.scoring import lead_scores_update
    from intents.services import touchpoints_recognise

    touchpoints_recognise(touchpoint_ids=touchpoint_ids)
    lead_scores_update(touchpoint_ids=touchpoint_ids)


@shared_task(acks_late=True, max_retries=0)
def topics_discover_task() -> int | None:
    """On the beat's schedule and on demand: gather the refused texts of the last days
    into topics. Returns the run's id."""
    from intents.services import topics_discover

    return topics_discover().pk
