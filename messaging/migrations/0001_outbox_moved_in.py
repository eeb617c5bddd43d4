"""The outbox, e-mail templates and layouts, sending rules and audiences, moved from
campaigns with their tables (campaigns_*) as they are. A message points back to the
campaign that wrote it by an origin instead of foreign keys to campaigns."""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from ledger.migration_operations import ForeignKeyToOrigin

MODELS = [
    "outboxmessage",
    "deliveryattempt",
    "emaillayout",
    "emailtemplate",
    "sendingrule",
    "audience",
    "audiencesync",
]


def _content_types_relabel(apps, source: str, target: str) -> None:
    """Permissions given to people follow the models: their content types change app. One
    made afresh on the other side (by a migrate that ran in between) gives way."""
    content_types = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        moving = content_types.objects.filter(app_label=source, model=model).first()
        if moving is not None:
            content_types.objects.filter(app_label=target, model=model).delete()
            moving.app_label = target
            moving.save(update_fields=["app_label"])


def content_types_move(apps, schema_editor):
    _content_types_relabel(apps, "campaigns", "messaging")


def content_types_move_back(apps, schema_editor):
    _content_types_relabel(apps, "messaging", "campaigns")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("campaigns", "0007_database_cascades_for_tasks_and_leads"),
        ("contacts", "0008_pending_touchpoints"),
        ("segments", "0002_try_timestamptz"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="EmailLayout",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=200, unique=True)),
                        (
                            "html",
                            models.TextField(
                                help_text="Must contain {{ content }}; may use {{ preheader }}, {{ unsubscribe_url }}, {{ preferences_url }}, {{ contact.* }}, {{ account.* }}, {{ campaign.name }}.",
                                verbose_name="HTML",
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        (
                            "updated_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                    ],
                    options={
                        "db_table": "campaigns_emaillayout",
                        "ordering": ["name"],
                    },
                ),
                migrations.CreateModel(
                    name="Audience",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=200)),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("ads_csv", "Ad platform CSV (SHA-256 of e-mails)"),
                                    ("postal_csv", "Direct mail CSV (postal addresses)"),
                                    ("webhook", "Webhook (hashed e-mails as JSON)"),
                                ],
                                max_length=12,
                            ),
                        ),
                        (
                            "url",
                            models.URLField(
                                blank=True, help_text="for a webhook audience: where the members are posted"
                            ),
                        ),
                        (
                            "secret",
                            models.CharField(
                                blank=True,
                                help_text="for a webhook audience: the key its requests are signed with",
                                max_length=200,
                            ),
                        ),
                        (
                            "every_hours",
                            models.PositiveIntegerField(
                                blank=True,
                                help_text="sync on a schedule, every N hours; empty: only on demand",
                                null=True,
                                validators=[django.core.validators.MinValueValidator(1)],
                            ),
                        ),
                        ("next_sync_at", models.DateTimeField(blank=True, editable=False, null=True)),
                        ("last_synced_at", models.DateTimeField(blank=True, editable=False, null=True)),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        (
                            "segment",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="segments.segment",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "campaigns_audience",
                        "ordering": ["name"],
                    },
                ),
                migrations.CreateModel(
                    name="AudienceSync",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[("running", "Running"), ("done", "Done"), ("failed", "Failed")],
                                default="running",
                                max_length=8,
                            ),
                        ),
                        ("members", models.PositiveIntegerField(default=0)),
                        (
                            "excluded",
                            models.PositiveIntegerField(
                                default=0, help_text="in the segment but suppressed or unsubscribed"
                            ),
                        ),
                        ("file", models.FileField(blank=True, upload_to="audiences/%Y/%m/")),
                        ("error", models.TextField(blank=True)),
                        ("actor_name", models.CharField(blank=True, max_length=200)),
                        ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "audience",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="syncs",
                                to="messaging.audience",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "campaigns_audiencesync",
                        "ordering": ["-started_at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="EmailTemplate",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=200)),
                        (
                            "slug",
                            models.SlugField(
                                help_text="how send_email steps name it", max_length=100, unique=True
                            ),
                        ),
                        ("subject", models.CharField(max_length=300)),
                        (
                            "preheader",
                            models.CharField(
                                blank=True,
                                help_text="the line inboxes show after the subject",
                                max_length=300,
                            ),
                        ),
                        ("html", models.TextField(blank=True, verbose_name="HTML")),
                        (
                            "text",
                            models.TextField(
                                blank=True,
                                help_text="left empty, it is made from the HTML",
                                verbose_name="plain text",
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        (
                            "updated_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        (
                            "layout",
                            models.ForeignKey(
                                blank=True,
                                help_text="the shared frame; none: the built-in one",
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="templates",
                                to="messaging.emaillayout",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "campaigns_emailtemplate",
                        "ordering": ["name"],
                    },
                ),
                migrations.CreateModel(
                    name="OutboxMessage",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "key",
                            models.CharField(
                                help_text="hash of (enrollment, step, visit)", max_length=64, unique=True
                            ),
                        ),
                        (
                            "channel",
                            models.CharField(
                                choices=[("email", "E-mail"), ("sms", "SMS"), ("webhook", "Webhook")],
                                max_length=10,
                            ),
                        ),
                        ("origin_type", models.CharField(blank=True, max_length=32)),
                        ("origin_id", models.BigIntegerField(blank=True, null=True)),
                        ("payload", models.JSONField()),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("sending", "Sending"),
                                    ("sent", "Sent"),
                                    ("suppressed", "Suppressed"),
                                    ("failed", "Failed"),
                                ],
                                default="pending",
                                max_length=10,
                            ),
                        ),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("error", models.TextField(blank=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "contact",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="contacts.contact",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "campaigns_outboxmessage",
                        "ordering": ["-created_at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="DeliveryAttempt",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("number", models.PositiveSmallIntegerField()),
                        ("attempted_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("status_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("duration_ms", models.PositiveIntegerField(default=0)),
                        ("ok", models.BooleanField(default=False)),
                        ("error", models.TextField(blank=True)),
                        (
                            "provider_id",
                            models.CharField(
                                blank=True, help_text="the provider's id of the message", max_length=100
                            ),
                        ),
                        (
                            "message",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="attempt_log",
                                to="messaging.outboxmessage",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "campaigns_deliveryattempt",
                        "ordering": ["message", "number"],
                    },
                ),
                migrations.CreateModel(
                    name="SendingRule",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "channel",
                            models.CharField(
                                choices=[("email", "E-mail"), ("sms", "SMS"), ("webhook", "Webhook")],
                                max_length=10,
                                unique=True,
                            ),
                        ),
                        (
                            "cap_messages",
                            models.PositiveIntegerField(
                                blank=True,
                                help_text="per contact, across all campaigns",
                                null=True,
                                verbose_name="at most (messages)",
                            ),
                        ),
                        ("cap_days", models.PositiveIntegerField(default=1, verbose_name="per (days)")),
                        (
                            "quiet_start",
                            models.TimeField(blank=True, help_text="no sends from, e.g. 21:00", null=True),
                        ),
                        ("quiet_end", models.TimeField(blank=True, help_text="until, e.g. 08:00", null=True)),
                    ],
                    options={
                        "db_table": "campaigns_sendingrule",
                        "ordering": ["channel"],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("cap_days__gte", 1)),
                                name="sending_rule_cap_days_positive",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("quiet_end__isnull", True), ("quiet_start__isnull", True)),
                                    models.Q(("quiet_end__isnull", False), ("quiet_start__isnull", False)),
                                    _connector="OR",
                                ),
                                name="sending_rule_quiet_hours_whole",
                            ),
                        ],
                    },
                ),
                migrations.AddIndex(
                    model_name="audience",
                    index=models.Index(
                        condition=models.Q(("every_hours__isnull", False)),
                        fields=["next_sync_at"],
                        name="audience_due_idx",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="audience",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("kind", "webhook"), _negated=True),
                            models.Q(("url", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="audience_webhook_url_given",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="emailtemplate",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("html", ""), _negated=True),
                            models.Q(("text", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="email_template_has_a_body",
                    ),
                ),
                migrations.AddIndex(
                    model_name="outboxmessage",
                    index=models.Index(
                        condition=models.Q(("status", "pending")),
                        fields=["created_at"],
                        name="outbox_pending_idx",
                    ),
                ),
                migrations.AddIndex(
                    model_name="outboxmessage",
                    index=models.Index(
                        condition=models.Q(("next_attempt_at__isnull", False), ("status", "pending")),
                        fields=["next_attempt_at"],
                        name="outbox_retry_due_idx",
                    ),
                ),
                migrations.AddIndex(
                    model_name="outboxmessage",
                    index=models.Index(fields=["contact", "-created_at"], name="outbox_contact_idx"),
                ),
                migrations.AddIndex(
                    model_name="outboxmessage",
                    index=models.Index(fields=["origin_id"], name="outbox_origin_idx"),
                ),
                migrations.AddConstraint(
                    model_name="deliveryattempt",
                    constraint=models.UniqueConstraint(
                        fields=("message", "number"), name="delivery_attempt_unique"
                    ),
                ),
            ],
            database_operations=[
                ForeignKeyToOrigin(
                    table="campaigns_outboxmessage",
                    fk_column="campaign_id",
                    to_table="campaigns_campaign",
                    origin_type="campaign",
                    index_name="outbox_origin_idx",
                ),
                # Which enrollment wrote a message is in its step run (detail.message).
                migrations.RunSQL(
                    "ALTER TABLE campaigns_outboxmessage DROP COLUMN enrollment_id",
                    "ALTER TABLE campaigns_outboxmessage ADD COLUMN enrollment_id bigint NULL"
                    " REFERENCES campaigns_enrollment (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;"
                    " CREATE INDEX campaigns_outboxmessage_enrollment_id ON campaigns_outboxmessage (enrollment_id)",
                ),
            ],
        ),
        migrations.RunPython(content_types_move, content_types_move_back, elidable=True),
    ]
