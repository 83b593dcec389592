"""Twilio voice webhooks. Views stay short: parse Twilio's fields, call the service, render TwiML."""

from __future__ import annotations

from flask import Blueprint, request, url_for
from twilio.twiml.voice_response import VoiceResponse

from callbacks.service import request_callback
from ivr.calls import record_call_started, record_event
from models import Topic
from runtime.logging import get_logger
from runtime.web import db_session, services
from telephony.numbers import to_e164
from telephony.webhooks import ENGLISH, SAFE_QUEUE_NAME, twilio_webhook, twiml

log = get_logger(__name__)
voice_bp = Blueprint("voice", __name__, url_prefix="/voice")

MAIN_MENU_TOPICS = {
    "1": Topic.COUNCIL_TAX,
    "2": Topic.HOUSING_BENEFIT,
    "0": Topic.GENERAL,
}


def _main_menu(response: VoiceResponse) -> None:
    gather = response.gather(
        num_digits=1,
        timeout=5,
        action=url_for("voice.main_menu"),
        action_on_empty_result=True,
    )
    gather.say(
        "For council tax, press 1. For housing benefit, press 2. To speak to an adviser, press 0.",
        **ENGLISH,
    )


@voice_bp.post("/incoming")
@twilio_webhook
def incoming():
    """A resident rings the council: record the call and offer the main menu."""
    app_services, session = services(), db_session()
    with session.begin():
        call = record_call_started(
            session,
            call_sid=request.form["CallSid"],
            from_raw=request.form.get("From"),
            to_raw=request.form.get("To"),
            now=app_services.clock.now(),
            region=app_services.settings.default_region,
        )
        record_event(
            session,
            call,
            app_services.clock.now(),
            kind="ivr_step",
            node="welcome",
            idempotency_key=f"{call.call_sid}:incoming",
        )
    response = VoiceResponse()
    response.say("Welcome to Kirklees Council.", **ENGLISH)
    _main_menu(response)
    return twiml(response)


@voice_bp.post("/menu")
@twilio_webhook
def main_menu():
    digits = request.form.get("Digits", "")
    topic = MAIN_MENU_TOPICS.get(digits)
    response = VoiceResponse()
    if topic is None:
        response.say("Sorry, I didn't catch that.", **ENGLISH)
        _main_menu(response)
        return twiml(response)
    response.say("Thank you. Please hold for an adviser.", **ENGLISH)
    response.enqueue(topic.value)
    return twiml(response)


@voice_bp.post("/safe-choice")
@twilio_webhook
def safe_choice():
    """After an error: 1 books an as-soon-as-possible callback, anything else queues for an adviser."""
    app_services = services()
    response = VoiceResponse()
    number = to_e164(request.form.get("From"), app_services.settings.default_region)
    if request.form.get("Digits") == "1" and number:
        try:
            session = db_session()
            with session.begin():
                request_callback(session, number, Topic.GENERAL, now=app_services.clock.now())
        except Exception:
            # The database is what failed in the first place: queue them rather than loop back to the apology.
            log.exception("safe_choice.callback_not_saved", call_sid=request.form.get("CallSid"))
        else:
            response.say(
                "Thank you. An adviser will call you back as soon as possible. Goodbye.",
                **ENGLISH,
            )
            response.hangup()
            return twiml(response)
    response.say("Please hold for an adviser.", **ENGLISH)
    response.enqueue(SAFE_QUEUE_NAME)
    return twiml(response)
