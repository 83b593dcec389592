"""Play Twilio's part in a voice call: post signed webhooks, follow the TwiML, keep Twilio's timings.

Behaviour follows Twilio's documentation as looked up for this module:
- webhooks: a request that is not answered within 15 s, answers non-2xx, or answers unparsable TwiML is
  an error (11200 / 12100); Twilio requests the fallback URL if there is one (with ErrorCode, ErrorUrl),
  otherwise the caller hears "We are sorry, an application error has occurred. Goodbye." and the call ends
  (twilio.com blog "A Hidden Gem: Fallback URLs"; docs "Webhooks connection overrides": read timeout 15 s).
- <Gather>: with no input and no actionOnEmptyResult, Twilio continues with the verb after the Gather.
- <Enqueue>: waitUrl is re-requested whenever its TwiML runs out; its request carries QueueSid,
  QueuePosition, QueueTime, AvgQueueTime, CurrentQueueSize, MaxQueueSize. The action gets QueueResult,
  QueueSid, QueueTime. QueueResult is one of bridged, bridging-in-process, error, hangup, leave,
  redirected, redirected-from-bridged, queue-full, system-error. "When dequeued by a REST API request or
  <Leave>, the action URL is requested right away; when dequeued via <Dial>, once the bridged parties
  disconnect." A failing waitUrl ends the wait with QueueResult=error.
- TwiML that runs while a caller is in a queue (the waitUrl's, and any document a Gather or Redirect inside it
  fetches) may hold only Say, Play, Pause, Gather, Redirect, Leave and Hangup (Twilio's <Enqueue> reference);
  anything else (<Enqueue>, <Dial>, ...) is not run: the wait ends as after a failing waitUrl
  (QueueResult=error) and the call records a "twiml-rejected" event, so tests see the bug.
- Queue Member update (Url, Method) dequeues that caller and runs the TwiML at Url for them; so the
  Enqueue action is requested at once with QueueResult=redirected and its answer is not executed.
- <Dial>: timeout 30 s; action gets DialCallStatus, DialCallSid, DialCallDuration; without an action the
  caller continues with the next verb. <Number url>/<Client url> TwiML runs on the called party's leg
  before the parties are connected; <Queue url> TwiML runs on the dequeued caller's leg.
Simplifications (not Twilio facts): several nouns in one <Dial> are tried one after another rather than
rung together; a declined whisper and a rejected browser call report DialCallStatus no-answer / busy.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode, urljoin, urlsplit

from twilio.request_validator import RequestValidator

from simulator.twiml import (
    Dial,
    DialClient,
    DialNumber,
    DialQueue,
    Enqueue,
    Gather,
    Hangup,
    Leave,
    Message,
    Pause,
    Play,
    Redirect,
    Reject,
    Say,
    TwimlError,
    Verb,
    parse_twiml,
)

if TYPE_CHECKING:
    from simulator.world import SimulatedTwilio

API_VERSION = "2010-04-01"
WEBHOOK_TIMEOUT_SECONDS = 15.0
APPLICATION_ERROR_MESSAGE = "We are sorry, an application error has occurred. Goodbye."
WITHHELD_CALLER_ID = "+266696687"  # "ANONYMOUS" on a keypad, as Twilio presents a withheld number
DEFAULT_HOLD_MUSIC = "https://twimlets.com/holdmusic?Bucket=com.twilio.music.classical"
# The verbs Twilio runs in waitUrl TwiML (and in documents reached from it by Gather or Redirect).
WAIT_VERBS = (Say, Play, Pause, Gather, Redirect, Leave, Hangup)
ENDED_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
# Ringing a client identity no browser is registered as ends the leg at once, with no ringing time. Twilio's docs
# do not name the status; its call logs show such a leg as "No Answer", 0 seconds (e.g. the log quoted in
# github.com/twilio/voice-quickstart-server-node/issues/19), so the Dial action hears DialCallStatus=no-answer.
UNREGISTERED_CLIENT_STATUS = "no-answer"


def new_sid(prefix: str) -> str:
    """Make a Twilio-shaped SID: two-letter prefix and 32 hex digits."""
    return prefix + uuid.uuid4().hex


def rfc2822(moment: datetime) -> str:
    return format_datetime(moment, usegmt=False).replace("-0000", "+0000")


# -- transport ---------------------------------------------------------------------------------------


class WebhookTransport(Protocol):
    def post(
        self, url: str, form: Mapping[str, str], headers: Mapping[str, str], method: str = "POST"
    ) -> tuple[int, str, float]:
        """Send one webhook; return (HTTP status or 0 if unreachable, body, elapsed seconds)."""
        ...


class RequestsTransport:
    """Reach a live server over HTTP, as Twilio would."""

    def __init__(self, timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> None:
        import requests

        self._session = requests.Session()
        self._timeout = timeout

    def post(
        self, url: str, form: Mapping[str, str], headers: Mapping[str, str], method: str = "POST"
    ) -> tuple[int, str, float]:
        import requests

        started = time.perf_counter()
        try:
            if method == "GET":
                response = self._session.get(url, headers=dict(headers), timeout=self._timeout)
            else:
                response = self._session.post(
                    url, data=dict(form), headers=dict(headers), timeout=self._timeout
                )
        except requests.Timeout:
            return 0, "", max(self._timeout, time.perf_counter() - started)
        except requests.RequestException as error:
            return 0, str(error), time.perf_counter() - started
        return response.status_code, response.text, time.perf_counter() - started


class WsgiTransport:
    """Call any WSGI app in-process (werkzeug's test client), keeping the absolute URL that was signed."""

    def __init__(self, app: Any) -> None:
        from werkzeug.test import Client

        self._client = Client(app)

    def post(
        self, url: str, form: Mapping[str, str], headers: Mapping[str, str], method: str = "POST"
    ) -> tuple[int, str, float]:
        started = time.perf_counter()
        parts = urlsplit(url)
        response = self._client.open(
            parts.path,
            base_url=f"{parts.scheme}://{parts.netloc}",
            query_string=parts.query,
            method=method,
            data=None if method == "GET" else dict(form),
            headers=dict(headers),
            follow_redirects=True,
        )
        return response.status_code, response.get_data(as_text=True), time.perf_counter() - started


# -- records -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallEvent:
    """One thing that happened on a call, as the caller (or Twilio) experienced it.

    kinds: heard, played, paused, gather-waiting, pressed, spoke, gather-timeout, enqueued, waiting,
    left-queue, dequeued, dialled, ringing, answered, bridged, bridge-ended, sms, redirected, rejected,
    hung-up, application-error, webhook-failed, twiml-rejected, call-ended.
    """

    kind: str
    at: datetime
    text: str = ""
    language: str = ""
    voice: str = ""
    detail: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookExchange:
    url: str
    method: str
    form: Mapping[str, str]
    status: int
    body: str
    elapsed_seconds: float
    error_code: int | None = None


@dataclass(frozen=True)
class Dequeue:
    queue_sid: str
    url: str
    method: str = "POST"


@dataclass(frozen=True)
class RedirectCall:
    url: str | None = None
    method: str = "POST"
    twiml: str | None = None


@dataclass(frozen=True)
class EndCall:
    status: str = "completed"


Instruction = Dequeue | RedirectCall | EndCall


class CallEnded(RuntimeError):
    """The caller tried to act on a call that is over."""


class CallStateError(RuntimeError):
    """The caller tried something the call is not ready for (e.g. speaking when nothing listens)."""


@dataclass
class _QueueStay:
    queue_sid: str
    verb: Enqueue
    document_url: str
    enqueued_at: datetime
    resume_document: list[Verb]
    resume_url: str
    resume_position: int
    wait_rounds: int = 0


@dataclass
class _GatherWait:
    verb: Gather
    action_url: str
    deadline: datetime


@dataclass
class _DialWait:
    verb: Dial
    document_url: str
    deadline: datetime
    child: Call | None = None
    queue_target: DialQueue | None = None


@dataclass
class _Bridge:
    legs: tuple[Call, Call]
    started_at: datetime
    ends_at: datetime | None = None  # a scripted phone hangs up at this time
    ending_leg: Call | None = None


@dataclass
class _AfterDial:
    verb: Dial
    document_url: str
    other: Call
    queue_sid: str | None = None


@dataclass
class _AfterEnqueue:
    stay: _QueueStay


# -- the call ----------------------------------------------------------------------------------------


class Call:
    """One call leg, driven by the engine until it needs the caller (or an adviser) or ends."""

    def __init__(
        self,
        world: SimulatedTwilio,
        sid: str,
        from_: str,
        to: str,
        direction: str,
        url: str | None = None,
        method: str = "POST",
        twiml: str | None = None,
        fallback_url: str | None = None,
        status_callback: str | None = None,
        status_callback_events: tuple[str, ...] = ("completed",),
        machine_detection: str | None = None,
        ring_timeout: float = 60.0,
        parent: Call | None = None,
    ) -> None:
        self.world = world
        self.sid = sid
        self.from_ = from_
        self.to = to
        self.direction = direction
        self.url = url
        self.method = method
        self.twiml = twiml
        self.fallback_url = fallback_url
        self.status_callback = status_callback
        self.status_callback_events = status_callback_events
        self.machine_detection = machine_detection
        self.ring_timeout = ring_timeout
        self.parent = parent
        self.status = "ringing"
        self.answered_by: str | None = None
        # What <Client><Parameter> passed to a browser leg (the Voice SDK's call.customParameters).
        self.custom_parameters: dict[str, str] = {}
        self.date_created = world.clock.now()
        self.start_time: datetime | None = None
        self.end_time: datetime | None = None
        self.transcript: list[CallEvent] = []
        self.requests: list[WebhookExchange] = []
        self._document: list[Verb] = []
        self._document_url = url or world.base_url
        self._position = 0
        self._queue_stay: _QueueStay | None = None
        self._gather: _GatherWait | None = None
        self._dialling: _DialWait | None = None
        self._bridge: _Bridge | None = None
        self._after_bridge: _AfterDial | _AfterEnqueue | None = None
        self._whisper_done: Callable[[], None] | None = None
        self._remaining_seconds = 0.0
        self._instructions: deque[Instruction] = deque()
        self._scripted_keys = ""
        self._automated = False
        self._sequence = 0
        self._drive_lock = threading.RLock()

    # -- what tests and UIs read ---------------------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self.status in ENDED_STATUSES

    @property
    def heard(self) -> list[str]:
        """Everything said to this leg, in order."""
        return [event.text for event in self.transcript if event.kind == "heard"]

    @property
    def in_queue(self) -> bool:
        return self._queue_stay is not None

    @property
    def queue_position(self) -> int | None:
        stay = self._queue_stay
        if stay is None:
            return None
        return self.world.queue(stay.queue_sid).position_of(self.sid)

    @property
    def gathering(self) -> bool:
        return self._gather is not None

    @property
    def bridged_with(self) -> Call | None:
        bridge = self._bridge
        if bridge is None:
            return None
        return bridge.legs[1] if bridge.legs[0] is self else bridge.legs[0]

    @property
    def duration_seconds(self) -> int:
        if self.start_time is None:
            return 0
        end = self.end_time or self.world.clock.now()
        return int((end - self.start_time).total_seconds())

    def events(self, kind: str) -> list[CallEvent]:
        return [event for event in self.transcript if event.kind == kind]

    def __repr__(self) -> str:
        return f"<Call {self.sid} {self.from_}->{self.to} {self.status}>"

    # -- what the caller does ------------------------------------------------------------------------

    def press(self, keys: str) -> Call:
        """Key digits; if neither finishOnKey nor numDigits ends the Gather, it ends after its timeout."""
        with self._drive_lock:
            self._must_be_live()
            self._record("pressed", text=keys)
            if self._gather is None or "dtmf" not in self._gather.verb.input:
                self._record("keys-ignored", text=keys)
            else:
                self._key_in(keys)
            self._advance(None)
        return self

    press_keys = press

    def speak(self, words: str, confidence: float = 0.9) -> Call:
        """Say something to a speech Gather; Twilio posts SpeechResult and Confidence to its action."""
        with self._drive_lock:
            self._must_be_live()
            gather = self._gather
            if gather is None or "speech" not in gather.verb.input:
                raise CallStateError("nothing on this call is listening for speech")
            self._record("spoke", text=words)
            self._spend(len(words.split()) * 0.4 + 1.0)
            self._submit_gather(
                {"SpeechResult": words, "Confidence": f"{confidence:.8f}".rstrip("0").rstrip(".")}
            )
            self._advance(None)
        return self

    def stay_silent(self) -> Call:
        """Let the current Gather time out."""
        with self._drive_lock:
            self._must_be_live()
            if self._gather is None:
                raise CallStateError("no Gather is waiting for this caller")
            self._spend_until(self._gather.deadline)
            self._gather_timed_out()
            self._advance(None)
        return self

    def wait(self, seconds: float) -> Call:
        """Let `seconds` pass with the caller doing nothing (in a queue, on hold, in silence)."""
        with self._drive_lock:
            if not self.ended:
                self._advance(self.world.clock.now() + timedelta(seconds=seconds))
        return self

    def hang_up(self) -> Call:
        with self._drive_lock:
            if self.ended:
                return self
            self._record("hung-up", detail={"by": "caller"})
            self._leave_everything(hung_up=True)
        return self

    # -- driven by the world, REST and other legs ------------------------------------------------

    @property
    def has_instructions(self) -> bool:
        with self.world.lock:
            return bool(self._instructions)

    def post_instruction(self, instruction: Instruction) -> None:
        """Record a REST instruction (dequeue, redirect, end); applied on the call's next step."""
        with self.world.lock:
            self._instructions.append(instruction)

    def drive(self) -> bool:
        """Apply pending instructions and run until input is needed; False if another thread drives it."""
        if not self._drive_lock.acquire(timeout=5):
            return False
        try:
            if self.ended:
                return False
            self._advance(None)
            return True
        finally:
            self._drive_lock.release()

    def start_inbound(self) -> None:
        with self._drive_lock:
            self.start_time = self.world.clock.now()
            if self._fetch_document(self.url or "", self.method, {}, initial=True):
                self.status = "in-progress"
            self._advance(None)

    def start_outbound(self) -> None:
        """Ring the destination of a REST-created call the way its scripted phone or client says."""
        with self._drive_lock:
            self.status = "queued"
            self._status_callback("initiated", "initiated")
            self.status = "ringing"
            self._status_callback("ringing", "ringing")
            self._record("ringing", text=self.to)
            if self.to.startswith("client:"):
                browser = self.world.registered_client(self.to)
                if browser is None:
                    self._record("not-registered", text=self.to)
                    self._complete(UNREGISTERED_CLIENT_STATUS)
                    return
                browser.offers.append(self)
                return
            script = self.world.phone(self.to).script
            if script.outcome in {"busy", "failed"}:
                self._spend(script.ring_seconds)
                self._complete(script.outcome)
                return
            if script.outcome == "no-answer" or script.ring_seconds > self.ring_timeout:
                self._spend(self.ring_timeout)
                self._complete("no-answer")
                return
            self._spend(script.ring_seconds)
            self._automated = True
            self._scripted_keys = script.press
            if self.machine_detection:
                machine = (
                    "machine_end_beep" if self.machine_detection == "DetectMessageEnd" else "machine_start"
                )
                self.answered_by = machine if script.outcome == "voicemail" else "human"
            self._answer_and_run()

    def answer_as_client(self, press: str = "") -> None:
        """An adviser's browser accepts this ringing leg (see AdviserClient.answer)."""
        with self._drive_lock:
            self._must_be_live()
            self._scripted_keys = press
            if self.parent is None:
                self._answer_and_run()
                return
            self.status = "in-progress"
            self.start_time = self.world.clock.now()
            self._record("answered", text=self.to)
            self._run_whisper_then_connect(self._pending_whisper_url, self._pending_whisper_method)

    def reject_as_client(self) -> None:
        with self._drive_lock:
            self._record("rejected", text=self.to)
            self._complete("busy")
            parent = self.parent
        if parent is not None and parent._dialling is not None and parent._dialling.child is self:
            with parent._drive_lock:
                parent._finish_dial("busy", self)
                parent._advance(None)

    # -- the engine loop ---------------------------------------------------------------------------

    def _advance(self, deadline: datetime | None) -> None:
        """Follow TwiML until the call needs input (deadline None) or until `deadline` passes."""
        while not self.ended:
            if self._apply_instruction():
                continue
            now = self.world.clock.now()
            if self._gather is not None:
                if deadline is None and not self._automated:
                    return
                if deadline is None or self._gather.deadline <= deadline:
                    self._spend_until(self._gather.deadline)
                    self._gather_timed_out()
                    continue
                self._spend_until(deadline)
                return
            if self._dialling is not None:
                if self._dialling.queue_target is not None and self._try_connect_queue():
                    continue
                if deadline is None:
                    return
                if self._dialling.deadline <= deadline:
                    self._spend_until(self._dialling.deadline)
                    self._dial_timed_out()
                    continue
                self._spend_until(deadline)
                return
            if self._bridge is not None:
                ends_at = self._bridge.ends_at
                if ends_at is not None and (deadline is None or ends_at <= deadline):
                    self._spend_until(ends_at)
                    other = self.bridged_with
                    if other is not None:
                        other._record("hung-up", detail={"by": "callee"})
                        self._end_bridge(other, drive_staying=False)
                    continue
                if deadline is not None:
                    self._spend_until(deadline)
                return
            if self.status == "ringing" and self.direction == "outbound-api":
                # A REST call ringing a browser client: nothing happens until it answers or times out.
                ring_deadline = self.date_created + timedelta(seconds=self.ring_timeout)
                if deadline is None:
                    return
                self._spend_until(min(deadline, ring_deadline))
                if now >= ring_deadline or self.world.clock.now() >= ring_deadline:
                    self._complete("no-answer")
                return
            if self._remaining_seconds > 0:
                if not self._consume_remaining(deadline):
                    return
                continue
            if deadline is not None and now >= deadline:
                return
            if self._position < len(self._document):
                verb = self._document[self._position]
                self._position += 1
                self._execute(verb, deadline)
                continue
            if self._whisper_done is not None:
                done, self._whisper_done = self._whisper_done, None
                done()
                return
            if self._queue_stay is not None:
                if deadline is None and self._queue_stay.wait_rounds > 0:
                    return
                self._fetch_wait_document()
                if self._queue_stay is not None and deadline is not None and not self._document:
                    # An empty wait document would loop without time passing; Twilio would too,
                    # but a simulator must not spin, so an empty round costs a second.
                    self._spend(1.0, deadline)
                continue
            self._record("hung-up", detail={"by": "twilio", "reason": "end of TwiML"})
            self._complete("completed")

    def _execute(self, verb: Verb, deadline: datetime | None) -> None:
        if isinstance(verb, Say):
            self._record("heard", text=verb.text, language=verb.language, voice=verb.voice)
            self._spend(verb.seconds, deadline)
        elif isinstance(verb, Play):
            self._record("played", text=verb.url, detail={"digits": verb.digits})
            self._spend(verb.seconds, deadline)
        elif isinstance(verb, Pause):
            self._record("paused", detail={"seconds": f"{verb.length:g}"})
            self._spend(verb.seconds, deadline)
        elif isinstance(verb, Gather):
            self._start_gather(verb)
        elif isinstance(verb, Redirect):
            self._record("redirected", text=verb.url)
            self._fetch_document(verb.url, verb.method, {})
        elif isinstance(verb, Hangup):
            self._record("hung-up", detail={"by": "twilio", "reason": "Hangup"})
            self._leave_everything(hung_up=True)
        elif isinstance(verb, Reject):
            self._record("rejected", text=verb.reason)
            self._complete("busy")
        elif isinstance(verb, Enqueue):
            self._enqueue(verb)
        elif isinstance(verb, Leave):
            self._leave_queue("leave")
        elif isinstance(verb, Dial):
            self._start_dial(verb)
        elif isinstance(verb, Message):
            message = self.world.send_message(
                to=verb.to or self.from_, from_=verb.from_ or self.to, body=verb.body, sent_by=self.sid
            )
            self._record("sms", text=verb.body, detail={"to": message.to, "sid": message.sid})

    # -- time ----------------------------------------------------------------------------------------

    def _spend(self, seconds: float, deadline: datetime | None = None) -> float:
        """Let time pass (advancing a controllable clock, else sleeping); stop early for REST news."""
        if deadline is not None:
            seconds = min(seconds, (deadline - self.world.clock.now()).total_seconds())
        spent = 0.0
        while spent < seconds:
            if self.has_instructions:
                break
            step = min(1.0, seconds - spent)
            advance = getattr(self.world.clock, "advance", None)
            if advance is not None:
                advance(step)
            else:
                time.sleep(step)
            spent += step
        return spent

    def _spend_until(self, moment: datetime) -> None:
        self._spend((moment - self.world.clock.now()).total_seconds())

    def _consume_remaining(self, deadline: datetime | None) -> bool:
        spent = self._spend(self._remaining_seconds, deadline)
        self._remaining_seconds = max(0.0, self._remaining_seconds - spent)
        if self.has_instructions:
            self._remaining_seconds = 0.0
            return True
        return self._remaining_seconds == 0.0

    # -- webhooks ------------------------------------------------------------------------------------

    def _standard_parameters(self) -> dict[str, str]:
        parameters = {
            "CallSid": self.sid,
            "AccountSid": self.world.account_sid,
            "From": self.from_,
            "To": self.to,
            "Caller": self.from_,
            "Called": self.to,
            "CallStatus": self.status,
            "Direction": self.direction,
            "ApiVersion": API_VERSION,
        }
        if self.parent is not None:
            parameters["ParentCallSid"] = self.parent.sid
        if self.answered_by:
            parameters["AnsweredBy"] = self.answered_by
        return parameters

    def _request(self, url: str, method: str, extra: Mapping[str, str]) -> WebhookExchange:
        """Send one signed webhook; the error code says why Twilio would reject the answer."""
        form = {**self._standard_parameters(), **extra}
        if method == "GET":
            separator = "&" if urlsplit(url).query else "?"
            url, body_form = f"{url}{separator}{urlencode(form)}", {}
        else:
            body_form = form
        signature = RequestValidator(self.world.auth_token).compute_signature(url, body_form)
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1 (simulator)"}
        before = self.world.clock.now()
        status, body, elapsed = self.world.transport.post(url, body_form, headers, method)
        # A handler that moved a shared controllable clock took that long in simulated time.
        elapsed = max(elapsed, (self.world.clock.now() - before).total_seconds())
        error_code = None
        if elapsed > WEBHOOK_TIMEOUT_SECONDS or not 200 <= status < 300:
            error_code = 11200
        exchange = WebhookExchange(url, method, form, status, body, elapsed, error_code)
        self.requests.append(exchange)
        return exchange

    def _notify(self, url: str | None, method: str, extra: Mapping[str, str]) -> None:
        """Tell the app something whose answer Twilio does not execute (status, finished actions)."""
        if url:
            self._request(urljoin(self._document_url, url), method, extra)

    def _fetch_document(self, url: str, method: str, extra: Mapping[str, str], initial: bool = False) -> bool:
        """Request TwiML and make it the current document; on failure use the fallback or end the call."""
        absolute = urljoin(self._document_url, url)
        exchange = self._request(absolute, method, extra)
        verbs, error_code = self._parse(exchange)
        if verbs is None and self.fallback_url:
            self._record("webhook-failed", text=absolute, detail={"error": str(error_code)})
            fallback = self._request(
                self.fallback_url,
                "POST",
                {**extra, "ErrorCode": str(error_code), "ErrorUrl": absolute},
            )
            verbs, error_code = self._parse(fallback)
            absolute = self.fallback_url
        if verbs is None:
            self._application_error(absolute, error_code or 11200)
            return False
        if self._queue_stay is not None and not self._fits_the_wait(verbs, absolute):
            return False
        self._document, self._document_url, self._position = list(verbs), absolute, 0
        self._remaining_seconds = 0.0
        return True

    def _fits_the_wait(self, verbs: tuple[Verb, ...], url: str) -> bool:
        """Twilio runs only WAIT_VERBS while the caller is queued; other TwiML ends the wait with an error."""
        refused = sorted({type(verb).__name__ for verb in verbs if not isinstance(verb, WAIT_VERBS)})
        if not refused:
            return True
        self._record("twiml-rejected", text=url, detail={"verbs": ", ".join(refused), "where": "waitUrl"})
        self._leave_queue("error")
        return False

    @staticmethod
    def _parse(exchange: WebhookExchange) -> tuple[tuple[Verb, ...] | None, int | None]:
        if exchange.error_code is not None:
            return None, exchange.error_code
        try:
            return parse_twiml(exchange.body), None
        except TwimlError:
            return None, 12100

    def _application_error(self, url: str, error_code: int) -> None:
        self._record("application-error", text=url, detail={"error": str(error_code)})
        self._record("heard", text=APPLICATION_ERROR_MESSAGE, language="en-US")
        self._spend(len(APPLICATION_ERROR_MESSAGE.split()) * 0.4)
        self._leave_everything(hung_up=True)

    def _status_callback(self, event: str, call_status: str) -> None:
        if not self.status_callback or event not in self.status_callback_events:
            return
        self._sequence += 1
        extra = {
            "CallStatus": call_status,
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(self._sequence - 1),
            "Timestamp": rfc2822(self.world.clock.now()),
        }
        if event == "completed":
            extra["CallDuration"] = str(self.duration_seconds)
            extra["Duration"] = str(max(1, (self.duration_seconds + 59) // 60))
        self._request(self.status_callback, "POST", extra)

    # -- gather --------------------------------------------------------------------------------------

    def _start_gather(self, verb: Gather) -> None:
        for prompt in verb.prompts:
            self._execute(prompt, None)
        action_url = urljoin(self._document_url, verb.action) if verb.action else self._document_url
        deadline = self.world.clock.now() + timedelta(seconds=verb.timeout)
        self._gather = _GatherWait(verb, action_url, deadline)
        self._record("gather-waiting", detail={"input": " ".join(sorted(verb.input))})
        if self._scripted_keys and "dtmf" in verb.input:
            keys, self._scripted_keys = self._scripted_keys, ""
            self._record("pressed", text=keys)
            self._key_in(keys)

    def _key_in(self, keys: str) -> None:
        gather = self._gather
        assert gather is not None
        digits = ""
        for key in keys:
            if gather.verb.finish_on_key and key == gather.verb.finish_on_key:
                self._submit_gather({"Digits": digits, "FinishedOnKey": key})
                return
            digits += key
            if gather.verb.num_digits and len(digits) >= gather.verb.num_digits:
                self._submit_gather({"Digits": digits, "FinishedOnKey": ""})
                return
        # The caller stopped keying: Twilio waits `timeout` seconds of silence, then submits.
        self._spend(gather.verb.timeout)
        self._submit_gather({"Digits": digits, "FinishedOnKey": ""})

    def _submit_gather(self, result: Mapping[str, str]) -> None:
        gather, self._gather = self._gather, None
        assert gather is not None
        self._fetch_document(gather.action_url, gather.verb.method, result)

    def _gather_timed_out(self) -> None:
        gather, self._gather = self._gather, None
        assert gather is not None
        self._record("gather-timeout")
        if gather.verb.action_on_empty_result:
            self._fetch_document(gather.action_url, gather.verb.method, {})

    # -- queues --------------------------------------------------------------------------------------

    def _queue_parameters(self, stay: _QueueStay) -> dict[str, str]:
        now = self.world.clock.now()
        with self.world.lock:
            queue = self.world.queue(stay.queue_sid)
            return {
                "QueueSid": queue.sid,
                "QueuePosition": str(queue.position_of(self.sid) or 0),
                "QueueTime": str(int((now - stay.enqueued_at).total_seconds())),
                "AvgQueueTime": str(queue.average_wait_seconds(now)),
                "CurrentQueueSize": str(len(queue.members)),
                "MaxQueueSize": str(queue.max_size),
            }

    def _enqueue(self, verb: Enqueue) -> None:
        from simulator.world import QueueMember

        if self._queue_stay is not None:
            self._application_error(self._document_url, 12200)
            return
        now = self.world.clock.now()
        with self.world.lock:
            queue = self.world.queue_named(verb.queue_name)
            assert queue is not None
            full = len(queue.members) >= queue.max_size
            if not full:
                queue.members.append(QueueMember(self.sid, now))
                position = len(queue.members)
        if full:
            self._record("queue-full", text=verb.queue_name)
            self._finish_enqueue(verb, self._document_url, {"QueueResult": "queue-full"})
            return
        self._queue_stay = _QueueStay(
            queue.sid, verb, self._document_url, now, self._document, self._document_url, self._position
        )
        self._document, self._position = [], 0
        self._record("enqueued", text=verb.queue_name, detail={"position": str(position)})

    def _fetch_wait_document(self) -> None:
        stay = self._queue_stay
        assert stay is not None
        stay.wait_rounds += 1
        if stay.verb.wait_url is None:
            self._document, self._position = [Play(DEFAULT_HOLD_MUSIC, seconds_per_loop=30.0)], 0
            return
        if stay.verb.wait_url == "":
            self._document, self._position = [Pause(length=5.0)], 0
            return
        self._record("waiting", detail=self._queue_parameters(stay))
        url = urljoin(stay.document_url, stay.verb.wait_url)
        exchange = self._request(url, stay.verb.wait_url_method, self._queue_parameters(stay))
        verbs, _ = self._parse(exchange)
        if verbs is None:
            self._record("webhook-failed", text=url)
            self._leave_queue("error")
            return
        if not self._fits_the_wait(verbs, url):
            return
        self._document, self._document_url, self._position = list(verbs), url, 0

    def _leave_queue(self, result: str) -> None:
        """Take this caller out of its queue (<Leave>, a failing waitUrl) and carry on after <Enqueue>."""
        stay, self._queue_stay = self._queue_stay, None
        if stay is None:
            return
        self._gather = None
        self._remove_from_queue(stay)
        self._record("left-queue", text=result)
        parameters = {"QueueResult": result, **self._time_in_queue(stay)}
        self._document, self._document_url, self._position = (
            stay.resume_document,
            stay.resume_url,
            stay.resume_position,
        )
        self._finish_enqueue(stay.verb, stay.document_url, parameters)

    def _finish_enqueue(self, verb: Enqueue, document_url: str, parameters: Mapping[str, str]) -> None:
        """Request the Enqueue action and run its TwiML, or fall through to the next verb."""
        if verb.action:
            self._document_url = document_url
            self._fetch_document(verb.action, verb.method, parameters)

    def _time_in_queue(self, stay: _QueueStay) -> dict[str, str]:
        seconds = int((self.world.clock.now() - stay.enqueued_at).total_seconds())
        return {"QueueSid": stay.queue_sid, "QueueTime": str(seconds)}

    def _remove_from_queue(self, stay: _QueueStay) -> None:
        with self.world.lock:
            queue = self.world.queue(stay.queue_sid)
            queue.members = [member for member in queue.members if member.call_sid != self.sid]

    # -- instructions from REST -----------------------------------------------------------------------

    def _apply_instruction(self) -> bool:
        with self.world.lock:
            if not self._instructions:
                return False
            instruction = self._instructions.popleft()
        self._gather = None
        self._remaining_seconds = 0.0
        if isinstance(instruction, EndCall):
            self._record("hung-up", detail={"by": "api"})
            self._leave_everything(hung_up=True, status=instruction.status)
            return True
        stay = self._queue_stay
        if stay is not None:
            self._queue_stay = None
            self._remove_from_queue(stay)
            self._record("dequeued", detail={"queue": stay.verb.queue_name})
            if stay.verb.action:
                self._notify(
                    urljoin(stay.document_url, stay.verb.action),
                    stay.verb.method,
                    {"QueueResult": "redirected", **self._time_in_queue(stay)},
                )
        self._abandon_dial_and_bridge()
        self.status = "in-progress"
        if isinstance(instruction, Dequeue):
            self._fetch_document(instruction.url, instruction.method, {})
        elif instruction.twiml is not None:
            self._load_inline(instruction.twiml)
        elif instruction.url is not None:
            self._record("redirected", text=instruction.url)
            self._fetch_document(instruction.url, instruction.method, {})
        return True

    def _load_inline(self, twiml: str) -> None:
        try:
            verbs = parse_twiml(twiml)
        except TwimlError:
            self._application_error("(inline TwiML)", 12100)
            return
        self._document, self._position = list(verbs), 0

    # -- dialling ------------------------------------------------------------------------------------

    def _new_child(self, to: str, caller_id: str | None) -> Call:
        child = Call(
            world=self.world,
            sid=new_sid("CA"),
            from_=caller_id or self.from_,
            to=to,
            direction="outbound-dial",
            parent=self,
        )
        child._document_url = self._document_url
        return self.world.register(child)

    def _start_dial(self, verb: Dial) -> None:
        status, child = "failed", None
        deadline = self.world.clock.now() + timedelta(seconds=verb.timeout)
        self._dialling = _DialWait(verb, self._document_url, deadline)
        for target in verb.targets:
            self._record("dialled", text=_target_name(target))
            if isinstance(target, DialQueue):
                deadline = self.world.clock.now() + timedelta(seconds=verb.timeout)
                if self.world.queue_named(target.name, create=False) is None:
                    status = "failed"
                    continue
                self._dialling = _DialWait(verb, self._document_url, deadline, queue_target=target)
                self._try_connect_queue()
                return
            if isinstance(target, DialClient):
                child = self._new_child(f"client:{target.identity}", verb.caller_id)
                browser = self.world.registered_client(target.identity)
                if browser is None:
                    # No browser registered as this identity: the dial ends at once, as Twilio's does.
                    child._record("not-registered", text=child.to)
                    child._complete(UNREGISTERED_CLIENT_STATUS)
                    status = UNREGISTERED_CLIENT_STATUS
                    continue
                child._pending_whisper_url = target.url
                child._pending_whisper_method = target.method
                child.custom_parameters = dict(target.parameters)
                browser.offers.append(child)
                deadline = self.world.clock.now() + timedelta(seconds=verb.timeout)
                self._dialling = _DialWait(verb, self._document_url, deadline, child=child)
                return
            status, child = self._ring_number(verb, target)
            if status == "bridged":
                return
        self._finish_dial(status, child)

    def _ring_number(self, verb: Dial, target: DialNumber) -> tuple[str, Call]:
        phone = self.world.phone(target.number)
        script = phone.script
        child = self._new_child(target.number, verb.caller_id)
        phone.calls.append(child)
        if script.outcome in {"busy", "failed"}:
            self._spend(script.ring_seconds)
            child._complete(script.outcome)
            return script.outcome, child
        if script.outcome == "no-answer" or script.ring_seconds > verb.timeout:
            self._spend(verb.timeout)
            child._complete("no-answer")
            return "no-answer", child
        self._spend(script.ring_seconds)
        child.status, child.start_time = "in-progress", self.world.clock.now()
        child._automated, child._scripted_keys = True, script.press
        self._dialling = _DialWait(verb, self._document_url, self.world.clock.now(), child=child)
        child._run_whisper_then_connect(target.url, target.method)
        if child.ended:
            return "no-answer", child
        if self._bridge is not None and script.talk_seconds is not None:
            self._bridge.ends_at = self.world.clock.now() + timedelta(seconds=script.talk_seconds)
        return "bridged", child

    _pending_whisper_url: str | None = None
    _pending_whisper_method: str = "POST"

    def _run_whisper_then_connect(self, url: str | None, method: str) -> None:
        """Run the called party's whisper TwiML on this (child) leg, then connect it to its parent."""
        parent = self.parent
        assert parent is not None

        def connect() -> None:
            if parent.ended or parent._dialling is None or parent._dialling.child is not self:
                self._complete("completed")
                return
            parent._connect_dialled(self)

        if not url:
            connect()
            return
        self._whisper_done = connect
        if self._fetch_document(url, method, {}):
            self._advance(None)
        if self.ended and parent._dialling is not None and parent._dialling.child is self:
            with parent._drive_lock:
                parent._finish_dial("no-answer", self)
                if not parent._automated:
                    return
                parent._advance(None)

    def _connect_dialled(self, child: Call) -> None:
        dialling = self._dialling
        assert dialling is not None
        self._dialling = None
        self._bridge_legs(child, _AfterDial(dialling.verb, dialling.document_url, child), None)

    def _bridge_legs(
        self,
        other: Call,
        mine: _AfterDial | _AfterEnqueue | None,
        theirs: _AfterDial | _AfterEnqueue | None,
    ) -> None:
        bridge = _Bridge((self, other), self.world.clock.now())
        self._bridge, other._bridge = bridge, bridge
        self._after_bridge, other._after_bridge = mine, theirs
        self._record("bridged", text=other.to if other.parent is self else other.from_)
        other._record("bridged", text=self.from_)

    def _try_connect_queue(self) -> bool:
        dialling = self._dialling
        assert dialling is not None and dialling.queue_target is not None
        target = dialling.queue_target
        with self.world.lock:
            queue = self.world.queue_named(target.name, create=False)
            if queue is None or not queue.members:
                return False
            wanted = next(
                (m.call_sid for m in queue.members if target.reservation_sid in (None, m.call_sid)),
                queue.members[0].call_sid,
            )
            self.world.take_member(queue.sid, wanted)
            caller = self.world.calls[wanted]
        caller._connect_from_queue(self, target)
        return True

    def _connect_from_queue(self, dialler: Call, target: DialQueue) -> None:
        """Leave the queue for the dialler: run <Queue url> TwiML here, then bridge (QueueResult later)."""
        with self._drive_lock:
            stay, self._queue_stay = self._queue_stay, None
            assert stay is not None
            self._gather, self._remaining_seconds = None, 0.0
            self._record("dequeued", detail={"queue": stay.verb.queue_name, "by": dialler.sid})
            if target.url:
                self._document_url = stay.document_url
                extra = {**self._time_in_queue(stay), "DequeingCallSid": dialler.sid}
                if self._fetch_document(urljoin(dialler._document_url, target.url), target.method, extra):
                    self._advance_prompts_only()
            dialling = dialler._dialling
            assert dialling is not None
            dialler._dialling = None
            if self.ended:
                dialler._finish_dial("failed", self)
                return
            self._document, self._document_url, self._position = (
                stay.resume_document,
                stay.resume_url,
                stay.resume_position,
            )
            dialler._bridge_legs(
                self,
                _AfterDial(dialling.verb, dialling.document_url, self, stay.queue_sid),
                _AfterEnqueue(stay),
            )

    def _advance_prompts_only(self) -> None:
        """Run the dequeued caller's <Queue url> TwiML: only Play, Say, Pause and Redirect are allowed."""
        while not self.ended and self._position < len(self._document):
            verb = self._document[self._position]
            self._position += 1
            if isinstance(verb, Say | Play | Pause | Redirect):
                self._execute(verb, None)

    def _dial_timed_out(self) -> None:
        dialling = self._dialling
        assert dialling is not None
        child = dialling.child
        if child is not None and not child.ended:
            child._complete("no-answer")
        self._finish_dial("no-answer", child)

    def _finish_dial(self, status: str, child: Call | None, duration: int | None = None) -> None:
        """Request the Dial action with DialCallStatus, or carry on with the next verb."""
        dialling, self._dialling = self._dialling, None
        verb = dialling.verb if dialling else None
        parameters = {"DialCallStatus": status}
        if child is not None:
            parameters["DialCallSid"] = child.sid
        if duration is not None:
            parameters["DialCallDuration"] = str(duration)
        self._record("dial-ended", text=status)
        if verb is not None and verb.action:
            if dialling is not None:
                self._document_url = dialling.document_url
            self._fetch_document(verb.action, verb.method, parameters)

    # -- ending --------------------------------------------------------------------------------------

    def _end_bridge(self, leaving: Call, drive_staying: bool = True) -> None:
        """One party left the bridge: it ends; the other settles its Dial/Enqueue action and carries on."""
        bridge = leaving._bridge
        assert bridge is not None
        duration = int((self.world.clock.now() - bridge.started_at).total_seconds())
        staying = bridge.legs[1] if bridge.legs[0] is leaving else bridge.legs[0]
        for leg in bridge.legs:
            leg._bridge = None
            leg._record("bridge-ended", detail={"seconds": str(duration)})
        leaving._complete("completed")
        leaving._settle_after_bridge(duration)
        if staying._after_bridge is None:
            staying._complete("completed")
            return
        staying._settle_after_bridge(duration)
        if drive_staying and not staying.ended:
            with staying._drive_lock:
                staying._advance(None)

    def _settle_after_bridge(self, duration: int) -> None:
        """Request the action the bridge was holding back; a live leg runs its answer, an ended one not."""
        after, self._after_bridge = self._after_bridge, None
        if isinstance(after, _AfterDial):
            if self.ended:
                self._notify_finished_dial(after, duration)
            else:
                self._dialling = _DialWait(after.verb, after.document_url, self.world.clock.now())
                self._finish_dial("completed", after.other, duration)
        elif isinstance(after, _AfterEnqueue):
            stay = after.stay
            parameters = {"QueueResult": "bridged", **self._time_in_queue(stay)}
            if self.ended:
                if stay.verb.action:
                    self._notify(urljoin(stay.document_url, stay.verb.action), stay.verb.method, parameters)
            else:
                self._finish_enqueue(stay.verb, stay.document_url, parameters)

    def _notify_finished_dial(self, after: _AfterDial, duration: int) -> None:
        self._dialling = None
        if after.verb.action:
            self._document_url = after.document_url
            self._notify(
                after.verb.action,
                after.verb.method,
                {
                    "DialCallStatus": "completed",
                    "DialCallSid": after.other.sid,
                    "DialCallDuration": str(duration),
                },
            )

    def _abandon_dial_and_bridge(self) -> None:
        dialling, self._dialling = self._dialling, None
        if dialling is not None and dialling.child is not None and not dialling.child.ended:
            dialling.child._complete("canceled")
        if self._bridge is not None:
            other = self.bridged_with
            bridge, self._bridge, self._after_bridge = self._bridge, None, None
            if other is not None:
                other._bridge = None
                other._record("bridge-ended", detail={"by": "redirect"})
                if other.parent is self or other._after_bridge is None:
                    other._after_bridge = None
                    other._complete("completed")
            del bridge

    def _leave_everything(self, hung_up: bool, status: str = "completed") -> None:
        """End this leg wherever it is: in a queue, ringing someone, bridged, or mid-document."""
        if self._bridge is not None:
            self._end_bridge(self)
            return
        stay, self._queue_stay = self._queue_stay, None
        self._gather = None
        dialling, self._dialling = self._dialling, None
        if dialling is not None and dialling.child is not None and not dialling.child.ended:
            dialling.child._complete("canceled")
        self._complete(status)
        if stay is not None:
            self._remove_from_queue(stay)
            if stay.verb.action and hung_up:
                self._notify(
                    urljoin(stay.document_url, stay.verb.action),
                    stay.verb.method,
                    {"QueueResult": "hangup", **self._time_in_queue(stay)},
                )

    def _complete(self, status: str) -> None:
        if self.ended:
            return
        self.status = status
        self.end_time = self.world.clock.now()
        self._whisper_done = None
        self._record("call-ended", text=status)
        self._status_callback("completed", status)

    def _answer_and_run(self) -> None:
        self.status = "in-progress"
        self.start_time = self.world.clock.now()
        self._record("answered", text=self.to, detail={"answered_by": self.answered_by or ""})
        self._status_callback("answered", "in-progress")
        if self.twiml is not None:
            self._load_inline(self.twiml)
        elif self.url:
            self._fetch_document(self.url, self.method, {})
        self._advance(None)

    # -- helpers -------------------------------------------------------------------------------------

    def _must_be_live(self) -> None:
        if self.ended:
            raise CallEnded(f"{self} has ended")

    def _record(
        self,
        kind: str,
        text: str = "",
        language: str = "",
        voice: str = "",
        detail: Mapping[str, str] | None = None,
    ) -> None:
        event = CallEvent(kind, self.world.clock.now(), text, language, voice, dict(detail or {}))
        self.transcript.append(event)


def _target_name(target: DialNumber | DialClient | DialQueue) -> str:
    if isinstance(target, DialClient):
        return f"client:{target.identity}"
    if isinstance(target, DialQueue):
        return f"queue:{target.name}"
    return target.number
