"""The flow engine: a caller's state plus their input gives the next state and what Twilio should do.

Plain Python: the voice blueprint renders the returned actions with twilio's VoiceResponse and stores the
journey records as CallEvents; the engine never touches Flask, the database or the network.

    step = start(flow, CallContext(now=clock.now(), caller_withheld=False, caller_has_mobile=True))
    ... render step.actions, store step.state.to_dict() against the CallSid ...
    step = advance(flow, CallState.from_dict(saved), CallerInput.from_twilio(request.form), context)

Promises, each covered by tests:

- every Step has at least one action; a Step that is not finished ends with a Gather, and a finished one
  ends with Enqueue, OfferCallback, Transfer, or Hangup straight after a goodbye — never a silent hang-up;
- silence, wrong keys, "repeat" and corrections at one node are capped (the node's on_no_input/on_invalid
  `max`, default 2), with escalating reprompts, then the node's fallback (an adviser or a callback);
- silence is also counted for the whole call: the silence after globals.max_silences (default 2) goes to
  the adviser target from whichever prompt it happens at, so a silent caller hears at most three prompts;
- after the first silence the call is "adapted" for its remaining prompts: a longer Gather timeout, a `slow`
  flag on every Say (the adapter renders SSML prosody) and an explicit offer of a person, unless the prompt
  already offers the adviser key (said once, never twice in a row);
- the back key returns to the previous menu and forgets what was chosen there (its options' `set` data);
- a call that keeps going (more than globals.max_turns inputs) is handed to the adviser target;
- malformed input (non-digits in Digits, 500-character speech, low confidence, wrong types) is invalid
  input, never an exception; a state the engine cannot read is treated as "take them to an adviser".

The Gather should be rendered with actionOnEmptyResult=true so that silence comes back as an empty
CallerInput rather than Twilio falling through to the next verb.

Opening hours for check_hours: the call's `CallContext.libraries` (each hub's Library.opening_hours and
closures; the service is open while any hub is) when given, otherwise the flow's "service_hours". Bank
holidays (England & Wales) always apply unless the node sets observe_bank_holidays false. Spoken texts may say
those hours with placeholders ({closed_today}, {next_opening}, {opening_hours}: see ivr.hours_words), filled
in the language the text is spoken in.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ivr.flow import (
    BranchNode,
    CaptureNode,
    CheckHoursNode,
    Flow,
    HangupNode,
    InteractiveNode,
    LanguageNode,
    MenuNode,
    MenuOption,
    Node,
    OfferCallbackNode,
    Phrases,
    QueueNode,
    SayNode,
    SendSmsNode,
    Text,
    TransferNode,
    is_interactive,
)
from ivr.hours import LONDON, HoursDecision, HoursError, LibraryHours, parse_library_hours, service_open
from ivr.hours_words import hours_sentences
from ivr.prompts import ENGLISH, LANGUAGES, language, speaking_language

MAX_DIGITS = 32
MAX_SPEECH_CHARS = 200
MAX_HISTORY = 10
_SUMMARY_CHARS = 80
_DIGIT_WORDS = {
    "zero": "0",
    "oh": "0",
    "nought": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_DIGITS = re.compile(r"^[0-9*#]+$")

# ---------------------------------------------------------------------------------------------------------
# Actions for the adapter
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Say:
    """Speak text; `slow` asks the adapter for a slower SSML prosody rate (set once a caller has struggled)."""

    text: str
    language: str
    voice: str
    slow: bool = False


@dataclass(frozen=True)
class Gather:
    """Collect keys and/or speech while the prompts play; silence returns as an empty CallerInput."""

    input_modes: tuple[str, ...]  # ("dtmf",) or ("dtmf", "speech")
    num_digits: int | None
    timeout_s: int
    finish_on_key: str
    hints: tuple[str, ...]
    speech_language: str | None
    prompts: tuple[Say, ...]


@dataclass(frozen=True)
class Enqueue:
    """Hand the caller to routing: which queue, in which language, how urgent, and why."""

    topic: str
    language: str
    priority: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class OfferCallback:
    """Hand the caller to the callback service to agree a time (the callbacks package owns that dialogue)."""

    topic: str
    language: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class SendSms:
    """Text the caller. The adapter sends it before rendering the step, then `after_texts` keeps what the
    caller hears: `sent` once the gateway accepted the text, `not_sent` (something true) when it did not."""

    text: str
    sent: Say | None = None
    not_sent: Say | None = None


@dataclass(frozen=True)
class Transfer:
    number: str


@dataclass(frozen=True)
class Hangup:
    pass


Action = Say | Gather | Enqueue | OfferCallback | SendSms | Transfer | Hangup
HANDOVER_ACTIONS = (Enqueue, OfferCallback, Transfer)

# ---------------------------------------------------------------------------------------------------------
# Input, context, state, step
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallerInput:
    """What Twilio heard: keys, speech (with confidence), or nothing at all (a timeout)."""

    digits: str | None = None
    speech: str | None = None
    confidence: float | None = None

    @classmethod
    def timeout(cls) -> CallerInput:
        return cls()

    @classmethod
    def from_twilio(cls, form: Mapping[str, Any]) -> CallerInput:
        """Read Digits, SpeechResult and Confidence from a Twilio webhook's form fields."""
        confidence: float | None
        try:
            confidence = float(form.get("Confidence")) if form.get("Confidence") not in (None, "") else None
        except (TypeError, ValueError):
            confidence = None
        return cls(
            digits=form.get("Digits") or None,
            speech=form.get("SpeechResult") or None,
            confidence=confidence,
        )


@dataclass(frozen=True)
class CallContext:
    """Facts about this call from outside the menu: the time, the caller's number, known flags, library hours."""

    now: datetime | None = None
    caller_withheld: bool = False
    caller_has_mobile: bool = False
    flags: Mapping[str, str | bool | int] = field(default_factory=dict)  # e.g. {"vulnerable": True}
    # LibraryHours, or the Library JSON: {"name": ..., "opening_hours": {...}, "closures": [...]}
    libraries: Sequence[LibraryHours | Mapping[str, Any]] = ()


@dataclass(frozen=True)
class CallState:
    """Everything the engine needs between webhooks; `to_dict()` is small, JSON-safe and stored per call."""

    flow: str
    version: int
    node: str
    phase: str = "ask"  # "ask", or "confirm" while a capture reads back what it heard
    language: str = ENGLISH
    no_input: int = 0  # at the current node
    invalid: int = 0  # at the current node
    retries: int = 0  # repeats and corrections at the current node
    turns: int = 0  # caller inputs in the whole call
    silences: int = 0  # no-inputs in the whole call
    adapted: bool = False
    history: tuple[str, ...] = ()  # menus to return to with the back key
    visited: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)  # caller facts, choices and captured values
    pending: str | None = None  # a captured value awaiting the caller's "yes, that's right"
    finished: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "version": self.version,
            "node": self.node,
            "phase": self.phase,
            "language": self.language,
            "no_input": self.no_input,
            "invalid": self.invalid,
            "retries": self.retries,
            "turns": self.turns,
            "silences": self.silences,
            "adapted": self.adapted,
            "history": list(self.history),
            "visited": list(self.visited),
            "data": dict(self.data),
            "pending": self.pending,
            "finished": self.finished,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> CallState:
        """Rebuild a stored state; raise ValueError if it is not one (advance() recovers from that)."""
        try:
            state = cls(
                flow=_typed(raw["flow"], str),
                version=_typed(raw["version"], int),
                node=_typed(raw["node"], str),
                phase=_typed(raw.get("phase", "ask"), str),
                language=_typed(raw.get("language", ENGLISH), str),
                no_input=_typed(raw.get("no_input", 0), int),
                invalid=_typed(raw.get("invalid", 0), int),
                retries=_typed(raw.get("retries", 0), int),
                turns=_typed(raw.get("turns", 0), int),
                # States stored before silences were counted per call (calls in progress at a deploy) lack it.
                silences=_typed(raw.get("silences", 0), int),
                adapted=_typed(raw.get("adapted", False), bool),
                history=tuple(_typed(item, str) for item in raw.get("history", ())),
                visited=tuple(_typed(item, str) for item in raw.get("visited", ())),
                data=dict(_typed(raw.get("data", {}), dict)),
                pending=raw.get("pending") if raw.get("pending") is None else _typed(raw["pending"], str),
                finished=_typed(raw.get("finished", False), bool),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"not a call state: {error}") from None
        if state.phase not in ("ask", "confirm"):
            raise ValueError(f"not a call state: phase {state.phase!r}")
        return state


@dataclass(frozen=True)
class JourneyEvent:
    """One thing that happened at one node, stored by the adapter as a CallEvent."""

    node: str
    kind: str
    outcome: str  # presented, matched, no_input, invalid, repeat, back, adviser, fallback, confirmed, ...
    caller_input: str | None = None  # "digits:1", "speech:council tax", "none"
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """The engine's answer to one webhook."""

    state: CallState
    actions: tuple[Action, ...]
    journey: tuple[JourneyEvent, ...]

    @property
    def finished(self) -> bool:
        return self.state.finished


# ---------------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------------


def start(flow: Flow, context: CallContext | None = None) -> Step:
    """Begin a call at the flow's start node."""
    context = context or CallContext()
    data: dict[str, Any] = {
        "caller_withheld": context.caller_withheld,
        "caller_has_mobile": context.caller_has_mobile,
        **dict(context.flags),
    }
    state = CallState(flow=flow.name, version=flow.version, node=flow.start, data=data)
    turn = _Turn(flow, state, context)
    turn.goto(flow.start)
    return turn.step()


def advance(
    flow: Flow,
    state: CallState | Mapping[str, Any],
    caller_input: CallerInput | None,
    context: CallContext | None = None,
) -> Step:
    """Apply the caller's input at the current node and run on to the next prompt or handover."""
    context = context or CallContext()
    try:
        current = state if isinstance(state, CallState) else CallState.from_dict(state)
    except ValueError:
        current = CallState(flow=flow.name, version=flow.version, node="", data={})
    turn = _Turn(flow, current, context)
    node = flow.nodes.get(current.node)
    if current.finished or node is None or not is_interactive(node):
        turn.recover(reason="finished" if current.finished else "unknown_node")
        return turn.step()
    turn.state = replace(current, turns=current.turns + 1)
    reading = _read(caller_input, flow.globals.min_speech_confidence)
    if turn.state.turns > flow.globals.max_turns:
        turn.event(node, "fallback", reading, reason="long_journey")
        turn.fall_back(flow.globals.adviser.target if flow.globals.adviser else None, "long_journey")
        return turn.step()
    turn.handle(node, reading)  # type: ignore[arg-type]
    return turn.step()


def after_texts(step: Step, accepted: Sequence[bool]) -> Step:
    """The step as the caller hears it once its texts were sent: each SendSms, in order, becomes its `sent` or
    `not_sent` words (a text with no `accepted` entry counts as not sent)."""
    actions: list[Action] = []
    results = iter(accepted)
    for action in step.actions:
        if isinstance(action, SendSms):
            words = action.sent if next(results, False) else action.not_sent
            if words is not None:
                actions.append(words)
        else:
            actions.append(action)
    return replace(step, actions=tuple(actions))


def interpreter_needed(state: CallState) -> str | None:
    """Return the language a caller needs an interpreter for (Twilio cannot speak it), or None."""
    value = state.data.get("interpreter")
    return value if isinstance(value, str) else None


# ---------------------------------------------------------------------------------------------------------
# Reading caller input
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reading:
    kind: str  # "none", "digits", "speech" or "bad"
    value: str = ""
    detail: str = ""

    def summary(self) -> str:
        if self.kind == "none":
            return "none"
        return f"{self.kind}:{(self.value or self.detail)[:_SUMMARY_CHARS]}"


def _read(caller_input: Any, min_confidence: float) -> _Reading:
    if caller_input is None:
        return _Reading("none")
    if not isinstance(caller_input, CallerInput):
        return _Reading("bad", detail="not caller input")
    digits, speech = caller_input.digits, caller_input.speech
    if digits not in (None, ""):
        if not isinstance(digits, str):
            return _Reading("bad", detail="digits not text")
        digits = digits.strip()
        if len(digits) > MAX_DIGITS or not _DIGITS.match(digits):
            return _Reading("bad", detail="malformed digits")
        return _Reading("digits", digits)
    if speech not in (None, ""):
        if not isinstance(speech, str):
            return _Reading("bad", detail="speech not text")
        if len(speech) > MAX_SPEECH_CHARS:
            return _Reading("bad", detail="speech too long")
        confidence = caller_input.confidence
        if confidence is not None:
            if not isinstance(confidence, int | float) or not math.isfinite(confidence):
                return _Reading("bad", detail="confidence not a number")
            if confidence < min_confidence:
                return _Reading("bad", detail="low confidence")
        words = _normalise(speech)
        if not words:
            return _Reading("none")
        return _Reading("speech", words)
    return _Reading("none")


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w']+", " ", text.lower()).split())


def _says(utterance: str, phrases: Sequence[str]) -> bool:
    padded = f" {utterance} "
    return any(f" {_normalise(phrase)} " in padded for phrase in phrases if _normalise(phrase))


def _spoken_digits(utterance: str) -> str:
    """Turn "one two 3 4" or "HB 1234" into "12 34"-free text: digit words become digits, filler words drop."""
    kept = []
    for token in utterance.split():
        if token in _DIGIT_WORDS:
            kept.append(_DIGIT_WORDS[token])
        elif any(char.isdigit() for char in token) or len(token) == 1:
            kept.append(token.upper())
    return "".join(kept)


# ---------------------------------------------------------------------------------------------------------
# One turn of the engine
# ---------------------------------------------------------------------------------------------------------


class _Turn:
    """Collects the actions and journey events for one webhook while the state moves on."""

    def __init__(self, flow: Flow, state: CallState, context: CallContext) -> None:
        self.flow = flow
        self.state = state
        self.context = context
        self.actions: list[Action] = []
        self.events: list[JourneyEvent] = []
        self.observe_bank_holidays = True

    def step(self) -> Step:
        return Step(self.state, tuple(self.actions), tuple(self.events))

    # -- speaking ------------------------------------------------------------------------------------

    def say(self, text: Text, **fields: str) -> Say:
        spoken = speaking_language(self.state.language)
        words = text.get(spoken.code)
        if words is None:
            spoken, words = LANGUAGES[ENGLISH], text.english
        if fields:
            words = words.format(**fields)
        elif "{" in words:
            words = self.with_hours(words, spoken.code)
        return Say(words, spoken.say_language, spoken.voice, self.state.adapted)

    def with_hours(self, words: str, language: str) -> str:
        """Fill the opening-hours placeholders (validated at load) from the hubs' data, in `language`."""
        libraries, _ = self.libraries()
        sentences = hours_sentences(self.now(), libraries, language, self.observe_bank_holidays)
        try:
            filled = words.format_map(sentences)
        except (KeyError, ValueError, IndexError):
            return words  # a flow that skipped validation: say the text as written rather than fail the call
        return " ".join(filled.split())  # a placeholder with nothing true to say leaves no gap

    def words(self, text: Text) -> str:
        """The words `say` would speak, before any blanks are filled."""
        return text.get(speaking_language(self.state.language).code) or text.english

    def event(self, node: Node, outcome: str, reading: _Reading | None = None, **detail: Any) -> None:
        self.events.append(
            JourneyEvent(
                node=node.id,
                kind=node.kind if self.state.phase == "ask" else f"{node.kind}:{self.state.phase}",
                outcome=outcome,
                caller_input=reading.summary() if reading else None,
                detail=detail,
            )
        )

    def set_data(self, **values: Any) -> None:
        self.state = replace(self.state, data={**self.state.data, **values})

    # -- moving --------------------------------------------------------------------------------------

    def goto(self, target: str | None, remember: str | None = None) -> None:
        """Enter `target` and run automatic nodes until a prompt or a handover."""
        if remember:
            self.state = replace(self.state, history=(*self.state.history, remember)[-MAX_HISTORY:])
        hops = 0
        while True:
            hops += 1
            node = self.flow.nodes.get(target) if target else None
            if node is None or hops > len(self.flow.nodes) + 1:
                # Validation rules this out; if it happens anyway the caller still reaches a person.
                self.emergency_handover()
                return
            self.state = replace(
                self.state,
                node=node.id,
                phase="ask",
                no_input=0,
                invalid=0,
                retries=0,
                pending=None,
                visited=self.state.visited
                if node.id in self.state.visited
                else (*self.state.visited, node.id),
            )
            if is_interactive(node):
                self.present(node)  # type: ignore[arg-type]
                self.event(node, "presented")
                return
            target = self.run_automatic(node)
            if target is None:
                return

    def run_automatic(self, node: Node) -> str | None:
        """Do what an automatic or terminal node does; return the next node, or None once handed over."""
        if isinstance(node, SayNode):
            self.actions.append(self.say(node.text))
            self.event(node, "said")
            return node.next
        if isinstance(node, CheckHoursNode):
            decision, source = self.hours(node)
            outcome = "open" if decision.is_open else "closed"
            self.set_data(hours=outcome, closed_reason=None if decision.is_open else decision.reason)
            self.event(node, outcome, reason=decision.reason, source=source)
            return node.open if decision.is_open else node.closed
        if isinstance(node, BranchNode):
            value = self.state.language if node.on == "language" else self.state.data.get(node.on)
            target = _branch_target(node, value)
            self.event(node, "branched", on=node.on, value=value, target=target)
            return target
        if isinstance(node, SendSmsNode):
            # A text message can carry Urdu script even though Twilio cannot speak it. Whether the caller hears
            # "we've sent you a text" is decided by the adapter once the gateway has answered.
            self.actions.append(
                SendSms(
                    node.sms.get(self.state.language) or node.sms.english,
                    sent=self.say(node.text) if node.text else None,
                    not_sent=self.say(node.not_sent) if node.not_sent else None,
                )
            )
            self.event(node, "sms")
            return node.next
        self.hand_over(node)
        return None

    def hand_over(self, node: Node) -> None:
        topic = getattr(node, "topic", None) or self.state.data.get("topic") or "general"
        reasons = self.reasons(getattr(node, "reasons", ()))
        if isinstance(node, QueueNode):
            if node.text:
                self.actions.append(self.say(node.text))
            priority = min(10, node.priority + self.priority_boost(reasons))
            self.actions.append(Enqueue(str(topic), self.state.language, priority, reasons))
            self.event(node, "queued", topic=topic, priority=priority, reasons=list(reasons))
        elif isinstance(node, OfferCallbackNode):
            self.actions.append(self.say(node.text))
            self.actions.append(OfferCallback(str(topic), self.state.language, reasons))
            self.event(node, "callback", topic=topic, reasons=list(reasons))
        elif isinstance(node, TransferNode):
            if node.text:
                self.actions.append(self.say(node.text))
            self.actions.append(Transfer(node.number))
            self.event(node, "transferred", number=node.number)
        elif isinstance(node, HangupNode):
            self.actions.append(self.say(node.goodbye))
            self.actions.append(Hangup())
            self.event(node, "hangup")
        self.state = replace(self.state, finished=True)

    def reasons(self, declared: Sequence[str]) -> tuple[str, ...]:
        found = list(declared)
        data = self.state.data
        if data.get("vulnerable") is True:
            found.append("vulnerable")
        if self.state.adapted:
            found.append("accessibility")
        if data.get("interpreter"):
            found.append(f"interpreter:{data['interpreter']}")
        if data.get("fallback_reason"):
            found.append(f"fallback:{data['fallback_reason']}")
        return tuple(dict.fromkeys(found))

    def priority_boost(self, reasons: Sequence[str]) -> int:
        boosts = dict(self.flow.globals.priority_boosts)
        return sum(boosts.get(reason.split(":", 1)[0], 0) for reason in reasons)

    def hours(self, node: CheckHoursNode) -> tuple[HoursDecision, str]:
        self.observe_bank_holidays = node.observe_bank_holidays  # what the closed notice then says follows it
        libraries, source = self.libraries()
        return service_open(self.now(), libraries, node.observe_bank_holidays), source

    def now(self) -> datetime:
        now = self.context.now or datetime.now(LONDON)
        return now if now.tzinfo is not None else now.replace(tzinfo=LONDON)  # naive: council local time

    def libraries(self) -> tuple[list[LibraryHours], str]:
        """The hubs' hours from the call's context, or the flow's service hours; and which it was."""
        libraries = []
        for raw in self.context.libraries:
            try:
                libraries.append(raw if isinstance(raw, LibraryHours) else _library(raw))
            except (HoursError, KeyError, TypeError):
                continue  # one hub's bad data must not stop the call; the others (or service hours) decide
        if libraries:
            return libraries, "libraries"
        return list(self.flow.service_hours), "service_hours"

    def emergency_handover(self) -> None:
        self.actions.append(Enqueue("general", self.state.language, 0, self.reasons(("flow_error",))))
        self.events.append(JourneyEvent(node=self.state.node or "?", kind="engine", outcome="flow_error"))
        self.state = replace(self.state, finished=True)

    def recover(self, reason: str) -> None:
        """A state the flow cannot continue (finished, unknown node, unreadable): take them to an adviser."""
        self.events.append(
            JourneyEvent(
                node=self.state.node or "?", kind="engine", outcome="recovered", detail={"reason": reason}
            )
        )
        self.state = replace(self.state, finished=False)
        adviser = self.flow.globals.adviser
        self.goto(adviser.target if adviser else None)

    def fall_back(self, target: str | None, reason: str) -> None:
        self.set_data(fallback_reason=reason)
        self.goto(target)

    # -- prompting -----------------------------------------------------------------------------------

    def present(self, node: InteractiveNode, lead: Sequence[Say] = ()) -> None:
        flow_globals = self.flow.globals
        timeout = flow_globals.adapted_timeout_s if self.state.adapted else flow_globals.timeout_s
        # Speech is recognised in the language the prompts are spoken in: an Urdu caller hears English.
        caller_language = speaking_language(self.state.language)
        prompts = list(lead)
        # The prompt's own words before any blanks are filled, to see whether it already offers the adviser key.
        templates = [prompt.text for prompt in lead]
        num_digits: int | None = 1
        finish_on_key = "#"
        phrases: list[str] = []
        speech_allowed = True
        if isinstance(node, MenuNode):
            prompts.append(self.say(node.prompt))
            templates.append(self.words(node.prompt))
            for option in node.options:
                phrases += self.phrases(option.phrases)
        elif isinstance(node, LanguageNode):
            if node.prompt:
                prompts.append(self.say(node.prompt))
                templates.append(self.words(node.prompt))
            for option in node.options:
                own = speaking_language(option.language)
                words = option.text.get(own.code) or option.text.english
                if words == option.text.english:
                    own = LANGUAGES[ENGLISH]
                prompts.append(Say(words, own.say_language, own.voice, self.state.adapted))
                templates.append(words)
                phrases += [phrase for _, items in option.phrases.by_language for phrase in items]
            caller_language = LANGUAGES[ENGLISH]  # the choice is heard before a language is chosen
        elif isinstance(node, CaptureNode) and self.state.phase == "confirm":
            value = self.state.pending or ""
            prompts.append(self.say(node.readback, value=value, value_spaced=" ".join(value)))  # type: ignore[arg-type]
            templates.append(self.words(node.readback))  # type: ignore[arg-type]
            phrases += self.phrases(flow_globals.yes) + self.phrases(flow_globals.no)
        elif isinstance(node, CaptureNode):
            prompts.append(self.say(node.prompt))
            templates.append(self.words(node.prompt))
            num_digits, finish_on_key = node.num_digits, node.finish_on_key
            speech_allowed = "speech" in node.input_modes
            if speech_allowed:
                phrases.append("$OOV_CLASS_DIGIT_SEQUENCE")  # Twilio/Google class token for spoken numbers
        adviser = flow_globals.adviser
        if (
            self.state.adapted
            and "adviser" in node.globals_enabled
            and flow_globals.person_offer
            and not (adviser and adviser.key and any(_offers_key(words, adviser.key) for words in templates))
        ):
            prompts.append(self.say(flow_globals.person_offer))
        for name in ("adviser", "repeat", "back"):
            key = getattr(flow_globals, name)
            if key is not None and name in node.globals_enabled:
                phrases += self.phrases(key.phrases)
        speech = speech_allowed and bool(phrases) and caller_language.speech_language is not None
        self.actions.append(
            Gather(
                input_modes=("dtmf", "speech") if speech else ("dtmf",),
                num_digits=num_digits,
                timeout_s=timeout,
                finish_on_key=finish_on_key,
                hints=tuple(dict.fromkeys(phrases)) if speech else (),
                speech_language=caller_language.speech_language if speech else None,
                prompts=tuple(prompts),
            )
        )

    def phrases(self, phrases: Phrases) -> list[str]:
        """Speech phrases for the caller's language, plus English ones (people switch mid-sentence)."""
        return list(phrases.get(self.state.language)) + (
            list(phrases.get(ENGLISH)) if self.state.language != ENGLISH else []
        )

    # -- handling input ------------------------------------------------------------------------------

    def handle(self, node: InteractiveNode, reading: _Reading) -> None:
        if reading.kind == "none":
            self.failed(node, "no_input", reading)
            return
        if reading.kind == "bad":
            self.failed(node, "invalid", reading)
            return
        global_choice = self.global_choice(node, reading)
        if global_choice == "adviser":
            # "Someone about my council tax": a person, for the topic they named, so nobody asks them again.
            named = self.spoken_option(node, reading)
            if named is not None:
                self.set_data(**dict(named.set))
            self.event(node, "adviser", reading, **({"set": dict(named.set)} if named is not None else {}))
            self.goto(self.flow.globals.adviser.target)  # type: ignore[union-attr]
        elif global_choice == "repeat":
            self.failed(node, "repeat", reading)
        elif global_choice == "back":
            if self.state.history:
                target = self.state.history[-1]
                self.event(node, "back", reading, to=target)
                self.state = replace(self.state, history=self.state.history[:-1])
                self.forget_choice_at(target)
                self.goto(target)
            else:
                self.failed(node, "repeat", reading)  # nothing to go back to: say this menu again
        elif isinstance(node, MenuNode):
            self.handle_menu(node, reading)
        elif isinstance(node, LanguageNode):
            self.handle_language(node, reading)
        elif self.state.phase == "confirm":
            self.handle_confirm(node, reading)
        else:
            self.handle_capture(node, reading)

    def forget_choice_at(self, menu_id: str) -> None:
        """Going back to a menu undoes the choice made there: whatever its options set (the topic, a reason)
        is forgotten, so a caller who backs out of council tax and asks for an adviser is a general enquiry."""
        menu = self.flow.nodes.get(menu_id)
        if isinstance(menu, MenuNode):
            chosen = {name for option in menu.options for name, _ in option.set}
            kept = {name: value for name, value in self.state.data.items() if name not in chosen}
            self.state = replace(self.state, data=kept)

    def global_choice(self, node: InteractiveNode, reading: _Reading) -> str | None:
        for name in ("adviser", "repeat", "back"):
            key = getattr(self.flow.globals, name)
            if key is None or name not in node.globals_enabled:
                continue
            if reading.kind == "digits" and reading.value == key.key:
                return name
            if reading.kind == "speech" and _says(reading.value, self.phrases(key.phrases)):
                return name
        return None

    def spoken_option(self, node: InteractiveNode, reading: _Reading) -> MenuOption | None:
        """The one menu option a spoken request also names, if exactly one (keys name none)."""
        if not isinstance(node, MenuNode) or reading.kind != "speech":
            return None
        named = [option for option in node.options if self.chosen(option.key, option.phrases, reading)]
        return named[0] if len(named) == 1 else None

    def handle_menu(self, node: MenuNode, reading: _Reading) -> None:
        matches = [option for option in node.options if self.chosen(option.key, option.phrases, reading)]
        if len(matches) != 1:
            self.failed(node, "invalid", reading, ambiguous=len(matches) > 1)
            return
        option = matches[0]
        self.set_data(fallback_reason=None, **dict(option.set))
        self.event(node, "matched", reading, key=option.key, set=dict(option.set))
        self.goto(option.target, remember=node.id)

    def handle_language(self, node: LanguageNode, reading: _Reading) -> None:
        matches = [
            option for option in node.options if self.chosen(option.key, option.phrases, reading, True)
        ]
        if len(matches) != 1:
            self.failed(node, "invalid", reading, ambiguous=len(matches) > 1)
            return
        option = matches[0]
        chosen = language(option.language)
        self.state = replace(self.state, language=chosen.code)
        self.set_data(fallback_reason=None)
        self.event(node, "matched", reading, key=option.key, language=chosen.code)
        if not chosen.has_voice:
            self.set_data(interpreter=chosen.code)
            offer = self.flow.globals.interpreter_offer
            if offer:
                self.actions.append(self.say(offer, language=chosen.name))
            self.event(node, "language_fallback", language=chosen.code, spoken=ENGLISH)
        self.goto(node.next, remember=node.id)

    def chosen(self, key: str, phrases: Phrases, reading: _Reading, every_language: bool = False) -> bool:
        if reading.kind == "digits":
            return reading.value == key
        if reading.value in (key, next((word for word, digit in _DIGIT_WORDS.items() if digit == key), None)):
            return True
        candidates = (
            [phrase for _, items in phrases.by_language for phrase in items]
            if every_language
            else self.phrases(phrases)
        )
        return _says(reading.value, candidates)

    def handle_capture(self, node: CaptureNode, reading: _Reading) -> None:
        if reading.kind == "digits":
            value = reading.value.rstrip(node.finish_on_key) if node.finish_on_key else reading.value
        elif "speech" in node.input_modes:
            value = _spoken_digits(reading.value)
        else:
            value = ""
        if not value or not re.fullmatch(node.pattern, value):
            self.failed(node, "invalid", reading, reason="format")
            return
        if node.readback is None:
            self.set_data(**{node.name: value})
            self.event(node, "matched", reading, captured={node.name: value})
            self.goto(node.next, remember=node.id)
            return
        self.event(node, "heard", reading, value=value)
        self.state = replace(self.state, phase="confirm", pending=value)
        self.present(node)

    def handle_confirm(self, node: CaptureNode, reading: _Reading) -> None:
        flow_globals = self.flow.globals
        yes = (
            reading.value == "1"
            if reading.kind == "digits"
            else _says(reading.value, self.phrases(flow_globals.yes))
        )
        no = (
            reading.value == "2"
            if reading.kind == "digits"
            else _says(reading.value, self.phrases(flow_globals.no))
        )
        if yes and not no:
            value = self.state.pending
            self.set_data(fallback_reason=None, **{node.name: value})
            self.event(node, "confirmed", reading, captured={node.name: value})
            self.goto(node.next, remember=node.id)
        elif no and not yes:
            self.failed(node, "corrected", reading)
        else:
            self.failed(node, "invalid", reading)

    def failed(self, node: InteractiveNode, outcome: str, reading: _Reading, **detail: Any) -> None:
        """Count a no-input, invalid input, repeat or correction; reprompt, or fall back once over the cap."""
        state = self.state
        if outcome == "no_input":
            state = replace(state, no_input=state.no_input + 1, silences=state.silences + 1, adapted=True)
            if not self.state.adapted:
                detail["adapted"] = True
        elif outcome == "invalid":
            state = replace(state, invalid=state.invalid + 1)
        else:
            state = replace(state, retries=state.retries + 1)
        self.state = state
        if outcome == "no_input" and state.silences > self.flow.globals.max_silences:
            # Silent at one menu after another: a person now, not another menu's full set of reprompts.
            adviser = self.flow.globals.adviser
            target = adviser.target if adviser else node.on_no_input.fallback
            self.event(node, outcome, reading, **detail)
            self.event(node, "fallback", reading, reason="silences_in_call", to=target)
            self.fall_back(target, outcome)
            return
        cap = max(node.on_no_input.max, node.on_invalid.max)
        total = state.no_input + state.invalid + state.retries
        over_no_input = outcome == "no_input" and state.no_input > node.on_no_input.max
        over_invalid = outcome == "invalid" and state.invalid > node.on_invalid.max
        retry = node.on_no_input if outcome == "no_input" else node.on_invalid
        if over_no_input or over_invalid or total > cap:
            self.event(node, outcome, reading, **detail)
            self.event(node, "fallback", reading, reason=outcome, to=retry.fallback)
            self.fall_back(retry.fallback, outcome)
            return
        self.event(node, outcome, reading, **detail)
        lead: list[Say] = []
        count = state.no_input if outcome == "no_input" else state.invalid
        if outcome in ("no_input", "invalid") and retry.reprompts:
            lead.append(self.say(retry.reprompts[min(count, len(retry.reprompts)) - 1]))
        if outcome == "corrected":
            self.state = replace(self.state, phase="ask", pending=None)
        self.present(node, lead)


def _offers_key(words: str, key: str) -> bool:
    """Whether a prompt already tells the caller to press `key`, in any language: the key written as a number
    of its own, in any script ("press 0", "naciśnij 0", "੦ ਦਬਾਓ"), not inside a longer one ("10") or a blank."""
    words = re.sub(r"{\w*}", " ", words)
    if not key.isdigit():
        return key in words
    return any(
        "".join(str(unicodedata.digit(char)) for char in number) == key
        for number in re.findall(r"\d+", words)
    )


def _branch_target(node: BranchNode, value: Any) -> str:
    for case in node.cases:
        if case.has_equals and value == case.equals and type(value) is type(case.equals):
            return case.target
        if case.matches is not None and isinstance(value, str) and re.fullmatch(case.matches, value):
            return case.target
    return node.default


def _library(raw: Mapping[str, Any]) -> LibraryHours:
    return parse_library_hours(str(raw.get("name", "library")), raw["opening_hours"], raw.get("closures"))


def _typed(value: Any, kind: type) -> Any:
    if kind is int and isinstance(value, bool):
        raise TypeError(f"expected int, got {value!r}")
    if not isinstance(value, kind):
        raise TypeError(f"expected {kind.__name__}, got {value!r}")
    return value
