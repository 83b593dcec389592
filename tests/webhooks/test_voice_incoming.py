from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from models import Call, Callback, CallEvent
from tests.conftest import call_form, twilio_signature
from tests.twiml import parse_twiml, spoken_text, verbs


def test_unsigned_incoming_call_is_refused_with_403(twilio_post, db):
    response = twilio_post("/voice/incoming", call_form(), signed=False)
    assert response.status_code == 403
    assert db.scalar(select(func.count()).select_from(Call)) == 0


def test_forged_signature_is_refused_with_403(client):
    form = call_form()
    forged = twilio_signature("http://localhost/voice/incoming", form, token="not-our-token")
    response = client.post("/voice/incoming", data=form, headers={"X-Twilio-Signature": forged})
    assert response.status_code == 403


def test_signature_over_different_parameters_is_refused(client):
    form = call_form()
    signature = twilio_signature("http://localhost/voice/incoming", form)
    tampered = dict(form, From="+447700900999")
    response = client.post("/voice/incoming", data=tampered, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_signed_incoming_call_gets_welcome_and_a_menu_gather(twilio_post):
    response = twilio_post("/voice/incoming", call_form())
    assert response.status_code == 200
    assert response.content_type.startswith("text/xml")
    root = parse_twiml(response.data)
    assert "Gather" in verbs(root)
    gather = root.find("Gather")
    assert gather is not None and gather.get("action") == "/voice/step?turn=0"
    assert gather.get("actionOnEmptyResult") == "true", "silence must come back to the menu, not fall through"
    assert "welcome to kirklees council" in spoken_text(root).lower()


def test_incoming_call_is_recorded_with_e164_numbers(twilio_post, db):
    twilio_post("/voice/incoming", call_form(From="07700 900123", To="01484 221000"))
    call = db.scalars(select(Call)).one()
    assert call.call_sid == "CA" + "1" * 32
    assert call.caller_number == "+447700900123"
    assert call.dialled_number == "+441484221000"
    assert call.started_at.tzinfo is not None


def test_withheld_number_is_recorded_as_none(twilio_post, db):
    twilio_post("/voice/incoming", call_form(From="anonymous"))
    assert db.scalars(select(Call)).one().caller_number is None


def test_replayed_incoming_webhook_records_the_call_and_its_first_step_once(twilio_post, db):
    first = twilio_post("/voice/incoming", call_form())
    events_after_first = db.scalar(select(func.count()).select_from(CallEvent))
    second = twilio_post("/voice/incoming", call_form())
    assert first.status_code == second.status_code == 200
    assert second.data == first.data
    assert db.scalar(select(func.count()).select_from(Call)) == 1
    assert events_after_first >= 1
    assert db.scalar(select(func.count()).select_from(CallEvent)) == events_after_first


def test_signature_uses_public_base_url_behind_a_proxy(app, client):
    services = app.extensions["contact_centre"]
    services.settings = services.settings.with_overrides(public_base_url="https://phone.kirklees.example")
    form = call_form()
    signature = twilio_signature("https://phone.kirklees.example/voice/incoming", form)
    # Flask sees the proxy's internal address; the signature covers the public URL Twilio used.
    response = client.post(
        "/voice/incoming",
        data=form,
        headers={"X-Twilio-Signature": signature},
        base_url="http://10.0.0.5:8000",
    )
    assert response.status_code == 200
    wrong = client.post(
        "/voice/incoming",
        data=form,
        headers={"X-Twilio-Signature": twilio_signature("http://10.0.0.5:8000/voice/incoming", form)},
        base_url="http://10.0.0.5:8000",
    )
    assert wrong.status_code == 403


@pytest.mark.webhook_errors_expected
def test_failure_inside_a_voice_route_gives_safe_twiml_not_500(app, twilio_post, monkeypatch, caplog):
    def broken(*_args, **_kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr("ivr.service.record_call_started", broken)
    with caplog.at_level(logging.ERROR):
        response = twilio_post("/voice/incoming", call_form(call_sid="CA" + "9" * 32))
    assert response.status_code == 200
    root = parse_twiml(response.data)
    assert "sorry" in spoken_text(root).lower()
    assert verbs(root)[-1] == "Enqueue", "the caller must end up waiting for a person, not cut off"
    gather = root.find("Gather")
    assert gather is not None and gather.get("action") == "/voice/safe-choice"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "CA" + "9" * 32 in logged
    assert "+447700900123" not in logged


def test_caller_pressing_1_after_an_error_gets_a_callback_scheduled_for_the_dialler(
    twilio_post, db, redis_client
):
    response = twilio_post("/voice/safe-choice", call_form(From="+447400123456", Digits="1"))
    root = parse_twiml(response.data)
    assert verbs(root)[-1] == "Hangup"
    callback = db.scalars(select(Callback)).one()
    assert callback.number == "+447400123456"
    assert callback.status.value == "scheduled" and callback.next_attempt_at is not None
    assert (
        redis_client.zcard("rq:scheduled:contact-centre") + redis_client.llen("rq:queue:contact-centre") >= 1
    )
    again = twilio_post(
        "/voice/safe-choice", call_form(From="+447400123456", Digits="1")
    )  # a retry books no more
    assert again.data == response.data and db.scalar(select(func.count()).select_from(Callback)) == 1


def test_safe_choice_keeps_the_request_in_redis_when_the_database_refuses_it(twilio_post, monkeypatch, db):
    from callbacks import pending

    def broken(*_args, **_kwargs):
        raise RuntimeError("still broken")

    monkeypatch.setattr(pending, "book_request", broken)
    response = twilio_post("/voice/safe-choice", call_form(From="+447400123456", Digits="1"))
    assert response.status_code == 200
    assert "call you back" in spoken_text(parse_twiml(response.data)).lower()
    assert db.scalar(select(func.count()).select_from(Callback)) == 0


def test_withheld_caller_after_an_error_is_queued_for_an_adviser(twilio_post, db):
    response = twilio_post("/voice/safe-choice", call_form(From="anonymous", Digits="1"))
    assert verbs(parse_twiml(response.data))[-1] == "Enqueue"
    assert db.scalar(select(func.count()).select_from(Callback)) == 0


def test_each_apology_fits_where_it_is_heard(app):
    from simulator.call_engine import WAIT_VERBS
    from telephony.webhooks import safe_adviser_twiml, safe_hold_twiml, safe_twiml

    wait_verbs = {verb.__name__ for verb in WAIT_VERBS}
    with app.test_request_context("/voice/queue/wait"):
        on_hold = parse_twiml(str(safe_hold_twiml()))
        in_menu = parse_twiml(str(safe_twiml()))
        adviser = parse_twiml(str(safe_adviser_twiml()))
    assert {element.tag for element in on_hold.iter()} - {"Response"} <= wait_verbs
    assert "keep holding" in spoken_text(on_hold).lower()
    [enqueue] = in_menu.iter("Enqueue")
    assert enqueue.get("waitUrl", "").startswith("/voice/queue/wait?"), (
        "routing records them on the first round"
    )
    assert enqueue.get("action") == "/voice/queue/result"
    assert verbs(adviser)[-1] == "Hangup"
