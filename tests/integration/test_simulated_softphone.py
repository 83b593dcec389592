"""The desk's simulated softphone endpoints: a browser phone rings only while its page keeps it registered."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import QueueEntry, QueueEntryStatus
from models.demo import client_identity_for
from simulator import web
from simulator.live import CouncilLine

TOM = client_identity_for("Tom Hirst")
PHONE = f"/simulator/api/advisers/{TOM}"


@pytest.fixture
def line(live_service) -> CouncilLine:
    council = CouncilLine(live_service)
    council.install_demo_council()
    return council


@pytest.fixture
def desk(live_service):
    return live_service.app.test_client()


def _tom_available(line: CouncilLine) -> None:
    """Tom logs in as available from the console, without opening his browser phone."""
    from models import Adviser, AdviserState
    from routing.advisers import change_state

    services = line.live.services
    with services.session_factory.begin() as session:
        tom_id = session.scalars(select(Adviser.id).where(Adviser.client_identity == TOM)).one()
        change_state(services, session, tom_id, AdviserState.AVAILABLE.value, "start of shift")


def _caller_for_an_adviser(line: CouncilLine):
    call = line.world.place_call(to=line.council_number, url=line.incoming_url, from_="+447400123456")
    call.press("1")
    call.press("0")
    return call


def test_an_open_desk_is_rung_shows_the_entry_and_answering_connects_the_caller(line, desk):
    registered = desk.post(f"{PHONE}/register")
    assert registered.status_code == 200 and registered.get_json()["registered"] is True
    _tom_available(line)
    call = _caller_for_an_adviser(line)
    line.settle()

    [offer] = desk.get(f"{PHONE}/offers").get_json()["offers"]
    with line.live.services.session_factory() as session:
        entry = session.scalars(select(QueueEntry)).one()
    assert offer["from"] == "+447400123456" and offer["parameters"] == {"entry": str(entry.id)}

    answered = desk.post(f"{PHONE}/answer").get_json()
    assert answered["current_call"]["bridged_with"] == "+447400123456"
    assert call.bridged_with is not None
    muted = desk.post(f"{PHONE}/mute", json={"muted": True}).get_json()
    assert muted["muted"] is True and not call.ended, "mute is a flag only: the call carries on"
    assert desk.post(f"{PHONE}/mute", json={"muted": "yes"}).status_code == 400

    ended = desk.post(f"{PHONE}/hangup").get_json()
    assert ended["current_call"]["ended"] is True
    with line.live.services.session_factory() as session:
        assert session.scalars(select(QueueEntry.status)).one() == QueueEntryStatus.CONNECTED


def test_a_closed_desk_is_not_rung_and_the_adviser_is_paused_at_once(line, desk):
    desk.post(f"{PHONE}/register")
    desk.post(f"{PHONE}/unregister")
    _tom_available(line)
    call = _caller_for_an_adviser(line)
    line.settle()

    state = desk.get(f"{PHONE}/offers").get_json()
    assert state["registered"] is False and state["offers"] == []
    assert state["routing_state"] == "break" and "missed an offered call" in state["state_reason"]
    assert call.in_queue


def test_a_desk_whose_heartbeat_stopped_stops_ringing_and_must_register_again(line, desk, monkeypatch):
    elapsed = [1000.0]
    monkeypatch.setattr(line.world, "monotonic", lambda: elapsed[0])
    desk.post(f"{PHONE}/register")
    elapsed[0] += web.REGISTRATION_LEASE_SECONDS - 1
    assert desk.post(f"{PHONE}/heartbeat").get_json()["registered"] is True
    elapsed[0] += web.REGISTRATION_LEASE_SECONDS - 1
    assert line.world.registered_client(TOM) is not None, "the heartbeat renewed the lease"
    line.clock.advance(3600)  # the call clock jumping closes nobody's desk
    assert line.world.registered_client(TOM) is not None

    elapsed[0] += web.REGISTRATION_LEASE_SECONDS
    assert line.world.registered_client(TOM) is None
    lapsed = desk.post(f"{PHONE}/heartbeat")
    assert lapsed.status_code == 409 and "register again" in lapsed.get_json()["error"]
    assert desk.post(f"{PHONE}/register").get_json()["registered"] is True


def test_only_an_adviser_s_identity_can_register(desk, line):
    assert desk.post("/simulator/api/advisers/adviser-nobody/register").status_code == 404
    assert line.world.registered_client("adviser-nobody") is None


def test_looking_at_an_adviser_s_calls_does_not_open_their_browser_phone(desk, line):
    state = desk.get(f"{PHONE}/offers").get_json()
    assert state["registered"] is False
    assert line.world.registered_client(TOM) is None
