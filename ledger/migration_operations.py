"""Migration operations for rows that point back to what made them by an origin (see
ledger.origins) where they once had a foreign key to it.

They change the database only: the models' state is moved by the migration that uses
them (with SeparateDatabaseAndState). Both directions run in constant time whatever the
table's size, apart from clearing the origins that do not point at a row any more on the
way back.
"""

# ruff: noqa: S608 - table and column names are the migration's own, quoted; values are parameters

from __future__ import annotations

from django.db import migrations

ORIGIN_TYPE_LENGTH = 32


class ForeignKeyToOrigin(migrations.operations.base.Operation):
    """`fk_column` (a foreign key to `to_table`) becomes the pair origin_type, origin_id:
    the column and its index are renamed in place, the constraint dropped, and the rows
    that had one are of `origin_type`."""

    reversible = True
    reduces_to_sql = False

    def __init__(self, *, table: str, fk_column: str, to_table: str, origin_type: str, index_name: str):
        self.table, self.fk_column, self.to_table = table, fk_column, to_table
        self.origin_type, self.index_name = origin_type, index_name

    def deconstruct(self):
        kwargs = {
            "table": self.table, "fk_column": self.fk_column, "to_table": self.to_table,
            "origin_type": self.origin_type, "index_name": self.index_name,
        }  # fmt: skip
        return self.__class__.__qualname__, [], kwargs

    def state_forwards(self, app_label, state):
        pass

    def _constraints(self, schema_editor, column: str) -> dict:
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            found = connection.introspection.get_constraints(cursor, self.table)
        return {name: spec for name, spec in found.items() if spec["columns"] == [column]}

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        quote = schema_editor.quote_name
        table = quote(self.table)
        constraints = self._constraints(schema_editor, self.fk_column)
        for name, spec in constraints.items():
            if spec["foreign_key"]:
                schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        for name, spec in constraints.items():
            if spec["index"] and not spec["unique"] and not spec["foreign_key"]:
                if name != self.index_name:
                    schema_editor.execute(f"ALTER INDEX {quote(name)} RENAME TO {quote(self.index_name)}")
                break
        else:
            schema_editor.execute(
                f"CREATE INDEX {quote(self.index_name)} ON {table} ({quote(self.fk_column)})"
            )
        schema_editor.execute(f"ALTER TABLE {table} RENAME COLUMN {quote(self.fk_column)} TO origin_id")
        # A constant default is written into the catalogue, not into each row.
        schema_editor.execute(
            f"ALTER TABLE {table} ADD COLUMN origin_type varchar({ORIGIN_TYPE_LENGTH}) NOT NULL DEFAULT %s",
            [self.origin_type],
        )
        schema_editor.execute(f"UPDATE {table} SET origin_type = '' WHERE origin_id IS NULL")
        schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN origin_type DROP DEFAULT")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        quote = schema_editor.quote_name
        table, to_table = quote(self.table), quote(self.to_table)
        schema_editor.execute(
            f"UPDATE {table} SET origin_id = NULL WHERE origin_id IS NOT NULL AND (origin_type <> %s"
            f" OR NOT EXISTS (SELECT 1 FROM {to_table} o WHERE o.id = {table}.origin_id))",
            [self.origin_type],
        )
        schema_editor.execute(f"ALTER TABLE {table} DROP COLUMN origin_type")
        schema_editor.execute(f"ALTER TABLE {table} RENAME COLUMN origin_id TO {quote(self.fk_column)}")
        old_index = f"{self.table}_{self.fk_column}_idx"[:63]
        schema_editor.execute(f"ALTER INDEX {quote(self.index_name)} RENAME TO {quote(old_index)}")
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {quote(f'{self.table}_{self.fk_column}_fk'[:63])}"
            f" FOREIGN KEY ({quote(self.fk_column)}) REFERENCES {to_table} (id) DEFERRABLE INITIALLY DEFERRED"
        )

    def describe(self):
        return f"{self.table}.{self.fk_column} becomes an origin ({self.origin_type})"
