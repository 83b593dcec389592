"""Voice-menu flows as data: the JSON shape, loading into frozen dataclasses, validation, lint and diff.

Supervisors change a flow's JSON (through the console) without a deploy, so a flow is checked twice before a
caller meets it:

- `validate(definition)` returns Problems that make a flow unsafe to run: JSON Schema errors (unknown node
  kinds, missing fields, typos), targets that name no node, nodes nobody can reach, dead ends, menus without a
  no-input or invalid-input fallback, and fallbacks that could loop on a silent caller;
- `lint(flow)` returns LintWarnings a supervisor should look at but may accept: more than 5 options, more than
  3 menu levels, a menu where the adviser key is switched off, missing translations, long prompts.

`load_flow(definition)` refuses a flow with Problems (FlowError lists them all). Behaviour shared by every menu
is declared once under "globals": repeat (9 / "repeat"), back (*), adviser (0 → a named node), the no-input and
invalid-input caps with their escalating reprompts and fallback; a node may override a cap or switch a global
key off. Silence is also capped for the whole call ("max_silences", default 2): the next silence goes to the
adviser key's target whichever menu the caller is at, so a silent caller hears at most three prompts. Opening hours for check_hours nodes come from the call (the libraries' own hours), else from the
flow's "service_hours" — see ivr.engine.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from string import Formatter
from typing import Any

from jsonschema import Draft202012Validator

from ivr.hours import HoursError, LibraryHours, parse_library_hours
from ivr.hours_words import HOURS_PLACEHOLDERS, WORDS_LANGUAGES
from ivr.prompts import ENGLISH, LANGUAGES

DEFAULT_FLOW_PATH = Path(__file__).with_name("flows") / "kirklees_default.json"
GLOBAL_KEYS = ("repeat", "back", "adviser")
INTERACTIVE_KINDS = ("menu", "language", "capture")
AUTOMATIC_KINDS = ("say", "check_hours", "branch", "send_sms")
TERMINAL_KINDS = ("queue", "offer_callback", "transfer", "hangup")
KINDS = INTERACTIVE_KINDS + AUTOMATIC_KINDS + TERMINAL_KINDS
MAX_OPTIONS = 5
MAX_MENU_DEPTH = 3
MAX_PROMPT_WORDS = 30
READBACK_FIELDS = ("value", "value_spaced")
# A silent caller hears the first prompt and two more, then the third silence takes them to a person.
DEFAULT_MAX_SILENCES = 2

# ---------------------------------------------------------------------------------------------------------
# JSON Schema
# ---------------------------------------------------------------------------------------------------------

_ID = {"type": "string", "pattern": r"^[a-z][a-z0-9_]{0,63}$"}
_TEXT = {
    "type": "object",
    "required": [ENGLISH],
    "patternProperties": {r"^[a-z]{2,3}(-[A-Z]{2})?$": {"type": "string", "minLength": 1, "maxLength": 600}},
    "additionalProperties": False,
}
_PHRASES = {
    "type": "object",
    "patternProperties": {
        r"^[a-z]{2,3}(-[A-Z]{2})?$": {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": 60},
            "maxItems": 20,
        }
    },
    "additionalProperties": False,
}
_DTMF_KEY = {"type": "string", "pattern": r"^[0-9*#]$"}
_RETRY = {
    "type": "object",
    "properties": {
        "max": {"type": "integer", "minimum": 1, "maximum": 3},
        "reprompts": {"type": "array", "items": _TEXT, "minItems": 1, "maxItems": 3},
        "fallback": _ID,
    },
    "additionalProperties": False,
}
_GLOBAL_KEY = {
    "type": "object",
    "properties": {"key": _DTMF_KEY, "phrases": _PHRASES, "target": _ID},
    "additionalProperties": False,
}
_GLOBALS_OFF = {"type": "array", "items": {"enum": list(GLOBAL_KEYS)}, "uniqueItems": True}
_INTERACTIVE_COMMON = {
    "on_no_input": _RETRY,
    "on_invalid": _RETRY,
    "globals_off": _GLOBALS_OFF,
    "description": {"type": "string"},
}


def _node(kind: str, required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["kind", *required],
        "properties": {"kind": {"const": kind}, "description": {"type": "string"}, **properties},
        "additionalProperties": False,
    }


_NODE_SCHEMAS = {
    "say": _node("say", ["text", "next"], {"text": _TEXT, "next": _ID}),
    "menu": _node(
        "menu",
        ["prompt", "options"],
        {
            "prompt": _TEXT,
            "options": {
                "type": "array",
                "minItems": 1,
                "maxItems": 9,
                "items": {
                    "type": "object",
                    "required": ["key", "target"],
                    "properties": {
                        "key": _DTMF_KEY,
                        "target": _ID,
                        # What staff see of the choice on the adviser's screen pop ("Paying a bill").
                        "label": {"type": "string", "minLength": 1, "maxLength": 60},
                        "phrases": _PHRASES,
                        "set": {
                            "type": "object",
                            "additionalProperties": {"type": ["string", "boolean", "integer"]},
                        },
                    },
                    "additionalProperties": False,
                },
            },
            **_INTERACTIVE_COMMON,
        },
    ),
    "language": _node(
        "language",
        ["options", "next"],
        {
            "prompt": _TEXT,
            "options": {
                "type": "array",
                "minItems": 1,
                "maxItems": 9,
                "items": {
                    "type": "object",
                    "required": ["key", "language", "text"],
                    "properties": {
                        "key": _DTMF_KEY,
                        "language": {"type": "string"},
                        "text": _TEXT,
                        "phrases": _PHRASES,
                    },
                    "additionalProperties": False,
                },
            },
            "next": _ID,
            **_INTERACTIVE_COMMON,
        },
    ),
    "capture": _node(
        "capture",
        ["prompt", "name", "pattern", "next"],
        {
            "prompt": _TEXT,
            "name": _ID,
            "input": {"enum": ["dtmf", "speech", "dtmf speech"]},
            "pattern": {"type": "string", "minLength": 1, "maxLength": 200},
            "num_digits": {"type": "integer", "minimum": 1, "maximum": 20},
            "finish_on_key": {"type": "string", "pattern": r"^[0-9*#]?$"},
            "readback": _TEXT,
            "next": _ID,
            **_INTERACTIVE_COMMON,
        },
    ),
    "check_hours": _node(
        "check_hours",
        ["open", "closed"],
        {"open": _ID, "closed": _ID, "observe_bank_holidays": {"type": "boolean"}},
    ),
    "branch": _node(
        "branch",
        ["on", "cases", "default"],
        {
            "on": {"type": "string", "minLength": 1},
            "cases": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["target"],
                    "properties": {
                        "equals": {"type": ["string", "boolean", "integer", "null"]},
                        "matches": {"type": "string"},
                        "target": _ID,
                    },
                    "additionalProperties": False,
                },
            },
            "default": _ID,
        },
    ),
    "queue": _node(
        "queue",
        [],
        {
            "topic": {"type": "string", "minLength": 1},
            "priority": {"type": "integer", "minimum": 0, "maximum": 10},
            "reasons": {"type": "array", "items": {"type": "string"}},
            "text": _TEXT,
        },
    ),
    "offer_callback": _node(
        "offer_callback",
        ["text"],
        {
            "topic": {"type": "string", "minLength": 1},
            "text": _TEXT,
            "reasons": {"type": "array", "items": {"type": "string"}},
        },
    ),
    "send_sms": _node(
        "send_sms", ["sms", "next"], {"sms": _TEXT, "text": _TEXT, "not_sent": _TEXT, "next": _ID}
    ),
    "transfer": _node(
        "transfer",
        ["number"],
        {"number": {"type": "string", "pattern": r"^\+[1-9][0-9]{6,14}$"}, "text": _TEXT},
    ),
    "hangup": _node("hangup", ["goodbye"], {"goodbye": _TEXT}),
}

FLOW_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Kirklees IVR flow",
    "type": "object",
    "required": ["name", "version", "start", "languages", "globals", "nodes"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "version": {"type": "integer", "minimum": 1},
        "description": {"type": "string"},
        "start": _ID,
        "languages": {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
        "service_hours": {
            "type": "object",
            "required": ["opening_hours"],
            "properties": {"opening_hours": {"type": "object"}, "closures": {"type": "array"}},
            "additionalProperties": False,
        },
        "globals": {
            "type": "object",
            "properties": {
                "repeat": _GLOBAL_KEY,
                "back": _GLOBAL_KEY,
                "adviser": _GLOBAL_KEY,
                "on_no_input": _RETRY,
                "on_invalid": _RETRY,
                "yes": _PHRASES,
                "no": _PHRASES,
                "max_turns": {"type": "integer", "minimum": 5, "maximum": 100},
                "max_silences": {"type": "integer", "minimum": 1, "maximum": 5},
                "timeout_s": {"type": "integer", "minimum": 3, "maximum": 15},
                "adapted_timeout_s": {"type": "integer", "minimum": 5, "maximum": 30},
                "min_speech_confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "person_offer": _TEXT,
                "interpreter_offer": _TEXT,
                "priority_boosts": {
                    "type": "object",
                    "additionalProperties": {"type": "integer", "minimum": 0, "maximum": 5},
                },
            },
            "additionalProperties": False,
        },
        "nodes": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": _ID,
            "additionalProperties": {
                "type": "object",
                "required": ["kind"],
                "properties": {"kind": {"enum": list(KINDS)}},
                "allOf": [
                    {"if": {"properties": {"kind": {"const": kind}}}, "then": schema}
                    for kind, schema in _NODE_SCHEMAS.items()
                ],
            },
        },
    },
    "additionalProperties": False,
}

_VALIDATOR = Draft202012Validator(FLOW_SCHEMA)

# ---------------------------------------------------------------------------------------------------------
# Loaded flow: frozen dataclasses
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """One prompt in several languages; English is always present."""

    translations: tuple[tuple[str, str], ...]

    def get(self, code: str) -> str | None:
        return dict(self.translations).get(code)

    @property
    def english(self) -> str:
        return dict(self.translations)[ENGLISH]

    def languages(self) -> frozenset[str]:
        return frozenset(code for code, _ in self.translations)


@dataclass(frozen=True)
class Phrases:
    """Speech phrases per language that select an option."""

    by_language: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def get(self, code: str) -> tuple[str, ...]:
        return dict(self.by_language).get(code, ())


@dataclass(frozen=True)
class Retry:
    """How many no-inputs (or invalid inputs) a node allows, what to say each time, and where to go after."""

    max: int
    reprompts: tuple[Text, ...]
    fallback: str | None


@dataclass(frozen=True)
class GlobalKey:
    """A key (and speech phrases) that works on every menu unless a node switches it off."""

    key: str | None
    phrases: Phrases
    target: str | None = None


@dataclass(frozen=True)
class Globals:
    repeat: GlobalKey | None
    back: GlobalKey | None
    adviser: GlobalKey | None
    yes: Phrases
    no: Phrases
    max_turns: int
    max_silences: int  # silences a whole call may have; the next one goes to the adviser target
    timeout_s: int
    adapted_timeout_s: int
    min_speech_confidence: float
    person_offer: Text | None
    interpreter_offer: Text | None
    priority_boosts: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class SayNode:
    id: str
    text: Text
    next: str
    kind: str = "say"


@dataclass(frozen=True)
class MenuOption:
    key: str
    target: str
    phrases: Phrases
    set: tuple[tuple[str, str | bool | int], ...] = ()
    label: str | None = None  # staff words for the choice, shown on the screen pop


@dataclass(frozen=True)
class MenuNode:
    id: str
    prompt: Text
    options: tuple[MenuOption, ...]
    on_no_input: Retry
    on_invalid: Retry
    globals_enabled: frozenset[str]
    kind: str = "menu"


@dataclass(frozen=True)
class LanguageOption:
    key: str
    language: str
    text: Text
    phrases: Phrases


@dataclass(frozen=True)
class LanguageNode:
    id: str
    prompt: Text | None
    options: tuple[LanguageOption, ...]
    next: str
    on_no_input: Retry
    on_invalid: Retry
    globals_enabled: frozenset[str]
    kind: str = "language"


@dataclass(frozen=True)
class CaptureNode:
    id: str
    prompt: Text
    name: str
    input_modes: tuple[str, ...]
    pattern: str
    num_digits: int | None
    finish_on_key: str
    readback: Text | None
    next: str
    on_no_input: Retry
    on_invalid: Retry
    globals_enabled: frozenset[str]
    kind: str = "capture"


@dataclass(frozen=True)
class CheckHoursNode:
    id: str
    open: str
    closed: str
    observe_bank_holidays: bool = True
    kind: str = "check_hours"


@dataclass(frozen=True)
class BranchCase:
    target: str
    equals: str | bool | int | None = None
    has_equals: bool = False
    matches: str | None = None


@dataclass(frozen=True)
class BranchNode:
    id: str
    on: str
    cases: tuple[BranchCase, ...]
    default: str
    kind: str = "branch"


@dataclass(frozen=True)
class QueueNode:
    id: str
    topic: str | None
    priority: int
    reasons: tuple[str, ...]
    text: Text | None
    kind: str = "queue"


@dataclass(frozen=True)
class OfferCallbackNode:
    id: str
    topic: str | None
    text: Text
    reasons: tuple[str, ...]
    kind: str = "offer_callback"


@dataclass(frozen=True)
class SendSmsNode:
    """Text the caller: `text` is said only once the gateway accepted it, `not_sent` when it did not."""

    id: str
    sms: Text
    text: Text | None
    next: str
    not_sent: Text | None = None
    kind: str = "send_sms"


@dataclass(frozen=True)
class TransferNode:
    id: str
    number: str
    text: Text | None
    kind: str = "transfer"


@dataclass(frozen=True)
class HangupNode:
    id: str
    goodbye: Text
    kind: str = "hangup"


Node = (
    SayNode
    | MenuNode
    | LanguageNode
    | CaptureNode
    | CheckHoursNode
    | BranchNode
    | QueueNode
    | OfferCallbackNode
    | SendSmsNode
    | TransferNode
    | HangupNode
)
InteractiveNode = MenuNode | LanguageNode | CaptureNode


@dataclass(frozen=True)
class Flow:
    """A loaded, validated flow. `definition` keeps the JSON it came from, for storage and diffs."""

    name: str
    version: int
    start: str
    languages: tuple[str, ...]
    globals: Globals
    nodes: Mapping[str, Node]
    service_hours: tuple[LibraryHours, ...]
    definition: Mapping[str, Any] = field(repr=False, compare=False)

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]


@dataclass(frozen=True)
class Problem:
    """Something that makes a flow unsafe to run; `where` is a node id or a JSON path."""

    code: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.where}: {self.message}"


@dataclass(frozen=True)
class LintWarning:
    """Something a supervisor should look at; the flow still runs."""

    code: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.where}: {self.message}"


class FlowError(ValueError):
    """A flow that failed validation; `problems` lists every reason, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"flow is invalid ({len(problems)} problem(s)):\n{lines}")


# ---------------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------------


def load_flow(definition: Mapping[str, Any]) -> Flow:
    """Validate a flow definition and load it; raise FlowError listing every problem."""
    problems = validate(definition)
    if problems:
        raise FlowError(problems)
    return _build(definition)


def load_flow_file(path: str | Path) -> Flow:
    """Load a flow from a JSON file (FlowError if the JSON is malformed or the flow invalid)."""
    try:
        definition = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise FlowError([Problem("json", str(path), str(error))]) from None
    return load_flow(definition)


def default_flow() -> Flow:
    """Load the Kirklees default flow shipped in ivr/flows/."""
    return load_flow_file(DEFAULT_FLOW_PATH)


def _text(raw: Mapping[str, str] | None) -> Text | None:
    if raw is None:
        return None
    return Text(tuple(sorted(raw.items())))


def _phrases(raw: Mapping[str, list[str]] | None) -> Phrases:
    return Phrases(tuple(sorted((code, tuple(items)) for code, items in (raw or {}).items())))


def _retry(raw: Mapping[str, Any] | None, default: Retry) -> Retry:
    raw = raw or {}
    reprompts = raw.get("reprompts")
    return Retry(
        max=raw.get("max", default.max),
        reprompts=tuple(_text(item) for item in reprompts) if reprompts else default.reprompts,  # type: ignore[misc]
        fallback=raw.get("fallback", default.fallback),
    )


def _global_key(raw: Mapping[str, Any] | None) -> GlobalKey | None:
    if raw is None:
        return None
    return GlobalKey(key=raw.get("key"), phrases=_phrases(raw.get("phrases")), target=raw.get("target"))


_SILENCE = Text(((ENGLISH, "Sorry, I didn't hear anything."),))
_NOT_UNDERSTOOD = Text(((ENGLISH, "Sorry, I didn't understand that."),))


def _build(definition: Mapping[str, Any]) -> Flow:
    raw_globals = definition["globals"]
    no_input_default = _retry(raw_globals.get("on_no_input"), Retry(2, (_SILENCE,), None))
    invalid_default = _retry(raw_globals.get("on_invalid"), Retry(2, (_NOT_UNDERSTOOD,), None))
    flow_globals = Globals(
        repeat=_global_key(raw_globals.get("repeat")),
        back=_global_key(raw_globals.get("back")),
        adviser=_global_key(raw_globals.get("adviser")),
        yes=_phrases(raw_globals.get("yes") or {ENGLISH: ["yes", "yeah", "correct", "that's right"]}),
        no=_phrases(raw_globals.get("no") or {ENGLISH: ["no", "wrong", "try again"]}),
        max_turns=raw_globals.get("max_turns", 30),
        max_silences=raw_globals.get("max_silences", DEFAULT_MAX_SILENCES),
        timeout_s=raw_globals.get("timeout_s", 5),
        adapted_timeout_s=raw_globals.get("adapted_timeout_s", 10),
        min_speech_confidence=float(raw_globals.get("min_speech_confidence", 0.4)),
        person_offer=_text(raw_globals.get("person_offer")),
        interpreter_offer=_text(raw_globals.get("interpreter_offer")),
        priority_boosts=tuple(sorted(raw_globals.get("priority_boosts", {}).items())),
    )
    nodes: dict[str, Node] = {}
    for node_id, raw in definition["nodes"].items():
        nodes[node_id] = _build_node(node_id, raw, no_input_default, invalid_default)
    service_hours: tuple[LibraryHours, ...] = ()
    raw_hours = definition.get("service_hours")
    if raw_hours is not None:
        try:
            service_hours = (
                parse_library_hours("service hours", raw_hours["opening_hours"], raw_hours.get("closures")),
            )
        except HoursError:
            service_hours = ()  # validate() reports it; _build is also used to lint broken flows
    return Flow(
        name=definition["name"],
        version=definition["version"],
        start=definition["start"],
        languages=tuple(definition["languages"]),
        globals=flow_globals,
        nodes=nodes,
        service_hours=service_hours,
        definition=definition,
    )


def _build_node(node_id: str, raw: Mapping[str, Any], no_input: Retry, invalid: Retry) -> Node:
    kind = raw["kind"]
    enabled = frozenset(GLOBAL_KEYS) - frozenset(raw.get("globals_off", ()))
    if kind == "say":
        return SayNode(node_id, _text(raw["text"]), raw["next"])  # type: ignore[arg-type]
    if kind == "menu":
        return MenuNode(
            node_id,
            _text(raw["prompt"]),  # type: ignore[arg-type]
            tuple(
                MenuOption(
                    option["key"],
                    option["target"],
                    _phrases(option.get("phrases")),
                    tuple(sorted(option.get("set", {}).items())),
                    option.get("label"),
                )
                for option in raw["options"]
            ),
            _retry(raw.get("on_no_input"), no_input),
            _retry(raw.get("on_invalid"), invalid),
            enabled,
        )
    if kind == "language":
        return LanguageNode(
            node_id,
            _text(raw.get("prompt")),
            tuple(
                LanguageOption(
                    option["key"],
                    option["language"],
                    _text(option["text"]),  # type: ignore[arg-type]
                    _phrases(option.get("phrases")),
                )
                for option in raw["options"]
            ),
            raw["next"],
            _retry(raw.get("on_no_input"), no_input),
            _retry(raw.get("on_invalid"), invalid),
            enabled,
        )
    if kind == "capture":
        return CaptureNode(
            node_id,
            _text(raw["prompt"]),  # type: ignore[arg-type]
            raw["name"],
            tuple(raw.get("input", "dtmf").split()),
            raw["pattern"],
            raw.get("num_digits"),
            raw.get("finish_on_key", "#"),
            _text(raw.get("readback")),
            raw["next"],
            _retry(raw.get("on_no_input"), no_input),
            _retry(raw.get("on_invalid"), invalid),
            enabled,
        )
    if kind == "check_hours":
        return CheckHoursNode(node_id, raw["open"], raw["closed"], raw.get("observe_bank_holidays", True))
    if kind == "branch":
        return BranchNode(
            node_id,
            raw["on"],
            tuple(
                BranchCase(case["target"], case.get("equals"), "equals" in case, case.get("matches"))
                for case in raw["cases"]
            ),
            raw["default"],
        )
    if kind == "queue":
        return QueueNode(
            node_id,
            raw.get("topic"),
            raw.get("priority", 0),
            tuple(raw.get("reasons", ())),
            _text(raw.get("text")),
        )
    if kind == "offer_callback":
        return OfferCallbackNode(
            node_id,
            raw.get("topic"),
            _text(raw["text"]),  # type: ignore[arg-type]
            tuple(raw.get("reasons", ())),
        )
    if kind == "send_sms":
        return SendSmsNode(
            node_id,
            _text(raw["sms"]),  # type: ignore[arg-type]
            _text(raw.get("text")),
            raw["next"],
            _text(raw.get("not_sent")),
        )
    if kind == "transfer":
        return TransferNode(node_id, raw["number"], _text(raw.get("text")))
    if kind == "hangup":
        return HangupNode(node_id, _text(raw["goodbye"]))  # type: ignore[arg-type]
    raise ValueError(f"unknown node kind {kind!r}")  # unreachable after schema validation


# ---------------------------------------------------------------------------------------------------------
# Graph helpers (used by validation, lint and tests)
# ---------------------------------------------------------------------------------------------------------


def transitions(node: Node) -> list[tuple[str, str]]:
    """Return (label, target) for every way out of a node that the node itself declares."""
    if isinstance(node, SayNode | SendSmsNode):
        return [("next", node.next)]
    if isinstance(node, MenuNode):
        return [(f"option {option.key}", option.target) for option in node.options] + _fallbacks(node)
    if isinstance(node, LanguageNode | CaptureNode):
        return [("next", node.next), *_fallbacks(node)]
    if isinstance(node, CheckHoursNode):
        return [("open", node.open), ("closed", node.closed)]
    if isinstance(node, BranchNode):
        return [(f"case {index}", case.target) for index, case in enumerate(node.cases)] + [
            ("default", node.default)
        ]
    return []


def _fallbacks(node: InteractiveNode) -> list[tuple[str, str]]:
    found = []
    if node.on_no_input.fallback:
        found.append(("on_no_input.fallback", node.on_no_input.fallback))
    if node.on_invalid.fallback:
        found.append(("on_invalid.fallback", node.on_invalid.fallback))
    return found


def is_interactive(node: Node) -> bool:
    return isinstance(node, MenuNode | LanguageNode | CaptureNode)


def is_terminal(node: Node) -> bool:
    return isinstance(node, QueueNode | OfferCallbackNode | TransferNode | HangupNode)


def adviser_target(flow: Flow, node: Node) -> str | None:
    """Return where the adviser key goes from this node, or None if it is off here."""
    adviser = flow.globals.adviser
    if adviser is None or not is_interactive(node) or "adviser" not in node.globals_enabled:  # type: ignore[union-attr]
        return None
    return adviser.target


def _edges(flow: Flow, node: Node) -> list[str]:
    targets = [target for _, target in transitions(node)]
    adviser = adviser_target(flow, node)
    if adviser:
        targets.append(adviser)
    return [target for target in targets if target in flow.nodes]


def menu_depths(flow: Flow) -> dict[str, int]:
    """Return, for every reachable node, the fewest menus (menu or language choices) a caller passes to get there."""
    depths = {flow.start: 0}
    queue: deque[str] = deque([flow.start])
    # 0-1 breadth-first search: stepping out of a menu costs one level, anything else is free.
    while queue:
        node_id = queue.popleft()
        node = flow.nodes[node_id]
        cost = 1 if isinstance(node, MenuNode | LanguageNode) else 0
        for target in _edges(flow, node):
            depth = depths[node_id] + cost
            if depth < depths.get(target, 1_000_000):
                depths[target] = depth
                if cost:
                    queue.append(target)
                else:
                    queue.appendleft(target)
    return depths


def _failure_edges(flow: Flow, node: Node) -> list[str]:
    """Where a caller goes without making a choice: automatic steps, and fallbacks after silence or bad keys."""
    if is_interactive(node):
        return [target for _, target in _fallbacks(node) if target in flow.nodes]  # type: ignore[arg-type]
    return _edges(flow, node)


def _find_cycle(flow: Flow, start: str, edges: Any) -> list[str] | None:
    path: list[str] = []
    on_path: set[str] = set()
    done: set[str] = set()

    def visit(node_id: str) -> list[str] | None:
        if node_id in on_path:
            return path[path.index(node_id) :] + [node_id]
        if node_id in done:
            return None
        path.append(node_id)
        on_path.add(node_id)
        for target in edges(flow, flow.nodes[node_id]):
            cycle = visit(target)
            if cycle:
                return cycle
        path.pop()
        on_path.discard(node_id)
        done.add(node_id)
        return None

    return visit(start)


# ---------------------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------------------


def validate(definition: Any) -> list[Problem]:
    """Return every problem that makes this flow unsafe to run (empty list: it may be loaded)."""
    if not isinstance(definition, Mapping):
        return [Problem("schema", "/", "a flow must be a JSON object")]
    problems = [
        _schema_problem(error) for error in sorted(_VALIDATOR.iter_errors(definition), key=_error_path)
    ]
    if problems:
        return problems
    flow = _build(definition)
    problems += _check_languages(flow)
    problems += _check_targets(flow)
    problems += _check_keys(flow)
    problems += _check_captures(flow)
    problems += _check_placeholders(flow)
    problems += _check_hours(flow, definition)
    if any(problem.code in ("dangling_target", "unknown_start") for problem in problems):
        return problems  # graph checks would only repeat the same fault
    problems += _check_reachability(flow)
    problems += _check_fallbacks(flow)
    return problems


def _error_path(error: Any) -> str:
    return "/".join(str(part) for part in error.absolute_path)


def _schema_problem(error: Any) -> Problem:
    path = "/" + _error_path(error)
    if error.validator == "enum" and list(error.absolute_path)[-1:] == ["kind"]:
        return Problem(
            "unknown_kind", path, f"unknown node kind {error.instance!r}; use one of {', '.join(KINDS)}"
        )
    return Problem("schema", path, error.message)


def _check_languages(flow: Flow) -> list[Problem]:
    problems = []
    for code in flow.languages:
        if code not in LANGUAGES:
            problems.append(
                Problem("unknown_language", "/languages", f"{code!r} is not in ivr.prompts.LANGUAGES")
            )
    if ENGLISH not in flow.languages:
        problems.append(Problem("unknown_language", "/languages", f"{ENGLISH} must be offered"))
    for node in flow.nodes.values():
        if isinstance(node, LanguageNode):
            for option in node.options:
                if option.language not in flow.languages:
                    problems.append(
                        Problem(
                            "unknown_language",
                            node.id,
                            f"option {option.key}: {option.language!r} not offered",
                        )
                    )
    return problems


def _check_targets(flow: Flow) -> list[Problem]:
    problems = []
    if flow.start not in flow.nodes:
        problems.append(Problem("unknown_start", "/start", f"start node {flow.start!r} does not exist"))
    for node in flow.nodes.values():
        for label, target in transitions(node):
            if target not in flow.nodes:
                problems.append(
                    Problem("dangling_target", node.id, f"{label} goes to {target!r}, which is not a node")
                )
    adviser = flow.globals.adviser
    if adviser is not None and adviser.target not in flow.nodes:
        problems.append(
            Problem("dangling_target", "/globals/adviser", f"adviser target {adviser.target!r} is not a node")
        )
    return problems


def _check_keys(flow: Flow) -> list[Problem]:
    problems = []
    for node in flow.nodes.values():
        if not isinstance(node, MenuNode | LanguageNode):
            continue
        global_keys = {
            getattr(flow.globals, name).key: name
            for name in GLOBAL_KEYS
            if getattr(flow.globals, name) is not None and name in node.globals_enabled
        }
        seen: set[str] = set()
        for option in node.options:
            if option.key in seen:
                problems.append(Problem("key_clash", node.id, f"key {option.key} is used by two options"))
            seen.add(option.key)
            if option.key in global_keys:
                problems.append(
                    Problem(
                        "key_clash",
                        node.id,
                        f"key {option.key} is the global {global_keys[option.key]} key here",
                    )
                )
    return problems


def _check_captures(flow: Flow) -> list[Problem]:
    problems = []
    for node in flow.nodes.values():
        if not isinstance(node, CaptureNode):
            continue
        try:
            re.compile(node.pattern)
        except re.error as error:
            problems.append(
                Problem("bad_pattern", node.id, f"pattern {node.pattern!r} is not a regex: {error}")
            )
        for code, text in node.readback.translations if node.readback else ():
            names = set(re.findall(r"{(\w*)}", text))
            unknown = names - set(READBACK_FIELDS)
            if unknown:
                problems.append(
                    Problem(
                        "bad_readback", node.id, f"readback ({code}) uses unknown field(s) {sorted(unknown)}"
                    )
                )
    return problems


def _check_placeholders(flow: Flow) -> list[Problem]:
    """Spoken texts may use the opening-hours placeholders ({next_opening}, ...), in languages we have those
    words for; anything else in braces would be read out, or fail, mid-call."""
    problems = []
    spoken = [(node.id, label, text) for node in flow.nodes.values() for label, text in _spoken_texts(node)]
    spoken += [("/globals", "person_offer", flow.globals.person_offer)] if flow.globals.person_offer else []
    for node in flow.nodes.values():
        if is_interactive(node):
            for retry in ("on_no_input", "on_invalid"):
                spoken += [(node.id, retry, text) for text in getattr(node, retry).reprompts]
    for where, label, text in spoken:
        for code, words in text.translations:
            try:
                names = {name for _, name, _, _ in Formatter().parse(words) if name is not None}
            except ValueError as error:
                problems.append(Problem("bad_placeholder", where, f"{label} ({code}): {error}"))
                continue
            unknown = sorted(names - set(HOURS_PLACEHOLDERS))
            if unknown:
                problems.append(
                    Problem(
                        "bad_placeholder",
                        where,
                        f"{label} ({code}) uses unknown placeholder(s) {unknown}; "
                        f"use {', '.join('{' + name + '}' for name in HOURS_PLACEHOLDERS)}",
                    )
                )
            elif names and code not in WORDS_LANGUAGES:
                problems.append(
                    Problem(
                        "bad_placeholder",
                        where,
                        f"{label} ({code}): there are no {code} words for {sorted(names)} yet; leave this "
                        "language out of the text and its callers hear the English",
                    )
                )
    return problems


def _spoken_texts(node: Node) -> Iterator[tuple[str, Text]]:
    """Texts a caller hears (a capture's read-back has its own fields, and an SMS is not spoken)."""
    for label, text in _texts(node):
        if label not in ("readback", "sms"):
            yield label, text
    if isinstance(node, LanguageNode):
        for option in node.options:
            yield f"option {option.key}", option.text


def _check_hours(flow: Flow, definition: Mapping[str, Any]) -> list[Problem]:
    raw = definition.get("service_hours")
    if raw is not None:
        try:
            parse_library_hours("service hours", raw["opening_hours"], raw.get("closures"))
        except HoursError as error:
            return [Problem("bad_hours", "/service_hours", str(error))]
    elif any(isinstance(node, CheckHoursNode) for node in flow.nodes.values()):
        return [
            Problem(
                "no_hours",
                "/service_hours",
                "check_hours nodes need flow service_hours to fall back on when a call brings no library hours",
            )
        ]
    return []


def _check_reachability(flow: Flow) -> list[Problem]:
    problems = []
    reachable = set(menu_depths(flow))
    for node_id in flow.nodes:
        if node_id not in reachable:
            problems.append(Problem("unreachable", node_id, "no path from the start node reaches this node"))
    for node in flow.nodes.values():
        if is_terminal(node) or node.id not in reachable:
            continue
        if not _reaches_terminal(flow, node.id):
            problems.append(
                Problem(
                    "dead_end",
                    node.id,
                    "no way out: nothing from here reaches a queue, callback, transfer or hangup",
                )
            )
    return problems


def _reaches_terminal(flow: Flow, start: str) -> bool:
    seen = {start}
    queue = deque([start])
    while queue:
        node = flow.nodes[queue.popleft()]
        if is_terminal(node):
            return True
        for target in _edges(flow, node):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return False


def _check_fallbacks(flow: Flow) -> list[Problem]:
    problems = []
    for node in flow.nodes.values():
        if not is_interactive(node):
            continue
        if not node.on_no_input.fallback:  # type: ignore[union-attr]
            problems.append(
                Problem("missing_fallback", node.id, "no on_no_input fallback (set it here or in globals)")
            )
        if not node.on_invalid.fallback:  # type: ignore[union-attr]
            problems.append(
                Problem("missing_fallback", node.id, "no on_invalid fallback (set it here or in globals)")
            )
    if problems:
        return problems
    for node_id in flow.nodes:
        cycle = _find_cycle(flow, node_id, _failure_edges)
        if cycle:
            return [
                Problem(
                    "fallback_loop",
                    node_id,
                    "a silent or confused caller could go round forever: " + " → ".join(cycle),
                )
            ]
    adviser = flow.globals.adviser
    if adviser is not None and adviser.target in flow.nodes:
        menu = _first_interactive(flow, adviser.target)
        if menu:
            problems.append(
                Problem(
                    "adviser_not_direct",
                    "/globals/adviser",
                    f"the adviser key must reach a person or callback without another menu, but meets {menu!r}",
                )
            )
    return problems


def _first_interactive(flow: Flow, start: str) -> str | None:
    seen = {start}
    queue = deque([start])
    while queue:
        node = flow.nodes[queue.popleft()]
        if is_interactive(node):
            return node.id
        for target in _edges(flow, node):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return None


# ---------------------------------------------------------------------------------------------------------
# Lint
# ---------------------------------------------------------------------------------------------------------


def lint(flow: Flow) -> list[LintWarning]:
    """Return warnings a supervisor should review before publishing (the flow is still safe to run)."""
    warnings = []
    depths = menu_depths(flow)
    for node in flow.nodes.values():
        if isinstance(node, MenuNode | LanguageNode) and len(node.options) > MAX_OPTIONS:
            warnings.append(
                LintWarning(
                    "too_many_options",
                    node.id,
                    f"{len(node.options)} options; callers remember at most {MAX_OPTIONS}",
                )
            )
        if isinstance(node, MenuNode | LanguageNode) and depths.get(node.id, 0) + 1 > MAX_MENU_DEPTH:
            warnings.append(
                LintWarning(
                    "too_deep",
                    node.id,
                    f"menu level {depths[node.id] + 1}; keep menus within {MAX_MENU_DEPTH} levels",
                )
            )
        if is_interactive(node) and adviser_target(flow, node) is None and not _offers_person(flow, node):
            warnings.append(
                LintWarning(
                    "no_adviser_option", node.id, "the adviser key is off here and no option reaches a person"
                )
            )
        for label, text in _texts(node):
            missing = [code for code in flow.languages if code not in text.languages()]
            if re.search(r"{\w+}", text.english) and label != "readback":
                # Opening-hours words exist in a few languages only: the others hear the English on purpose.
                missing = [code for code in missing if code in WORDS_LANGUAGES]
            if missing:
                warnings.append(
                    LintWarning("missing_translation", node.id, f"{label} has no {', '.join(missing)} text")
                )
            words = len(text.english.split())
            if words > MAX_PROMPT_WORDS:
                warnings.append(
                    LintWarning("long_prompt", node.id, f"{label} is {words} words; keep prompts short")
                )
    return warnings


def _offers_person(flow: Flow, node: Node) -> bool:
    if not isinstance(node, MenuNode):
        return False
    return any(
        isinstance(flow.nodes.get(option.target), QueueNode | TransferNode | OfferCallbackNode)
        for option in node.options
    )


def _texts(node: Node) -> Iterator[tuple[str, Text]]:
    for name in ("text", "prompt", "readback", "goodbye", "sms", "not_sent"):
        value = getattr(node, name, None)
        if isinstance(value, Text):
            yield name, value


# ---------------------------------------------------------------------------------------------------------
# Diff
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeChange:
    node: str
    fields: tuple[str, ...]  # "options.1.target: 'hb_menu' → 'hb_reference'"


@dataclass(frozen=True)
class FlowDiff:
    """What changed between two versions of a flow, node by node, for `flask flows diff`."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[NodeChange, ...]
    settings: tuple[str, ...]  # changes outside nodes: globals, start, languages, service hours

    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.settings)

    def lines(self) -> list[str]:
        out = [f"+ {node}" for node in self.added] + [f"- {node}" for node in self.removed]
        for change in self.changed:
            out.append(f"~ {change.node}")
            out += [f"    {item}" for item in change.fields]
        if self.settings:
            out.append("~ (flow settings)")
            out += [f"    {item}" for item in self.settings]
        return out or ["no changes"]

    def __str__(self) -> str:
        return "\n".join(self.lines())


def diff(old: Mapping[str, Any] | Flow, new: Mapping[str, Any] | Flow) -> FlowDiff:
    """Compare two flow definitions (or loaded flows) node by node."""
    old_def = old.definition if isinstance(old, Flow) else old
    new_def = new.definition if isinstance(new, Flow) else new
    old_nodes, new_nodes = old_def.get("nodes", {}), new_def.get("nodes", {})
    added = tuple(
        f"{node} ({new_nodes[node].get('kind')})" for node in sorted(set(new_nodes) - set(old_nodes))
    )
    removed = tuple(
        f"{node} ({old_nodes[node].get('kind')})" for node in sorted(set(old_nodes) - set(new_nodes))
    )
    changed = []
    for node in sorted(set(old_nodes) & set(new_nodes)):
        fields = _changes(_flatten(old_nodes[node]), _flatten(new_nodes[node]))
        if fields:
            changed.append(NodeChange(node, fields))
    old_rest = {key: value for key, value in old_def.items() if key != "nodes"}
    new_rest = {key: value for key, value in new_def.items() if key != "nodes"}
    return FlowDiff(added, removed, tuple(changed), _changes(_flatten(old_rest), _flatten(new_rest)))


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        items: Iterator[tuple[str, Any]] = ((str(key), item) for key, item in value.items())
    elif isinstance(value, list):
        items = ((str(index), item) for index, item in enumerate(value))
    else:
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, item in items:
        flat.update(_flatten(item, f"{prefix}.{key}" if prefix else key))
    return flat


def _changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, ...]:
    lines = []
    for path in sorted(set(old) | set(new)):
        if path not in new:
            lines.append(f"{path}: {old[path]!r} removed")
        elif path not in old:
            lines.append(f"{path}: added {new[path]!r}")
        elif old[path] != new[path]:
            lines.append(f"{path}: {old[path]!r} → {new[path]!r}")
    return tuple(lines)
