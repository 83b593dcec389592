"""Routing inside the running service: the shared Redis store, kept in step with the database.

The database is the truth (QueueEntry rows, Adviser states); Redis is the fast shared copy every process
matches against. If Redis is flushed or restarted, the first routing call notices the missing marker key and
rebuilds the store from the database, so no waiting caller or adviser state is lost.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import (
    ACTIVE_QUEUE_ENTRY_STATUSES,
    Adviser,
    Call,
    Library,
    QueueEntry,
    QueueEntryStatus,
)
from routing.engine import WaitingCaller
from routing.queueing import UNKNOWN_LIBRARY
from routing.redis_store import RedisRoutingStore, RoutingKeys
from routing.store import AdviserProfile, AdviserStatus, RoutingSnapshot
from routing.widening import default_rules
from runtime.logging import get_logger
from runtime.services import Services

log = get_logger(__name__)

RULES_CACHE_SECONDS = 60.0
# Outside the store's key prefix, so a rebuild (which replaces every routing key) leaves it alone.
BUILT_MARKER_KEY = "routing-built"
REBUILD_LOCK_KEY = "routing-rebuild-lock"
MATCH_JOB = "routing.matching.match_waiting_callers"
# Set while a matcher run is queued: a burst of triggers costs one job. Expires in case that job is lost.
MATCH_PENDING_KEY = "routing-match-pending"
MATCH_PENDING_SECONDS = 30


@dataclass
class _CachedStore:
    store: RedisRoutingStore
    built_at: float


_stores: dict[int, _CachedStore] = {}


def adviser_key(adviser_id: int) -> str:
    return str(adviser_id)


def entry_key(entry: QueueEntry, call_sid: str | None) -> str:
    """The store's id for a queue entry: the CallSid of a live caller, or "callback-<id>" for a virtual one."""
    if entry.callback_id is not None and entry.call_id is None:
        return f"callback-{entry.callback_id}"
    if call_sid is None:
        raise ValueError(f"queue entry {entry.id} has neither a call nor a callback")
    return call_sid


def entry_store_key(session: Session, entry: QueueEntry) -> str:
    call_sid = (
        session.scalar(select(Call.call_sid).where(Call.id == entry.call_id)) if entry.call_id else None
    )
    return entry_key(entry, call_sid)


def adviser_profile(adviser: Adviser) -> AdviserProfile:
    return AdviserProfile(
        adviser_id=adviser_key(adviser.id),
        library=adviser.home_library.name,
        skills={skill.topic.value: skill.proficiency for skill in adviser.skills},
        languages=frozenset(adviser.languages),
    )


def routing_store(services: Services, session: Session) -> RedisRoutingStore:
    """This process's store, with widening rules from the libraries' neighbour lists (re-read every minute)."""
    cached = _stores.get(id(services))
    # Keyed by id(services): check the client too, since a new Services may reuse a freed one's id.
    if (
        cached is None
        or cached.store.client is not services.redis
        or time.monotonic() - cached.built_at > RULES_CACHE_SECONDS
    ):
        libraries = session.scalars(select(Library)).all()
        rules = default_rules({library.name: library.neighbours for library in libraries})
        cached = _CachedStore(RedisRoutingStore(services.redis, rules), time.monotonic())
        _stores[id(services)] = cached
    return cached.store


def ready_store(services: Services, session: Session) -> RedisRoutingStore:
    """The store, rebuilt from the database first if Redis lost it (flushed, restarted, new instance)."""
    store = routing_store(services, session)
    if not services.redis.exists(BUILT_MARKER_KEY):
        rebuild(services, session, store)
    return store


def rebuild(services: Services, session: Session, store: RedisRoutingStore) -> None:
    """Replace the store's contents with what the database says; one process at a time."""
    lock = services.redis.lock(REBUILD_LOCK_KEY, timeout=30, blocking_timeout=10)
    with lock:
        if services.redis.exists(BUILT_MARKER_KEY):
            return  # another process rebuilt it while we waited
        snapshot = snapshot_from_database(session)
        store.rebuild_from(snapshot)
        services.redis.set(BUILT_MARKER_KEY, services.clock.now().isoformat())
    log.warning(
        "routing.store_rebuilt",
        waiting=len(snapshot.waiting),
        offered=len(snapshot.offered),
        advisers=len(snapshot.advisers),
    )


def snapshot_from_database(session: Session) -> RoutingSnapshot:
    advisers = session.scalars(
        select(Adviser).options(selectinload(Adviser.skills), selectinload(Adviser.home_library))
    ).all()
    statuses = tuple(
        AdviserStatus(adviser_profile(a), a.state.value, a.state_since, a.state_reason or "")
        for a in advisers
    )
    rows = session.execute(
        select(QueueEntry, Call.call_sid)
        .outerjoin(Call, QueueEntry.call_id == Call.id)
        .where(QueueEntry.status.in_(ACTIVE_QUEUE_ENTRY_STATUSES))
        .order_by(QueueEntry.id)
    ).all()
    library_names = dict(session.execute(select(Library.id, Library.name)).tuples().all())
    waiting, offered = [], []
    for entry, call_sid in rows:
        caller = waiting_caller(entry, call_sid, library_names.get(entry.home_library_id or -1))
        if entry.status == QueueEntryStatus.OFFERED and entry.adviser_id is not None:
            offered.append((caller, adviser_key(entry.adviser_id)))
        else:
            waiting.append(caller)
    return RoutingSnapshot(waiting=tuple(waiting), offered=tuple(offered), advisers=statuses)


def waiting_caller(entry: QueueEntry, call_sid: str | None, home_library: str | None) -> WaitingCaller:
    return WaitingCaller(
        call_sid=entry_key(entry, call_sid),
        topic=entry.topic.value,
        language=entry.language,
        home_library=home_library or UNKNOWN_LIBRARY,
        enqueued_at=entry.joined_at,
        priority=entry.priority,
        priority_reasons=tuple(entry.priority_reasons),
        skipped_advisers=frozenset(str(a) for a in entry.skipped_adviser_ids),
    )


def request_matching(services: Services) -> None:
    """Ask a worker to match waiting callers with free advisers now (after a caller joins or an adviser frees)."""
    if services.redis.set(MATCH_PENDING_KEY, "1", nx=True, ex=MATCH_PENDING_SECONDS):
        services.queue.enqueue(MATCH_JOB, job_timeout=60, result_ttl=0, failure_ttl=3600)


# The store's key shapes name the live channels too (routing.redis_store.RoutingKeys), so Lua and Python agree.
LIVE_KEYS = RoutingKeys()


def floor_channel() -> str:
    return LIVE_KEYS.live_floor()


def desk_channel(adviser_id: int) -> str:
    return LIVE_KEYS.live_adviser(adviser_key(adviser_id))


def announce(services: Services, kind: str, adviser_id: int | None = None, **data: object) -> None:
    """Tell the live pages that something they show changed: one small pub/sub message (the store's own writes
    announce themselves from Lua). Call it after the change is committed; it never fails the caller's work."""
    message = json.dumps(
        {"kind": kind, **({"adviser_id": adviser_key(adviser_id)} if adviser_id else {}), **data}
    )
    try:
        if adviser_id is not None:
            services.redis.publish(desk_channel(adviser_id), message)
        services.redis.publish(floor_channel(), message)
    except redis.RedisError:
        log.warning("live.announce_failed", kind=kind)
