"""Every error path leaves the caller somewhere routing knows: whole calls through the simulator, which enforces
Twilio's waitUrl verb rule (Say, Play, Pause, Gather, Redirect, Leave, Hangup only)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

import ivr.service
import routing.views
from models import QueueEntry, QueueEntryStatus
from models.demo import client_identity_for
from simulator.live import CouncilLine

RESIDENT = "+447400123456"
TOM = client_identity_for("Tom Hirst")

pytestmark = pytest.mark.webhook_errors_expected


@pytest.fixture
def line(live_service) -> CouncilLine:
    council = CouncilLine(live_service)
    council.install_demo_council()
    return council


def _entries(line: CouncilLine) -> list[QueueEntry]:
    with line.live.services.session_factory() as session:
        return list(session.scalars(select(QueueEntry).order_by(QueueEntry.id)))


def _no_wait_twiml_refused(call) -> None:
    assert call.events("twiml-rejected") == [], call.events("twiml-rejected")


def test_a_menu_that_fails_queues_the_caller_where_routing_sees_them_and_an_adviser_answers(
    line, monkeypatch
):
    def broken(*_args, **_kwargs):
        raise RuntimeError("flow engine broke")

    monkeypatch.setattr(ivr.service.engine, "advance", broken)
    assert line.make_available([TOM]) == []
    call = line.world.place_call(to=line.council_number, url=line.incoming_url, from_=RESIDENT)
    call.press("1")  # the step fails: the apology, then the general queue with our waitUrl
    assert "sorry, something went wrong on our side." in " ".join(call.heard).lower()
    call.stay_silent()  # no key at the apology: stay on the line for an adviser
    assert call.in_queue
    [entry] = _entries(line)
    assert entry.topic.value == "general" and "fallback:error" in entry.priority_reasons

    line.settle()
    line.world.client(TOM).answer()
    assert call.bridged_with is not None
    _no_wait_twiml_refused(call)


def test_hold_rounds_that_fail_keep_the_caller_in_the_queue_and_their_wait_counts_when_they_recover(
    line, monkeypatch
):
    join_queue, failing = routing.views.join_queue, {"on": True}

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        if failing["on"]:
            raise RuntimeError("database away")
        return join_queue(*args, **kwargs)

    monkeypatch.setattr(routing.views, "join_queue", flaky)
    call = line.world.place_call(to=line.council_number, url=line.incoming_url, from_=RESIDENT)
    call.press("1")
    call.press("0")  # an adviser: the first hold rounds fail
    call.wait(90)
    assert call.in_queue, "still held by Twilio while our hold rounds fail"
    heard = " ".join(call.heard).lower()
    assert "please keep holding for an adviser" in heard
    _no_wait_twiml_refused(call)
    assert _entries(line) == []

    failing["on"] = False
    call.wait(40)  # the next round records them
    [entry] = _entries(line)
    assert entry.status == QueueEntryStatus.WAITING
    assert line.clock.now() - entry.joined_at >= timedelta(seconds=90), (
        "their place dates from when they rang"
    )

    assert line.make_available([TOM]) == []
    line.settle()
    line.world.client(TOM).answer()
    assert call.bridged_with is not None


def test_pressing_1_at_the_hold_apology_books_a_callback_and_ends_the_call_cleanly(line, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("database away")

    monkeypatch.setattr(routing.views, "join_queue", broken)
    line.world.phone(RESIDENT).will_answer()
    call = line.world.place_call(to=line.council_number, url=line.incoming_url, from_=RESIDENT)
    call.press("1")
    call.press("0")
    call.press("1")  # at "To ask for a call back instead, press 1"
    assert call.ended
    assert "call you back" in " ".join(call.heard).lower()
    assert line.callbacks_booked_on(call.sid) == 1
    _no_wait_twiml_refused(call)


def test_a_failing_acceptance_hangs_up_the_adviser_and_the_caller_keeps_their_place(line, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("acceptance broke")

    monkeypatch.setattr(routing.views, "_take_offer", broken)
    assert line.make_available([TOM]) == []
    call = line.world.place_call(to=line.council_number, url=line.incoming_url, from_=RESIDENT)
    call.press("1")
    call.press("0")
    line.settle()
    line.world.client(TOM).answer()
    call.wait(15)  # the caller's leg hears how the dial ended, then holds again
    assert call.bridged_with is None and not call.ended
    assert call.in_queue
    assert "you keep your place in the queue" in " ".join(call.heard).lower()
    [entry] = _entries(line)
    assert entry.status == QueueEntryStatus.WAITING and entry.skipped_adviser_ids
