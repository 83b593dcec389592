"""The adviser-first legs of a callback: a kept place reached the front of the queue, or an adviser pressed
"call now" on their desk.

The adviser is rung first (routing.matching starts the leg by REST, to /adviser for a phone, /answered for a
browser). A phone adviser hears who and why and presses 1; a browser adviser has seen all of it on the desk's
screen pop, so answering is accepting. Then the
resident is rung from the council's number, through the dialler's own claim guard
(callbacks.lifecycle.claim_for_adviser): if the dialler or another adviser is ringing them already, nobody rings
them twice. The Dial's result settles the attempt as the dialler's are: answered → connected (and a wrap-up for
the adviser); not answered → retried by the callback lifecycle.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, request, url_for
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from callbacks.lifecycle import (
    carry_out,
    claim_for_adviser,
    connect_attempt,
    settle_attempt,
)
from models import Adviser, Callback, CallbackAttempt, QueueEntry, QueueEntryStatus
from routing import prompts
from routing.advisers import finish_call
from routing.live import announce, entry_store_key, ready_store, request_matching
from routing.queueing import end_entry
from routing.views import CONNECTED_DIAL_STATUSES, FINAL_CALL_STATUSES, _offered_entry, missed_offer
from routing.wrap_up import start_wrap_up
from runtime.logging import get_logger
from runtime.web import db_session, services
from telephony.webhooks import twilio_adviser_webhook, twilio_webhook, twiml

log = get_logger(__name__)
callback_leg_bp = Blueprint("callback_leg", __name__, url_prefix="/voice/queue/callback")

WHISPER_TIMEOUT_SECONDS = 8
RESIDENT_RING_SECONDS = 30


@callback_leg_bp.post("/adviser")
@twilio_adviser_webhook
def adviser_answered() -> Response:
    """A phone adviser picked up: who and why, then 1 rings the resident."""
    app_services, session = services(), db_session()
    response = VoiceResponse()
    with session.begin():
        found = _offered_entry(session)
        callback = session.get(Callback, found[0].callback_id) if found and found[0].callback_id else None
        if found is None or callback is None or found[0].status != QueueEntryStatus.OFFERED:
            return twiml(_offer_gone(response))
        entry = found[0]
        waited = int((app_services.clock.now() - entry.joined_at).total_seconds())
        gather = response.gather(
            num_digits=1, timeout=WHISPER_TIMEOUT_SECONDS, action=url_for("callback_leg.dial", entry=entry.id)
        )
        prompts.say_to_adviser(
            gather,
            prompts.whisper(entry.topic.value, entry.language, callback.reference, waited, callback=True),
        )
        prompts.say_to_adviser(response, "not_accepted")
        response.hangup()
    return twiml(response)


@callback_leg_bp.post("/answered")
@twilio_adviser_webhook
def browser_answered() -> Response:
    """A browser adviser answered: the desk's screen pop showed who and why, so answering is accepting."""
    app_services, session = services(), db_session()
    with session.begin():
        found = _offered_entry(session)
        if found is None or found[0].callback_id is None:
            return twiml(_offer_gone(VoiceResponse()))
        return twiml(_ring_resident(session, found[0], found[1], app_services.clock.now()))


@callback_leg_bp.post("/dial")
@twilio_adviser_webhook
def dial() -> Response:
    """The phone adviser pressed 1 after hearing who and why: ring the resident."""
    app_services, session = services(), db_session()
    with session.begin():
        found = _offered_entry(session)
        if request.form.get("Digits") != "1" or found is None or found[0].callback_id is None:
            response = VoiceResponse()
            response.hangup()
            return twiml(response)
        return twiml(_ring_resident(session, found[0], found[1], app_services.clock.now()))


def _ring_resident(session: Session, entry: QueueEntry, adviser: Adviser, now: datetime) -> VoiceResponse:
    """Claim the resident's next attempt for this adviser and dial them; a retried webhook dials the same one."""
    response = VoiceResponse()
    attempt = _current_attempt(session, entry)
    if entry.status == QueueEntryStatus.CONNECTED and attempt is not None:
        return _dial_resident(response, entry, attempt.id, attempt.callback.number)
    if entry.status != QueueEntryStatus.OFFERED or entry.callback_id is None:
        return _offer_gone(response)
    app_services = services()
    store = ready_store(app_services, session)
    store.release_assignment(entry_store_key(session, entry))
    claim = claim_for_adviser(session, entry.callback_id, adviser.id, now)
    if claim is None:
        # The dialler (or another adviser) is ringing them already, or the callback is over: not twice.
        end_entry(entry, QueueEntryStatus.FAILED, now, "resident already being called")
        finish_call(app_services, session, adviser.id, talked=False)
        prompts.say_to_adviser(response, "resident_already_called")
        response.hangup()
        return response
    entry.status, entry.connected_at = QueueEntryStatus.CONNECTED, now
    return _dial_resident(response, entry, claim.attempt_id, claim.number)


def _dial_resident(response: VoiceResponse, entry: QueueEntry, attempt_id: int, number: str) -> VoiceResponse:
    prompts.say_to_adviser(response, "calling_resident")
    dial_verb = response.dial(
        caller_id=services().settings.twilio_phone_number,
        action=url_for("callback_leg.dial_result", entry=entry.id, attempt=attempt_id),
        timeout=RESIDENT_RING_SECONDS,
    )
    dial_verb.number(number)
    return response


def _current_attempt(session: Session, entry: QueueEntry) -> CallbackAttempt | None:
    attempt = session.get(CallbackAttempt, request.args.get("attempt", type=int) or 0)
    if attempt is not None and attempt.callback_id == entry.callback_id:
        return attempt
    callback = session.get(Callback, entry.callback_id or 0)
    if callback is None:
        return None
    return next((a for a in callback.attempt_records if a.number == callback.attempts), None)


@callback_leg_bp.post("/dial-result")
@twilio_adviser_webhook
def dial_result() -> Response:
    """The resident's leg ended: answered → the callback is done and the adviser wraps up; not → retried."""
    app_services, session = services(), db_session()
    now, settings = app_services.clock.now(), app_services.settings
    status = (request.form.get("DialCallStatus") or "")[:32]
    follow_up = None
    response = VoiceResponse()
    with session.begin():
        found = _offered_entry(session)
        attempt = _current_attempt(session, found[0]) if found else None
        if found is not None and attempt is not None and attempt.ended_at is None:
            entry, adviser = found
            talked = status in CONNECTED_DIAL_STATUSES
            if talked:
                connect_attempt(session, attempt.id, request.form.get("DialCallSid"), now)
                end_entry(entry, QueueEntryStatus.CONNECTED, now, "callback connected")
                start_wrap_up(session, entry, now)
            else:
                result = status if status in FINAL_CALL_STATUSES else "failed"
                follow_up = settle_attempt(session, attempt.id, result, now, settings.callback_max_attempts)
                end_entry(entry, QueueEntryStatus.FAILED, now, f"resident {result}")
            finish_call(app_services, session, adviser.id, talked=talked)
            adviser_id = adviser.id
        else:
            adviser_id = None
    carry_out(app_services, follow_up)
    if adviser_id is not None:
        announce(app_services, "callbacks", adviser_id)
    prompts.say_to_adviser(response, "adviser_done")
    response.hangup()
    return twiml(response)


@callback_leg_bp.post("/adviser-status")
@twilio_webhook
def adviser_status() -> Response:
    """Status of the adviser's leg: not answered → the adviser is paused; the resident keeps their place (a kept
    place) or stays with the dialler (a desk call-back)."""
    app_services, session = services(), db_session()
    now = app_services.clock.now()
    call_status = request.form.get("CallStatus", "")
    rematch = False
    with session.begin():
        found = _offered_entry(session)
        if (
            found is not None
            and found[0].status == QueueEntryStatus.OFFERED
            and call_status in FINAL_CALL_STATUSES
        ):
            missed_offer(session, found[0], found[1], now, call_status)
            rematch = True
    if rematch:
        request_matching(app_services)
    return twiml(VoiceResponse())


def _offer_gone(response: VoiceResponse) -> VoiceResponse:
    prompts.say_to_adviser(response, "offer_gone")
    response.hangup()
    return response
