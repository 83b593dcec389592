"""Property tests: whatever a caller presses or says, the engine answers, never loops, and ends with a person."""

from __future__ import annotations

import json
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.engine import (
    CallContext,
    CallerInput,
    CallState,
    Enqueue,
    Gather,
    Hangup,
    OfferCallback,
    Say,
    SendSms,
    Transfer,
    advance,
    start,
)
from ivr.flow import default_flow
from ivr.hours import LONDON

FLOW = default_flow()
CAP = max(
    max(node.on_no_input.max, node.on_invalid.max)
    for node in FLOW.nodes.values()
    if hasattr(node, "on_no_input")
)

keypad = st.text(alphabet="0123456789*#", min_size=1, max_size=10)
junk_digits = st.text(max_size=40)
speech = st.one_of(
    st.sampled_from(
        ["council tax", "housing benefit", "repeat", "go back", "adviser", "yes", "no", "polski", "new"]
    ),
    st.text(max_size=300),
)
caller_inputs = st.one_of(
    st.just(CallerInput.timeout()),
    keypad.map(lambda digits: CallerInput(digits=digits)),
    st.sampled_from("0123456789*").map(lambda key: CallerInput(digits=key)),
    junk_digits.map(lambda digits: CallerInput(digits=digits)),
    st.builds(
        CallerInput,
        speech=speech,
        confidence=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    ),
)
contexts = st.builds(
    CallContext,
    now=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(LONDON)
    ),
    caller_withheld=st.booleans(),
    caller_has_mobile=st.booleans(),
    flags=st.fixed_dictionaries({}, optional={"vulnerable": st.booleans()}),
)


def assert_step_is_safe(step) -> None:
    assert step.actions, "every step must tell Twilio to do something"
    last = step.actions[-1]
    if not step.finished:
        assert isinstance(last, Gather)
        assert last.prompts, "a Gather always says something"
        return
    if isinstance(last, Hangup):
        assert isinstance(step.actions[-2], Say), "never hang up without saying goodbye"
        assert all(isinstance(action, Say | SendSms) for action in step.actions[:-1])
    else:
        assert isinstance(last, Enqueue | OfferCallback | Transfer), last


@settings(max_examples=300, deadline=None)
@given(context=contexts, inputs=st.lists(caller_inputs, max_size=45))
def test_any_sequence_of_caller_input_is_answered_safely_and_never_loops(context, inputs):
    step = start(FLOW, context)
    assert_step_is_safe(step)
    in_a_row, previous = 1, (step.state.node, step.state.phase)
    for caller_input in inputs:
        if step.finished:
            break
        step = advance(FLOW, json.loads(json.dumps(step.state.to_dict())), caller_input, context)
        assert_step_is_safe(step)
        here = (step.state.node, step.state.phase)
        in_a_row = in_a_row + 1 if here == previous and not step.finished else 1
        # A capture's read-back is its own prompt (phase "confirm"), so it is counted separately.
        assert in_a_row <= CAP + 1, f"stuck at {here}"
        previous = here
    if len(inputs) > FLOW.globals.max_turns:
        assert step.finished, "a call must end within max_turns caller inputs"


@settings(max_examples=100, deadline=None)
@given(context=contexts, inputs=st.lists(caller_inputs, min_size=1, max_size=20))
def test_a_finished_step_or_any_stored_state_still_leads_to_a_person_when_advanced(context, inputs):
    step = start(FLOW, context)
    for caller_input in inputs:
        if step.finished:
            break
        step = advance(FLOW, step.state, caller_input, context)
    again = advance(FLOW, step.state, inputs[0], context)
    assert_step_is_safe(again)


@settings(max_examples=200, deadline=None)
@given(
    raw=st.dictionaries(
        st.sampled_from(
            ["flow", "version", "node", "phase", "language", "turns", "history", "data", "pending"]
        ),
        st.one_of(
            st.none(), st.integers(), st.text(max_size=20), st.lists(st.text(max_size=5)), st.booleans()
        ),
    ),
    caller_input=caller_inputs,
)
def test_a_corrupt_stored_state_never_raises(raw, caller_input):
    step = advance(FLOW, raw, caller_input, CallContext(now=datetime(2026, 3, 10, 10, tzinfo=LONDON)))

    assert_step_is_safe(step)


@settings(max_examples=100, deadline=None)
@given(inputs=st.lists(caller_inputs, max_size=15))
def test_state_round_trips_through_its_stored_form(inputs):
    context = CallContext(now=datetime(2026, 3, 10, 10, tzinfo=LONDON))
    step = start(FLOW, context)
    for caller_input in inputs:
        if step.finished:
            break
        step = advance(FLOW, step.state, caller_input, context)
        assert CallState.from_dict(json.loads(json.dumps(step.state.to_dict()))) == step.state
