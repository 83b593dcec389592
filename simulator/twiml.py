"""Parse TwiML documents into typed verbs the call engine follows.

Defaults follow Twilio's TwiML reference (looked up: "TwiML Gather", "TwiML Enqueue", "TwiML Dial",
"TwiML Queue", "TwiML Number", "TwiML Client"): Gather timeout 5 s, finishOnKey '#', input dtmf,
method POST, action = current document; Pause length 1 s; Dial timeout 30 s; Enqueue method POST.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass

SECONDS_PER_SPOKEN_WORD = 0.4


class TwimlError(ValueError):
    """The body is not TwiML Twilio could execute (Twilio error 12100 / 12200)."""


@dataclass(frozen=True)
class Say:
    text: str
    language: str = "en-US"
    voice: str = ""
    loop: int = 1

    @property
    def seconds(self) -> float:
        """Estimate how long text-to-speech takes, so simulated time moves realistically."""
        return max(1, len(self.text.split())) * SECONDS_PER_SPOKEN_WORD * max(1, self.loop)


@dataclass(frozen=True)
class Play:
    url: str
    loop: int = 1
    digits: str = ""
    seconds_per_loop: float = 5.0

    @property
    def seconds(self) -> float:
        return self.seconds_per_loop * max(1, self.loop)


@dataclass(frozen=True)
class Pause:
    length: float = 1.0

    @property
    def seconds(self) -> float:
        return self.length


Prompt = Say | Play | Pause


@dataclass(frozen=True)
class Gather:
    prompts: tuple[Prompt, ...] = ()
    input: frozenset[str] = frozenset({"dtmf"})
    timeout: float = 5.0
    num_digits: int | None = None
    finish_on_key: str = "#"
    action: str | None = None
    method: str = "POST"
    action_on_empty_result: bool = False
    speech_timeout: str = ""
    hints: str = ""
    language: str = "en-US"


@dataclass(frozen=True)
class Redirect:
    url: str
    method: str = "POST"


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Reject:
    reason: str = "rejected"


@dataclass(frozen=True)
class Enqueue:
    queue_name: str
    action: str | None = None
    method: str = "POST"
    wait_url: str | None = None
    wait_url_method: str = "POST"


@dataclass(frozen=True)
class Leave:
    pass


@dataclass(frozen=True)
class DialNumber:
    number: str
    url: str | None = None
    method: str = "POST"


@dataclass(frozen=True)
class DialClient:
    identity: str
    url: str | None = None
    method: str = "POST"
    # <Parameter name value> children: the Voice SDK hands them to the browser as the call's customParameters.
    parameters: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DialQueue:
    name: str
    url: str | None = None
    method: str = "POST"
    reservation_sid: str | None = None


DialTarget = DialNumber | DialClient | DialQueue


@dataclass(frozen=True)
class Dial:
    targets: tuple[DialTarget, ...]
    action: str | None = None
    method: str = "POST"
    timeout: float = 30.0
    caller_id: str | None = None


@dataclass(frozen=True)
class Message:
    body: str
    to: str | None = None
    from_: str | None = None


Verb = Say | Play | Pause | Gather | Redirect | Hangup | Reject | Enqueue | Leave | Dial | Message


def spoken_text(element: ElementTree.Element) -> str:
    """Return the words of a Say, including text inside SSML children such as <prosody> or <emphasis>."""
    return " ".join("".join(element.itertext()).split())


def _number(value: str | None, default: float, attribute: str) -> float:
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError as error:
        raise TwimlError(f"{attribute}={value!r} is not a number") from error


def _method(element: ElementTree.Element, attribute: str = "method") -> str:
    method = (element.get(attribute) or "POST").upper()
    if method not in {"GET", "POST"}:
        raise TwimlError(f"{attribute}={method!r} must be GET or POST")
    return method


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _say(element: ElementTree.Element) -> Say:
    return Say(
        text=spoken_text(element),
        language=element.get("language", "en-US"),
        voice=element.get("voice", ""),
        loop=int(_number(element.get("loop"), 1, "loop")),
    )


def _play(element: ElementTree.Element) -> Play:
    return Play(
        url=(element.text or "").strip(),
        loop=int(_number(element.get("loop"), 1, "loop")),
        digits=element.get("digits", ""),
    )


def _pause(element: ElementTree.Element) -> Pause:
    return Pause(length=_number(element.get("length"), 1.0, "length"))


_PROMPT_PARSERS = {"Say": _say, "Play": _play, "Pause": _pause}


def _gather(element: ElementTree.Element) -> Gather:
    prompts = []
    for child in element:
        parser = _PROMPT_PARSERS.get(child.tag)
        if parser is None:
            raise TwimlError(f"<{child.tag}> cannot be nested in <Gather>")
        prompts.append(parser(child))
    kinds = frozenset((element.get("input") or "dtmf").split())
    if not kinds or not kinds <= {"dtmf", "speech"}:
        raise TwimlError(f"Gather input={element.get('input')!r} is not dtmf, speech or 'dtmf speech'")
    num_digits = element.get("numDigits")
    return Gather(
        prompts=tuple(prompts),
        input=kinds,
        timeout=_number(element.get("timeout"), 5.0, "timeout"),
        num_digits=int(num_digits) if num_digits else None,
        finish_on_key=element.get("finishOnKey", "#"),
        action=element.get("action"),
        method=_method(element),
        action_on_empty_result=_true(element.get("actionOnEmptyResult")),
        speech_timeout=element.get("speechTimeout", ""),
        hints=element.get("hints", ""),
        language=element.get("language", "en-US"),
    )


def _dial(element: ElementTree.Element) -> Dial:
    targets: list[DialTarget] = []
    for child in element:
        text = (child.text or "").strip()
        if child.tag == "Number":
            targets.append(DialNumber(text, child.get("url"), _method(child)))
        elif child.tag == "Client":
            identity = child.find("Identity")
            name = (identity.text or "").strip() if identity is not None else text
            parameters = tuple(
                (parameter.get("name", ""), parameter.get("value", ""))
                for parameter in child.iter("Parameter")
            )
            targets.append(DialClient(name, child.get("url"), _method(child), parameters))
        elif child.tag == "Queue":
            targets.append(DialQueue(text, child.get("url"), _method(child), child.get("reservationSid")))
        else:
            raise TwimlError(f"<Dial><{child.tag}> is not simulated")
    bare_number = (element.text or "").strip()
    if bare_number:
        targets.insert(0, DialNumber(bare_number))
    if not targets:
        raise TwimlError("<Dial> has nothing to dial")
    return Dial(
        targets=tuple(targets),
        action=element.get("action"),
        method=_method(element),
        timeout=_number(element.get("timeout"), 30.0, "timeout"),
        caller_id=element.get("callerId"),
    )


def _verb(element: ElementTree.Element) -> Verb:
    tag = element.tag
    if tag in _PROMPT_PARSERS:
        return _PROMPT_PARSERS[tag](element)
    if tag == "Gather":
        return _gather(element)
    if tag == "Redirect":
        return Redirect((element.text or "").strip(), _method(element))
    if tag == "Hangup":
        return Hangup()
    if tag == "Reject":
        return Reject(element.get("reason", "rejected"))
    if tag == "Enqueue":
        return Enqueue(
            queue_name=(element.text or "").strip(),
            action=element.get("action"),
            method=_method(element),
            wait_url=element.get("waitUrl"),
            wait_url_method=_method(element, "waitUrlMethod"),
        )
    if tag == "Leave":
        return Leave()
    if tag == "Dial":
        return _dial(element)
    if tag in {"Sms", "Message"}:
        return Message(
            body=(element.text or "").strip()
            if element.find("Body") is None
            else spoken_text(element.find("Body")),  # type: ignore[arg-type]
            to=element.get("to"),
            from_=element.get("from"),
        )
    raise TwimlError(f"<{tag}> is not a verb the simulator follows")


def parse_twiml(body: str | bytes) -> tuple[Verb, ...]:
    """Parse a TwiML <Response> into verbs; raise TwimlError where Twilio would report 12100/12200."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as error:
        raise TwimlError(f"document parse failure: {error}") from error
    if root.tag != "Response":
        raise TwimlError(f"root element is <{root.tag}>, not <Response>")
    return tuple(_verb(element) for element in root)
