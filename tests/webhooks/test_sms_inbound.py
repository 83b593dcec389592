"""POST /sms/inbound: residents text CANCEL (or STOP) to cancel their callbacks; signed, once per MessageSid."""

from __future__ import annotations

from xml.etree import ElementTree

from sqlalchemy import func, select

from callbacks.service import request_callback
from models import Callback, CallbackStatus, InboundMessage, Topic

MOBILE = "+447400123456"


def book(app, clock, topic, number=MOBILE) -> int:
    services = app.extensions["contact_centre"]
    with services.session_factory.begin() as session:
        callback = request_callback(session, number, topic, clock.now()).callback
        callback.status = CallbackStatus.SCHEDULED
        return callback.id


def text(twilio_post, body, sid="SM" + "1" * 32, number=MOBILE, signed=True):
    form = {
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": number,
        "To": "+441484221000",
        "Body": body,
    }
    return twilio_post("/sms/inbound", form, signed=signed)


def reply_of(response) -> str:
    root = ElementTree.fromstring(response.data)
    assert root.tag == "Response"
    return " ".join(message.text or "" for message in root.iter("Message"))


def statuses(app) -> dict[int, CallbackStatus]:
    with app.extensions["contact_centre"].session_factory() as session:
        return dict(session.execute(select(Callback.id, Callback.status)).tuples().all())


def test_cancel_cancels_every_active_callback_of_the_sender_and_says_so(app, clock, twilio_post):
    council_tax = book(app, clock, Topic.COUNCIL_TAX)
    housing = book(app, clock, Topic.HOUSING_BENEFIT)
    someone_else = book(app, clock, Topic.COUNCIL_TAX, number="+447400123999")

    response = text(twilio_post, " cancel ")

    assert response.status_code == 200 and "is cancelled" in reply_of(response)
    assert statuses(app) == {
        council_tax: CallbackStatus.CANCELLED,
        housing: CallbackStatus.CANCELLED,
        someone_else: CallbackStatus.SCHEDULED,
    }


def test_stop_also_cancels(app, clock, twilio_post):
    callback_id = book(app, clock, Topic.COUNCIL_TAX)
    text(twilio_post, "STOP")
    assert statuses(app)[callback_id] == CallbackStatus.CANCELLED


def test_a_replayed_message_does_nothing_the_second_time(app, clock, twilio_post):
    book(app, clock, Topic.COUNCIL_TAX)
    first = text(twilio_post, "CANCEL")
    rebooked = book(app, clock, Topic.COUNCIL_TAX)  # the resident books again afterwards

    replay = text(twilio_post, "CANCEL")  # Twilio retries the same MessageSid

    assert reply_of(replay) == reply_of(first)
    assert statuses(app)[rebooked] == CallbackStatus.SCHEDULED
    with app.extensions["contact_centre"].session_factory() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 1


def test_an_unsigned_message_is_refused_and_cancels_nothing(app, clock, twilio_post):
    callback_id = book(app, clock, Topic.COUNCIL_TAX)
    response = text(twilio_post, "CANCEL", signed=False)
    assert response.status_code == 403
    assert statuses(app)[callback_id] == CallbackStatus.SCHEDULED


def test_anything_else_gets_a_short_help_reply(app, clock, twilio_post):
    callback_id = book(app, clock, Topic.COUNCIL_TAX)
    response = text(twilio_post, "what time will you ring?")
    assert "reply CANCEL" in reply_of(response) and "01484 221000" in reply_of(response)
    assert statuses(app)[callback_id] == CallbackStatus.SCHEDULED


def test_cancel_with_nothing_booked_says_so(app, clock, twilio_post):
    response = text(twilio_post, "Cancel")
    assert "no callback booked" in reply_of(response)
    with app.extensions["contact_centre"].session_factory() as session:
        (message,) = session.scalars(select(InboundMessage)).all()
    assert message.action == "nothing_to_cancel" and message.callback_id is None


def test_a_polish_resident_gets_the_reply_in_polish(app, clock, twilio_post):
    services = app.extensions["contact_centre"]
    with services.session_factory.begin() as session:
        callback = request_callback(
            session, MOBILE, Topic.COUNCIL_TAX, clock.now(), language="pl-PL"
        ).callback
        callback.status = CallbackStatus.SCHEDULED

    response = text(twilio_post, "Anuluj")

    assert reply_of(response).startswith("Oddzwonienie od Rady Kirklees zostało anulowane.")
    assert set(statuses(app).values()) == {CallbackStatus.CANCELLED}
    help_reply = reply_of(text(twilio_post, "co to jest?", sid="SM" + "2" * 32))
    assert "aby anulować, odpisz CANCEL" in help_reply
