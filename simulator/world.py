"""The simulated Twilio account: calls, queues, messages, scripted phones and adviser browser clients.

One lock protects it all. The app under test calls the fake REST API while it is answering a webhook the
engine posted, so REST handlers only record intent here (dequeue, redirect, end, new outbound call);
the call engine applies that intent on the call's next step, never inside the REST request.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin

from runtime.clock import Clock, SystemClock
from simulator.call_engine import (
    WITHHELD_CALLER_ID,
    Call,
    Dequeue,
    EndCall,
    RedirectCall,
    WebhookTransport,
    new_sid,
)

DEFAULT_MAX_QUEUE_SIZE = 1000  # Twilio's documented default maximum queue length.
MAX_REST_FAILURES = 50  # the most recent fake REST failures kept for the browser phone


class SimulatorError(LookupError):
    """A REST request named something the simulated account does not have."""


@dataclass
class QueueMember:
    call_sid: str
    enqueued_at: datetime


@dataclass
class SimulatedQueue:
    sid: str
    friendly_name: str
    date_created: datetime
    max_size: int = DEFAULT_MAX_QUEUE_SIZE
    members: list[QueueMember] = field(default_factory=list)

    def position_of(self, call_sid: str) -> int | None:
        for index, member in enumerate(self.members, start=1):
            if member.call_sid == call_sid:
                return index
        return None

    def average_wait_seconds(self, now: datetime) -> int:
        """Twilio's AvgQueueTime: the mean time current members have waited."""
        if not self.members:
            return 0
        total = sum((now - member.enqueued_at).total_seconds() for member in self.members)
        return int(total / len(self.members))


@dataclass(frozen=True)
class SentMessage:
    sid: str
    to: str
    from_: str | None
    body: str
    date_created: datetime
    messaging_service_sid: str | None = None
    sent_by: str = "rest"  # "rest" or the CallSid whose TwiML <Message>/<Sms> sent it
    status: str = "queued"


@dataclass(frozen=True)
class RestFailure:
    """A fake REST request that failed inside the simulator itself (a bug or a missing file, not a 4xx)."""

    at: datetime
    method: str
    path: str
    error: str


@dataclass
class IncomingNumber:
    """A phone number the simulated account owns (the council's): where Twilio sends its calls and texts."""

    sid: str
    phone_number: str
    date_created: datetime
    webhooks: dict[str, str] = field(default_factory=dict)  # REST field names: VoiceUrl, SmsMethod, ...


@dataclass(frozen=True)
class ApiKey:
    """An API key of the simulated account; like Twilio, the secret is shown only in the answer that made it."""

    sid: str
    friendly_name: str
    secret: str
    date_created: datetime


@dataclass
class PhoneScript:
    """What a simulated phone does when rung: answer (and press keys), ring out, be busy, voicemail."""

    outcome: str = "answer"  # answer | no-answer | busy | voicemail | failed
    press: str = ""
    ring_seconds: float = 3.0
    talk_seconds: float | None = None


class SimulatedPhone:
    """A phone number outside the council, scripted by a test: `world.phone("+4477...").will_be_busy()`."""

    def __init__(self, number: str) -> None:
        self.number = number
        self.script = PhoneScript()
        self.calls: list[Call] = []

    def will_answer(
        self, press: str = "", ring_seconds: float = 3.0, talk_seconds: float | None = None
    ) -> SimulatedPhone:
        """Answer after ringing; press `press` at the first Gather; hang up after `talk_seconds` if set."""
        self.script = PhoneScript("answer", press, ring_seconds, talk_seconds)
        return self

    def will_not_answer(self) -> SimulatedPhone:
        self.script = PhoneScript("no-answer")
        return self

    def will_be_busy(self) -> SimulatedPhone:
        self.script = PhoneScript("busy", ring_seconds=1.0)
        return self

    def will_go_to_voicemail(self, talk_seconds: float = 20.0) -> SimulatedPhone:
        self.script = PhoneScript("voicemail", ring_seconds=15.0, talk_seconds=talk_seconds)
        return self

    def will_fail(self) -> SimulatedPhone:
        self.script = PhoneScript("failed", ring_seconds=0.0)
        return self


class AdviserClient:
    """An adviser's browser phone (Twilio Client identity), offered calls by <Dial><Client> or REST.

    It rings only while registered, as a browser's Voice SDK device does: `register()` (tests, scenarios, and
    `world.client()`) holds until `unregister()`; the desk's simulated softphone registers with a lease that its
    heartbeat renews, measured on the world's monotonic clock (real time), never on the call clock that tests
    and the browser phone make jump, so skipping five minutes of queue time does not close anybody's desk.
    """

    def __init__(self, world: SimulatedTwilio, identity: str) -> None:
        self.world = world
        self.identity = identity
        self.offers: list[Call] = []
        self.current_call: Call | None = None
        self.muted = False  # the simulated softphone's mute button; the simulator carries no audio
        self._registered = False
        self._lease_until: float | None = None

    @property
    def address(self) -> str:
        return f"client:{self.identity}"

    @property
    def registered(self) -> bool:
        with self.world.lock:
            if (
                self._registered
                and self._lease_until is not None
                and self.world.monotonic() >= self._lease_until
            ):
                self._registered, self._lease_until = False, None  # the heartbeat stopped: the desk is gone
            return self._registered

    def register(self, lease_seconds: float | None = None) -> AdviserClient:
        """Open this browser phone: it rings from now on, for `lease_seconds` (renew by calling again) or until
        `unregister()`."""
        with self.world.lock:
            self._registered = True
            self._lease_until = None if lease_seconds is None else self.world.monotonic() + lease_seconds
        return self

    def unregister(self) -> None:
        with self.world.lock:
            self._registered, self._lease_until = False, None

    @property
    def pending_offers(self) -> list[Call]:
        """Calls ringing this browser now, oldest first."""
        with self.world.lock:
            return [call for call in self.offers if call.status in {"queued", "ringing"}]

    def answer(self, press: str = "") -> Call:
        """Pick up the oldest ringing call; `press` is keyed at the first Gather (e.g. a whisper's 'press 1')."""
        offers = self.pending_offers
        if not offers:
            raise SimulatorError(f"nothing is ringing for {self.address}")
        call = offers[0]
        self.current_call, self.muted = call, False  # every call starts unmuted, as in the Voice SDK
        call.answer_as_client(press)
        return call

    def reject(self) -> Call:
        offers = self.pending_offers
        if not offers:
            raise SimulatorError(f"nothing is ringing for {self.address}")
        offers[0].reject_as_client()
        return offers[0]

    def hang_up(self) -> None:
        if self.current_call is None:
            raise SimulatorError(f"{self.address} is not on a call")
        self.current_call.hang_up()


class SimulatedTwilio:
    """The simulated Twilio account every test, scenario and UI shares.

    Typical use::

        world = SimulatedTwilio(base_url="http://localhost", account_sid=..., auth_token=...,
                                clock=ControllableClock(), transport=WsgiTransport(app))
        call = world.place_call(from_="+447700900123", to="+441484221000", url="/voice/incoming")
        call.press("1"); call.wait(600); world.client("alice").answer(press="1")
    """

    def __init__(
        self,
        base_url: str,
        account_sid: str,
        auth_token: str,
        transport: WebhookTransport,
        clock: Clock | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        phone_numbers: tuple[str, ...] = (),
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.transport = transport
        self.clock: Clock = clock or SystemClock()
        # Real elapsed time, for leases that must not follow the call clock's jumps (browser registrations).
        self.monotonic = monotonic
        self.lock = threading.RLock()
        self.calls: dict[str, Call] = {}
        self.queues: dict[str, SimulatedQueue] = {}
        self.messages: list[SentMessage] = []
        self.phones: dict[str, SimulatedPhone] = {}
        self.clients: dict[str, AdviserClient] = {}
        self.rest_failures: list[RestFailure] = []
        self._outbound_to_start: list[Call] = []
        # Numbers start with no webhooks, as a newly bought one does: `flask twilio setup` points them at the app.
        self.incoming_numbers: dict[str, IncomingNumber] = {}
        for number in phone_numbers:
            owned = IncomingNumber(new_sid("PN"), number, self.clock.now())
            self.incoming_numbers[owned.sid] = owned
        self.api_keys: dict[str, ApiKey] = {}

    # -- building blocks -------------------------------------------------------------------------

    def absolute_url(self, url: str, relative_to: str | None = None) -> str:
        return urljoin(relative_to or self.base_url, url)

    def phone(self, number: str) -> SimulatedPhone:
        with self.lock:
            return self.phones.setdefault(number, SimulatedPhone(number))

    def client(self, identity: str) -> AdviserClient:
        """This adviser's browser phone, open (registered) so it rings: `world.client("alice").answer()`."""
        browser = self.browser(identity)
        with self.lock:
            if not browser.registered:
                browser.register()
        return browser

    def browser(self, identity: str) -> AdviserClient:
        """This adviser's browser phone as it is, open or not (what the simulator's pages show)."""
        identity = identity.removeprefix("client:")
        with self.lock:
            return self.clients.setdefault(identity, AdviserClient(self, identity))

    def registered_client(self, identity: str) -> AdviserClient | None:
        """The browser registered as this identity, or None: then Twilio has nothing to ring."""
        with self.lock:
            browser = self.clients.get(identity.removeprefix("client:"))
            return browser if browser is not None and browser.registered else None

    def register(self, call: Call) -> Call:
        with self.lock:
            self.calls[call.sid] = call
        return call

    def call(self, call_sid: str) -> Call:
        with self.lock:
            if call_sid not in self.calls:
                raise SimulatorError(f"no call {call_sid}")
            return self.calls[call_sid]

    def record_rest_failure(self, method: str, path: str, error: str) -> RestFailure:
        """Keep a fake REST failure so the browser phone can show it: the app's request to connect a caller or
        send a text failed, and without this the page would simply hold forever."""
        failure = RestFailure(self.clock.now(), method, path, error)
        with self.lock:
            self.rest_failures = [*self.rest_failures[-(MAX_REST_FAILURES - 1) :], failure]
        return failure

    def rest_failures_since(self, moment: datetime) -> list[RestFailure]:
        with self.lock:
            return [failure for failure in self.rest_failures if failure.at >= moment]

    # -- calls -----------------------------------------------------------------------------------

    def place_call(
        self,
        to: str,
        url: str,
        from_: str | None = "+447700900123",
        method: str = "POST",
        fallback_url: str | None = None,
        status_callback: str | None = None,
        withheld_as: str = WITHHELD_CALLER_ID,
    ) -> Call:
        """A resident rings a council number; runs until the call needs the caller or ends.

        `from_=None` is a withheld number: Twilio then sends a keypad spelling of ANONYMOUS
        (+266696687); some carriers' calls arrive as "anonymous" instead (pass `withheld_as`).
        """
        call = Call(
            world=self,
            sid=new_sid("CA"),
            from_=from_ if from_ else withheld_as,
            to=to,
            direction="inbound",
            url=self.absolute_url(url),
            method=method,
            fallback_url=self.absolute_url(fallback_url) if fallback_url else None,
            status_callback=self.absolute_url(status_callback) if status_callback else None,
            status_callback_events=("completed",),
        )
        self.register(call)
        call.start_inbound()
        return call

    def create_outbound_call(
        self,
        to: str,
        from_: str,
        url: str | None = None,
        twiml: str | None = None,
        method: str = "POST",
        fallback_url: str | None = None,
        status_callback: str | None = None,
        status_callback_events: tuple[str, ...] = ("completed",),
        machine_detection: str | None = None,
        timeout: float = 60.0,
    ) -> Call:
        """Record a REST-created call; it rings when `run_pending()` runs (never inside the request)."""
        call = Call(
            world=self,
            sid=new_sid("CA"),
            from_=from_,
            to=to,
            direction="outbound-api",
            url=url,
            twiml=twiml,
            method=method,
            fallback_url=fallback_url,
            status_callback=status_callback,
            status_callback_events=status_callback_events or ("completed",),
            machine_detection=machine_detection,
            ring_timeout=timeout,
        )
        call.status = "queued"
        with self.lock:
            self.register(call)
            self._outbound_to_start.append(call)
        return call

    def instruct(self, call_sid: str, instruction: Dequeue | RedirectCall | EndCall) -> Call:
        """Record a REST instruction for a live call; the engine applies it on the call's next step."""
        call = self.call(call_sid)
        call.post_instruction(instruction)
        return call

    def end_call(self, call_sid: str, status: str = "completed") -> Call:
        """Calls update Status=completed/canceled: a call not yet rung is simply cancelled."""
        with self.lock:
            call = self.call(call_sid)
            if call in self._outbound_to_start:
                self._outbound_to_start.remove(call)
                call.status = "canceled"
                return call
            call.post_instruction(EndCall(status))
        return call

    def run_pending(self) -> list[Call]:
        """Start REST-created calls and apply REST instructions to idle calls; return the calls moved on."""
        with self.lock:
            starting, self._outbound_to_start = self._outbound_to_start, []
            instructed = [call for call in self.calls.values() if call.has_instructions]
        moved: list[Call] = []
        for call in starting:
            call.start_outbound()
            moved.append(call)
        for call in instructed:
            if call.drive():
                moved.append(call)
        return moved

    # -- queues ----------------------------------------------------------------------------------

    def queue_named(self, friendly_name: str, create: bool = True) -> SimulatedQueue | None:
        with self.lock:
            for queue in self.queues.values():
                if queue.friendly_name == friendly_name:
                    return queue
            if not create:
                return None
            return self.create_queue(friendly_name)

    def create_queue(self, friendly_name: str, max_size: int = DEFAULT_MAX_QUEUE_SIZE) -> SimulatedQueue:
        with self.lock:
            queue = SimulatedQueue(new_sid("QU"), friendly_name, self.clock.now(), max_size)
            self.queues[queue.sid] = queue
            return queue

    def queue(self, queue_sid: str) -> SimulatedQueue:
        with self.lock:
            if queue_sid not in self.queues:
                raise SimulatorError(f"no queue {queue_sid}")
            return self.queues[queue_sid]

    def waiting_callers(self, friendly_name: str) -> list[Call]:
        """Calls waiting in a named queue, in queue order."""
        with self.lock:
            queue = self.queue_named(friendly_name, create=False)
            return [self.calls[m.call_sid] for m in queue.members] if queue else []

    def take_member(self, queue_sid: str, call_sid: str) -> tuple[QueueMember, int]:
        """Remove one member ("Front" for the head) and return it with the position it held."""
        with self.lock:
            queue = self.queue(queue_sid)
            if call_sid == "Front":
                if not queue.members:
                    raise SimulatorError(f"queue {queue_sid} is empty")
                return queue.members.pop(0), 1
            position = queue.position_of(call_sid)
            if position is None:
                raise SimulatorError(f"call {call_sid} is not in queue {queue_sid}")
            return queue.members.pop(position - 1), position

    def dequeue(self, queue_sid: str, call_sid: str, url: str, method: str = "POST") -> Call:
        """Queue Member update: take the caller out now and have their call run the TwiML at `url`."""
        with self.lock:
            member, _ = self.take_member(queue_sid, call_sid)
            call = self.calls[member.call_sid]
            call.post_instruction(Dequeue(queue_sid, url, method))
            return call

    # -- the account's numbers and keys -------------------------------------------------------

    def incoming_number(self, sid: str) -> IncomingNumber:
        with self.lock:
            if sid not in self.incoming_numbers:
                raise SimulatorError(f"no incoming phone number {sid}")
            return self.incoming_numbers[sid]

    def create_api_key(self, friendly_name: str) -> ApiKey:
        secret = "".join(
            secrets.choice(string.ascii_letters + string.digits) for _ in range(32)
        )  # Twilio's shape
        key = ApiKey(new_sid("SK"), friendly_name, secret, self.clock.now())
        with self.lock:
            self.api_keys[key.sid] = key
        return key

    # -- messages --------------------------------------------------------------------------------

    def send_message(
        self,
        to: str,
        body: str,
        from_: str | None = None,
        messaging_service_sid: str | None = None,
        sent_by: str = "rest",
    ) -> SentMessage:
        message = SentMessage(
            sid=new_sid("SM"),
            to=to,
            from_=from_,
            body=body,
            date_created=self.clock.now(),
            messaging_service_sid=messaging_service_sid,
            sent_by=sent_by,
        )
        with self.lock:
            self.messages.append(message)
        return message

    @contextmanager
    def locked(self) -> Iterator[SimulatedTwilio]:
        with self.lock:
            yield self
