"""Queue webhooks: what a waiting caller hears (Enqueue waitUrl) and how their wait ended (Enqueue action)."""

from __future__ import annotations

from flask import Blueprint, Response, request
from sqlalchemy import select
from twilio.twiml.voice_response import VoiceResponse

from ivr.calls import record_event
from models import Call, CallOutcome
from runtime.web import db_session, services
from telephony.webhooks import ENGLISH, safe_twiml, twilio_webhook, twiml

queue_bp = Blueprint("queue", __name__, url_prefix="/voice/queue")

HOLD_SECONDS = 30
# Twilio's QueueResult values after the wait ends; see the Enqueue verb's action parameter.
ABANDONED_RESULTS = {"hangup"}
FAILED_RESULTS = {"queue-full", "system-error", "error"}


def _position_phrase(position: str | None) -> str:
    if position and position.isdigit() and int(position) > 0:
        return (
            "You are next in the queue."
            if position == "1"
            else f"You are number {int(position)} in the queue."
        )
    return "You are in the queue."


@queue_bp.post("/wait")
@twilio_webhook
def wait() -> Response:
    """Played on a loop while the caller waits: their position, then a short pause (Twilio re-requests it)."""
    response = VoiceResponse()
    response.say(f"{_position_phrase(request.form.get('QueuePosition'))} Thank you for waiting.", **ENGLISH)
    response.pause(length=HOLD_SECONDS)
    return twiml(response)


@queue_bp.post("/result")
@twilio_webhook
def result() -> Response:
    """The wait is over: record how it ended; a queue failure still gets the caller to a person."""
    queue_result = request.form.get("QueueResult", "")
    app_services, session = services(), db_session()
    with session.begin():
        call = session.scalar(select(Call).where(Call.call_sid == request.form.get("CallSid", "")))
        if call is not None:
            record_event(
                session,
                call,
                app_services.clock.now(),
                kind="queue_event",
                outcome=queue_result or "unknown",
                detail={"queue_time": request.form.get("QueueTime")},
                idempotency_key=f"{call.call_sid}:queue-result:{queue_result}",
            )
            if queue_result in ABANDONED_RESULTS and call.outcome == CallOutcome.IN_PROGRESS:
                call.outcome = CallOutcome.ABANDONED
                call.ended_at = app_services.clock.now()
            elif queue_result == "bridged":
                call.outcome = CallOutcome.ANSWERED
    if queue_result in FAILED_RESULTS:
        return twiml(safe_twiml())
    return twiml(VoiceResponse())
