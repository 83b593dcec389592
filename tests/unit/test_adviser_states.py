"""Adviser state rules (routing.states): who may change what, and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.engine import ADVISER_STATES, AVAILABLE, BREAK, CUSTOMER_AT_DESK, OFFLINE, ON_CALL, WRAP_UP
from routing.states import (
    Actor,
    InvalidStateRequest,
    StateChange,
    TransitionNotAllowed,
    allowed_sources,
    decide,
    wrap_up_is_over,
)

CONSOLE_ACTORS = (Actor.ADVISER, Actor.SUPERVISOR, Actor.OPERATOR)
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("target", [AVAILABLE, BREAK, CUSTOMER_AT_DESK, OFFLINE])
def test_an_adviser_may_choose_their_own_working_states(target):
    start = OFFLINE if target != OFFLINE else AVAILABLE
    change = decide(start, target, Actor.ADVISER)
    assert change is not None and (change.previous, change.state) == (start, target)
    assert change.reason  # a default reason when none was given


@pytest.mark.parametrize("target", [AVAILABLE, BREAK, CUSTOMER_AT_DESK, OFFLINE])
def test_nobody_in_the_console_moves_an_adviser_who_is_on_a_call(target):
    for actor in CONSOLE_ACTORS:
        if target == CUSTOMER_AT_DESK and actor is Actor.SUPERVISOR:
            continue
        with pytest.raises(TransitionNotAllowed) as refused:
            decide(ON_CALL, target, actor, "because")
        assert refused.value.field == "state"
        assert "on a call" in refused.value.message


@pytest.mark.parametrize("actor", CONSOLE_ACTORS)
@pytest.mark.parametrize("target", [ON_CALL, WRAP_UP])
def test_on_call_and_wrap_up_are_never_chosen_by_hand(actor, target):
    with pytest.raises(InvalidStateRequest, match="set when calls start and end"):
        decide(AVAILABLE, target, actor, "please")


def test_an_adviser_can_end_wrap_up_early_by_choosing_available():
    assert decide(WRAP_UP, AVAILABLE, Actor.ADVISER).state == AVAILABLE


def test_a_supervisor_must_give_a_reason():
    with pytest.raises(InvalidStateRequest) as refused:
        decide(AVAILABLE, BREAK, Actor.SUPERVISOR, "   ")
    assert refused.value.field == "reason"
    change = decide(AVAILABLE, BREAK, Actor.SUPERVISOR, "fire drill")
    assert change == StateChange(AVAILABLE, BREAK, "fire drill")


def test_only_the_adviser_says_a_customer_is_at_their_desk():
    with pytest.raises(InvalidStateRequest, match="only the adviser"):
        decide(AVAILABLE, CUSTOMER_AT_DESK, Actor.SUPERVISOR, "busy")
    assert decide(AVAILABLE, CUSTOMER_AT_DESK, Actor.ADVISER).state == CUSTOMER_AT_DESK


def test_asking_for_the_current_state_changes_nothing():
    assert decide(AVAILABLE, AVAILABLE, Actor.ADVISER) is None


def test_unknown_states_and_long_reasons_are_refused_with_the_field_at_fault():
    with pytest.raises(InvalidStateRequest) as unknown:
        decide(AVAILABLE, "lunch", Actor.ADVISER)
    assert unknown.value.field == "state" and "lunch" in unknown.value.message
    with pytest.raises(InvalidStateRequest) as long_reason:
        decide(AVAILABLE, BREAK, Actor.ADVISER, "x" * 201)
    assert long_reason.value.field == "reason"


def test_reasons_are_kept_on_one_line():
    assert decide(AVAILABLE, BREAK, Actor.ADVISER, "tea\n\tbreak ").reason == "tea break"


def test_routing_moves_only_along_the_call_lifecycle():
    assert decide(AVAILABLE, ON_CALL, Actor.ROUTING).state == ON_CALL
    assert decide(ON_CALL, WRAP_UP, Actor.ROUTING).state == WRAP_UP
    assert decide(WRAP_UP, AVAILABLE, Actor.ROUTING).state == AVAILABLE
    with pytest.raises(TransitionNotAllowed):
        decide(BREAK, ON_CALL, Actor.ROUTING)
    with pytest.raises(TransitionNotAllowed):
        decide(OFFLINE, WRAP_UP, Actor.ROUTING)


def test_wrap_up_is_over_after_its_time_and_only_in_wrap_up():
    assert not wrap_up_is_over(WRAP_UP, NOW, NOW + timedelta(seconds=59), 60)
    assert wrap_up_is_over(WRAP_UP, NOW, NOW + timedelta(seconds=60), 60)
    assert not wrap_up_is_over(BREAK, NOW, NOW + timedelta(hours=1), 60)


commands = st.lists(
    st.tuples(
        st.sampled_from(list(Actor)),
        st.sampled_from(sorted(ADVISER_STATES) + ["lunch"]),
        st.sampled_from([None, "", "reason"]),
    ),
    max_size=40,
)


@given(commands)
def test_no_sequence_of_commands_reaches_a_state_by_a_path_the_rules_do_not_allow(sequence):
    state = OFFLINE
    for actor, requested, reason in sequence:
        try:
            change = decide(state, requested, actor, reason)
        except (InvalidStateRequest, TransitionNotAllowed):
            continue
        if change is None:
            assert requested == state
            continue
        assert change.previous == state and change.state in ADVISER_STATES and change.reason
        assert state in allowed_sources(actor, change.state)
        if change.state in (ON_CALL, WRAP_UP):
            assert actor is Actor.ROUTING  # never a console user
        if change.state == ON_CALL:
            assert state == AVAILABLE  # only a free adviser is offered a call
        if change.state == WRAP_UP:
            assert state == ON_CALL  # wrap-up only follows a call
        if state == ON_CALL:
            assert actor is Actor.ROUTING  # a call in progress is left alone by everyone else
        state = change.state
    assert state in ADVISER_STATES
