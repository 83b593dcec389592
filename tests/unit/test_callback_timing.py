"""When a dial job starts and how long it waits: never before the due instant, whatever the clock does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from callbacks.lifecycle import MAX_DIAL_WAIT, dial_job_time, wait_until
from runtime.clock import ControllableClock

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@given(
    due_in_ms=st.integers(min_value=1, max_value=2000),
    sleep_share=st.floats(min_value=0.5, max_value=1.5),
)
def test_waiting_returns_only_once_the_clock_has_reached_the_due_instant(due_in_ms, sleep_share):
    """Sleeps may end a little early or late on this clock; the wait still never ends before `due`."""
    clock = ControllableClock(START)
    due = START + timedelta(milliseconds=due_in_ms)

    def sleep(seconds: float) -> None:
        clock.advance(seconds * sleep_share)  # sleeps that wake too soon, or late

    assert wait_until(clock, due, sleep) is True
    assert clock.now() >= due


def test_a_due_instant_already_passed_is_not_waited_for():
    clock = ControllableClock(START)
    slept: list[float] = []
    assert wait_until(clock, START - timedelta(seconds=3), slept.append) is True
    assert slept == []


def test_a_due_instant_too_far_ahead_is_not_waited_for():
    clock = ControllableClock(START)
    slept: list[float] = []
    assert wait_until(clock, START + MAX_DIAL_WAIT + timedelta(milliseconds=1), slept.append) is False
    assert slept == []


def test_a_clock_that_does_not_follow_real_time_gives_up_after_the_longest_wait():
    clock = ControllableClock(START)
    slept: list[float] = []
    assert wait_until(clock, START + timedelta(milliseconds=500), slept.append) is False
    assert clock.now() == START and sum(slept) <= MAX_DIAL_WAIT.total_seconds()


def test_a_dial_job_starts_a_second_before_the_second_it_is_due_in():
    assert dial_job_time(START + timedelta(milliseconds=999)) == START - timedelta(seconds=1)
    assert dial_job_time(START) == START - timedelta(seconds=1)
