"""A copy of the project as a fresh clone has it, for tests that run its commands the way a newcomer would."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

# What a clone does not have: version control, virtualenvs, local state and caches (as in .gitignore).
_NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".ci-venv",
    "instance",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".hypothesis",
    "*.db",
    "*.rdb",
    ".env",
    "test-results",
    "results",
)


def copy_project(destination: Path) -> Path:
    """Copy the working tree (uncommitted changes included) to destination/kirklees; return that folder."""
    target = destination / "kirklees"
    shutil.copytree(REPO_ROOT, target, ignore=_NOT_IN_A_CLONE)
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
