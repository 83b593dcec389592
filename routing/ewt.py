"""Estimated wait time as an honest range ("about 5 to 10 minutes"), or no estimate when we cannot know.

A single number sounds precise and is usually wrong; a range built from the spread of recent handle times
says how sure we are. With too few recent answered calls we say nothing rather than guess.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import quantiles

MIN_ANSWERED_CALLS = 5
# Abandon rates above this are a sign of an outage, not a forecast of how many callers ahead will leave.
MAX_ABANDON_RATE = 0.5


@dataclass(frozen=True)
class RecentCalls:
    """What happened in this topic's queue lately (e.g. the last hour)."""

    handle_seconds: Sequence[float]  # talk + wrap-up time of each recently answered call
    abandoned: int = 0  # callers who hung up while waiting in the same period


@dataclass(frozen=True)
class WaitEstimate:
    """A wait range in seconds, rounded to what we would say aloud, and the words to say."""

    low_seconds: int
    high_seconds: int
    phrase: str


def estimate_wait(
    position: int,
    advisers_serving: int,
    recent: RecentCalls,
    advisers_available: int = 0,
    min_answered: int = MIN_ANSWERED_CALLS,
) -> WaitEstimate | None:
    """Estimate the wait of the caller at `position` (1 = next), or None when the data is too thin.

    `advisers_serving` counts advisers staffed for this topic (available, on a call or in wrap-up);
    `advisers_available` those free right now. Each serving adviser frees up about once per handle time,
    so the k-th caller waits about k handle times divided among the advisers. The low end uses the quicker
    quarter of recent calls and assumes some callers ahead give up; the high end the slower quarter, nobody
    giving up.
    """
    handle = sorted(float(s) for s in recent.handle_seconds if s is not None and s > 0)
    if position < 1 or advisers_serving < 1 or len(handle) < min_answered:
        return None
    if position <= advisers_available:
        return _estimate(0, 60)
    fast, _median, slow = quantiles(handle, n=4, method="inclusive")
    answered = len(handle)
    abandon_rate = min(MAX_ABANDON_RATE, recent.abandoned / (answered + recent.abandoned))
    ahead = position - advisers_available  # callers (including this one) still to be freed up for
    low = (ahead * (1 - abandon_rate) - 1) * fast / advisers_serving
    high = ahead * slow / advisers_serving
    return _estimate(max(0.0, low), high)


def _estimate(low: float, high: float) -> WaitEstimate:
    low_minutes, high_minutes = _round_range(low / 60, high / 60)
    return WaitEstimate(low_minutes * 60, high_minutes * 60, _phrase(low_minutes, high_minutes))


def _round_range(low: float, high: float) -> tuple[int, int]:
    """Round outwards to the steps people speak in: whole minutes up to 10, then fives, then quarter hours.

    Each end picks its own step, and the step boundaries are multiples of the steps, so the rounding never
    makes a caller further back hear a shorter wait.
    """
    low_rounded = int(math.floor(low / _step(low)) * _step(low))
    high_rounded = int(math.ceil(high / _step(high)) * _step(high))
    return low_rounded, max(high_rounded, low_rounded + 1)


def _step(minutes: float) -> int:
    return 1 if minutes <= 10 else 5 if minutes <= 60 else 15


def _phrase(low_minutes: int, high_minutes: int) -> str:
    if high_minutes <= 1:
        return "less than a minute"
    if high_minutes > 60:
        return "more than an hour" if low_minutes >= 60 else f"about {_minutes(low_minutes)} to over an hour"
    if low_minutes == 0:
        return f"up to {_minutes(high_minutes)}"
    return f"about {low_minutes} to {_minutes(high_minutes)}"


def _minutes(count: int) -> str:
    return "1 minute" if count == 1 else f"{count} minutes"
