"""Teams, routing rules, lead assignments and tasks, moved from campaigns with their tables
(campaigns_*) as they are. A task or a lead points back to the campaign that made it by
an origin instead of a foreign key to campaigns."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from ledger.migration_operations import ForeignKeyToOrigin

MODELS = ["task", "team", "teammember", "routingrule", "leadassignment"]


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
    _content_types_relabel(apps, "campaigns", "routing")


def content_types_move_back(apps, schema_editor):
    _content_types_relabel(apps, "routing", "campaigns")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("campaigns", "0007_database_cascades_for_tasks_and_leads"),
        ("contacts", "0008_pending_touchpoints"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Team",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=100, unique=True)),
                        ("slug", models.SlugField(max_length=64, unique=True)),
                        (
                            "response_minutes",
                            models.PositiveIntegerField(
                                default=60,
                                help_text="the speed-to-lead deadline",
                                verbose_name="first response within (minutes)",
                            ),
                        ),
                        (
                            "lead",
                            models.ForeignKey(
                                blank=True,
                                help_text="escalations go to this person",
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "campaigns_team",
                        "ordering": ["name"],
                    },
                ),
                migrations.CreateModel(
                    name="RoutingRule",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("position", models.PositiveIntegerField(default=0)),
                        ("name", models.CharField(max_length=100)),
                        (
                            "countries",
                            models.JSONField(
                                blank=True,
                                default=list,
                                help_text='ISO codes, e.g. ["FR", "BE"]; empty: every country',
                            ),
                        ),
                        ("active", models.BooleanField(default=True)),
                        (
                            "team",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="rules",
                                to="routing.team",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "campaigns_routingrule",
                        "ordering": ["position", "id"],
                    },
                ),
                migrations.CreateModel(
                    name="LeadAssignment",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("rule", models.CharField(help_text="what decided the owner", max_length=100)),
                        ("origin_type", models.CharField(blank=True, editable=False, max_length=32)),
                        ("origin_id", models.BigIntegerField(blank=True, editable=False, null=True)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("open", "Waiting for a first response"),
                                    ("responded", "Responded"),
                                    ("escalated", "Escalated"),
                                ],
                                default="open",
                                max_length=10,
                            ),
                        ),
                        ("assigned_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("due_at", models.DateTimeField(blank=True, null=True)),
                        ("responded_at", models.DateTimeField(blank=True, null=True)),
                        ("escalated_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "contact",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="contacts.contact",
                            ),
                        ),
                        (
                            "owner",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "team",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="assignments",
                                to="routing.team",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "campaigns_leadassignment",
                        "ordering": ["-assigned_at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="TeamMember",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "capacity",
                            models.PositiveIntegerField(
                                blank=True, help_text="open leads at most; empty for no limit", null=True
                            ),
                        ),
                        ("active", models.BooleanField(default=True)),
                        ("last_assigned_at", models.DateTimeField(blank=True, editable=False, null=True)),
                        (
                            "team",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="members",
                                to="routing.team",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "campaigns_teammember",
                        "ordering": ["team", "id"],
                    },
                ),
                migrations.CreateModel(
                    name="Task",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("title", models.CharField(max_length=200)),
                        ("due_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "status",
                            models.CharField(
                                choices=[("open", "Open"), ("done", "Done")], default="open", max_length=6
                            ),
                        ),
                        ("origin_type", models.CharField(blank=True, editable=False, max_length=32)),
                        ("origin_id", models.BigIntegerField(blank=True, editable=False, null=True)),
                        (
                            "key",
                            models.CharField(
                                blank=True, editable=False, max_length=64, null=True, unique=True
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, editable=False),
                        ),
                        ("completed_at", models.DateTimeField(blank=True, editable=False, null=True)),
                        (
                            "assignee",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "assignment",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="tasks",
                                to="routing.leadassignment",
                            ),
                        ),
                        (
                            "contact",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="contacts.contact",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "campaigns_task",
                        "ordering": ["status", "due_at", "id"],
                        "indexes": [
                            models.Index(fields=["assignee", "status", "due_at"], name="task_assignee_idx"),
                            models.Index(fields=["origin_id"], name="task_origin_idx"),
                        ],
                    },
                ),
                migrations.AddIndex(
                    model_name="leadassignment",
                    index=models.Index(
                        condition=models.Q(("status", "open")),
                        fields=["due_at"],
                        name="lead_assignment_due_idx",
                    ),
                ),
                migrations.AddIndex(
                    model_name="leadassignment",
                    index=models.Index(fields=["owner", "status"], name="lead_assignment_owner_idx"),
                ),
                migrations.AddIndex(
                    model_name="leadassignment",
                    index=models.Index(fields=["origin_id"], name="lead_assignment_origin_idx"),
                ),
                migrations.AddConstraint(
                    model_name="teammember",
                    constraint=models.UniqueConstraint(fields=("team", "user"), name="team_member_unique"),
                ),
            ],
            database_operations=[
                ForeignKeyToOrigin(
                    table="campaigns_task",
                    fk_column="campaign_id",
                    to_table="campaigns_campaign",
                    origin_type="campaign",
                    index_name="task_origin_idx",
                ),
                ForeignKeyToOrigin(
                    table="campaigns_leadassignment",
                    fk_column="campaign_id",
                    to_table="campaigns_campaign",
                    origin_type="campaign",
                    index_name="lead_assignment_origin_idx",
                ),
            ],
        ),
        migrations.RunPython(content_types_move, content_types_move_back, elidable=True),
    ]
