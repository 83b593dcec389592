"""The screen pop's words: the menu choices that stood at handover, and priority reasons in plain English."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ivr.flow import default_flow
from routing.contacts import mask, menu_choices, plain_reason


@dataclass
class Event:
    """Just what menu_choices reads of a CallEvent."""

    node: str
    outcome: str
    detail: dict[str, Any] = field(default_factory=dict)
    kind: str = "ivr_step"


FLOW = default_flow()


def test_the_choices_made_are_the_flows_own_labels_in_order():
    events = [
        Event("choose_language", "matched", {"key": "1"}),
        Event("main_menu", "matched", {"key": "1"}),
        Event("ct_menu", "matched", {"key": "1"}),
        Event("ct_reference", "confirmed"),
    ]
    assert menu_choices(FLOW, events) == ("Council tax", "Paying a bill")


def test_going_back_undoes_the_choice_made_at_the_menu_returned_to():
    events = [
        Event("main_menu", "matched", {"key": "1"}),
        Event("ct_menu", "back", {"to": "main_menu"}),
        Event("main_menu", "matched", {"key": "2"}),
        Event("hb_menu", "matched", {"key": "3"}),
    ]
    assert menu_choices(FLOW, events) == ("Housing benefit", "Reporting a change of circumstances")


def test_a_spoken_request_for_a_person_that_named_a_topic_counts_as_that_choice():
    events = [Event("main_menu", "adviser", {"set": {"topic": "council_tax"}})]
    assert menu_choices(FLOW, events) == ("Council tax",)


def test_priority_reasons_read_as_plain_words():
    assert plain_reason("interpreter:ur-PK") == "Needs an interpreter (Urdu)"
    assert plain_reason("fallback:no_input") == "The menu could not help them"
    assert plain_reason("vulnerable") == "Told us they may need extra help"
    assert plain_reason("asked for an adviser while booking a callback") == (
        "Asked for an adviser while booking a callback"
    )


def test_numbers_show_only_their_last_three_digits_unless_the_viewer_may_see_them():
    assert mask("+447400123456") == "••••••••••456"
    assert mask("+447400123456", full=True) == "+447400123456"
    assert mask(None) is None
