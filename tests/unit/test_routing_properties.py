"""Property tests: whatever the queue and the advisers look like, the routing invariants hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.engine import (
    ADVISER_STATES,
    AVAILABLE,
    LONGEST_IDLE_FIRST,
    MOST_PROFICIENT_FIRST,
    AvailableAdviser,
    RoutingState,
    WaitingCaller,
    assign_all,
    choose,
    qualification,
    stage_for,
)
from routing.widening import parse_rules

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
LIBRARY_NAMES = ("Huddersfield", "Almondbury", "Kirkburton", "Dewsbury", "Batley")
NEIGHBOURS = {
    "Huddersfield": ["Almondbury", "Kirkburton"],
    "Almondbury": ["Huddersfield"],
    "Kirkburton": ["Almondbury"],
    "Dewsbury": ["Batley"],
    "Batley": ["Dewsbury"],
}
TOPICS = ("council_tax", "housing_benefit")
LANGUAGES = ("en-GB", "pl-PL", "ur-PK")
STAGE_SETS = (
    [
        {"after_seconds": 0, "libraries": "home", "min_proficiency": 3},
        {"after_seconds": 60, "libraries": "neighbours", "min_proficiency": 3},
        {"after_seconds": 180, "libraries": "any", "min_proficiency": 1, "languages": "interpreter"},
    ],
    [{"after_seconds": 0, "libraries": "any", "min_proficiency": 1}],
    [
        {"after_seconds": 0, "libraries": "neighbours", "min_proficiency": 4},
        {"after_seconds": 30, "libraries": "neighbours", "min_proficiency": 2, "languages": "interpreter"},
    ],
)
RULE_SETS = [parse_rules(stages, NEIGHBOURS) for stages in STAGE_SETS]

seconds = st.integers(min_value=0, max_value=400)


@st.composite
def advisers(draw: st.DrawFn) -> list[AvailableAdviser]:
    count = draw(st.integers(min_value=0, max_value=8))
    return [
        AvailableAdviser(
            adviser_id=f"A{n}",
            library=draw(st.sampled_from(LIBRARY_NAMES)),
            skills=draw(st.dictionaries(st.sampled_from(TOPICS), st.integers(1, 5), max_size=2)),
            languages=frozenset(draw(st.sets(st.sampled_from(LANGUAGES), min_size=1, max_size=2))),
            idle_since=T0 + timedelta(seconds=draw(seconds)),
            state=draw(st.sampled_from(sorted(ADVISER_STATES) + [AVAILABLE] * 4)),
        )
        for n in range(count)
    ]


@st.composite
def waiting_callers(draw: st.DrawFn) -> list[WaitingCaller]:
    count = draw(st.integers(min_value=0, max_value=12))
    return [
        WaitingCaller(
            call_sid=f"CA{n}",
            topic=draw(st.sampled_from(TOPICS)),
            language=draw(st.sampled_from(LANGUAGES)),
            home_library=draw(st.sampled_from(LIBRARY_NAMES)),
            enqueued_at=T0 + timedelta(seconds=draw(seconds)),
            priority=draw(st.sampled_from([0, 0, 0, 1, 2])),
            priority_reasons=("vulnerable flag",),
            skipped_advisers=frozenset(
                draw(st.sets(st.sampled_from([f"A{i}" for i in range(8)]), max_size=2))
            ),
        )
        for n in range(count)
    ]


scenario = {
    "waiting": waiting_callers(),
    "staff": advisers(),
    "now_after": st.integers(min_value=0, max_value=900),
    "rules": st.sampled_from(RULE_SETS),
    "strategy": st.sampled_from([LONGEST_IDLE_FIRST, MOST_PROFICIENT_FIRST]),
}


@settings(max_examples=50, deadline=None)
@given(**scenario)
def test_an_assignment_always_satisfies_the_stage_active_for_that_caller_at_now(
    waiting, staff, now_after, rules, strategy
):
    now = T0 + timedelta(seconds=now_after)
    assignment = choose(waiting, staff, now, rules, strategy)
    if assignment is None:
        return
    chosen = next(c for c in waiting if c.call_sid == assignment.call_sid)
    taker = next(a for a in staff if a.adviser_id == assignment.adviser_id)
    stage_index = stage_for(chosen, now, rules)
    assert assignment.stage == stage_index + 1
    assert qualification(chosen, taker, rules.stages[stage_index], rules) == assignment.via_interpreter


@settings(max_examples=50, deadline=None)
@given(**scenario)
def test_no_higher_priority_or_longer_waiting_caller_who_could_be_helped_is_passed_over(
    waiting, staff, now_after, rules, strategy
):
    now = T0 + timedelta(seconds=now_after)
    assignment = choose(waiting, staff, now, rules, strategy)
    helpable = [
        c
        for c in waiting
        if any(qualification(c, a, rules.stages[stage_for(c, now, rules)], rules) is not None for a in staff)
    ]
    if assignment is None:
        assert helpable == []
    else:
        assert assignment.call_sid == min(helpable, key=WaitingCaller.queue_key).call_sid


@settings(max_examples=50, deadline=None)
@given(**scenario)
def test_the_indexed_routing_state_decides_exactly_as_the_readable_choose(
    waiting, staff, now_after, rules, strategy
):
    now = T0 + timedelta(seconds=now_after)
    state = RoutingState(rules, strategy)
    for adviser in staff:
        state.put_adviser(adviser)
    for waiting_caller in waiting:
        state.add_caller(waiting_caller)
    remaining_callers, remaining_staff = list(waiting), list(staff)
    # Step through a whole batch, so the incremental removals are checked too.
    while True:
        expected = choose(remaining_callers, remaining_staff, now, rules, strategy)
        assert state.choose(now) == expected
        if expected is None:
            break
        state.assign(now)
        remaining_callers = [c for c in remaining_callers if c.call_sid != expected.call_sid]
        remaining_staff = [a for a in remaining_staff if a.adviser_id != expected.adviser_id]


@settings(max_examples=50, deadline=None)
@given(**scenario)
def test_assign_all_gives_no_adviser_two_callers_and_no_caller_two_advisers(
    waiting, staff, now_after, rules, strategy
):
    now = T0 + timedelta(seconds=now_after)
    assignments = assign_all(waiting, staff, now, rules, strategy)
    call_sids = [a.call_sid for a in assignments]
    adviser_ids = [a.adviser_id for a in assignments]
    assert len(set(call_sids)) == len(call_sids)
    assert len(set(adviser_ids)) == len(adviser_ids)
    free = {a.adviser_id for a in staff if a.state == AVAILABLE}
    assert set(adviser_ids) <= free
    # Whoever is left over really cannot be matched with whoever is left free.
    left_callers = [c for c in waiting if c.call_sid not in set(call_sids)]
    left_staff = [a for a in staff if a.adviser_id not in set(adviser_ids)]
    assert choose(left_callers, left_staff, now, rules, strategy) is None


@settings(max_examples=50, deadline=None)
@given(
    waiting=st.lists(
        st.builds(
            WaitingCaller,
            call_sid=st.text(max_size=5),
            topic=st.text(max_size=4),
            language=st.text(max_size=4),
            home_library=st.text(max_size=6),
            enqueued_at=st.datetimes(timezones=st.just(UTC)),
            priority=st.integers(-(10**6), 10**6),
            priority_reasons=st.tuples(st.text(max_size=10)),
            skipped_advisers=st.frozensets(st.text(max_size=3), max_size=3),
        ),
        max_size=6,
    ),
    staff=st.lists(
        st.builds(
            AvailableAdviser,
            adviser_id=st.text(max_size=3),
            library=st.text(max_size=6),
            skills=st.dictionaries(st.text(max_size=4), st.integers(-3, 9), max_size=3),
            languages=st.frozensets(st.text(max_size=4), max_size=3),
            idle_since=st.datetimes(timezones=st.just(UTC)),
            state=st.text(max_size=10) | st.just(AVAILABLE),
        ),
        max_size=6,
    ),
    now=st.datetimes(timezones=st.just(UTC)),
    rules=st.sampled_from(RULE_SETS),
)
def test_choose_never_raises_whatever_strings_and_times_it_is_given(waiting, staff, now, rules):
    assignment = choose(waiting, staff, now, rules)
    assert assignment is None or assignment.call_sid in {c.call_sid for c in waiting}
    batch = assign_all(waiting, staff, now, rules)
    assert len({a.adviser_id for a in batch}) == len(batch)
