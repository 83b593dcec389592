"""Find residents' phone numbers and council references in free text, and hide them by what they are.

Log lines must never carry either, yet stay readable to an engineer: timestamps, job ids, Twilio SIDs,
durations, counts and process ids are left alone. Phone numbers are found by phonenumbers' matcher (any way a
UK or international number is commonly written); references by the shapes the shipped menu captures them in.
"""

from __future__ import annotations

import re

from phonenumbers import Leniency, PhoneNumberMatcher

PHONE_LABEL = "[redacted-phone]"
REFERENCE_LABEL = "[redacted-reference]"

# The references the shipped menu captures (ivr/flows/kirklees_default.json, the capture nodes' `pattern`):
# a council tax account is 8 digits, a housing benefit claim 6 to 10. Read back or typed in groups, so single
# spaces or dashes may separate the digits. A test keeps this in step with the flow's patterns.
_REFERENCE = re.compile(r"(?<![\w.])\d(?:[ -]?\d){5,9}(?![\w]|[.,]\d)")

# Kept as written, even where their digits look like a number or a reference.
_READABLE = re.compile(
    r"""
      \d{4}-\d{2}-\d{2}(?:[T\ ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?  # ISO 8601
    | \d{2}/[A-Z][a-z]{2}/\d{4}[:\ ]\d{2}:\d{2}:\d{2}      # an access log's [07/Dec/2026 10:00:00]
    | \d+\.\d+(?:\.\d+)*                                   # decimals (epoch seconds, durations), versions, IPs
    | \b(?:PID|pid)[\ =:]?\d+                              # process ids, as RQ and the worker log them
    | \b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b  # UUIDs
    | \b(?=[0-9a-f]*[a-f])[0-9a-f]{16,}\b                   # hex ids (RQ worker names), even digit-first
    | (?<![\w%-])[A-Za-z_][\w-]*                           # words and identifiers: CA… SIDs, callback-12-attempt-1
    """,
    re.VERBOSE,
)
# Cheap tests first: most log lines have no six digits close together and need no scanning at all; the
# matcher (hundreds of microseconds a line) runs only where nine digits stand as close as in a phone number.
_MAY_HOLD_A_NUMBER = re.compile(r"\d(?:\D{0,3}\d){5}")
_MAY_HOLD_A_PHONE_NUMBER = re.compile(r"(?:(?<!\w)|(?<=%2B))\d(?:[\s().-]{0,3}\d){8}")
_DIGIT = re.compile(r"\d")


def _written_as_a_phone_number(text: str, start: int, end: int) -> bool:
    """A matcher hit that is a number as people write one, not a count or a digit run inside something else.

    POSSIBLE leniency is needed to catch numbers that are not (yet) allocated, such as Ofcom's 07700 900xxx
    drama range, but it also hits any short digit run; so the hit must start like a phone number (+, 00, 0, or
    44 followed by a full national number) and stand apart from letters and digits around it.
    """
    raw = text[start:end]
    digits = "".join(_DIGIT.findall(raw))
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    glued_before = before.isalnum() and not raw.startswith("+") and text[max(0, start - 3) : start] != "%2B"
    if glued_before or after.isalnum():
        return False  # part of a word or an identifier ("%2B" is a URL-encoded "+")
    if raw.lstrip("(").startswith(("+", "0")):
        return len(digits) >= 9
    return digits.startswith("44") and len(digits) >= 12


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < span_end and span_start < end for span_start, span_end in spans)


def scrub(text: str, region: str = "GB") -> str:
    """`text` with every phone number and council reference replaced by a label saying which it was."""
    if not _MAY_HOLD_A_NUMBER.search(text):
        return text
    candidates: list[tuple[int, int, str]] = []
    if _MAY_HOLD_A_PHONE_NUMBER.search(text):
        for match in PhoneNumberMatcher(text, region, leniency=Leniency.POSSIBLE):
            if _written_as_a_phone_number(text, match.start, match.end):
                candidates.append((match.start, match.end, PHONE_LABEL))
    candidates += [(*match.span(), REFERENCE_LABEL) for match in _REFERENCE.finditer(text)]
    if not candidates:
        return text
    kept = [match.span() for match in _READABLE.finditer(text)]
    hidden: list[tuple[int, int, str]] = []
    for start, end, label in candidates:  # phone numbers first: a reference inside one is part of it
        if not _overlaps(start, end, kept):
            hidden.append((start, end, label))
            kept.append((start, end))
    pieces, position = [], 0
    for start, end, label in sorted(hidden):
        pieces += [text[position:start], label]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
