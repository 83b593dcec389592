"""Estimated wait: an honest range in words, or no estimate when the data is too thin to trust."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.ewt import RecentCalls, estimate_wait

SIX_MINUTE_CALLS = RecentCalls(handle_seconds=[240, 300, 360, 360, 420, 480], abandoned=0)


def test_no_estimate_with_fewer_than_five_recent_answered_calls():
    assert estimate_wait(3, advisers_serving=4, recent=RecentCalls([300, 300, 300, 300])) is None


def test_no_estimate_when_nobody_is_serving_the_topic():
    assert estimate_wait(1, advisers_serving=0, recent=SIX_MINUTE_CALLS) is None


def test_the_next_caller_with_an_adviser_free_hears_less_than_a_minute():
    estimate = estimate_wait(1, advisers_serving=3, recent=SIX_MINUTE_CALLS, advisers_available=1)
    assert (estimate.low_seconds, estimate.high_seconds, estimate.phrase) == (0, 60, "less than a minute")


def test_tenth_in_line_with_two_advisers_hears_a_range_in_minutes():
    estimate = estimate_wait(10, advisers_serving=2, recent=SIX_MINUTE_CALLS)
    # Quicker quarter of calls ≈ 5 min, slower quarter ≈ 6.75 min; 9 to 10 callers shared by 2 advisers.
    assert (estimate.low_seconds, estimate.high_seconds) == (20 * 60, 35 * 60)
    assert estimate.phrase == "about 20 to 35 minutes"


def test_abandoned_calls_bring_the_low_end_down_but_not_the_high_end():
    steady = estimate_wait(10, advisers_serving=2, recent=SIX_MINUTE_CALLS)
    leaving = estimate_wait(
        10, advisers_serving=2, recent=RecentCalls(SIX_MINUTE_CALLS.handle_seconds, abandoned=6)
    )
    assert leaving.low_seconds < steady.low_seconds
    assert leaving.high_seconds == steady.high_seconds


def test_a_very_long_queue_is_described_as_more_than_an_hour():
    assert estimate_wait(200, advisers_serving=2, recent=SIX_MINUTE_CALLS).phrase == "more than an hour"


@settings(max_examples=50, deadline=None)
@given(
    position=st.integers(1, 300),
    serving=st.integers(1, 40),
    available=st.integers(0, 5),
    handle=st.lists(st.floats(1, 3600), min_size=5, max_size=30),
    abandoned=st.integers(0, 50),
)
def test_estimates_are_ordered_ranges_that_never_shrink_further_back_in_the_queue(
    position, serving, available, handle, abandoned
):
    recent = RecentCalls(handle, abandoned)
    here = estimate_wait(position, serving, recent, available)
    behind = estimate_wait(position + 1, serving, recent, available)
    assert here is not None and behind is not None
    assert 0 <= here.low_seconds < here.high_seconds
    assert behind.low_seconds >= here.low_seconds and behind.high_seconds >= here.high_seconds
    assert here.phrase
