"""The callback booking dialogue on the phone: which number to ring, which slot, then "booked" and goodbye.

The menu hands a caller over with <Redirect> to /voice/callback/start?topic=..&language=.. (ivr/views.py).
Each step is a Gather whose action URL carries the dialogue's state (topic, language, the step counter `n`,
tries at this step, where the number came from, the slots offered) — never the phone number itself, which is
kept as a journey event (see callbacks/booking.py) so it stays out of access logs. The caller hears the
language they chose at the menu where we have its words and a voice (Polish), else English (callbacks/prompts.py).

    start  → caller ID we can ring: "We'll call you on the number ending 1 2 3. Press 1 ..., or 2 ..." (→ number)
             withheld or not callable: the reason, then "Please key the phone number ..."              (→ keyed)
    number → 1: offer slots (→ slot); 2: key another number (→ keyed); 0: an adviser
    keyed  → a number we can ring: read it back (→ number); refused: the spoken reason and another try
    slot   → 1-3: that slot; 4: as soon as possible; 0: an adviser; then booked/updated, goodbye, hang up

Silence and wrong keys are capped (MAX_TRIES), then fall back to an as-soon-as-possible callback on a number the
caller confirmed or is calling from, else to an adviser: never a dead end, never a loop. Every step is a
CallEvent whose idempotency key includes `n`, so a Twilio retry records nothing twice and books nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from flask import Blueprint, Response, request, url_for
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Gather, VoiceResponse

from callbacks import booking
from callbacks.lifecycle import schedule_callback
from callbacks.numbers import check_callback_number, check_keyed_digits, spoken_digits
from callbacks.prompts import dialogue, dialogue_language, refusal
from callbacks.slots import Slot, spoken_slot
from ivr.twiml import say_in
from models import Call, Topic
from routing.views import call_of_request, enqueue_caller
from runtime.logging import get_logger
from runtime.services import Services
from runtime.web import db_session, services
from telephony.webhooks import twilio_webhook, twiml

log = get_logger(__name__)
callback_bp = Blueprint("callback", __name__, url_prefix="/voice/callback")

MAX_TRIES = 3  # per step: the first go and two more, then the fallback
KEY_TIMEOUT_SECONDS = 6
NUMBER_TIMEOUT_SECONDS = 10
ASAP_KEY, ADVISER_KEY = "4", "0"
MAX_SLOTS_OFFERED = 3  # keys 1-3; with 4 (as soon as possible) and 0 (an adviser) that is five options


@dataclass(frozen=True)
class Dialogue:
    """The dialogue's state between webhooks, as carried in each step's URL."""

    call_sid: str
    topic: Topic
    language: str
    n: int = 0
    tries: int = 0
    source: str = "caller"  # where the proposed number came from: "caller" (caller ID) or "keyed"
    slots: tuple[datetime, ...] = ()

    @classmethod
    def from_request(cls) -> Dialogue:
        args = request.args
        topic = args.get("topic", "")
        slots = []
        for value in (args.get("slots") or "").split(",")[:MAX_SLOTS_OFFERED]:
            if value.isdigit() and len(value) <= 11:  # seconds since 1970; junk is ignored
                slots.append(datetime.fromtimestamp(int(value), tz=UTC))
        return cls(
            call_sid=request.form.get("CallSid", ""),
            topic=Topic(topic) if topic in Topic._value2member_map_ else Topic.GENERAL,
            language=(args.get("language") or "en-GB")[:10],
            n=max(args.get("n", 0, type=int), 0),
            tries=max(args.get("tries", 0, type=int), 0),
            source="keyed" if args.get("src") == "keyed" else "caller",
            slots=tuple(slots),
        )

    def next(self, **changes: object) -> Dialogue:
        """The state the next step's webhook will carry: one step on, tries reset unless given."""
        return replace(self, **{"n": self.n + 1, "tries": 0, **changes})  # type: ignore[arg-type]

    def url(self, endpoint: str) -> str:
        return url_for(
            endpoint,
            topic=self.topic.value,
            language=self.language,
            n=self.n,
            tries=self.tries,
            src=self.source,
            slots=",".join(str(int(slot.timestamp())) for slot in self.slots) or None,
        )

    def key(self, what: str) -> str:
        return f"{self.call_sid}:callback:{self.n}:{what}"


@callback_bp.post("/start")
@twilio_webhook
def start() -> Response:
    """The menu offered a callback: propose the caller ID, or ask for a number when we can't ring it."""
    with _turn() as turn:
        turn.record("callback_offer", "started", "start")
        check = (
            check_callback_number(turn.call.caller_number, turn.region) if turn.call.caller_number else None
        )
        if check is None:
            turn.say("withheld")
            turn.ask_for_number(turn.state.next())
        elif check.number is None:
            turn.record("callback_number", f"caller_id_{check.refused}", "caller-id")
            turn.say("caller_id_refused", reason=refusal(check, turn.speaks))
            turn.ask_for_number(turn.state.next())
        else:
            booking.propose_number(
                turn.session, turn.call, turn.now, check.number, "caller", turn.key("proposed")
            )
            turn.confirm_number(turn.state.next(source="caller"), check.number)
    return turn.reply()


@callback_bp.post("/number")
@twilio_webhook
def number() -> Response:
    """The answer to "press 1 for that number, or 2 to give another"."""
    digits = _digits()
    with _turn() as turn:
        proposed = booking.proposed_number(turn.session, turn.call)
        turn.record("callback_confirm", _outcome(digits, "1", "2"), "confirm", digits)
        if digits == ADVISER_KEY or proposed is None:
            turn.to_adviser(asked=digits == ADVISER_KEY)
        elif digits == "1":
            turn.offer_slots(turn.state.next(), proposed)
        elif digits == "2":
            turn.ask_for_number(turn.state.next())
        elif turn.state.tries + 1 < MAX_TRIES:
            turn.say("not_heard")
            turn.confirm_number(turn.state.next(tries=turn.state.tries + 1), proposed)
        elif turn.state.source == "caller":
            # They are calling from this number and asked for a callback: ring it as soon as we can.
            turn.say("not_heard")
            turn.book(proposed, None)
        else:
            turn.to_adviser(asked=False)
    return turn.reply()


@callback_bp.post("/keyed")
@twilio_webhook
def keyed() -> Response:
    """The caller keyed a number (ended with #): read back one we may ring, or say why not and ask again."""
    digits = _digits()
    with _turn() as turn:
        check = check_keyed_digits(digits, turn.region)
        if digits == ADVISER_KEY:
            outcome = "adviser"
        elif check.number is not None:
            outcome = "accepted"
        else:
            outcome = f"refused_{check.refused}" if digits else "no_input"
        turn.record("callback_key", outcome, "key", digits)
        if digits == ADVISER_KEY:
            turn.to_adviser(asked=True)
        elif check.number is not None:
            booking.propose_number(
                turn.session, turn.call, turn.now, check.number, "keyed", turn.key("proposed")
            )
            turn.confirm_number(turn.state.next(source="keyed"), check.number)
        elif turn.state.tries + 1 < MAX_TRIES:
            turn.say_text(refusal(check, turn.speaks) if digits else turn.words("not_heard"))
            turn.ask_for_number(turn.state.next(tries=turn.state.tries + 1))
        else:
            turn.say_text(refusal(check, turn.speaks) if digits else turn.words("not_heard"))
            turn.to_adviser(asked=False)
    return turn.reply()


@callback_bp.post("/slot")
@twilio_webhook
def slot() -> Response:
    """The caller chose a slot (1-3), the earliest possible (4), or an adviser (0): book it and say goodbye."""
    digits = _digits()
    with _turn() as turn:
        number = booking.proposed_number(turn.session, turn.call)
        index = int(digits) - 1 if digits.isdigit() and len(digits) == 1 else -1
        offered = turn.state.slots[index] if 0 <= index < len(turn.state.slots) else None
        turn.record("callback_slot", "slot" if offered else _outcome(digits, ASAP_KEY), "slot", digits)
        if digits == ADVISER_KEY or number is None:
            turn.to_adviser(asked=digits == ADVISER_KEY)
        elif offered is not None:
            chosen = booking.still_free(turn.session, turn.state.topic, offered, turn.now, number)
            if chosen is None:
                turn.say("slot_taken")
                turn.offer_slots(turn.state.next(), number)
            else:
                turn.book(number, chosen)
        elif digits == ASAP_KEY:
            turn.book(number, None)
        elif turn.state.tries + 1 < MAX_TRIES:
            turn.say("not_heard")
            turn.offer_slots(turn.state.next(tries=turn.state.tries + 1), number)
        else:
            turn.say("not_heard")
            turn.book(number, None)
    return turn.reply()


# --- one webhook's work -----------------------------------------------------------------------------------------


@dataclass
class _Turn:
    """One step of the dialogue: its state, the call row (locked), and the reply being built."""

    state: Dialogue
    session: Session
    call: Call
    now: datetime
    region: str
    app_services: Services
    response: VoiceResponse = field(default_factory=VoiceResponse)
    booked: booking.Booked | None = None

    @property
    def speaks(self) -> str:
        """The language the caller hears: the one they chose at the menu when we have its words, else English."""
        return dialogue_language(self.state.language)

    def key(self, what: str) -> str:
        return self.state.key(what)

    def words(self, name: str, **values: object) -> str:
        return dialogue(name, self.speaks, **values)

    def record(self, node: str, outcome: str, what: str, digits: str | None = None) -> None:
        caller_input = None if digits is None else (f"digits:{digits}" if digits else "none")
        booking.record_step(self.session, self.call, self.now, node, outcome, self.key(what), caller_input)

    def say(self, name: str, **values: object) -> None:
        self.say_text(self.words(name, **values))

    def say_text(self, text: str) -> None:
        say_in(self.response, text, self.speaks)

    def ask(self, gather: Gather, name: str, **values: object) -> None:
        say_in(gather, self.words(name, **values), self.speaks)

    def confirm_number(self, state: Dialogue, number: str) -> None:
        gather = _gather(self.response, state, "callback.number", num_digits=1, timeout=KEY_TIMEOUT_SECONDS)
        if state.source == "keyed":
            self.ask(gather, "confirm_keyed", digits=spoken_digits(number))
        else:
            self.ask(gather, "confirm_caller_id", last_digits=spoken_digits(number, last=3))

    def ask_for_number(self, state: Dialogue) -> None:
        gather = _gather(
            self.response, state, "callback.keyed", finish_on_key="#", timeout=NUMBER_TIMEOUT_SECONDS
        )
        self.ask(gather, "key_number")

    def offer_slots(self, state: Dialogue, number: str) -> None:
        slots = booking.offer_slots(self.session, state.topic, self.now, number, count=MAX_SLOTS_OFFERED)
        offering = replace(state, slots=tuple(slot.starts_at for slot in slots))
        booking.record_step(
            self.session,
            self.call,
            self.now,
            "callback_slots",
            "offered" if slots else "none_free",
            offering.key("offered"),
            detail={"slots": [slot.starts_at.isoformat() for slot in slots]},
        )
        sentences = [] if slots else [self.words("no_slots")]
        sentences += [
            self.words(
                "slot_option",
                key=index,
                when=spoken_slot(slot.starts_at, slot.ends_at, self.now, self.speaks),
            )
            for index, slot in enumerate(slots, start=1)
        ]
        sentences += [self.words("asap_option"), self.words("adviser_option")]
        gather = _gather(self.response, offering, "callback.slot", num_digits=1, timeout=KEY_TIMEOUT_SECONDS)
        say_in(gather, " ".join(sentences), self.speaks)

    def book(self, number: str, slot: Slot | None) -> None:
        """Book it, say when and on which number, and hang up."""
        self.booked = booking.book(
            self.session,
            self.call,
            number,
            self.state.topic,
            self.state.language,
            slot,
            self.now,
            self.key("book"),
        )
        if self.booked.slot_starts_at is not None and self.booked.slot_ends_at is not None:
            when = spoken_slot(self.booked.slot_starts_at, self.booked.slot_ends_at, self.now, self.speaks)
        else:
            when = self.words("asap" if self.booked.next_attempt_at <= self.now else "asap_when_closed")
        self.say(
            "booked" if self.booked.created else "updated", when=when, last_digits=spoken_digits(number, 3)
        )
        self.response.hangup()

    def to_adviser(self, asked: bool) -> None:
        """A person, always: the caller asked for one (0), or the dialogue could not help them."""
        self.say("to_adviser")
        reason = (
            "asked for an adviser while booking a callback" if asked else "callback booking did not work out"
        )
        enqueue_caller(self.response, self.state.topic.value, self.state.language, reasons=(reason,))

    def reply(self) -> Response:
        """Return the TwiML, first handing a new booking to the dialler (the step's transaction has committed).

        A failure to schedule must not cost the caller their confirmation: the committed row is the truth, and
        the dialler's reconciler (callbacks.lifecycle) schedules any row that RQ lacks.
        """
        if self.booked is not None:
            try:
                schedule_callback(self.app_services, self.booked.callback_id)
            except Exception:
                log.exception("callback.schedule_failed", callback_id=self.booked.callback_id)
        return twiml(self.response)


@contextmanager
def _turn() -> Iterator[_Turn]:
    """Run one step in one transaction with the call's row locked (two retries of one webhook take turns; an
    ended call gets <Hangup/> and books nothing, see routing.views.call_of_request)."""
    app_services, session = services(), db_session()
    now = app_services.clock.now()
    with session.begin():
        call = call_of_request(session, now)
        yield _Turn(
            Dialogue.from_request(), session, call, now, app_services.settings.default_region, app_services
        )


def _digits() -> str:
    return (request.form.get("Digits") or "").strip()[:32]


def _outcome(digits: str, *keys: str) -> str:
    if not digits:
        return "no_input"
    if digits == ADVISER_KEY:
        return "adviser"
    return f"pressed_{digits}" if digits in keys else "invalid"


def _gather(response: VoiceResponse, state: Dialogue, endpoint: str, **options: object) -> Gather:
    return response.gather(
        input="dtmf",
        action=state.url(endpoint),
        # Silence must come back to us (to count it and reprompt), not fall through to the next verb.
        action_on_empty_result=True,
        **options,
    )
