from django.db import migrations

# Rows that hang off a contact or an enrollment go with it inside PostgreSQL: deleting a
# million contacts then costs no query per referring table in Django's collector.
DATABASE_CASCADES = """
DO $$
DECLARE link record;
BEGIN
    FOR link IN
        SELECT c.conname, c.conrelid::regclass AS child, a.attname AS column_name,
               c.confrelid::regclass AS parent,
               CASE WHEN c.conrelid = 'campaigns_outboxmessage'::regclass
                     AND c.confrelid = 'campaigns_enrollment'::regclass
                    THEN 'SET NULL' ELSE 'CASCADE' END AS action
          FROM pg_constraint c
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
         WHERE c.contype = 'f'
           AND ((c.conrelid IN ('campaigns_enrollment'::regclass, 'campaigns_outboxmessage'::regclass)
                 AND c.confrelid = 'contacts_contact'::regclass)
             OR (c.conrelid IN ('campaigns_steprun'::regclass, 'campaigns_outboxmessage'::regclass)
                 AND c.confrelid = 'campaigns_enrollment'::regclass))
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', link.child, link.conname);
        EXECUTE format(
            'ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (%I) REFERENCES %s (id) ON DELETE %s'
            ' DEFERRABLE INITIALLY DEFERRED',
            link.child, link.conname, link.column_name, link.parent, link.action);
    END LOOP;
END $$;
"""


class Migration(migrations.Migration):
    # Its own migration: Django adds a new table's foreign keys at the end of the migration
    # that creates it, so they exist only once 0001 is done.
    dependencies = [("campaigns", "0001_campaigns")]
    operations = [migrations.RunSQL(DATABASE_CASCADES, migrations.RunSQL.noop)]
