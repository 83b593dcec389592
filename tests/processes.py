"""What a test needs to prove a command left nothing running: process trees and sessions read from /proc."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name sits in parentheses and may hold spaces; the fields after it are plain.
    return raw[raw.rindex(")") + 2 :].split()


def is_running(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def descendants(pid: int) -> set[int]:
    """Every living process below `pid` (children, their children, ...)."""
    parents: dict[int, int] = {}
    for candidate in _all_pids():
        fields = _stat(candidate)
        if fields is not None and fields[0] != "Z":
            parents[candidate] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def session_members(session_id: int) -> set[int]:
    """Living processes of a session: orphans keep their session id after their parent has gone."""
    members = set()
    for candidate in _all_pids():
        fields = _stat(candidate)
        if fields is not None and fields[0] != "Z" and int(fields[3]) == session_id:
            members.add(candidate)
    return members


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except FileNotFoundError:
        return ""
