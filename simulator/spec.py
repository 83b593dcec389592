"""Validate REST requests against Twilio's own OpenAPI description of the 2010-04-01 API.

The fake REST API and contract tests of the app's gateway both use it, so a request our code sends is
checked against what api.twilio.com documents, not against what our fake happens to accept.
The spec (1.8 MB) is loaded once, on first use, and shared between threads.
"""

from __future__ import annotations

import json
import os
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


def spec_path() -> Path:
    """Where Twilio's spec lives: $TWILIO_SPEC_PATH, else ../shared/twilio-spec next to the repository."""
    configured = os.environ.get(SPEC_PATH_VARIABLE)
    if configured:
        return Path(configured)
    repo_root = Path(__file__).resolve().parents[1]
    return repo_root.parent / "shared" / "twilio-spec" / "twilio_api_v2010.json"


def twilio_openapi() -> OpenAPI:
    """Load and cache the spec; it is Twilio's and trusted, so its own validation is skipped (saves ~3 s)."""
    path = spec_path()
    with _lock:
        if path not in _cached:
            # json, not OpenAPI.from_path: the YAML loader from_path uses rejects escapes in this file.
            document = json.loads(path.read_text(encoding="utf-8"))
            _cached[path] = OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))
        return _cached[path]


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
