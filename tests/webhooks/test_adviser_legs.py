"""Ringing an adviser where they answer: `<Client>` for the desk's softphone, `<Number>` + whisper for a phone."""

from __future__ import annotations

from sqlalchemy import select

from models import AnswersOn, Call, Callback, CallbackStatus, CallEvent, CallOutcome, QueueEntryStatus
from tests.conftest import call_form
from tests.twiml import parse_twiml, verbs
from tests.webhooks import test_queue_webhooks
from tests.webhooks.test_queue_webhooks import (
    MOBILE,
    SID,
    WAIT,
    _offer_to,
    entries,
    keep_my_place,
    make_available,
)

council = test_queue_webhooks.council  # the seeded council fixture, shared
ADVISER_LEG = "CA" + "9" * 32
TOM_PHONE = "+447400987654"


def offered_to_tom(council, twilio_post, db, clock, answers_on=AnswersOn.BROWSER):
    twilio_post(WAIT, call_form(SID, From=MOBILE))
    tom = make_available(council, db, "Tom Hirst", clock.now())
    [entry] = entries(db)
    tom.answers_on, tom.phone_number = answers_on, TOM_PHONE
    _offer_to(db, entry, tom, clock.now())
    return entry, tom


def test_a_browser_adviser_is_dialled_as_their_client_with_the_entry_for_the_screen_pop(
    council,
    twilio_post,
    db,
    clock,
):
    entry, tom = offered_to_tom(council, twilio_post, db, clock)
    reply = parse_twiml(twilio_post(f"/voice/queue/connect?entry={entry.id}", call_form(SID)).data)

    [dial] = reply.iter("Dial")
    assert dial.get("action") == f"/voice/queue/dial-result?entry={entry.id}"
    assert [target.tag for target in dial] == ["Client"]
    [client] = dial
    assert client.get("url") == f"/voice/queue/answered?entry={entry.id}", "answering is the acceptance"
    assert client.findtext("Identity") == tom.client_identity
    assert [(p.get("name"), p.get("value")) for p in client.iter("Parameter")] == [("entry", str(entry.id))]


def test_a_phone_adviser_is_dialled_on_their_number_and_hears_the_whisper_first(
    council,
    twilio_post,
    db,
    clock,
):
    entry, _tom = offered_to_tom(council, twilio_post, db, clock, answers_on=AnswersOn.PHONE)
    reply = parse_twiml(twilio_post(f"/voice/queue/connect?entry={entry.id}", call_form(SID)).data)

    [dial] = reply.iter("Dial")
    [number] = dial
    assert (number.tag, number.text) == ("Number", TOM_PHONE)
    assert number.get("url") == f"/voice/queue/whisper?entry={entry.id}"
    whisper = parse_twiml(twilio_post(number.get("url"), call_form(ADVISER_LEG)).data)
    [gather] = whisper.iter("Gather")
    assert gather.get("action") == f"/voice/queue/accept?entry={entry.id}"
    assert "Press 1 to take the call." in gather.findtext("Say")


def test_the_browser_answering_connects_the_offer_as_pressing_1_does_and_a_retry_changes_nothing(
    council,
    twilio_post,
    db,
    clock,
):
    entry, tom = offered_to_tom(council, twilio_post, db, clock)
    answered = f"/voice/queue/answered?entry={entry.id}"

    first = twilio_post(answered, call_form(ADVISER_LEG, Direction="outbound-dial"))
    retry = twilio_post(answered, call_form(ADVISER_LEG, Direction="outbound-dial"))

    assert verbs(parse_twiml(first.data)) == [] and verbs(parse_twiml(retry.data)) == []  # Twilio bridges
    [entry] = entries(db)
    assert entry.status == QueueEntryStatus.CONNECTED and entry.connected_at == clock.now()
    call = db.scalars(select(Call)).one()
    assert call.outcome == CallOutcome.ANSWERED
    connected = db.scalars(select(CallEvent).where(CallEvent.outcome == "connected")).all()
    assert [event.detail for event in connected] == [{"adviser_id": tom.id}]


def test_a_browser_answering_an_offer_that_has_gone_is_hung_up(council, twilio_post, db, clock):
    entry, _tom = offered_to_tom(council, twilio_post, db, clock)
    twilio_post("/voice/status", call_form(SID, CallStatus="completed"))  # the caller hung up meanwhile

    reply = parse_twiml(twilio_post(f"/voice/queue/answered?entry={entry.id}", call_form(ADVISER_LEG)).data)

    assert verbs(reply) == ["Hangup"]
    assert entries(db)[0].status == QueueEntryStatus.ABANDONED


def test_unsigned_answered_legs_are_refused(council, twilio_post):
    for path in ("/voice/queue/answered?entry=1", "/voice/queue/callback/answered?entry=1"):
        assert twilio_post(path, call_form(ADVISER_LEG), signed=False).status_code == 403


def test_a_browser_taking_a_keep_your_place_callback_rings_the_resident_at_once(
    council,
    twilio_post,
    db,
    clock,
):
    keep_my_place(twilio_post)
    tom = make_available(council, db, "Tom Hirst", clock.now())
    _left, virtual = entries(db)
    _offer_to(db, virtual, tom, clock.now())

    reply = parse_twiml(
        twilio_post(f"/voice/queue/callback/answered?entry={virtual.id}", call_form(ADVISER_LEG)).data
    )

    assert verbs(reply) == ["Say", "Dial"]
    [dial] = reply.iter("Dial")
    assert dial.get("callerId") == council.settings.twilio_phone_number
    assert dial.findtext("Number") == MOBILE
    callback = db.scalars(select(Callback)).one()
    assert (callback.status, callback.attempts, callback.assigned_adviser_id) == (
        CallbackStatus.DIALLING,
        1,
        tom.id,
    )
