from celery import shared_task


@shared_task(acks_late=True, max_retries=0)
def intent_model_train_task(*, model_id: int) -> None:
    """Train a version someone asked for; the service records the outcome on the version."""
    from intents.services import intent_model_train

    intent_model_train(model_id=model_id)


def touchpoints_captured_receiver(sender, *, touchpoint_ids: list[int], **kwargs) -> None:
    """New touchpoints were announced (in the contacts worker task): recognise their intent
    there and then, in the same worker."""
    from intents.services import touchpoints_recognise

    touchpoints_recognise(touchpoint_ids=touchpoint_ids)
