"""The adviser's desk behind its pages: state, the screen pop, wrap-up, callbacks due and "call now", live events.

Whole calls run through the simulated Twilio against the live app (real database and Redis); the desk is used
through a test client holding a real sign-in.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from callbacks.lifecycle import claim_attempt, dial_callback
from callbacks.service import request_callback
from console.live import stream
from models import (
    Adviser,
    AdviserState,
    Callback,
    CallbackStatus,
    Topic,
    User,
    WrapUp,
    WrapUpStatus,
)
from models.demo import client_identity_for
from routing.advisers import end_wrap_up_now
from routing.live import desk_channel, floor_channel
from simulator.live import CouncilLine
from tests.staff import add_earlier_coded_contact, signed_in

RESIDENT = "+447400123456"
TOM = "Tom Hirst"
JSON_ACCEPT = {"Accept": "application/json"}


@pytest.fixture
def line(live_service) -> CouncilLine:
    council = CouncilLine(live_service)
    council.install_demo_council()
    return council


def user(line: CouncilLine, username: str) -> User:
    with line.live.services.session_factory() as session:
        found = session.scalars(select(User).where(User.username == username)).one()
        session.expunge(found)
        return found


def adviser(line: CouncilLine, name: str = TOM) -> Adviser:
    with line.live.services.session_factory() as session:
        return session.scalars(select(Adviser).where(Adviser.name == name)).one()


def desk_client(line: CouncilLine, username: str = "tom"):  # type: ignore[no-untyped-def]
    """Signed in at the desk, with its browser phone open (as desk.js registers it in the simulator)."""
    signed = user(line, username)
    with line.live.services.session_factory() as session:
        found = session.get(Adviser, signed.adviser_id) if signed.adviser_id else None
        if found is not None and found.client_identity:
            line.world.client(found.client_identity)
    return signed_in(line.live.app, signed)


def csrf(client, path: str = "/console/desk") -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def post(client, path: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf(client), **fields}, headers=JSON_ACCEPT)


def caller_keys_a_reference(line: CouncilLine, from_: str = RESIDENT):  # type: ignore[no-untyped-def]
    call = line.world.place_call(to=line.council_number, url=line.incoming_url, from_=from_)
    for keys in ("1", "1", "1", "12345678", "1"):  # English, council tax, to pay, the account, that's right
        call.press(keys)
    assert call.in_queue
    return call


def test_the_desk_is_for_advisers_and_refuses_others(line):
    assert desk_client(line).get("/console/desk").status_code == 200
    assert desk_client(line, "supervisor").get("/console/desk").status_code == 403
    signed_out = line.live.app.test_client().get("/console/desk")
    assert signed_out.status_code == 302 and "/console/login" in signed_out.headers["Location"]


def test_an_adviser_changes_state_and_a_break_needs_a_reason(line):
    client = desk_client(line)
    assert post(client, "/console/desk/state", state="available").status_code == 200
    assert adviser(line).state == AdviserState.AVAILABLE
    refused = post(client, "/console/desk/state", state="break")
    assert refused.status_code == 400 and "reason" in refused.get_json()["errors"]
    assert post(client, "/console/desk/state", state="break", reason="Lunch").status_code == 200
    found = adviser(line)
    assert (found.state, found.state_reason) == (AdviserState.BREAK, "Lunch")
    assert post(client, "/console/desk/state", state="on_call").status_code == 400


def test_the_screen_pop_shows_what_the_menu_learned_and_earlier_contacts_before_accepting(line):
    services = line.live.services
    now = line.clock.now()
    with services.session_factory.begin() as session:  # an earlier call from this number, answered and coded
        add_earlier_coded_contact(
            session, RESIDENT, adviser(line, "Aisha Khan").id, now - timedelta(days=3), "CA" + "d" * 32
        )
    client = desk_client(line)
    post(client, "/console/desk/state", state="available")
    caller_keys_a_reference(line)
    line.settle()  # the matcher offers the caller to Tom
    live = client.get("/console/desk/live").get_json()
    call_panel = live["call"]
    assert "Incoming call" in call_panel
    assert "Call ringing" in live["state"]  # not yet "on a call": the adviser has not accepted
    assert "12345678" in call_panel and "confirmed by the caller" in call_panel
    assert "Council tax → Paying a bill" in call_panel
    assert "Council tax payment arrangement" in call_panel and "Will ring back after payday" in call_panel
    assert "ct_reference" in call_panel.replace(" ", "_") or "ct reference" in call_panel
    assert RESIDENT not in call_panel, call_panel[
        call_panel.find(RESIDENT) - 300 : call_panel.find(RESIDENT) + 50
    ]
    assert "••••••••••456" in call_panel


def test_after_the_conversation_the_adviser_codes_it_and_an_unfinished_one_is_kept_uncoded(line):
    client = desk_client(line)
    post(client, "/console/desk/state", state="available")
    line.world.phone(RESIDENT)
    call = caller_keys_a_reference(line)
    line.settle()
    line.world.client(client_identity_for(TOM)).answer()
    assert call.bridged_with is not None
    call.hang_up()
    line.settle()
    with line.live.services.session_factory() as session:
        [wrap_up] = session.scalars(select(WrapUp)).all()
        assert wrap_up.status == WrapUpStatus.PENDING
    assert adviser(line).state == AdviserState.WRAP_UP
    invalid = post(client, f"/console/desk/wrap-ups/{wrap_up.id}", reason_code="", avoidable="yes")
    assert invalid.status_code == 400
    assert set(invalid.get_json()["errors"]) == {"reason_code", "avoidable_cause", "resolved_first_contact"}
    saved = post(
        client,
        f"/console/desk/wrap-ups/{wrap_up.id}",
        reason_code="information_given",
        avoidable="yes",
        avoidable_cause="letter_not_understood",
        resolved_first_contact="yes",
        note="Explained the bill",
        ready="yes",
    )
    assert saved.status_code == 200
    assert adviser(line).state == AdviserState.AVAILABLE
    with line.live.services.session_factory() as session:
        coded = session.get_one(WrapUp, wrap_up.id)
        assert (coded.status, coded.reason_code, coded.avoidable_cause) == (
            WrapUpStatus.CODED,
            "information_given",
            "letter_not_understood",
        )

    # A second call the adviser does not code before the wrap-up time runs out: kept, uncoded, still listed.
    call = caller_keys_a_reference(line, from_="+447400123499")
    line.settle()
    line.world.client(client_identity_for(TOM)).answer()
    call.hang_up()
    line.settle()
    assert end_wrap_up_now(line.live.services, adviser(line).id)
    with line.live.services.session_factory() as session:
        statuses = sorted(w.status.value for w in session.scalars(select(WrapUp)))
    assert statuses == ["coded", "uncoded"]
    assert "Not coded in time" in client.get("/console/desk/live").get_json()["wrap_up"]


def _scheduled_callback(line: CouncilLine, due_in: timedelta = timedelta(0), number: str = RESIDENT) -> int:
    services = line.live.services
    now = line.clock.now()
    with services.session_factory.begin() as session:
        callback = request_callback(
            session, number, Topic.COUNCIL_TAX, now, reference="87654321", status=CallbackStatus.SCHEDULED
        ).callback
        callback.next_attempt_at = now + due_in
        return callback.id


def test_callbacks_due_today_are_listed_oldest_first_and_call_now_rings_the_adviser_then_the_resident(line):
    client = desk_client(line)
    post(client, "/console/desk/state", state="available")
    _scheduled_callback(line, timedelta(hours=3), number="+447400123488")
    due = _scheduled_callback(line)
    callbacks_panel = client.get("/console/desk/live").get_json()["callbacks"]
    assert callbacks_panel.index(">10:00<") < callbacks_panel.index(">13:00<"), "oldest first"
    assert callbacks_panel.count("Call now") == 1 and "Due later" in callbacks_panel

    line.world.phone(RESIDENT).will_answer(talk_seconds=60)
    started = post(client, f"/console/desk/callbacks/{due}/call")
    assert started.status_code == 200
    again = post(client, f"/console/desk/callbacks/{due}/call")  # a double click
    assert again.status_code == 409
    line.settle()
    tom = line.world.client(client_identity_for(TOM))
    [ringing] = tom.pending_offers
    tom.answer()
    line.settle()
    resident_calls = [c for c in line.world.calls.values() if c.to == RESIDENT]
    assert len(resident_calls) == 1
    with line.live.services.session_factory() as session:
        callback = session.get_one(Callback, due)
        assert callback.attempts == 1 and callback.assigned_adviser_id == adviser(line).id
    assert "calling the resident now" in " ".join(ringing.heard).lower()


def test_the_dialler_and_call_now_never_both_ring_the_resident(line):
    """The dialler's job claims the attempt first; the adviser answering their leg then rings nobody."""
    client = desk_client(line)
    post(client, "/console/desk/state", state="available")
    due = _scheduled_callback(line)
    assert post(client, f"/console/desk/callbacks/{due}/call").status_code == 200
    with line.live.services.session_factory.begin() as session:
        assert claim_attempt(session, due, 1, line.clock.now(), "dialler") is not None
    line.settle()
    tom = line.world.client(client_identity_for(TOM))
    [ringing] = tom.pending_offers
    tom.answer()
    line.settle()
    assert "already being called back" in " ".join(ringing.heard).lower()
    assert [c for c in line.world.calls.values() if c.to == RESIDENT] == []
    assert adviser(line).state == AdviserState.AVAILABLE
    assert dial_callback  # the dialler's own dial of that attempt is what rings them (lifecycle tests)


def test_the_live_stream_relays_floor_desk_and_sign_out_messages(line):
    redis_client = line.live.services.redis
    tom = adviser(line)
    ended = "console:session:test"
    received: list[str] = []
    gen = stream(redis_client, [floor_channel(), desk_channel(tom.id), ended], ended, lifetime=10)
    received.append(next(gen))  # retry hint
    received.append(next(gen))  # hello (subscribed)

    def publish() -> None:
        redis_client.publish(desk_channel(tom.id), json.dumps({"kind": "offer", "entry_id": 7}))
        redis_client.publish(ended, "ended")

    threading.Timer(0.2, publish).start()
    received.extend(gen)
    assert received[0].startswith("retry: ")
    assert 'event: offer\ndata: {"kind":"offer","entry_id":7}' in "".join(received)
    assert received[-1].startswith("event: signed-out")


def test_the_routing_store_announces_queue_and_adviser_changes_itself(line):
    pubsub = line.live.services.redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(floor_channel())
    pubsub.get_message(timeout=1.0)  # the subscription is in place before anything happens
    client = desk_client(line)
    post(client, "/console/desk/state", state="available")
    caller_keys_a_reference(line)
    kinds = set()
    for _ in range(50):  # get_message answers None for the (ignored) subscribe confirmation too
        message = pubsub.get_message(timeout=0.05)
        if message is not None:
            kinds.add(json.loads(message["data"])["kind"])
    pubsub.close()
    assert {"adviser", "queue"} <= kinds
