"""Whole journeys through the shipped Kirklees flow, one webhook (advance) at a time."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from ivr.engine import (
    CallContext,
    CallerInput,
    CallState,
    Enqueue,
    Gather,
    OfferCallback,
    Say,
    SendSms,
    Step,
    advance,
    interpreter_needed,
    start,
)
from ivr.flow import Flow, default_flow, is_interactive
from ivr.hours import LONDON

FLOW = default_flow()
TUESDAY_MORNING = datetime(2026, 3, 10, 10, 0, tzinfo=LONDON)
SATURDAY = datetime(2026, 3, 14, 11, 0, tzinfo=LONDON)
OPEN = CallContext(now=TUESDAY_MORNING, caller_has_mobile=True)
SILENCE = CallerInput.timeout()


def keys(digits: str) -> CallerInput:
    return CallerInput(digits=digits)


def said(words: str, confidence: float = 0.9) -> CallerInput:
    return CallerInput(speech=words, confidence=confidence)


def call(inputs: list[CallerInput], context: CallContext = OPEN, flow: Flow = FLOW) -> list[Step]:
    """Run a call: start, then one advance per input, storing state as JSON between webhooks like the adapter."""
    steps = [start(flow, context)]
    for caller_input in inputs:
        stored = json.loads(json.dumps(steps[-1].state.to_dict()))
        steps.append(advance(flow, stored, caller_input, context))
    return steps


def spoken(step: Step) -> list[str]:
    """Every sentence the caller hears in a step, including prompts inside the Gather."""
    texts = []
    for action in step.actions:
        if isinstance(action, Say):
            texts.append(action.text)
        elif isinstance(action, Gather):
            texts += [prompt.text for prompt in action.prompts]
    return texts


def gather(step: Step) -> Gather:
    assert isinstance(step.actions[-1], Gather), step.actions
    return step.actions[-1]


def handover(step: Step):
    assert step.finished
    return step.actions[-1]


def outcomes(step: Step) -> list[tuple[str, str]]:
    return [(event.node, event.outcome) for event in step.journey]


# --- the main journeys ---------------------------------------------------------------------------------


def test_council_tax_caller_using_keys_is_queued_for_council_tax_with_their_account_number():
    steps = call([keys("1"), keys("1"), keys("2"), keys("12345678"), keys("1")])

    assert spoken(steps[0])[0] == "Welcome to Kirklees Council."
    assert steps[3].state.node == "ct_reference"
    assert "I heard 1 2 3 4 5 6 7 8." in spoken(steps[4])[0]
    final = handover(steps[-1])
    assert final == Enqueue(topic="council_tax", language="en-GB", priority=0, reasons=())
    assert steps[-1].state.data["council_tax_account"] == "12345678"
    assert steps[-1].state.data["reason"] == "bill"
    assert ("ct_reference", "confirmed") in outcomes(steps[-1])


def test_housing_benefit_caller_using_speech_reaches_the_housing_benefit_queue():
    steps = call([keys("1"), said("Housing benefit please"), said("I want to make a new claim")])

    assert steps[2].state.node == "hb_menu"
    assert handover(steps[-1]).topic == "housing_benefit"
    assert steps[-1].state.data["reason"] == "new_claim"
    assert "speech" in gather(steps[1]).input_modes
    assert "housing benefit" in gather(steps[1]).hints


def test_spoken_account_number_in_words_is_read_back_as_digits():
    steps = call(
        [keys("1"), keys("1"), keys("1"), said("it's one two three four five six seven eight"), said("yes")]
    )

    assert steps[-1].state.data["council_tax_account"] == "12345678"
    assert handover(steps[-1]).topic == "council_tax"


def test_polish_caller_hears_polish_prompts_in_a_polish_voice_and_is_queued_in_polish():
    steps = call([keys("2"), keys("1"), keys("4"), keys("87654321"), keys("1")])

    menu = gather(steps[1])
    assert menu.prompts[0].language == "pl-PL"
    assert menu.prompts[0].voice == "Polly.Ola-Neural"
    assert menu.prompts[0].text.startswith("W sprawie podatku lokalnego")
    assert menu.speech_language == "pl-PL"
    assert handover(steps[-1]).language == "pl-PL"


def test_polish_caller_can_choose_by_polish_speech():
    steps = call([keys("2"), said("zasiłek mieszkaniowy")])

    assert steps[-1].state.node == "hb_menu"


def test_language_choice_speaks_each_option_in_its_own_language_where_twilio_can():
    prompts = gather(call([])[0]).prompts

    assert [(p.text, p.language) for p in prompts] == [
        ("For English, press 1.", "en-GB"),
        ("Po polsku, naciśnij 2.", "pl-PL"),
        ("For Urdu, press 3.", "en-GB"),
        ("ਪੰਜਾਬੀ ਲਈ 4 ਦਬਾਓ।", "pa-IN"),
    ]


def test_urdu_caller_hears_english_with_an_interpreter_offer_and_routing_is_told():
    steps = call([keys("3"), keys("2"), keys("1")])

    chose = steps[1]
    assert "We'll carry on in English" in spoken(chose)[0]
    assert "Urdu" in spoken(chose)[0]
    assert ("choose_language", "language_fallback") in outcomes(chose)
    assert all(prompt.language == "en-GB" for prompt in gather(chose).prompts)
    assert gather(chose).speech_language == "en-GB"
    assert interpreter_needed(steps[-1].state) == "ur-PK"
    final = handover(steps[-1])
    assert final.language == "ur-PK"
    assert "interpreter:ur-PK" in final.reasons


def test_punjabi_caller_hears_punjabi_and_uses_the_keypad_only():
    steps = call([keys("4")])

    menu = gather(steps[-1])
    assert menu.prompts[0].voice == "Google.pa-IN-Wavenet-A"
    assert menu.prompts[0].text.startswith("ਕੌਂਸਲ ਟੈਕਸ")
    assert menu.input_modes == ("dtmf",)
    assert menu.speech_language is None


# --- silence, confusion and accessibility ----------------------------------------------------------------


def test_first_silence_adapts_the_call_longer_timeout_slower_speech_and_an_offer_of_a_person():
    steps = call([keys("1"), keys("1"), SILENCE])  # the council tax menu does not offer a person itself

    before, after = gather(steps[2]), gather(steps[3])
    assert before.timeout_s == 5 and not before.prompts[0].slow
    assert after.timeout_s == 10
    assert all(prompt.slow for prompt in after.prompts)
    assert spoken(steps[3])[0] == "Sorry, I didn't hear anything."
    assert spoken(steps[3])[-1] == "To speak to a person, press 0."
    assert steps[3].state.adapted


def test_silent_caller_reaches_an_adviser_after_two_escalating_reprompts():
    steps = call([keys("1"), SILENCE, SILENCE, SILENCE])

    assert spoken(steps[2])[0] == "Sorry, I didn't hear anything."
    assert spoken(steps[3])[0] == "Sorry, I still didn't hear anything."
    final = handover(steps[4])
    assert isinstance(final, Enqueue)
    assert final.reasons == ("accessibility", "fallback:no_input")
    assert final.priority == 2  # accessibility + fallback boosts from the flow's globals
    assert ("main_menu", "fallback") in outcomes(steps[4])


def test_wrong_keys_get_a_sorry_then_an_adviser():
    steps = call([keys("1"), keys("7"), keys("8"), keys("6")])

    assert spoken(steps[2])[0] == "Sorry, I didn't catch that."
    assert spoken(steps[3])[0] == "Sorry, I still didn't catch that."
    assert handover(steps[4]).reasons == ("fallback:invalid",)


def test_silence_at_the_language_choice_carries_on_in_english():
    steps = call([SILENCE, SILENCE])

    assert steps[1].state.node == "choose_language"
    assert steps[2].state.node == "main_menu"
    assert steps[2].state.language == "en-GB"


def _state_at(node_id: str, phase: str = "ask") -> CallState:
    return CallState(
        flow=FLOW.name,
        version=FLOW.version,
        node=node_id,
        phase=phase,
        pending="12345678" if phase == "confirm" else None,
        data={"caller_withheld": False, "caller_has_mobile": True},
    )


PROMPTS = [(node_id, "ask") for node_id, node in FLOW.nodes.items() if is_interactive(node)] + [
    (node_id, "confirm") for node_id, node in FLOW.nodes.items() if node.kind == "capture"
]


@pytest.mark.parametrize("context", [OPEN, CallContext(now=SATURDAY)], ids=["open", "closed"])
@pytest.mark.parametrize(("node_id", "phase"), PROMPTS)
def test_silence_at_every_prompt_ends_with_a_person_or_a_callback_within_the_cap(node_id, phase, context):
    state: CallState = _state_at(node_id, phase)
    same_prompt_in_a_row = 1
    for _ in range(10):
        step = advance(FLOW, state, SILENCE, context)
        if step.finished:
            break
        same_prompt_in_a_row = same_prompt_in_a_row + 1 if step.state.node == node_id else 1
        assert same_prompt_in_a_row <= 3  # the first prompt and two reprompts, never more
        state = step.state
    assert step.finished
    assert isinstance(step.actions[-1], Enqueue | OfferCallback)


def test_silence_from_the_very_start_reaches_an_adviser_when_open():
    steps = call([SILENCE] * 8)

    finished = [step for step in steps if step.finished]
    assert finished, "the call never reached a person"
    assert isinstance(finished[0].actions[-1], Enqueue)


# --- capture, back, repeat, adviser ----------------------------------------------------------------------


def test_caller_can_correct_a_misheard_account_number():
    steps = call([keys("1"), keys("1"), keys("1"), keys("11112222"), keys("2"), keys("33334444"), keys("1")])

    assert spoken(steps[5]) == [
        "Please key in your 8-digit council tax account number. It's on your bill. If you don't have it, press 0."
    ]
    assert ("ct_reference", "corrected") in outcomes(steps[5])
    assert "I heard 3 3 3 3 4 4 4 4." in spoken(steps[6])[0]
    assert steps[-1].state.data["council_tax_account"] == "33334444"


def test_account_number_of_the_wrong_length_is_asked_for_again():
    steps = call([keys("1"), keys("1"), keys("1"), keys("1234")])

    assert steps[-1].state.node == "ct_reference"
    assert steps[-1].state.phase == "ask"
    assert spoken(steps[-1])[0] == "Sorry, I didn't catch that."


def test_caller_without_an_account_number_is_still_queued_for_council_tax():
    steps = call([keys("1"), keys("1"), keys("1"), keys("0")])

    final = handover(steps[-1])
    assert final.topic == "council_tax"
    assert "council_tax_account" not in steps[-1].state.data


def test_repeated_failed_captures_still_reach_a_council_tax_adviser():
    steps = call([keys("1"), keys("1"), keys("1"), keys("12"), keys("34"), keys("56")])

    final = handover(steps[-1])
    assert final.topic == "council_tax"
    assert "fallback:invalid" in final.reasons


def test_back_key_returns_to_the_previous_menu():
    steps = call([keys("1"), keys("1"), keys("*")])

    assert steps[-1].state.node == "main_menu"
    assert spoken(steps[-1])[0].startswith("For council tax, press 1.")
    assert ("ct_menu", "back") in outcomes(steps[-1])


def test_back_key_in_the_first_menu_says_it_again():
    steps = call([keys("*")])

    assert steps[-1].state.node == "choose_language"
    assert spoken(steps[-1]) == spoken(steps[0])[1:]


def test_repeat_key_and_the_word_repeat_say_the_menu_again():
    steps = call([keys("1"), keys("9"), said("can you repeat that")])

    assert spoken(steps[2]) == spoken(steps[1])
    assert spoken(steps[3]) == spoken(steps[1])
    assert [event.outcome for event in steps[3].journey] == ["repeat"]


def test_asking_for_repeats_forever_hands_the_caller_to_a_person():
    steps = call([keys("1"), keys("9"), keys("9"), keys("9")])

    assert isinstance(handover(steps[-1]), Enqueue)
    assert handover(steps[-1]).reasons == ("fallback:repeat",)


def test_adviser_key_works_from_a_sub_menu_and_keeps_the_topic():
    steps = call([keys("1"), keys("2"), keys("0")])

    assert handover(steps[-1]).topic == "housing_benefit"
    assert ("hb_menu", "adviser") in outcomes(steps[-1])


def test_asking_for_a_person_by_speech_reaches_an_adviser():
    steps = call([keys("1"), said("can I speak to a person")])

    assert handover(steps[-1]).topic == "general"


def test_something_else_goes_to_a_general_adviser():
    steps = call([keys("1"), keys("3")])

    assert handover(steps[-1]) == Enqueue(topic="general", language="en-GB", priority=0, reasons=())


def test_vulnerable_caller_is_queued_with_a_higher_priority():
    context = CallContext(now=TUESDAY_MORNING, flags={"vulnerable": True})
    steps = call([keys("1"), keys("1"), keys("0")], context)

    final = handover(steps[-1])
    assert "vulnerable" in final.reasons
    assert final.priority == 2


def test_a_caller_who_keeps_going_back_and_forth_is_handed_to_an_adviser():
    inputs = [keys("1")] + [keys("1"), keys("*")] * 20
    steps = call(inputs)

    finished = [step for step in steps if step.finished]
    assert finished
    assert handover(finished[0]).reasons == ("fallback:long_journey",)
    assert finished[0].state.turns == FLOW.globals.max_turns + 1


# --- opening hours ---------------------------------------------------------------------------------------


def test_closed_on_saturday_texts_a_self_service_link_and_offers_a_callback():
    steps = call([keys("1"), keys("2"), keys("1")], CallContext(now=SATURDAY, caller_has_mobile=True))

    final = steps[-1]
    assert spoken(final)[0] == (
        "Sorry, our lines are closed now. We open again on Monday the 16th of March at 9 am. "
        "Our opening hours are: Monday to Friday, 9 am to 5 pm."
    )
    sms = [action for action in final.actions if isinstance(action, SendSms)]
    assert len(sms) == 1 and "https://www.kirklees.gov.uk" in sms[0].text
    assert handover(final) == OfferCallback(topic="housing_benefit", language="en-GB", reasons=("closed",))
    assert final.state.data["closed_reason"] == "outside opening hours"


def test_closed_caller_on_a_landline_gets_a_callback_offer_without_a_text():
    steps = call([keys("1"), keys("0")], CallContext(now=SATURDAY, caller_has_mobile=False))

    assert not [action for action in steps[-1].actions if isinstance(action, SendSms)]
    assert isinstance(handover(steps[-1]), OfferCallback)


def test_closed_caller_with_a_withheld_number_hears_the_opening_hours_and_is_still_offered_a_callback():
    # Not turned away: the callback dialogue asks them to key the number to ring.
    steps = call(
        [keys("1"), keys("0")], CallContext(now=SATURDAY, caller_withheld=True, caller_has_mobile=False)
    )

    final = steps[-1]
    assert "Our opening hours are: Monday to Friday, 9 am to 5 pm." in spoken(final)[0]
    assert not [action for action in final.actions if isinstance(action, SendSms)]
    assert handover(final) == OfferCallback(topic="general", language="en-GB", reasons=("closed",))


def test_polish_caller_gets_the_closed_text_in_polish():
    steps = call([keys("2"), keys("0")], CallContext(now=SATURDAY, caller_has_mobile=True))

    sms = next(action for action in steps[-1].actions if isinstance(action, SendSms))
    assert sms.text.startswith("Rada Kirklees")


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (datetime(2026, 12, 25, 10, 0, tzinfo=LONDON), "Christmas Day"),
        (datetime(2026, 12, 28, 10, 0, tzinfo=LONDON), "Boxing Day (observed)"),
    ],
)
def test_bank_holidays_close_the_lines_even_on_a_weekday(day, reason):
    steps = call([keys("1"), keys("0")], CallContext(now=day, caller_has_mobile=True))

    assert isinstance(handover(steps[-1]), OfferCallback)
    assert steps[-1].state.data["closed_reason"] == reason


def test_a_dated_library_closure_from_the_call_closes_the_lines():
    library = {
        "name": "Huddersfield Library",
        "opening_hours": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        "closures": [{"date": "2026-03-10", "reason": "Staff training"}],
    }
    steps = call([keys("1"), keys("0")], CallContext(now=TUESDAY_MORNING, libraries=[library]))

    assert isinstance(handover(steps[-1]), OfferCallback)
    assert steps[-1].state.data["closed_reason"] == "Staff training"


def test_a_library_open_on_saturday_keeps_the_lines_open():
    saturday_hub = {
        "name": "Dewsbury Library",
        "opening_hours": {"sat": [["09:00", "13:00"]]},
        "closures": [],
    }
    broken_hub = {"name": "Batley Library", "opening_hours": {"sat": [["9am", "1pm"]]}}
    steps = call([keys("1"), keys("0")], CallContext(now=SATURDAY, libraries=[broken_hub, saturday_hub]))

    assert isinstance(handover(steps[-1]), Enqueue)
    hours_event = next(event for event in steps[-1].journey if event.node == "adviser")
    assert hours_event.detail["source"] == "libraries"
    assert hours_event.detail["reason"].startswith("Dewsbury Library")


# --- bad input and bad state -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        CallerInput(digits="1a"),
        CallerInput(digits="1" * 500),
        CallerInput(digits="１"),  # a full-width digit is not a DTMF tone
        CallerInput(speech="council tax " * 50),
        CallerInput(speech="council tax", confidence=0.1),
        CallerInput(speech="council tax", confidence=float("nan")),
        CallerInput(digits=12),  # type: ignore[arg-type]
        CallerInput(speech=["council tax"]),  # type: ignore[arg-type]
        "1",  # not a CallerInput at all
    ],
)
def test_malformed_or_oversized_input_is_treated_as_invalid_and_reprompted(bad):
    start_step = call([keys("1")])[-1]

    step = advance(FLOW, start_step.state, bad, OPEN)  # type: ignore[arg-type]

    assert step.state.node == "main_menu"
    assert step.state.invalid == 1
    assert spoken(step)[0] == "Sorry, I didn't catch that."


def test_twilio_form_fields_are_read_into_caller_input():
    assert CallerInput.from_twilio({"Digits": "1"}) == CallerInput(digits="1")
    assert CallerInput.from_twilio({"SpeechResult": "council tax", "Confidence": "0.82"}) == CallerInput(
        speech="council tax", confidence=0.82
    )
    assert CallerInput.from_twilio({"Digits": "", "Confidence": "high"}) == CallerInput.timeout()


def test_an_unreadable_stored_state_sends_the_caller_to_an_adviser_rather_than_failing():
    step = advance(FLOW, {"node": 7, "garbage": True}, keys("1"), OPEN)

    assert isinstance(handover(step), Enqueue)
    assert step.journey[0].outcome == "recovered"


def test_a_state_from_a_removed_node_sends_the_caller_to_an_adviser():
    step = advance(FLOW, _state_at("menu_that_was_deleted"), keys("1"), OPEN)

    assert isinstance(handover(step), Enqueue)


def test_call_state_survives_a_round_trip_through_json():
    state = call([keys("2"), keys("1"), keys("1"), keys("12345678")])[-1].state

    assert CallState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    assert state.history == ("choose_language", "main_menu", "ct_menu")
    assert state.pending == "12345678"
    assert state.phase == "confirm"


def test_a_stored_state_with_the_wrong_types_is_refused():
    good = call([keys("1")])[-1].state.to_dict()

    with pytest.raises(ValueError):
        CallState.from_dict({**good, "turns": "three"})
    with pytest.raises(ValueError):
        CallState.from_dict({**good, "phase": "dancing"})
