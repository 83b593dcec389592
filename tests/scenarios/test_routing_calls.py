"""Whole calls from the menu to an adviser, through the simulated Twilio, the real database and real Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import (
    Adviser,
    AdviserState,
    Call,
    Callback,
    CallbackStatus,
    CallOutcome,
    QueueEntry,
    QueueEntryStatus,
    Topic,
)
from models.demo import client_identity_for
from simulator.live import CouncilLine

RESIDENT = (
    "+447400123456"  # a GB mobile to phonenumbers (07911 12x is Guernsey), so a callback can be offered
)


@pytest.fixture
def line(live_service) -> CouncilLine:
    council = CouncilLine(live_service)
    council.install_demo_council()
    return council


def make_available(line: CouncilLine, *names: str) -> None:
    assert line.make_available([client_identity_for(name) for name in names]) == []


def queue_for_council_tax(line: CouncilLine, language_key: str = "1", from_: str = RESIDENT):
    call = line.world.place_call(to=line.council_number, url=line.incoming_url, from_=from_)
    call.press(language_key)  # 1 English, 2 Polish
    call.press("1")  # council tax
    call.press("1")  # first option
    call.press("12345678")  # account reference
    call.press("1")  # that's right
    assert call.in_queue, call.heard[-3:]
    return call


def adviser(line: CouncilLine, name: str) -> Adviser:
    with line.live.services.session_factory() as session:
        return session.scalars(select(Adviser).where(Adviser.name == name)).one()


def entries(line: CouncilLine) -> list[QueueEntry]:
    with line.live.services.session_factory() as session:
        return list(session.scalars(select(QueueEntry).order_by(QueueEntry.id)))


def offers_for(line: CouncilLine, name: str) -> list:
    return line.world.client(client_identity_for(name)).pending_offers


def test_a_caller_reaches_a_free_adviser_with_the_skill_not_one_without(line):
    # Both at the caller's home hub; Gurpreet's council tax proficiency (2) is below the first stage's 3.
    make_available(line, "Gurpreet Sandhu", "Tom Hirst")
    call = queue_for_council_tax(line)
    line.settle()
    assert offers_for(line, "Gurpreet Sandhu") == []
    [ringing] = offers_for(line, "Tom Hirst")
    [entry] = entries(line)
    assert ringing.custom_parameters == {"entry": str(entry.id)}, (
        "the desk matches the call to its screen pop"
    )
    line.world.client(client_identity_for("Tom Hirst")).answer()  # Accept on the desk: no whisper, no key
    assert call.bridged_with is ringing
    assert ringing.heard == [], "the screen pop told the adviser who is calling; nothing is spoken to them"
    [entry] = entries(line)
    assert entry.status == QueueEntryStatus.CONNECTED
    assert adviser(line, "Tom Hirst").state == AdviserState.ON_CALL
    with line.live.services.session_factory() as session:
        assert session.scalars(select(Call.outcome)).one() == CallOutcome.ANSWERED


def test_a_polish_caller_waits_for_a_polish_speaker_next_door_rather_than_an_english_one(line):
    # Tom (Huddersfield, English) is free; Anna (Almondbury, a neighbour of Huddersfield) speaks Polish.
    make_available(line, "Tom Hirst", "Anna Wiśniewska")
    call = queue_for_council_tax(line, language_key="2")
    line.settle()
    assert offers_for(line, "Tom Hirst") == [] and offers_for(line, "Anna Wiśniewska") == []
    call.wait(70)  # past the first widening stage: neighbouring libraries now count
    line.settle()
    assert offers_for(line, "Tom Hirst") == []
    assert len(offers_for(line, "Anna Wiśniewska")) == 1
    offer = offers_for(line, "Anna Wiśniewska")[0]
    line.world.client(client_identity_for("Anna Wiśniewska")).answer()
    assert call.bridged_with is offer


def test_widening_reaches_a_neighbouring_library_after_the_first_stage(line):
    make_available(line, "Chris Booth")  # Holmfirth: a neighbour of the caller's home hub, Huddersfield
    call = queue_for_council_tax(line)
    line.settle()
    assert offers_for(line, "Chris Booth") == []
    assert "you are next in the queue" in " ".join(call.heard).lower()
    call.wait(70)
    line.settle()
    assert len(offers_for(line, "Chris Booth")) == 1


def test_an_adviser_who_does_not_answer_is_paused_and_the_caller_goes_to_the_next(line):
    make_available(line, "Aisha Khan", "Tom Hirst")
    call = queue_for_council_tax(line)
    line.settle()
    first = next(name for name in ("Aisha Khan", "Tom Hirst") if offers_for(line, name))
    second = "Tom Hirst" if first == "Aisha Khan" else "Aisha Khan"
    call.wait(30)  # the offer rings out (20 s), they hear why and re-join the queue
    line.settle()
    missed = adviser(line, first)
    assert missed.state == AdviserState.BREAK
    assert "missed an offered call" in (missed.state_reason or "")
    assert offers_for(line, first) == []
    assert len(offers_for(line, second)) == 1
    assert "you keep your place" in " ".join(call.heard).lower()
    line.world.client(client_identity_for(second)).answer()
    assert call.bridged_with is not None
    [entry] = entries(line)
    assert entry.status == QueueEntryStatus.CONNECTED
    assert entry.skipped_adviser_ids == [missed.id]


def test_the_wait_is_announced_as_an_honest_range_once_there_is_history(line):
    make_available(line, "Tom Hirst")
    first = queue_for_council_tax(line, from_="+447400000001")
    line.settle()
    line.world.client(client_identity_for("Tom Hirst")).answer()
    assert first.bridged_with is not None
    second = queue_for_council_tax(line, from_="+447400000002")
    heard = " ".join(second.heard).lower()
    assert "you are next in the queue" in heard
    assert "can't estimate the wait" in heard  # no answered calls in the last hour yet
    # Five calls of 4 to 8 minutes were handled in the last hour.
    now = line.clock.now()
    with line.live.services.session_factory.begin() as session:
        for minutes in (4, 5, 6, 7, 8):
            session.add(
                QueueEntry(
                    topic=Topic.COUNCIL_TAX,
                    language="en-GB",
                    priority=0,
                    priority_reasons=[],
                    joined_at=now - timedelta(minutes=50),
                    status=QueueEntryStatus.CONNECTED,
                    connected_at=now - timedelta(minutes=40),
                    ended_at=now - timedelta(minutes=40 - minutes),
                    skipped_adviser_ids=[],
                )
            )
    second.wait(30)  # the next hold round
    assert "minutes" in " ".join(second.heard[-3:]).lower()


def test_pressing_1_while_holding_keeps_the_place_as_a_callback_and_the_adviser_rings_back(line):
    call = queue_for_council_tax(line)
    assert "press 1" in " ".join(call.heard).lower()
    call.press("1")
    assert not call.ended and "press 1 for that number" in call.heard[-1].lower()
    call.press("1")  # that's the number to ring
    assert call.ended
    assert "you keep your place" in " ".join(call.heard).lower()
    with line.live.services.session_factory() as session:
        callback = session.scalars(select(Callback)).one()
        assert callback.keeps_place and callback.status == CallbackStatus.REQUESTED
        assert session.scalars(select(Call.outcome)).one() == CallOutcome.CALLBACK_BOOKED
    left, virtual = entries(line)
    assert left.status == QueueEntryStatus.LEFT_FOR_CALLBACK
    assert virtual.status == QueueEntryStatus.WAITING and virtual.joined_at == left.joined_at
    # An adviser logs in: they are rung first; in the browser, answering is accepting (their desk showed who and
    # why), and the resident is rung.
    line.world.phone(RESIDENT).will_answer(talk_seconds=120)
    make_available(line, "Tom Hirst")
    from routing.live import request_matching

    request_matching(line.live.services)
    line.settle()
    tom = line.world.client(client_identity_for("Tom Hirst"))
    [ringing] = tom.pending_offers
    tom.answer()  # the desk showed who and why: answering rings the resident, no key to press
    assert ringing.heard[0] == "Calling the resident now."
    assert not any("press 1" in phrase.lower() for phrase in ringing.heard)
    line.settle()
    with line.live.services.session_factory() as session:
        callback = session.scalars(select(Callback)).one()
        assert callback.status == CallbackStatus.CONNECTED
        assert callback.attempts == 1
