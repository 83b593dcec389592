"""Benchmark of the menu-step webhook (POST /voice/step) against a minimal reference app and a bare route.

    .venv/bin/python -m bench.ivr_bench                 # full: warm-up, then 3000 requests or 20 s per target
    .venv/bin/python -m bench.ivr_bench --quick         # about a 10-second smoke
    .venv/bin/python -m bench.ivr_bench --concurrency 16 --workers 2 --threads 8

In one run, under the same gunicorn settings (bind 127.0.0.1, --workers x --threads, no access log,
LOG_LEVEL=WARNING) and the same client load, it measures:

* app        — POST /voice/step?turn=1 with Digits=1: a caller at the main menu chooses council tax. Every request
               is a real step of a distinct call (state advance, journey events, replay cache write): K calls are
               first rung in (POST /voice/incoming) and taken past the language menu, not timed.
* reference  — bench/reference_app.py POST /ref/step: Say + Gather, one ORM insert + commit, one Redis SET.
* bare       — bench/reference_app.py POST /bare/step: fixed TwiML.
* app replay — the same signed requests as "app" sent again (same I-Twilio-Idempotency-Token): Twilio's retry
               path, answered with the reply the app kept, without running the step again.

Data goes to PostgreSQL database `bench` (dropped and re-created, migrated, demo-seeded, default flow published
at every start; never `test`) and Redis db 14 (flushed). The load generator runs in separate processes (spawned),
each with a few threads holding keep-alive http.client connections to 127.0.0.1 only; bodies and
X-Twilio-Signature headers are computed before the clock starts. Exit status: 0 when every request got the
expected TwiML, 2 otherwise; with --strict also 1 when app < 0.8x reference req/s.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "127.0.0.1:5432"
PG_USER = "postgres"
BENCH_DATABASE = "bench"
BENCH_REDIS_DB = 14
AUTH_TOKEN = "bench-auth-token-not-secret"
ACCOUNT_SID = "AC" + "0" * 32
TARGET_RATIO = 0.8

SAFE_TWIML_MARKER = b"Sorry, something went wrong"
SIGNATURE_HEADER = "X-Twilio-Signature"
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"  # Twilio sends one per webhook; a retry repeats it


# ----------------------------------------------------------------------------------------------- load generator


@dataclass
class PhaseResult:
    name: str
    sent: int = 0
    ok: int = 0
    bad: int = 0  # answered, but not the TwiML this step must produce (e.g. the safe apology)
    errors: int = 0  # connection errors / timeouts
    elapsed_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    completed: list[int] = field(default_factory=list, repr=False)  # indexes of requests answered correctly
    sample_bad: str = ""

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def percentile(self, p: int) -> float:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else float("nan")
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[p - 1]

    def summary(self) -> dict[str, object]:
        data = {k: v for k, v in asdict(self).items() if k not in {"latencies_ms", "completed"}}
        data.update(
            rps=round(self.rps, 1), p50_ms=round(self.percentile(50), 2), p99_ms=round(self.percentile(99), 2)
        )
        return data


# One request, ready to send: (path with query, urlencoded body, X-Twilio-Signature, I-Twilio-Idempotency-Token).
Request = tuple[str, bytes, str, str]


def _client_process(
    port: int,
    requests: list[tuple[int, Request]],
    threads: int,
    time_limit_s: float,
    must: tuple[bytes, ...],
    must_not: tuple[bytes, ...],
    barrier: object,
    results: object,
) -> None:
    """One load-generator process: `threads` keep-alive connections working through `requests`."""
    lock = threading.Lock()
    position = iter(range(len(requests)))
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(threads)]
    for connection in connections:
        connection.connect()
    latencies: list[float] = []
    completed: list[int] = []
    counts = {"sent": 0, "ok": 0, "bad": 0, "errors": 0}
    sample_bad = [""]
    barrier.wait()  # type: ignore[attr-defined]
    deadline = time.monotonic() + time_limit_s

    def worker(connection: http.client.HTTPConnection) -> None:
        local_latencies: list[float] = []
        local_completed: list[int] = []
        local = {"sent": 0, "ok": 0, "bad": 0, "errors": 0}
        bad_body = ""
        while time.monotonic() < deadline:
            with lock:
                slot = next(position, None)
            if slot is None:
                break
            index, (path, body, signature, token) = requests[slot]
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                SIGNATURE_HEADER: signature,
                IDEMPOTENCY_HEADER: token,
            }
            local["sent"] += 1
            started = time.perf_counter()
            try:
                connection.request("POST", path, body, headers)
                response = connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                local["errors"] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            elapsed_ms = (time.perf_counter() - started) * 1000
            if (
                response.status == 200
                and all(m in data for m in must)
                and not any(m in data for m in must_not)
            ):
                local["ok"] += 1
                local_latencies.append(elapsed_ms)
                local_completed.append(index)
            else:
                local["bad"] += 1
                bad_body = bad_body or f"{response.status} {data[:300]!r}"
        with lock:
            latencies.extend(local_latencies)
            completed.extend(local_completed)
            for key, value in local.items():
                counts[key] += value
            sample_bad[0] = sample_bad[0] or bad_body

    pool = [threading.Thread(target=worker, args=(c,)) for c in connections]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    finished = time.monotonic()
    for connection in connections:
        connection.close()
    results.put((counts, latencies, completed, finished, sample_bad[0]))  # type: ignore[attr-defined]


def run_load(
    name: str,
    port: int,
    requests: list[Request],
    concurrency: int,
    client_processes: int,
    time_limit_s: float,
    must: tuple[bytes, ...] = (),
    must_not: tuple[bytes, ...] = (SAFE_TWIML_MARKER,),
) -> PhaseResult:
    """Send `requests` with `concurrency` connections spread over client processes; stop at the time limit."""
    result = PhaseResult(name)
    if not requests:
        return result
    context = mp.get_context("spawn")
    processes = max(1, min(client_processes, concurrency))
    barrier = context.Barrier(processes + 1)
    queue = context.Queue()
    indexed = list(enumerate(requests))
    children = []
    for p in range(processes):
        threads = concurrency // processes + (1 if p < concurrency % processes else 0)
        share = indexed[p::processes]
        child = context.Process(
            target=_client_process,
            args=(port, share, threads, time_limit_s, must, must_not, barrier, queue),
            daemon=True,
        )
        child.start()
        children.append(child)
    try:
        barrier.wait(timeout=60)
        started = time.monotonic()
        finished = started
        for _ in children:
            counts, latencies, completed, child_finished, sample_bad = queue.get(timeout=time_limit_s + 120)
            result.sent += counts["sent"]
            result.ok += counts["ok"]
            result.bad += counts["bad"]
            result.errors += counts["errors"]
            result.latencies_ms.extend(latencies)
            result.completed.extend(completed)
            result.sample_bad = result.sample_bad or sample_bad
            finished = max(finished, child_finished)
        result.elapsed_s = finished - started
    finally:
        for child in children:
            child.join(timeout=10)
            if child.is_alive():
                child.kill()
    return result


# --------------------------------------------------------------------------------------------- requests to send


def _sign(port: int, path: str, form: dict[str, str]) -> Request:
    from twilio.request_validator import RequestValidator

    url = f"http://127.0.0.1:{port}{path}"  # = PUBLIC_BASE_URL + path + query
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    token = f"{form['CallSid']}-{path.rsplit('/', 1)[-1]}"  # unique per (call, webhook, turn)
    return path, urllib.parse.urlencode(form).encode(), signature, token


def _call_form(call_sid: str, index: int, **fields: str) -> dict[str, str]:
    form = {
        "CallSid": call_sid,
        "AccountSid": ACCOUNT_SID,
        "From": f"+447700900{index % 1000:03d}",  # Ofcom's drama range: valid UK mobiles, nobody's phone
        "To": "+441484221000",
        "CallStatus": "in-progress",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    form.update(fields)
    return form


def call_sids(count: int, tag: str) -> list[str]:
    return [f"CA{tag}{i:0{32 - len(tag)}x}" for i in range(count)]


# ------------------------------------------------------------------------------------------- services and servers


def database_url(name: str = BENCH_DATABASE) -> str:
    return f"postgresql+psycopg://{PG_USER}@{PG_SERVER}/{name}"


def redis_url() -> str:
    return f"redis://127.0.0.1:6379/{BENCH_REDIS_DB}"


def prepare_data() -> None:
    """Fresh `bench` database (migrated, demo data, default flow published), reference table, empty Redis db 14."""
    import psycopg
    import redis
    from sqlalchemy.orm import Session

    from bench.reference_app import create_schema
    from ivr.versions import install_default_flow
    from models.db import make_engine
    from models.demo import seed_demo
    from models.migrate import upgrade
    from runtime.clock import SystemClock

    with psycopg.connect(f"postgresql://{PG_USER}@{PG_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    url = database_url()
    upgrade(url)
    engine = make_engine(url)
    try:
        now = SystemClock().now()
        with Session(engine) as session, session.begin():
            seed_demo(session, now)
            install_default_flow(session, now)
    finally:
        engine.dispose()
    create_schema(url)
    client = redis.Redis.from_url(redis_url())
    client.flushdb()
    client.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Gunicorn:
    """One gunicorn master (own process group) on 127.0.0.1:port; always stopped by `stop()`."""

    def __init__(self, app_spec: str, port: int, workers: int, threads: int, log_dir: Path) -> None:
        self.app_spec, self.port = app_spec, port
        self.log_path = log_dir / f"gunicorn-{port}.log"
        self.metrics_dir = Path(tempfile.mkdtemp(prefix="bench-prom-", dir=log_dir))
        gunicorn = Path(sys.executable).parent / "gunicorn"
        if not gunicorn.exists():
            gunicorn = REPO_ROOT / ".venv" / "bin" / "gunicorn"
        self.command = [
            str(gunicorn),
            "-c", "gunicorn.conf.py",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers),
            "--threads", str(threads),
            "--access-logfile", "/dev/null",
            "--log-level", "warning",
            app_spec,
        ]  # fmt: skip
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis_url(),
            "SIMULATOR_ENABLED": "false",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_BASE_URL": "http://127.0.0.1:9",  # nothing on this step calls Twilio; never the real one
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "SECRET_KEY": "bench-" + "0" * 58,
            "LOG_LEVEL": "WARNING",
            "LOG_JSON": "false",
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
            "BENCH_DATABASE_URL": database_url(),
            "BENCH_REDIS_URL": redis_url(),
        }
        self.env.pop("PORT", None)
        self.process: subprocess.Popen[bytes] | None = None

    def launch(self) -> None:
        """Start the master; `wait_ready` then waits for GET /healthz."""
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command,
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        assert self.process is not None, "launch() first"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.app_spec} exited at start:\n{self.log_tail()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    connection.close()
                    return
                connection.close()
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn {self.app_spec} not ready within {timeout_s:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGQUIT)  # gunicorn's quick shutdown: the load is over
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
        if process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # the workers of this master only (its own session)
            process.wait(timeout=10)
        shutil.rmtree(self.metrics_dir, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


# -------------------------------------------------------------------------------------------------- the benchmark


def merge(name: str, parts: list[tuple[PhaseResult, list[Request]]], into: list[Request]) -> PhaseResult:
    """Add up the rounds of one target; `completed` is mapped back to indexes of `into`."""
    total = PhaseResult(name)
    position = {id(request): i for i, request in enumerate(into)}
    for part, sent in parts:
        total.sent += part.sent
        total.ok += part.ok
        total.bad += part.bad
        total.errors += part.errors
        total.elapsed_s += part.elapsed_s
        total.latencies_ms.extend(part.latencies_ms)
        total.completed.extend(position[id(sent[i])] for i in part.completed)
        total.sample_bad = total.sample_bad or part.sample_bad
    return total


def setup_calls(args: argparse.Namespace, server: Gunicorn, load: dict[str, int]) -> list[Request]:
    """Ring in warm-up + N calls and take each past the language menu (untimed); return their main-menu presses."""
    port = server.port
    sids = call_sids(args.warmup + args.requests, "a")
    incoming = [_sign(port, "/voice/incoming", _call_form(sid, i)) for i, sid in enumerate(sids)]
    to_main_menu = [
        _sign(port, "/voice/step?turn=0", _call_form(sid, i, Digits="1")) for i, sid in enumerate(sids)
    ]
    for name, requests, marker in (
        ("setup: incoming", incoming, b"turn=0"),
        ("setup: language 1 -> main menu", to_main_menu, b"turn=1"),
    ):
        phase = run_load(name, requests=requests, time_limit_s=600, must=(marker,), **load)
        _say(f"  {name}: {phase.ok}/{len(sids)} in {phase.elapsed_s:.1f} s ({phase.rps:.0f}/s, untimed)")
        if phase.ok != len(sids):
            raise RuntimeError(f"{name} failed: {phase.summary()}\n{server.log_tail()}")
    # The timed request: at the main menu the caller presses 1 (council tax) and hears the council-tax menu.
    return [_sign(port, "/voice/step?turn=1", _call_form(sid, i, Digits="1")) for i, sid in enumerate(sids)]


def run_benchmark(
    args: argparse.Namespace, app_server: Gunicorn, reference_server: Gunicorn
) -> list[PhaseResult]:
    """Warm every target up, then measure them in interleaved rounds (rotating order) so drift hits all alike."""
    load_app = {
        "port": app_server.port,
        "concurrency": args.concurrency,
        "client_processes": args.client_processes,
    }
    load_ref = {**load_app, "port": reference_server.port}
    app_requests = setup_calls(args, app_server, load_app)
    ref_port = reference_server.port
    targets = {
        "app /voice/step": (app_requests, (b"<Gather", b"turn=2"), load_app),
        "reference": (
            [
                _sign(ref_port, "/ref/step?turn=1", _call_form(s, i, Digits="1"))
                for i, s in enumerate(call_sids(len(app_requests), "r"))
            ],
            (b"<Gather",),
            load_ref,
        ),
        "bare TwiML": (
            [
                _sign(ref_port, "/bare/step?turn=1", _call_form(s, i, Digits="1"))
                for i, s in enumerate(call_sids(len(app_requests), "b"))
            ],
            (b"<Gather",),
            load_ref,
        ),
    }
    _say(f"warm-up: {args.warmup} requests per target ...")
    for name, (requests, expect, load) in targets.items():
        warm = run_load(
            name, requests=requests[: args.warmup], time_limit_s=args.time_limit, must=expect, **load
        )
        if warm.bad or warm.errors:
            raise RuntimeError(f"warm-up of {name} failed: {warm.summary()}")
    names = list(targets)
    parts: dict[str, list[tuple[PhaseResult, list[Request]]]] = {name: [] for name in names}
    per_round = -(-args.requests // args.rounds)
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        _say(f"round {r + 1}/{args.rounds}: {' -> '.join(order)}")
        for name in order:
            requests, expect, load = targets[name]
            chunk = requests[args.warmup + r * per_round : args.warmup + (r + 1) * per_round]
            part = run_load(
                name, requests=chunk, time_limit_s=args.time_limit / args.rounds, must=expect, **load
            )
            parts[name].append((part, chunk))
    results = [merge(name, parts[name], targets[name][0]) for name in names]
    app = results[0]
    if not args.no_replay and app.completed:
        _say("replay: the same app requests again (Twilio retries) ...")
        again = [app_requests[i] for i in sorted(app.completed)]
        results.append(
            run_load(
                "app replay (retry)",
                requests=again,
                time_limit_s=args.time_limit,
                must=(b"<Gather", b"turn=2"),
                **load_app,
            )
        )
    return results


_BEGAN = time.monotonic()


def _say(text: str, stamp: bool = True) -> None:
    print(f"[{time.monotonic() - _BEGAN:5.1f}s] {text}" if stamp and text else text, flush=True)


def render_table(results: list[PhaseResult]) -> str:
    rows = [f"{'target':<22}{'ok':>7}{'bad':>6}{'err':>6}{'secs':>7}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"]
    for r in results:
        rows.append(
            f"{r.name:<22}{r.ok:>7}{r.bad:>6}{r.errors:>6}{r.elapsed_s:>7.1f}{r.rps:>9.1f}"
            f"{r.percentile(50):>9.1f}{r.percentile(99):>9.1f}"
        )
    return "\n".join(rows)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ivr_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=8, help="client connections in flight (default 8)")
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per target (default 3000)")
    parser.add_argument(
        "--warmup", type=int, default=200, help="untimed requests per target first (default 200)"
    )
    parser.add_argument("--time-limit", type=float, default=20.0, help="seconds per timed phase (default 20)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (default 4)")
    parser.add_argument(
        "--client-processes",
        type=int,
        default=2,
        help="load-generator processes sharing the connections (default 2)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 100 requests, 20 warm-up, 2 s per target"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="interleaved measuring rounds per target (default 3; --quick: 1)",
    )
    parser.add_argument("--no-replay", action="store_true", help="skip the replay (cached answer) row")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when app < 0.8x reference req/s")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.warmup, args.time_limit, args.rounds = (
            min(args.requests, 100),
            min(args.warmup, 20),
            2.0,
            1,
        )
    if min(args.concurrency, args.requests, args.workers, args.threads, args.client_processes) < 1:
        parser.error(
            "--concurrency, --requests, --workers, --threads and --client-processes must be at least 1"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.chdir(REPO_ROOT)
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    _say(
        f"ivr_bench: gunicorn {args.workers} workers x {args.threads} threads on 127.0.0.1, "
        f"{args.concurrency} client connections in {min(args.client_processes, args.concurrency)} processes, "
        f"{args.warmup} warm-up + up to {args.requests} requests or {args.time_limit:g} s per target, "
        f"{os.cpu_count()} CPUs shared by server and client"
    )
    log_dir = Path(tempfile.mkdtemp(prefix="ivr-bench-"))
    app_server = Gunicorn("app:create_app()", free_port(), args.workers, args.threads, log_dir)
    reference_server = Gunicorn(
        "bench.reference_app:create_app()", free_port(), args.workers, args.threads, log_dir
    )
    try:
        # Both masters import while the database is prepared (the app touches it only on its first request).
        # Only one server is under load at a time; the other sits idle.
        app_server.launch()
        reference_server.launch()
        _say(f"setting up PostgreSQL database '{BENCH_DATABASE}' and Redis db {BENCH_REDIS_DB} ...")
        prepare_data()
        app_server.wait_ready()
        reference_server.wait_ready()
        _say("servers ready: app:create_app() and bench.reference_app:create_app()")
        results = run_benchmark(args, app_server, reference_server)
    except BaseException:
        _say(f"gunicorn logs kept in {log_dir}")
        raise
    finally:
        app_server.stop()
        reference_server.stop()
    app, reference, bare = results[:3]
    shutil.rmtree(log_dir, ignore_errors=True)

    _say("")
    _say(render_table(results), stamp=False)
    ratio_ref = app.rps / reference.rps if reference.rps else float("nan")
    ratio_bare = app.rps / bare.rps if bare.rps else float("nan")
    verdict = "MET" if ratio_ref >= TARGET_RATIO else "NOT MET"
    _say("")
    _say(
        f"app/reference: {ratio_ref:.2f}x req/s, p50 {app.percentile(50) / reference.percentile(50):.2f}x, "
        f"p99 {app.percentile(99) / reference.percentile(99):.2f}x   (target >= {TARGET_RATIO}x req/s: {verdict})"
    )
    _say(
        f"app/bare:      {ratio_bare:.2f}x req/s, p50 {app.percentile(50) / bare.percentile(50):.2f}x, "
        f"p99 {app.percentile(99) / bare.percentile(99):.2f}x"
    )
    failures = [r for r in results if r.bad or r.errors]
    for r in failures:
        _say(f"!! {r.name}: {r.bad} wrong answers, {r.errors} connection errors; e.g. {r.sample_bad}")
    _say(f"(total {time.monotonic() - _BEGAN:.1f} s)")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                    "results": [r.summary() for r in results],
                    "app_over_reference": round(ratio_ref, 3),
                    "app_over_bare": round(ratio_bare, 3),
                    "target_met": ratio_ref >= TARGET_RATIO,
                },
                indent=2,
            )
        )
    if failures:
        return 2
    return 1 if args.strict and ratio_ref < TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())
