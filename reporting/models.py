from django.db import models

from ledger.models import ActorKind, Category

DIMENSIONS = [
    "day", "category", "verb", "channel", "actor_kind", "actor_type", "actor_id", "actor_name", "campaign",
]  # fmt: skip


class ActionRollup(models.Model):
    """Ledger actions counted per day and per everything the reports break them down by.

    A report reads these rows for what has been rolled up and the ledger itself only for
    the rows that came after (see RollupMark), so its cost follows the number of days and
    actors, not the number of actions.
    """

    day = models.DateField()
    category = models.CharField(max_length=32, choices=Category.choices)
    verb = models.CharField(max_length=64)
    channel = models.CharField(max_length=20, blank=True)
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    actor_type = models.CharField(max_length=20)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=200)
    campaign = models.CharField(
        max_length=200, blank=True, help_text="the campaign the action served, if known"
    )
    count = models.BigIntegerField()

    class Meta:
        verbose_name = "daily action count"
        ordering = ["-day", "category"]
        constraints = [
            # One row per day and dimensions; the incremental roll adds to it with ON CONFLICT.
            # actor_id is NULL for actors without a row of their own (tasks, commands).
            models.UniqueConstraint(
                fields=DIMENSIONS, name="action_rollup_dimensions_unique", nulls_distinct=False
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.category} {self.actor_kind} {self.actor_name}: {self.count}"


class RollupMark(models.Model):
    """How far the rollups reach: every ledger action with id <= through_id is counted in
    ActionRollup, and none after it. One row."""

    through_id = models.BigIntegerField(default=0)
    rolled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "rollup mark"

    def __str__(self) -> str:
        return f"ledger rolled up through action {self.through_id}"
