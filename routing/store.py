"""The RoutingStore port: the live queue and adviser states, shared by every web process and worker.

`RedisRoutingStore` (routing/redis_store.py) is the production implementation; `InMemoryRoutingStore` here is
the fake for unit tests and the simulator. Both validate input the same way and store times to the
millisecond, so a contract test can run unchanged against either.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from routing.engine import (
    ADVISER_STATES,
    AVAILABLE,
    LONGEST_IDLE_FIRST,
    OFFLINE,
    ON_CALL,
    Assignment,
    AvailableAdviser,
    RoutingState,
    Strategy,
    WaitingCaller,
)
from routing.widening import RoutingRules

MAX_PRIORITY = 99
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
# Characters that would break the Redis encodings: group ids use "|", free-adviser members a tab, skill
# lists "," and "=", the neighbour map ";".
_FORBIDDEN = frozenset("|\t\n\r,=;")


class UnknownAdviser(KeyError):
    """The adviser was never registered with the store."""


@dataclass(frozen=True)
class AdviserProfile:
    """What routing needs to know about an adviser that does not change call by call."""

    adviser_id: str
    library: str
    skills: Mapping[str, int]  # topic → proficiency 1-5
    languages: frozenset[str]


@dataclass(frozen=True)
class AdviserStatus:
    """An adviser's profile and current state, as held in the store."""

    profile: AdviserProfile
    state: str
    since: datetime
    reason: str = ""

    def as_routable(self) -> AvailableAdviser:
        p = self.profile
        return AvailableAdviser(p.adviser_id, p.library, dict(p.skills), p.languages, self.since, self.state)


@dataclass(frozen=True)
class AdviserStateChange:
    """One recorded change of an adviser's state (the console shows these; reports count them)."""

    adviser_id: str
    previous: str
    state: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class RoutingSnapshot:
    """Everything the store holds, e.g. rebuilt from the database after Redis was flushed."""

    waiting: tuple[WaitingCaller, ...] = ()
    # Callers offered to an adviser who has not yet answered: (caller, adviser id).
    offered: tuple[tuple[WaitingCaller, str], ...] = ()
    advisers: tuple[AdviserStatus, ...] = ()


class RoutingStore(Protocol):
    """The live queue. Every method is safe to call from several processes at once (in the Redis store)."""

    def register_adviser(self, profile: AdviserProfile, now: datetime) -> None:
        """Add or update an adviser's profile; a new adviser starts offline, a known one keeps their state."""
        ...

    def set_adviser_state(
        self, adviser_id: str, state: str, since: datetime, reason: str = ""
    ) -> AdviserStateChange:
        """Change an adviser's state and record the change; raise UnknownAdviser for an unknown id."""
        ...

    def recent_adviser_events(self, count: int = 100) -> list[AdviserStateChange]:
        """Return the latest state changes, newest first."""
        ...

    def add_waiting(self, caller: WaitingCaller) -> bool:
        """Queue a caller (a repeat replaces their entry); False if they are already being offered."""
        ...

    def remove_waiting(self, call_sid: str) -> bool:
        """Take a waiting caller out of the queue (hung up, chose a callback); False if not waiting."""
        ...

    def try_assign(self, now: datetime) -> Assignment | None:
        """Atomically take the best caller and reserve the best adviser (state on_call), or return None."""
        ...

    def reject_offer(
        self, call_sid: str, now: datetime, adviser_state: str = AVAILABLE, reason: str = "offer rejected"
    ) -> WaitingCaller | None:
        """Put an offered caller back in their old place, never to be offered that adviser again."""
        ...

    def add_offered(self, caller: WaitingCaller, adviser_id: str) -> None:
        """Hold a caller as offered to this adviser without the matcher (a call-back the adviser started from
        their desk); the adviser must already be reserved (on call) by the caller of this method."""
        ...

    def release_assignment(self, call_sid: str) -> bool:
        """Forget a settled offer (connected, or the caller hung up); the adviser's state is left as it is."""
        ...

    def position_of(self, call_sid: str) -> int | None:
        """Return the caller's place (1 = next) among callers waiting on the same topic, or None."""
        ...

    def queue_sizes(self) -> dict[str, int]:
        """Return how many callers wait per topic."""
        ...

    def snapshot(self) -> RoutingSnapshot:
        """Return everything held, for checks and for rebuilding elsewhere."""
        ...

    def rebuild_from(self, snapshot: RoutingSnapshot) -> None:
        """Replace everything held with the snapshot (e.g. after Redis lost its data)."""
        ...


def to_millis(moment: datetime) -> int:
    """Return whole milliseconds since the epoch; the stores keep time at this precision."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use the injected clock (tz-aware UTC)")
    return (moment - _EPOCH) // _MILLISECOND


def from_millis(millis: int) -> datetime:
    return _EPOCH + millis * _MILLISECOND


def truncate(moment: datetime) -> datetime:
    return from_millis(to_millis(moment))


def checked_caller(caller: WaitingCaller) -> WaitingCaller:
    """Validate a caller for storage and return it with its enqueue time truncated to the millisecond."""
    for name in ("call_sid", "topic", "language", "home_library"):
        check_name(name, getattr(caller, name))
    for adviser_id in caller.skipped_advisers:
        check_name("skipped adviser id", adviser_id)
    if isinstance(caller.priority, bool) or not 0 <= caller.priority <= MAX_PRIORITY:
        raise ValueError(f"priority must be 0 to {MAX_PRIORITY}, got {caller.priority!r}")
    json.dumps(list(caller.priority_reasons))  # reasons must be plain strings
    return replace(caller, enqueued_at=truncate(caller.enqueued_at))


def checked_profile(profile: AdviserProfile) -> AdviserProfile:
    check_name("adviser_id", profile.adviser_id)
    check_name("library", profile.library)
    for topic, proficiency in profile.skills.items():
        check_name("skill topic", topic)
        if isinstance(proficiency, bool) or not isinstance(proficiency, int) or not 1 <= proficiency <= 5:
            raise ValueError(f"proficiency in {topic} must be 1 to 5, got {proficiency!r}")
    for language in profile.languages:
        check_name("language", language)
    return replace(profile, skills=dict(profile.skills), languages=frozenset(profile.languages))


def checked_state(state: str) -> str:
    if state not in ADVISER_STATES:
        raise ValueError(f"unknown adviser state {state!r}; expected one of {sorted(ADVISER_STATES)}")
    return str(state)


def check_name(what: str, value: str) -> None:
    if not isinstance(value, str) or not value or _FORBIDDEN & set(value):
        raise ValueError(
            f"{what} must be a non-empty string without any of | , = ; tab newline, got {value!r}"
        )


@dataclass
class InMemoryRoutingStore:
    """The RoutingStore for unit tests: the same behaviour as Redis, in one process's memory."""

    rules: RoutingRules
    strategy: Strategy = LONGEST_IDLE_FIRST
    _state: RoutingState = field(init=False)
    _advisers: dict[str, AdviserStatus] = field(default_factory=dict)
    _offered: dict[str, tuple[WaitingCaller, str]] = field(default_factory=dict)
    _events: list[AdviserStateChange] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._state = RoutingState(self.rules, self.strategy)

    def register_adviser(self, profile: AdviserProfile, now: datetime) -> None:
        profile = checked_profile(profile)
        known = self._advisers.get(profile.adviser_id)
        status = (
            replace(known, profile=profile)
            if known
            else AdviserStatus(profile, OFFLINE, truncate(now), "registered")
        )
        self._put(status)

    def set_adviser_state(
        self, adviser_id: str, state: str, since: datetime, reason: str = ""
    ) -> AdviserStateChange:
        state = checked_state(state)
        known = self._advisers.get(adviser_id)
        if known is None:
            raise UnknownAdviser(adviser_id)
        since = truncate(since)
        self._put(replace(known, state=state, since=since, reason=reason))
        event = AdviserStateChange(adviser_id, known.state, state, since, reason)
        self._events.append(event)
        return event

    def recent_adviser_events(self, count: int = 100) -> list[AdviserStateChange]:
        return list(reversed(self._events[-count:])) if count > 0 else []

    def add_waiting(self, caller: WaitingCaller) -> bool:
        caller = checked_caller(caller)
        if caller.call_sid in self._offered:
            return False
        self._state.add_caller(caller)
        return True

    def remove_waiting(self, call_sid: str) -> bool:
        return self._state.remove_caller(call_sid) is not None

    def try_assign(self, now: datetime) -> Assignment | None:
        now = truncate(now)
        assignment = self._state.choose(now)
        if assignment is None:
            return None
        caller = self._state.remove_caller(assignment.call_sid)
        assert caller is not None  # choose only returns waiting callers
        self._offered[caller.call_sid] = (caller, assignment.adviser_id)
        self.set_adviser_state(assignment.adviser_id, ON_CALL, now, f"offered {caller.call_sid}")
        return assignment

    def reject_offer(
        self, call_sid: str, now: datetime, adviser_state: str = AVAILABLE, reason: str = "offer rejected"
    ) -> WaitingCaller | None:
        adviser_state = checked_state(adviser_state)
        offered = self._offered.pop(call_sid, None)
        if offered is None:
            return None
        caller, adviser_id = offered
        back = replace(caller, skipped_advisers=caller.skipped_advisers | {adviser_id})
        self._state.add_caller(back)
        if adviser_id in self._advisers:
            self.set_adviser_state(adviser_id, adviser_state, now, reason)
        return back

    def release_assignment(self, call_sid: str) -> bool:
        return self._offered.pop(call_sid, None) is not None

    def add_offered(self, caller: WaitingCaller, adviser_id: str) -> None:
        caller = checked_caller(caller)
        self._state.remove_caller(caller.call_sid)
        self._offered[caller.call_sid] = (caller, adviser_id)

    def position_of(self, call_sid: str) -> int | None:
        caller = self._state.caller(call_sid)
        if caller is None:
            return None
        key = caller.queue_key()
        return 1 + sum(
            1 for other in self._state.callers() if other.topic == caller.topic and other.queue_key() < key
        )

    def queue_sizes(self) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for caller in self._state.callers():
            sizes[caller.topic] = sizes.get(caller.topic, 0) + 1
        return sizes

    def snapshot(self) -> RoutingSnapshot:
        return RoutingSnapshot(
            waiting=tuple(sorted(self._state.callers(), key=WaitingCaller.queue_key)),
            offered=tuple(sorted(self._offered.values(), key=lambda pair: pair[0].call_sid)),
            advisers=tuple(sorted(self._advisers.values(), key=lambda s: s.profile.adviser_id)),
        )

    def rebuild_from(self, snapshot: RoutingSnapshot) -> None:
        self._state = RoutingState(self.rules, self.strategy)
        self._advisers.clear()
        self._offered.clear()
        for status in snapshot.advisers:
            self._put(
                replace(
                    status,
                    profile=checked_profile(status.profile),
                    state=checked_state(status.state),
                    since=truncate(status.since),
                )
            )
        for caller in snapshot.waiting:
            self._state.add_caller(checked_caller(caller))
        for caller, adviser_id in snapshot.offered:
            self._offered[caller.call_sid] = (checked_caller(caller), adviser_id)

    def _put(self, status: AdviserStatus) -> None:
        self._advisers[status.profile.adviser_id] = status
        self._state.put_adviser(status.as_routable())
