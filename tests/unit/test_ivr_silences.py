"""Silence is counted per call, not per menu: a silent caller hears at most three prompts before a person."""

from __future__ import annotations

import copy
import json

import pytest

from ivr.engine import CallState, Enqueue, Gather, advance, start
from ivr.flow import DEFAULT_FLOW_PATH, load_flow, validate
from tests.unit.test_ivr_engine import FLOW, OPEN, SILENCE, call, handover, keys, outcomes, spoken

SHIPPED = json.loads(DEFAULT_FLOW_PATH.read_text(encoding="utf-8"))


def prompts_heard(steps) -> int:
    """How many prompts (Gathers) the caller heard before they were handed over."""
    return sum(1 for step in steps if step.actions and isinstance(step.actions[-1], Gather))


def test_a_caller_silent_from_the_start_hears_three_prompts_then_reaches_an_adviser():
    steps = call([SILENCE, SILENCE, SILENCE])

    assert prompts_heard(steps) == 3
    final = handover(steps[3])
    assert isinstance(final, Enqueue)
    assert (final.topic, final.language) == ("general", "en-GB")
    assert "fallback:no_input" in final.reasons
    fallback = next(event for event in steps[3].journey if event.outcome == "fallback")
    assert (fallback.node, fallback.detail["reason"]) == ("main_menu", "silences_in_call")
    assert ("adviser_queue", "queued") in outcomes(steps[3])


def test_a_polish_caller_silent_after_choosing_polish_hears_three_polish_prompts_then_an_adviser():
    steps = call([keys("2"), SILENCE, SILENCE, SILENCE])

    polish_prompts = [step for step in steps[1:] if isinstance(step.actions[-1], Gather)]
    assert len(polish_prompts) == 3
    assert all(gather.prompts[0].language == "pl-PL" for gather in (s.actions[-1] for s in polish_prompts))
    final = handover(steps[4])
    assert (final.topic, final.language) == ("general", "pl-PL")


def test_silences_at_different_menus_add_up_to_the_call_cap():
    # Once silent at the language choice, then Polish, then silent twice at the main menu: three in the call.
    steps = call([SILENCE, keys("2"), SILENCE, SILENCE])

    assert steps[3].state.node == "main_menu" and steps[3].state.no_input == 1
    final = handover(steps[4])
    assert isinstance(final, Enqueue) and final.language == "pl-PL"
    assert spoken(steps[4])[-1] == "Proszę czekać na konsultanta."


def test_a_menu_choice_between_silences_does_not_reset_the_call_count():
    steps = call([keys("1"), SILENCE, keys("1"), SILENCE, SILENCE])

    assert steps[4].state.node == "ct_menu" and steps[4].state.silences == 2
    final = handover(steps[5])
    assert final.topic == "council_tax"  # the adviser key's target keeps the topic chosen so far


def test_a_per_menu_cap_still_applies_before_the_call_cap():
    # The language choice allows one reprompt: its second silence moves on to the main menu.
    steps = call([SILENCE, SILENCE])

    assert steps[2].state.node == "main_menu"
    assert not steps[2].finished


def test_the_flow_sets_the_call_cap():
    definition = copy.deepcopy(SHIPPED)
    definition["globals"]["max_silences"] = 1
    flow = load_flow(definition)

    first = start(flow, OPEN)
    reprompt = advance(flow, first.state, SILENCE, OPEN)
    assert not reprompt.finished
    assert isinstance(handover(advance(flow, reprompt.state, SILENCE, OPEN)), Enqueue)


@pytest.mark.parametrize("bad", [0, 6, "2", 1.5, True])
def test_a_call_cap_outside_one_to_five_is_refused(bad):
    definition = copy.deepcopy(SHIPPED)
    definition["globals"]["max_silences"] = bad

    assert [problem.where for problem in validate(definition)] == ["/globals/max_silences"]


def test_a_state_stored_before_silences_were_counted_still_runs():
    # A call in progress during a deploy: its stored state has no "silences" yet.
    stored = call([keys("1"), SILENCE])[-1].state.to_dict()
    del stored["silences"]

    state = CallState.from_dict(stored)
    assert state.silences == 0
    step = advance(FLOW, stored, SILENCE, OPEN)
    assert step.state.node == "main_menu" and step.state.silences == 1
