"""What to automate next: the largest sources of manual work in a period, each with a
concrete step drawn from what the ledger knows about it, and what it would do to the ratio."""

# ruff: noqa: S608 - the SQL is assembled from this module's constants; values go as parameters

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from ledger.counting import counted_verbs
from ledger.models import ActorKind, Category
from reporting.periods import Period
from reporting.ratio import Tally
from reporting.selectors import category_label, period_tally


@dataclass(frozen=True)
class Suggestion:
    category: str
    verb: str  # empty when the source spans several kinds of action (an import's contacts and touchpoints)
    source: str
    count: int
    what: str
    advice: str
    manual_share: float  # percent of the period's manual actions
    before: Tally
    after: Tally


def _top_detail(period: Period, category: str, verb: str, expression: str) -> tuple[str, int] | None:
    """The most frequent value of `expression` among the period's manual actions of this
    kind. Bounded by the ledger's (occurred_at, actor_kind) index, and manual actions are
    the few."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT value, count(*) FROM (
                SELECT {expression} AS value FROM ledger_action
                 WHERE occurred_at >= %s AND occurred_at < %s AND actor_kind = %s
                   AND category = %s AND verb = %s
            ) v WHERE value IS NOT NULL AND value <> ''
             GROUP BY value ORDER BY count(*) DESC, value LIMIT 1
            """,
            [period.start_at, period.end_before, ActorKind.MANUAL, category, verb],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def _things(verb: str) -> str:
    """'contact.imported' -> 'contacts'."""
    noun = verb.split(".", 1)[0].replace("_", " ") or "record"
    return noun if noun.endswith("s") else f"{noun}s"


CHANGED_FIELDS_SQL = (
    "jsonb_object_keys(CASE WHEN jsonb_typeof(details->'changes') = 'object' THEN details->'changes' END)"
)
# A file named webinar-w41.csv becomes the family webinar-*.csv.
FILE_FAMILY_SQL = r"regexp_replace(details->>'file', '^([A-Za-z]+)[-_ ].*?(\.[A-Za-z0-9]+)?$', '\1-*\2')"


def _describe(period: Period, source: _Source, verb: str) -> tuple[str, str]:
    category, count = source.category, source.count
    things = _things(verb) if verb else "records"
    kind, _, name = source.key.partition(":")
    if kind == "files":
        what = f"{count:,} {things} imported by hand, from files named {name}"
        if "-*" in name:
            tool = name.split("-*", 1)[0]
            return what, f"connect the {tool} tool to the API, so its records arrive by themselves"
        return what, "send these records through the API instead of exporting and importing files"
    if kind == "import":
        return f"{count:,} {things} imported by hand", "send these records through the API instead of files"
    if kind == "send":
        person = name.partition(":")[2]
        noun = "e-mails" if verb.startswith("email.") else "messages"
        return (
            f"{count:,} {noun} sent by hand by {person}",
            "turn them into a campaign that sends on a trigger or a schedule",
        )
    if category == Category.ROUTING:
        return f"{count:,} owners assigned by hand", "add a routing rule (round robin, territory or account)"
    if category == Category.TAGGING:
        tag = _top_detail(period, category, verb, "details->>'tag'")
        if tag:
            return (
                f"{count:,} tags changed by hand, most often “{tag[0]}” ({tag[1]:,})",
                f"add a tagging rule that sets “{tag[0]}” from what contacts do",
            )
        return f"{count:,} tags changed by hand", "add a tagging rule"
    if category == Category.FIELD_UPDATE:
        changed = _top_detail(period, category, verb, CHANGED_FIELDS_SQL)
        field = f", most often {changed[0].replace('_', ' ')}" if changed else ""
        advice = (
            f"let enrichment or a form fill in {changed[0].replace('_', ' ')}"
            if changed
            else "let enrichment or a form fill these fields"
        )
        return f"{count:,} {things} edited by hand{field}", advice
    if category == Category.SCORING:
        return f"{count:,} scores changed by hand", "add a scoring rule for what made people change them"
    if category == Category.DATA_CAPTURE:
        return f"{count:,} {things} entered by hand", "capture them with a form or through the API"
    if category == Category.SEGMENTATION:
        return f"{count:,} lists changed by hand", "define a segment that re-forms by itself"
    if category == Category.CONSENT:
        return f"{count:,} consent changes entered by hand", "let the preference centre record them"
    if category == Category.DATA_HYGIENE:
        return f"{count:,} clean-ups done by hand", "schedule a clean-up rule"
    label = category_label(category).lower()
    return f"{count:,} {label} actions by hand ({verb})", "make this step part of a campaign or a rule"


# Where a manual action came from, so each source of manual work is listed once: an import
# by its family of files (or by its job when it had no file), a send by the person who sends by
# hand, anything else by its kind of action.
SOURCE_SQL = f"""
    CASE WHEN category = 'import' AND COALESCE(details->>'file', '') <> ''
         THEN 'files:' || {FILE_FAMILY_SQL}
         WHEN category = 'import'
         THEN 'import:' || COALESCE(details->>'import_job', verb)
         WHEN verb LIKE '%%.sent' OR verb LIKE '%%.sent_again'
         THEN 'send:' || actor_type || ':' || actor_name
         ELSE 'work:' || category || ':' || verb END
"""


@dataclass(frozen=True)
class _Source:
    key: str
    category: str
    verbs: list[str]
    count: int


def _sources(period: Period, *, limit: int) -> list[_Source]:
    """The period's manual units of work by source, largest first. Bounded by the ledger's
    (occurred_at, actor_kind) index, and manual actions are the few."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT source, min(category), array_agg(DISTINCT verb ORDER BY verb), count(*)
              FROM (SELECT {SOURCE_SQL} AS source, category, verb FROM ledger_action
                     WHERE occurred_at >= %s AND occurred_at < %s AND actor_kind = %s
                       AND verb = ANY(%s)) manual
             GROUP BY source ORDER BY count(*) DESC, source LIMIT %s
            """,
            [period.start_at, period.end_before, ActorKind.MANUAL, counted_verbs(), limit],
        )
        return [_Source(key, category, verbs, count) for key, category, verbs, count in cursor.fetchall()]


def automate_next(*, period: Period, limit: int = 5) -> list[Suggestion]:
    """The largest sources of manual work in the period, largest first, each source once."""
    totals = period_tally(period=period)
    suggestions = []
    for source in _sources(period, limit=limit):
        verb = source.verbs[0] if len(source.verbs) == 1 else ""
        what, advice = _describe(period, source, verb)
        suggestions.append(
            Suggestion(
                category=source.category,
                verb=verb,
                source=source.key,
                count=source.count,
                what=what,
                advice=advice,
                manual_share=round(100 * source.count / totals.manual, 1) if totals.manual else 0.0,
                before=totals,
                after=totals.automating(source.count),
            )
        )
    return suggestions
