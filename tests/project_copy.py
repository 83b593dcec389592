"""A copy of the project as a fresh clone has it, for tests that run its commands the way a newcomer would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT


def copy_project(destination: Path) -> Path:
    """Copy what git tracks, as it stands in the working tree, to destination/kirklees; return that folder.

    A clone has exactly the tracked files: a file never added is missing here too, as it would be in CI, and
    nothing local (virtualenvs, instance/, caches) comes along.
    """
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--cached"], cwd=REPO_ROOT, check=True, capture_output=True
    ).stdout.split(b"\0")
    target = destination / "kirklees"
    for name in filter(None, tracked):
        source = REPO_ROOT / os.fsdecode(name)
        if source.is_file():  # a tracked file deleted in the working tree is not part of the copy
            (target / os.fsdecode(name)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / os.fsdecode(name))
    return target


def newcomer_environment(shims: Path) -> dict[str, str]:
    """A shell with nothing set for the project: no DATABASE_URL, REDIS_URL or simulator mode.

    `python3` is this Python 3.11, and dev.py uses this test run's virtualenv instead of building a new one
    (CONTACT_CENTRE_VENV), so the copy is set up exactly as `dev.py` would, minus a minute of pip.
    """
    from config import env_documentation

    shims.mkdir(exist_ok=True)
    python3 = shims / "python3"
    if not python3.exists():
        python3.symlink_to(os.path.realpath(sys.executable))  # a plain Python 3.11, outside any venv
    env = {k: v for k, v in os.environ.items() if k not in env_documentation() and k != "PYTHONPATH"}
    env["PATH"] = os.pathsep.join([str(shims), env.get("PATH", "")])
    env["CONTACT_CENTRE_VENV"] = sys.prefix
    return env
