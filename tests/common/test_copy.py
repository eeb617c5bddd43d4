from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from django.db import connection

from common.copy import copy_data, copy_rows, copy_text

HOSTILE = [
    "plain",
    "",
    "tab\there",
    "new\nline and carriage\rreturn",
    "back\\slash \\N and \\t written out",
    'quote " and {braces}, commas',
    "NULL",
    "ünïcödé ✓ 日本",
]


@pytest.fixture
def table(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE copy_probe (t text, n bigint, b boolean, at timestamptz, d date, tags text[])"
        )
    yield "copy_probe"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE copy_probe")


def rows_of(table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT t, n, b, at, d, tags FROM {table} ORDER BY n")
        return cursor.fetchall()


def sample_rows():
    paris = timezone(timedelta(hours=1))
    return [
        (
            text,
            n,
            n % 2 == 0,
            datetime(2026, 3, 1, 14, 30, n, 250, tzinfo=paris),
            date(2026, 1, n + 1),
            [text, "x"],
        )
        for n, text in enumerate(HOSTILE)
    ] + [(None, 99, None, None, None, None), ("", 100, True, datetime(2026, 1, 1, tzinfo=UTC), None, [])]


def test_copy_text_stores_what_copy_rows_stores(table):
    # given
    columns = ("t", "n", "b", "at", "d", "tags")
    copy_rows(table=table, columns=columns, rows=sample_rows())
    expected = rows_of(table)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")

    # when
    copy_data(table=table, columns=columns, data=copy_text(sample_rows()))

    # then
    assert rows_of(table) == expected
    assert [row[0] for row in expected[: len(HOSTILE)]] == HOSTILE
    assert expected[0][5] == ["plain", "x"]


def test_copy_text_refuses_a_value_it_cannot_write():
    with pytest.raises(TypeError, match="cannot write a dict"):
        copy_text([({"a": 1},)])
