"""The project carries what it needs: a copy placed in an empty folder, with nothing beside it, still works.

A green suite in the usual checkout once hid that the Twilio spec was read from ../shared: in a clone anywhere
else every fake Twilio request failed and no simulated caller ever reached an adviser. These tests copy what git
tracks (tests/project_copy.py: a file that was never added is missing here too) into a temporary folder whose
only content is that copy, and run there with nothing from this checkout on the path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.project_copy import copy_project

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fresh_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every tracked file, as it stands in the working tree, under <empty folder>/kirklees."""
    copy = copy_project(tmp_path_factory.mktemp("alone"))
    assert sorted(path.name for path in copy.parent.iterdir()) == ["kirklees"]
    return copy


def _run_in(copy: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run this venv's Python in the copy, with an environment that points nowhere near this checkout."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"TWILIO_SPEC_PATH", "PYTHONPATH", "DATABASE_URL", "REDIS_URL"}
    }
    env.update(SIMULATOR_ENABLED="true", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, *arguments], cwd=copy, env=env, capture_output=True, text=True, timeout=300
    )


def test_a_simulated_caller_reaches_an_adviser_in_a_copy_with_nothing_beside_it(fresh_copy: Path):
    result = _run_in(
        fresh_copy,
        "-c",
        # Prove the code under test is the copy's, then run the shipped scenario as `flask sim run` would.
        "import app, sys; assert app.__file__.startswith(sys.argv[1]), app.__file__; "
        "from flask.cli import main; sys.argv = ['flask', '--app', 'app', 'sim', 'run', "
        "'scenarios/caller-reaches-an-adviser.yaml', 'scenarios/leave-the-queue-for-a-callback.yaml']; main()",
        str(fresh_copy),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed, 0 failed" in result.stdout, result.stdout + result.stderr


def test_the_twilio_contract_tests_pass_in_a_copy_with_nothing_beside_it(fresh_copy: Path):
    result = _run_in(
        fresh_copy,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/integration/test_gateway_contract.py",
        "tests/integration/test_sim_fake_rest.py",
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert " passed" in result.stdout and "failed" not in result.stdout, result.stdout[-2000:]
