"""Structured logs (structlog) that never carry a phone number or reference in clear.

Known personal fields are replaced by a keyed hash (so one caller's events can still be correlated), and any
free-text value is scrubbed of digit runs that look like phone numbers or account references.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

PERSONAL_FIELDS = frozenset(
    {
        "caller_number",
        "number",
        "phone_number",
        "from_number",
        "to_number",
        "from",
        "to",
        "From",
        "To",
        "Caller",
        "Called",
        "reference",
        "digits",
        "Digits",
        "speech",
        "SpeechResult",
    }
)
# 6+ digits standing alone (not inside a Twilio SID like CA9f3...), optionally with + and spaces/dashes.
_DIGIT_RUN = re.compile(r"(?<![\w+])\+?\d(?:[\s-]?\d){5,}(?!\w)")
# Twilio SIDs identify calls, not people, and are what an engineer needs to trace a failure.
_NOT_PERSONAL = frozenset({"call_sid", "CallSid", "queue_sid", "job_id", "timestamp"})


class PersonalDataRedactor:
    """A structlog processor: hash known personal fields and scrub digit runs from every string."""

    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def fingerprint(self, value: str) -> str:
        digest = hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()[:12]
        return f"redacted:{digest}"

    def __call__(self, _logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key, value in list(event.items()):
            if value is None:
                continue
            if key in PERSONAL_FIELDS:
                event[key] = self.fingerprint(str(value))
            elif isinstance(value, str) and key not in _NOT_PERSONAL:
                event[key] = _DIGIT_RUN.sub("[redacted-number]", value)
        return event


def configure_logging(level: str, as_json: bool, secret: str) -> None:
    """Configure structlog and route stdlib logging (Flask, RQ, Alembic) through the same redaction."""
    redactor = PersonalDataRedactor(secret)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.format_exc_info,
        redactor,
        # After the redactor: timestamps are digit runs too, and are not personal data.
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
