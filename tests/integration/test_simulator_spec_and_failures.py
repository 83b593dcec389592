"""Simulator mode carries Twilio's spec, and when the simulated Twilio itself fails the browser phone says so."""

from __future__ import annotations

import base64
import json

import pytest

from app import create_app
from config import DEMO_ACCOUNT_SID, REPO_ROOT
from models.demo import client_identity_for
from simulator import spec
from simulator.live import CouncilLine
from simulator.world import SimulatedTwilio


def test_the_spec_shipped_inside_the_project_is_used_when_nothing_is_set(monkeypatch):
    monkeypatch.delenv(spec.SPEC_PATH_VARIABLE, raising=False)
    path = spec.spec_path()
    assert path.is_relative_to(REPO_ROOT) and path.is_file()
    assert (path.parent / "LICENSE").read_text().startswith("MIT License")
    assert spec.check_spec_readable() == path


def test_twilio_spec_path_overrides_the_shipped_copy(monkeypatch, tmp_path):
    url = f"https://api.twilio.com/2010-04-01/Accounts/{DEMO_ACCOUNT_SID}/Calls.json"
    basic = {"Authorization": "Basic " + base64.b64encode(f"{DEMO_ACCOUNT_SID}:token".encode()).decode()}
    monkeypatch.delenv(spec.SPEC_PATH_VARIABLE, raising=False)
    assert spec.twilio_request_errors("GET", url, headers=basic) == []
    # Another copy of the spec in which Twilio has no Calls list: requests are now checked against that one.
    document = json.loads(spec.SHIPPED_SPEC.read_text())
    del document["paths"]["/2010-04-01/Accounts/{AccountSid}/Calls.json"]
    other = tmp_path / "other-spec.json"
    other.write_text(json.dumps(document))
    monkeypatch.setenv(spec.SPEC_PATH_VARIABLE, str(other))
    assert spec.spec_path() == other
    assert spec.twilio_request_errors("GET", url, headers=basic) != []


def test_simulator_mode_refuses_to_start_without_a_readable_spec_and_says_which_setting(
    monkeypatch, tmp_path, settings
):
    monkeypatch.setenv(spec.SPEC_PATH_VARIABLE, str(tmp_path / "missing.json"))
    with pytest.raises(spec.TwilioSpecMissing, match=r"TWILIO_SPEC_PATH=.*missing\.json names no file"):
        create_app(settings)


def _queue_a_caller_for_a_free_adviser(live_service):
    line = CouncilLine(live_service)
    line.install_demo_council()
    assert line.make_available([client_identity_for("Tom Hirst")]) == []
    call = line.world.place_call(to=line.council_number, url=line.incoming_url, from_="+447400123456")
    call.press("1")
    call.press("0")  # an adviser
    assert call.in_queue
    return line, call


def test_a_failing_fake_rest_api_is_shown_on_the_call_instead_of_holding_for_ever(live_service, monkeypatch):
    world: SimulatedTwilio = live_service.world

    def broken_dequeue(*_args, **_kwargs):
        raise OSError("simulated disk failure")

    monkeypatch.setattr(world, "dequeue", broken_dequeue)
    line, call = _queue_a_caller_for_a_free_adviser(live_service)
    line.settle()  # the matcher picks Tom and asks (fake) Twilio to dequeue the caller: that request fails

    assert call.in_queue and call.bridged_with is None
    state = live_service.app.test_client().get(f"/simulator/api/calls/{call.sid}").get_json()
    [failure] = set(state["simulator_failures"])  # the same failure, however often it was retried
    assert "Members" in failure and "OSError: simulated disk failure" in failure


def test_a_refusal_twilio_would_give_is_not_reported_as_a_simulator_failure(live_service):
    line, call = _queue_a_caller_for_a_free_adviser(live_service)
    client = live_service.app.test_client()
    refused = client.post(
        f"/fake-twilio/2010-04-01/Accounts/{live_service.services.settings.twilio_account_sid}/Calls.json",
        data={"To": "not a number", "From": "+441484221000", "Url": "http://x/"},
        auth=(
            live_service.services.settings.twilio_account_sid,
            live_service.services.settings.twilio_auth_token,
        ),
    )
    assert refused.status_code == 400
    state = client.get(f"/simulator/api/calls/{call.sid}").get_json()
    assert state["simulator_failures"] == []
