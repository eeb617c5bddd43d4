"""Workers claim the messages they send with a lease, so that the outbox tick can take up
those of a lost worker; a message whose fate a lost worker took with it is `unknown`.

Messages left in `sending` by an earlier version had no claim: nothing would ever have
taken them up. They may have been sent, so they become unknown, for a person to decide.
The beat entries of the two ticks this one replaces go."""

from django.db import migrations, models

UNKNOWN_ERROR = "left in sending by an earlier version of the outbox: it may have been sent"


# Every message now has its delivery log: the log goes with its message inside PostgreSQL,
# as the message goes with its contact, so deleting contacts in bulk stays one statement.
ATTEMPTS_CASCADE = """
DO $$
DECLARE link record;
BEGIN
    FOR link IN
        SELECT c.conname FROM pg_constraint c
         WHERE c.contype = 'f' AND c.conrelid = 'campaigns_deliveryattempt'::regclass
           AND c.confrelid = 'campaigns_outboxmessage'::regclass
    LOOP
        EXECUTE format('ALTER TABLE campaigns_deliveryattempt DROP CONSTRAINT %I', link.conname);
        EXECUTE format(
            'ALTER TABLE campaigns_deliveryattempt ADD CONSTRAINT %I FOREIGN KEY (message_id)'
            ' REFERENCES campaigns_outboxmessage (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED',
            link.conname);
    END LOOP;
END $$;
"""


def sending_to_unknown(apps, schema_editor):
    messages = apps.get_model("messaging", "OutboxMessage")
    messages.objects.filter(status="sending", claim=None).update(status="unknown", error=UNKNOWN_ERROR)


def old_ticks_remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=["outbox-flush", "outbox-retry"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0008_pending_touchpoints"),
        ("messaging", "0001_outbox_moved_in"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboxmessage",
            name="claim",
            field=models.UUIDField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="lease_until",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("suppressed", "Suppressed"),
                    ("failed", "Failed"),
                    ("unknown", "Unknown: may have been sent"),
                ],
                default="pending",
                max_length=10,
            ),
        ),
        migrations.AddIndex(
            model_name="outboxmessage",
            index=models.Index(
                condition=models.Q(("status", "sending")), fields=["lease_until"], name="outbox_sending_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="outboxmessage",
            index=models.Index(
                condition=models.Q(("status", "unknown")), fields=["created_at"], name="outbox_unknown_idx"
            ),
        ),
        migrations.RunSQL(ATTEMPTS_CASCADE, migrations.RunSQL.noop),
        migrations.RunPython(sending_to_unknown, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(old_ticks_remove, migrations.RunPython.noop, elidable=True),
    ]
