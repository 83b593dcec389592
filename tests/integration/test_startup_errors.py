"""Every entry point refuses to start without its production settings in one plain line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from config import env_documentation
from tests.conftest import REPO_ROOT
from tests.processes import free_port

ENTRY_POINTS = {
    "flask-command": ["-m", "flask", "--app", "app", "flows", "list"],
    "flask-help": ["-m", "flask", "--app", "app", "--help"],
    "worker": ["-m", "runtime.worker"],
    "gunicorn": ["-m", "gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"],
}


def _environment_without_settings(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in env_documentation()}
    env["PORT"] = str(free_port())  # should gunicorn start after all, it must not take a real port
    env.update(settings)
    return env


def _run(arguments: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *arguments], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("arguments", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
def test_without_simulator_mode_each_entry_point_names_the_missing_settings_in_one_line(arguments):
    result = _run(arguments, _environment_without_settings())
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, result.stderr
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "SECRET_KEY", "REDIS_URL"):
        assert name in lines[0]
    assert "python3 dev.py" in lines[0] and "SIMULATOR_ENABLED=true" in lines[0]


@pytest.mark.parametrize("arguments", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
def test_a_malformed_setting_is_one_line_naming_the_variable(arguments):
    result = _run(arguments, _environment_without_settings(SIMULATOR_ENABLED="maybe"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines() == [
        "contact centre: SIMULATOR_ENABLED must be a boolean (true/false/1/0), got 'maybe'"
    ]
