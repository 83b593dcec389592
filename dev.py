#!/usr/bin/env python3
"""The two set-up commands, with nothing but Python 3.11 needed on the machine.

    python3 dev.py serve   # venv + install + migrate + demo data + web app + RQ worker (embedded SQLite/Redis)
    python3 dev.py test    # venv + install + the whole test suite (embedded default, or DATABASE_URL/REDIS_URL)

Uses only the standard library until the virtualenv exists, then re-runs itself inside it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("CONTACT_CENTRE_VENV", ROOT / ".venv"))
PYTHON = VENV / "bin" / "python"
REQUIREMENTS = ROOT / "requirements.txt"
STAMP = VENV / ".requirements.sha256"


def ensure_virtualenv() -> None:
    """Create the venv and install requirements when they changed since the last install."""
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"Python 3.11 is required (this is {sys.version.split()[0]}).")
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not PYTHON.exists():
        print(f"creating virtualenv in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        print("installing requirements (first run takes a minute)", flush=True)
        subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True)
        STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"serve", "test"}:
        print(__doc__)
        return 2
    ensure_virtualenv()
    os.chdir(ROOT)
    if argv[0] == "serve":
        command = [str(PYTHON), "-m", "runtime.devserver", *argv[1:]]
    else:
        command = [str(PYTHON), "-m", "pytest", *argv[1:]]
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
