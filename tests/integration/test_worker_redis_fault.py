"""Fault test: Redis restarts empty, or RQ's scheduler dies, while a real worker waits for jobs.

The worker is `python -m runtime.worker`, as production runs it, against its own `redis-server` on a free
127.0.0.1 port without persistence (a restart loses everything, as a production Redis without persistence
would) and a recording stand-in for Twilio's REST API. Within 5 s of Redis answering again (or of the
scheduler dying):

- RQ's scheduler runs again: a job scheduled with `enqueue_at` for 2 s later runs, once;
- the callback reconciler chain is re-armed (its next run is in RQ's schedule) and the worker is back in RQ's
  registry;
- a confirmation text that fell due while Redis was away (its job died with Redis) reaches Twilio.

Cases: Redis restarted at once while the worker is part-way through its idle wait and its scheduler is stuck;
the scheduler killed while Redis stays up; Redis away for 20 s, during which the worker must neither spin nor
fill its log.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
from rq import Worker
from rq.registry import ScheduledJobRegistry

from callbacks.service import request_callback
from config import DEMO_ACCOUNT_SID, Settings
from models import CallbackStatus, Topic
from runtime.embedded_redis import start_embedded_redis
from runtime.services import Services, build_services
from tests.conftest import REPO_ROOT, TEST_AUTH_TOKEN

pytestmark = [pytest.mark.fault, pytest.mark.slow]

RESIDENT_MOBILE = "+447400123987"
BACK_WITHIN = 5.0  # seconds from Redis answering again
SCHEDULED_JOB_DELAY = 2  # seconds after Redis came back
GIVE_UP = 30.0
RUNS_KEY = "fault-test:runs"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateRedis:
    """A redis-server of this test alone, on a free port; `stop` then `start` gives an empty Redis."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start it; returns the moment (time.time()) it first answered."""
        _url, self.process = start_embedded_redis(self.folder, port=self.port, persist=False)
        return time.time()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@dataclass
class Received:
    path: str
    form: dict[str, str]
    at: float


class RecordingTwilio:
    """Twilio's REST API as far as the worker uses it: records every request, answers like Twilio."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, status: int, body: dict[str, object]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", 0))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                with recorder.lock:
                    recorder.received.append(Received(self.path, form, time.time()))
                    sid = f"{len(recorder.received):032d}"
                if self.path.endswith("/Messages.json"):
                    self._reply(201, {"sid": "SM" + sid, "status": "queued", "to": form.get("To")})
                else:
                    self._reply(201, {"sid": "CA" + sid, "status": "queued", "to": form.get("To")})

            def do_GET(self) -> None:  # noqa: N802
                self._reply(200, {"calls": [], "next_page_uri": None})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def texts_to(self, number: str) -> list[Received]:
        with self.lock:
            return [
                r for r in self.received if r.path.endswith("/Messages.json") and r.form.get("To") == number
            ]


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log: Path

    def log_lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()

    def cpu_seconds(self) -> float:
        """CPU time used so far by the worker and its children still running (its scheduler process)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in _process_group(self.process.pid):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return total


def _schedulers(worker: WorkerProcess) -> list[int]:
    """The worker's scheduler processes (its only children)."""
    return [pid for pid in _process_group(worker.process.pid) if pid != worker.process.pid]


def _process_group(pgid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                found.append(int(entry.name))
    return found


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def twilio() -> Iterator[RecordingTwilio]:
    recorder = RecordingTwilio()
    yield recorder
    recorder.server.shutdown()


@pytest.fixture
def services(
    app, settings: Settings, private_redis: PrivateRedis, twilio: RecordingTwilio
) -> Iterator[Services]:
    """This test's clients: the suite's database (emptied by `app`), the private Redis, the recording Twilio."""
    built = build_services(replace(settings, redis_url=private_redis.url, twilio_api_base_url=twilio.url))
    yield built
    built.redis.close()
    built.engine.dispose()


@pytest.fixture
def worker(services: Services, tmp_path: Path) -> Iterator[WorkerProcess]:
    """`python -m runtime.worker` as production runs it, in its own process group, logging to a file."""
    settings = services.settings
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url or "",
        "TWILIO_ACCOUNT_SID": DEMO_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "TWILIO_API_BASE_URL": settings.twilio_api_base_url,
        "SECRET_KEY": "test-secret-key",
        "LOG_LEVEL": "INFO",
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "runtime.worker"],
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started = WorkerProcess(process, log)
    try:
        _wait_for(lambda: _scheduler_locked(services), "the worker started RQ's scheduler", process)
        yield started
    finally:
        print("".join(f"worker| {line}\n" for line in started.log_lines()[-60:]))  # shown if the test fails
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def _wait_for(
    condition, what: str, process: subprocess.Popen[bytes] | None = None, give_up: float = GIVE_UP
) -> float:
    """Poll until `condition()` holds, for at most `give_up` seconds; returns when it first did (time.time())."""
    deadline = time.monotonic() + give_up
    while True:
        try:
            if condition():
                return time.time()
        except redis.ConnectionError:
            pass
        assert process is None or process.poll() is None, f"the worker exited while waiting: {what}"
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.02)


def _scheduler_locked(services: Services) -> bool:
    return bool(services.redis.exists(f"rq:scheduler-lock:{services.queue.name}"))


def _book_while_redis_is_away(services: Services) -> int:
    """A booking the web app saved while Redis was away: in the database, with no job in RQ for its texts."""
    now = datetime.now(UTC)
    slot_start = (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    with services.session_factory.begin() as session:
        callback = request_callback(
            session,
            RESIDENT_MOBILE,
            Topic.COUNCIL_TAX,
            now,
            slot=(slot_start, slot_start + timedelta(hours=1)),
            status=CallbackStatus.SCHEDULED,
        ).callback
        return callback.id


def _reconciler_armed(services: Services) -> bool:
    job_ids = ScheduledJobRegistry(queue=services.queue).get_job_ids()
    return any(job_id.startswith("callbacks-reconcile-") for job_id in job_ids)


def _runs(services: Services) -> list[float]:
    return [float(started) for started in services.redis.lrange(RUNS_KEY, 0, -1)]


def _records(lines: list[str]) -> list[str]:
    """Log records (a line starting with a timestamp), not the lines of their tracebacks."""
    return [line for line in lines if line[:4].isdigit() and line[4:5] == "-"]


def _restart_redis_empty(private_redis: PrivateRedis, services: Services) -> float:
    """Stop Redis and start it again at once, empty; returns when it answered again."""
    services.redis.set("fault-test:before-restart", 1)
    private_redis.stop()
    back = private_redis.start()
    assert not services.redis.exists("fault-test:before-restart"), "Redis came back empty"
    return back


def _assert_background_work_resumed(
    services: Services, worker: WorkerProcess, back: float, also: dict[str, Callable[[], object]]
) -> None:
    """Within BACK_WITHIN of `back`: a fresh enqueue_at job runs (once), the reconciler chain and the worker's
    registration are back, and whatever `also` names has happened."""
    services.queue.enqueue_at(
        datetime.fromtimestamp(back + SCHEDULED_JOB_DELAY, UTC),
        "tests.integration.jobs_for_tests.record_run",
        RUNS_KEY,
        job_id="fault-test-scheduled-after-redis-returned",
    )
    # Long enough to see how late something is, short enough to fail fast.
    give_up = back + 3 * BACK_WITHIN - time.time()
    conditions = {
        "reconciler chain re-armed": lambda: _reconciler_armed(services),
        "worker registered again": lambda: Worker.all(connection=services.redis),
        "enqueue_at job ran": lambda: _runs(services),
        **also,
    }
    timings = {
        what: _wait_for(done, what, worker.process, give_up) - back for what, done in conditions.items()
    }
    timings["enqueue_at job ran"] = _runs(services)[0] - back
    print("seconds after Redis answered again:", timings)
    assert all(seconds <= BACK_WITHIN for seconds in timings.values()), timings
    time.sleep(1.5)  # a second scheduler would move it again within a second
    assert len(_runs(services)) == 1, "the scheduled job ran once"
    assert worker.process.poll() is None, "the same worker carried on (no restart needed)"


def test_background_work_resumes_within_seconds_when_redis_restarts_empty_mid_wait(
    services, private_redis, worker
):
    time.sleep(4)  # the worker is idle, part-way through waiting for a job
    (old_scheduler,) = _schedulers(worker)
    # The scheduler process may be stuck in a command to the Redis that went away: it answers nothing now.
    os.kill(old_scheduler, signal.SIGSTOP)
    try:
        back = _restart_redis_empty(private_redis, services)
        # Nothing is queued, so no job wakes the worker: it must come round by itself.
        _assert_background_work_resumed(services, worker, back, also={})
        assert old_scheduler not in _schedulers(worker), "the stuck scheduler was stopped"
    finally:
        if old_scheduler in _process_group(worker.process.pid):
            os.kill(old_scheduler, signal.SIGCONT)


def test_a_scheduler_that_dies_while_the_worker_waits_for_jobs_is_replaced_within_seconds(services, worker):
    time.sleep(4)  # the worker is idle, part-way through waiting for a job; Redis stays up throughout
    (old_scheduler,) = _schedulers(worker)
    os.kill(old_scheduler, signal.SIGKILL)  # as the kernel's OOM killer might
    died = time.time()
    services.queue.enqueue_at(
        datetime.fromtimestamp(died + SCHEDULED_JOB_DELAY, UTC),
        "tests.integration.jobs_for_tests.record_run",
        RUNS_KEY,
        job_id="fault-test-scheduled-after-the-scheduler-died",
    )
    _wait_for(lambda: _runs(services), "the enqueue_at job ran", worker.process, give_up=3 * BACK_WITHIN)
    assert _runs(services)[0] - died <= BACK_WITHIN
    assert old_scheduler not in _schedulers(worker) and len(_schedulers(worker)) == 1


def test_a_worker_waits_quietly_while_redis_is_away_and_resumes_within_seconds_of_its_return(
    services, private_redis, twilio, worker
):
    time.sleep(2)
    log_before = len(worker.log_lines())
    private_redis.stop()
    _book_while_redis_is_away(services)
    time.sleep(8)  # redis-py's own retries take a few seconds; then each part of the worker says so once ...
    cpu_before, lines_before = worker.cpu_seconds(), len(worker.log_lines())
    time.sleep(12)  # ... and then nothing while Redis stays away
    cpu_away, lines_away = worker.cpu_seconds() - cpu_before, worker.log_lines()[lines_before:]
    back = private_redis.start()

    texted = {"confirmation text sent": lambda: twilio.texts_to(RESIDENT_MOBILE)}
    _assert_background_work_resumed(services, worker, back, also=texted)
    assert len(twilio.texts_to(RESIDENT_MOBILE)) == 1, "the confirmation is sent once"
    assert cpu_away < 1.0, f"the worker used {cpu_away:.2f} s of CPU in 12 s without Redis"
    assert lines_away == [], "\n".join(lines_away)
    noticed = _records(worker.log_lines()[log_before:lines_before])
    assert 1 <= len(noticed) <= 5, "\n".join(noticed)
