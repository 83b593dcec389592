"""A whole quarter of an hour on hold with nobody for the topic working, through the simulated Twilio."""

from __future__ import annotations

from tests.scenarios.test_routing_calls import line, queue_for_council_tax  # noqa: F401 (line is a fixture)

NOBODY = "No advisers for this are working right now."
OFFER = "No one can take your call right now. Advisers are next expected tomorrow, Thursday, at 9 am."


def test_fifteen_minutes_with_nobody_working_says_so_twice_then_offers_the_callback_a_minute_apart(line):  # noqa: F811
    call = queue_for_council_tax(line)
    call.wait(15 * 60)

    said = [event for event in call.transcript if event.kind == "heard"]
    assert [event.text for event in said].count(NOBODY) == 2
    offers = [event.at for event in said if event.text.startswith(OFFER)]
    assert offers, call.heard[-4:]
    gaps = [(later - earlier).total_seconds() for earlier, later in zip(offers, offers[1:], strict=False)]
    assert gaps and min(gaps) >= 60
    assert len(offers) <= 13  # the old loop said its sentence about 24 times in these 15 minutes


def test_pressing_1_after_the_plain_offer_agrees_the_number_for_a_callback_that_keeps_the_place(line):  # noqa: F811
    call = queue_for_council_tax(line)
    for _ in range(300):  # hold until the offer has just been said and its keys are listened for
        if call.gathering and call.heard[-1].startswith(OFFER):
            break
        call.wait(1)
    assert call.heard[-1].startswith(OFFER)
    call.press("1")

    assert (
        "We'll call you on the number ending 4 5 6. Press 1 for that number, or 2 to give another."
        in call.heard
    )
    call.press("1")
    assert any("You keep your place" in text for text in call.heard)
