"""Scenario files: a whole call written as YAML (who rings, what they do, what must happen), and their runner.

A scenario reads like a test a council officer could write::

    name: council-tax-by-keypad
    caller: "+447700900123"          # or: withheld
    setup:                           # all optional
      start: "2026-12-25T10:00:00Z"  # Christmas Day: a bank holiday
      advisers_available: [adviser-aisha-khan]
      phones: {"+447700900999": busy}
    steps:
      - press: "1"
      - say: housing benefit
        confidence: 0.8
      - silence: true
      - wait: 300                    # seconds
      - adviser_answers: adviser-aisha-khan
      - hangup: true
    expect:
      - heard: please hold           # case-insensitive, anywhere in what the caller heard
      - reached_queue: council_tax

Plain Python: the runner drives a `ScenarioLine` (the live app and its simulated Twilio) and imports no Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import jsonschema
import phonenumbers
import yaml

from simulator.call_engine import Call, CallEnded, CallStateError
from simulator.world import SimulatedTwilio, SimulatorError

# A Wednesday mid-morning in term time, when every hub is open; scenarios start here unless they say otherwise.
DEFAULT_START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
WITHHELD = "withheld"
PHONE_OUTCOMES = ("answer", "no-answer", "busy", "voicemail", "failed")
STEP_ACTIONS = ("press", "say", "silence", "wait", "hangup", "adviser_answers", "adviser_rejects")
EXPECTATIONS = (
    "heard",
    "not_heard",
    "reached_queue",
    "callback_booked",
    "sms_sent",
    "ended_within_seconds",
    "journey_includes",
    "connected_to",
)

_text = {"type": "string", "minLength": 1}
SCENARIO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "caller", "steps", "expect"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
        "description": {"type": "string"},
        "caller": _text,
        "setup": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "start": {"type": "string", "format": "date-time"},
                "advisers_available": {"type": "array", "items": _text},
                "phones": {
                    "type": "object",
                    "additionalProperties": {"enum": list(PHONE_OUTCOMES)},
                },
            },
        },
        "steps": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {
                    "press": {"type": "string", "pattern": "^[0-9*#]+$"},
                    "say": _text,
                    "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                    "silence": {"const": True},
                    "wait": {"type": "number", "exclusiveMinimum": 0},
                    "hangup": {"const": True},
                    "adviser_answers": _text,
                    "adviser_rejects": _text,
                },
            },
        },
        "expect": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "maxProperties": 1,
                "properties": {
                    "heard": _text,
                    "not_heard": _text,
                    "reached_queue": _text,
                    "callback_booked": {"type": "boolean"},
                    "sms_sent": _text,
                    "ended_within_seconds": {"type": "number", "exclusiveMinimum": 0},
                    "journey_includes": _text,
                    "connected_to": _text,
                },
            },
        },
    },
}


class ScenarioError(ValueError):
    """A scenario file that cannot be run; the message names the file and the step or field at fault."""


@dataclass(frozen=True)
class Step:
    action: str
    value: Any
    confidence: float = 0.9

    def describe(self) -> str:
        if self.action in {"silence", "hangup"}:
            return self.action
        if self.action == "wait":
            return f"wait {self.value:g} s"
        return f"{self.action} {self.value!r}"


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path
    caller: str | None  # E.164, None when withheld
    steps: tuple[Step, ...]
    expectations: tuple[tuple[str, Any], ...]
    start: datetime = DEFAULT_START
    advisers_available: tuple[str, ...] = ()
    phones: Mapping[str, str] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class ScenarioResult:
    name: str
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures

    def report_line(self) -> str:
        return f"PASS {self.name}" if self.passed else f"FAIL {self.name}: {'; '.join(self.failures)}"


# -- loading -------------------------------------------------------------------------------------------


def _where(path: list[str | int]) -> str:
    """`['steps', 2, 'press']` -> "step 3 (steps[2].press)", so an author can find the line."""
    dotted = ""
    for part in path:
        dotted += f"[{part}]" if isinstance(part, int) else (f".{part}" if dotted else part)
    if len(path) >= 2 and path[0] in {"steps", "expect"} and isinstance(path[1], int):
        noun = "step" if path[0] == "steps" else "expectation"
        return f"{noun} {path[1] + 1} ({dotted})"
    return dotted or "top level"


def _hint(error: jsonschema.ValidationError) -> str:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and path[:1] == ["steps"] and len(path) == 2:
        return f"; a step is one of: {', '.join(STEP_ACTIONS)}"
    if error.validator == "additionalProperties" and path[:1] == ["expect"] and len(path) == 2:
        return f"; an expectation is one of: {', '.join(EXPECTATIONS)}"
    if error.validator == "type" and path[-1:] == ["press"]:
        return ' (put keys in quotes, e.g. press: "1", so YAML keeps leading zeros and # signs)'
    if error.validator == "pattern" and path == ["name"]:
        return " (lower-case words joined by hyphens, e.g. council-tax-by-keypad)"
    if error.validator == "format":
        return ' (write it like "2026-12-25T10:00:00Z")'
    return ""


def _problems(document: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(
        SCENARIO_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    problems = [
        f"{_where(list(error.absolute_path))}: {error.message}{_hint(error)}"
        for error in sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    ]
    if problems or not isinstance(document, dict):
        return problems
    for index, step in enumerate(document["steps"]):
        actions = [key for key in step if key in STEP_ACTIONS]
        where = _where(["steps", index])
        if len(actions) != 1:
            problems.append(f"{where}: a step does exactly one thing, this one has {actions or 'none'}")
        elif "confidence" in step and actions != ["say"]:
            problems.append(f"{where}: confidence only goes with say")
    if _caller(document["caller"]) is None and document["caller"] != WITHHELD:
        problems.append(f"caller: {document['caller']!r} is not a phone number (or write: {WITHHELD})")
    return problems


def _caller(raw: str) -> str | None:
    try:
        parsed = phonenumbers.parse(raw, "GB")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _plain_scalars(value: Any) -> Any:
    """YAML reads an unquoted 2026-12-25T10:00:00Z as a datetime; treat it as the text the author wrote."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {key: _plain_scalars(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_scalars(item) for item in value]
    return value


def parse_scenario(text: str, path: Path) -> Scenario:
    """Validate one scenario document; raise ScenarioError listing every problem, naming the file."""
    try:
        document = _plain_scalars(yaml.safe_load(text))
    except yaml.YAMLError as error:
        raise ScenarioError(f"{path}: not valid YAML: {error}") from None
    problems = _problems(document)
    if problems:
        raise ScenarioError(f"{path}: " + f"\n{path}: ".join(problems))
    setup = document.get("setup") or {}
    steps = tuple(
        Step(action, step[action], float(step.get("confidence", 0.9)))
        for step in document["steps"]
        for action in step
        if action in STEP_ACTIONS
    )
    start = setup.get("start")
    return Scenario(
        name=document["name"],
        path=path,
        caller=None if document["caller"] == WITHHELD else _caller(document["caller"]),
        steps=steps,
        expectations=tuple(next(iter(item.items())) for item in document["expect"]),
        start=datetime.fromisoformat(start).astimezone(UTC) if start else DEFAULT_START,
        advisers_available=tuple(setup.get("advisers_available", ())),
        phones={_caller(number) or number: outcome for number, outcome in setup.get("phones", {}).items()},
        description=document.get("description", ""),
    )


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read: {error.strerror}") from None
    return parse_scenario(text, path)


# -- running -------------------------------------------------------------------------------------------


class ScenarioLine(Protocol):
    """The council's line under test: the live app, the simulated Twilio calling it, and their shared clock."""

    world: SimulatedTwilio
    clock: Any  # must offer set() and advance(): a ControllableClock

    @property
    def council_number(self) -> str: ...

    @property
    def incoming_url(self) -> str: ...

    def install_demo_council(self) -> None: ...

    def make_available(self, identities: list[str]) -> list[str]: ...

    def settle(self) -> None: ...

    def journey_nodes(self, call_sid: str) -> list[str]: ...

    def callbacks_booked_on(self, call_sid: str) -> int: ...


def _summary(phrases: list[str], limit: int = 400) -> str:
    text = " / ".join(phrases) or "(nothing)"
    if len(text) <= limit:
        return text
    return text[: limit // 3] + " … " + text[-(limit * 2 // 3) :]


def _take_step(step: Step, call: Call, line: ScenarioLine) -> None:
    if step.action == "press":
        call.press(step.value)
    elif step.action == "say":
        call.speak(step.value, confidence=step.confidence)
    elif step.action == "silence":
        call.stay_silent()
    elif step.action == "wait":
        call.wait(step.value)
    elif step.action == "hangup":
        call.hang_up()
    elif step.action == "adviser_answers":
        line.world.client(step.value).answer()  # a browser's answer is the acceptance (no whisper, no key)
    elif step.action == "adviser_rejects":
        line.world.client(step.value).reject()


def _check(kind: str, wanted: Any, call: Call, scenario: Scenario, line: ScenarioLine) -> str | None:
    """Return why the expectation failed, or None when it holds."""
    heard = call.heard
    if kind == "heard":
        if not any(wanted.lower() in phrase.lower() for phrase in heard):
            return f"expected to hear {wanted!r}; heard: {_summary(heard)}"
    elif kind == "not_heard":
        offending = [phrase for phrase in heard if wanted.lower() in phrase.lower()]
        if offending:
            return f"expected not to hear {wanted!r}; heard: {_summary(offending)}"
    elif kind == "reached_queue":
        queues = [event.text for event in call.events("enqueued")]
        if wanted not in queues:
            return f"expected to reach queue {wanted!r}; queues reached: {', '.join(queues) or 'none'}"
    elif kind == "callback_booked":
        count = line.callbacks_booked_on(call.sid)
        if wanted and count == 0:
            return "expected a callback booked on this call; none found"
        if not wanted and count:
            return f"expected no callback booked; found {count}"
    elif kind == "sms_sent":
        texts = [message.body for message in line.world.messages if message.to == scenario.caller]
        if not any(wanted.lower() in body.lower() for body in texts):
            return f"expected a text containing {wanted!r}; texts to the caller: {_summary(texts)}"
    elif kind == "ended_within_seconds":
        if not call.ended:
            return f"expected the call to end within {wanted:g} s; it is still {call.status}"
        if call.duration_seconds > wanted:
            return f"expected the call to end within {wanted:g} s; it lasted {call.duration_seconds} s"
    elif kind == "journey_includes":
        nodes = line.journey_nodes(call.sid)
        if wanted not in nodes:
            return f"expected the journey to include {wanted!r}; journey: {' → '.join(nodes) or '(empty)'}"
    elif kind == "connected_to":
        parties = [event.text for event in call.events("bridged")]
        if not any(wanted in party for party in parties):
            return f"expected to be connected to {wanted!r}; connected to: {', '.join(parties) or 'nobody'}"
    return None


def run_scenario(scenario: Scenario, line: ScenarioLine) -> ScenarioResult:
    """Place the scenario's call on `line`, take its steps, and check every expectation."""
    line.install_demo_council()
    line.clock.set(scenario.start)
    failures: list[str] = []
    unknown = line.make_available(list(scenario.advisers_available))
    if unknown:
        failures.append(f"setup: no adviser has the identity {', '.join(unknown)}")
    for number, outcome in scenario.phones.items():
        phone = line.world.phone(number)
        {
            "answer": phone.will_answer,
            "no-answer": phone.will_not_answer,
            "busy": phone.will_be_busy,
            "voicemail": phone.will_go_to_voicemail,
            "failed": phone.will_fail,
        }[outcome]()
    call = line.world.place_call(to=line.council_number, url=line.incoming_url, from_=scenario.caller)
    line.settle()
    for number, step in enumerate(scenario.steps, start=1):
        try:
            _take_step(step, call, line)
        except CallEnded:
            failures.append(f"step {number} ({step.describe()}): the call had already ended")
            break
        except (CallStateError, SimulatorError) as error:
            failures.append(f"step {number} ({step.describe()}): {error}")
            break
        line.settle()
    failures += [
        reason
        for kind, wanted in scenario.expectations
        if (reason := _check(kind, wanted, call, scenario, line)) is not None
    ]
    return ScenarioResult(scenario.name, tuple(failures))
