"""Ended calls stay ended: once Twilio's status callback says a call is over, its webhooks change nothing.

A validly signed hold round or menu step replayed after the end (or arriving late because it was in flight when
the caller hung up) used to put the caller back in the live queue and book and dial a second callback.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, update

import ivr.service
from ivr import versions
from models import Call, Callback, CallEvent, QueueEntry, QueueEntryStatus
from models.demo import seed_demo
from routing.live import ready_store
from runtime.web import EXTENSION_KEY
from tests.conftest import call_form, twilio_signature
from tests.twiml import parse_twiml, verbs

SID = "CA" + "e" * 32
MOBILE = "+447400123456"
WAIT = "/voice/queue/wait?topic=council_tax&language=en-GB"
TOKEN = "I-Twilio-Idempotency-Token"


@pytest.fixture
def council(app, db, clock):
    seed_demo(db, clock.now())
    versions.install_default_flow(db, clock.now())
    db.commit()
    return app.extensions[EXTENSION_KEY]


def _hung_up(twilio_post) -> None:
    response = twilio_post(
        "/voice/status", call_form(SID, From=MOBILE, CallStatus="completed", CallDuration="70")
    )
    assert response.status_code == 200


def _counts(db) -> tuple[int, int, int]:
    db.expire_all()
    return (
        db.scalar(select(func.count()).select_from(QueueEntry)),
        db.scalar(select(func.count()).select_from(Callback)),
        db.scalar(select(func.count()).select_from(CallEvent)),
    )


def _hangs_up_and_does_nothing(response) -> None:
    assert response.status_code == 200
    assert verbs(parse_twiml(response.data)) == ["Hangup"]


def test_a_hold_round_replayed_after_the_call_ended_does_not_queue_the_caller_again(council, twilio_post, db):
    first_round = call_form(SID, From=MOBILE, QueueTime="0")
    twilio_post(WAIT, first_round)
    _hung_up(twilio_post)
    before = _counts(db)

    _hangs_up_and_does_nothing(twilio_post(WAIT, first_round))
    _hangs_up_and_does_nothing(twilio_post(WAIT, call_form(SID, From=MOBILE, QueueTime="400")))

    assert _counts(db) == before
    [entry] = db.scalars(select(QueueEntry)).all()
    assert entry.status == QueueEntryStatus.ABANDONED
    assert ready_store(council, db).position_of(SID) is None


def test_keys_replayed_after_the_call_ended_book_no_callback(council, twilio_post, db):
    twilio_post(WAIT, call_form(SID, From=MOBILE))
    [gather] = parse_twiml(
        twilio_post("/voice/queue/key", call_form(SID, From=MOBILE, Digits="1")).data
    ).iter("Gather")
    _hung_up(twilio_post)
    before = _counts(db)
    for route in ("/voice/queue/key", gather.get("action"), "/voice/queue/callback/keyed?n=1"):
        _hangs_up_and_does_nothing(twilio_post(route, call_form(SID, From=MOBILE, Digits="1")))
    assert _counts(db) == before and before[1] == 0


def test_the_booking_dialogue_replayed_after_the_call_ended_books_nothing(council, twilio_post, db):
    start = "/voice/callback/start?topic=council_tax&language=en-GB"
    twilio_post(start, call_form(SID, From=MOBILE))
    _hung_up(twilio_post)
    before = _counts(db)
    for route in (
        start,
        "/voice/callback/number?topic=council_tax&n=1",
        "/voice/callback/slot?topic=council_tax&n=2",
    ):
        _hangs_up_and_does_nothing(twilio_post(route, call_form(SID, From=MOBILE, Digits="1")))
        _hangs_up_and_does_nothing(twilio_post(route, call_form(SID, From=MOBILE, Digits="4")))
    assert _counts(db) == before


@pytest.mark.parametrize("with_token", [True, False], ids=["idempotency-token", "turn-number-only"])
def test_a_menu_step_replayed_after_the_call_ended_changes_nothing(council, twilio_post, db, with_token):
    headers = {TOKEN: "idem-1"} if with_token else {}
    twilio_post("/voice/incoming", call_form(SID, From=MOBILE))
    twilio_post("/voice/step?turn=0", call_form(SID, From=MOBILE, Digits="1"), headers=headers)
    _hung_up(twilio_post)
    state = db.scalars(select(Call)).one().ivr_state
    before = _counts(db)

    for turn, digits in ((0, "1"), (1, "0"), (1, "1")):
        replay = twilio_post(
            f"/voice/step?turn={turn}", call_form(SID, From=MOBILE, Digits=digits), headers=headers
        )
        _hangs_up_and_does_nothing(replay)
    _hangs_up_and_does_nothing(twilio_post("/voice/incoming", call_form(SID, From=MOBILE)))

    assert _counts(db) == before
    db.expire_all()
    assert db.scalars(select(Call)).one().ivr_state == state


def test_a_step_in_flight_when_the_caller_hung_up_writes_nothing(council, twilio_post, db, app, monkeypatch):
    twilio_post("/voice/incoming", call_form(SID, From=MOBILE))
    state = db.scalars(select(Call)).one().ivr_state
    before = _counts(db)
    advance = ivr.service.engine.advance

    def caller_hangs_up_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        with app.extensions[EXTENSION_KEY].session_factory.begin() as other:
            other.execute(update(Call).where(Call.call_sid == SID).values(ended_at=func.now()))
        return advance(*args, **kwargs)

    monkeypatch.setattr(ivr.service.engine, "advance", caller_hangs_up_meanwhile)
    response = twilio_post("/voice/step?turn=0", call_form(SID, From=MOBILE, Digits="1"))

    assert response.status_code == 200
    assert _counts(db) == before
    db.expire_all()
    assert db.scalars(select(Call)).one().ivr_state == state


def test_a_hold_round_in_flight_when_the_caller_hung_up_leaves_nobody_queued(council, app, db, monkeypatch):
    """Whichever finishes first, the hold round or the status callback, no live place is left for an ended call."""
    import routing.views

    join_queue, started = routing.views.join_queue, threading.Event()

    def slow_join(*args, **kwargs):  # type: ignore[no-untyped-def]
        started.set()
        time.sleep(0.3)  # the status callback arrives meanwhile (and waits on the call's row on PostgreSQL)
        return join_queue(*args, **kwargs)

    monkeypatch.setattr(routing.views, "join_queue", slow_join)

    def post(path: str, form: dict[str, str]) -> None:
        signature = twilio_signature("http://localhost" + path, form)
        app.test_client().post(path, data=form, headers={"X-Twilio-Signature": signature})

    # The call must exist before either request, as it does once the menu has run.
    post("/voice/status", call_form(SID, From=MOBILE, CallStatus="in-progress"))
    post("/voice/incoming", call_form(SID, From=MOBILE))
    hold = threading.Thread(target=post, args=(WAIT, call_form(SID, From=MOBILE)))
    hold.start()
    started.wait(5)
    post("/voice/status", call_form(SID, From=MOBILE, CallStatus="completed"))
    hold.join(10)

    db.expire_all()
    assert db.scalars(select(Call)).one().ended_at is not None
    live = [
        e
        for e in db.scalars(select(QueueEntry))
        if e.status in (QueueEntryStatus.WAITING, QueueEntryStatus.OFFERED)
    ]
    assert live == []
    assert ready_store(app.extensions[EXTENSION_KEY], db).position_of(SID) is None
