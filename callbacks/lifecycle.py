"""The life of a booked callback: scheduled → dialling → connected, or retried, failed or cancelled.

The Callback row is the truth and RQ only does the timing, so nothing depends on a job surviving: the reconciler
re-derives every job from the database. Each change of state is one conditional UPDATE, so two workers, a
replayed webhook or the reconciler racing a slow worker change a row at most once:

- claim: `scheduled` with `attempts = n - 1` and due → `dialling`, `attempts = n`, plus the CallbackAttempt row
  (unique per callback and number: attempt n is dialled at most once, whoever claims it);
- settle: an attempt whose `ended_at` is NULL gets its result; the callback, if still dialling that attempt,
  moves on (retry inside opening hours, or `failed` and a final SMS).

RQ's scheduler keeps due times as whole seconds (truncated) and moves due jobs about once a second, so a dial job
is scheduled a little before the second its callback is due in and then waits for the exact instant on the
injected clock: dials start punctually and never early. Whoever wakes, the claim alone decides who dials.
"""

from __future__ import annotations

import os
import socket
import time as system_time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from redis.exceptions import RedisError
from rq.job import Job, JobStatus
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from callbacks import sms
from ivr.calls import record_call_started
from ivr.hours import LONDON, HoursError, LibraryHours, closure_of, next_opening, parse_library_hours
from models import (
    ACTIVE_CALLBACK_STATUSES,
    ACTIVE_QUEUE_ENTRY_STATUSES,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    InboundMessage,
    Library,
    QueueEntry,
)
from routing.live import announce
from routing.queueing import home_library_for
from runtime.clock import Clock
from runtime.logging import get_logger
from runtime.services import Services
from telephony.gateway import TelephonyError

log = get_logger(__name__)

DIAL_JOB = "callbacks.jobs.dial_callback"
SMS_JOB = "callbacks.jobs.send_callback_sms"
RECONCILE_JOB = "callbacks.jobs.reconcile_callbacks"

# After the 1st failed dial wait 15 minutes, after the 2nd an hour, after later ones until the next opening day.
RETRY_DELAYS = (timedelta(minutes=15), timedelta(hours=1))
RING_SECONDS = 30
REMINDER_BEFORE = timedelta(hours=1)
# A slot booked less than this far ahead gets no reminder: the confirmation has only just arrived.
REMINDER_MIN_NOTICE = timedelta(hours=2)
# A reminder job that runs this much before its time belongs to a slot that has since moved.
REMINDER_EARLY_TOLERANCE = timedelta(minutes=1)
# Missed confirmations and final texts older than this are not sent late.
SMS_CATCH_UP = timedelta(days=1)
RECONCILE_BATCH = 1000
STALE_BATCH = 100
# Twilio's clock and ours may differ a little when matching calls it created to a claim.
CLOCK_MARGIN = timedelta(seconds=5)
# RQ truncates schedule times to the second and its scheduler polls every second: a dial job is scheduled this
# much before the second it is due in, so it is on the queue before its due time and can wait for the instant.
DIAL_LEAD = timedelta(seconds=1)
# A dial job that wakes further ahead than this does not hold its worker: it asks RQ again for the due time.
MAX_DIAL_WAIT = timedelta(seconds=5)
# A dial job RQ still calls "started" while its callback has been due this long died with its worker: a healthy
# one sleeps until the due instant and claims within moments of it. The sweep replaces it; if the worker was only
# slow after all, the claim still lets just one of the two jobs dial.
DIAL_JOB_DEAD_AFTER = timedelta(seconds=3)
# How often each worker sweeps for dials RQ lost or stalled (one worker per sweep does the work).
DIAL_SWEEP_SECONDS = 0.5
# Each reconcile marks Redis with this key; a Redis without it lost what RQ held (reconcile_if_forgotten).
RECONCILED_KEY = "callbacks:reconciled"
# A callback a supervisor gave to one adviser waits this long past its due time for that adviser to be free
# (off their call, out of wrap-up); then, or at once if they are offline, on a break or with a customer, the
# dialler rings the resident and anyone with the skill takes them.
ASSIGNED_ADVISER_WAIT = timedelta(minutes=2)
# While waiting, how often the dialler looks again (and, after ringing them, whether they answered).
ASSIGNED_ADVISER_RECHECK = timedelta(seconds=5)
SHORTEST_SLEEP = 0.001  # seconds: a clock that lags the sleeps is not polled in a tight loop

FINAL_CALL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
MACHINE_ANSWERS = frozenset(
    {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
)
CONNECTED = "connected"  # a person answered and was put through to the queue
COMPLETED = "completed"  # ... and the call has since ended
MACHINE = "machine"
NOT_DIALLED = "not_dialled"  # the worker died before Twilio created the call: the resident was never rung
SMS_KINDS = ("confirmation", "reminder", "final")
IN_FLIGHT = frozenset({JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED})
WAITING_OR_IN_FLIGHT = IN_FLIGHT | {JobStatus.SCHEDULED}

# Used when no library offering phone support has readable hours; matches the shipped menu's service hours.
DEFAULT_SERVICE_HOURS = parse_library_hours(
    "service hours", {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
)


# --- timing policy (pure) ------------------------------------------------------------------------------------


def whole_second(moment: datetime) -> datetime:
    """Round up to the next whole second: RQ truncates schedule times, and early is worse than a moment late."""
    if moment.microsecond == 0:
        return moment
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def dial_job_time(due: datetime) -> datetime:
    """When RQ should start a dial job due at `due`: DIAL_LEAD before its second (the job waits for `due`)."""
    return due.replace(microsecond=0) - DIAL_LEAD


def wait_until(
    clock: Clock,
    due: datetime,
    sleep: Callable[[float], None],
    longest: timedelta = MAX_DIAL_WAIT,
) -> bool:
    """Sleep until `clock` reads `due` or later; False, without waiting, if that is more than `longest` away.

    The clock is read again after every sleep, so True never comes early. A clock that does not follow real
    time (the simulator's) gives up after `longest` of sleeping in all.
    """
    slept = 0.0
    while (remaining := (due - clock.now()).total_seconds()) > 0:
        if slept + remaining > longest.total_seconds():
            return False
        step = max(remaining, SHORTEST_SLEEP)
        sleep(step)
        slept += step
    return True


def service_opens(moment: datetime, hours: Sequence[LibraryHours]) -> datetime | None:
    """The earliest time at or after `moment` when any hub is open (the phone service is), or None."""
    openings = [
        found
        for library in hours
        if (found := next_opening(moment, library.opening_hours, library.closures)) is not None
    ]
    return min(openings).astimezone(UTC) if openings else None


def retry_time(failed_dials: int, now: datetime, hours: Sequence[LibraryHours]) -> datetime | None:
    """When to dial again after `failed_dials` unanswered dials, always inside opening hours (None: never)."""
    if failed_dials <= len(RETRY_DELAYS):
        earliest = now + RETRY_DELAYS[failed_dials - 1]
    else:
        tomorrow = now.astimezone(LONDON).date() + timedelta(days=1)
        earliest = datetime.combine(tomorrow, time(0), tzinfo=LONDON)
    opens = service_opens(earliest, hours)
    return whole_second(opens) if opens is not None else None


def attempt_result(call_status: str, answered_by: str | None, noted: str | None) -> str:
    """How a dial ended, from Twilio's final CallStatus and what the answer webhook noted on the attempt."""
    if noted == MACHINE or (answered_by or "") in MACHINE_ANSWERS:
        return MACHINE
    if call_status == "completed":
        # Answered, but our answer webhook never put them through (it failed): the resident was not helped.
        return COMPLETED if noted == CONNECTED else "failed"
    return call_status


def dial_job_id(callback_id: int, attempt: int) -> str:
    return f"callback-{callback_id}-attempt-{attempt}"


def sms_job_id(callback_id: int, kind: str) -> str:
    return f"callback-{callback_id}-{kind}"


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def public_base(services: Services) -> str:
    return (services.settings.public_base_url or "").rstrip("/")


def phone_service_hours(session: Session) -> list[LibraryHours]:
    """Opening hours of every hub offering phone support (unreadable ones skipped), else the default hours."""
    query = select(Library).where(Library.offers_phone_support).options(selectinload(Library.closures))
    hours = []
    for library in session.scalars(query):
        closures = [closure_of(c) for c in library.closures]
        try:
            hours.append(parse_library_hours(library.name, library.opening_hours, closures))
        except HoursError:
            log.warning("callback.library_hours_unreadable", library_id=library.id)
    return hours or [DEFAULT_SERVICE_HOURS]


# --- scheduling (RQ does the timing) -------------------------------------------------------------------------


def _job_status(services: Services, job_id: str) -> JobStatus | None:
    job = Job.fetch_many([job_id], connection=services.redis)[0]
    return job.get_status(refresh=False) if job is not None else None


def _enqueue(
    services: Services, job_id: str, due: datetime, now: datetime, function: str, *args: object
) -> None:
    """Queue `function(*args)` as `job_id` now if due, else at `due`; re-using the id never doubles the job.

    A dial job is queued DIAL_LEAD early (see dial_job_time) and waits for `due` itself; texts are not that urgent.
    """
    start_at = dial_job_time(due) if function == DIAL_JOB else whole_second(due)
    if start_at <= now:
        services.queue.enqueue(function, *args, job_id=job_id)
    else:
        services.queue.enqueue_at(start_at, function, *args, job_id=job_id)


def schedule_callback(services: Services, callback_id: int) -> str | None:
    """Make RQ dial a scheduled callback's next attempt at `next_attempt_at`; returns the dial job id.

    Call after committing a booking (or a retry). Idempotent: the job id is per (callback, attempt), so calling
    it again moves the same job rather than adding one. Also queues the booking confirmation and the reminder.
    """
    now = services.clock.now()
    with services.session_factory() as session:
        callback = session.get(Callback, callback_id)
        if (
            callback is None
            or callback.status != CallbackStatus.SCHEDULED
            or callback.next_attempt_at is None
        ):
            return None
        attempt, due = callback.attempts + 1, callback.next_attempt_at
        wants_confirmation = callback.confirmation_sent_at is None and not callback.keeps_place
        reminder_at = _reminder_time(callback)
    if wants_confirmation:
        _enqueue_sms(services, callback_id, "confirmation", now, now)
    job_id = dial_job_id(callback_id, attempt)
    if _job_status(services, job_id) not in IN_FLIGHT:
        _enqueue(services, job_id, due, now, DIAL_JOB, callback_id, attempt)
    if reminder_at is not None and reminder_at > now:
        _enqueue_sms(services, callback_id, "reminder", reminder_at, now)
    announce(services, "callbacks")  # the wallboard's callbacks due (booked, or moved to a later attempt)
    return job_id


def _reminder_time(callback: Callback) -> datetime | None:
    if callback.slot_starts_at is None or callback.reminder_sent_at is not None:
        return None
    if callback.slot_starts_at - callback.created_at < REMINDER_MIN_NOTICE:
        return None
    return callback.slot_starts_at - REMINDER_BEFORE


def _enqueue_sms(services: Services, callback_id: int, kind: str, due: datetime, now: datetime) -> None:
    job_id = sms_job_id(callback_id, kind)
    if _job_status(services, job_id) not in IN_FLIGHT:
        _enqueue(services, job_id, due, now, SMS_JOB, callback_id, kind)


def keep_reconciling(services: Services) -> str:
    """Make sure a reconciler run is scheduled for the next interval boundary; returns its job id.

    One id per boundary, so every worker asking for it gets the same job; called by each reconciler run and by
    the worker's maintenance round (which survives a flushed Redis, unlike a chain of scheduled jobs).
    """
    interval = max(1, services.settings.callback_reconcile_seconds)
    next_run = (int(services.clock.now().timestamp()) // interval + 1) * interval
    job_id = f"callbacks-reconcile-{next_run}"
    if _job_status(services, job_id) is None:
        services.queue.enqueue_at(
            datetime.fromtimestamp(next_run, UTC), RECONCILE_JOB, job_id=job_id, result_ttl=interval * 4
        )
    return job_id


# --- claim and dial ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    callback_id: int
    attempt_id: int
    attempt: int
    number: str


def claim_attempt(
    session: Session, callback_id: int, attempt: int, now: datetime, claimed_by: str
) -> Claim | None:
    """Take attempt `attempt` of a due callback for this worker, or None if it is not (or no longer) ours."""
    claimed = session.execute(
        update(Callback)
        .where(
            Callback.id == callback_id,
            Callback.status == CallbackStatus.SCHEDULED,
            Callback.attempts == attempt - 1,
            Callback.next_attempt_at <= now,
        )
        .values(status=CallbackStatus.DIALLING, attempts=Callback.attempts + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return None
    number = session.scalars(select(Callback.number).where(Callback.id == callback_id)).one()
    record = CallbackAttempt(callback_id=callback_id, number=attempt, claimed_at=now, claimed_by=claimed_by)
    session.add(record)
    session.flush()  # the unique (callback, number) refuses a second row for this attempt, rolling back the claim
    return Claim(callback_id, record.id, attempt, number)


ADVISER_CLAIMABLE = (CallbackStatus.REQUESTED, CallbackStatus.SCHEDULED)


def claim_for_adviser(session: Session, callback_id: int, adviser_id: int, now: datetime) -> Claim | None:
    """An adviser is about to ring the resident themselves (a kept place reached the front, or "call now" on the
    desk): take the next attempt through the same guard as the dialler, so a resident is never rung twice.

    None when the dialler (or another adviser) is dialling them already, or the callback is no longer active.
    """
    attempts = session.scalar(
        update(Callback)
        .where(Callback.id == callback_id, Callback.status.in_(ADVISER_CLAIMABLE))
        .values(
            status=CallbackStatus.DIALLING,
            attempts=Callback.attempts + 1,
            assigned_adviser_id=adviser_id,
            updated_at=now,
        )
        .returning(Callback.attempts)
        .execution_options(synchronize_session=False)
    )
    if attempts is None:
        return None
    number = session.scalars(select(Callback.number).where(Callback.id == callback_id)).one()
    record = CallbackAttempt(
        callback_id=callback_id,
        number=attempts,
        claimed_at=now,
        claimed_by=f"adviser {adviser_id}",
        adviser_id=adviser_id,
        dial_started_at=now,
    )
    session.add(record)
    session.flush()  # the unique (callback, number) refuses a second row for this attempt, rolling back the claim
    return Claim(callback_id, record.id, attempts, number)


def connect_attempt(session: Session, attempt_id: int, call_sid: str | None, now: datetime) -> None:
    """The resident an adviser rang answered and was put through: the attempt and the callback are done."""
    if call_sid:
        _note_dial(session, attempt_id, call_sid, None)
    attempt = session.get_one(CallbackAttempt, attempt_id)
    session.execute(
        update(CallbackAttempt)
        .where(CallbackAttempt.id == attempt_id, CallbackAttempt.ended_at.is_(None))
        .values(result=COMPLETED, ended_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Callback)
        .where(
            Callback.id == attempt.callback_id,
            Callback.status == CallbackStatus.DIALLING,
            Callback.attempts == attempt.number,
        )
        .values(status=CallbackStatus.CONNECTED, completed_at=now, last_result=COMPLETED, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def dial_callback(
    services: Services,
    callback_id: int,
    attempt: int,
    sleep: Callable[[float], None] = system_time.sleep,
) -> str:
    """Wait for the due instant, then claim and dial one attempt; returns what happened (for the job's result).

    The job starts a moment early (see dial_job_time) and sleeps with `sleep` until the clock reaches the due
    time. A callback cancelled, moved or claimed by someone else meanwhile is left alone: the claim decides.
    """
    with services.session_factory() as session:
        due = _waiting_since(session, callback_id, attempt)
    if due is None:
        return "not claimed"
    if not wait_until(services.clock, due, sleep):
        return _ask_again_at(services, callback_id, attempt, due)
    handed = _offer_to_assigned_adviser(services, callback_id, attempt, due)
    if handed is not None:
        return handed
    now = services.clock.now()
    with services.session_factory.begin() as session:
        claim = claim_attempt(session, callback_id, attempt, now, worker_identity())
        early_until = None if claim is not None else _due_later(session, callback_id, attempt, now)
    if claim is None:
        if early_until is None:
            return "not claimed"
        return _ask_again_at(services, callback_id, attempt, early_until)  # moved later while we waited
    base = public_base(services)
    dial_started_at = services.clock.now()
    try:
        call_sid = services.gateway.create_call(
            to=claim.number,
            url=f"{base}/callbacks/voice/answer?attempt={claim.attempt_id}",
            status_callback=f"{base}/callbacks/voice/status?attempt={claim.attempt_id}",
            machine_detection="Enable",
            timeout_seconds=RING_SECONDS,
        )
    except TelephonyError as error:
        if error.status is None:
            # Twilio may or may not have created the call: the reconciler asks it once the claim is stale.
            log.warning("callback.dial_unconfirmed", callback_id=callback_id, attempt=attempt)
            return "unconfirmed"
        log.warning("callback.dial_refused", callback_id=callback_id, attempt=attempt, code=error.code)
        with services.session_factory.begin() as session:
            follow_up = settle_attempt(
                session, claim.attempt_id, "failed", now, services.settings.callback_max_attempts
            )
        carry_out(services, follow_up)
        return "refused"
    with services.session_factory.begin() as session:
        _note_dial(session, claim.attempt_id, call_sid, dial_started_at)
    log.info("callback.dialled", callback_id=callback_id, attempt=attempt, call_sid=call_sid)
    return "dialled"


def _offer_to_assigned_adviser(
    services: Services, callback_id: int, attempt: int, due: datetime
) -> str | None:
    """A callback given to one adviser goes to them first: their phone rings (routing.advisers), and the
    resident's once they answer. While they are on a call or wrapping up, look again shortly, up to
    ASSIGNED_ADVISER_WAIT past the due time; None when the dialler should ring the resident itself now.

    An offer already ringing is always waited for (the resident is never rung twice over it): if it is missed,
    the adviser is paused and the next look finds them away, so the dialler takes over.
    """
    from routing import advisers  # routing imports this module's claims; import it only when dialling

    with services.session_factory() as session:
        assigned = session.scalar(
            select(Callback.assigned_adviser_id).where(
                Callback.id == callback_id, Callback.keeps_place.is_(False)
            )
        )
    if assigned is None:
        return None
    with services.session_factory.begin() as session:
        found = advisers.offer_callback_to_assigned(services, session, callback_id)
    now = services.clock.now()
    if found == advisers.AWAY:
        return None
    if found == advisers.BUSY and now >= due + ASSIGNED_ADVISER_WAIT:
        with services.session_factory() as session:
            if not _offer_ringing(session, callback_id):
                return None  # waited long enough: anyone with the skill
    recheck = now + ASSIGNED_ADVISER_RECHECK
    _enqueue(
        services,
        f"{dial_job_id(callback_id, attempt)}-adviser-{int(recheck.timestamp())}",
        recheck,
        now,
        DIAL_JOB,
        callback_id,
        attempt,
    )
    log.info("callback.for_assigned_adviser", callback_id=callback_id, attempt=attempt, found=found)
    return "offered to assigned adviser" if found == advisers.OFFERED else "waiting for assigned adviser"


def _offer_ringing(session: Session, callback_id: int) -> bool:
    return (
        session.scalar(
            select(QueueEntry.id).where(
                QueueEntry.callback_id == callback_id, QueueEntry.status.in_(ACTIVE_QUEUE_ENTRY_STATUSES)
            )
        )
        is not None
    )


def _ask_again_at(services: Services, callback_id: int, attempt: int, due: datetime) -> str:
    """The job woke far too early (clocks disagree, or the slot moved): queue the dial again under its own id."""
    _enqueue(
        services,
        f"{dial_job_id(callback_id, attempt)}-at-{int(due.timestamp())}",
        due,
        services.clock.now(),
        DIAL_JOB,
        callback_id,
        attempt,
    )
    return "early"


def _waiting_since(session: Session, callback_id: int, attempt: int) -> datetime | None:
    """When attempt `attempt` is due, if the callback is still scheduled for it; else None (nothing to do)."""
    row = session.execute(
        select(Callback.next_attempt_at).where(
            Callback.id == callback_id,
            Callback.status == CallbackStatus.SCHEDULED,
            Callback.attempts == attempt - 1,
        )
    ).one_or_none()
    return row.next_attempt_at if row is not None else None


def _due_later(session: Session, callback_id: int, attempt: int, now: datetime) -> datetime | None:
    """The due time if this attempt is still waiting for it (the job ran early), else None."""
    due = _waiting_since(session, callback_id, attempt)
    return due if due is not None and due > now else None


def _note_dial(session: Session, attempt_id: int, call_sid: str, started_at: datetime | None) -> None:
    """Record the CallSid and dial start once; the status webhook may have brought the CallSid first."""
    session.execute(
        update(CallbackAttempt)
        .where(CallbackAttempt.id == attempt_id, CallbackAttempt.call_sid.is_(None))
        .values(call_sid=call_sid)
        .execution_options(synchronize_session=False)
    )
    if started_at is not None:
        session.execute(
            update(CallbackAttempt)
            .where(CallbackAttempt.id == attempt_id, CallbackAttempt.dial_started_at.is_(None))
            .values(dial_started_at=started_at)
            .execution_options(synchronize_session=False)
        )


# --- what Twilio tells us about the dial ---------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What to do with a resident's phone that just answered a callback."""

    action: str  # "connect" (a person: greet and queue them), "hang_up" (a machine), "cancelled"
    topic: str = "general"
    language: str = "en-GB"


def answer_attempt(
    session: Session,
    attempt_id: int,
    call_sid: str,
    answered_by: str | None,
    council_number: str,
    now: datetime,
    region: str,
) -> Answer:
    """The dialled phone answered: a person is put through (callback connected), a machine is hung up on."""
    attempt = session.get(CallbackAttempt, attempt_id)
    if attempt is None:
        return Answer("cancelled")
    callback = session.get_one(Callback, attempt.callback_id)
    if call_sid:
        _note_dial(session, attempt.id, call_sid, None)
    if answered_by and attempt.answered_by is None:
        attempt.answered_by = answered_by
    if (answered_by or "") in MACHINE_ANSWERS:
        # Never leave a message: a voicemail could be heard by anyone in the household.
        if attempt.ended_at is None:
            attempt.result = MACHINE
        return Answer("hang_up")
    connected = session.execute(
        update(Callback)
        .where(
            Callback.id == callback.id,
            Callback.status == CallbackStatus.DIALLING,
            Callback.attempts == attempt.number,
        )
        .values(status=CallbackStatus.CONNECTED, completed_at=now, last_result=CONNECTED, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if connected or (attempt.result == CONNECTED and callback.status == CallbackStatus.CONNECTED):
        attempt.result = CONNECTED  # (the second case: Twilio retried this webhook)
        call = record_call_started(session, call_sid, callback.number, council_number, now, region)
        call.topic, call.language = callback.topic, callback.language
        call.reference = call.reference or callback.reference
        return Answer("connect", callback.topic.value, callback.language)
    return Answer("cancelled")


@dataclass(frozen=True)
class FollowUp:
    """What a settled dial leaves to do outside the transaction."""

    callback_id: int
    result: str
    dial_again: bool = False
    final_sms: bool = False


def record_progress(
    session: Session,
    attempt_id: int,
    call_sid: str | None,
    call_status: str,
    answered_by: str | None,
    now: datetime,
    max_attempts: int,
) -> FollowUp | None:
    """A status callback (or the reconciler's look at Twilio): note the CallSid; settle the attempt if it ended."""
    attempt = session.get(CallbackAttempt, attempt_id)
    if attempt is None:
        return None
    if call_sid:
        _note_dial(session, attempt.id, call_sid, None)
    if call_status not in FINAL_CALL_STATUSES:
        return None
    result = attempt_result(call_status, answered_by, attempt.result)
    return settle_attempt(session, attempt.id, result, now, max_attempts)


def settle_attempt(
    session: Session, attempt_id: int, result: str, now: datetime, max_attempts: int
) -> FollowUp | None:
    """End an attempt once; a failed one makes the callback retry inside opening hours, or fail after the last."""
    ended = session.execute(
        update(CallbackAttempt)
        .where(CallbackAttempt.id == attempt_id, CallbackAttempt.ended_at.is_(None))
        .values(result=result, ended_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not ended:
        return None  # a replayed status callback, or already settled by the reconciler
    attempt = session.get_one(CallbackAttempt, attempt_id, populate_existing=True)
    if result == COMPLETED:
        return FollowUp(attempt.callback_id, result)
    failed_dials = session.scalar(
        select(func.count())
        .select_from(CallbackAttempt)
        .where(CallbackAttempt.callback_id == attempt.callback_id, CallbackAttempt.result != NOT_DIALLED)
    )
    if result == NOT_DIALLED:
        next_at: datetime | None = now  # never rang: dial again straight away
    elif (failed_dials or 0) < max_attempts:
        next_at = retry_time(failed_dials or 1, now, phone_service_hours(session))
    else:
        next_at = None
    values: dict[str, object] = {"last_result": result, "updated_at": now}
    if next_at is not None:
        values.update(status=CallbackStatus.SCHEDULED, next_attempt_at=next_at)
    else:
        values.update(status=CallbackStatus.FAILED)
    moved = session.execute(
        update(Callback)
        .where(
            Callback.id == attempt.callback_id,
            Callback.status == CallbackStatus.DIALLING,
            Callback.attempts == attempt.number,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        return FollowUp(attempt.callback_id, result)  # cancelled while ringing, or connected by another leg
    return FollowUp(attempt.callback_id, result, dial_again=next_at is not None, final_sms=next_at is None)


def carry_out(services: Services, follow_up: FollowUp | None) -> None:
    """After the settling transaction committed: schedule the next dial, or the final SMS."""
    if follow_up is None:
        return
    if follow_up.dial_again:
        schedule_callback(services, follow_up.callback_id)
    elif follow_up.final_sms:
        now = services.clock.now()
        _enqueue_sms(services, follow_up.callback_id, "final", now, now)
        announce(services, "callbacks")  # failed after its last attempt: the wallboard counts it
    log.info("callback.attempt_settled", callback_id=follow_up.callback_id, result=follow_up.result)


# --- the reconciler ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReconcileReport:
    dials_enqueued: int
    stale_claims: int
    texts_enqueued: int


def reconcile(services: Services) -> ReconcileReport:
    """Re-derive RQ's work from the database: due dials not in flight, stale claims, texts not yet sent.

    Runs every CALLBACK_RECONCILE_SECONDS, at worker start and as soon as a worker finds Redis restarted empty
    (reconcile_if_forgotten), so a killed worker or a lost Redis loses nothing: at worst a callback is dialled
    one reconcile interval late, and never twice.
    """
    now = services.clock.now()
    settings = services.settings
    services.redis.set(RECONCILED_KEY, worker_identity())
    keep_reconciling(services)
    dials = _reenqueue_dials(services, now, now + timedelta(seconds=2 * settings.callback_reconcile_seconds))
    stale = 0
    with services.session_factory() as session:
        stale_ids = session.scalars(
            select(CallbackAttempt.id)
            .join(Callback, Callback.id == CallbackAttempt.callback_id)
            .where(
                Callback.status == CallbackStatus.DIALLING,
                CallbackAttempt.number == Callback.attempts,
                CallbackAttempt.ended_at.is_(None),
                CallbackAttempt.claimed_at <= now - timedelta(seconds=settings.callback_stale_claim_seconds),
            )
            .limit(STALE_BATCH)
        ).all()
    for attempt_id in stale_ids:
        if resolve_stale_claim(services, attempt_id) != "in progress":
            stale += 1
    texts = _reenqueue_texts(services, now)
    if dials or stale or texts:
        log.info("callback.reconciled", dials_enqueued=dials, stale_claims=stale, texts_enqueued=texts)
    return ReconcileReport(dials, stale, texts)


def reconcile_if_forgotten(services: Services) -> ReconcileReport | None:
    """Reconcile now if Redis has no mark of a reconcile (it restarted empty, or was flushed); else None.

    Such a Redis lost every job RQ held: due texts and dials, and the reconciler's own chain of scheduled runs,
    so nothing would bring the next reconcile. Each worker asks every DIAL_SWEEP_SECONDS (runtime.worker's
    DialSweeper); SET NX lets one of them do it. If the reconcile fails the mark goes, and the next ask retries.
    """
    if not services.redis.set(RECONCILED_KEY, worker_identity(), nx=True):
        return None
    try:
        return reconcile(services)
    except Exception:
        with suppress(RedisError):
            services.redis.delete(RECONCILED_KEY)
        raise


def sweep_due_dials(services: Services) -> int:
    """Queue now every dial starting within DIAL_LEAD that RQ does not hold in flight; returns how many.

    RQ's scheduled jobs live only in Redis, and RQ's scheduler is one process whose lock outlives it for a
    minute when it is killed: between a lost schedule and the next reconciler run, dials would start seconds
    late. The worker runs this every DIAL_SWEEP_SECONDS (runtime.worker.DialSweeper), so a dial RQ lost or
    stalled starts at most about that late. Cheap when nothing is lost: one indexed query and one Redis
    round trip for the dials of the next second.
    """
    now = services.clock.now()
    return _reenqueue_dials(services, now, now + DIAL_LEAD, only_lost=True)


def _reenqueue_dials(services: Services, now: datetime, horizon: datetime, only_lost: bool = False) -> int:
    """Give every callback due before `horizon` a dial job, unless RQ already holds one for that attempt.

    `only_lost`: replace only jobs RQ lost or that are stuck; one that ran and failed before its claim (the
    database was down, say) is retried by the reconciler, once an interval, not every half second.
    """
    with services.session_factory() as session:
        rows = session.execute(
            select(Callback.id, Callback.attempts, Callback.next_attempt_at)
            .where(Callback.status == CallbackStatus.SCHEDULED, Callback.next_attempt_at <= horizon)
            .order_by(Callback.next_attempt_at)
            .limit(RECONCILE_BATCH)
        ).all()
    if not rows:
        return 0
    jobs = Job.fetch_many([dial_job_id(row.id, row.attempts + 1) for row in rows], connection=services.redis)
    enqueued = 0
    for row, job in zip(rows, jobs, strict=True):
        status = job.get_status(refresh=False) if job is not None else None
        if job is not None and _stuck(status, row.next_attempt_at, now):
            job.delete()  # out of RQ's schedule and registries, so a scheduler coming back cannot run it too
            status = None
        if status in WAITING_OR_IN_FLIGHT or (only_lost and status is not None):
            continue
        _enqueue(
            services,
            dial_job_id(row.id, row.attempts + 1),
            row.next_attempt_at,
            now,
            DIAL_JOB,
            row.id,
            row.attempts + 1,
        )
        enqueued += 1
    return enqueued


def _stuck(status: JobStatus | None, due: datetime, now: datetime) -> bool:
    """Whether RQ holds a dial job that will not start (or finish) by itself in time."""
    if status == JobStatus.SCHEDULED:
        # Due, so its start time (DIAL_LEAD before) passed a scheduler poll ago: no scheduler is running.
        return due <= now
    # Its worker was killed before claiming (RQ would call it "started" for minutes).
    return status == JobStatus.STARTED and due <= now - DIAL_JOB_DEAD_AFTER


def _reenqueue_texts(services: Services, now: datetime) -> int:
    """Texts whose jobs were lost: confirmations and final texts of the last day, reminders now due."""
    since = now - SMS_CATCH_UP
    with services.session_factory() as session:
        pending: list[tuple[int, str, str]] = [
            (row.id, row.number, "confirmation")
            for row in session.execute(
                select(Callback.id, Callback.number).where(
                    Callback.status == CallbackStatus.SCHEDULED,
                    Callback.keeps_place.is_(False),
                    Callback.confirmation_sent_at.is_(None),
                    Callback.created_at >= since,
                )
            )
        ]
        pending += [
            (row.id, row.number, "final")
            for row in session.execute(
                select(Callback.id, Callback.number).where(
                    Callback.status == CallbackStatus.FAILED,
                    Callback.final_sms_sent_at.is_(None),
                    Callback.updated_at >= since,
                )
            )
        ]
        pending += [
            (callback.id, callback.number, "reminder")
            for callback in session.scalars(
                select(Callback).where(
                    Callback.status == CallbackStatus.SCHEDULED,
                    Callback.reminder_sent_at.is_(None),
                    Callback.slot_starts_at > now,
                    Callback.slot_starts_at <= now + REMINDER_BEFORE,
                )
            )
            if _reminder_time(callback) is not None
        ]
    region = services.settings.default_region
    textable = [
        (callback_id, kind) for callback_id, number, kind in pending if sms.textable_number(number, region)
    ]
    for callback_id, kind in textable:
        _enqueue_sms(services, callback_id, kind, now, now)
    return len(textable)


def resolve_stale_claim(services: Services, attempt_id: int) -> str:
    """Settle a dial nobody heard back about, asking Twilio; never dials that attempt again.

    With a CallSid: Twilio's status of that call settles it. Without one the worker died around the request:
    a call Twilio created for it since the claim is adopted (its status callbacks name this attempt); if there is
    none, the resident was never rung and the attempt ends `not_dialled`, so the next attempt dials at once.
    """
    now = services.clock.now()
    max_attempts = services.settings.callback_max_attempts
    with services.session_factory() as session:
        attempt = session.get(CallbackAttempt, attempt_id)
        if attempt is None or attempt.ended_at is not None:
            return "settled already"
        callback = session.get_one(Callback, attempt.callback_id)
        call_sid, number, claimed_at = attempt.call_sid, callback.number, attempt.claimed_at
        known_sids = set(
            session.scalars(
                select(CallbackAttempt.call_sid).where(
                    CallbackAttempt.callback_id == callback.id, CallbackAttempt.call_sid.is_not(None)
                )
            )
        )
    try:
        if call_sid is not None:
            record = services.gateway.fetch_call(call_sid)
            adopted = None
        else:
            found = [
                call
                for call in services.gateway.recent_calls_to(number, claimed_at - CLOCK_MARGIN)
                if call.direction == "outbound-api" and call.sid not in known_sids
            ]
            record = adopted = min(found, key=lambda call: call.created_at or now) if found else None
    except TelephonyError as error:
        log.warning(
            "callback.stale_claim_unchecked", attempt_id=attempt_id, status=error.status, error=str(error)
        )
        return "unknown"
    with services.session_factory.begin() as session:
        if record is None:
            follow_up = settle_attempt(session, attempt_id, NOT_DIALLED, now, max_attempts)
            outcome = NOT_DIALLED
        else:
            if adopted is not None:
                _note_dial(session, attempt_id, adopted.sid, adopted.created_at)
            follow_up = record_progress(
                session, attempt_id, record.sid, record.status, record.answered_by, now, max_attempts
            )
            outcome = "adopted" if adopted is not None else record.status
            if record.status not in FINAL_CALL_STATUSES:
                outcome = "in progress" if adopted is None else outcome
    carry_out(services, follow_up)
    log.warning("callback.stale_claim_resolved", attempt_id=attempt_id, outcome=outcome)
    return outcome


# --- texts ---------------------------------------------------------------------------------------------------

_SENT_COLUMNS = {
    "confirmation": Callback.confirmation_sent_at,
    "reminder": Callback.reminder_sent_at,
    "final": Callback.final_sms_sent_at,
}


def _text_due(callback: Callback, kind: str, now: datetime) -> bool:
    if kind == "confirmation":
        return callback.status in (CallbackStatus.SCHEDULED, CallbackStatus.DIALLING)
    if kind == "reminder":
        reminder_at = _reminder_time(callback)
        return (
            callback.status == CallbackStatus.SCHEDULED
            and reminder_at is not None
            and reminder_at - REMINDER_EARLY_TOLERANCE <= now < (callback.slot_starts_at or now)
        )
    return callback.status == CallbackStatus.FAILED


def _text_body(session: Session, callback: Callback, kind: str, council: str, default_library: str) -> str:
    topic, language = callback.topic.value, callback.language
    slot = (callback.slot_starts_at, callback.slot_ends_at) if callback.slot_starts_at else None
    if kind == "confirmation":
        return sms.confirmation(topic, slot, council, language)
    if kind == "reminder" and slot is not None:
        return sms.reminder(topic, slot, language)
    return sms.final(topic, council, _their_library(session, callback, default_library), language)


def _their_library(session: Session, callback: Callback, default_library: str) -> tuple[str, str] | None:
    """(name, address) of the hub to offer face to face: the booked slot's, else the one that last helped them."""
    library = session.get(Library, callback.library_id) if callback.library_id else None
    if library is None:
        name = home_library_for(session, callback.number, default_library)
        library = session.scalar(select(Library).where(Library.name == name))
    return (library.name, library.address) if library is not None else None


def send_callback_sms(services: Services, callback_id: int, kind: str) -> str | None:
    """Send one of a callback's texts at most once (its *_sent_at column is claimed first); mobiles only."""
    if kind not in _SENT_COLUMNS:
        raise ValueError(f"unknown callback text {kind!r}")
    now, settings = services.clock.now(), services.settings
    column = _SENT_COLUMNS[kind]
    with services.session_factory.begin() as session:
        callback = session.get(Callback, callback_id)
        if callback is None or not _text_due(callback, kind, now):
            return None
        number = sms.textable_number(callback.number, settings.default_region)
        if number is None:
            return None
        marked = session.execute(
            update(Callback)
            .where(Callback.id == callback_id, column.is_(None))
            .values({column: now})
            .execution_options(synchronize_session=False)
        ).rowcount
        if not marked:
            return None
        body = _text_body(
            session,
            callback,
            kind,
            sms.spoken_number(settings.twilio_phone_number),
            settings.default_home_library,
        )
    try:
        sid = services.gateway.send_sms(number, body)
    except TelephonyError as error:
        # At most once: a text Twilio may or may not have taken is not sent again.
        log.warning("callback.sms_failed", callback_id=callback_id, kind=kind, status=error.status)
        return None
    log.info("callback.sms_sent", callback_id=callback_id, kind=kind, message_sid=sid)
    return sid


# --- texts from residents ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundOutcome:
    action: str  # cancelled, nothing_to_cancel, help
    replayed: bool


def handle_inbound_sms(
    session: Session, message_sid: str, sender: str | None, body: str, now: datetime
) -> InboundOutcome:
    """CANCEL (or STOP) cancels the sender's active callbacks; anything else gets help. Once per MessageSid."""
    existing = session.scalar(select(InboundMessage).where(InboundMessage.message_sid == message_sid))
    if existing is not None:
        return InboundOutcome(existing.action, replayed=True)
    message = InboundMessage(message_sid=message_sid, received_at=now, action="help")
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        # The same message delivered twice at once: the other delivery acts on it.
        stored = session.scalars(
            select(InboundMessage).where(InboundMessage.message_sid == message_sid)
        ).one()
        return InboundOutcome(stored.action, replayed=True)
    if not sms.is_cancel(body):
        return InboundOutcome("help", replayed=False)
    cancelled: list[int] = []
    if sender:
        cancelled = list(
            session.scalars(
                update(Callback)
                .where(Callback.number == sender, Callback.status.in_(ACTIVE_CALLBACK_STATUSES))
                .values(
                    status=CallbackStatus.CANCELLED,
                    cancelled_reason="resident replied CANCEL by SMS",
                    updated_at=now,
                )
                .returning(Callback.id)
                .execution_options(synchronize_session=False)
            )
        )
    message.action = "cancelled" if cancelled else "nothing_to_cancel"
    message.callback_id = min(cancelled) if cancelled else None
    if cancelled:
        log.info("callback.cancelled_by_sms", callback_ids=sorted(cancelled), message_sid=message_sid)
    return InboundOutcome(message.action, replayed=False)
