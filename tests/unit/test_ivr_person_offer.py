"""After a silence the engine offers a person, but a prompt never tells the caller to press 0 twice."""

from __future__ import annotations

import copy
import json

import pytest

from ivr.engine import Gather, advance, start
from ivr.flow import DEFAULT_FLOW_PATH, load_flow
from tests.unit.test_ivr_engine import FLOW, OPEN, SILENCE, call, gather, keys

LANGUAGE_KEYS = {"en-GB": "1", "pl-PL": "2", "ur-PK": "3", "pa-IN": "4"}
# What each caller hears: Urdu callers hear English (Twilio has no Urdu voice).
SPOKEN = {"en-GB": "en-GB", "pl-PL": "pl-PL", "ur-PK": "en-GB", "pa-IN": "pa-IN"}


def person_offer(language: str) -> str:
    return FLOW.globals.person_offer.get(SPOKEN[language])  # type: ignore[union-attr]


def sentences_offering_the_adviser_key(prompts) -> list[str]:
    """Sentences telling the caller to press 0, whatever the language ("press 0", "naciśnij 0", "0 ਦਬਾਓ")."""
    return [
        sentence.strip()
        for prompt in prompts
        for sentence in prompt.text.replace("।", ".").replace("۔", ".").split(".")
        if " 0" in f" {sentence} " and "10" not in sentence
    ]


@pytest.mark.parametrize("language", LANGUAGE_KEYS)
def test_a_menu_that_already_offers_an_adviser_is_not_followed_by_a_second_offer(language):
    steps = call([keys(LANGUAGE_KEYS[language]), SILENCE])

    prompts = gather(steps[-1]).prompts
    assert steps[-1].state.adapted and steps[-1].state.node == "main_menu"
    assert person_offer(language) not in [prompt.text for prompt in prompts]
    assert len(sentences_offering_the_adviser_key(prompts)) == 1


@pytest.mark.parametrize("language", LANGUAGE_KEYS)
def test_a_menu_without_an_adviser_offer_gets_the_person_offer_after_a_silence(language):
    steps = call([keys(LANGUAGE_KEYS[language]), keys("1"), SILENCE])

    prompts = gather(steps[-1]).prompts
    assert steps[-1].state.node == "ct_menu"
    assert prompts[-1].text == person_offer(language)
    assert len(sentences_offering_the_adviser_key(prompts)) == 1


@pytest.mark.parametrize("language", LANGUAGE_KEYS)
def test_a_read_back_of_digits_containing_0_still_gets_the_person_offer(language):
    # "I heard 1 0 2 0 …" mentions 0, but only as the caller's own digits, not as a key to press.
    steps = call([keys(LANGUAGE_KEYS[language]), keys("1"), keys("1"), SILENCE, keys("10203040")])

    prompts = gather(steps[-1]).prompts
    assert steps[-1].state.phase == "confirm"
    assert prompts[-1].text == person_offer(language)


def test_the_adviser_key_written_in_another_script_counts_as_offered():
    definition = json.loads(DEFAULT_FLOW_PATH.read_text(encoding="utf-8"))
    menu = copy.deepcopy(definition["nodes"]["main_menu"])
    menu["prompt"]["pa-IN"] = "ਕੌਂਸਲ ਟੈਕਸ ਲਈ ੧ ਦਬਾਓ। ਸਲਾਹਕਾਰ ਨਾਲ ਗੱਲ ਕਰਨ ਲਈ ੦ ਦਬਾਓ।"  # Gurmukhi digits
    definition["nodes"]["main_menu"] = menu
    flow = load_flow(definition)

    step = start(flow, OPEN)
    for caller_input in (keys("4"), SILENCE):
        step = advance(flow, step.state, caller_input, OPEN)

    assert isinstance(step.actions[-1], Gather)
    assert person_offer("pa-IN") not in [prompt.text for prompt in step.actions[-1].prompts]
