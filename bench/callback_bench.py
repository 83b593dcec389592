"""Callback timing: N callbacks due within a compressed hour, dialled by real RQ worker processes.

    .venv/bin/python -m bench.callback_bench [--quick] [--callbacks 10000] [--spread 200] [--workers 4]

An hour of due times is compressed into `--spread` seconds of real time (10,000 callbacks over 200 s is 18 times
the rate of 10,000 in an hour). Three phases on the same machine, each with the same workers and due times:

1. baseline: bare RQ `enqueue_at` jobs that only record when they started;
2. callbacks: `schedule_callback` for each, workers claim and dial through the telephony gateway;
3. fault: as 2, but one worker (its process group: the job in hand and RQ's scheduler process) is SIGKILLed at
   40 % of the schedule and Redis is restarted empty at 60 %; the bench restarts exited workers as systemd would.

Dial start = when the fake Twilio received the create-call request. Due times are whole seconds, as booked
slots and retry times are. Reported: lateness p50/p99/max, early dials (must be 0), residents dialled twice
(must be 0), residents never dialled (must be 0). Everything runs on 127.0.0.1: a private `redis-server` on a
free port (never the shared 6379), PostgreSQL database `callback_bench` (re-created each run), and a tiny
recording fake of Twilio's Calls API.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "127.0.0.1:5432"
PG_USER = "postgres"
BENCH_DATABASE = "callback_bench"
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "bench-auth-token-not-secret"
BASELINE_KEY = "callback-bench:baseline-starts"
RECONCILE_SECONDS = 5  # the compressed schedule runs 60x fast; 30 s in production
STALE_CLAIM_SECONDS = 10
GRACE_SECONDS = 45  # after the last due time, how long to wait for stragglers before counting them lost


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def record_start(due_timestamp: float) -> None:
    """Baseline job: note when it started (the bare RQ cost of a timed job)."""
    from rq import get_current_job

    job = get_current_job()
    assert job is not None
    job.connection.hset(BASELINE_KEY, job.id, json.dumps([due_timestamp, time.time()]))


# --- the pieces the bench runs against ---------------------------------------------------------------------


class PrivateRedis:
    """A throwaway redis-server on a free 127.0.0.1 port, without persistence: a restart loses everything."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


class FakeTwilio:
    """Records create-call requests (who, when) and answers the Calls list/fetch the reconciler uses."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []
        self.lock = threading.Lock()
        fake = self

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
                received = time.time()
                length = int(self.headers.get("Content-Length", 0))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                with fake.lock:
                    call = {
                        "sid": f"CA{len(fake.calls) + 1:032d}",
                        "to": form.get("To", ""),
                        "received": received,
                    }
                    fake.calls.append(call)
                self._reply(201, fake.resource(call))

            def do_GET(self) -> None:  # noqa: N802
                path = urllib.parse.urlsplit(self.path).path
                with fake.lock:
                    calls = list(fake.calls)
                if path.endswith("/Calls.json"):
                    self._reply(
                        200, {"calls": [fake.resource(c) for c in reversed(calls)], "next_page_uri": None}
                    )
                    return
                sid = path.rsplit("/", 1)[-1].removesuffix(".json")
                found = [c for c in calls if c["sid"] == sid]
                self._reply(200, fake.resource(found[0])) if found else self._reply(404, {"code": 20404})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def resource(call: dict[str, object]) -> dict[str, object]:
        created = format_datetime(datetime.fromtimestamp(float(call["received"]), UTC), usegmt=True)  # type: ignore[arg-type]
        return {
            "sid": call["sid"],
            "account_sid": ACCOUNT_SID,
            "to": call["to"],
            "from": "+441484221000",
            "status": "in-progress",  # the resident is talking: nothing for the reconciler to settle
            "direction": "outbound-api",
            "answered_by": None,
            "date_created": created,
            "start_time": created,
        }

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()

    def stop(self) -> None:
        self.server.shutdown()


class Workers:
    """N `runtime.worker` processes, each in its own process group; `supervise()` restarts any that exit."""

    def __init__(self, count: int, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir = env, log_dir
        self.processes: list[subprocess.Popen[bytes]] = []
        self.restarts = 0
        for _ in range(count):
            self.processes.append(self._spawn())

    def _spawn(self) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"worker-{len(self.processes) + self.restarts}.log", "ab")  # noqa: SIM115
        return subprocess.Popen(
            [sys.executable, "-m", "runtime.worker"],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def supervise(self) -> None:
        for index, process in enumerate(self.processes):
            if process.poll() is not None:
                self.restarts += 1
                self.processes[index] = self._spawn()

    def kill_one_mid_job(self) -> None:
        """SIGKILL worker 0's process group: the worker (which runs its jobs itself) and any scheduler it forked."""
        victim = self.processes[0]
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


# --- phases --------------------------------------------------------------------------------------------------


@dataclass
class PhaseResult:
    name: str
    count: int
    lateness: list[float]  # seconds, one per resident dialled (first dial)
    early: int
    duplicates: int
    lost: int
    restarts: int = 0

    def percentile(self, p: float) -> float:
        if not self.lateness:
            return float("nan")
        ordered = sorted(self.lateness)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def due_times(count: int, spread: float, lead: float) -> list[float]:
    """Whole-second due times spread evenly over `spread` seconds, starting `lead` seconds from now."""
    start = int(time.time() + lead) + 1
    return [float(start + int(i * spread / count)) for i in range(count)]


def run_baseline(redis_url: str, dues: list[float], env: dict[str, str], log_dir: Path) -> PhaseResult:
    import redis
    from rq import Queue

    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    queue = Queue(env["RQ_QUEUE_NAME"], connection=connection)
    for index, due in enumerate(dues):
        queue.enqueue_at(
            datetime.fromtimestamp(due, UTC),
            "bench.callback_bench.record_start",
            due,
            job_id=f"bare-{index}",
            result_ttl=0,
        )
    workers = Workers(int(env["BENCH_WORKERS"]), env, log_dir)
    try:
        _wait(lambda: connection.hlen(BASELINE_KEY) >= len(dues), dues[-1] + GRACE_SECONDS, workers.supervise)
    finally:
        workers.stop()
    starts = [json.loads(v) for v in connection.hvals(BASELINE_KEY)]
    lateness = [started - due for due, started in starts]
    return PhaseResult(
        "bare RQ enqueue_at",
        len(dues),
        lateness,
        sum(1 for x in lateness if x < 0),
        0,
        len(dues) - len(starts),
    )


def run_callbacks(
    name: str,
    database_url: str,
    redis: PrivateRedis,
    twilio: FakeTwilio,
    dues: list[float],
    env: dict[str, str],
    log_dir: Path,
    fault: bool,
) -> PhaseResult:
    import redis as redis_client
    from sqlalchemy import insert, text

    from callbacks.lifecycle import schedule_callback
    from config import Settings
    from models import Callback, CallbackStatus, Topic
    from runtime.services import build_services

    redis_client.Redis.from_url(redis.url).flushdb()
    twilio.reset()
    settings = Settings(
        database_url=database_url,
        redis_url=redis.url,
        rq_queue_name=env["RQ_QUEUE_NAME"],  # the workers' queue, so their scheduler sees these dial jobs
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_api_base_url=twilio.url,
        simulator_enabled=True,
        callback_reconcile_seconds=RECONCILE_SECONDS,
        callback_stale_claim_seconds=STALE_CLAIM_SECONDS,
    )
    services = build_services(settings)
    now = services.clock.now()
    numbers = {f"+4474{index:08d}": due for index, due in enumerate(dues)}
    with services.engine.begin() as connection:
        connection.execute(
            text("TRUNCATE callback_attempt, inbound_message, callback RESTART IDENTITY CASCADE")
        )
        connection.execute(
            insert(Callback),
            [
                {
                    "number": number,
                    "topic": Topic.COUNCIL_TAX,
                    "language": "en-GB",
                    "status": CallbackStatus.SCHEDULED,
                    "attempts": 0,
                    "next_attempt_at": datetime.fromtimestamp(due, UTC),
                    "dedupe_key": f"{number}|council_tax",
                    "keeps_place": False,
                    "confirmation_sent_at": now,  # texts are not what this bench measures
                    "created_at": now,
                    "updated_at": now,
                }
                for number, due in numbers.items()
            ],
        )
        ids = [row[0] for row in connection.execute(text("SELECT id FROM callback ORDER BY id"))]
    workers = Workers(int(env["BENCH_WORKERS"]), env, log_dir)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda callback_id: schedule_callback(services, callback_id), ids))
    scheduled_by = time.time()
    faults: list[tuple[float, Callable[[], None]]] = []
    if fault:
        span = dues[-1] - dues[0]
        faults = [(dues[0] + 0.4 * span, workers.kill_one_mid_job), (dues[0] + 0.6 * span, redis.restart)]

    def tick() -> None:
        while faults and time.time() >= faults[0][0]:
            faults.pop(0)[1]()
        workers.supervise()

    try:
        _wait(lambda: len({c["to"] for c in twilio.calls}) >= len(dues), dues[-1] + GRACE_SECONDS, tick)
    finally:
        workers.stop()
        services.engine.dispose()
    first_dial: dict[str, float] = {}
    per_number = Counter(str(call["to"]) for call in twilio.calls)
    for call in twilio.calls:
        first_dial.setdefault(str(call["to"]), float(call["received"]))  # type: ignore[arg-type]
    lateness = [first_dial[number] - numbers[number] for number in first_dial if number in numbers]
    if scheduled_by > dues[0]:
        print(f"  warning: scheduling finished {scheduled_by - dues[0]:.1f} s after the first due time")
    return PhaseResult(
        name,
        len(dues),
        lateness,
        early=sum(1 for x in lateness if x < 0),
        duplicates=sum(1 for n in per_number.values() if n > 1),
        lost=len(set(numbers) - set(first_dial)),
        restarts=workers.restarts,
    )


def _wait(done: Callable[[], bool], until: float, tick: Callable[[], None]) -> None:
    while not done() and time.time() < until:
        tick()
        time.sleep(0.2)


# --- main ----------------------------------------------------------------------------------------------------


def prepare_database() -> str:
    import psycopg

    from models.migrate import upgrade

    with psycopg.connect(f"postgresql://{PG_USER}@{PG_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    url = f"postgresql+psycopg://{PG_USER}@{PG_SERVER}/{BENCH_DATABASE}"
    upgrade(url)
    return url


def render(results: list[PhaseResult]) -> str:
    lines = [
        "| phase | callbacks | p50 s | p99 s | max s | early | dialled twice | never dialled | worker restarts |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.count} | {r.percentile(50):.3f} | {r.percentile(99):.3f} | "
            f"{max(r.lateness, default=float('nan')):.3f} | {r.early} | {r.duplicates} | {r.lost} | {r.restarts} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--callbacks", type=int, default=10_000)
    parser.add_argument(
        "--spread", type=float, default=200.0, help="seconds of real time the due times cover"
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--lead", type=float, default=30.0, help="seconds before the first due time")
    parser.add_argument("--quick", action="store_true", help="1,000 callbacks over 15 s (a smoke run)")
    parser.add_argument("--no-fault", action="store_true", help="skip the kill -9 / Redis restart phase")
    args = parser.parse_args(argv)
    if args.quick:
        args.callbacks, args.spread, args.lead = 1000, 15.0, 8.0
    database_url = prepare_database()
    twilio = FakeTwilio()
    with tempfile.TemporaryDirectory(prefix="callback-bench-") as folder:
        redis = PrivateRedis(Path(folder))
        redis.start()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis.url,
            "RQ_QUEUE_NAME": "callback-bench",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_BASE_URL": twilio.url,
            "PUBLIC_BASE_URL": "http://127.0.0.1:9",  # no webhooks come back in this bench
            "SECRET_KEY": "callback-bench",
            "SIMULATOR_ENABLED": "true",
            "LOG_LEVEL": "WARNING",
            "CALLBACK_RECONCILE_SECONDS": str(RECONCILE_SECONDS),
            "CALLBACK_STALE_CLAIM_SECONDS": str(STALE_CLAIM_SECONDS),
            "BENCH_WORKERS": str(args.workers),
        }
        log_dir = Path(folder)
        results = []
        try:
            print(
                f"{args.callbacks} callbacks due over {args.spread:.0f} s (an hour compressed "
                f"{3600 / args.spread:.0f}x), {args.workers} worker processes"
            )
            print("phase 1: bare RQ enqueue_at baseline")
            results.append(
                run_baseline(redis.url, due_times(args.callbacks, args.spread, args.lead), env, log_dir)
            )
            print("phase 2: callbacks")
            dues = due_times(args.callbacks, args.spread, args.lead)
            results.append(
                run_callbacks("callbacks", database_url, redis, twilio, dues, env, log_dir, fault=False)
            )
            if not args.no_fault:
                print("phase 3: callbacks, one worker SIGKILLed at 40 %, Redis restarted empty at 60 %")
                dues = due_times(args.callbacks, args.spread, args.lead)
                results.append(
                    run_callbacks(
                        "callbacks + faults", database_url, redis, twilio, dues, env, log_dir, fault=True
                    )
                )
        finally:
            redis.stop()
            twilio.stop()
    print(render(results))
    baseline = results[0]
    for result in results[1:]:
        print(
            f"{result.name}: p99 {result.percentile(99):.3f} s = {result.percentile(99) / baseline.percentile(99):.2f}x "
            f"the bare RQ job's p99; early {result.early}, dialled twice {result.duplicates}, "
            f"never dialled {result.lost}"
        )
    ok = all(r.early == 0 and r.duplicates == 0 and r.lost == 0 for r in results[1:])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
