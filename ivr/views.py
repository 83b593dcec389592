"""Twilio voice webhooks for the menu. Views stay short: parse Twilio's fields, run a service step, render TwiML."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from flask import Blueprint, Response, request, url_for
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from callbacks import pending
from callbacks import prompts as callback_prompts
from callbacks.numbers import check_callback_number
from ivr import engine
from ivr.service import (
    LibraryHoursCache,
    MenuTurn,
    StepAlreadyTaken,
    continue_menu,
    last_reply,
    save_step,
    start_menu,
)
from ivr.texts import TextToCaller, text_caller_once
from ivr.twiml import render
from models import Topic
from routing.views import queue_urls
from runtime.logging import get_logger
from runtime.web import db_session, services
from telephony.numbers import to_e164
from telephony.webhooks import (
    ENGLISH,
    safe_queue,
    safe_twiml,
    twilio_hold_webhook,
    twilio_webhook,
    twiml,
    twiml_text,
)

log = get_logger(__name__)
voice_bp = Blueprint("voice", __name__, url_prefix="/voice")
library_hours = LibraryHoursCache()


IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
SAFE_CALLBACK_NOT_STORED = "Sorry, we couldn't book a call back just now."
SAFE_CALLBACK_NUMBER_UNUSABLE = "Sorry, we can't call you back on the number you're calling from."


def _reply(menu: MenuTurn | str) -> Response:
    """Render a step, carry out its handovers and save it with its TwiML (for Twilio's retries), all in the
    caller's transaction. Raises StepAlreadyTaken when a concurrent duplicate of the webhook saved first."""
    if isinstance(menu, str):
        return twiml_text(menu)
    menu = _send_texts(menu)
    response = render(menu.step.actions, url_for("voice.step", turn=menu.turn), _enqueue_urls)
    _carry_out(menu, response)
    reply = str(response)
    save_step(db_session(), menu, reply)
    return twiml_text(reply)


def _answer(take_step: Callable[[Session], MenuTurn | str], one_write: bool = False) -> Response:
    """Take a menu step in one transaction; if a duplicate won the race, roll back and answer what it did.

    `one_write`: the step reads the call once and saves with one statement that is atomic and guarded by
    itself (PostgreSQL), so it needs no transaction around it: autocommit saves the BEGIN and COMMIT round trips.
    """
    session = db_session()
    try:
        with session.begin():
            if one_write and session.get_bind().dialect.name == "postgresql":
                session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            return _reply(take_step(session))
    except StepAlreadyTaken:
        with session.begin():
            reply = last_reply(session, request.form["CallSid"])
        return twiml_text(reply) if reply else twiml(safe_twiml())


def _topic(value: str) -> Topic:
    return Topic(value) if value in Topic._value2member_map_ else Topic.GENERAL


def _enqueue_urls(action: engine.Enqueue) -> tuple[str, str]:
    return queue_urls(action.topic, action.language, action.priority, action.reasons)


def _carry_out(menu: MenuTurn, response: VoiceResponse) -> None:
    """Side effects of the step's handovers that need the database (rolled back if the step loses a race)."""
    for action in menu.step.actions:
        if isinstance(action, engine.OfferCallback):
            _book_callback(menu, action, response)


def _send_texts(menu: MenuTurn) -> MenuTurn:
    """Send the step's texts before its words are chosen, so the caller hears "we've sent you a text" only
    when the gateway accepted it. Once per step, whatever Twilio retries or races (see ivr.texts)."""
    texts = [action for action in menu.step.actions if isinstance(action, engine.SendSms)]
    if not texts:
        return menu
    app_services, call = services(), menu.call
    nodes = [event.node for event in menu.step.journey if event.outcome == "sms"]
    accepted = [
        text_caller_once(
            app_services.session_factory,
            app_services.gateway,
            TextToCaller(
                call.id,
                f"{call.call_sid}:{menu.turn}:sms:{index}",
                nodes[index] if index < len(nodes) else None,
                call.caller_number,
                action.text,
            ),
            app_services.clock.now(),
        )
        for index, action in enumerate(texts)
    ]
    return replace(menu, step=engine.after_texts(menu.step, accepted))


def _book_callback(menu: MenuTurn, action: engine.OfferCallback, response: VoiceResponse) -> None:
    """Hand the caller to the callback dialogue (callbacks/views.py): it agrees a number and a time, then books."""
    response.redirect(url_for("callback.start", topic=_topic(action.topic).value, language=action.language))


@voice_bp.post("/incoming")
@twilio_webhook
def incoming() -> Response:
    """A resident rings the council: record the call and present the first prompt of the published flow."""
    app_services = services()
    draft = request.args.get("flow_version", type=int) if app_services.settings.simulator_enabled else None
    return _answer(
        lambda session: start_menu(
            session,
            request.form["CallSid"],
            request.form.get("From"),
            request.form.get("To"),
            app_services.clock.now(),
            app_services.settings.default_region,
            library_hours,
            draft_version_id=draft,
        )
    )


@voice_bp.post("/step")
@twilio_webhook
def step() -> Response:
    """The caller pressed keys, spoke, or stayed silent at a prompt."""
    app_services = services()
    return _answer(
        lambda session: continue_menu(
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
        ),
        one_write=True,
    )


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
    return _safe_choice(held=False)


@voice_bp.post("/safe-choice/held")
@twilio_hold_webhook
def safe_hold_choice() -> Response:
    """The same choice for a caller on hold (a Gather in a waitUrl): they stay in Twilio's queue meanwhile."""
    return _safe_choice(held=True)


def _safe_choice(held: bool) -> Response:
    """Book the callback only once it is stored somewhere that lasts (callbacks/fallback.py), then say so;
    otherwise, and for any other key, the caller stays with (or joins) the queue routing knows about."""
    app_services = services()
    response = VoiceResponse()
    if request.form.get("Digits") == "1":
        number = check_callback_number(
            to_e164(request.form.get("From"), app_services.settings.default_region),
            app_services.settings.default_region,
        ).number
        request_kept = pending.PendingRequest(
            call_sid=request.form["CallSid"],
            number=number or "",
            topic=Topic.GENERAL.value,
            language="en-GB",
            requested_at=app_services.clock.now(),
        )
        stored = pending.keep_request(app_services, request_kept) if number else None
        if stored is not None:
            log.info("safe_choice.callback_kept", call_sid=request_kept.call_sid, kept_in=stored)
            words, _ = callback_prompts.text(callback_prompts.BOOKED, "en-GB")
            response.say(words, **ENGLISH)
            response.hangup()
            return twiml(response)
        response.say(SAFE_CALLBACK_NOT_STORED if number else SAFE_CALLBACK_NUMBER_UNUSABLE, **ENGLISH)
    if held:
        response.say("Please keep holding for an adviser.", **ENGLISH)
    else:
        response.say("Please hold for an adviser.", **ENGLISH)
        safe_queue(response)
    return twiml(response)
