"""Booked callbacks as a resident meets them, through the simulated Twilio over real HTTP on the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from twilio.request_validator import RequestValidator

from callbacks.lifecycle import reconcile, schedule_callback
from callbacks.service import request_callback
from models import CallbackStatus, Topic
from simulator.live import CouncilLine
from tests.conftest import callback_with_attempts

RESIDENT = "+447400123456"  # a valid UK mobile (the 07700 900 drama range is not)


@pytest.fixture
def line(live_service):
    return CouncilLine(live_service)


def book(line, number=RESIDENT, topic=Topic.COUNCIL_TAX, slot=None) -> int:
    """What the booking dialogue does: commit a scheduled callback, then hand it to the lifecycle."""
    services = line.live.services
    now = line.clock.now()
    with services.session_factory.begin() as session:
        callback = request_callback(session, number, topic, now, slot=slot).callback
        callback.status = CallbackStatus.SCHEDULED
        callback_id = callback.id
    schedule_callback(services, callback_id)
    return callback_id


def stored(line, callback_id):
    return callback_with_attempts(line.live.services.session_factory, callback_id)


def outbound_calls_to(line, number):
    return [
        call for call in line.world.calls.values() if call.to == number and call.direction == "outbound-api"
    ]


def text_from_resident(line, body, sid, number=RESIDENT):
    """The resident texts the council: Twilio posts the message to our signed inbound-SMS webhook."""
    url = f"{line.live.base_url}/sms/inbound"
    form = {"MessageSid": sid, "From": number, "To": line.council_number, "Body": body}
    signature = RequestValidator(line.world.auth_token).compute_signature(url, form)
    status, reply, _elapsed = line.world.transport.post(url, form, {"X-Twilio-Signature": signature}, "POST")
    assert status == 200
    return reply


def test_unanswered_callback_is_retried_in_15_minutes_and_the_resident_then_reaches_the_queue(line):
    phone = line.world.phone(RESIDENT).will_not_answer()
    callback_id = book(line)

    line.settle()  # the worker dials; the phone rings out (30 s on the simulated clock)
    gave_up_at = line.clock.now()

    callback, attempts = stored(line, callback_id)
    assert [a.result for a in attempts] == ["no-answer"]
    assert callback.status == CallbackStatus.SCHEDULED
    assert callback.next_attempt_at == gave_up_at + timedelta(minutes=15)  # Wednesday 10:15, libraries open
    confirmation = [m for m in line.world.messages if m.to == RESIDENT]
    assert len(confirmation) == 1 and "Reply CANCEL" in confirmation[0].body

    phone.will_answer()
    line.clock.advance(timedelta(minutes=15))
    reconcile(line.live.services)  # RQ's own timer runs on real time; the reconciler sees the simulated clock
    line.settle()

    calls = outbound_calls_to(line, RESIDENT)
    assert len(calls) == 2
    answered = calls[-1]
    assert "returning your call about council tax" in " ".join(answered.heard)
    assert answered.in_queue
    callback, attempts = stored(line, callback_id)
    assert callback.status == CallbackStatus.CONNECTED and callback.attempts == 2
    assert [a.result for a in attempts] == ["no-answer", "connected"]
    assert attempts[-1].call_sid == answered.sid and attempts[-1].answered_by == "human"

    answered.hang_up()
    callback, attempts = stored(line, callback_id)
    assert attempts[-1].result == "completed" and callback.status == CallbackStatus.CONNECTED


def test_voicemail_hears_nothing_personal_and_the_callback_is_retried(line):
    line.world.phone(RESIDENT).will_go_to_voicemail()
    callback_id = book(line)
    line.settle()

    (call,) = outbound_calls_to(line, RESIDENT)
    assert call.heard == []  # hung up on the machine: no message with personal details
    callback, attempts = stored(line, callback_id)
    assert [a.result for a in attempts] == ["machine"]
    assert callback.status == CallbackStatus.SCHEDULED and callback.last_result == "machine"


def test_replying_cancel_to_the_confirmation_stops_the_callback(line):
    callback_id = book(
        line, slot=(line.clock.now() + timedelta(hours=3), line.clock.now() + timedelta(hours=4))
    )
    line.settle()
    (confirmation,) = [m for m in line.world.messages if m.to == RESIDENT]
    assert "between 13:00 and 14:00" in confirmation.body

    reply = text_from_resident(line, "Cancel please", "SM" + "c" * 32)

    assert "is cancelled" in reply
    callback, _ = stored(line, callback_id)
    assert callback.status == CallbackStatus.CANCELLED
    line.clock.advance(timedelta(hours=3))
    reconcile(line.live.services)
    line.settle()
    assert outbound_calls_to(line, RESIDENT) == []
    assert [m.to for m in line.world.messages] == [RESIDENT], "no reminder for a cancelled callback"
