"""A callback asked for after something failed: never promised unless it is stored somewhere that lasts.

The apology a caller hears when a webhook fails offers "press 1 for a call back" (telephony/webhooks.py). That
request is booked in the database when the database answers, and is then an ordinary scheduled callback:
dialled, retried and texted like any other. When the database does not answer it goes to a Redis list; when
Redis does not answer either, to an append-only spool file on this host's disk. The reconciler moves both into
the database once it answers again (`move_pending_requests`), and that is idempotent: each request carries the
CallSid it came from, and booking a call's safe callback twice finds the first booking.

The spool holds phone numbers (personal data) only until they are in the database: its files are readable by
this user alone and removed once moved.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from callbacks import booking
from callbacks.lifecycle import schedule_callback
from ivr.calls import record_call_started
from models import Topic
from runtime.logging import get_logger
from runtime.services import Services

log = get_logger(__name__)

PENDING_KEY = "callbacks:pending-requests"
UNREADABLE_KEY = "callbacks:pending-requests:unreadable"
DRAIN_LOCK_KEY = "callbacks:pending-requests:drain"
DRAIN_LOCK_SECONDS = 60
SPOOL_FILE = "pending.jsonl"
DRAINING_PATTERN = "draining-*.jsonl"
UNREADABLE_FILE = "unreadable.jsonl"  # kept for a person to look at, never retried


@dataclass(frozen=True)
class PendingRequest:
    """A resident's "press 1 for a call back", as kept until the database has it."""

    call_sid: str
    number: str  # E.164, checked as a number we may ring
    topic: str
    language: str
    requested_at: datetime

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "requested_at": self.requested_at.isoformat()})

    @classmethod
    def from_json(cls, raw: str | bytes) -> PendingRequest:
        """Read a kept request; raise ValueError if it is not one."""
        try:
            data = json.loads(raw)
            return cls(
                call_sid=str(data["call_sid"]),
                number=str(data["number"]),
                topic=data["topic"] if data["topic"] in Topic._value2member_map_ else Topic.GENERAL.value,
                language=str(data["language"])[:10],
                requested_at=datetime.fromisoformat(data["requested_at"]),
            )
        except (KeyError, TypeError, ValueError, json.JSONDecodeError) as error:
            raise ValueError(f"not a pending callback request: {error}") from None


def keep_request(services: Services, pending: PendingRequest) -> str | None:
    """Store the request where it lasts: "database", "redis" or "spool"; None if nowhere (promise nothing)."""
    # Whatever stops one store (it is away, or something broke on the way), the next is tried: this runs on the
    # path where something has already gone wrong.
    try:
        callback_id = book_request(services, pending)
    except Exception:
        log.warning("callback.safe_request_not_in_database", call_sid=pending.call_sid, exc_info=True)
    else:
        _schedule(services, callback_id)
        return "database"
    try:
        services.redis.rpush(PENDING_KEY, pending.to_json())
        return "redis"
    except Exception:
        log.warning("callback.safe_request_not_in_redis", call_sid=pending.call_sid, exc_info=True)
    try:
        append_to_spool(Path(services.settings.callback_spool_dir), pending.to_json())
        return "spool"
    except Exception:
        log.exception("callback.safe_request_lost", call_sid=pending.call_sid)
    return None


def book_request(services: Services, pending: PendingRequest) -> int:
    """Book the request as an as-soon-as-possible callback (idempotent per call); returns the callback's id."""
    settings = services.settings
    with services.session_factory.begin() as session:
        call = record_call_started(
            session,
            pending.call_sid,
            pending.number,
            settings.twilio_phone_number,
            pending.requested_at,
            settings.default_region,
        )
        booked = booking.book(
            session,
            call,
            pending.number,
            call.topic or Topic(pending.topic),
            call.language or pending.language,
            None,
            services.clock.now(),
            f"{pending.call_sid}:safe-callback",
        )
        return booked.callback_id


def _schedule(services: Services, callback_id: int) -> None:
    """Hand the booking to the dialler; if Redis is away the reconciler schedules it from the database later."""
    try:
        schedule_callback(services, callback_id)
    except Exception:
        log.warning("callback.safe_request_not_scheduled", callback_id=callback_id, exc_info=True)


def move_pending_requests(services: Services) -> int:
    """Move requests kept in Redis and in this host's spool into the database; returns how many moved.

    Stops at the first one the database refuses to take (it is still away): nothing is dropped, the next run
    carries on from there. One mover at a time (a Redis lock), so a request is read and removed by one only.
    """
    if not services.redis.set(DRAIN_LOCK_KEY, os.getpid(), nx=True, ex=DRAIN_LOCK_SECONDS):
        return 0
    try:
        moved = _move_from_redis(services)
        moved += _move_from_spool(services, Path(services.settings.callback_spool_dir))
    finally:
        services.redis.delete(DRAIN_LOCK_KEY)
    if moved:
        log.info("callback.safe_requests_moved", moved=moved)
    return moved


def _move_from_redis(services: Services) -> int:
    moved = 0
    while (raw := services.redis.lindex(PENDING_KEY, 0)) is not None:
        try:
            pending = PendingRequest.from_json(raw)
        except ValueError:
            log.error("callback.safe_request_unreadable")
            services.redis.lmove(PENDING_KEY, UNREADABLE_KEY, "LEFT", "RIGHT")
            continue
        _schedule(services, book_request(services, pending))
        services.redis.lpop(PENDING_KEY)  # only after the database has it; the lock makes it this one
        moved += 1
    return moved


def append_to_spool(folder: Path, line: str) -> None:
    """Append one request to the spool and fsync it. Several web processes may append at once (each under an
    exclusive lock); a file renamed away for draining meanwhile is noticed, and the line goes to a new one."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SPOOL_FILE
    while True:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                current = os.stat(path).st_ino
            except FileNotFoundError:
                current = None
            if current != os.fstat(descriptor).st_ino:
                continue  # the drainer took this file between our open and our lock
            os.write(descriptor, (line.replace("\n", " ") + "\n").encode())
            os.fsync(descriptor)
            return
        finally:
            os.close(descriptor)


def _move_from_spool(services: Services, folder: Path) -> int:
    spool = folder / SPOOL_FILE
    if spool.exists():
        spool.rename(folder / f"draining-{time.time_ns()}-{os.getpid()}.jsonl")
    moved = 0
    for draining in sorted(folder.glob(DRAINING_PATTERN)):
        with draining.open("rb") as file:
            fcntl.flock(
                file.fileno(), fcntl.LOCK_EX
            )  # a writer that opened it before the rename finishes first
            lines = [line for line in file.read().splitlines() if line.strip()]
        for line in lines:
            try:
                pending = PendingRequest.from_json(line)
            except ValueError:
                log.error("callback.safe_request_unreadable", spool=draining.name)
                with (folder / UNREADABLE_FILE).open("ab") as unreadable:
                    unreadable.write(line + b"\n")
                continue
            _schedule(services, book_request(services, pending))
            moved += 1
        draining.unlink()  # every line is in the database (a re-run would find them booked)
    return moved
