"""Queue webhooks: waiting (position, honest wait, keys to leave), the offer to an adviser, and how it ended.

One caller's path: the menu answers with <Enqueue waitUrl=/voice/queue/wait ...>. The first hold round puts them
in the routing queue (database + shared store) and nudges the matcher. When matched, the matcher dequeues them
to /voice/queue/connect, which dials the adviser where they answer: a phone with a whisper (/whisper → press 1
→ /accept), a browser whose answer is the acceptance (/answered; the desk showed the screen pop while it rang);
/dial-result settles it: a conversation that happened ends the call, a missed offer pauses the adviser and puts
the caller back in their old place. A caller who presses 1 while holding keeps their place as a callback: the
adviser is rung first, a phone hears who and why and presses 1 (/callback/adviser → /callback/dial), a browser's
answer rings the resident at once (/callback/answered).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from flask import Blueprint, Response, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from callbacks.booking import advisers_next_expected, propose_number, proposed_number
from callbacks.numbers import check_callback_number, check_keyed_digits, spoken_digits
from callbacks.service import dedupe_key, request_callback
from ivr.calls import CallAlreadyEnded, lock_call, record_call_started, record_event
from ivr.prompts import ENGLISH
from ivr.twiml import say_in
from models import (
    Adviser,
    AdviserState,
    AnswersOn,
    Call,
    Callback,
    CallbackStatus,
    CallOutcome,
    QueueEntry,
    QueueEntryStatus,
    Topic,
)
from routing import prompts
from routing.advisers import finish_call
from routing.live import adviser_key, entry_store_key, ready_store, request_matching, waiting_caller
from routing.queueing import (
    active_entry_for_call,
    end_entry,
    join_queue,
    keep_place_for_callback,
    library_name,
    record_adviser_state,
)
from routing.stats import wait_estimate
from routing.wrap_up import start_wrap_up
from runtime.logging import get_logger
from runtime.web import db_session, services
from telephony.webhooks import (
    safe_twiml,
    twilio_adviser_webhook,
    twilio_hold_webhook,
    twilio_webhook,
    twiml,
)

log = get_logger(__name__)
queue_bp = Blueprint("queue", __name__, url_prefix="/voice/queue")

HOLD_SECONDS = 25
# With nobody for the topic working, two rounds say so; then the callback is offered plainly, less often.
NOBODY_ROUNDS_BEFORE_OFFER = 2
OFFER_HOLD_SECONDS = 60
KEY_TIMEOUT_SECONDS = 4
NUMBER_TIMEOUT_SECONDS = 10  # keying a whole phone number takes a while
MAX_NUMBER_TRIES = 3
WHISPER_TIMEOUT_SECONDS = 8
# Twilio's QueueResult values after the wait ends; see the Enqueue verb's action parameter.
ABANDONED_RESULTS = {"hangup"}
FAILED_RESULTS = {"queue-full", "system-error", "error"}
CONNECTED_DIAL_STATUSES = {"completed", "answered"}


def queue_urls(topic: str, language: str, priority: int = 0, reasons: Sequence[str] = ()) -> tuple[str, str]:
    """(waitUrl, action) of an <Enqueue>: the waitUrl carries what routing needs to queue the caller."""
    wait_url = url_for("queue.wait", topic=topic, language=language, priority=priority, reason=list(reasons))
    return wait_url, url_for("queue.result")


def enqueue_caller(
    response: VoiceResponse, topic: str, language: str, priority: int = 0, reasons: Sequence[str] = ()
) -> None:
    """Hand a caller to routing: Twilio holds them; our waitUrl queues them and decides who serves them."""
    wait_url, action = queue_urls(topic, language, priority, reasons)
    response.enqueue(_twilio_queue_name(topic), wait_url=wait_url, action=action)


def _twilio_queue_name(topic: str) -> str:
    return topic if topic in Topic._value2member_map_ else Topic.GENERAL.value


def _topic(value: str | None) -> Topic:
    return Topic(value) if value in Topic._value2member_map_ else Topic.GENERAL


def call_of_request(session: Session, now: datetime) -> Call:
    """The Call row of the Twilio request being answered (created if this CallSid is new to us), locked.

    Raises CallAlreadyEnded when Twilio's status callback has said the call ended: the lock makes
    a webhook that was in flight when the caller hung up and `call_status` take turns, so whichever comes second
    sees what the first did, and a late hold round can never queue a caller who has gone (ivr.calls.lock_call).
    """
    found = record_call_started(
        session,
        request.form.get("CallSid", ""),
        request.form.get("From"),
        request.form.get("To"),
        now,
        services().settings.default_region,
    )
    call = lock_call(session, found.id)
    if call.ended_at is not None:
        raise CallAlreadyEnded(call.call_sid)
    return call


def _queue_time() -> timedelta:
    """Twilio's QueueTime on a hold round: how long it has held this caller in this queue."""
    raw = request.form.get("QueueTime", "")
    return timedelta(seconds=int(raw)) if raw.isdigit() and len(raw) <= 9 else timedelta(0)


@queue_bp.post("/wait")
@twilio_hold_webhook
def wait() -> Response:
    """Every hold round: queue the caller (first round), say their place and an honest wait, offer the keys."""
    app_services, session = services(), db_session()
    now, settings = app_services.clock.now(), app_services.settings
    topic = _topic(request.args.get("topic"))
    with session.begin():
        call = call_of_request(session, now)
        queued = join_queue(
            session,
            call,
            topic,
            request.args.get("language") or call.language,
            request.args.get("priority", 0, type=int),
            request.args.getlist("reason"),
            now,
            settings.default_home_library,
            waited=_queue_time(),
        )
        store = ready_store(app_services, session)
        if queued.entry.status == QueueEntryStatus.WAITING and store.position_of(call.call_sid) is None:
            store.add_waiting(waiting_caller(queued.entry, call.call_sid, queued.home_library))
        position = store.position_of(call.call_sid)
        estimate = wait_estimate(session, topic, position or 1, now)
        waited = (now - queued.entry.joined_at).total_seconds()
        # Twilio's QueueTime counts the hold rounds for us (one is a little over HOLD_SECONDS): no writes.
        held = request.form.get("QueueTime", type=int)
        offer_plainly = estimate.nobody_serving and (waited if held is None else held) >= (
            NOBODY_ROUNDS_BEFORE_OFFER * HOLD_SECONDS
        )
        expected = advisers_next_expected(session, topic, now) if offer_plainly else None
        if queued.created:
            record_event(
                session,
                call,
                now,
                kind="queue_event",
                node=topic.value,
                outcome="joined",
                detail={"priority": queued.entry.priority, "reasons": queued.entry.priority_reasons},
                idempotency_key=f"{call.call_sid}:queue-joined:{queued.entry.id}",
            )
    request_matching(app_services)
    response = VoiceResponse()
    language = queued.entry.language
    gather = response.gather(
        num_digits=1,
        timeout=KEY_TIMEOUT_SECONDS,
        action=url_for("queue.key", topic=topic.value),
        action_on_empty_result=False,
    )
    if queued.closure_message and language == ENGLISH:
        # Staff's own words, in English only: other callers hear nothing invented about a library's closure.
        say_in(gather, queued.closure_message, ENGLISH)
    if offer_plainly:
        prompts.say_callback_offer(gather, language, expected, now)
    elif estimate.nobody_serving:
        prompts.say(gather, "nobody", language)
    elif (
        position or 0
    ) > settings.queue_max_position or waited >= settings.queue_callback_offer_after_seconds:
        prompts.say(gather, "long_wait", language)
    else:
        prompts.say_place(gather, position, language)
        if estimate.phrase:
            prompts.say(gather, "wait", language, estimate=estimate.phrase)
        else:
            prompts.say(gather, "no_estimate", language)
    if not offer_plainly:
        prompts.say(gather, "keys", language)
    response.pause(length=OFFER_HOLD_SECONDS if offer_plainly else HOLD_SECONDS)
    return twiml(response)


@queue_bp.post("/key")
@twilio_hold_webhook
def key() -> Response:
    """A key pressed while holding: 1 = a callback that keeps their place, once we agree the number to ring.

    The caller stays in Twilio's queue throughout (these Gathers run in the wait), so an adviser who frees up
    meanwhile still gets them, and silence at any step simply goes back to holding.
    """
    app_services, session = services(), db_session()
    now, settings = app_services.clock.now(), app_services.settings
    response = VoiceResponse()
    with session.begin():
        call = call_of_request(session, now)
        entry = active_entry_for_call(session, call.id)
        if request.form.get("Digits") != "1" or entry is None or entry.status != QueueEntryStatus.WAITING:
            prompts.say(response, "keep_waiting", call.language)
            return twiml(response)
        check = check_callback_number(call.caller_number, settings.default_region)
        step = _NumberStep.from_request(call)
        if check.number is not None:
            step.propose(session, now, check.number, "caller")
            step.confirm(response, check.number, "caller")
        else:
            if call.caller_number:
                prompts.say_refusal(response, check, call.language)
            else:
                prompts.say_number_step(response, "withheld", call.language)
            step.ask_for_number(response)
    return twiml(response)


@queue_bp.post("/callback/number")
@twilio_hold_webhook
def callback_number() -> Response:
    """The answer to "press 1 for that number, or 2 to give another": 1 keeps their place and lets them go.

    0 is "no call back" and any other key is asked again once; either way the caller hears what happened and
    keeps holding in their place (silence falls through the Gather to the same, see `_NumberStep.confirm`).
    """
    app_services, session = services(), db_session()
    now = app_services.clock.now()
    digits = request.form.get("Digits", "")
    response = VoiceResponse()
    with session.begin():
        call = call_of_request(session, now)
        step = _NumberStep.from_request(call)
        number = proposed_number(session, call)
        entry = active_entry_for_call(session, call.id, lock=True)
        kept = _place_kept_for(session, call, number) if digits == "1" and entry is None else None
        if kept is not None:
            # A retried (or racing) webhook: the place is kept already. The same answer, nothing booked twice.
            callback = kept
        elif digits == "2" and entry is not None:
            step.ask_for_number(response)
            return twiml(response)
        elif digits == "0":
            prompts.say(response, "no_callback", call.language)
            return twiml(response)
        elif digits != "1" and number is not None and entry is not None:
            prompts.say(response, "not_a_choice", call.language)
            if step.asked_again:
                prompts.say(response, "still_holding", call.language)
            else:
                source = "caller" if number == call.caller_number else "keyed"
                replace(step, asked_again=True).confirm(response, number, source)
            return twiml(response)
        elif digits != "1" or number is None or entry is None or entry.status != QueueEntryStatus.WAITING:
            prompts.say(response, "keep_waiting", call.language)
            return twiml(response)
        else:
            callback = _keep_place(session, call, entry, number, now)
        # One active callback per number and topic: one they already had is updated, and we say so.
        already_had = callback.created_at < call.started_at
        last_digits = spoken_digits(callback.number, last=3)
    prompts.say(
        response,
        "kept_place_updated" if already_had else "kept_place",
        call.language,
        last_digits=last_digits,
    )
    response.leave()
    return twiml(response)


@queue_bp.post("/callback/keyed")
@twilio_hold_webhook
def callback_keyed() -> Response:
    """The caller keyed a number (ended with #): read back one we may ring, or say why not and ask again."""
    app_services, session = services(), db_session()
    now, settings = app_services.clock.now(), app_services.settings
    digits = (request.form.get("Digits") or "").strip()[:32]
    response = VoiceResponse()
    with session.begin():
        call = call_of_request(session, now)
        step = _NumberStep.from_request(call)
        check = check_keyed_digits(digits, settings.default_region)
        if check.number is not None:
            step.propose(session, now, check.number, "keyed")
            step.confirm(response, check.number, "keyed")
        elif step.tries + 1 < MAX_NUMBER_TRIES:
            if digits:
                prompts.say_refusal(response, check, call.language)
            else:
                prompts.say_number_step(response, "not_heard", call.language)
            replace(step, tries=step.tries + 1).ask_for_number(response)
        else:
            prompts.say(response, "keep_waiting", call.language)
    return twiml(response)


@dataclass(frozen=True)
class _NumberStep:
    """Agreeing the number of a keep-your-place callback. The number itself is a journey event (see
    callbacks.booking.propose_number), never in the URL; the URL carries only the step counter and tries."""

    call: Call
    n: int
    tries: int
    asked_again: bool = False  # a wrong key at the read-back was answered with the question again

    @classmethod
    def from_request(cls, call: Call) -> _NumberStep:
        return cls(
            call,
            max(request.args.get("n", 0, type=int), 0),
            max(request.args.get("tries", 0, type=int), 0),
            request.args.get("again") == "1",
        )

    def url(self, endpoint: str) -> str:
        again = {"again": 1} if self.asked_again else {}
        return url_for(endpoint, n=self.n + 1, tries=self.tries, **again)

    def propose(self, session: Session, now: datetime, number: str, source: str) -> None:
        key = f"{self.call.call_sid}:queue-callback:{self.n}:proposed"
        propose_number(session, self.call, now, number, source, key)

    def confirm(self, response: VoiceResponse, number: str, source: str) -> None:
        gather = response.gather(
            num_digits=1, timeout=KEY_TIMEOUT_SECONDS + 2, action=self.url("queue.callback_number")
        )
        if source == "keyed":
            prompts.say_number_step(gather, "confirm_keyed", self.call.language, digits=spoken_digits(number))
        else:
            prompts.say_number_step(
                gather, "confirm_caller_id", self.call.language, last_digits=spoken_digits(number, last=3)
            )
        prompts.say(
            response, "no_choice_heard", self.call.language
        )  # silence: back to holding, and we say so

    def ask_for_number(self, response: VoiceResponse) -> None:
        gather = response.gather(
            finish_on_key="#", timeout=NUMBER_TIMEOUT_SECONDS, action=self.url("queue.callback_keyed")
        )
        prompts.say_number_step(gather, "key_number", self.call.language)
        prompts.say(response, "keep_waiting", self.call.language)


def _place_kept_for(session: Session, call: Call, number: str | None) -> Callback | None:
    """The callback that already keeps this call's place on `number` (found by a retried webhook), or None."""
    latest = session.scalar(
        select(QueueEntry).where(QueueEntry.call_id == call.id).order_by(QueueEntry.id.desc()).limit(1)
    )
    if number is None or latest is None or latest.status != QueueEntryStatus.LEFT_FOR_CALLBACK:
        return None
    return session.scalar(
        select(Callback)
        .where(Callback.dedupe_key == dedupe_key(number, latest.topic), Callback.keeps_place.is_(True))
        .order_by(Callback.id.desc())
        .limit(1)
    )


def _keep_place(session: Session, call: Call, entry: QueueEntry, number: str, now: datetime) -> Callback:
    """Book a callback that keeps the caller's place: a virtual entry with their join time replaces them."""
    callback = request_callback(
        session, number, entry.topic, now, language=entry.language, reference=call.reference, call_id=call.id
    ).callback
    callback.keeps_place, callback.status = True, CallbackStatus.REQUESTED
    virtual = keep_place_for_callback(session, entry, callback, now)
    store = ready_store(services(), session)
    store.remove_waiting(call.call_sid)
    store.add_waiting(waiting_caller(virtual, None, library_name(session, virtual)))
    call.outcome = CallOutcome.CALLBACK_BOOKED
    record_event(
        session,
        call,
        now,
        kind="queue_event",
        node=entry.topic.value,
        caller_input="1",
        outcome="left_for_callback",
        idempotency_key=f"{call.call_sid}:queue-left:{entry.id}",
    )
    return callback


@queue_bp.post("/result")
@twilio_webhook
def result() -> Response:
    """The wait is over (Enqueue action): record how it ended; a queue failure still gets the caller to a person."""
    # Twilio's word (bridged, hangup, leave, ...); a longer one cannot be a real result and is cut.
    queue_result = request.form.get("QueueResult", "")[:32]
    queue_time = request.form.get("QueueTime", "")
    queue_time = queue_time if queue_time.isdigit() and len(queue_time) <= 9 else None
    app_services, session = services(), db_session()
    now = app_services.clock.now()
    response = VoiceResponse()
    with session.begin():
        call = session.scalar(select(Call).where(Call.call_sid == request.form.get("CallSid", "")))
        if call is not None:
            record_event(
                session,
                call,
                now,
                kind="queue_event",
                outcome=queue_result or "unknown",
                detail={"queue_time": queue_time},
                idempotency_key=f"{call.call_sid}:queue-result:{queue_result}:{queue_time}",
            )
            entry = active_entry_for_call(session, call.id)
            if queue_result in ABANDONED_RESULTS | FAILED_RESULTS and entry is not None:
                caller_hung_up(session, entry, now)
                if queue_result in FAILED_RESULTS:
                    entry.status, entry.end_reason = QueueEntryStatus.FAILED, queue_result
            if queue_result in ABANDONED_RESULTS and call.outcome == CallOutcome.IN_PROGRESS:
                call.outcome, call.ended_at = CallOutcome.ABANDONED, now
            elif queue_result == "bridged":
                call.outcome = CallOutcome.ANSWERED
    if queue_result in FAILED_RESULTS:
        return twiml(safe_twiml())
    if queue_result == "leave":
        response.hangup()  # they chose a callback and heard it confirmed
    return twiml(response)


def _offered_entry(session: Session) -> tuple[QueueEntry, Adviser] | None:
    entry = session.get(QueueEntry, request.args.get("entry", type=int) or 0)
    if entry is None or entry.adviser_id is None:
        return None
    return entry, session.get_one(Adviser, entry.adviser_id)


@queue_bp.post("/connect")
@twilio_webhook
def connect() -> Response:
    """The matcher took this caller out of the queue: ring their adviser where they answer (routing.answering).

    A phone hears a whisper first and presses 1. A browser shows the desk's screen pop while it rings, so taking
    the call there (Accept in the Voice SDK) is the acceptance: its leg runs /answered, and the SDK gets the
    queue entry as a custom parameter to match the ringing call to its screen pop.
    """
    app_services, session = services(), db_session()
    response = VoiceResponse()
    with session.begin():
        found = _offered_entry(session)
        if found is None or found[0].status != QueueEntryStatus.OFFERED:
            # A stale or unknown offer: back to the queue rather than a dead end.
            call = call_of_request(session, app_services.clock.now())
            enqueue_caller(response, call.topic.value if call.topic else Topic.GENERAL.value, call.language)
            return twiml(response)
        entry, adviser = found
        prompts.say(response, "connecting", entry.language)
        dial = response.dial(
            action=url_for("queue.dial_result", entry=entry.id),
            timeout=app_services.settings.adviser_ring_seconds,
            answer_on_bridge=True,
        )
        if adviser.answers_on == AnswersOn.PHONE:
            dial.number(adviser.phone_number, url=url_for("queue.whisper", entry=entry.id))
        else:
            browser = dial.client(url=url_for("queue.answered", entry=entry.id))
            browser.identity(adviser.client_identity)
            browser.parameter(name="entry", value=str(entry.id))
    return twiml(response)


@queue_bp.post("/whisper")
@twilio_adviser_webhook
def whisper() -> Response:
    """Heard by the adviser only: who is calling about what, in which language; press 1 to take the call."""
    return _offer_to_adviser(callback_leg=False)


def _offer_to_adviser(callback_leg: bool) -> Response:
    """The adviser's side of an offer: who and why, then press 1 to take the call."""
    session = db_session()
    response = VoiceResponse()
    with session.begin():
        found = _offered_entry(session)
        if found is not None and found[0].status == QueueEntryStatus.OFFERED:
            entry = found[0]
            call = session.get(Call, entry.call_id or 0)
            reference = call.reference if call is not None else None
            waited = int((services().clock.now() - entry.joined_at).total_seconds())
            gather = response.gather(
                num_digits=1, timeout=WHISPER_TIMEOUT_SECONDS, action=url_for("queue.accept", entry=entry.id)
            )
            prompts.say_to_adviser(
                gather,
                prompts.whisper(entry.topic.value, entry.language, reference, waited, callback=callback_leg),
            )
            prompts.say_to_adviser(response, "not_accepted")
            response.hangup()
            return twiml(response)
    prompts.say_to_adviser(response, "offer_gone")
    response.hangup()
    return twiml(response)


@queue_bp.post("/accept")
@twilio_adviser_webhook
def accept() -> Response:
    """The adviser's key after the whisper: 1 connects them; anything else declines (the caller is offered on)."""
    return _take_offer(accepted=request.form.get("Digits") == "1")


@queue_bp.post("/answered")
@twilio_adviser_webhook
def answered() -> Response:
    """The adviser took the call in the browser (the `<Client>` leg was answered): that is the acceptance."""
    return _take_offer(accepted=True)


def _take_offer(accepted: bool) -> Response:
    """Connect an accepted offer (empty TwiML: Twilio bridges the legs); hang up the adviser's leg otherwise."""
    app_services, session = services(), db_session()
    now = app_services.clock.now()
    response = VoiceResponse()
    with session.begin():
        found = _offered_entry(session)
        if accepted and found and found[0].status == QueueEntryStatus.CONNECTED:
            return twiml(response)  # a retry of the acceptance: still connect
        if not accepted or found is None or found[0].status != QueueEntryStatus.OFFERED:
            response.hangup()
            return twiml(response)
        entry, _adviser = found
        ready_store(app_services, session).release_assignment(entry_store_key(session, entry))
        entry.status, entry.connected_at = QueueEntryStatus.CONNECTED, now
        call = session.get(Call, entry.call_id) if entry.call_id else None
        if call is not None:
            call.outcome = CallOutcome.ANSWERED
            record_event(
                session,
                call,
                now,
                kind="queue_event",
                node=entry.topic.value,
                outcome="connected",
                detail={"adviser_id": entry.adviser_id},
                idempotency_key=f"{call.call_sid}:queue-connected:{entry.id}",
            )
    return twiml(response)  # empty: Twilio bridges the two legs


@queue_bp.post("/dial-result")
@twilio_webhook
def dial_result() -> Response:
    """The adviser leg ended: after a conversation, goodbye; after a missed offer, back to their old place."""
    app_services, session = services(), db_session()
    now = app_services.clock.now()
    response = VoiceResponse()
    with session.begin():
        found = _offered_entry(session)
        if found is None:
            prompts.say(response, "goodbye", "en-GB")
            response.hangup()
            return twiml(response)
        entry, adviser = found
        if entry.status == QueueEntryStatus.CONNECTED:
            _conversation_over(session, entry, adviser, now)
            prompts.say(response, "goodbye", entry.language)
            response.hangup()
            return twiml(response)
        if entry.status == QueueEntryStatus.OFFERED:
            missed_offer(session, entry, adviser, now, request.form.get("DialCallStatus") or "no-answer")
        call = session.get(Call, entry.call_id) if entry.call_id else None
        topic, language = entry.topic.value, entry.language
        reasons = list(entry.priority_reasons)
        priority = entry.priority
    # No matching now: the caller is not back in Twilio's queue until this TwiML runs; their next hold round asks.
    prompts.say(response, "still_your_place", language)
    enqueue_caller(response, topic, language, priority, reasons)
    if call is None:
        log.warning("queue.dial_result_without_call", entry_id=entry.id)
    return twiml(response)


def _conversation_over(session: Session, entry: QueueEntry, adviser: Adviser, now: datetime) -> None:
    if entry.ended_at is None:
        entry.ended_at, entry.end_reason = now, "conversation ended"
        start_wrap_up(session, entry, now)
        if adviser.state == AdviserState.ON_CALL:
            finish_call(services(), session, adviser.id)


def missed_offer(session: Session, entry: QueueEntry, adviser: Adviser, now: datetime, why: str) -> None:
    """The adviser didn't take the offer: pause them with a reason; the caller keeps their place, minus them.

    A desk call-back (entry.direct) was that adviser's own: it ends, and the callback stays with the dialler.
    """
    reason = f"missed an offered call ({why})"
    store = ready_store(services(), session)
    key = entry_store_key(session, entry)
    if entry.direct:
        store.release_assignment(key)
        store.set_adviser_state(adviser_key(adviser.id), AdviserState.BREAK.value, now, reason)
        end_entry(entry, QueueEntryStatus.FAILED, now, "adviser did not answer")
    else:
        store.reject_offer(key, now, adviser_state=AdviserState.BREAK.value, reason=reason)
        entry.status, entry.adviser_id, entry.offered_at = QueueEntryStatus.WAITING, None, None
        entry.skipped_adviser_ids = [*entry.skipped_adviser_ids, adviser.id]
    record_adviser_state(session, adviser, AdviserState.BREAK, now, reason)
    log.info("queue.offer_missed", entry_id=entry.id, adviser_id=adviser.id, dial_status=why)


# --- the caller's line itself ended -----------------------------------------------------------------------

call_status_bp = Blueprint("call_status", __name__, url_prefix="/voice")
FINAL_CALL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}


@call_status_bp.post("/status")
@twilio_webhook
def call_status() -> Response:
    """The number's status callback: a caller who hung up anywhere (even mid-offer) leaves the queue for good."""
    if request.form.get("CallStatus") not in FINAL_CALL_STATUSES:
        return twiml(VoiceResponse())
    app_services, session = services(), db_session()
    now = app_services.clock.now()
    with session.begin():
        found = session.scalar(select(Call.id).where(Call.call_sid == request.form.get("CallSid", "")))
        if found is None:
            return twiml(VoiceResponse())
        call = lock_call(session, found)  # a hold round in flight finishes first (see call_of_request)
        call.ended_at = call.ended_at or now
        entry = active_entry_for_call(session, call.id)
        if entry is not None:
            caller_hung_up(session, entry, now)
            if call.outcome == CallOutcome.IN_PROGRESS:
                call.outcome = CallOutcome.ABANDONED
    return twiml(VoiceResponse())


def caller_hung_up(session: Session, entry: QueueEntry, now: datetime) -> None:
    """End a live caller's place; an adviser who was being offered them is simply free again (not paused)."""
    store = ready_store(services(), session)
    key = entry_store_key(session, entry)
    if entry.status == QueueEntryStatus.OFFERED and entry.adviser_id is not None:
        adviser = session.get_one(Adviser, entry.adviser_id)
        store.release_assignment(key)
        store.set_adviser_state(str(adviser.id), AdviserState.AVAILABLE.value, now, "caller hung up")
        record_adviser_state(session, adviser, AdviserState.AVAILABLE, now, "caller hung up")
    else:
        store.remove_waiting(key)
    end_entry(entry, QueueEntryStatus.ABANDONED, now, "caller hung up")
