"""Twilio webhooks of the callback lifecycle: the dialled resident answers, the dial's status, texts from residents.

Each URL of an outbound callback carries its CallbackAttempt id, so even a call whose worker died before it
learnt the CallSid is settled against the right attempt.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from sqlalchemy import select
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from callbacks import lifecycle, sms
from ivr.twiml import say_in
from models import Callback
from routing.views import enqueue_caller
from runtime.logging import get_logger
from runtime.web import db_session, services
from telephony.numbers import to_e164
from telephony.webhooks import guarded_webhook, twilio_webhook, twiml

log = get_logger(__name__)
callbacks_bp = Blueprint("callbacks", __name__)


@callbacks_bp.post("/callbacks/voice/answer")
@twilio_webhook
def answer() -> Response:
    """The resident's phone answered: a person hears who is calling and joins the adviser queue; a machine, nothing."""
    app_services, session = services(), db_session()
    settings = app_services.settings
    with session.begin():
        decision = lifecycle.answer_attempt(
            session,
            request.args.get("attempt", 0, type=int),
            request.form.get("CallSid", ""),
            request.form.get("AnsweredBy"),
            settings.twilio_phone_number,
            app_services.clock.now(),
            settings.default_region,
        )
    response = VoiceResponse()
    if decision.action == "connect":
        text, language = sms.greeting(decision.topic, decision.language)
        say_in(response, text, language)
        enqueue_caller(response, decision.topic, decision.language, reasons=("scheduled callback",))
    elif decision.action == "cancelled":
        say_in(response, sms.CANCELLED_BEFORE_ANSWER, "en-GB")
        response.hangup()
    else:
        response.hangup()
    return twiml(response)


@callbacks_bp.post("/callbacks/voice/status")
@twilio_webhook
def status() -> Response:
    """Progress of a callback's call; the final status settles the attempt (a replay changes nothing)."""
    app_services, session = services(), db_session()
    with session.begin():
        follow_up = lifecycle.record_progress(
            session,
            request.args.get("attempt", 0, type=int),
            request.form.get("CallSid"),
            request.form.get("CallStatus", ""),
            request.form.get("AnsweredBy"),
            app_services.clock.now(),
            app_services.settings.callback_max_attempts,
        )
    lifecycle.carry_out(app_services, follow_up)
    return twiml(VoiceResponse())  # Twilio ignores a status callback's body


def _messaging(response: MessagingResponse) -> Response:
    return Response(str(response), content_type="text/xml; charset=utf-8")


# Messaging: on any error an empty reply (no text back), never a 500.
twilio_sms_webhook = guarded_webhook(
    lambda: _messaging(MessagingResponse()), sid_field="MessageSid", log_key="message_sid"
)


@callbacks_bp.post("/sms/inbound")
@twilio_sms_webhook
def inbound_sms() -> Response:
    """A text from a resident: CANCEL/STOP cancels their callbacks; anything else gets a short help reply."""
    app_services, session = services(), db_session()
    settings = app_services.settings
    sender = to_e164(request.form.get("From"), settings.default_region)
    with session.begin():
        outcome = lifecycle.handle_inbound_sms(
            session,
            request.form.get("MessageSid", ""),
            sender,
            request.form.get("Body", ""),
            app_services.clock.now(),
        )
        # Reply in the language they booked in (their latest callback), else English.
        language = session.scalar(
            select(Callback.language).where(Callback.number == sender).order_by(Callback.id.desc()).limit(1)
        )
    response = MessagingResponse()
    reply = sms.inbound_reply(
        outcome.action, sms.spoken_number(settings.twilio_phone_number), language or "en-GB"
    )
    if reply:
        response.message(reply)
    return _messaging(response)
