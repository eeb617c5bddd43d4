"""The columns of a set-based INSERT, from the model itself.

Statements that create many rows at once (an API batch, an import, a benchmark's data)
name every column; written out by hand, each copy of the list has to learn about a new
column. Here the list comes from the model's `_meta`, and a column the statement does not
give takes the model's own default, as SQL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from django.db import connection, models
from django.utils import timezone


def _default_sql(field: models.Field) -> str:
    if field.has_default():
        default = field.default
        if default is timezone.now:
            return "now()"
        if callable(default):
            default = default()
        if isinstance(field, models.JSONField):
            return _literal(json.dumps(default)) + "::jsonb"
        if isinstance(default, bool):
            return "TRUE" if default else "FALSE"
        if isinstance(default, int | float):
            return str(default)
        return _literal(str(default))
    if field.null:  # typed: a SELECT DISTINCT would make a bare NULL text
        return f"NULL::{field.db_type(connection)}"
    if isinstance(field, models.CharField | models.TextField):
        return "''"
    raise ValueError(f"{field.model.__name__}.{field.name} has no default: the statement must give it")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''").replace("%", "%%") + "'"


def insert_columns(model: type[models.Model], given: Mapping[str, str]) -> tuple[str, str]:
    """(the column list, the values to SELECT) of an INSERT of the model's rows: every concrete
    column but an automatic primary key, in the model's order. `given` maps a column to the SQL
    that fills it; the others take the model's default."""
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.column not in given)]
    unknown = set(given) - {f.column for f in fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no columns {', '.join(sorted(unknown))}")
    columns = ", ".join(f.column for f in fields)
    values = ", ".join(given.get(f.column) or _default_sql(f) for f in fields)
    return columns, values
