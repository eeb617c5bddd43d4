from django.db import migrations

# Dates inside JSON attributes are text written by anybody; a comparison with one that is
# not a date (or not a real one, like 2026-02-30) must be false, not an error.
CREATE = r"""
CREATE OR REPLACE FUNCTION segments_try_timestamptz(value text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF value IS NULL OR value !~ '^\s*\d{4}-\d{2}-\d{2}' THEN
        RETURN NULL;
    END IF;
    -- A date without a time is midnight UTC, whatever the session's time zone.
    IF value ~ '^\s*\d{4}-\d{2}-\d{2}\s*$' THEN
        RETURN (value::date)::timestamp AT TIME ZONE 'UTC';
    END IF;
    IF value !~ '(Z|[+-]\d{2}(:?\d{2})?)\s*$' THEN
        RETURN value::timestamp AT TIME ZONE 'UTC';
    END IF;
    RETURN value::timestamptz;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("segments", "0001_segments")]

    operations = [
        migrations.RunSQL(CREATE, reverse_sql="DROP FUNCTION IF EXISTS segments_try_timestamptz(text)"),
    ]
