"""The moment tests stand still at (the `clock` fixture), unless a test moves it."""

from datetime import UTC, datetime

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
