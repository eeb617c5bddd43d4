"""`bench intents_pipeline [--scale N]`: recognising the intent of N new touchpoints as the
worker does (rules, the active model, signals, lead scores, ledger), in announcement batches.

Baseline, same data, same run: one hand-written INSERT ... SELECT that stores a recognition
row per touchpoint, i.e. the least that keeping any result for each touchpoint costs.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

from django.db import connection

from bench import benchmark, result, rolled_back
from contacts.models import Contact, Touchpoint
from contacts.services import ANNOUNCE_BATCH
from intents.models import BehaviourRule, Intent, IntentExample, ScoringRule, TextRule
from intents.scoring import lead_scores_update
from intents.services import intent_model_train_now, touchpoints_recognise
from ledger.context import Actor, acting_as

TEXTS = [
    "how does your pricing compare to hubspot",
    "please send me a quote for 40 seats",
    "the export is broken since this morning",
    "how do i cancel my subscription",
    "what is the weather in lisbon",
    "this new release is sick, love it",
]
PATHS = ["/", "/pricing", "/pricing/teams", "/blog/lead-scoring", "/docs", "/careers"]


def _setup(scale: int) -> list[int]:
    intents = {intent.key: intent for intent in Intent.objects.all()}
    BehaviourRule.objects.create(
        name="Pricing pages",
        intent=intents["compare"],
        kind_id="page_view",
        conditions=[{"property": "path", "operator": "starts_with", "value": "/pricing"}],
    )
    TextRule.objects.create(name="Sick", intent=intents["thrill_me"], phrases="sick", veto_words="hospital")
    ScoringRule.objects.create(
        name="Pricing visit",
        kind="engagement",
        conditions=[{"property": "path", "operator": "starts_with", "value": "/pricing"}],
        points=20,
    )
    labelled = [
        (text, key)
        for text, key in zip(TEXTS[:4], ["compare", "purchase", "support", "churn_risk"], strict=True)
    ]
    IntentExample.objects.bulk_create(
        [IntentExample(text=f"{text} {i}", intent=intents[key]) for i in range(10) for text, key in labelled]
    )
    intent_model_train_now(activate=True)
    rng = random.Random(11)  # noqa: S311 - benchmark data
    contacts = Contact.objects.bulk_create(
        [Contact(email=f"bench-intents-{i}@example.com") for i in range(max(1, scale // 10))]
    )
    touchpoints = []
    for i in range(scale):
        contact = contacts[i % len(contacts)]
        if i % 2:
            touchpoints.append(
                Touchpoint(contact=contact, kind_id="chat_message", channel="chat", text=rng.choice(TEXTS))
            )
        else:
            touchpoints.append(
                Touchpoint(
                    contact=contact,
                    kind_id="page_view",
                    channel="web",
                    properties={"path": rng.choice(PATHS)},
                )
            )
    return [tp.pk for tp in Touchpoint.objects.bulk_create(touchpoints, batch_size=5000)]


@benchmark(
    "intents_pipeline",
    default_scale=50_000,
    description="intent recognition + signals + lead scores of new touchpoints, vs one INSERT ... SELECT",
)
def intents_pipeline(scale: int) -> Iterator[dict]:
    with rolled_back(), acting_as(Actor.for_task("bench")):
        ids = _setup(scale)
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(
                "INSERT INTO intents_touchpointintent (touchpoint_id, method, explanation, recognised_at) "
                "SELECT id, 'none', '', now() FROM contacts_touchpoint WHERE id = ANY(%s)",
                [ids],
            )
            baseline_seconds = time.perf_counter() - started
            cursor.execute("DELETE FROM intents_touchpointintent")
        started = time.perf_counter()
        found = 0
        for start in range(0, len(ids), ANNOUNCE_BATCH):
            batch = ids[start : start + ANNOUNCE_BATCH]
            found += touchpoints_recognise(touchpoint_ids=batch)
            lead_scores_update(touchpoint_ids=batch)
        seconds = time.perf_counter() - started
        line = result(
            bench="intents_pipeline",
            n=scale,
            seconds=seconds,
            per="touchpoint",
            items=scale,
            baseline="one INSERT ... SELECT of a recognition row per touchpoint",
            baseline_seconds=baseline_seconds,
            with_intent=found,
            batch=ANNOUNCE_BATCH,
        )
    yield line
