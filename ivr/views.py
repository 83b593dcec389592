"""Twilio voice webhooks for the menu. Views stay short: parse Twilio's fields, run a service step, render TwiML."""

from __future__ import annotations

from flask import Blueprint, Response, request, url_for
from twilio.twiml.voice_response import VoiceResponse

from callbacks import prompts as callback_prompts
from callbacks.service import request_callback
from ivr import engine
from ivr.service import LibraryHoursCache, MenuTurn, continue_menu, start_menu
from ivr.twiml import render
from models import Topic
from runtime.logging import get_logger
from runtime.web import db_session, services
from telephony.numbers import to_e164
from telephony.webhooks import ENGLISH, SAFE_QUEUE_NAME, safe_twiml, twilio_webhook, twiml, twiml_text

log = get_logger(__name__)
voice_bp = Blueprint("voice", __name__, url_prefix="/voice")
library_hours = LibraryHoursCache()


IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"


def _reply(menu: MenuTurn | str) -> Response:
    """Render a step and keep its TwiML on the call, in the same transaction, for Twilio's retries."""
    if isinstance(menu, str):
        return twiml_text(menu)
    response = render(menu.step.actions, url_for("voice.step", turn=menu.turn), _enqueue_urls)
    _carry_out(menu, response)
    menu.call.ivr_last_reply = str(response)
    return twiml(response)


def _topic(value: str) -> Topic:
    return Topic(value) if value in Topic._value2member_map_ else Topic.GENERAL


def _enqueue_urls(action: engine.Enqueue) -> tuple[str, str]:
    return url_for("queue.wait", topic=action.topic), url_for("queue.result")


def _carry_out(menu: MenuTurn, response: VoiceResponse) -> None:
    """Side effects of the step's handovers that need the database or Twilio's REST API."""
    app_services, call = services(), menu.call
    for action in menu.step.actions:
        if isinstance(action, engine.SendSms):
            app_services.queue.enqueue(
                "telephony.jobs.send_caller_sms",
                call.id,
                action.text,
                job_id=f"sms-{call.call_sid}-{menu.turn}",
            )
        elif isinstance(action, engine.OfferCallback):
            _book_callback(menu, action, response)


def _book_callback(menu: MenuTurn, action: engine.OfferCallback, response: VoiceResponse) -> None:
    call, session = menu.call, db_session()
    if call.caller_number is None:
        words, language = callback_prompts.text(callback_prompts.NEED_NUMBER, action.language)
        response.say(words, language=language)
        response.enqueue(SAFE_QUEUE_NAME)
        return
    result = request_callback(
        session,
        call.caller_number,
        _topic(action.topic),
        services().clock.now(),
        language=action.language,
        reference=call.reference,
        call_id=call.id,
    )
    table = callback_prompts.BOOKED if result.created else callback_prompts.UPDATED
    words, language = callback_prompts.text(table, action.language)
    response.say(words, language=language)
    response.hangup()


@voice_bp.post("/incoming")
@twilio_webhook
def incoming() -> Response:
    """A resident rings the council: record the call and present the first prompt of the published flow."""
    app_services, session = services(), db_session()
    draft = request.args.get("flow_version", type=int) if app_services.settings.simulator_enabled else None
    with session.begin():
        menu = start_menu(
            session,
            request.form["CallSid"],
            request.form.get("From"),
            request.form.get("To"),
            app_services.clock.now(),
            app_services.settings.default_region,
            library_hours,
            draft_version_id=draft,
        )
        return _reply(menu)


@voice_bp.post("/step")
@twilio_webhook
def step() -> Response:
    """The caller pressed keys, spoke, or stayed silent at a prompt."""
    app_services, session = services(), db_session()
    with session.begin():
        menu = continue_menu(
            session,
            request.form["CallSid"],
            request.form.get("From"),
            request.form.get("To"),
            request.args.get("turn", type=int),
            request.headers.get(IDEMPOTENCY_HEADER),
            engine.CallerInput.from_twilio(request.form),
            app_services.clock.now(),
            app_services.settings.default_region,
            library_hours,
        )
        return _reply(menu)


@voice_bp.post("/fallback")
@twilio_webhook
def fallback() -> Response:
    """Twilio's fallbackUrl: our primary answer failed or timed out; apologise and offer a person or a callback."""
    log.error(
        "voice.fallback_used",
        call_sid=request.form.get("CallSid"),
        error_code=request.form.get("ErrorCode"),
        error_url=request.form.get("ErrorUrl"),
    )
    return twiml(safe_twiml())


@voice_bp.post("/safe-choice")
@twilio_webhook
def safe_choice() -> Response:
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
            words, _ = callback_prompts.text(callback_prompts.BOOKED, "en-GB")
            response.say(words, **ENGLISH)
            response.hangup()
            return twiml(response)
    response.say("Please hold for an adviser.", **ENGLISH)
    response.enqueue(SAFE_QUEUE_NAME)
    return twiml(response)
