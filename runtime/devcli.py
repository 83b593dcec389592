"""`python3 dev.py flask …`: the app's command line (`flask --app app …`) on the embedded default.

The same environment `serve` runs in: simulator mode (demo Twilio credentials; the embedded Redis, serve's own
while it runs, else one for this command only) and, unless DATABASE_URL is set, the embedded SQLite database
migrated to the latest schema, so even a fresh clone's first command has its tables.
"""

from __future__ import annotations

import os
import sys

from config import DEFAULT_SQLITE_URL, REPO_ROOT


def main(argv: list[str]) -> None:
    os.environ.setdefault("SIMULATOR_ENABLED", "true")
    if not os.environ.get("DATABASE_URL"):
        from models.migrate import upgrade

        (REPO_ROOT / "instance").mkdir(exist_ok=True)
        upgrade(DEFAULT_SQLITE_URL)

    from flask.cli import main as flask_main

    sys.argv = ["flask", "--app", str(REPO_ROOT / "app.py"), *argv]
    flask_main()


if __name__ == "__main__":
    main(sys.argv[1:])
