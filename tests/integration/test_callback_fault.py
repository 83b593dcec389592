"""Fault test: a real RQ worker process is killed (SIGKILL) in the middle of dialling a callback.

The simulated Twilio holds the worker's create-call request until the worker (which runs its jobs in its own
process: RQ's SimpleWorker) is dead. Then a new worker starts
(its start-up reconcile finds the stale claim) and the resident must have been dialled exactly once and the
callback must end connected once. Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from callbacks.lifecycle import schedule_callback
from callbacks.service import request_callback
from config import DEMO_ACCOUNT_SID
from models import CallbackStatus, Topic
from simulator.clock import SimulatedClock
from tests.conftest import REPO_ROOT, TEST_AUTH_TOKEN, callback_with_attempts

pytestmark = pytest.mark.fault

RESIDENT = "+447400123456"
WAIT_SECONDS = 60


@pytest.fixture
def clock() -> SimulatedClock:
    """Real time: the worker processes use the system clock, so the app and the simulated Twilio must too."""
    return SimulatedClock()


class HeldCreateCall:
    """Wraps the simulated Twilio's call creation: the request arrives, then waits until the test says go."""

    def __init__(self, world, creates_the_call: bool) -> None:
        self.world = world
        self.original = world.create_outbound_call
        self.creates_the_call = creates_the_call
        self.arrived = threading.Event()
        self.released = threading.Event()
        self.held = 0

    def __call__(self, *args, **kwargs):
        if self.held == 0:
            self.held += 1
            self.arrived.set()
            self.released.wait(WAIT_SECONDS)
            if not self.creates_the_call:
                # Twilio never got the whole request: nothing is created (the worker is gone anyway).
                raise ConnectionAbortedError("client went away mid-request")
        return self.original(*args, **kwargs)


def _worker(live, settings) -> subprocess.Popen:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "TWILIO_ACCOUNT_SID": DEMO_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "TWILIO_API_BASE_URL": f"{live.base_url}/fake-twilio",
        "PUBLIC_BASE_URL": live.base_url,
        "SECRET_KEY": "test-secret-key",
        "SIMULATOR_ENABLED": "true",
        "LOG_LEVEL": "WARNING",
        "CALLBACK_STALE_CLAIM_SECONDS": "1",
    }
    code = "from config import load_settings; from runtime.worker import run_worker; run_worker(load_settings(), burst=True)"
    # Its own process group: SIGKILL reaches the worker doing the dial and any scheduler process at once.
    return subprocess.Popen([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, start_new_session=True)


@pytest.fixture
def workers(live_service, settings) -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _kill_worker(worker: subprocess.Popen) -> None:
    """SIGKILL the worker's process group: the dial job dies with it, mid-request."""
    os.killpg(worker.pid, signal.SIGKILL)
    assert worker.wait(timeout=10) == -signal.SIGKILL


def _book(live) -> int:
    services = live.services
    with services.session_factory.begin() as session:
        callback = request_callback(session, RESIDENT, Topic.COUNCIL_TAX, live.clock.now()).callback
        callback.status, callback.confirmation_sent_at = CallbackStatus.SCHEDULED, live.clock.now()
        callback_id = callback.id
    schedule_callback(services, callback_id)
    return callback_id


def _state(live, callback_id):
    return callback_with_attempts(live.services.session_factory, callback_id)


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.05)


def _kill_mid_dial(live, settings, workers, creates_the_call: bool) -> int:
    world = live.world
    world.phone(RESIDENT).will_answer()
    held = HeldCreateCall(world, creates_the_call)
    world.create_outbound_call = held
    callback_id = _book(live)

    first = _worker(live, settings)
    workers.append(first)
    assert held.arrived.wait(WAIT_SECONDS), "the worker never asked Twilio to dial"
    _kill_worker(first)
    held.released.set()  # the dead worker's request now completes (or not) inside the simulated Twilio

    callback, attempts = _state(live, callback_id)
    assert callback.status == CallbackStatus.DIALLING and [a.call_sid for a in attempts] == [None]
    time.sleep(1.1)  # CALLBACK_STALE_CLAIM_SECONDS=1 for the new worker

    second = _worker(live, settings)
    workers.append(second)
    assert second.wait(timeout=WAIT_SECONDS) == 0
    return callback_id


def _answer_and_hang_up(live, callback_id) -> None:
    live.world.run_pending()  # Twilio rings the resident, who answers and hears the greeting
    calls = [c for c in live.world.calls.values() if c.to == RESIDENT]
    assert len(calls) == 1, "the resident was dialled exactly once"
    assert "returning your call" in " ".join(calls[0].heard)
    calls[0].hang_up()


def test_a_dial_whose_worker_was_killed_after_twilio_took_it_is_adopted_not_repeated(
    live_service, settings, workers
):
    callback_id = _kill_mid_dial(live_service, settings, workers, creates_the_call=True)

    callback, attempts = _state(live_service, callback_id)
    (twilio_call,) = [c for c in live_service.world.calls.values() if c.to == RESIDENT]
    assert [a.call_sid for a in attempts] == [twilio_call.sid], "the reconciler adopted the call Twilio made"
    assert callback.status == CallbackStatus.DIALLING

    _answer_and_hang_up(live_service, callback_id)

    callback, attempts = _state(live_service, callback_id)
    assert callback.status == CallbackStatus.CONNECTED and callback.attempts == 1
    assert [(a.number, a.result) for a in attempts] == [(1, "completed")]


def test_a_dial_whose_worker_was_killed_before_twilio_took_it_is_dialled_once_by_the_next_worker(
    live_service, settings, workers
):
    callback_id = _kill_mid_dial(live_service, settings, workers, creates_the_call=False)

    _answer_and_hang_up(live_service, callback_id)

    callback, attempts = _state(live_service, callback_id)
    assert callback.status == CallbackStatus.CONNECTED and callback.attempts == 2
    assert [(a.number, a.result) for a in attempts] == [(1, "not_dialled"), (2, "completed")]
