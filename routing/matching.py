"""The matcher: give waiting callers to free advisers, then ask Twilio to connect them.

Runs as an RQ job (`match_waiting_callers`), triggered when a caller joins or an adviser becomes free, and
nudged on every hold round while callers wait (widening depends on time). The decision is the store's atomic
`try_assign`; this module records the offer in the database and makes the one Twilio request that starts it:
a live caller is taken out of Twilio's queue to a Dial of the adviser; a caller who kept their place for a
callback is served by ringing the adviser first (they then call the resident from routing/views.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    ACTIVE_CALLBACK_STATUSES,
    Adviser,
    AdviserState,
    Callback,
    QueueEntry,
    QueueEntryStatus,
)
from routing.advisers import end_overdue_wrap_ups
from routing.answering import dial_address
from routing.engine import Assignment
from routing.live import (
    MATCH_JOB,
    MATCH_PENDING_KEY,
    adviser_key,
    announce,
    entry_store_key,
    ready_store,
    waiting_caller,
)
from routing.queueing import end_entry, entry_by_key, library_name, record_adviser_state
from runtime.logging import get_logger
from runtime.services import Services
from runtime.worker import job_services
from telephony.gateway import TelephonyError

log = get_logger(__name__)

MAX_OFFERS_PER_RUN = 200
TICK_SECONDS = 15
TICK_KEY = "routing-tick-scheduled"
# An offer still unsettled this long after the adviser's phone stopped ringing lost its webhook somewhere.
STALE_OFFER_GRACE_SECONDS = 90


@dataclass(frozen=True)
class Offer:
    entry_id: int
    key: str
    topic: str
    call_sid: str | None  # None for a virtual (keep-your-place callback) entry
    adviser_address: str  # "client:<identity>" or an E.164 number, as the adviser answers (routing.answering)
    adviser_id: int


def match_waiting_callers() -> int:
    """RQ job: offer every caller who can be matched now; returns how many offers were made.

    While anyone waits it runs again every TICK_SECONDS, because widening opens with time, not only on events.
    """
    services = job_services()
    services.redis.delete(MATCH_PENDING_KEY)
    end_overdue_wrap_ups(services)  # wrap-ups whose timer job was lost with Redis
    reap_stale_offers(services)
    offers = match_now(services)
    schedule_tick(services)
    return offers


def schedule_tick(services: Services) -> None:
    with services.session_factory() as session:
        busy = bool(ready_store(services, session).queue_sizes()) or session.scalar(
            select(QueueEntry.id).where(QueueEntry.status == QueueEntryStatus.OFFERED).limit(1)
        )
    if busy and services.redis.set(TICK_KEY, "1", nx=True, ex=TICK_SECONDS):
        services.queue.enqueue_in(
            timedelta(seconds=TICK_SECONDS), MATCH_JOB, job_timeout=60, result_ttl=0, failure_ttl=3600
        )


def reap_stale_offers(services: Services) -> int:
    """Offers Twilio never settled (a lost webhook): free the adviser and give the caller their place back."""
    cutoff = services.clock.now() - timedelta(
        seconds=services.settings.adviser_ring_seconds + STALE_OFFER_GRACE_SECONDS
    )
    with services.session_factory() as session:
        stale = list(
            session.scalars(
                select(QueueEntry.id).where(
                    QueueEntry.status == QueueEntryStatus.OFFERED, QueueEntry.offered_at < cutoff
                )
            )
        )
    for entry_id in stale:
        log.warning("routing.stale_offer_reaped", entry_id=entry_id)
        withdraw_offer(services, entry_id, reason="offer never settled")
    return len(stale)


def match_now(services: Services) -> int:
    offers = 0
    while offers < MAX_OFFERS_PER_RUN:
        offer = _take_next(services)
        if offer is None:
            break
        offers += 1
        announce(services, "offer", offer.adviser_id, entry_id=offer.entry_id)  # the desk's screen pop
        if not start_offer(services, offer):
            break  # try again on the next trigger rather than spin on the same pair
    return offers


def _take_next(services: Services) -> Offer | None:
    """Reserve the next (caller, adviser) pair in the store and record the offer in the database."""
    now = services.clock.now()
    with services.session_factory.begin() as session:
        store = ready_store(services, session)
        while True:
            assignment = store.try_assign(now)
            if assignment is None:
                return None
            found = entry_by_key(session, assignment.call_sid)
            adviser = session.get(Adviser, int(assignment.adviser_id))
            if found is not None and not _still_wanted(session, found[0], now):
                found = None
            if found is None or adviser is None:
                # The store knew a caller the database has finished with (hung up a moment ago, or a
                # keep-your-place callback the resident cancelled by text).
                store.release_assignment(assignment.call_sid)
                if adviser is not None:
                    store.set_adviser_state(
                        assignment.adviser_id, AdviserState.AVAILABLE.value, now, "caller gone"
                    )
                log.warning("routing.stale_assignment", key=assignment.call_sid)
                continue
            entry, call = found
            entry.status, entry.adviser_id, entry.offered_at = QueueEntryStatus.OFFERED, adviser.id, now
            record_adviser_state(
                session, adviser, AdviserState.ON_CALL, now, _offer_reason(entry, assignment)
            )
            return Offer(
                entry_id=entry.id,
                key=assignment.call_sid,
                topic=entry.topic.value,
                call_sid=call.call_sid if call is not None else None,
                adviser_address=dial_address(adviser),
                adviser_id=adviser.id,
            )


def _still_wanted(session: Session, entry: QueueEntry, now: datetime) -> bool:
    """A virtual entry lives only while its callback does; a cancelled one leaves the queue here."""
    if entry.callback_id is None:
        return True
    callback = session.get(Callback, entry.callback_id)
    if callback is not None and callback.status in ACTIVE_CALLBACK_STATUSES:
        return True
    end_entry(entry, QueueEntryStatus.FAILED, now, "callback no longer active")
    return False


def _offer_reason(entry: QueueEntry, assignment: Assignment) -> str:
    return f"offered queue entry {entry.id} ({assignment.reason})"[:200]


def start_offer(services: Services, offer: Offer) -> bool:
    """Ask Twilio to connect the offer; if it can't, undo the offer so nobody is stuck."""
    base = (services.settings.public_base_url or "").rstrip("/")
    gateway = services.gateway
    try:
        if offer.call_sid is not None:
            gateway.dequeue_member(
                gateway.queue_sid(offer.topic),
                offer.call_sid,
                f"{base}/voice/queue/connect?entry={offer.entry_id}",
            )
        else:
            # A phone hears who and why and presses 1; the desk's screen pop shows them, so a browser's answer
            # is the acceptance and rings the resident at once.
            leg = "answered" if offer.adviser_address.startswith("client:") else "adviser"
            gateway.create_call(
                to=offer.adviser_address,
                url=f"{base}/voice/queue/callback/{leg}?entry={offer.entry_id}",
                status_callback=f"{base}/voice/queue/callback/adviser-status?entry={offer.entry_id}",
                timeout_seconds=services.settings.adviser_ring_seconds,
            )
    except TelephonyError as error:
        # 404: the caller is between queues (hearing a message before re-joining) or has just hung up; the
        # next hold round or the queue result settles which. Either way the offer is undone, not retried now.
        log.warning(
            "routing.offer_not_started", entry_id=offer.entry_id, status=error.status, code=error.code
        )
        withdraw_offer(services, offer.entry_id, reason="offer not started")
        return False
    return True


def withdraw_offer(services: Services, entry_id: int, reason: str) -> None:
    """Undo an offer Twilio could not start: the adviser is free again and the caller keeps their place."""
    now = services.clock.now()
    with services.session_factory.begin() as session:
        entry = session.get(QueueEntry, entry_id)
        if entry is None or entry.status != QueueEntryStatus.OFFERED or entry.adviser_id is None:
            return
        store = ready_store(services, session)
        key = entry_store_key(session, entry)
        adviser = session.get_one(Adviser, entry.adviser_id)
        store.release_assignment(key)
        store.set_adviser_state(adviser_key(adviser.id), AdviserState.AVAILABLE.value, now, reason)
        record_adviser_state(session, adviser, AdviserState.AVAILABLE, now, reason)
        if (
            entry.direct
        ):  # a desk call-back was only ever this adviser's: it ends, the dialler keeps the callback
            end_entry(entry, QueueEntryStatus.FAILED, now, reason)
            return
        entry.status, entry.adviser_id, entry.offered_at = QueueEntryStatus.WAITING, None, None
        store.add_waiting(
            waiting_caller(entry, None if key.startswith("callback-") else key, library_name(session, entry))
        )
