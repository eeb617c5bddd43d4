"""The kinds of trigger are the registry's (campaigns.triggers): the services check them."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0008_outbox_routing_move_out"),
    ]

    operations = [
        migrations.AlterField(
            model_name="trigger",
            name="kind",
            field=models.CharField(max_length=20),
        ),
    ]
