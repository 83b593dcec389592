"""RQ jobs that talk to Twilio. They take ids, open their own session, and are safe to run twice."""

from __future__ import annotations

from models import Call
from runtime.logging import get_logger
from runtime.worker import job_services

log = get_logger(__name__)


def send_caller_sms(call_id: int, body: str) -> str | None:
    """Text the resident on the number they called from (the menu's "send SMS link" step).

    Nothing enqueues this any more: the menu now texts inside its webhook, so it can say whether the text went
    (ivr.texts). It stays for one release so jobs queued by the previous one still run after a deploy.
    """
    services = job_services()
    with services.session_factory() as session:
        call = session.get(Call, call_id)
        number = call.caller_number if call else None
    if not number:
        log.info("sms.skipped_no_number", call_id=call_id)
        return None
    sid = services.gateway.send_sms(number, body)
    log.info("sms.sent", call_id=call_id, message_sid=sid)
    return sid
