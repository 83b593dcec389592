"""Texting a caller from the menu while they wait on the line: once per call step, before the menu says so.

What the caller hears depends on the answer ("We've sent you a text" only when the gateway accepted it), so the
text is sent inside the webhook, with the gateway's short caller-waiting timeout. Twilio may retry the webhook
(say after our answer was lost) or two copies may race: a journey event keyed by (CallSid, turn, text) is
claimed first, in its own committed transaction, so only one copy ever sends; the others, or a later retry,
read its outcome instead. The event is also the record that the text went (or why not).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from ivr.calls import claim_event, event_outcome, settle_event
from runtime.logging import get_logger
from telephony.gateway import CALLER_WAITING_TIMEOUT_SECONDS, TelephonyError, TelephonyGateway

log = get_logger(__name__)

EVENT_KIND = "menu_sms"
SENDING, SENT, NOT_SENT = "sending", "sent", "not_sent"
# A copy that lost the claim waits for the winner's answer: the gateway's timeout plus the two short writes.
WAIT_FOR_CLAIM_SECONDS = CALLER_WAITING_TIMEOUT_SECONDS + 2.0
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class TextToCaller:
    call_id: int
    key: str  # unique per call step and text: "<CallSid>:<turn>:sms:<index>"
    node: str | None  # the flow's send_sms node, for the journey
    number: str | None  # E.164; None when the caller's number is withheld
    body: str


def text_caller_once(
    session_factory: sessionmaker[Session], gateway: TelephonyGateway, text: TextToCaller, now: datetime
) -> bool:
    """Send `text` unless this step already did; True when the gateway accepted it (now or the first time)."""
    if not text.number:
        return False
    row = {
        "call_id": text.call_id,
        "occurred_at": now,
        "duration_ms": None,
        "kind": EVENT_KIND,
        "node": text.node,
        "caller_input": None,
        "outcome": SENDING,
        "idempotency_key": text.key,
        "detail": {},
    }
    with session_factory.begin() as session:
        claimed = claim_event(session, row)
    if not claimed:
        return _outcome_of_the_claim(session_factory, text.key) == SENT
    try:
        message_sid = gateway.send_sms(text.number, text.body, caller_waiting=True)
    except TelephonyError as error:
        outcome, detail = NOT_SENT, {"status": error.status, "code": error.code}
        log.warning("menu_sms.not_sent", call_id=text.call_id, status=error.status, code=error.code)
    else:
        outcome, detail = SENT, {"message_sid": message_sid}
        log.info("menu_sms.sent", call_id=text.call_id, message_sid=message_sid)
    with session_factory.begin() as session:
        settle_event(session, text.key, outcome, detail)
    return outcome == SENT


def _outcome_of_the_claim(session_factory: sessionmaker[Session], key: str) -> str | None:
    """What the copy that claimed this text recorded, waiting while it is still sending."""
    deadline = time.monotonic() + WAIT_FOR_CLAIM_SECONDS
    while True:
        with session_factory() as session:
            outcome = event_outcome(session, key)
        if outcome != SENDING or time.monotonic() >= deadline:
            # Still "sending" this late: its worker died mid-send. We can't confirm it went, so we don't say so.
            return outcome
        time.sleep(POLL_SECONDS)
