"""Writes of the intents app: labels, model versions, and the recognition of touchpoints
with the intent signals it feeds. Each effect is recorded in the ledger in the same
transaction, with the actor from the context."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from sklearn.model_selection import train_test_split

from contacts.models import Touchpoint
from contacts.services import touchpoints_intents_set
from intents import dispatch
from intents.learning import OUT_OF_SCOPE, artifacts, embedding
from intents.learning.datasets import DatasetError, read_labelled_csv
from intents.learning.discovery import Topic, discover
from intents.learning.evaluation import evaluate
from intents.learning.training import TrainingError, check_training_data, fit
from intents.models import (
    BehaviourRule,
    DiscoveredTopic,
    DiscoveryRun,
    Intent,
    IntentExample,
    IntentModel,
    TextRule,
    TopicText,
    TouchpointIntent,
)
from intents.recognition import Recogniser, TouchpointFacts
from intents.rules import BehaviourRuleSpec, TextRuleSpec, parse_conditions
from intents.signals import intents_detected
from ledger.context import current_actor
from ledger.models import Category
from ledger.services import ActionEntry, action_record, action_record_many

HELD_OUT_FRACTION = 0.2
SPLIT_SEED = 42


# -- labels -----------------------------------------------------------------------------


@transaction.atomic
def touchpoint_label(*, touchpoint: Touchpoint, intent: Intent | None, text: str = "") -> IntentExample:
    """A person says which intent a touchpoint shows (None: none of ours). Labelling again
    replaces the earlier label."""
    text = (text or touchpoint.summary).strip()
    if not text:
        raise ValueError("this touchpoint has no text or properties to learn from; type the text to label")
    example, created = IntentExample.objects.update_or_create(
        touchpoint=touchpoint,
        defaults={
            "text": text,
            "intent": intent,
            "source": IntentExample.Source.TOUCHPOINT,
            "labelled_by": current_actor().name,
            "labelled_at": timezone.now(),
        },
    )
    action_record(
        category=Category.TAGGING,
        verb="intent.labelled",
        contact_id=touchpoint.contact_id,
        obj=example,
        details={"touchpoint_id": touchpoint.pk, "intent": intent.key if intent else None, "new": created},
    )
    return example


@transaction.atomic
def intent_example_add(*, text: str, intent: Intent | None) -> IntentExample:
    """A labelled text typed in by a person or sent by an integration, with no touchpoint."""
    text = text.strip()
    if not text:
        raise ValueError("the example has no text")
    example = IntentExample.objects.create(
        text=text, intent=intent, source=IntentExample.Source.IMPORT, labelled_by=current_actor().name
    )
    action_record(
        category=Category.TAGGING,
        verb="intent.labelled",
        obj=example,
        details={"intent": intent.key if intent else None},
    )
    return example


@transaction.atomic
def intent_example_relabel(*, example: IntentExample, intent: Intent | None, text: str) -> IntentExample:
    """A person corrects an example's intent or text."""
    text = text.strip() or example.text
    before = {"intent": example.intent.key if example.intent else None, "text": example.text}
    example.intent, example.text = intent, text
    example.labelled_by, example.labelled_at = current_actor().name, timezone.now()
    example.save(update_fields=["intent", "text", "labelled_by", "labelled_at"])
    action_record(
        category=Category.TAGGING,
        verb="intent.relabelled",
        contact_id=example.touchpoint.contact_id if example.touchpoint_id else None,
        obj=example,
        details={"from": before, "to": {"intent": intent.key if intent else None, "text": text}},
    )
    return example


@transaction.atomic
def intent_example_delete_many(*, examples) -> int:
    gone = [(example.pk, example.text[:200]) for example in examples]
    IntentExample.objects.filter(pk__in=[pk for pk, _ in gone]).delete()
    action_record_many(
        entries=[
            ActionEntry(
                category=Category.DATA_HYGIENE,
                verb="intent.example_deleted",
                details={"id": pk, "text": text},
            )
            for pk, text in gone
        ]
    )
    return len(gone)


@transaction.atomic
def intent_examples_import(*, path: Path) -> int:
    """Labelled texts from a CSV file (text,label; label an intent key, or oos for none of
    ours). All or nothing: an unknown label rejects the file, saying where."""
    texts, labels = read_labelled_csv(path)
    intents = {intent.key: intent for intent in Intent.objects.all()}
    for line, label in enumerate(labels, start=2):
        if label != OUT_OF_SCOPE and label not in intents:
            raise DatasetError(
                f"{path}, line {line}: no intent with the key {label!r} (or use {OUT_OF_SCOPE!r})"
            )
    actor = current_actor()
    now = timezone.now()
    IntentExample.objects.bulk_create(
        [
            IntentExample(
                text=text,
                intent=intents.get(label),
                source=IntentExample.Source.IMPORT,
                labelled_by=actor.name,
                labelled_at=now,
            )
            for text, label in zip(texts, labels, strict=True)
        ],
        batch_size=2000,
    )
    action_record(
        category=Category.IMPORT,
        verb="intent.examples_imported",
        details={"file": path.name, "examples": len(texts), "by_intent": dict(Counter(labels))},
    )
    return len(texts)


# -- model versions ---------------------------------------------------------------------


@transaction.atomic
def intent_model_request() -> IntentModel:
    """A new version to train; a worker trains it (see intent_model_train_task)."""

    model = _new_version()
    transaction.on_commit(lambda: dispatch.intent_model_train_soon(model.pk))
    return model


def _new_version() -> IntentModel:
    IntentModel.objects.select_for_update().all().exists()  # serialises version numbering
    version = (IntentModel.objects.aggregate(last=Max("version"))["last"] or 0) + 1
    model = IntentModel.objects.create(version=version, requested_by=current_actor().name)
    action_record(
        category=Category.SCORING, verb="intent_model.requested", obj=model, details={"version": version}
    )
    return model


def intent_model_train_now(*, activate: bool = False) -> IntentModel:
    """Train a new version in this process (the command's way)."""
    with transaction.atomic():
        model = _new_version()
    model = intent_model_train(model_id=model.pk)
    if activate and model.status == IntentModel.Status.READY:
        model = intent_model_activate(model=model)
    return model


def intent_model_train(*, model_id: int) -> IntentModel:
    """Train on every labelled example but a held-out fifth, evaluate on that fifth, store
    the signed artifact. A failure is kept on the version with its reason."""
    model = IntentModel.objects.get(pk=model_id)
    if model.status not in (IntentModel.Status.QUEUED, IntentModel.Status.TRAINING):
        return model  # a redelivered task finds the work done
    IntentModel.objects.filter(pk=model.pk).update(status=IntentModel.Status.TRAINING)
    rows = list(IntentExample.objects.order_by("pk").values_list("text", "intent__key"))
    texts = [text for text, _ in rows]
    labels = [key or OUT_OF_SCOPE for _, key in rows]
    try:
        check_training_data(texts, labels)
        train_texts, test_texts, train_labels, test_labels = _split(texts, labels)
        started = time.perf_counter()
        classifier = fit(train_texts, train_labels, seed=SPLIT_SEED)
        seconds = time.perf_counter() - started
        evaluation = evaluate(classifier, test_texts, test_labels)
    except (TrainingError, embedding.EmbeddingUnavailable) as error:
        return _training_failed(model, str(error))
    with transaction.atomic():
        model.status = IntentModel.Status.READY
        model.threshold = round(classifier.threshold, 4)
        model.algorithm = classifier.algorithm[: IntentModel._meta.get_field("algorithm").max_length]
        model.example_count = len(texts)
        model.evaluation = {**evaluation, "trained_on": len(train_texts)}
        model.training_seconds = round(seconds, 2)
        model.artifact = artifacts.dumps(classifier)
        model.trained_at = timezone.now()
        model.error = ""
        model.save()
        action_record(
            category=Category.SCORING,
            verb="intent_model.trained",
            obj=model,
            details={"version": model.version, "accuracy": evaluation["accuracy"], "examples": len(texts)},
        )
    return model


def _split(texts: list[str], labels: list[str]):
    counts = Counter(labels)
    stratify = (
        labels if min(counts.values()) >= 2 and len(labels) * HELD_OUT_FRACTION >= len(counts) else None
    )
    return train_test_split(
        texts, labels, test_size=HELD_OUT_FRACTION, random_state=SPLIT_SEED, stratify=stratify
    )


def _training_failed(model: IntentModel, reason: str) -> IntentModel:
    with transaction.atomic():
        model.status = IntentModel.Status.FAILED
        model.error = reason
        model.save(update_fields=["status", "error"])
        action_record(
            category=Category.SCORING, verb="intent_model.failed", obj=model, details={"reason": reason}
        )
    return model


@transaction.atomic
def intent_model_activate(*, model: IntentModel) -> IntentModel:
    """From now on this version classifies new touchpoints."""
    model = IntentModel.objects.select_for_update().get(pk=model.pk)
    if model.status != IntentModel.Status.READY:
        raise ValueError(
            f"version {model.version} is {model.get_status_display().lower()}: "
            "only a ready version can be activated"
        )
    previous = IntentModel.objects.filter(is_active=True).exclude(pk=model.pk).first()
    if previous:
        IntentModel.objects.filter(pk=previous.pk).update(is_active=False)
    model.is_active = True
    model.activated_at = timezone.now()
    model.save(update_fields=["is_active", "activated_at"])
    action_record(
        category=Category.SCORING,
        verb="intent_model.activated",
        obj=model,
        details={"version": model.version, "previous": previous.version if previous else None},
    )
    return model


@transaction.atomic
def intent_model_rollback() -> IntentModel:
    """Go back to the version that was active before the current one."""
    current = IntentModel.objects.select_for_update().filter(is_active=True).first()
    if current is None:
        raise ValueError("no version is active, so there is nothing to roll back from")
    previous = (
        IntentModel.objects.filter(status=IntentModel.Status.READY, activated_at__isnull=False)
        .exclude(pk=current.pk)
        .order_by("-activated_at")
        .first()
    )
    if previous is None:
        raise ValueError(
            f"version {current.version} is the only one ever activated: there is none to go back to"
        )
    return intent_model_activate(model=previous)


@transaction.atomic
def intent_model_threshold_set(*, model: IntentModel, threshold: float) -> IntentModel:
    if not 0 <= threshold <= 1:
        raise ValueError(f"the threshold is a confidence between 0 and 1, not {threshold}")
    old = model.threshold
    model.threshold = threshold
    model.save(update_fields=["threshold"])
    action_record(
        category=Category.SCORING,
        verb="intent_model.threshold_set",
        obj=model,
        details={"version": model.version, "from": old, "to": threshold},
    )
    return model


# -- recognition and signals ------------------------------------------------------------

_classifiers: dict[tuple[int, float | None], object] = {}


def _active_classifier() -> tuple[IntentModel | None, object]:
    """The active version's classifier, loaded once per process and version."""
    model = IntentModel.objects.filter(is_active=True).defer("artifact").first()
    if model is None:
        return None, None
    key = (model.pk, model.threshold)
    if key not in _classifiers:
        classifier = artifacts.loads(IntentModel.objects.values_list("artifact", flat=True).get(pk=model.pk))
        if model.threshold is not None:
            classifier.threshold = model.threshold  # a person may have moved it
        _classifiers.clear()
        _classifiers[key] = classifier
    return model, _classifiers[key]


def recogniser_load() -> tuple[Recogniser, IntentModel | None]:
    intents = {intent.pk: intent.key for intent in Intent.objects.filter(is_active=True)}
    behaviour = [
        BehaviourRuleSpec(
            rule_id=rule.pk,
            name=rule.name,
            intent_key=intents[rule.intent_id],
            kind=rule.kind_id,
            conditions=tuple(parse_conditions(rule.conditions)),
            confidence=rule.confidence,
        )
        for rule in BehaviourRule.objects.filter(is_active=True, intent_id__in=intents).order_by("pk")
    ]
    text = [
        TextRuleSpec.build(
            rule_id=rule.pk,
            name=rule.name,
            intent_key=intents[rule.intent_id],
            phrases=rule.phrases,
            confirm_words=rule.confirm_words,
            veto_words=rule.veto_words,
            window=rule.context_window,
            confidence=rule.confidence,
        )
        for rule in TextRule.objects.filter(is_active=True, intent_id__in=intents).order_by("pk")
    ]
    model, classifier = _active_classifier()
    recogniser = Recogniser(
        behaviour_rules=behaviour,
        text_rules=text,
        classifier=classifier,
        model_version=model.version if model else None,
        known_intents=frozenset(intents.values()),
    )
    return recogniser, model


@transaction.atomic
def touchpoints_recognise(*, touchpoint_ids: Sequence[int], at: datetime | None = None) -> int:
    """Recognise the intent of these touchpoints, keep why, and feed the contacts' intent
    signals. Set-based: a few statements per batch, whatever its size. Returns how many
    touchpoints showed an intent. `at` replays history in order (signals only move
    forward in time); it is now by default."""
    recogniser, model = recogniser_load()
    facts = [
        TouchpointFacts(id=pk, contact_id=contact_id, kind=kind, text=text, properties=properties or {})
        for pk, contact_id, kind, text, properties in Touchpoint.objects.filter(pk__in=touchpoint_ids)
        .order_by("pk")
        .values_list("pk", "contact_id", "kind_id", "text", "properties")
    ]
    if not facts:
        return 0
    recognitions = recogniser.recognise(facts)
    intent_ids = dict(Intent.objects.values_list("key", "pk"))
    now = at or timezone.now()
    TouchpointIntent.objects.bulk_create(
        [
            TouchpointIntent(
                touchpoint_id=r.touchpoint_id,
                intent_id=intent_ids.get(r.intent_key),
                confidence=r.confidence,
                method=r.method,
                behaviour_rule_id=r.rule_id if r.method == "behaviour_rule" else None,
                text_rule_id=r.rule_id if r.method == "text_rule" else None,
                model_version=model if r.method == "model" else None,
                explanation=r.explanation,
                recognised_at=now,
            )
            for r in recognitions
        ],
        update_conflicts=True,
        unique_fields=["touchpoint"],
        update_fields=[
            "intent", "confidence", "method", "behaviour_rule", "text_rule", "model_version", "explanation",
            "recognised_at",
        ],
    )  # fmt: skip
    found = [r for r in recognitions if r.intent_key]
    touchpoints_intents_set(
        intents=[(r.touchpoint_id, r.intent_key or "", r.confidence) for r in recognitions]
    )
    signals_strengthen(
        detections=[(r.contact_id, intent_ids[r.intent_key], r.confidence, r.touchpoint_id) for r in found],
        at=now,
    )
    action_record_many(
        entries=[
            ActionEntry(
                category=Category.SCORING,
                verb="intent.detected",
                contact_id=r.contact_id,
                details={
                    "touchpoint_id": r.touchpoint_id,
                    "intent": r.intent_key,
                    "confidence": r.confidence,
                    "method": r.method,
                },
                occurred_at=now,
            )
            for r in found
        ]
    )
    if found:
        detections = [
            {
                "contact_id": r.contact_id,
                "intent": r.intent_key,
                "confidence": r.confidence,
                "touchpoint_id": r.touchpoint_id,
            }
            for r in found
        ]
        transaction.on_commit(lambda: intents_detected.send(sender=TouchpointIntent, detections=detections))
    return len(found)


SIGNAL_UPSERT = """
INSERT INTO intents_intentsignal (contact_id, intent_id, score, updated_at, last_touchpoint_id)
SELECT contact_id, intent_id, gain, %(at)s, touchpoint_id
FROM unnest(%(contacts)s::bigint[], %(intents)s::bigint[], %(gains)s::float8[], %(touchpoints)s::bigint[])
     AS new (contact_id, intent_id, gain, touchpoint_id)
ON CONFLICT (contact_id, intent_id) DO UPDATE SET
    -- the old score, decayed to now, combined with the new evidence as independent
    -- chances: 1 - (1 - old) * (1 - new); it can only rise, and never past 1
    score = LEAST(1.0, 1.0 - (1.0 - intents_intentsignal.score * power(
                0.5,
                GREATEST(0, extract(epoch FROM excluded.updated_at - intents_intentsignal.updated_at))
                / 3600.0
                / (SELECT half_life_hours FROM intents_intent WHERE id = excluded.intent_id)
            )) * (1.0 - excluded.score)),
    updated_at = excluded.updated_at,
    last_touchpoint_id = excluded.last_touchpoint_id
"""


def signals_strengthen(*, detections: Sequence[tuple[int, int, float, int]], at) -> int:
    """(contact, intent, confidence, touchpoint) detections into the contacts' signals, in
    one statement. Several detections of one intent in a batch combine before they land."""
    combined: dict[tuple[int, int], list] = defaultdict(lambda: [1.0, 0])
    for contact_id, intent_id, confidence, touchpoint_id in detections:
        entry = combined[(contact_id, intent_id)]
        entry[0] *= 1.0 - min(1.0, max(0.0, confidence))
        entry[1] = max(entry[1], touchpoint_id)
    if not combined:
        return 0
    keys = sorted(combined)  # a fixed order, so concurrent batches lock rows alike
    with connection.cursor() as cursor:
        cursor.execute(
            SIGNAL_UPSERT,
            {
                "at": at,
                "contacts": [contact for contact, _ in keys],
                "intents": [intent for _, intent in keys],
                "gains": [1.0 - combined[key][0] for key in keys],
                "touchpoints": [combined[key][1] for key in keys],
            },
        )
    return len(keys)


# --- a person's data, for erasure (contacts.personal_data) ------------------------------------


def contact_labelled_texts(contact) -> list[str]:
    """Texts of the person's touchpoints that people labelled: examples the classifier learns
    from, which may have travelled into the ledger."""
    return list(IntentExample.objects.filter(touchpoint__contact=contact).values_list("text", flat=True))


def contact_intents_erase(contact) -> dict[str, int]:
    """The person's labelled texts deleted, and the explanations of what was recognised in
    their touchpoints (they quote them) wiped."""
    labelled = IntentExample.objects.filter(touchpoint__contact=contact).delete()[0]
    TouchpointIntent.objects.filter(touchpoint__contact=contact).update(explanation="")
    return {"labelled_texts": labelled}


# -- discovery: topics among the texts recognition refused ------------------------------

DISCOVERY_DAYS = 30  # the period a run gathers refused texts from, by default
DISCOVERY_MAX_TEXTS = 20_000  # the most recent refused texts of the period, at most
# A topic found again: at least this share of its texts were already in a kept topic, or
# its centre lies this close to a kept topic's centre (once the old texts left the period).
MATCH_OVERLAP = 0.5
MATCH_SIMILARITY = 0.9
TITLE_WORDS = 3
# The advisory lock two runs take, so that they do not gather the same texts at once.
DISCOVERY_LOCK = 7_362_021


def refused_texts(*, since: datetime, until: datetime, limit: int = DISCOVERY_MAX_TEXTS):
    """(touchpoint id, text) of the touchpoints in the period that no rule and no model
    version recognised an intent in and that nobody labelled, the newest first."""
    return list(
        TouchpointIntent.objects.filter(
            method=TouchpointIntent.Method.NONE,
            touchpoint__occurred_at__gte=since,
            touchpoint__occurred_at__lt=until,
            touchpoint__intent_label__isnull=True,
        )
        .exclude(touchpoint__text="")
        .order_by("-touchpoint__occurred_at", "-touchpoint_id")
        .values_list("touchpoint_id", "touchpoint__text")[:limit]
    )


def topics_discover(*, since: datetime | None = None, until: datetime | None = None) -> DiscoveryRun:
    """Gather the period's refused texts into topics: new topics are proposed, topics
    found again keep their decision (named, dismissed) and take the new texts. Software's
    work whoever starts it: the run only proposes, people decide."""
    until = until or timezone.now()
    since = since or until - timedelta(days=DISCOVERY_DAYS)
    if since >= until:
        raise ValueError(f"the period must start before it ends ({since.isoformat()} → {until.isoformat()})")
    with transaction.atomic():
        run = DiscoveryRun.objects.create(
            period_start=since, period_end=until, requested_by=current_actor().name
        )
    started = time.perf_counter()
    rows = refused_texts(since=since, until=until)
    try:
        texts = [text for _, text in rows]
        vectors = embedding.encoder().encode(texts) if rows else np.zeros((0, embedding.DIMENSIONS))
        found = discover(texts, vectors)
    except embedding.EmbeddingUnavailable as error:
        DiscoveryRun.objects.filter(pk=run.pk).update(
            status=DiscoveryRun.Status.FAILED, error=str(error), finished_at=timezone.now()
        )
        run.refresh_from_db()
        return run
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DISCOVERY_LOCK])
        new, kept = _topics_keep(run=run, touchpoint_ids=[pk for pk, _ in rows], found=found)
        run.status = DiscoveryRun.Status.DONE
        run.text_count, run.topic_count, run.new_topic_count = len(rows), new + kept, new
        run.seconds = round(time.perf_counter() - started, 2)
        run.finished_at = timezone.now()
        run.save()
    return run


def _topics_keep(*, run: DiscoveryRun, touchpoint_ids: list[int], found: list[Topic]) -> tuple[int, int]:
    """Match what was found with the topics kept, store the new ones and every text's
    topic. Returns (new topics, topics found again)."""
    ids = np.asarray(touchpoint_ids, dtype=np.int64)
    model = embedding.model_name()
    before = dict(
        TopicText.objects.filter(touchpoint_id__in=touchpoint_ids).values_list("touchpoint_id", "topic_id")
    )
    known = list(
        DiscoveredTopic.objects.filter(embedding_model=model)
        .exclude(centroid=[])
        .values_list("pk", "centroid")
    )
    centroids = np.asarray([centroid for _, centroid in known], dtype=np.float32).reshape(
        -1, embedding.DIMENSIONS
    )
    assigned: dict[int | None, list[Topic]] = defaultdict(list)  # kept topic (None: new) -> clusters
    new_topics: list[Topic] = []
    for cluster in found:
        members = ids[cluster.members]
        votes = Counter(before[pk] for pk in members.tolist() if pk in before)
        match = None
        if votes:
            topic_id, count = votes.most_common(1)[0]
            match = topic_id if count >= MATCH_OVERLAP * len(members) else None
        if match is None and len(known):
            similarity = centroids @ cluster.centroid
            best = int(similarity.argmax())
            match = known[best][0] if similarity[best] >= MATCH_SIMILARITY else None
        if match is None:
            new_topics.append(cluster)
        else:
            assigned[match].append(cluster)
    now = timezone.now()
    created = DiscoveredTopic.objects.bulk_create(
        [
            DiscoveredTopic(
                title=_title(cluster),
                words=list(cluster.words),
                centroid=cluster.centroid.tolist(),
                embedding_model=model,
                first_seen_at=now,
                last_seen_at=now,
                last_run=run,
            )
            for cluster in new_topics
        ]
    )
    topics_of = [(topic.pk, cluster) for topic, cluster in zip(created, new_topics, strict=True)]
    again = DiscoveredTopic.objects.in_bulk(list(assigned))
    for topic_id, clusters in assigned.items():
        topic = again[topic_id]
        largest = max(clusters, key=lambda cluster: cluster.size)
        weights = np.asarray([cluster.size for cluster in clusters], dtype=np.float32)
        centre = (np.vstack([cluster.centroid for cluster in clusters]) * weights[:, None]).sum(axis=0)
        topic.centroid = (centre / max(float(np.linalg.norm(centre)), 1e-12)).tolist()
        topic.words, topic.last_seen_at, topic.last_run = list(largest.words), now, run
        if topic.status == DiscoveredTopic.Status.PROPOSED:
            topic.title = _title(largest)
        topics_of.extend((topic_id, cluster) for cluster in clusters)
    DiscoveredTopic.objects.bulk_update(
        list(again.values()), ["centroid", "words", "last_seen_at", "last_run", "title"]
    )
    member_topics = [topic_id for topic_id, cluster in topics_of for _ in range(cluster.size)]
    member_ids = [pk for _, cluster in topics_of for pk in ids[cluster.members].tolist()]
    similarities = [float(s) for _, cluster in topics_of for s in cluster.similarity]
    with connection.cursor() as cursor:
        # Every text of the pool is placed anew: in the topic it was found in, or, when it
        # is now noise, in none. Texts that left the period stay where they were.
        cursor.execute("DELETE FROM intents_topictext WHERE touchpoint_id = ANY(%s)", [touchpoint_ids])
        cursor.execute(
            "INSERT INTO intents_topictext (topic_id, touchpoint_id, similarity) "
            "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::float8[])",
            [member_topics, member_ids, similarities],
        )
    _topic_sizes_count(topic_ids={*before.values(), *(topic_id for topic_id, _ in topics_of)})
    action_record_many(
        entries=[
            ActionEntry(
                category=Category.SCORING,
                verb="topic.proposed",
                obj=topic,
                details={"title": topic.title, "texts": cluster.size},
            )
            for topic, cluster in zip(created, new_topics, strict=True)
        ]
    )
    return len(created), len(assigned)


def _title(cluster: Topic) -> str:
    """The first distinctive words, leaving out one that repeats another ("invoices" after
    "invoice")."""
    words: list[str] = []
    for word in cluster.words:
        if not any(word.startswith(kept) or kept.startswith(word) for kept in words):
            words.append(word)
    return " · ".join(words[:TITLE_WORDS]) or "untitled topic"


def _topic_sizes_count(*, topic_ids) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE intents_discoveredtopic AS topic
               SET size = COALESCE(counted.size, 0), contact_count = COALESCE(counted.contacts, 0)
              FROM unnest(%s::bigint[]) AS touched (id)
              LEFT JOIN (
                    SELECT tt.topic_id, count(*) AS size, count(DISTINCT tp.contact_id) AS contacts
                      FROM intents_topictext tt JOIN contacts_touchpoint tp ON tp.id = tt.touchpoint_id
                     WHERE tt.topic_id = ANY(%s::bigint[])
                     GROUP BY tt.topic_id
                   ) counted ON counted.topic_id = touched.id
             WHERE topic.id = touched.id
            """,
            [sorted(topic_ids), sorted(topic_ids)],
        )


@dataclass(frozen=True)
class TopicNamed:
    topic: DiscoveredTopic
    intent: Intent
    examples: int  # texts that became labelled examples of the intent
    created: bool  # a new intent, rather than merged into an existing one
    model: IntentModel | None  # the version queued for training, when asked


@transaction.atomic
def topic_name(
    *, topic: DiscoveredTopic, name: str = "", intent: Intent | None = None, retrain: bool = False
) -> TopicNamed:
    """A person names a topic: it becomes a new intent called `name`, or is merged into
    the existing `intent`; either way its texts become that intent's examples. With
    `retrain`, a new model version is queued that learns them."""
    topic = DiscoveredTopic.objects.select_for_update().get(pk=topic.pk)
    if topic.status == DiscoveredTopic.Status.NAMED:
        raise ValueError(f"this topic was already named: it is the intent “{topic.intent}”")
    created = intent is None
    if created:
        intent = _intent_for_topic(name=name, topic=topic)
    actor = current_actor()
    now = timezone.now()
    with connection.cursor() as cursor:
        # A text already labelled keeps its label: a person's earlier decision stands.
        cursor.execute(
            """
            INSERT INTO intents_intentexample
                   (text, intent_id, touchpoint_id, source, labelled_by, labelled_at)
            SELECT tp.text, %s, tp.id, %s, %s, %s
              FROM intents_topictext tt JOIN contacts_touchpoint tp ON tp.id = tt.touchpoint_id
             WHERE tt.topic_id = %s AND tp.text <> ''
            ON CONFLICT (touchpoint_id) DO NOTHING
            """,
            [intent.pk, IntentExample.Source.TOUCHPOINT, actor.name[:200], now, topic.pk],
        )
        examples = cursor.rowcount
    topic.status, topic.intent = DiscoveredTopic.Status.NAMED, intent
    topic.decided_by, topic.decided_at = actor.name[:200], now
    topic.save(update_fields=["status", "intent", "decided_by", "decided_at"])
    action_record(
        category=Category.TAGGING,
        verb="topic.named",
        obj=topic,
        details={"intent": intent.key, "new_intent": created, "examples": examples, "title": topic.title},
    )
    model = intent_model_request() if retrain else None
    return TopicNamed(topic=topic, intent=intent, examples=examples, created=created, model=model)


def _intent_for_topic(*, name: str, topic: DiscoveredTopic) -> Intent:
    name = (name or "").strip()
    if not name:
        raise ValueError("give the new intent a name, or choose an existing intent to merge the topic into")
    if len(name) > 100:
        raise ValueError(f"the name is {len(name)} characters long; 100 at most")
    key = slugify(name).replace("-", "_")[:64].strip("_")
    if not key:
        raise ValueError(f"the name {name!r} has no letters or digits to make the intent's key from")
    existing = Intent.objects.filter(key=key).first()
    if existing is not None:
        raise ValueError(
            f"the intent “{existing.name}” already has the key {key}: merge the topic into it, "
            "or choose another name"
        )
    intent = Intent.objects.create(
        key=key,
        name=name,
        group=Intent.Group.OTHER,
        description=f"Discovered among texts no intent was recognised in: {topic.title}.",
    )
    action_record(
        category=Category.TAGGING, verb="intent.created", obj=intent, details={"key": key, "topic": topic.pk}
    )
    return intent


@transaction.atomic
def topic_dismiss(*, topic: DiscoveredTopic) -> DiscoveredTopic:
    """A person says a topic is no need of ours; later runs keep it dismissed."""
    topic = DiscoveredTopic.objects.select_for_update().get(pk=topic.pk)
    if topic.status == DiscoveredTopic.Status.NAMED:
        raise ValueError(
            f"this topic became the intent “{topic.intent}”; deactivate the intent instead of dismissing it"
        )
    if topic.status == DiscoveredTopic.Status.DISMISSED:
        return topic
    actor = current_actor()
    topic.status, topic.decided_by, topic.decided_at = (
        DiscoveredTopic.Status.DISMISSED,
        actor.name[:200],
        timezone.now(),
    )
    topic.save(update_fields=["status", "decided_by", "decided_at"])
    action_record(
        category=Category.TAGGING,
        verb="topic.dismissed",
        obj=topic,
        details={"title": topic.title, "texts": topic.size},
    )
    return topic
