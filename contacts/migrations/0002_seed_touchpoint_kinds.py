from django.db import migrations

from contacts.kinds import default_kinds_ensure


def seed(apps, schema_editor):
    default_kinds_ensure(apps.get_model("contacts", "TouchpointKind"))


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
