"""The simulator's clock: real time that can jump ahead, so "wait 5 minutes" in the browser phone takes no time.

The app and the simulated Twilio must share one clock in simulator mode, otherwise the queue's wait times and
the app's opening-hours checks disagree. A `runtime.clock.ControllableClock` stands still between steps, which
suits tests and scenarios; a person using the browser phone expects the clock to keep running, hence this one.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from runtime.clock import forward_delta


class SimulatedClock:
    """Wall-clock time plus the time skipped so far; `advance()` skips, `set()` jumps to a moment.

    Has the same `advance()` / `set()` as ControllableClock, so the call engine skips a prompt's speaking
    time instead of sleeping through it.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()
        if start is not None:
            self.set(start)

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def wall_now(self) -> datetime:
        """The real time, whatever has been skipped: for what must not jump with the calls (sign-ins)."""
        return datetime.now(UTC)

    @property
    def skipped(self) -> timedelta:
        """How far this clock runs ahead of (or behind, after `set()` to the past) the real clock."""
        with self._lock:
            return self._offset

    def advance(self, delta: timedelta | float) -> datetime:
        """Jump forward by a timedelta or a number of seconds; never backwards."""
        delta = forward_delta(delta)
        with self._lock:
            self._offset += delta
            return datetime.now(UTC) + self._offset

    def set(self, moment: datetime) -> None:
        """Make `now()` read `moment` from here on (then keep running); for trying closed hours by hand."""
        if moment.tzinfo is None:
            raise ValueError("set() needs a tz-aware datetime")
        with self._lock:
            self._offset = moment.astimezone(UTC) - datetime.now(UTC)


def can_skip_time(clock: object) -> bool:
    """A clock the simulator may move forward (SimulatedClock, ControllableClock); the system clock may not."""
    return callable(getattr(clock, "advance", None))
