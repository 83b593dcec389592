"""A menu step is saved by one guarded write: a duplicate that lost the race writes nothing and answers as the
winner did. Runs on SQLite and on PostgreSQL (where the write is a single CTE statement)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from twilio.twiml.voice_response import VoiceResponse

import ivr.views
from ivr import engine, versions
from ivr.service import LibraryHoursCache, StepAlreadyTaken, continue_menu, save_step
from models import Call, CallEvent, Topic
from runtime.web import EXTENSION_KEY
from tests.conftest import call_form
from tests.twiml import parse_twiml, spoken_text

SID = "CA" + "7" * 32


@pytest.fixture
def published(app, db, clock):
    versions.install_default_flow(db, clock.now())
    db.commit()


def _at_main_menu(twilio_post) -> None:
    """Ring in and choose English: the caller now hears the main menu (turn 1)."""
    twilio_post("/voice/incoming", call_form(SID))
    twilio_post(
        "/voice/step?turn=0", call_form(SID, Digits="1"), headers={"I-Twilio-Idempotency-Token": "t0"}
    )


def _journey(db) -> list[tuple[str, str | None, str]]:
    db.expire_all()
    events = db.scalars(select(CallEvent).where(CallEvent.kind == "ivr_step").order_by(CallEvent.id))
    return [(event.node, event.caller_input, event.idempotency_key) for event in events]


def _take_step(app, clock, digits: str, token: str):
    """Run the service for a step at turn 1 in its own session (not saved)."""
    services = app.extensions[EXTENSION_KEY]
    session = services.session_factory()
    session.begin()
    menu = continue_menu(
        session,
        SID,
        "+447700900123",
        "+441484221000",
        1,
        token,
        engine.CallerInput.from_twilio({"Digits": digits}),
        clock.now(),
        services.settings.default_region,
        LibraryHoursCache(),
    )
    return session, menu


def test_a_step_moves_the_call_and_records_its_journey_in_one_save(published, twilio_post, db, clock):
    _at_main_menu(twilio_post)
    response = twilio_post(
        "/voice/step?turn=1", call_form(SID, Digits="1"), headers={"I-Twilio-Idempotency-Token": "t1"}
    )
    call = db.scalars(select(Call)).one()
    assert call.ivr_state["node"] == "ct_menu" and call.ivr_state["turns"] == 2
    assert call.topic == Topic.COUNCIL_TAX
    assert call.ivr_last_token == "t1"
    assert call.ivr_last_reply == response.get_data(as_text=True)
    step_events = [e for e in _journey(db) if e[2].startswith(f"{SID}:2:")]
    assert [(node, caller_input) for node, caller_input, _ in step_events] == [
        ("main_menu", "digits:1"),
        ("ct_menu", None),
    ]
    times = db.scalars(select(CallEvent.occurred_at).where(CallEvent.idempotency_key.like(f"{SID}:2:%")))
    assert set(times) == {clock.now()}


def test_a_duplicate_step_that_lost_the_race_writes_nothing(published, twilio_post, db, app, clock):
    _at_main_menu(twilio_post)
    loser, late = _take_step(app, clock, "1", "token-a")  # read the call, then stalled
    winner, first = _take_step(app, clock, "2", "token-b")
    save_step(winner, first, "<Response/>")
    winner.commit()
    journey = _journey(db)

    with pytest.raises(StepAlreadyTaken):
        save_step(loser, late, "<Response/>")
    loser.rollback()
    loser.close()
    winner.close()

    assert _journey(db) == journey, "the loser recorded no events"
    call = db.scalars(select(Call)).one()
    assert call.ivr_state["node"] == "hb_menu" and call.ivr_last_token == "token-b"


def test_the_webhook_that_lost_the_race_answers_what_the_winner_answered(
    published, twilio_post, db, app, clock, monkeypatch
):
    _at_main_menu(twilio_post)
    winner_reply = VoiceResponse()
    winner_reply.say("Housing benefit.")
    real_continue_menu = ivr.views.continue_menu

    def a_duplicate_wins_meanwhile(session, *args, **kwargs):
        menu = real_continue_menu(session, *args, **kwargs)
        other, first = _take_step(app, clock, "2", "token-b")
        save_step(other, first, str(winner_reply))
        other.commit()
        other.close()
        return menu

    monkeypatch.setattr(ivr.views, "continue_menu", a_duplicate_wins_meanwhile)
    response = twilio_post(
        "/voice/step?turn=1", call_form(SID, Digits="1"), headers={"I-Twilio-Idempotency-Token": "token-a"}
    )
    assert response.status_code == 200
    assert spoken_text(parse_twiml(response.data)) == "Housing benefit."
    assert not [event for event in _journey(db) if event[1] == "digits:1" and ":2:" in event[2]]
    call = db.scalars(select(Call)).one()
    assert call.ivr_state["node"] == "hb_menu" and call.topic == Topic.HOUSING_BENEFIT


def test_a_retry_after_the_race_hears_the_winners_reply_and_records_nothing(published, twilio_post, db):
    _at_main_menu(twilio_post)
    headers = {"I-Twilio-Idempotency-Token": "t1"}
    first = twilio_post("/voice/step?turn=1", call_form(SID, Digits="1"), headers=headers)
    journey = _journey(db)
    retry = twilio_post("/voice/step?turn=1", call_form(SID, Digits="1"), headers=headers)
    assert retry.data == first.data
    assert _journey(db) == journey
