"""The menu's webhooks under Twilio's real-world behaviour: retries, strangers, junk input, fallbacks."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ivr import versions
from models import Call, CallEvent
from tests.conftest import call_form
from tests.twiml import parse_twiml, spoken_text, verbs

SID = "CA" + "5" * 32


@pytest.fixture
def published(app, db, clock):
    versions.install_default_flow(db, clock.now())
    db.commit()


def _step(twilio_post, turn, **fields):
    return twilio_post(f"/voice/step?turn={turn}", call_form(SID, **fields))


def _events(db) -> int:
    return db.scalar(select(func.count()).select_from(CallEvent))


def test_a_retried_step_returns_the_same_twiml_and_records_nothing_twice(published, twilio_post, db):
    twilio_post("/voice/incoming", call_form(SID))
    first = _step(twilio_post, 0, Digits="1")
    events = _events(db)
    retry = _step(twilio_post, 0, Digits="1")
    assert retry.data == first.data
    assert _events(db) == events
    state = db.scalars(select(Call)).one().ivr_state
    assert state["turns"] == 1 and state["node"] == "main_menu"


def test_a_retry_arriving_after_the_caller_moved_on_does_not_rewind_them(published, twilio_post, db):
    twilio_post("/voice/incoming", call_form(SID))
    _step(twilio_post, 0, Digits="1")
    _step(twilio_post, 1, Digits="2")
    current = db.scalars(select(Call)).one().ivr_last_reply
    late_retry = _step(twilio_post, 0, Digits="1")
    assert late_retry.status_code == 200
    assert late_retry.get_data(as_text=True) == current, "a late retry hears their current prompt again"
    db.expire_all()
    assert db.scalars(select(Call)).one().ivr_state["node"] == "hb_menu"


def test_a_retried_incoming_webhook_after_progress_does_not_restart_the_menu(published, twilio_post, db):
    twilio_post("/voice/incoming", call_form(SID))
    _step(twilio_post, 0, Digits="1")
    twilio_post("/voice/incoming", call_form(SID))
    db.expire_all()
    assert db.scalars(select(Call)).one().ivr_state["node"] == "main_menu"


@pytest.mark.parametrize(
    "fields",
    [
        {"Digits": "9" * 500},
        {"Digits": "<script>"},
        {"SpeechResult": "x" * 5000, "Confidence": "0.9"},
        {"SpeechResult": "council tax", "Confidence": "not-a-number"},
    ],
)
def test_malformed_or_oversized_input_gets_a_reprompt_never_a_500(published, twilio_post, db, fields):
    twilio_post("/voice/incoming", call_form(SID))
    response = _step(twilio_post, 0, **fields)
    assert response.status_code == 200
    root = parse_twiml(response.data)
    assert "Gather" in verbs(root), "the caller is asked again"
    assert "sorry" in spoken_text(root).lower()
    assert "something went wrong" not in spoken_text(root).lower()


def test_control_characters_in_keys_are_dropped_and_heard_as_nothing(published, twilio_post, db):
    twilio_post("/voice/incoming", call_form(SID))
    response = _step(twilio_post, 0, Digits="\x00\x01")
    assert "Gather" in verbs(parse_twiml(response.data)), "the caller is asked again"
    db.expire_all()
    [event] = db.scalars(select(CallEvent).where(CallEvent.outcome == "no_input")).all()
    assert event.caller_input == "none"


def test_a_step_for_a_call_we_never_saw_start_still_reaches_a_person(published, twilio_post, db):
    response = twilio_post("/voice/step?turn=3", call_form("CA" + "6" * 32, Digits="1"))
    assert response.status_code == 200
    assert verbs(parse_twiml(response.data))[-1] in {"Enqueue", "Gather"}
    assert db.scalars(select(Call)).one().call_sid == "CA" + "6" * 32


def test_without_a_published_flow_the_shipped_default_still_answers(app, twilio_post, db):
    response = twilio_post("/voice/incoming", call_form(SID))
    assert "welcome to kirklees council" in spoken_text(parse_twiml(response.data)).lower()


def test_twilio_fallback_url_apologises_and_offers_a_person(twilio_post, caplog):
    response = twilio_post(
        "/voice/fallback", call_form(SID, ErrorCode="11200", ErrorUrl="https://x/voice/step")
    )
    root = parse_twiml(response.data)
    assert "sorry" in spoken_text(root).lower()
    assert verbs(root)[-1] == "Enqueue"


def test_fallback_url_refuses_unsigned_requests(twilio_post):
    assert twilio_post("/voice/fallback", call_form(SID), signed=False).status_code == 403


def test_queue_hangup_marks_the_call_abandoned_once(published, twilio_post, db):
    twilio_post("/voice/incoming", call_form(SID))
    for _ in range(2):
        response = twilio_post("/voice/queue/result", call_form(SID, QueueResult="hangup", QueueTime="95"))
        assert response.status_code == 200
    call = db.scalars(select(Call)).one()
    assert call.outcome.value == "abandoned"
    queue_events = db.scalars(select(CallEvent).where(CallEvent.kind == "queue_event")).all()
    assert [e.outcome for e in queue_events] == ["hangup"]


def test_queue_failure_still_gets_the_caller_to_a_person(twilio_post):
    response = twilio_post("/voice/queue/result", call_form(SID, QueueResult="queue-full"))
    assert verbs(parse_twiml(response.data))[-1] == "Enqueue"


def test_twilio_idempotency_token_replays_the_first_answer(published, twilio_post, db):
    twilio_post("/voice/incoming", call_form(SID))
    token = {"I-Twilio-Idempotency-Token": "idem-123"}
    first = twilio_post("/voice/step?turn=0", call_form(SID, Digits="1"), headers=token)
    events = _events(db)
    again = twilio_post("/voice/step?turn=0", call_form(SID, Digits="1"), headers=token)
    assert again.data == first.data
    assert _events(db) == events


def test_replays_need_no_redis_at_all(published, twilio_post, db, app, monkeypatch):
    import redis as redis_module

    def down(*_args, **_kwargs):
        raise redis_module.ConnectionError("redis restarting")

    services = app.extensions["contact_centre"]
    for method in ("get", "set", "mget", "pipeline", "execute_command"):
        monkeypatch.setattr(services.redis, method, down)
    twilio_post("/voice/incoming", call_form(SID))
    first = _step(twilio_post, 0, Digits="1")
    events = _events(db)
    retry = _step(twilio_post, 0, Digits="1")
    assert retry.data == first.data
    assert _events(db) == events
    db.expire_all()
    assert db.scalars(select(Call)).one().ivr_state["turns"] == 1
