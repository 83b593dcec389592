"""The call engine plays Twilio: it follows TwiML from a tiny in-test Flask app, in simulated time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask, Response, request
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from runtime.clock import ControllableClock
from simulator.call_engine import APPLICATION_ERROR_MESSAGE, WITHHELD_CALLER_ID, Call, WsgiTransport
from simulator.world import SimulatedTwilio

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "kirklees-test-token"
COUNCIL_NUMBER = "+441484221000"
RESIDENT = "+447700900123"
START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

Handler = Callable[[], str | tuple[str, int]]


class TinyApp:
    """A webhook app whose TwiML each test writes; it checks signatures like the real app does."""

    def __init__(self, clock: ControllableClock) -> None:
        self.clock = clock
        self.flask = Flask(__name__)
        self.routes: dict[str, Handler] = {}
        self.received: list[tuple[str, str, dict[str, str]]] = []
        self.flask.add_url_rule(
            "/<path:path>", "twiml", self._serve, methods=["GET", "POST"], strict_slashes=False
        )

    def route(self, path: str, handler: Handler | str) -> None:
        self.routes[path] = handler if callable(handler) else (lambda: handler)

    def _serve(self, path: str) -> Response:
        signature = request.headers.get("X-Twilio-Signature", "")
        params = request.form.to_dict() if request.method == "POST" else {}
        if not RequestValidator(AUTH_TOKEN).validate(request.url, params, signature):
            return Response("bad signature", status=403)
        values = request.values.to_dict()
        self.received.append((request.method, "/" + path, values))
        answer = self.routes["/" + path]()
        body, status = answer if isinstance(answer, tuple) else (answer, 200)
        return Response(body, status=status, mimetype="text/xml")

    def requests_to(self, path: str) -> list[dict[str, str]]:
        return [values for _, seen, values in self.received if seen == path]


@pytest.fixture
def clock() -> ControllableClock:
    return ControllableClock(START)


@pytest.fixture
def app(clock: ControllableClock) -> TinyApp:
    return TinyApp(clock)


@pytest.fixture
def world(app: TinyApp, clock: ControllableClock) -> SimulatedTwilio:
    return SimulatedTwilio(
        base_url="https://ivr.kirklees.test",
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        clock=clock,
        transport=WsgiTransport(app.flask),
    )


def twiml(response: VoiceResponse) -> str:
    return str(response)


def says(text: str) -> str:
    response = VoiceResponse()
    response.say(text)
    return str(response)


def hangs_up() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def ring(world: SimulatedTwilio, url: str = "/voice/incoming", **kwargs: str | None) -> Call:
    return world.place_call(from_=kwargs.pop("from_", RESIDENT), to=COUNCIL_NUMBER, url=url, **kwargs)


def menu(action: str | None = None, **attributes: object) -> str:
    response = VoiceResponse()
    gather = Gather(action=action, **attributes)
    gather.say("For council tax press 1.")
    response.append(gather)
    response.say("Sorry, we did not hear a choice.")
    response.hangup()
    return twiml(response)


# -- Gather ------------------------------------------------------------------------------------------


def test_gather_waits_five_seconds_then_continues_with_the_next_verb(
    world: SimulatedTwilio, app: TinyApp, clock: ControllableClock
) -> None:
    app.route("/voice/incoming", menu())
    call = ring(world)
    assert call.gathering

    call.stay_silent()

    waited = call.events("gather-timeout")[0].at - call.events("gather-waiting")[0].at
    assert waited == timedelta(seconds=5)
    assert call.heard == ["For council tax press 1.", "Sorry, we did not hear a choice."]
    assert call.status == "completed"
    assert len(app.requests_to("/voice/incoming")) == 1


def test_keys_ended_by_the_hash_key_are_posted_to_the_current_document_when_there_is_no_action(
    world: SimulatedTwilio, app: TinyApp
) -> None:
    answers = iter([menu(), says("Thank you.")])
    app.route("/voice/incoming", lambda: next(answers))
    call = ring(world)

    call.press_keys("1234#")

    second = app.requests_to("/voice/incoming")[1]
    assert (second["Digits"], second["FinishedOnKey"]) == ("1234", "#")
    assert call.heard[-1] == "Thank you."


def test_gather_with_num_digits_submits_as_soon_as_enough_keys_are_pressed(
    world: SimulatedTwilio, app: TinyApp, clock: ControllableClock
) -> None:
    app.route("/voice/incoming", menu(action="/voice/menu", num_digits=1))
    app.route("/voice/menu", says("Council tax."))
    call = ring(world)
    before = clock.now()

    call.press("1")

    assert app.requests_to("/voice/menu")[0]["Digits"] == "1"
    assert clock.now() - before < timedelta(seconds=5)


def test_keys_without_a_finishing_key_are_submitted_after_the_gather_timeout(
    world: SimulatedTwilio, app: TinyApp, clock: ControllableClock
) -> None:
    app.route("/voice/incoming", menu(action="/voice/menu", timeout=3))
    app.route("/voice/menu", says("Checking."))
    call = ring(world)
    before = clock.now()

    call.press("42")

    assert app.requests_to("/voice/menu")[0]["Digits"] == "42"
    assert clock.now() - before >= timedelta(seconds=3)


def test_action_on_empty_result_posts_the_action_when_the_caller_stays_silent(
    world: SimulatedTwilio, app: TinyApp
) -> None:
    app.route("/voice/incoming", menu(action="/voice/menu", action_on_empty_result=True))
    app.route("/voice/menu", says("Let me put you through."))
    call = ring(world)

    call.stay_silent()

    assert len(app.requests_to("/voice/menu")) == 1
    assert "Digits" not in app.requests_to("/voice/menu")[0]
    assert "Sorry, we did not hear a choice." not in call.heard
    assert call.heard[-1] == "Let me put you through."


def test_speech_is_posted_with_its_confidence(world: SimulatedTwilio, app: TinyApp) -> None:
    app.route("/voice/incoming", menu(action="/voice/menu", input="speech dtmf"))
    app.route("/voice/menu", says("Housing benefit, thank you."))
    call = ring(world)

    call.speak("housing benefit", confidence=0.87)

    posted = app.requests_to("/voice/menu")[0]
    assert (posted["SpeechResult"], posted["Confidence"]) == ("housing benefit", "0.87")


@settings(max_examples=25, deadline=None)
@given(keys=st.text(alphabet="0123456789*", min_size=0, max_size=8))
def test_digits_posted_are_exactly_the_keys_before_the_finishing_key(keys: str) -> None:
    clock = ControllableClock(START)
    app = TinyApp(clock)
    answers = iter([menu(action="/voice/menu"), twiml(VoiceResponse())])
    app.route("/voice/incoming", lambda: next(answers))
    app.route("/voice/menu", says("OK"))
    world = SimulatedTwilio(
        "https://ivr.kirklees.test", ACCOUNT_SID, AUTH_TOKEN, WsgiTransport(app.flask), clock
    )

    ring(world).press(keys + "#9")

    assert app.requests_to("/voice/menu")[0]["Digits"] == keys


# -- documents, URLs and signatures ------------------------------------------------------------------


def test_relative_action_urls_resolve_against_the_document_that_held_them(
    world: SimulatedTwilio, app: TinyApp
) -> None:
    app.route("/voice/incoming", '<Response><Redirect method="GET">/voice/menus/main</Redirect></Response>')
    app.route("/voice/menus/main", menu(action="choice", num_digits=1))
    app.route("/voice/menus/choice", says("Bins."))
    call = ring(world)

    call.press("2")

    methods = [(method, path) for method, path, _ in app.received]
    assert methods == [
        ("POST", "/voice/incoming"),
        ("GET", "/voice/menus/main"),
        ("POST", "/voice/menus/choice"),
    ]
    assert call.heard[-1] == "Bins."


def test_every_webhook_carries_twilios_call_fields_and_a_valid_signature(
    world: SimulatedTwilio, app: TinyApp
) -> None:
    app.route("/voice/incoming", says("Hello"))

    call = ring(world)

    first = app.requests_to("/voice/incoming")[0]
    assert first["CallSid"] == call.sid and call.sid.startswith("CA") and len(call.sid) == 34
    assert first["AccountSid"] == ACCOUNT_SID
    assert (first["From"], first["Caller"], first["To"], first["Called"]) == (
        RESIDENT,
        RESIDENT,
        COUNCIL_NUMBER,
        COUNCIL_NUMBER,
    )
    assert (first["Direction"], first["ApiVersion"], first["CallStatus"]) == (
        "inbound",
        "2010-04-01",
        "ringing",
    )
    assert call.requests[0].status == 200  # a bad signature would have been refused with 403


def test_a_webhook_signed_with_the_wrong_token_is_refused_and_the_caller_hears_an_error(
    app: TinyApp, clock: ControllableClock
) -> None:
    app.route("/voice/incoming", says("Hello"))
    stranger = SimulatedTwilio(
        "https://ivr.kirklees.test", ACCOUNT_SID, "wrong", WsgiTransport(app.flask), clock
    )

    call = ring(stranger)

    assert call.requests[0].status == 403
    assert call.heard == [APPLICATION_ERROR_MESSAGE]


def test_a_withheld_number_arrives_as_twilios_anonymous_caller_id(
    world: SimulatedTwilio, app: TinyApp
) -> None:
    app.route("/voice/incoming", says("Hello"))

    ring(world, from_=None)

    assert app.requests_to("/voice/incoming")[0]["From"] == WITHHELD_CALLER_ID == "+266696687"


def test_ssml_inside_say_is_heard_as_plain_words(world: SimulatedTwilio, app: TinyApp) -> None:
    app.route(
        "/voice/incoming",
        '<Response><Say voice="Polly.Amy" language="en-GB">Welcome to <prosody rate="slow">Kirklees'
        '</prosody> Council.</Say><Pause length="2"/></Response>',
    )

    call = ring(world)

    heard = call.events("heard")[0]
    assert (heard.text, heard.language, heard.voice) == ("Welcome to Kirklees Council.", "en-GB", "Polly.Amy")
    assert call.events("paused")[0].detail["seconds"] == "2"


def test_a_message_verb_is_recorded_as_a_sent_text(world: SimulatedTwilio, app: TinyApp) -> None:
    response = VoiceResponse()
    response.sms("Your reference is KC123.")
    app.route("/voice/incoming", twiml(response))

    call = ring(world)

    assert [(m.to, m.body, m.sent_by) for m in world.messages] == [
        (RESIDENT, "Your reference is KC123.", call.sid)
    ]
    assert world.messages[0].sid.startswith("SM")


# -- application errors ------------------------------------------------------------------------------


def test_a_webhook_slower_than_fifteen_seconds_plays_the_application_error_and_ends_the_call(
    world: SimulatedTwilio, app: TinyApp, clock: ControllableClock
) -> None:
    def slow() -> str:
        clock.advance(16)
        return says("Too late")

    app.route("/voice/incoming", slow)

    call = ring(world)

    assert call.heard == [APPLICATION_ERROR_MESSAGE]
    assert call.status == "completed"
    assert call.requests[0].error_code == 11200


def test_a_server_error_tries_the_fallback_url_with_the_error_code(
    world: SimulatedTwilio, app: TinyApp
) -> None:
    app.route("/voice/incoming", ("boom", 500))
    app.route("/voice/fallback", says("Sorry, we are having problems."))

    call = ring(world, fallback_url="/voice/fallback")

    fallback = app.requests_to("/voice/fallback")[0]
    assert fallback["ErrorCode"] == "11200"
    assert fallback["ErrorUrl"] == "https://ivr.kirklees.test/voice/incoming"
    assert call.heard == ["Sorry, we are having problems."]


def test_unparsable_twiml_is_an_application_error(world: SimulatedTwilio, app: TinyApp) -> None:
    app.route("/voice/incoming", "<Response><Say>unclosed</Response>")

    call = ring(world)

    assert call.events("application-error")[0].detail["error"] == "12100"
    assert call.ended


# -- queues ------------------------------------------------------------------------------------------


def queue_app(app: TinyApp) -> None:
    response = VoiceResponse()
    response.enqueue("council-tax", wait_url="/voice/queue/wait", action="/voice/queue/done")
    response.say("You have left the queue.")
    app.route("/voice/incoming", twiml(response))

    def wait() -> str:
        position = request.values["QueuePosition"]
        waiting = VoiceResponse()
        waiting.say(f"You are number {position} in the queue.")
        waiting.pause(length=30)
        return twiml(waiting)

    app.route("/voice/queue/wait", wait)
    app.route("/voice/queue/done", says("Goodbye."))


def test_wait_url_is_requested_with_the_queue_position_and_size(world: SimulatedTwilio, app: TinyApp) -> None:
    queue_app(app)

    first = ring(world)
    second = ring(world, from_="+447700900999")

    assert first.in_queue and second.in_queue
    waits = app.requests_to("/voice/queue/wait")
    assert (waits[1]["QueuePosition"], waits[1]["CurrentQueueSize"], waits[1]["MaxQueueSize"]) == (
        "2",
        "2",
        "1000",
    )
    assert waits[1]["QueueSid"].startswith("QU") and len(waits[1]["QueueSid"]) == 34
    assert second.heard == ["You are number 2 in the queue."]


def test_a_twenty_minute_wait_re_requests_the_wait_url_as_each_round_finishes(
    world: SimulatedTwilio, app: TinyApp, clock: ControllableClock
) -> None:
    queue_app(app)
    call = ring(world)
    started = clock.now()

    call.wait(20 * 60)

    rounds = app.requests_to("/voice/queue/wait")
    assert clock.now() - started == timedelta(minutes=20)
    assert 35 <= len(rounds) <= 41  # one round is a short announcement plus 30 s of hold
    queue_times = [int(values["QueueTime"]) for values in rounds]
    assert queue_times == sorted(queue_times) and queue_times[-1] >= 1100
    assert call.in_queue


def test_leave_in_the_wait_document_reports_leave_and_runs_the_enqueue_action(
    world: SimulatedTwilio, app: TinyApp
) -> None:
    queue_app(app)
    app.route("/voice/queue/wait", "<Response><Leave/></Response>")

    call = ring(world)

    done = app.requests_to("/voice/queue/done")[0]
    assert done["QueueResult"] == "leave"
    assert call.heard == ["Goodbye."]
    assert world.waiting_callers("council-tax") == []


@pytest.mark.parametrize(
    "wait_twiml",
    [
        "<Response><Say>Sorry.</Say><Enqueue>general</Enqueue></Response>",
        "<Response><Dial><Number>+441484221001</Number></Dial></Response>",
    ],
    ids=["enqueue", "dial"],
)
def test_verbs_twilio_does_not_run_in_a_wait_url_end_the_wait_with_an_error(
    world: SimulatedTwilio, app: TinyApp, wait_twiml: str
) -> None:
    queue_app(app)
    app.route("/voice/queue/wait", wait_twiml)

    call = ring(world)

    [rejected] = call.events("twiml-rejected")
    assert rejected.detail["where"] == "waitUrl" and rejected.detail["verbs"] in {"Enqueue", "Dial"}
    assert "Sorry." not in call.heard, "nothing of a refused document is run"
    assert app.requests_to("/voice/queue/done")[0]["QueueResult"] == "error"
    assert world.waiting_callers("council-tax") == []


def test_a_gather_action_inside_the_wait_is_held_to_the_wait_url_verbs(
    world: SimulatedTwilio, app: TinyApp
) -> None:
    queue_app(app)
    waiting = VoiceResponse()
    waiting.gather(num_digits=1, action="/voice/queue/key").say("Press 1 for a call back.")
    waiting.pause(length=30)
    app.route("/voice/queue/wait", twiml(waiting))
    app.route("/voice/queue/key", "<Response><Enqueue>general</Enqueue></Response>")
    allowed = (
        "<Response><Say>Thank you.</Say><Pause length='2'/><Redirect>/voice/queue/wait</Redirect></Response>"
    )

    call = ring(world)
    call.press("1")
    assert call.events("twiml-rejected") and not call.in_queue

    app.route("/voice/queue/key", allowed)
    again = ring(world, from_="+447700900555")
    again.press("1")
    assert again.events("twiml-rejected") == [] and again.in_queue
    assert "Thank you." in again.heard


def test_hanging_up_in_the_queue_reports_hangup_to_the_enqueue_action(
    world: SimulatedTwilio, app: TinyApp
) -> None:
    queue_app(app)
    call = ring(world)
    call.wait(95)

    call.hang_up()

    done = app.requests_to("/voice/queue/done")[0]
    assert done["QueueResult"] == "hangup"
    assert int(done["QueueTime"]) >= 95
    assert world.waiting_callers("council-tax") == []


def test_a_dequeued_caller_runs_the_member_url_and_the_enqueue_action_hears_redirected(
    world: SimulatedTwilio, app: TinyApp
) -> None:
    queue_app(app)
    app.route("/voice/connect", says("Connecting you to an adviser."))
    first = ring(world)
    second = ring(world, from_="+447700900999")
    queue_sid = world.queue_named("council-tax").sid  # type: ignore[union-attr]

    world.dequeue(queue_sid, second.sid, "/voice/connect")
    world.run_pending()

    assert second.heard[-1] == "Connecting you to an adviser."
    assert app.requests_to("/voice/queue/done")[0]["QueueResult"] == "redirected"
    assert world.waiting_callers("council-tax") == [first]


def test_a_dequeue_made_while_the_app_answers_the_wait_url_is_applied_straight_after(
    world: SimulatedTwilio, app: TinyApp
) -> None:
    queue_app(app)
    app.route("/voice/connect", says("Connecting you."))

    def wait_and_dequeue() -> str:
        queue = world.queue_named("council-tax")
        world.dequeue(queue.sid, request.values["CallSid"], "/voice/connect")  # type: ignore[union-attr]
        return says("Please hold.")

    app.route("/voice/queue/wait", wait_and_dequeue)

    call = ring(world)

    assert call.heard == ["Connecting you."]
    assert not call.in_queue


# -- dialling ----------------------------------------------------------------------------------------


def dial_app(app: TinyApp, number: str = "+447700900456") -> None:
    response = VoiceResponse()
    dial = Dial(action="/voice/dial-done")
    dial.number(number, url="/voice/whisper")
    response.append(dial)
    app.route("/voice/incoming", twiml(response))
    whisper = VoiceResponse()
    gather = Gather(num_digits=1, action="/voice/whisper-answer")
    gather.say("Call from the council line. Press 1 to accept.")
    whisper.append(gather)
    whisper.hangup()
    app.route("/voice/whisper", twiml(whisper))
    app.route(
        "/voice/whisper-answer",
        lambda: twiml(VoiceResponse()) if request.values["Digits"] == "1" else hangs_up(),
    )
    app.route("/voice/dial-done", says("The adviser has left the call."))


def test_a_whisper_runs_on_the_called_phone_before_the_caller_is_bridged(
    world: SimulatedTwilio, app: TinyApp
) -> None:
    dial_app(app)
    world.phone("+447700900456").will_answer(press="1", talk_seconds=120)

    call = ring(world)

    whisper_request = app.requests_to("/voice/whisper")[0]
    assert whisper_request["ParentCallSid"] == call.sid
    assert whisper_request["Direction"] == "outbound-dial"
    callee = world.phone("+447700900456").calls[0]
    assert callee.heard == ["Call from the council line. Press 1 to accept."]
    done = app.requests_to("/voice/dial-done")[0]
    assert (done["DialCallStatus"], done["DialCallSid"], done["DialCallDuration"]) == (
        "completed",
        callee.sid,
        "120",
    )
    assert call.heard == ["The adviser has left the call."]
    assert [event.kind for event in call.transcript].count("bridged") == 1


def test_a_callee_who_declines_the_whisper_is_never_bridged(world: SimulatedTwilio, app: TinyApp) -> None:
    dial_app(app)
    world.phone("+447700900456").will_answer(press="2")

    call = ring(world)

    assert call.events("bridged") == []
    assert app.requests_to("/voice/dial-done")[0]["DialCallStatus"] == "no-answer"


def test_a_busy_number_reports_busy_to_the_dial_action(world: SimulatedTwilio, app: TinyApp) -> None:
    dial_app(app)
    world.phone("+447700900456").will_be_busy()

    ring(world)

    assert app.requests_to("/voice/dial-done")[0]["DialCallStatus"] == "busy"
    assert app.requests_to("/voice/whisper") == []


def test_an_unanswered_number_rings_for_the_dial_timeout(
    world: SimulatedTwilio, app: TinyApp, clock: ControllableClock
) -> None:
    dial_app(app)
    world.phone("+447700900456").will_not_answer()
    before = clock.now()

    ring(world)

    assert app.requests_to("/voice/dial-done")[0]["DialCallStatus"] == "no-answer"
    assert clock.now() - before >= timedelta(seconds=30)


def test_an_adviser_browser_is_offered_the_call_and_bridged_when_it_answers(
    world: SimulatedTwilio, app: TinyApp
) -> None:
    response = VoiceResponse()
    dial = Dial(action="/voice/dial-done", timeout=20)
    dial.client("alice")
    response.append(dial)
    app.route("/voice/incoming", twiml(response))
    app.route("/voice/dial-done", says("Thanks for calling."))
    alice = world.client("alice")  # her browser phone is open (registered)
    call = ring(world)
    assert [offer.parent for offer in alice.pending_offers] == [call]

    leg = alice.answer()
    call.wait(300)
    alice.hang_up()

    assert call.bridged_with is None and leg.ended
    done = app.requests_to("/voice/dial-done")[0]
    assert (done["DialCallStatus"], done["DialCallDuration"]) == ("completed", "300")
    assert call.heard[-1] == "Thanks for calling."


def test_a_browser_that_does_not_answer_times_the_dial_out(world: SimulatedTwilio, app: TinyApp) -> None:
    response = VoiceResponse()
    dial = Dial(action="/voice/dial-done", timeout=20)
    dial.client("alice")
    response.append(dial)
    app.route("/voice/incoming", twiml(response))
    app.route("/voice/dial-done", says("Nobody is free."))
    alice = world.client("alice")
    call = ring(world)
    assert len(alice.pending_offers) == 1
    before = world.clock.now()

    call.wait(25)

    assert app.requests_to("/voice/dial-done")[0]["DialCallStatus"] == "no-answer"
    assert world.clock.now() - before >= timedelta(seconds=20), "it rang for the dial's whole timeout"
    assert alice.pending_offers == []
    assert "Nobody is free." in call.heard


def _dial_alice(app: TinyApp, parameters: dict[str, str] | None = None) -> None:
    response = VoiceResponse()
    dial = Dial(action="/voice/dial-done", timeout=20)
    client = dial.client()
    client.identity("alice")
    for name, value in (parameters or {}).items():
        client.parameter(name=name, value=value)
    response.append(dial)
    app.route("/voice/incoming", twiml(response))
    app.route("/voice/dial-done", says("Nobody is free."))


def test_a_browser_nobody_has_open_is_not_rung_and_the_dial_ends_at_once(
    world: SimulatedTwilio, app: TinyApp, clock: ControllableClock
) -> None:
    _dial_alice(app)
    before = clock.now()

    call = ring(world)

    done = app.requests_to("/voice/dial-done")[0]
    assert done["DialCallStatus"] == "no-answer"
    assert clock.now() - before < timedelta(seconds=5), "no ringing time, unlike a browser that is open"
    assert world.browser("alice").pending_offers == []
    assert world.call(done["DialCallSid"]).events("not-registered")
    assert "Nobody is free." in call.heard


def test_a_browser_rings_only_while_registered_and_stops_when_its_page_closes(
    world: SimulatedTwilio, app: TinyApp
) -> None:
    _dial_alice(app)
    alice = world.browser("alice")
    assert not alice.registered, "nobody's browser phone is open until they open it"
    alice.register()
    ring(world)
    assert len(alice.pending_offers) == 1
    alice.reject()

    alice.unregister()
    ring(world, from_="+447700900999")
    assert alice.pending_offers == []
    assert [r["DialCallStatus"] for r in app.requests_to("/voice/dial-done")] == ["busy", "no-answer"]


def test_a_registration_lease_lapses_on_real_time_not_on_the_call_clock(
    app: TinyApp, clock: ControllableClock
):
    """The desk's heartbeat keeps a lease on the world's monotonic clock, so skipping queue time closes no desk."""
    elapsed = [0.0]
    world = SimulatedTwilio(
        base_url="https://ivr.kirklees.test",
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        clock=clock,
        transport=WsgiTransport(app.flask),
        monotonic=lambda: elapsed[0],
    )
    alice = world.browser("alice").register(lease_seconds=30)
    clock.advance(3600)
    assert alice.registered and world.registered_client("alice") is alice
    elapsed[0] = 29.0
    alice.register(lease_seconds=30)  # a heartbeat renews it
    elapsed[0] = 58.0
    assert alice.registered
    elapsed[0] = 59.0
    assert not alice.registered and world.registered_client("alice") is None


def test_a_browser_gets_the_client_parameters_the_sdk_would_hand_it(world: SimulatedTwilio, app: TinyApp):
    _dial_alice(app, {"entry": "42"})
    alice = world.client("alice")
    ring(world)
    assert alice.pending_offers[0].custom_parameters == {"entry": "42"}


def test_a_rest_call_to_a_browser_nobody_has_open_ends_unanswered_at_once(
    world: SimulatedTwilio, app: TinyApp
) -> None:
    app.route("/voice/callback-leg", says("Ring the resident?"))
    call = world.create_outbound_call(
        to="client:alice", from_=COUNCIL_NUMBER, url="https://ivr.kirklees.test/voice/callback-leg"
    )
    world.run_pending()
    assert call.status == "no-answer"
    assert app.requests_to("/voice/callback-leg") == []


def test_dialling_a_queue_bridges_with_the_caller_at_its_head(world: SimulatedTwilio, app: TinyApp) -> None:
    queue_app(app)
    app.route("/voice/adviser", twiml(VoiceResponse().append(_dial_queue())))
    app.route("/voice/about-to-connect", says("You are being connected."))
    app.route("/voice/adviser-done", says("Next caller?"))
    first = ring(world)
    ring(world, from_="+447700900999")

    adviser = world.place_call(from_="client:alice", to=COUNCIL_NUMBER, url="/voice/adviser")

    assert first.bridged_with is adviser
    assert first.heard[-1] == "You are being connected."
    first.hang_up()
    assert app.requests_to("/voice/queue/done")[0]["QueueResult"] == "bridged"
    assert app.requests_to("/voice/adviser-done")[0]["DialCallStatus"] == "completed"
    assert adviser.heard[-1] == "Next caller?"


def _dial_queue() -> Dial:
    dial = Dial(action="/voice/adviser-done")
    dial.queue("council-tax", url="/voice/about-to-connect")
    return dial
