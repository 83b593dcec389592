"""Going back out of a menu with * undoes the choice that led into it: its topic and whatever else it set."""

from __future__ import annotations

from ivr.engine import Enqueue
from tests.unit.test_ivr_engine import call, handover, keys


def test_back_out_of_the_council_tax_menu_then_an_adviser_is_a_general_enquiry():
    steps = call([keys("1"), keys("1"), keys("*"), keys("0")])

    assert steps[3].state.node == "main_menu"
    assert "topic" not in steps[3].state.data
    final = handover(steps[4])
    assert isinstance(final, Enqueue)
    assert final.topic == "general"


def test_back_from_the_account_number_forgets_the_reason_but_keeps_the_topic():
    steps = call([keys("1"), keys("1"), keys("2"), keys("*"), keys("0")])

    assert steps[4].state.node == "ct_menu"
    assert "reason" not in steps[4].state.data
    assert handover(steps[5]).topic == "council_tax"


def test_back_then_another_topic_is_queued_for_that_topic():
    steps = call([keys("1"), keys("1"), keys("*"), keys("2"), keys("0")])

    assert handover(steps[-1]).topic == "housing_benefit"
