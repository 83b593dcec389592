"""A whole call through a live server: menu, queue, dequeue by the official twilio Client, adviser bridged.

The app under test talks to the fake REST API exactly as production talks to api.twilio.com: through
twilio-python, with only the host rewritten, and every request checked against Twilio's OpenAPI spec.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask, Response, request
from twilio.base.exceptions import TwilioRestException
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse
from werkzeug.serving import make_server

from runtime.clock import ControllableClock
from simulator.call_engine import RequestsTransport
from simulator.fake_rest import init_fake_twilio
from simulator.spec import TwilioSpecViolation, validate_twilio_request
from simulator.world import SimulatedTwilio
from telephony.gateway import RedirectingHttpClient

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "kirklees-live-token"
COUNCIL_NUMBER = "+441484221000"
RESIDENT = "+447700900123"


class LiveCouncil:
    """A tiny council IVR plus the fake Twilio REST API, served on 127.0.0.1 in a thread."""

    def __init__(self) -> None:
        self.clock = ControllableClock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
        self.flask = Flask(__name__)
        self.adviser_free = False
        self.status_callbacks: list[dict[str, str]] = []
        self.queue_results: list[str] = []
        self.server = make_server("127.0.0.1", 0, self.flask, threaded=True)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        self.world = SimulatedTwilio(self.base_url, ACCOUNT_SID, AUTH_TOKEN, RequestsTransport(), self.clock)
        init_fake_twilio(self.flask, self.world)
        self.twilio = Client(
            ACCOUNT_SID, AUTH_TOKEN, http_client=RedirectingHttpClient(f"{self.base_url}/fake-twilio")
        )
        self._routes()

    def _routes(self) -> None:
        app = self.flask

        def signed() -> None:
            if not RequestValidator(AUTH_TOKEN).validate(
                request.url, request.form.to_dict(), request.headers.get("X-Twilio-Signature", "")
            ):
                raise PermissionError("unsigned webhook")

        def xml(response: VoiceResponse) -> Response:
            return Response(str(response), mimetype="text/xml")

        @app.post("/voice/incoming")
        def incoming() -> Response:
            signed()
            response = VoiceResponse()
            gather = Gather(num_digits=1, action="/voice/menu")
            gather.say("Welcome to Kirklees Council. For council tax, press 1.")
            response.append(gather)
            response.redirect("/voice/incoming")
            return xml(response)

        @app.post("/voice/menu")
        def menu() -> Response:
            signed()
            response = VoiceResponse()
            response.enqueue("council-tax", wait_url="/voice/queue/wait", action="/voice/queue/done")
            return xml(response)

        @app.post("/voice/queue/wait")
        def wait() -> Response:
            signed()
            response = VoiceResponse()
            if self.adviser_free:
                # The router picks this caller and dequeues them while Twilio waits for this answer.
                self.twilio.queues(request.form["QueueSid"]).members(request.form["CallSid"]).update(
                    url=f"{self.base_url}/voice/connect/alice", method="POST"
                )
            response.say(f"You are number {request.form['QueuePosition']} in the queue.")
            response.pause(length=60)
            return xml(response)

        @app.post("/voice/queue/done")
        def queue_done() -> Response:
            signed()
            self.queue_results.append(request.form["QueueResult"])
            return xml(VoiceResponse())

        @app.post("/voice/connect/<adviser>")
        def connect(adviser: str) -> Response:
            signed()
            response = VoiceResponse()
            response.say("Connecting you to an adviser.")
            dial = Dial(action="/voice/dial-done", timeout=20)
            dial.client(adviser, url="/voice/whisper")
            response.append(dial)
            return xml(response)

        @app.post("/voice/whisper")
        def whisper() -> Response:
            signed()
            response = VoiceResponse()
            gather = Gather(num_digits=1, action="/voice/whisper/accepted")
            gather.say("Council tax caller. Press 1 to accept.")
            response.append(gather)
            response.hangup()
            return xml(response)

        @app.post("/voice/whisper/accepted")
        def accepted() -> Response:
            signed()
            response = VoiceResponse()
            if request.form["Digits"] != "1":
                response.hangup()
            return xml(response)

        @app.post("/voice/dial-done")
        def dial_done() -> Response:
            signed()
            response = VoiceResponse()
            response.say("Thank you for calling Kirklees Council.")
            return xml(response)

        @app.post("/voice/status")
        def status() -> Response:
            signed()
            self.status_callbacks.append(request.form.to_dict())
            return Response("", status=204)

        @app.post("/voice/callback-greeting")
        def callback_greeting() -> Response:
            signed()
            response = VoiceResponse()
            response.say("This is Kirklees Council returning your call.")
            return xml(response)

    def __enter__(self) -> LiveCouncil:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def council() -> Iterator[LiveCouncil]:
    with LiveCouncil() as live:
        yield live


def test_a_resident_is_queued_dequeued_through_the_rest_api_and_bridged_to_alice(
    council: LiveCouncil,
) -> None:
    alice = council.world.client("alice")  # her browser phone is open: calls to her ring
    call = council.world.place_call(from_=RESIDENT, to=COUNCIL_NUMBER, url="/voice/incoming")
    call.press("1")
    assert call.in_queue
    queue = council.twilio.queues.list()[0]
    assert queue.friendly_name == "council-tax"
    members = council.twilio.queues(queue.sid).members.list()
    assert [member.call_sid for member in members] == [call.sid]

    council.adviser_free = True
    call.wait(5)  # the next waitUrl round dequeues at once; alice's browser then rings (up to 20 s)

    assert [offer.parent for offer in alice.pending_offers] == [call]
    assert council.queue_results == ["redirected"]
    alice.answer(press="1")
    assert call.bridged_with is alice.current_call
    assert "Council tax caller. Press 1 to accept." in alice.current_call.heard  # type: ignore[union-attr]

    call.wait(240)
    alice.hang_up()

    assert call.heard[-1] == "Thank you for calling Kirklees Council."
    assert council.twilio.calls(call.sid).fetch().status == "completed"
    council.adviser_free = False


def test_rest_calls_ring_the_scripted_phone_and_post_signed_status_callbacks(council: LiveCouncil) -> None:
    council.world.phone("+447700900456").will_be_busy()

    created = council.twilio.calls.create(
        to="+447700900456",
        from_=COUNCIL_NUMBER,
        url=f"{council.base_url}/voice/callback-greeting",
        status_callback=f"{council.base_url}/voice/status",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
    )
    assert created.status == "queued"
    council.world.run_pending()

    statuses = [form["CallStatus"] for form in council.status_callbacks if form["CallSid"] == created.sid]
    assert statuses == ["initiated", "ringing", "busy"]
    assert council.twilio.calls(created.sid).fetch().status == "busy"


def test_an_answered_rest_call_runs_its_twiml_and_reports_machine_detection(council: LiveCouncil) -> None:
    council.world.phone("+447700900777").will_go_to_voicemail()

    created = council.twilio.calls.create(
        to="+447700900777",
        from_=COUNCIL_NUMBER,
        url=f"{council.base_url}/voice/callback-greeting",
        machine_detection="Enable",
    )
    council.world.run_pending()

    call = council.world.call(created.sid)
    assert call.heard == ["This is Kirklees Council returning your call."]
    assert call.requests[0].form["AnsweredBy"] == "machine_start"
    assert call.status == "completed"


def test_messages_sent_through_the_rest_api_are_kept_by_the_world(council: LiveCouncil) -> None:
    message = council.twilio.messages.create(
        to=RESIDENT, from_=COUNCIL_NUMBER, body="We will call you at 2pm."
    )

    assert message.sid.startswith("SM") and message.status == "queued"
    assert council.world.messages[-1].body == "We will call you at 2pm."


def test_a_call_created_without_to_is_refused_as_twilio_would(council: LiveCouncil) -> None:
    # twilio-python will not build a create without To, so send the raw request through its client.
    with pytest.raises(TwilioRestException) as refused:
        _raise_for(
            council.twilio.request(
                "POST",
                f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json",
                data={"From": COUNCIL_NUMBER, "Url": f"{council.base_url}/voice/incoming"},
            )
        )

    assert (refused.value.status, refused.value.code) == (400, 20001)
    assert "'To' is a required property" in refused.value.msg


def _raise_for(response: TwilioResponse) -> TwilioResponse:
    import json

    if response.status_code >= 400:
        body = json.loads(response.text)
        raise TwilioRestException(response.status_code, "", body["message"], body["code"])
    return response


def test_an_unknown_call_status_is_refused_with_a_400(council: LiveCouncil) -> None:
    call = council.world.place_call(from_=RESIDENT, to=COUNCIL_NUMBER, url="/voice/incoming")

    with pytest.raises(TwilioRestException) as refused:
        council.twilio.calls(call.sid).update(status="hung-up")

    assert (refused.value.status, refused.value.code) == (400, 20001)
    call.hang_up()


def test_a_wrong_auth_token_gets_twilios_401(council: LiveCouncil) -> None:
    stranger = Client(
        ACCOUNT_SID, "wrong-token", http_client=RedirectingHttpClient(f"{council.base_url}/fake-twilio")
    )

    with pytest.raises(TwilioRestException) as refused:
        stranger.queues.create(friendly_name="council-tax")

    assert (refused.value.status, refused.value.code) == (401, 20003)


def test_the_spec_check_is_reusable_for_requests_the_gateway_builds() -> None:
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Queues/QU{'2' * 32}/Members/Front.json"
    auth = {"Authorization": "Basic QUM6dG9rZW4="}

    validate_twilio_request("POST", url, {"Url": "https://ivr.kirklees.test/voice/connect/alice"}, auth)
    with pytest.raises(TwilioSpecViolation) as violation:
        validate_twilio_request("POST", url, {"Method": "POST"}, auth)

    assert "'Url' is a required property" in str(violation.value)
