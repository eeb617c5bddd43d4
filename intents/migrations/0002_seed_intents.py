from django.db import migrations

from intents.taxonomy import default_intents_ensure


def seed(apps, schema_editor):
    default_intents_ensure(apps.get_model("intents", "Intent"))


class Migration(migrations.Migration):
    dependencies = [("intents", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
