"""The closed menu's text to the caller goes through the fake Twilio REST API before anything is said about it:
"we've sent you a text" only when Twilio accepted it, something true when it refused, and once per step."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
import requests
from flask import Flask, request
from sqlalchemy import select
from werkzeug.serving import make_server

from ivr import versions
from ivr.texts import SENT, TextToCaller, text_caller_once
from models import Call, CallEvent
from models.demo import seed_demo
from simulator.fake_rest import twilio_error
from telephony.gateway import TelephonyError, TelephonyGateway
from tests.conftest import call_form, twilio_signature

MOBILE = "+447911123456"  # a mobile to phonenumbers, so the closed menu texts it
SATURDAY_AFTERNOON = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)  # every hub closed at 1 pm
SENT_WORDS = "We've sent you a text with a link to do this online."
NOT_SENT_WORDS = "Sorry, we couldn't send you a text just now."


@pytest.fixture
def line(live_service):
    services = live_service.services
    live_service.clock.set(SATURDAY_AFTERNOON)
    with services.session_factory.begin() as session:
        seed_demo(session, live_service.clock.now())
        versions.install_default_flow(session, live_service.clock.now())
    return live_service


def refuse_texts(line) -> list[str]:
    """Make the fake Twilio refuse every message (as it does an unsubscribed recipient); returns who was tried."""
    tried: list[str] = []

    @line.app.before_request
    def refuse():  # type: ignore[no-untyped-def]
        if request.method == "POST" and request.path.endswith("/Messages.json"):
            tried.append(request.form.get("To", ""))
            return twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
        return None

    return tried


def texts_to(line, number: str) -> list[str]:
    return [message.body for message in line.world.messages if message.to == number]


def sms_events(line, call_sid: str) -> list[tuple[str, str]]:
    with line.services.session_factory() as session:
        call = session.scalars(select(Call).where(Call.call_sid == call_sid)).one()
        events = session.scalars(
            select(CallEvent).where(CallEvent.call_id == call.id, CallEvent.kind == "menu_sms")
        ).all()
        return [(event.node, event.outcome) for event in events]


def ask_for_an_adviser_while_closed(line):
    call = line.world.place_call(to="+441484221000", url=f"{line.base_url}/voice/incoming", from_=MOBILE)
    call.press("1")  # English
    call.press("0")  # an adviser: closed, so the text and a callback offer
    return call


def test_a_text_twilio_accepted_is_announced(line):
    call = ask_for_an_adviser_while_closed(line)

    assert SENT_WORDS in call.heard
    assert NOT_SENT_WORDS not in " ".join(call.heard)
    [body] = texts_to(line, MOBILE)
    assert "https://www.kirklees.gov.uk" in body
    assert sms_events(line, call.sid) == [("closed_sms", "sent")]
    assert "We can call you back when we're open." in call.heard


def test_a_text_twilio_refused_is_owned_up_to_and_the_call_carries_on(line):
    tried = refuse_texts(line)
    call = ask_for_an_adviser_while_closed(line)

    assert tried == [MOBILE]
    assert texts_to(line, MOBILE) == []
    assert SENT_WORDS not in call.heard
    assert any(text.startswith(NOT_SENT_WORDS) and "kirklees.gov.uk" in text for text in call.heard)
    assert sms_events(line, call.sid) == [("closed_sms", "not_sent")]
    assert "We can call you back when we're open." in call.heard  # then the callback dialogue, as before


def test_the_same_text_asked_for_twice_is_sent_once_and_both_hear_the_outcome(line):
    call = line.world.place_call(to="+441484221000", url=f"{line.base_url}/voice/incoming", from_=MOBILE)
    with line.services.session_factory() as session:
        call_id = session.scalars(select(Call.id).where(Call.call_sid == call.sid)).one()
    text = TextToCaller(call_id, f"{call.sid}:1:sms:0", "closed_sms", MOBILE, "Kirklees Council: hello")
    services = line.services

    first = text_caller_once(services.session_factory, services.gateway, text, line.clock.now())
    again = text_caller_once(services.session_factory, services.gateway, text, line.clock.now())

    assert first is again is True
    assert texts_to(line, MOBILE) == ["Kirklees Council: hello"]


def test_two_copies_of_the_step_racing_send_one_text_and_answer_alike(line):
    call = line.world.place_call(to="+441484221000", url=f"{line.base_url}/voice/incoming", from_=MOBILE)
    call.press("1")  # English: the main menu's Gather now carries turn=1
    url = f"{line.base_url}/voice/step?turn=1"
    form = call_form(call.sid, From=MOBILE, Digits="0")
    headers = {"X-Twilio-Signature": twilio_signature(url, form)}
    replies: list[str] = []
    start = threading.Barrier(2)

    def post() -> None:
        start.wait()
        replies.append(requests.post(url, data=form, headers=headers, timeout=15).text)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(texts_to(line, MOBILE)) == 1
    assert len(replies) == 2 and replies[0] == replies[1]
    assert SENT_WORDS in replies[0]
    assert sms_events(line, call.sid) == [("closed_sms", SENT)]


def test_a_text_sent_while_the_caller_waits_gives_up_well_inside_twilios_webhook_limit(monkeypatch):
    slow = Flask(__name__)

    @slow.post("/2010-04-01/Accounts/<account>/Messages.json")
    def messages(account: str):  # type: ignore[no-untyped-def]
        time.sleep(3)
        return {"sid": "SM" + "0" * 32}

    server = make_server("127.0.0.1", 0, slow, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr("telephony.gateway.CALLER_WAITING_TIMEOUT_SECONDS", 0.5)
    gateway = TelephonyGateway(
        "AC" + "1" * 32, "token", "+441484221000", f"http://127.0.0.1:{server.server_port}"
    )
    try:
        started = time.monotonic()
        with pytest.raises(TelephonyError):
            gateway.send_sms(MOBILE, "hello", caller_waiting=True)
        assert time.monotonic() - started < 2.5  # gave up at its own timeout, not the slow server's 3 s
    finally:
        server.shutdown()
        thread.join(timeout=5)
