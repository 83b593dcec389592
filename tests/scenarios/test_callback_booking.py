"""Booking a callback by phone, whole calls through the simulator over real HTTP on the real database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from models import Call, Callback, CallbackStatus, CallOutcome
from simulator.live import CouncilLine

MOBILE = "+447911123456"
CHRISTMAS_EVE_NIGHT = datetime(2026, 12, 24, 19, 30, tzinfo=UTC)  # every hub closed until Tuesday 29th


@pytest.fixture
def line(live_service):
    council = CouncilLine(live_service)
    council.install_demo_council()
    return council


def dial(line, from_=MOBILE, url=None):
    call = line.world.place_call(to=line.council_number, url=url or line.incoming_url, from_=from_)
    line.settle()
    return call


def press(line, call, *keys):
    for key in keys:
        call.press(key)
        line.settle()


def heard(call) -> str:
    return " ".join(call.heard)


def the_callbacks(line):
    with line.live.services.session_factory() as session:
        return session.scalars(select(Callback).order_by(Callback.id)).all()


def outcome_of(line, call) -> CallOutcome:
    with line.live.services.session_factory() as session:
        return session.scalars(select(Call.outcome).where(Call.call_sid == call.sid)).one()


def test_out_of_hours_in_christmas_week_the_caller_books_the_first_working_day_and_the_call_is_callback_booked(
    line,
):
    line.clock.set(CHRISTMAS_EVE_NIGHT)
    call = dial(line)
    press(
        line, call, "1", "1", "1", "12345678", "1"
    )  # English, council tax, pay, the reference, that's right
    assert "Sorry, our lines are closed now." in heard(call)
    press(line, call, "1", "1")  # that number, the first slot
    assert call.ended
    assert (
        "Your callback is booked: we'll call you on Tuesday the 29th of December between 9 and 10 am"
        in heard(call)
    )
    [callback] = the_callbacks(line)
    assert (callback.topic.value, callback.reference) == ("council_tax", "12345678")
    assert callback.status == CallbackStatus.SCHEDULED
    assert callback.slot_starts_at == datetime(2026, 12, 29, 9, 0, tzinfo=UTC)
    assert callback.next_attempt_at == callback.slot_starts_at
    assert outcome_of(line, call) == CallOutcome.CALLBACK_BOOKED


def test_a_withheld_caller_keys_a_number_and_is_booked(line):
    line.clock.set(datetime(2026, 11, 25, 22, 0, tzinfo=UTC))
    start = f"{line.live.base_url}/voice/callback/start?topic=council_tax&language=en-GB"
    call = dial(line, from_=None, url=start)  # as the menu's <Redirect> hands a caller over
    assert "We can't see your phone number." in heard(call)
    press(line, call, "07911123456#")
    assert "You keyed 0 7 9 1 1, 1 2 3 4 5 6." in heard(call)
    press(line, call, "1", "4")
    assert "we'll call you as soon as we open, on the number ending 4 5 6" in heard(call)
    assert call.ended
    [callback] = the_callbacks(line)
    assert callback.number == MOBILE and callback.next_attempt_at == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def test_a_second_call_for_the_same_topic_updates_the_booking_and_says_so(line):
    line.clock.set(datetime(2026, 11, 25, 22, 0, tzinfo=UTC))
    first = dial(line)
    press(line, first, "1", "0", "1", "1")
    assert "Your callback is booked" in heard(first)
    second = dial(line)
    press(line, second, "1", "0", "1", "3")
    assert (
        "we've updated your existing callback: we'll call you tomorrow, Thursday, between 11 am and 12 noon"
        in (heard(second))
    )
    [callback] = the_callbacks(line)
    assert callback.slot_starts_at == datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
    assert outcome_of(line, first) == outcome_of(line, second) == CallOutcome.CALLBACK_BOOKED
