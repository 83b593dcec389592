"""The callback lifecycle on the real database and Redis: claims, the reconciler, retries, texts, status replays."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest
from rq.job import JobStatus
from rq.registry import ScheduledJobRegistry

from callbacks import lifecycle
from callbacks.lifecycle import (
    DEFAULT_SERVICE_HOURS,
    claim_attempt,
    dial_job_id,
    reconcile,
    reconcile_if_forgotten,
    retry_time,
    schedule_callback,
    sweep_due_dials,
)
from callbacks.service import request_callback
from ivr.hours import LONDON
from models import Callback, CallbackAttempt, CallbackStatus, Library, Topic
from runtime.worker import DialSweeper
from simulator.live import run_queued_jobs
from tests.conftest import call_form, callback_with_attempts

MOBILE = "+447400123456"
LANDLINE = "+441484123456"
WEEKDAYS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
SLOT_TOMORROW = (datetime(2026, 11, 26, 10, 0, tzinfo=UTC), datetime(2026, 11, 26, 11, 0, tzinfo=UTC))


def book(services, now, number=MOBILE, due=None, slot=None, confirmed=True) -> int:
    with services.session_factory.begin() as session:
        callback = request_callback(session, number, Topic.COUNCIL_TAX, now, slot=slot).callback
        callback.status = CallbackStatus.SCHEDULED
        callback.next_attempt_at = due or (slot[0] if slot else now)
        if confirmed:
            callback.confirmation_sent_at = now
        return callback.id


def state(services, callback_id):
    return callback_with_attempts(services.session_factory, callback_id)


def queued_job_ids(services) -> list[str]:
    return services.queue.get_job_ids()


# --- claims ------------------------------------------------------------------------------------------------


def test_eight_workers_racing_for_one_attempt_leave_exactly_one_claim(app, clock):
    services = app.extensions["contact_centre"]
    callback_id = book(services, clock.now())
    start = threading.Barrier(8)
    claims = []

    def race(worker: int) -> None:
        start.wait()
        with services.session_factory.begin() as session:
            claims.append(claim_attempt(session, callback_id, 1, clock.now(), f"worker-{worker}"))

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [claim for claim in claims if claim is not None]
    assert len(claims) == 8 and len(winners) == 1
    callback, attempts = state(services, callback_id)
    assert callback.status == CallbackStatus.DIALLING and callback.attempts == 1
    assert [(a.id, a.number) for a in attempts] == [(winners[0].attempt_id, 1)]


def test_two_workers_running_the_same_dial_job_ring_the_resident_once(live_service):
    services = live_service.services
    callback_id = book(services, live_service.clock.now())
    start = threading.Barrier(2)
    outcomes = []

    def worker() -> None:
        start.wait()
        outcomes.append(lifecycle.dial_callback(services, callback_id, 1))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["dialled", "not claimed"]
    calls = [c for c in live_service.world.calls.values() if c.to == MOBILE]
    assert len(calls) == 1
    _, attempts = state(services, callback_id)
    assert [a.call_sid for a in attempts] == [calls[0].sid]


def test_a_callback_not_yet_due_is_not_claimed(app, clock):
    services = app.extensions["contact_centre"]
    callback_id = book(services, clock.now(), due=clock.now() + timedelta(minutes=5))
    with services.session_factory.begin() as session:
        assert claim_attempt(session, callback_id, 1, clock.now(), "worker") is None
    assert lifecycle.dial_callback(services, callback_id, 1) == "early"


# --- scheduling and the reconciler ---------------------------------------------------------------------------


def test_a_later_dial_job_is_scheduled_a_second_before_its_due_second_to_wait_for_the_instant(app, clock):
    services = app.extensions["contact_centre"]
    due = clock.now() + timedelta(minutes=30, milliseconds=250)
    callback_id = book(services, clock.now(), due=due)

    assert schedule_callback(services, callback_id) == dial_job_id(callback_id, 1)
    assert schedule_callback(services, callback_id) == dial_job_id(callback_id, 1)  # again: still one job

    registry = ScheduledJobRegistry(queue=services.queue)
    assert registry.get_job_ids() == [dial_job_id(callback_id, 1)]
    scheduled_for = registry.get_scheduled_time(dial_job_id(callback_id, 1))
    assert scheduled_for == due.replace(microsecond=0) - timedelta(seconds=1)


def test_a_dial_job_that_wakes_early_waits_and_never_rings_before_the_due_instant(live_service, monkeypatch):
    services, clock = live_service.services, live_service.clock
    due = clock.now() + timedelta(milliseconds=1700)
    callback_id = book(services, clock.now(), due=due)
    dialled_at = []
    create_call = services.gateway.create_call

    def recording_create_call(**kwargs):
        dialled_at.append(clock.now())
        return create_call(**kwargs)

    def sleep_on_a_coarse_clock(seconds: float) -> None:
        clock.advance(seconds * 0.6)  # wakes before the time asked for, as a sleep may on another clock

    monkeypatch.setattr(services.gateway, "create_call", recording_create_call)
    outcome = lifecycle.dial_callback(services, callback_id, 1, sleep=sleep_on_a_coarse_clock)

    assert outcome == "dialled"
    assert len(dialled_at) == 1 and dialled_at[0] >= due
    _, attempts = state(services, callback_id)
    assert attempts[0].claimed_at >= due


def test_a_dial_job_waking_for_a_cancelled_callback_does_nothing(live_service):
    services, clock = live_service.services, live_service.clock
    callback_id = book(services, clock.now(), due=clock.now() + timedelta(seconds=1))
    with services.session_factory.begin() as session:
        session.get_one(Callback, callback_id).status = CallbackStatus.CANCELLED

    assert lifecycle.dial_callback(services, callback_id, 1, sleep=clock.advance) == "not claimed"
    assert [c for c in live_service.world.calls.values() if c.to == MOBILE] == []


def test_reconciler_replaces_a_dial_job_whose_worker_died_before_claiming(app, clock):
    services = app.extensions["contact_centre"]
    callback_id = book(services, clock.now())
    schedule_callback(services, callback_id)
    job = services.queue.fetch_job(dial_job_id(callback_id, 1))
    # What a worker killed mid-wait leaves behind: RQ still says "started" and nobody claimed the callback.
    job.set_status(JobStatus.STARTED)
    services.queue.remove(job)

    assert reconcile(services).dials_enqueued == 0  # a job that just started is left to finish
    clock.advance(lifecycle.DIAL_JOB_DEAD_AFTER + timedelta(seconds=1))
    assert reconcile(services).dials_enqueued == 1
    assert queued_job_ids(services) == [dial_job_id(callback_id, 1)]


def test_reconciler_re_enqueues_a_due_callback_after_redis_is_flushed_and_only_once(live_service):
    services, clock = live_service.services, live_service.clock
    callback_id = book(services, clock.now(), due=clock.now() + timedelta(minutes=10))
    schedule_callback(services, callback_id)
    services.redis.flushdb()  # RQ's scheduled job is gone; the database still says "scheduled"

    clock.advance(timedelta(minutes=10))
    first = reconcile(services)
    second = reconcile(services)

    assert first.dials_enqueued == 1 and second.dials_enqueued == 0
    assert queued_job_ids(services) == [dial_job_id(callback_id, 1)]
    run_queued_jobs(services)
    assert len([c for c in live_service.world.calls.values() if c.to == MOBILE]) == 1


def test_reconciler_reschedules_upcoming_dials_a_flush_lost(app, clock):
    services = app.extensions["contact_centre"]
    callback_id = book(services, clock.now(), due=clock.now() + timedelta(seconds=40))
    report = reconcile(services)
    assert report.dials_enqueued == 1
    assert dial_job_id(callback_id, 1) in ScheduledJobRegistry(queue=services.queue).get_job_ids()
    assert queued_job_ids(services) == []


def test_a_redis_restarted_empty_is_reconciled_at_once_by_one_worker_and_the_chain_re_armed(app, clock):
    services = app.extensions["contact_centre"]
    assert reconcile_if_forgotten(services) is not None  # a fresh Redis: nothing has reconciled against it
    assert reconcile_if_forgotten(services) is None
    callback_id = book(services, clock.now(), slot=SLOT_TOMORROW, confirmed=False)
    services.redis.flushdb()  # restarted empty: the confirmation's job and the reconciler's chain are gone

    first, second = reconcile_if_forgotten(services), reconcile_if_forgotten(services)

    assert first is not None and first.texts_enqueued == 1 and second is None
    assert queued_job_ids(services) == [lifecycle.sms_job_id(callback_id, "confirmation")]
    scheduled = ScheduledJobRegistry(queue=services.queue).get_job_ids()
    assert [job_id for job_id in scheduled if job_id.startswith("callbacks-reconcile-")] != []


def test_a_reconcile_that_fails_after_redis_came_back_is_tried_again_on_the_next_ask(app, clock, monkeypatch):
    services = app.extensions["contact_centre"]
    book(services, clock.now(), slot=SLOT_TOMORROW, confirmed=False)

    def database_down(*args, **kwargs):
        raise OSError("database unreachable")

    monkeypatch.setattr(lifecycle, "_reenqueue_texts", database_down)
    with pytest.raises(OSError):
        reconcile_if_forgotten(services)
    monkeypatch.undo()
    report = reconcile_if_forgotten(services)
    assert report is not None and report.texts_enqueued == 1


# --- the dial sweep: what RQ lost or stalled is queued within a moment, not at the next reconcile ----------


def test_sweep_queues_at_once_a_dial_of_the_next_second_that_a_redis_restart_lost(app, clock):
    services = app.extensions["contact_centre"]
    soon = book(services, clock.now(), due=clock.now() + timedelta(milliseconds=700))
    later = book(services, clock.now(), number=LANDLINE, due=clock.now() + timedelta(seconds=30))
    schedule_callback(services, soon)
    schedule_callback(services, later)
    services.redis.flushdb()  # a restarted Redis: queue, schedule and scheduler lock all gone

    assert sweep_due_dials(services) == 1  # the next second's dial; the later one is left to the reconciler
    assert sweep_due_dials(services) == 0  # queued now: a second sweep adds nothing
    assert queued_job_ids(services) == [dial_job_id(soon, 1)]


def test_sweep_leaves_alone_dials_rq_holds_and_will_start_in_time(app, clock):
    services = app.extensions["contact_centre"]
    queued = book(services, clock.now(), due=clock.now() + timedelta(milliseconds=300))
    schedule_callback(services, queued)  # within DIAL_LEAD: queued straight away
    scheduled = book(services, clock.now(), number=LANDLINE, due=clock.now() + timedelta(seconds=2))
    schedule_callback(services, scheduled)  # in RQ's schedule, for a second from now
    # Its start time has just passed: RQ's scheduler, polling each second, is about to move it.
    clock.advance(timedelta(seconds=1, milliseconds=100))

    assert sweep_due_dials(services) == 0
    assert queued_job_ids(services) == [dial_job_id(queued, 1)]
    assert ScheduledJobRegistry(queue=services.queue).get_job_ids() == [dial_job_id(scheduled, 1)]


def test_sweep_takes_a_dial_out_of_rqs_schedule_when_no_scheduler_moved_it(app, clock):
    services = app.extensions["contact_centre"]
    callback_id = book(services, clock.now(), due=clock.now() + timedelta(seconds=10))
    schedule_callback(services, callback_id)
    clock.advance(timedelta(seconds=10))  # due, so its start time passed a scheduler poll ago

    assert sweep_due_dials(services) == 1
    # Moved, not copied: a scheduler that comes back finds nothing left to run a second time.
    assert ScheduledJobRegistry(queue=services.queue).get_job_ids() == []
    assert queued_job_ids(services) == [dial_job_id(callback_id, 1)]


def test_a_dial_job_that_failed_before_its_claim_is_retried_by_the_reconciler_not_the_sweep(app, clock):
    services = app.extensions["contact_centre"]
    callback_id = book(services, clock.now(), due=clock.now() + timedelta(milliseconds=500))
    schedule_callback(services, callback_id)
    job = services.queue.fetch_job(dial_job_id(callback_id, 1))
    job.set_status(JobStatus.FAILED)  # it ran and raised before claiming: the database was down, say
    services.queue.remove(job)

    assert sweep_due_dials(services) == 0  # not every half second
    assert reconcile(services).dials_enqueued == 1  # but every reconcile interval
    assert queued_job_ids(services) == [dial_job_id(callback_id, 1)]


def test_one_worker_sweeps_per_interval_and_the_sweeper_thread_recovers_a_lost_dial(app, clock):
    services = app.extensions["contact_centre"]
    callback_id = book(services, clock.now(), due=clock.now() + timedelta(milliseconds=500))
    first, second = DialSweeper(services), DialSweeper(services)

    assert first.sweep_once(lock_ms=60_000) == 1
    assert second.sweep_once(lock_ms=60_000) is None  # the other worker swept a moment ago
    services.redis.flushdb()

    second.start()  # the real thread, on its real interval
    try:
        deadline = time.monotonic() + 10
        while dial_job_id(callback_id, 1) not in queued_job_ids(services) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        second.stopped.set()
        second.join(timeout=5)
    assert queued_job_ids(services) == [dial_job_id(callback_id, 1)]
    assert not second.is_alive()


def test_stale_claim_whose_call_twilio_finished_unanswered_is_settled_and_retried(live_service):
    services, clock, world = live_service.services, live_service.clock, live_service.world
    world.phone(MOBILE).will_not_answer()
    callback_id = book(services, clock.now())
    # A worker dialled, then its status callback never reached us (the URL points nowhere).
    with services.session_factory.begin() as session:
        claim = claim_attempt(session, callback_id, 1, clock.now(), "worker-gone")
    call_sid = services.gateway.create_call(to=MOBILE, url=f"{live_service.base_url}/callbacks/voice/answer")
    with services.session_factory.begin() as session:
        session.get_one(CallbackAttempt, claim.attempt_id).call_sid = call_sid
    world.run_pending()

    clock.advance(timedelta(seconds=services.settings.callback_stale_claim_seconds + 1))
    reconcile(services)

    callback, attempts = state(services, callback_id)
    assert [a.result for a in attempts] == ["no-answer"]
    assert callback.status == CallbackStatus.SCHEDULED and callback.attempts == 1
    assert len([c for c in world.calls.values() if c.to == MOBILE]) == 1


# --- retries inside opening hours ----------------------------------------------------------------------------


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("failed_dials", "now", "expected"),
    [
        (1, london(2026, 11, 25, 10, 0, 0, 400000), london(2026, 11, 25, 10, 15, 1)),  # whole seconds, later
        (2, london(2026, 11, 25, 10, 0), london(2026, 11, 25, 11, 0)),
        (1, london(2026, 11, 25, 16, 50), london(2026, 11, 26, 9, 0)),  # 17:05 is closed: next morning
        (2, london(2026, 11, 27, 16, 30), london(2026, 11, 30, 9, 0)),  # Friday evening: Monday
        (3, london(2026, 11, 25, 10, 0), london(2026, 11, 26, 9, 0)),  # third: the next opening day
        # Christmas Eve evening: Christmas, Boxing Day (observed Monday 28th) and the weekend are skipped.
        (1, london(2026, 12, 24, 16, 50), london(2026, 12, 29, 9, 0)),
    ],
)
def test_retries_back_off_and_land_inside_opening_hours(failed_dials, now, expected):
    assert retry_time(failed_dials, now.astimezone(UTC), [DEFAULT_SERVICE_HOURS]) == expected.astimezone(UTC)


def test_after_the_last_unanswered_dial_the_callback_fails_and_a_mobile_gets_one_final_text(live_service):
    services, clock, world = live_service.services, live_service.clock, live_service.world
    phone = world.phone(MOBILE)
    with services.session_factory.begin() as session:
        session.add(
            Library(
                name="Huddersfield",
                address="Princess Alexandra Walk",
                postcode="HD1 2SU",
                opening_hours=WEEKDAYS,
            )
        )
    callback_id = book(services, clock.now())
    schedule_callback(services, callback_id)

    for script in (phone.will_be_busy, phone.will_go_to_voicemail, phone.will_not_answer):
        script()
        callback, _ = state(services, callback_id)
        clock.set(max(clock.now(), callback.next_attempt_at))
        reconcile(services)
        run_queued_jobs(services)
        world.run_pending()
    run_queued_jobs(services)  # the final text
    reconcile(services)
    run_queued_jobs(services)

    callback, attempts = state(services, callback_id)
    assert [a.result for a in attempts] == ["busy", "machine", "no-answer"]
    assert callback.status == CallbackStatus.FAILED and callback.final_sms_sent_at is not None
    texts = [m.body for m in world.messages if m.to == MOBILE]
    assert len(texts) == 1 and "We tried to call you back about council tax" in texts[0]
    assert "01484 221000" in texts[0]
    # Nobody has helped this resident before: their hub is the default one, to book face to face.
    assert (
        "visit Huddersfield Library (Princess Alexandra Walk) to book a face-to-face appointment" in texts[0]
    )


def test_a_polish_residents_texts_are_in_polish_and_name_the_hub_of_their_slot(live_service):
    services, clock, world = live_service.services, live_service.clock, live_service.world
    with services.session_factory.begin() as session:
        dewsbury = Library(
            name="Dewsbury", address="Railway Street", postcode="WF12 8EQ", opening_hours=WEEKDAYS
        )
        session.add(dewsbury)
        session.flush()
        slot = (datetime(2026, 11, 26, 10, tzinfo=UTC), datetime(2026, 11, 26, 11, tzinfo=UTC))  # Thursday
        callback = request_callback(
            session,
            MOBILE,
            Topic.COUNCIL_TAX,
            clock.now(),
            language="pl-PL",
            slot=slot,
            library_id=dewsbury.id,
        ).callback
        callback.status, callback.next_attempt_at = CallbackStatus.SCHEDULED, slot[0]
        callback_id = callback.id
    schedule_callback(services, callback_id)
    run_queued_jobs(services)  # the confirmation
    with services.session_factory.begin() as session:
        session.get(Callback, callback_id).status = CallbackStatus.FAILED
    lifecycle.send_callback_sms(services, callback_id, "final")

    confirmation, final = [m.body for m in world.messages if m.to == MOBILE]
    assert confirmation.startswith(
        "Rada Kirklees oddzwoni w sprawie: podatek lokalny, w czwartek 26 listopada"
    )
    assert "między 10:00 a 11:00" in confirmation and "odpisz CANCEL" in confirmation
    assert "umówić wizytę w bibliotece w Dewsbury (Railway Street)" in final


def test_a_landline_gets_no_texts(live_service):
    services, clock, world = live_service.services, live_service.clock, live_service.world
    world.phone(LANDLINE).will_not_answer()
    callback_id = book(services, clock.now(), number=LANDLINE, confirmed=False)
    schedule_callback(services, callback_id)
    run_queued_jobs(services)
    world.run_pending()
    assert [m for m in world.messages if m.to == LANDLINE] == []
    callback, _ = state(services, callback_id)
    assert callback.confirmation_sent_at is None and callback.status == CallbackStatus.SCHEDULED


# --- texts ---------------------------------------------------------------------------------------------------


def test_reminder_is_sent_once_an_hour_before_the_slot_even_after_its_job_was_lost(live_service):
    services, clock, world = live_service.services, live_service.clock, live_service.world
    slot = (clock.now() + timedelta(hours=4), clock.now() + timedelta(hours=4, minutes=30))
    callback_id = book(services, clock.now(), slot=slot)
    schedule_callback(services, callback_id)
    reminder_job = lifecycle.sms_job_id(callback_id, "reminder")
    registry = ScheduledJobRegistry(queue=services.queue)
    assert registry.get_scheduled_time(reminder_job) == slot[0] - timedelta(hours=1)

    services.redis.flushdb()
    clock.advance(timedelta(hours=3, minutes=5))
    assert reconcile(services).texts_enqueued == 1
    run_queued_jobs(services)
    assert lifecycle.send_callback_sms(services, callback_id, "reminder") is None  # never twice
    reconcile(services)
    run_queued_jobs(services)

    texts = [m.body for m in world.messages if m.to == MOBILE]
    assert len(texts) == 1 and texts[0].startswith("Reminder:") and "between 14:00 and 14:30" in texts[0]


# --- voice webhooks ------------------------------------------------------------------------------------------


def _claimed(app, clock, number=MOBILE) -> tuple[int, int]:
    services = app.extensions["contact_centre"]
    callback_id = book(services, clock.now(), number=number)
    with services.session_factory.begin() as session:
        claim = claim_attempt(session, callback_id, 1, clock.now(), "worker")
    return callback_id, claim.attempt_id


def _verbs(response) -> list[ElementTree.Element]:
    return list(ElementTree.fromstring(response.data))


def test_a_person_answering_hears_who_is_calling_and_joins_the_queue_as_a_scheduled_callback(
    app, clock, twilio_post
):
    callback_id, attempt_id = _claimed(app, clock)
    form = call_form(
        "CA" + "a" * 32, From="+441484221000", To=MOBILE, AnsweredBy="human", Direction="outbound-api"
    )

    response = twilio_post(f"/callbacks/voice/answer?attempt={attempt_id}", form)

    say, enqueue = _verbs(response)
    assert say.tag == "Say" and "returning your call about council tax" in say.text
    assert enqueue.tag == "Enqueue" and enqueue.text == "council_tax"
    assert "reason=scheduled+callback" in enqueue.get("waitUrl")
    callback, attempts = state(app.extensions["contact_centre"], callback_id)
    assert callback.status == CallbackStatus.CONNECTED and callback.completed_at == clock.now()
    assert attempts[0].call_sid == "CA" + "a" * 32 and attempts[0].result == "connected"


def test_an_answering_machine_is_hung_up_on_without_a_word(app, clock, twilio_post):
    callback_id, attempt_id = _claimed(app, clock)
    form = call_form("CA" + "b" * 32, To=MOBILE, AnsweredBy="machine_start", Direction="outbound-api")

    verbs = _verbs(twilio_post(f"/callbacks/voice/answer?attempt={attempt_id}", form))

    assert [v.tag for v in verbs] == ["Hangup"]
    callback, _ = state(app.extensions["contact_centre"], callback_id)
    assert callback.status == CallbackStatus.DIALLING


def test_callback_webhooks_refuse_unsigned_requests(app, clock, twilio_post):
    callback_id, attempt_id = _claimed(app, clock)
    for path in ("/callbacks/voice/answer", "/callbacks/voice/status"):
        response = twilio_post(f"{path}?attempt={attempt_id}", call_form(CallStatus="busy"), signed=False)
        assert response.status_code == 403
    callback, _ = state(app.extensions["contact_centre"], callback_id)
    assert callback.status == CallbackStatus.DIALLING


def test_a_replayed_final_status_callback_changes_nothing_twice(app, clock, twilio_post):
    services = app.extensions["contact_centre"]
    callback_id, attempt_id = _claimed(app, clock)
    form = call_form("CA" + "c" * 32, To=MOBILE, CallStatus="no-answer", Direction="outbound-api")

    first = twilio_post(f"/callbacks/voice/status?attempt={attempt_id}", form)
    after_first = state(services, callback_id)
    clock.advance(timedelta(minutes=1))
    second = twilio_post(f"/callbacks/voice/status?attempt={attempt_id}", form)
    callback, attempts = state(services, callback_id)

    assert first.status_code == second.status_code == 200
    assert callback.status == CallbackStatus.SCHEDULED and callback.attempts == 1
    assert (
        callback.next_attempt_at
        == after_first[0].next_attempt_at
        == datetime(2026, 11, 25, 10, 15, tzinfo=UTC)
    )
    assert [(a.result, a.ended_at) for a in attempts] == [
        ("no-answer", datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    ]
    assert ScheduledJobRegistry(queue=services.queue).get_job_ids() == [dial_job_id(callback_id, 2)]


def test_bench_smoke_its_fake_twilio_records_a_real_dial_and_answers_the_reconcilers_lookups(app, clock):
    from bench.callback_bench import FakeTwilio

    services = app.extensions["contact_centre"]
    twilio = FakeTwilio()
    try:
        gateway = type(services.gateway)(
            services.settings.twilio_account_sid, "token", "+441484221000", twilio.url
        )
        services.gateway = gateway
        callback_id = book(services, clock.now())
        assert lifecycle.dial_callback(services, callback_id, 1) == "dialled"
        (call,) = twilio.calls
        assert call["to"] == MOBILE
        assert [c.sid for c in gateway.recent_calls_to(MOBILE, datetime(2020, 1, 1, tzinfo=UTC))] == [
            call["sid"]
        ]
        assert gateway.fetch_call(str(call["sid"])).status == "in-progress"
    finally:
        twilio.stop()
