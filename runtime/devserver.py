"""The embedded default: SQLite + a local Redis, migrated and seeded, web app and RQ worker side by side.

Run by `python3 dev.py serve`. Simulator mode is on, so the fake Twilio API and the browser phone are served
and no Twilio account is needed. Not for production: see the README's production section.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from config import REPO_ROOT, load_settings
from runtime.embedded_redis import start_embedded_redis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--instance-dir", type=Path, default=REPO_ROOT / "instance")
    args = parser.parse_args()
    # Stop the worker and Redis on SIGTERM too, not only on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    instance = args.instance_dir
    env = dict(os.environ)
    env.setdefault("SIMULATOR_ENABLED", "true")
    base_url = f"http://{args.host}:{args.port}"
    env.setdefault("PUBLIC_BASE_URL", base_url)
    env.setdefault("TWILIO_API_BASE_URL", f"{base_url}/fake-twilio")
    redis_process = None
    if not env.get("REDIS_URL"):
        env["REDIS_URL"], redis_process = start_embedded_redis(instance)
    os.environ.update(env)
    settings = load_settings(env)

    from models.migrate import upgrade

    upgrade(settings.database_url)
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "seed-demo"], check=True, env=env)
    worker = subprocess.Popen([sys.executable, "-m", "runtime.worker"], env=env)

    print(
        f"\n  Kirklees contact centre (embedded default) is running:\n"
        f"    phone simulator  {base_url}/simulator\n"
        f"    health           {base_url}/readyz\n"
        f"  database {settings.database_url}\n  redis    {env['REDIS_URL']}\n  Ctrl-C stops everything.\n",
        flush=True,
    )

    from app import create_app
    from simulator.clock import SimulatedClock

    # Follows real time but can jump ahead, so the browser phone can skip a 20-minute queue wait.
    app = create_app(settings, clock=SimulatedClock())
    try:
        app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=15)
        if redis_process is not None:
            redis_process.terminate()
            redis_process.wait(timeout=10)


if __name__ == "__main__":
    main()
