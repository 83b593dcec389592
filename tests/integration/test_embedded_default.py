"""The README's run command: web app + RQ worker + embedded Redis + SQLite, migrated and seeded, as a user starts it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import redis
import requests
from rq import Worker

from config import DEMO_AUTH_TOKEN
from tests.conftest import REPO_ROOT, call_form, twilio_signature


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def running_service(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.db'}", TWILIO_AUTH_TOKEN=DEMO_AUTH_TOKEN)
    process = subprocess.Popen(
        [sys.executable, "-m", "runtime.devserver", "--port", str(port), "--instance-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
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
