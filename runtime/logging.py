"""Structured logs (structlog) that never carry a phone number or reference in clear.

Known personal fields are replaced by a keyed hash (so one caller's events can still be correlated), and any
free-text value has the phone numbers and council references in it replaced by what they are
(runtime.personal_data), leaving timestamps, job ids, SIDs and counts readable.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from runtime.personal_data import scrub

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
# Twilio SIDs identify calls, not people, and are what an engineer needs to trace a failure.
_NOT_PERSONAL = frozenset({"call_sid", "CallSid", "queue_sid", "job_id", "timestamp"})


class PersonalDataRedactor:
    """A structlog processor: hash known personal fields, scrub numbers and references from every string."""

    def __init__(self, secret: str, region: str = "GB") -> None:
        self._key = secret.encode()
        self._region = region

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
                event[key] = scrub(value, self._region)
        return event


def configure_logging(level: str, as_json: bool, secret: str, region: str = "GB") -> None:
    """Configure structlog and route stdlib logging (Flask, RQ, Alembic) through the same redaction.

    `region` is where numbers written without a country code are read as from (DEFAULT_REGION).
    """
    redactor = PersonalDataRedactor(secret, region)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.format_exc_info,
        redactor,
        # After the redactor: a timestamp holds nothing personal, so it need not be scanned.
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
