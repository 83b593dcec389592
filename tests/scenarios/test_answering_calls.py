"""Whole calls to advisers who answer on a phone, and to advisers whose desk (browser phone) is not open."""

from __future__ import annotations

from sqlalchemy import select

from models import Adviser, AdviserState, Callback, CallbackStatus, QueueEntryStatus
from models.demo import ADVISERS, client_identity_for
from routing.advisers import change_state
from routing.answering import set_answering
from routing.live import request_matching
from simulator.live import CouncilLine
from tests.scenarios import test_routing_calls
from tests.scenarios.test_routing_calls import (
    RESIDENT,
    adviser,
    entries,
    make_available,
    queue_for_council_tax,
)

line = test_routing_calls.line  # the seeded council line fixture, shared
TOM = client_identity_for("Tom Hirst")
TOMS_PHONE = "+447400987654"


def answer_on_phone(line: CouncilLine, name: str, number: str) -> None:
    services = line.live.services
    with services.session_factory.begin() as session:
        adviser_id = session.scalars(select(Adviser.id).where(Adviser.name == name)).one()
        set_answering(session, adviser_id, "phone", number, "GB", by="test")


def test_seeding_the_demo_council_opens_nobody_s_browser_phone(line):
    assert all(line.world.registered_client(client_identity_for(name)) is None for name, *_ in ADVISERS)


def test_a_phone_adviser_hears_the_whisper_presses_1_and_is_connected_while_the_browser_stays_silent(line):
    answer_on_phone(line, "Tom Hirst", TOMS_PHONE)
    phone = line.world.phone(TOMS_PHONE).will_answer(press="1")
    make_available(line, "Tom Hirst")  # their browser phone is open too: it must not ring
    call = queue_for_council_tax(line)

    line.settle()

    [leg] = phone.calls
    assert call.bridged_with is leg
    heard = " ".join(leg.heard)
    assert "Caller about council tax" in heard and "1 2 3 4 5 6 7 8" in heard and "Press 1" in heard
    assert line.world.browser(TOM).pending_offers == [] and line.world.browser(TOM).current_call is None
    [entry] = entries(line)
    assert entry.status == QueueEntryStatus.CONNECTED


def test_a_phone_adviser_who_does_not_press_1_is_paused_and_the_caller_keeps_their_place(line):
    answer_on_phone(line, "Tom Hirst", TOMS_PHONE)
    phone = line.world.phone(TOMS_PHONE).will_answer(press="")
    make_available(line, "Tom Hirst")
    call = queue_for_council_tax(line)

    line.settle()

    assert len(phone.calls) == 1 and call.bridged_with is None
    assert "Call not accepted" in " ".join(phone.calls[0].heard)
    missed = adviser(line, "Tom Hirst")
    assert missed.state == AdviserState.BREAK and "missed an offered call" in (missed.state_reason or "")
    call.wait(5)
    assert call.in_queue and "you keep your place" in " ".join(call.heard).lower()
    [entry] = entries(line)
    assert entry.status == QueueEntryStatus.WAITING and entry.skipped_adviser_ids == [missed.id]


def test_an_available_adviser_whose_desk_is_closed_is_not_rung_and_the_caller_keeps_their_place(line):
    services = line.live.services
    with services.session_factory.begin() as session:
        tom_id = session.scalars(select(Adviser.id).where(Adviser.name == "Tom Hirst")).one()
        change_state(services, session, tom_id, AdviserState.AVAILABLE.value, "logged in, desk not open")
    call = queue_for_council_tax(line)
    started = line.clock.now()

    line.settle()

    assert line.world.browser(TOM).pending_offers == []
    assert (line.clock.now() - started).total_seconds() < services.settings.adviser_ring_seconds
    missed = adviser(line, "Tom Hirst")
    assert missed.state == AdviserState.BREAK
    assert missed.state_reason == "missed an offered call (no-answer)"
    assert call.in_queue and not call.ended
    assert "you keep your place" in " ".join(call.heard).lower()


def test_a_phone_adviser_rings_back_a_resident_who_kept_their_place_by_pressing_1(line):
    call = queue_for_council_tax(line)
    call.press("1")  # a callback that keeps my place
    call.press("1")  # on this number
    assert call.ended
    answer_on_phone(line, "Tom Hirst", TOMS_PHONE)
    line.world.phone(TOMS_PHONE).will_answer(press="1")
    line.world.phone(RESIDENT).will_answer(talk_seconds=90)
    make_available(line, "Tom Hirst")

    request_matching(line.live.services)
    line.settle()

    [leg] = [rung for rung in line.world.calls.values() if rung.to == TOMS_PHONE]  # rung through REST
    assert "Call back a resident about council tax" in " ".join(leg.heard)
    assert line.world.browser(TOM).pending_offers == []
    with line.live.services.session_factory() as session:
        callback = session.scalars(select(Callback)).one()
        assert callback.status == CallbackStatus.CONNECTED and callback.attempts == 1
