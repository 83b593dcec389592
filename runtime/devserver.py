"""The embedded default: SQLite + a local Redis, migrated and seeded, web app and RQ worker side by side.

Run by `python3 dev.py serve`. Simulator mode is on, so the fake Twilio API and the browser phone are served
and no Twilio account is needed. Not for production: see the README's production section.

Ctrl-C (or SIGTERM, or closing the terminal) stops everything quietly: the worker, the seeding step and Redis
run in their own sessions, so the terminal's interrupt reaches only this process, which stops the worker
while Redis still answers and Redis last.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from config import REPO_ROOT, load_settings_or_exit
from runtime.embedded_redis import start_embedded_redis, stop_embedded_redis


def claim_port(host: str, port: int) -> socket.socket:
    """Bind host:port now, before anything slow starts; a taken port ends the run with one line.

    Bound but not yet listening, so a browser that connects during start-up is refused, not left hanging.
    """
    try:
        return _bind(host, port)
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise SystemExit(f"cannot listen on {host}:{port}: {error.strerror}") from None
        raise SystemExit(
            f"port {port} is in use; try python3 dev.py serve --port {_next_free_port(host, port)}"
        ) from None


def _bind(host: str, port: int) -> socket.socket:
    claimed = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    claimed.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server would: TIME_WAIT is free
    try:
        claimed.bind((host, port))
    except OSError:
        claimed.close()
        raise
    return claimed


def _next_free_port(host: str, taken: int) -> int:
    for candidate in range(taken + 1, min(taken + 50, 65535)):
        try:
            _bind(host, candidate).close()
            return candidate
        except OSError:
            continue
    return taken + 1


class Children:
    """The processes serve started, stopped in order: the worker first (it needs Redis to stop), Redis last."""

    def __init__(self) -> None:
        self.worker: subprocess.Popen[bytes] | None = None
        self.redis: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.terminate()  # RQ's warm shutdown: finish the current job, then leave
            try:
                self.worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait()
        if self.redis is not None:
            stop_embedded_redis(self.redis)


def serve(args: argparse.Namespace, listener: socket.socket, children: Children) -> int:
    instance = args.instance_dir
    env = dict(os.environ)
    env.setdefault("SIMULATOR_ENABLED", "true")
    base_url = f"http://{args.host}:{args.port}"
    env.setdefault("PUBLIC_BASE_URL", base_url)
    env.setdefault("TWILIO_API_BASE_URL", f"{base_url}/fake-twilio")
    load_settings_or_exit(env)  # a malformed setting stops here, before Redis starts
    if not env.get("REDIS_URL"):
        env["REDIS_URL"], children.redis = start_embedded_redis(instance, own_session=True)
    os.environ.update(env)
    settings = load_settings_or_exit(env)

    from models.migrate import upgrade

    upgrade(settings.database_url)
    seeded = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "seed-demo"], env=env, start_new_session=True
    )
    if seeded.returncode != 0:
        print("serve: loading the demo data failed (see above)", file=sys.stderr, flush=True)
        return 1
    children.worker = subprocess.Popen(
        [sys.executable, "-m", "runtime.worker"], env=env, start_new_session=True
    )

    print(
        f"\n  Kirklees contact centre (embedded default) is running:\n"
        f"    start here       {base_url}/\n"
        f"    phone simulator  {base_url}/simulator\n"
        f"    console          {base_url}/console/login\n"
        f"    health           {base_url}/readyz\n"
        f"  database {settings.database_url}\n  redis    {env['REDIS_URL']}\n  Ctrl-C stops everything.\n",
        flush=True,
    )

    from werkzeug.serving import make_server

    from app import create_app
    from simulator.clock import SimulatedClock

    # Follows real time but can jump ahead, so the browser phone can skip a 20-minute queue wait.
    app = create_app(settings, clock=SimulatedClock())
    listener.listen(128)
    server = make_server(args.host, args.port, app, threaded=True, fd=listener.fileno())
    listener.close()  # the server holds its own copy of the listening socket
    server.serve_forever()  # returns on Ctrl-C (werkzeug swallows the KeyboardInterrupt)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--instance-dir", type=Path, default=REPO_ROOT / "instance")
    args = parser.parse_args(argv)
    listener = claim_port(args.host, args.port)
    # SIGTERM and a closed terminal stop everything the way Ctrl-C does (even if started with SIGINT ignored).
    for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, signal.default_int_handler)
    children = Children()
    status = 0
    try:
        status = serve(args, listener, children)
    except KeyboardInterrupt:
        pass
    finally:
        for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(stop_signal, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the stopping
        children.stop()
    print("stopped", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
