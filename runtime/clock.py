"""One clock object injected everywhere, so tests and the simulator can move time instead of waiting."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Return the current time as a tz-aware UTC datetime."""
        ...


def forward_delta(delta: timedelta | float) -> timedelta:
    """A timedelta from a timedelta or seconds; clocks here only ever move forward."""
    if not isinstance(delta, timedelta):
        delta = timedelta(seconds=delta)
    if delta < timedelta(0):
        raise ValueError("time only moves forward")
    return delta


class SystemClock:
    """The real wall clock, used in production."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ControllableClock:
    """A clock that only moves when told to: `advance()` or `set()`.

    Shared between the simulator's call engine and the app in simulator mode, so a 20-minute queue wait
    runs in milliseconds. Thread-safe because the dev server and the simulator run in threads.
    """

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime.now(UTC)
        if start.tzinfo is None:
            raise ValueError("ControllableClock needs a tz-aware start time")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        """Move time forward by a timedelta or a number of seconds; never backwards."""
        delta = forward_delta(delta)
        with self._lock:
            self._now += delta
            return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("set() needs a tz-aware datetime")
        with self._lock:
            self._now = moment.astimezone(UTC)
