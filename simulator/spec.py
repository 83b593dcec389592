"""Validate REST requests against Twilio's own OpenAPI description of the 2010-04-01 API.

The fake REST API and contract tests of the app's gateway both use it, so a request our code sends is
checked against what api.twilio.com documents, not against what our fake happens to accept.
The spec (1.8 MB, MIT-licensed by Twilio: see twilio_spec/LICENSE) ships inside the project, so a clone placed
anywhere works; TWILIO_SPEC_PATH points at another copy (a newer spec) instead. It is loaded once, on first use,
and shared between threads.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_PATH_VARIABLE = "TWILIO_SPEC_PATH"
TWILIO_API_HOST = "https://api.twilio.com"  # the spec's server URL; our fake's paths are checked as if here
API_PATH_START = "/2010-04-01/"

_lock = threading.Lock()
_cached: dict[Path, OpenAPI] = {}


class TwilioSpecViolation(ValueError):
    """A request Twilio's OpenAPI description says api.twilio.com would refuse."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


SHIPPED_SPEC = Path(__file__).resolve().parent / "twilio_spec" / "twilio_api_v2010.json"


class TwilioSpecMissing(RuntimeError):
    """Twilio's spec cannot be read: every fake REST request would fail, so simulator mode refuses to start."""


def spec_path() -> Path:
    """Where Twilio's spec lives: $TWILIO_SPEC_PATH if set, else the copy shipped in simulator/twilio_spec/."""
    configured = os.environ.get(SPEC_PATH_VARIABLE)
    return Path(configured) if configured else SHIPPED_SPEC


def check_spec_readable() -> Path:
    """Raise TwilioSpecMissing, naming the path and the variable, unless the spec file can be read."""
    path = spec_path()
    if not path.is_file():
        if os.environ.get(SPEC_PATH_VARIABLE):
            hint = f"{SPEC_PATH_VARIABLE}={path} names no file; unset it to use the copy shipped with the project"
        else:
            hint = f"the shipped copy {path} is missing; restore it from git"
        raise TwilioSpecMissing(f"Twilio's OpenAPI spec cannot be read: {hint}")
    return path


def twilio_openapi() -> OpenAPI:
    """Load and cache the spec; it is Twilio's and trusted, so its own validation is skipped (saves ~3 s)."""
    path = spec_path()
    with _lock:
        if path not in _cached:
            # json, not OpenAPI.from_path: the YAML loader from_path uses rejects escapes in this file.
            document = json.loads(path.read_text(encoding="utf-8"))
            config = Config(
                spec_validator_cls=None,
                extra_format_validators={"phone-number": is_twilio_address},
                extra_format_unmarshallers={"phone-number": str},
            )
            _cached[path] = OpenAPI.from_dict(document, config=config)
        return _cached[path]


# Twilio's spec gives filters and To/From fields a "phone-number" format it does not define. What its API takes
# there: an E.164 number, a partial one with * wildcards (the IncomingPhoneNumbers filter), or an address such
# as client:alice, sip:..., whatsapp:+44.... Anything else (words, spaces, an empty string) is refused.
_TWILIO_ADDRESS = re.compile(r"\+?[0-9*]{1,16}|[a-z]+:\S+")


def is_twilio_address(value: object) -> bool:
    return isinstance(value, str) and _TWILIO_ADDRESS.fullmatch(value) is not None


class _TwilioRequest:
    """A request as openapi-core's Request protocol wants it, re-homed onto api.twilio.com."""

    def __init__(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        form_body: bytes,
        headers: Mapping[str, str],
    ) -> None:
        self.host_url = TWILIO_API_HOST
        self.path = path
        self.method = method.lower()
        self.body = form_body
        self.content_type = "application/x-www-form-urlencoded"
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(query),
            header=Headers(dict(headers)),
            cookie=ImmutableMultiDict(),
        )


def _api_path(url: str) -> tuple[str, list[tuple[str, str]]]:
    parts = urlsplit(url)
    index = parts.path.find(API_PATH_START)
    if index < 0:
        raise TwilioSpecViolation([f"{parts.path} is not under {API_PATH_START}"])
    return parts.path[index:], parse_qsl(parts.query, keep_blank_values=True)


def _describe(error: Exception) -> str:
    cause = error.__cause__
    details = getattr(cause, "schema_errors", None)
    if details:
        return "; ".join(getattr(detail, "message", str(detail)) for detail in details)
    return str(cause or error) or type(error).__name__


def twilio_request_errors(
    method: str,
    url: str,
    form: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> list[str]:
    """Return why Twilio's spec rejects this request (empty when it conforms).

    `url` may be a real api.twilio.com URL or any URL whose path contains /2010-04-01/ (e.g. our fake);
    `form` values may be strings or lists (repeated keys such as StatusCallbackEvent).
    """
    try:
        path, query = _api_path(url)
    except TwilioSpecViolation as violation:
        return violation.errors
    body = urlencode(dict(form or {}), doseq=True).encode() if method.upper() == "POST" else b""
    request = _TwilioRequest(method, path, query, body, headers or {})
    result = twilio_openapi().unmarshal_request(request)
    return [_describe(error) for error in result.errors]


def validate_twilio_request(
    method: str,
    url: str,
    form: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Raise TwilioSpecViolation if Twilio's spec rejects this request; contract tests call this."""
    errors = twilio_request_errors(method, url, form, headers)
    if errors:
        raise TwilioSpecViolation(errors)
