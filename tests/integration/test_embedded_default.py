"""The README's run command: web app + RQ worker + embedded Redis + SQLite, migrated and seeded, as a user starts it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests
from rq import Worker

from config import DEMO_AUTH_TOKEN
from tests.conftest import REPO_ROOT, call_form, twilio_signature
from tests.processes import command_line, descendants, free_port, is_running


def _serve_environment(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DATABASE_URL=f"sqlite:///{instance / 'embedded.db'}", TWILIO_AUTH_TOKEN=DEMO_AUTH_TOKEN)
    env["CONTACT_CENTRE_VENV"] = sys.prefix  # dev.py uses this test run's virtualenv
    return env


@pytest.fixture
def running_service(tmp_path):
    port = free_port()
    env = _serve_environment(tmp_path)
    process = subprocess.Popen(
        # The README's command, as typed (dev.py becomes the dev server, so signals reach it directly).
        [sys.executable, "dev.py", "serve", "--port", str(port), "--instance-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a command typed in a terminal is
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if requests.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the embedded default did not become ready:\n{process.stdout.read()}")
        time.sleep(0.3)
    yield base, tmp_path, process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_run_command_serves_a_ready_app_with_a_worker_and_demo_data(running_service):
    base, instance, process = running_service
    redis_port = (instance / "embedded-redis.port").read_text().strip()
    connection = redis.Redis.from_url(f"redis://127.0.0.1:{redis_port}/0")
    deadline = time.monotonic() + 30
    while not Worker.all(connection=connection) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert Worker.all(connection=connection), "the RQ worker did not start"

    page = requests.get(f"{base}/simulator", timeout=5)
    assert page.status_code == 200 and "no real calls are made" in page.text.lower()
    assert requests.post(f"{base}/voice/incoming", data=call_form(), timeout=5).status_code == 403
    form = call_form()
    signed = requests.post(
        f"{base}/voice/incoming",
        data=form,
        timeout=5,
        headers={"X-Twilio-Signature": twilio_signature(f"{base}/voice/incoming", form, DEMO_AUTH_TOKEN)},
    )
    assert signed.status_code == 200 and "<Gather" in signed.text

    worker_pid = Worker.all(connection=connection)[0].pid
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    # Stopping the service stops its worker and its embedded Redis: nothing is left running.
    with pytest.raises(ProcessLookupError):
        os.kill(worker_pid, 0)
    with pytest.raises(redis.ConnectionError):
        connection.ping()


def test_a_taken_port_is_reported_in_one_line_before_anything_is_started(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "dev.py", "serve", "--port", str(port), "--instance-dir", str(tmp_path)],
            cwd=REPO_ROOT,
            env=_serve_environment(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    suggestion = re.fullmatch(rf"port {port} is in use; try python3 dev.py serve --port (\d+)", lines[0])
    assert suggestion and int(suggestion[1]) > port, lines
    # Reported before migrating, seeding or starting Redis: the instance folder is still empty.
    assert list(tmp_path.iterdir()) == []
    assert "demo data" not in result.stdout


def _wait_for_worker(instance: Path) -> int:
    connection = redis.Redis.from_url(f"redis://127.0.0.1:{(instance / 'embedded-redis.port').read_text()}/0")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        workers = Worker.all(connection=connection)
        # Wait for RQ's scheduler too, so the stop goes through RQ's whole shutdown.
        if workers and connection.exists("rq:scheduler-lock:contact-centre"):
            return workers[0].pid
        time.sleep(0.2)
    pytest.fail("the RQ worker and its scheduler did not start")


def _ctrl_c(process: subprocess.Popen[str]) -> None:
    """What a terminal does on Ctrl-C: SIGINT to every process of the foreground process group."""
    os.killpg(process.pid, signal.SIGINT)


def _sigterm(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)


@pytest.mark.parametrize("stop", [_ctrl_c, _sigterm], ids=["ctrl-c", "sigterm"])
def test_stopping_serve_is_quiet_and_leaves_no_worker_or_redis_running(running_service, stop):
    _base, instance, process = running_service
    worker_pid = _wait_for_worker(instance)
    started = descendants(process.pid)
    assert worker_pid in started
    assert any("redis-server" in command_line(pid) for pid in started), started

    stop(process)
    output, _ = process.communicate(timeout=30)

    assert process.returncode == 0
    assert "Traceback" not in output, output
    assert output.rstrip().endswith("stopped")
    assert not [pid for pid in started if is_running(pid)], "serve left processes running"


def _redis_started(instance: Path, process: subprocess.Popen[str]) -> bool:
    return (instance / "embedded-redis.port").exists()  # migrating comes next


def _seeding(instance: Path, process: subprocess.Popen[str]) -> bool:
    return any("seed-demo" in command_line(pid) for pid in descendants(process.pid))


@pytest.mark.parametrize("moment", [_redis_started, _seeding], ids=["migrating", "seeding"])
def test_ctrl_c_while_serve_is_still_starting_is_quiet_and_leaves_nothing_running(tmp_path, moment):
    process = subprocess.Popen(
        [sys.executable, "dev.py", "serve", "--port", str(free_port()), "--instance-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        env=_serve_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not moment(tmp_path, process):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()[0]
        time.sleep(0.02)
    started = descendants(process.pid)
    _ctrl_c(process)
    output, _ = process.communicate(timeout=30)
    assert "Traceback" not in output, output
    assert "is running" not in output  # it was stopped before it served
    assert not [pid for pid in started | descendants(process.pid) if is_running(pid)]
