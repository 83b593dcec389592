"""A callback a supervisor gave to one adviser is offered to that adviser first when it falls due, and is never
stranded on them: offline → the dialler rings the resident for anyone; busy → it waits a little, then the same.

Whole calls through the simulated Twilio against the live app (real database and Redis).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from callbacks import supervision
from callbacks.lifecycle import ASSIGNED_ADVISER_WAIT, dial_callback
from callbacks.service import request_callback
from models import Adviser, AdviserState, Callback, CallbackStatus, QueueEntry, Topic
from models.audit import AuditEvent
from models.demo import client_identity_for
from simulator.live import CouncilLine

RESIDENT = "+447400123456"
TOM, AISHA = "Tom Hirst", "Aisha Khan"  # both take council tax calls at Huddersfield


@pytest.fixture
def line(live_service) -> CouncilLine:
    council = CouncilLine(live_service)
    council.install_demo_council()
    return council


def adviser_id(line: CouncilLine, name: str) -> int:
    with line.live.services.session_factory() as session:
        return session.scalars(select(Adviser.id).where(Adviser.name == name)).one()


def due_callback_for(line: CouncilLine, name: str | None) -> int:
    services, now = line.live.services, line.clock.now()
    with services.session_factory.begin() as session:
        callback = request_callback(
            session, RESIDENT, Topic.COUNCIL_TAX, now, reference="87654321", status=CallbackStatus.SCHEDULED
        ).callback
        callback.next_attempt_at = now
        session.flush()
        if name is not None:
            supervision.reassign_callback(session, callback.id, adviser_id(line, name), now, None)
        return callback.id


def resident_calls(line: CouncilLine) -> list:
    return [call for call in line.world.calls.values() if call.to == RESIDENT]


def test_the_assigned_adviser_is_rung_first_even_when_another_with_the_skill_has_waited_longer(line):
    line.make_available([client_identity_for(AISHA)])  # longest idle, and the more proficient
    line.clock.advance(60)
    line.make_available([client_identity_for(TOM)])
    callback_id = due_callback_for(line, TOM)

    assert dial_callback(line.live.services, callback_id, 1) == "offered to assigned adviser"
    line.settle()

    tom, aisha = line.world.client(client_identity_for(TOM)), line.world.client(client_identity_for(AISHA))
    assert aisha.pending_offers == []
    assert len(tom.pending_offers) == 1
    assert resident_calls(line) == [], "the resident is rung only once their adviser answers"
    line.world.phone(RESIDENT).will_answer(talk_seconds=30)
    tom.answer()
    line.settle()
    assert len(resident_calls(line)) == 1
    with line.live.services.session_factory() as session:
        callback = session.get_one(Callback, callback_id)
        [attempt] = callback.attempt_records
        assert attempt.adviser_id == adviser_id(line, TOM)
        assert callback.status in (CallbackStatus.DIALLING, CallbackStatus.CONNECTED)


def test_without_an_assigned_adviser_the_dialler_rings_the_resident_straight_away(line):
    line.make_available([client_identity_for(TOM)])
    callback_id = due_callback_for(line, None)

    assert dial_callback(line.live.services, callback_id, 1) == "dialled"
    assert len(resident_calls(line)) == 1
    assert line.world.client(client_identity_for(TOM)).pending_offers == []


def test_an_assigned_adviser_who_is_offline_does_not_strand_the_callback(line):
    line.make_available([client_identity_for(AISHA)])  # Tom stays offline
    callback_id = due_callback_for(line, TOM)
    line.world.phone(RESIDENT).will_answer(talk_seconds=30)

    assert dial_callback(line.live.services, callback_id, 1) == "dialled"
    line.settle()

    assert len(resident_calls(line)) == 1
    aisha = line.world.client(client_identity_for(AISHA))
    assert len(aisha.pending_offers) == 1, "the resident queued and went to the adviser who is there"


def test_a_busy_assigned_adviser_is_waited_for_a_short_while_then_anyone_takes_it(line):
    services = line.live.services
    line.make_available([client_identity_for(TOM)])
    with services.session_factory.begin() as session:  # Tom is on a call
        tom = session.scalars(select(Adviser).where(Adviser.name == TOM)).one()
        from routing.live import adviser_key, ready_store
        from routing.queueing import record_adviser_state

        ready_store(services, session).set_adviser_state(
            adviser_key(tom.id), AdviserState.ON_CALL.value, line.clock.now(), "on a call"
        )
        record_adviser_state(session, tom, AdviserState.ON_CALL, line.clock.now(), "on a call")
    line.make_available([client_identity_for(AISHA)])
    callback_id = due_callback_for(line, TOM)

    assert dial_callback(services, callback_id, 1) == "waiting for assigned adviser"
    assert resident_calls(line) == []
    assert any("-adviser-" in job_id for job_id in services.queue.scheduled_job_registry.get_job_ids())

    line.clock.advance(ASSIGNED_ADVISER_WAIT.total_seconds())
    assert dial_callback(services, callback_id, 1) == "dialled"
    assert len(resident_calls(line)) == 1


def test_an_offer_the_assigned_adviser_misses_goes_back_to_the_dialler(line):
    services = line.live.services
    line.make_available([client_identity_for(TOM), client_identity_for(AISHA)])
    callback_id = due_callback_for(line, TOM)
    assert dial_callback(services, callback_id, 1) == "offered to assigned adviser"
    line.settle()
    assert dial_callback(services, callback_id, 1) == "waiting for assigned adviser"  # still ringing

    line.world.client(client_identity_for(TOM)).reject()
    line.settle()

    with services.session_factory() as session:
        assert session.get_one(Adviser, adviser_id(line, TOM)).state == AdviserState.BREAK
        entries = session.scalars(select(QueueEntry).where(QueueEntry.callback_id == callback_id)).all()
        assert [entry.end_reason for entry in entries] == ["adviser did not answer"]
    assert dial_callback(services, callback_id, 1) == "dialled"


def test_a_reassignment_is_audited_with_the_adviser_before_and_after(line):
    callback_id = due_callback_for(line, TOM)
    with line.live.services.session_factory.begin() as session:
        supervision.reassign_callback(session, callback_id, adviser_id(line, AISHA), line.clock.now(), None)
    with line.live.services.session_factory() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.subject_id == callback_id).order_by(AuditEvent.id)
        ).all()
    assert [(e.before["assigned_adviser"], e.after["assigned_adviser"]) for e in events] == [
        (None, TOM),
        (TOM, AISHA),
    ]
