"""Layering rules from CONVENTIONS.md, checked on the source so a slip fails the build."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

# Pure domain cores: plain data in, decisions out.
PURE_MODULE_GLOBS = (
    "ivr/engine.py",
    "ivr/flow.py",
    "ivr/hours.py",
    "ivr/hours_words.py",
    "routing/engine.py",
    "routing/widening.py",
    "routing/ewt.py",
    "routing/store.py",
    "routing/states.py",
    "callbacks/slots.py",
    "callbacks/numbers.py",
    "simulator/scenarios.py",
)
BANNED_IN_PURE = ("flask", "redis", "sqlalchemy", "twilio", "rq")


def test_simulator_call_engine_stays_free_of_flask():
    # It plays Twilio's part (and may use twilio's own signature code), but must run without a web framework.
    for relative in ("simulator/call_engine.py", "simulator/twiml.py", "simulator/world.py"):
        path = REPO_ROOT / relative
        if path.exists():
            assert not {n for n in _imports(path) if n.split(".")[0] == "flask"}, relative


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _project_files() -> list[Path]:
    skip = {".venv", ".ci-venv", "tests", "node_modules"}
    return [p for p in REPO_ROOT.rglob("*.py") if not skip & set(p.relative_to(REPO_ROOT).parts)]


@pytest.mark.parametrize("relative", PURE_MODULE_GLOBS)
def test_pure_cores_import_no_framework_or_io_library(relative):
    path = REPO_ROOT / relative
    offenders = {name for name in _imports(path) if name.split(".")[0] in BANNED_IN_PURE}
    assert not offenders, f"{relative} imports {offenders}"


def test_only_the_telephony_gateway_builds_twilios_rest_client():
    allowed = {REPO_ROOT / "telephony" / "gateway.py"}
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for path in _project_files()
        if path not in allowed and any(name.startswith("twilio.rest") for name in _imports(path))
    ]
    assert offenders == []


def test_importing_the_app_module_does_no_io():
    import subprocess
    import sys

    # With an unreachable database and Redis, importing must still succeed: nothing connects at import time.
    code = "import app, ivr.views, runtime.worker, telephony.gateway"
    env = {
        "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
