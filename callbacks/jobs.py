"""RQ jobs of the callback lifecycle. They take ids, build nothing themselves, and are safe to run twice:
each one re-reads the Callback row and changes it only through callbacks.lifecycle's conditional updates."""

from __future__ import annotations

from callbacks import lifecycle, pending
from runtime.worker import job_services


def dial_callback(callback_id: int, attempt: int) -> str:
    """Dial attempt `attempt` of a callback if it is still due and nobody else has claimed it."""
    return lifecycle.dial_callback(job_services(), callback_id, attempt)


def reconcile_callbacks() -> dict[str, int]:
    """Periodic: move callback requests kept outside the database (it was away) into it, re-enqueue due dials RQ
    lost, settle stale claims, send texts not yet sent; schedules itself."""
    services = job_services()
    lifecycle.keep_reconciling(services)  # first: the chain must go on even if the database is still away
    pending.move_pending_requests(services)
    report = lifecycle.reconcile(services)
    return {
        "dials_enqueued": report.dials_enqueued,
        "stale_claims": report.stale_claims,
        "texts_enqueued": report.texts_enqueued,
    }


def send_callback_sms(callback_id: int, kind: str) -> str | None:
    """Send a callback's confirmation, reminder or final text (at most once each)."""
    return lifecycle.send_callback_sms(job_services(), callback_id, kind)
