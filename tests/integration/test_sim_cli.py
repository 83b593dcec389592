"""`python3 dev.py flask sim run …` leaves no embedded redis-server behind, however it ends.

It runs in a fresh copy of the project, so the embedded Redis the app starts for the command (in the copy's
instance folder) is this command's own and not a running `serve`'s. A normal run is covered by the README
commands test; here a failing scenario and a Ctrl-C.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.processes import command_line, descendants, session_members
from tests.project_copy import copy_project, newcomer_environment


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("sim-cli")
    return copy_project(folder), newcomer_environment(folder / "shims")


def _sim_run(clone: Path, env: dict[str, str], *paths: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["python3", "dev.py", "flask", "sim", "run", *paths],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group and session, as a command typed in a terminal
    )


def _left_running(session: int) -> dict[int, str]:
    return {pid: command_line(pid) for pid in session_members(session)}


def test_a_failing_scenario_run_leaves_no_redis_running(fresh_clone, tmp_path):
    clone, env = fresh_clone
    failing = tmp_path / "wrong-expectation.yaml"
    failing.write_text(
        (clone / "scenarios" / "council-tax-by-keypad.yaml")
        .read_text()
        .replace("name: council-tax-by-keypad", "name: wrong-expectation")
        .replace("reached_queue: council_tax", "reached_queue: housing_benefit")
    )
    process = _sim_run(clone, env, str(failing))
    output, _ = process.communicate(timeout=180)
    assert process.returncode == 1, output
    assert "FAIL wrong-expectation" in output and "0 passed, 1 failed" in output
    assert "Traceback" not in output, output
    assert not _left_running(process.pid)


def test_ctrl_c_during_a_scenario_run_stops_quietly_and_leaves_no_redis_running(fresh_clone, tmp_path):
    clone, env = fresh_clone
    scenario = clone / "scenarios" / "council-tax-by-keypad.yaml"
    copies = []
    for number in range(40):  # far more than run before the interrupt
        copy = tmp_path / f"council-tax-{number}.yaml"
        shutil.copyfile(scenario, copy)
        copies.append(str(copy))
    process = _sim_run(clone, env, *copies)
    assert process.stdout is not None
    seen = []
    for line in process.stdout:  # wait until scenarios are running on their throwaway Redis
        seen.append(line)
        if line.startswith("PASS"):
            break
    redis_servers = [pid for pid in descendants(process.pid) if "redis-server" in command_line(pid)]
    assert len(redis_servers) == 2, "the app's embedded Redis and the scenarios' own"

    os.killpg(process.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    started = time.monotonic()
    rest, _ = process.communicate(timeout=60)
    output = "".join(seen) + rest

    assert time.monotonic() - started < 30
    assert process.returncode != 0
    assert "Traceback" not in output, output
    assert "40 passed" not in output
    assert not _left_running(process.pid)
