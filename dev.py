#!/usr/bin/env python3
"""The two set-up commands, with nothing but Python 3.11 needed on the machine.

    python3 dev.py serve   # venv + install + migrate + demo data + web app + RQ worker (embedded SQLite/Redis)
    python3 dev.py test    # venv + install + the whole test suite (embedded default, or DATABASE_URL/REDIS_URL)

and the app's own command line on the same embedded default (`flask --app app ...` inside the venv):

    python3 dev.py flask flows list

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
        for step in (["--upgrade", "pip"], ["-r", str(REQUIREMENTS)]):
            if subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", *step]).returncode != 0:
                sys.exit("installing the requirements failed (pip's message is above)")
        STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"serve", "test", "flask"}:
        print(__doc__)
        return 2
    ensure_virtualenv()
    env = dict(os.environ)
    if argv[0] == "flask":
        # Run where the user stands, so file arguments (my-flow.json) mean what they typed.
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
        command = [str(PYTHON), "-m", "runtime.devcli", *argv[1:]]
    else:
        os.chdir(ROOT)
        module = "runtime.devserver" if argv[0] == "serve" else "pytest"
        command = [str(PYTHON), "-m", module, *argv[1:]]
    # Become the command: Ctrl-C, SIGTERM and the exit status are its own, with no wrapper left between it
    # and the terminal to print a traceback on Ctrl-C or to die and leave it running.
    sys.stdout.flush()
    os.execve(PYTHON, command, env)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)  # interrupted while creating the venv or installing: nothing to add
