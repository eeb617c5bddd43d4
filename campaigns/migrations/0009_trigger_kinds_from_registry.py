"""The kinds of trigger are the registry's (campaigns.triggers): choices read when needed."""

from django.db import migrations, models

import campaigns.triggers


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0008_outbox_routing_move_out"),
    ]

    operations = [
        migrations.AlterField(
            model_name="trigger",
            name="kind",
            field=models.CharField(choices=campaigns.triggers.trigger_kind_choices, max_length=20),
        ),
    ]
