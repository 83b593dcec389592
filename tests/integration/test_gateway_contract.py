"""Every REST request the telephony gateway makes reaches the fake Twilio and is valid against Twilio's own spec."""

from __future__ import annotations

from base64 import b64encode
from urllib.parse import urlencode

import pytest

from simulator.spec import twilio_request_errors
from telephony.gateway import TelephonyError


@pytest.fixture
def recorded_requests(live_service, monkeypatch):
    """Capture each request the gateway sends (after the base-URL rewrite) and check it against the spec."""
    from telephony.gateway import RedirectingHttpClient

    seen: list[tuple[str, str, dict]] = []
    original = RedirectingHttpClient.request

    def recording(self, method, url, params=None, data=None, headers=None, auth=None, **kwargs):
        response = original(self, method, url, params=params, data=data, headers=headers, auth=auth, **kwargs)
        seen.append(
            (method, response.text, {"url": url, "form": data or {}, "params": params or {}, "auth": auth})
        )
        return response

    monkeypatch.setattr(RedirectingHttpClient, "request", recording)
    return seen


def _assert_valid(recorded):
    assert recorded, "the gateway made no request"
    for method, _body, request in recorded:
        # What twilio-python addressed to api.twilio.com, before the rewrite to the fake.
        url = request["url"]
        assert url.startswith("https://api.twilio.com/2010-04-01/")
        if request["params"]:
            url += "?" + urlencode(request["params"])
        user, password = request["auth"]
        headers = {"Authorization": "Basic " + b64encode(f"{user}:{password}".encode()).decode()}
        errors = twilio_request_errors(method, url, {k: str(v) for k, v in request["form"].items()}, headers)
        assert errors == [], f"{method} {url}: {errors}"


def test_every_gateway_request_is_valid_against_twilios_openapi_spec(live_service, recorded_requests):
    gateway = live_service.services.gateway
    world = live_service.world
    world.phone("+447700900456").will_answer(press="1")

    call_sid = gateway.create_call(
        to="+447700900456",
        url=f"{live_service.base_url}/voice/incoming",
        status_callback=f"{live_service.base_url}/voice/status",
        machine_detection="Enable",
        timeout_seconds=25,
    )
    assert call_sid.startswith("CA") and world.call(call_sid) is not None
    queue_sid = gateway.queue_sid("council_tax")
    assert queue_sid == gateway.queue_sid("council_tax"), "the queue sid is looked up once and cached"
    assert gateway.list_queue_members(queue_sid) == []
    message_sid = gateway.send_sms("+447700900456", "Your callback is booked for tomorrow between 10 and 11.")
    assert message_sid.startswith("SM")
    assert world.messages[-1].body.startswith("Your callback is booked")
    gateway.redirect_call(call_sid, f"{live_service.base_url}/voice/incoming")
    gateway.end_call(call_sid)

    methods = [(m, r["url"].split("/2010-04-01/", 1)[-1]) for m, _b, r in recorded_requests]
    assert ("POST", f"Accounts/{world.account_sid}/Calls.json") in methods
    assert ("POST", f"Accounts/{world.account_sid}/Messages.json") in methods
    assert any(m == "POST" and p.endswith(f"Calls/{call_sid}.json") for m, p in methods)
    _assert_valid(recorded_requests)


def test_dequeue_member_request_is_valid_and_moves_the_caller(live_service, recorded_requests):
    gateway = live_service.services.gateway
    world = live_service.world
    queue_sid = gateway.queue_sid("housing_benefit")
    with pytest.raises(TelephonyError) as refused:
        gateway.dequeue_member(queue_sid, "CA" + "0" * 32, f"{live_service.base_url}/voice/incoming")
    assert refused.value.status == 404
    _assert_valid(recorded_requests)
    assert world.queue(queue_sid) is not None


def test_twilio_refusal_becomes_a_telephony_error_with_the_code(live_service):
    gateway = live_service.services.gateway
    with pytest.raises(TelephonyError) as error:
        gateway.create_call(to="not-a-number", url=f"{live_service.base_url}/voice/incoming")
    assert error.value.status == 400


def test_looking_up_calls_after_a_lost_worker_is_valid_against_the_spec(live_service, recorded_requests):
    gateway = live_service.services.gateway
    since = live_service.clock.now()
    call_sid = gateway.create_call(to="+447400123456", url=f"{live_service.base_url}/voice/incoming")
    gateway.create_call(to="+447400123999", url=f"{live_service.base_url}/voice/incoming")

    record = gateway.fetch_call(call_sid)
    recent = gateway.recent_calls_to("+447400123456", since)

    assert (record.sid, record.to, record.status, record.direction) == (
        call_sid,
        "+447400123456",
        "queued",
        "outbound-api",
    )
    assert [call.sid for call in recent] == [call_sid]
    _assert_valid(recorded_requests)


def test_requests_to_the_real_twilio_have_a_timeout_as_the_redirected_ones_do():
    """twilio-python's default HTTP client waits for ever: a hung api.twilio.com would hold a worker or a caller."""
    from config import TWILIO_DEFAULT_API_BASE_URL
    from telephony.gateway import CALLER_WAITING_TIMEOUT_SECONDS, REST_TIMEOUT_SECONDS, TelephonyGateway

    for base in (TWILIO_DEFAULT_API_BASE_URL, "http://127.0.0.1:9/fake-twilio"):
        gateway = TelephonyGateway("AC" + "0" * 32, "token", "+441484221000", api_base_url=base)
        clients = (gateway._account, gateway._caller_waiting_account)
        timeouts = [account._version.domain.twilio.http_client.timeout for account in clients]
        assert timeouts == [REST_TIMEOUT_SECONDS, CALLER_WAITING_TIMEOUT_SECONDS], base
