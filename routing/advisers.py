"""Adviser state changes in the running service: checked by routing.states, written to the database and the store.

Console, CLI and routing all change states through here, inside the caller's transaction (`with
session.begin():`). The database row is the truth; the store is updated in the same step with a compare-and-set
script, so a console change can never overwrite the on-call state routing has just set in Redis for an offer
the database does not know about yet. Jobs (request_matching, the end of wrap-up) are queued only after the
transaction commits, because they read what it wrote.

Wrap-up ends three ways: the adviser chooses a state; the `end_wrap_up` job queued for WRAP_UP_SECONDS after the
call; or, when that job was lost (Redis flushed or restarted), `end_overdue_wrap_ups`, which the matcher runs
before each round and the console runs when it lists advisers. The job carries the state_since it expects, so a
stale job (the adviser has since been on another call) does nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

import redis
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction, selectinload

from models import Adviser, AdviserState, Role
from routing import states, wrap_up
from routing.live import adviser_key, adviser_profile, announce, ready_store, request_matching, waiting_caller
from routing.queueing import record_adviser_state
from routing.redis_store import LUA_DIR, RedisRoutingStore
from routing.states import Actor, StateChange, TransitionNotAllowed
from routing.store import UnknownAdviser, to_millis
from runtime.logging import get_logger
from runtime.services import Services

log = get_logger(__name__)

END_WRAP_UP_JOB = "routing.advisers.end_wrap_up"
_AFTER_COMMIT = "routing.advisers.after_commit"
_HOOKED = "routing.advisers.hooked"
_SUPERVISING_ROLES = (Role.SUPERVISOR, Role.ADMIN)

# Set the state only if the store's current state is one of ARGV[6] (",a,b,"); uses common.lua's set_state, so
# the free-adviser buckets and the event stream stay exactly as the store's own script keeps them.
_COMPARE_AND_SET_LUA = """
-- ARGV: adviser_id, state, since_ms, reason, strategy, allowed current states. Returns {changed 0/1, previous}.
local current = redis.call('HGET', KEY.adviser .. ARGV[1], 'state')
if not current then
  return redis.error_reply('unknown adviser ' .. ARGV[1])
end
if not string.find(ARGV[6], ',' .. current .. ',', 1, true) then
  return {0, current}
end
return {1, set_state(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])}
"""


class AdviserNotFound(LookupError):
    pass


class NotPermitted(PermissionError):
    """The user may not change this adviser's state (an adviser acting for someone else)."""


class StateChanger(Protocol):
    """The console user making a change (models.User or the console's logged-in user)."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> Role: ...

    @property
    def adviser_id(self) -> int | None: ...


def actor_for(by_user: StateChanger | None, adviser_id: int) -> Actor:
    """Who is acting: the adviser themselves, a supervisor, or (no user) an operator at the command line."""
    if by_user is None:
        return Actor.OPERATOR
    if by_user.adviser_id == adviser_id:
        return Actor.ADVISER
    if by_user.role in _SUPERVISING_ROLES:
        return Actor.SUPERVISOR
    raise NotPermitted("advisers can change only their own state")


def change_state(
    services: Services,
    session: Session,
    adviser_id: int,
    new_state: str,
    reason: str | None,
    by_user: StateChanger | None = None,
) -> StateChange | None:
    """Change an adviser's state for a console user or the CLI; None if they were already in it.

    Raises AdviserNotFound, NotPermitted, or states.StateChangeRefused (with the field and a message).
    Runs inside the caller's transaction; matching is requested after it commits.
    """
    adviser = _locked_adviser(session, adviser_id)
    if adviser is None:
        raise AdviserNotFound(adviser_id)
    actor = actor_for(by_user, adviser_id)
    change = states.decide(adviser.state.value, new_state, actor, reason)
    if change is None:
        return None
    if change.state == states.AVAILABLE and not adviser.is_active:
        # An adviser who has left or is not taking phone work is never offered a call, so never free for one.
        raise TransitionNotAllowed(
            "state", f"{adviser.name} is not active, so cannot take calls. A supervisor can make them active."
        )
    now = services.clock.now()
    if not _set_in_store(
        services, session, adviser, change, now, states.allowed_sources(actor, change.state)
    ):
        raise TransitionNotAllowed(
            "state", "The adviser has just been offered a call; they can change state once it ends."
        )
    record_adviser_state(
        session,
        adviser,
        AdviserState(change.state),
        now,
        change.reason,
        by_user_id=by_user.id if by_user is not None else None,
    )
    if change.previous == states.WRAP_UP:
        wrap_up.leave_wrap_up(session, adviser_id)  # "ready now" or a break before coding: kept as uncoded
    after_commit(session, lambda: announce(services, "adviser", adviser_id))
    if change.state == states.AVAILABLE:
        after_commit(session, lambda: request_matching(services))
    log.info(
        "adviser.state_changed",
        adviser_id=adviser_id,
        previous=change.previous,
        state=change.state,
        by_user_id=by_user.id if by_user is not None else None,
    )
    return change


def finish_call(services: Services, session: Session, adviser_id: int, talked: bool = True) -> None:
    """The adviser's call ended: on call → wrap-up (or available when wrap-up is 0, or when nobody was talked to,
    e.g. a resident who did not answer their call-back). Idempotent.

    Runs inside the caller's transaction; the end of wrap-up is scheduled after it commits.
    """
    adviser = _locked_adviser(session, adviser_id)
    if adviser is None or adviser.state != AdviserState.ON_CALL:
        return
    wrap_up_seconds = services.settings.adviser_wrap_up_seconds
    target = states.WRAP_UP if wrap_up_seconds > 0 and talked else states.AVAILABLE
    change = states.decide(states.ON_CALL, target, Actor.ROUTING)
    assert change is not None  # on call → wrap-up/available always changes something
    now = services.clock.now()
    _routing_change(services, session, adviser, change, now)
    if target == states.WRAP_UP:
        since_ms = to_millis(now)
        after_commit(session, lambda: schedule_end_of_wrap_up(services, adviser_id, since_ms))
    else:
        wrap_up.leave_wrap_up(session, adviser_id)  # no wrap-up time: what is not coded yet waits on the desk
        after_commit(session, lambda: request_matching(services))
    after_commit(session, lambda: announce(services, "adviser", adviser_id))


def call_back_from_desk(
    services: Services, session: Session, adviser_id: int, callback_id: int, by_user: StateChanger
) -> int:
    """The adviser pressed "call now" on one of their callbacks: reserve them (on call), offer the callback to
    them alone, and ring their phone once this commits; returns the queue entry. Raises CallBackRefused, or
    TransitionNotAllowed when they are not free (the database is checked before the store is touched)."""
    from callbacks.desk import DESK_CALL_BACK_REASON, offer_call_back
    from routing.answering import dial_address
    from routing.matching import Offer, start_offer

    if by_user.adviser_id != adviser_id:
        raise NotPermitted("advisers call back their own callbacks")
    adviser = _locked_adviser(session, adviser_id)
    if adviser is None:
        raise AdviserNotFound(adviser_id)
    if adviser.state not in (AdviserState.AVAILABLE, AdviserState.WRAP_UP):
        raise TransitionNotAllowed("state", "Be available (or in wrap-up) to call a resident back.")
    now = services.clock.now()
    entry = offer_call_back(session, adviser, callback_id, now)
    change = states.StateChange(adviser.state.value, states.ON_CALL, f"calling back callback {callback_id}")
    allowed = frozenset({states.AVAILABLE, states.WRAP_UP})
    if not _set_in_store(services, session, adviser, change, now, allowed):
        raise TransitionNotAllowed("state", "You have just been offered a call; call back once it ends.")
    if change.previous == states.WRAP_UP:
        wrap_up.leave_wrap_up(session, adviser_id)
    record_adviser_state(session, adviser, AdviserState.ON_CALL, now, change.reason, by_user_id=by_user.id)
    store = ready_store(services, session)
    store.add_offered(waiting_caller(entry, None, adviser.home_library.name), adviser_key(adviser_id))
    offer = Offer(
        entry.id, f"callback-{callback_id}", entry.topic.value, None, dial_address(adviser), adviser_id
    )
    after_commit(session, lambda: start_offer(services, offer))
    after_commit(session, lambda: announce(services, "callbacks", adviser_id))
    log.info(
        "adviser.calling_back", adviser_id=adviser_id, callback_id=callback_id, reason=DESK_CALL_BACK_REASON
    )
    return entry.id


# What offer_callback_to_assigned found (callbacks.lifecycle decides what to do next).
OFFERED = "offered"  # their phone is ringing now
BUSY = "busy"  # on a call, wrapping up, or already being offered this callback: they will be free soon
AWAY = "away"  # offline, on a break, with a customer, or no longer able to take it: others should


class _Taken(Exception):
    """The store gave the adviser another call a moment ago; the offer's rows roll back."""


def offer_callback_to_assigned(services: Services, session: Session, callback_id: int) -> str:
    """The dialler's turn has come for a callback a supervisor gave to one adviser: offer it to them first,
    as their own "call now" would (their phone rings; then the resident's, through the same claim guard).

    Returns OFFERED, BUSY or AWAY; on AWAY the dialler rings the resident and they queue for anyone with the
    skill, so a callback is never stranded on an adviser who is not there. Runs inside the caller's
    transaction; the adviser's phone is rung once it commits.
    """
    from callbacks.desk import CallBackRefused, offer_call_back
    from models import ACTIVE_QUEUE_ENTRY_STATUSES, Callback, QueueEntry, User
    from routing.answering import dial_address
    from routing.matching import Offer, start_offer

    row = session.execute(
        select(Callback.assigned_adviser_id, Callback.topic).where(Callback.id == callback_id)
    ).one_or_none()
    if row is None or row.assigned_adviser_id is None:
        return AWAY
    adviser_id, topic = row
    in_queue = session.scalar(
        select(QueueEntry.id).where(
            QueueEntry.callback_id == callback_id, QueueEntry.status.in_(ACTIVE_QUEUE_ENTRY_STATUSES)
        )
    )
    if in_queue is not None:
        return BUSY  # an offer is ringing (or a kept place is queued): its outcome comes first
    adviser = _locked_adviser(session, adviser_id)
    disabled = session.scalar(
        select(User.id).where(User.adviser_id == adviser_id, User.is_active.is_(False)).limit(1)
    )
    if (
        adviser is None
        or not adviser.is_active
        or disabled is not None
        or not any(s.topic == topic for s in adviser.skills)
    ):
        return AWAY
    if adviser.state in (AdviserState.ON_CALL, AdviserState.WRAP_UP):
        return BUSY
    if adviser.state != AdviserState.AVAILABLE:
        return AWAY
    now = services.clock.now()
    change = states.StateChange(states.AVAILABLE, states.ON_CALL, f"offered callback {callback_id}")
    try:
        with session.begin_nested():
            entry = offer_call_back(session, adviser, callback_id, now)
            entry.priority_reasons = ["assigned by a supervisor"]
            if not _set_in_store(services, session, adviser, change, now, frozenset({states.AVAILABLE})):
                raise _Taken
    except _Taken:
        return BUSY
    except CallBackRefused:
        return AWAY  # e.g. no longer their skill's callback to ring, or not due after all
    record_adviser_state(session, adviser, AdviserState.ON_CALL, now, change.reason)
    store = ready_store(services, session)
    store.add_offered(waiting_caller(entry, None, adviser.home_library.name), adviser_key(adviser_id))
    offer = Offer(
        entry.id, f"callback-{callback_id}", entry.topic.value, None, dial_address(adviser), adviser_id
    )
    after_commit(session, lambda: announce(services, "offer", adviser_id, entry_id=entry.id))
    after_commit(session, lambda: start_offer(services, offer))
    after_commit(session, lambda: announce(services, "callbacks", adviser_id))
    log.info("adviser.offered_assigned_callback", adviser_id=adviser_id, callback_id=callback_id)
    return OFFERED


def schedule_end_of_wrap_up(services: Services, adviser_id: int, since_ms: int) -> None:
    seconds = services.settings.adviser_wrap_up_seconds
    services.queue.enqueue_in(
        timedelta(seconds=seconds),
        END_WRAP_UP_JOB,
        adviser_id,
        since_ms,
        job_id=f"adviser-{adviser_id}-wrap-up-{since_ms}",
        result_ttl=0,
        failure_ttl=3600,
    )


def end_wrap_up(adviser_id: int, since_ms: int) -> bool:
    """RQ job: the adviser's wrap-up time is over; available again unless they moved on since. Idempotent."""
    from runtime.worker import job_services

    return end_wrap_up_now(job_services(), adviser_id, since_ms)


def end_wrap_up_now(services: Services, adviser_id: int, since_ms: int | None = None) -> bool:
    """Make the adviser available if still in the wrap-up that began at `since_ms` (any wrap-up when None)."""
    with services.session_factory.begin() as session:
        adviser = _locked_adviser(session, adviser_id)
        if adviser is None or adviser.state != AdviserState.WRAP_UP:
            return False
        if since_ms is not None and to_millis(adviser.state_since) != since_ms:
            return False  # a later wrap-up has its own job
        change = states.decide(states.WRAP_UP, states.AVAILABLE, Actor.ROUTING, "wrap-up time over")
        assert change is not None
        _routing_change(services, session, adviser, change, services.clock.now())
        wrap_up.leave_wrap_up(session, adviser_id)  # not coded in time: kept as uncoded, never lost
        after_commit(session, lambda: request_matching(services))
        after_commit(session, lambda: announce(services, "adviser", adviser_id))
    return True


def end_overdue_wrap_ups(services: Services) -> int:
    """End every wrap-up that has run its time (its job was lost); returns how many. Cheap: one indexed query."""
    now = services.clock.now()
    seconds = services.settings.adviser_wrap_up_seconds
    with services.session_factory() as session:
        overdue = [
            (adviser_id, since)
            for adviser_id, since in session.execute(
                select(Adviser.id, Adviser.state_since).where(
                    Adviser.state == AdviserState.WRAP_UP,
                    Adviser.state_since <= now - timedelta(seconds=seconds),
                )
            ).tuples()
        ]
    ended = 0
    for adviser_id, since in overdue:
        if states.wrap_up_is_over(states.WRAP_UP, since, now, seconds) and end_wrap_up_now(
            services, adviser_id, to_millis(since)
        ):
            log.warning("adviser.overdue_wrap_up_ended", adviser_id=adviser_id)
            ended += 1
    return ended


def after_commit(session: Session, action: Callable[[], object]) -> None:
    """Run `action` once the session's current transaction commits; forget it if the transaction rolls back."""
    if not session.info.get(_HOOKED):
        event.listen(session, "after_commit", _run_after_commit)
        event.listen(session, "after_transaction_end", _forget_after_rollback)
        session.info[_HOOKED] = True
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


def _run_after_commit(session: Session) -> None:
    actions = session.info.pop(_AFTER_COMMIT, [])
    for action in actions:
        try:
            action()
        except redis.RedisError:
            # The change is committed; the matcher's next round or the overdue sweep makes good what was lost.
            log.exception("adviser.after_commit_job_not_queued")


def _forget_after_rollback(session: Session, transaction: SessionTransaction) -> None:
    if (
        transaction.parent is None
    ):  # the outermost transaction ended; after a commit the list is already empty
        session.info.pop(_AFTER_COMMIT, None)


def _locked_adviser(session: Session, adviser_id: int) -> Adviser | None:
    # FOR UPDATE on PostgreSQL: two changes of one adviser (console and wrap-up job) take turns. SQLite ignores
    # it, and serialises writers anyway.
    return session.scalar(
        select(Adviser)
        .where(Adviser.id == adviser_id)
        .options(selectinload(Adviser.skills), selectinload(Adviser.home_library))
        .with_for_update(of=Adviser)
        .execution_options(populate_existing=True)
    )


def _routing_change(
    services: Services, session: Session, adviser: Adviser, change: StateChange, now: datetime
) -> None:
    """A change routing makes on its own: the database is the truth, so a store that disagrees is only logged."""
    if not _set_in_store(services, session, adviser, change, now, frozenset({change.previous})):
        log.warning("adviser.store_state_differs", adviser_id=adviser.id, expected=change.previous)
    record_adviser_state(session, adviser, AdviserState(change.state), now, change.reason)


def _set_in_store(
    services: Services,
    session: Session,
    adviser: Adviser,
    change: StateChange,
    now: datetime,
    allowed_current: frozenset[str],
) -> bool:
    """Set the state in the store if its current state there is allowed; False if it was not (and nothing changed)."""
    store = ready_store(services, session)
    key = adviser_key(adviser.id)
    try:
        return _compare_and_set(store, key, change, now, allowed_current)
    except UnknownAdviser:
        # Added to the database after the store was built: register (starts offline), then set.
        store.register_adviser(adviser_profile(adviser), now)
        store.set_adviser_state(key, adviser.state.value, adviser.state_since, adviser.state_reason or "")
        return _compare_and_set(store, key, change, now, allowed_current)


@functools.cache
def _compare_and_set_source(key_table: str) -> str:
    return key_table + (LUA_DIR / "common.lua").read_text() + _COMPARE_AND_SET_LUA


def _compare_and_set(
    store: RedisRoutingStore, key: str, change: StateChange, now: datetime, allowed_current: frozenset[str]
) -> bool:
    script = store.client.register_script(_compare_and_set_source(store.keys.lua_table()))
    allowed = "," + ",".join(sorted(allowed_current)) + ","
    try:
        reply: Any = script(
            keys=[],
            args=[key, change.state, to_millis(now), change.reason, store.strategy.name, allowed],
        )
    except redis.ResponseError as error:
        if "unknown adviser" in str(error):
            raise UnknownAdviser(key) from None
        raise
    return bool(int(reply[0]))
