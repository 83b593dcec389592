"""The one decorator every Twilio-facing route wears: signature check, latency metric, and a safe answer.

A Twilio webhook never gets a 500: whatever goes wrong inside a voice route, the caller hears a short apology
and is offered a callback or an adviser, and the error is logged with the CallSid. The apology fits where it is
heard: a caller on hold gets only the verbs Twilio runs in a waitUrl, an adviser's leg hangs up so the caller
keeps their place. A webhook for a call that has ended gets <Hangup/> and changes nothing.
"""

from __future__ import annotations

import functools
import re
import time
import unicodedata
from collections.abc import Callable
from typing import Any

from flask import Response, abort, request, url_for
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.datastructures import ImmutableMultiDict

from ivr.calls import CallAlreadyEnded
from runtime.logging import get_logger
from runtime.metrics import WEBHOOK_ERRORS, WEBHOOK_LATENCY
from runtime.web import services

log = get_logger(__name__)

# Every Twilio SID is two capital letters and 32 hex digits (CallSid CA..., MessageSid SM... or MM...).
TWILIO_SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
# Longer than any field Twilio sends (a SpeechResult is a few hundred characters at most): kept, but cut here.
MAX_FIELD_CHARS = 4000
_KEPT_CONTROLS = frozenset("\t\n")

# Where an error leaves a caller: Twilio's queue (hold goes on even while our app fails) with our waitUrl, so
# routing records them the moment it can.
SAFE_QUEUE_NAME = "general"
SAFE_QUEUE_REASON = "fallback:error"
SAFE_HOLD_PAUSE_SECONDS = 20
ENGLISH = {"language": "en-GB", "voice": "Polly.Amy"}


def public_request_url() -> str:
    """The exact URL Twilio called: behind a proxy that is PUBLIC_BASE_URL + path + query, not what Flask sees."""
    base = services().settings.public_base_url
    if not base:
        return request.url
    query = request.query_string.decode()
    return base.rstrip("/") + request.path + (f"?{query}" if query else "")


def signature_is_valid() -> bool:
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return False
    validator = RequestValidator(services().settings.twilio_auth_token)
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    params = request.form if request.method == "POST" else {}
    return bool(validator.validate(public_request_url(), params, signature, algorithm=algorithm))


def _clean(value: str) -> str:
    """Drop control characters (NUL above all, which PostgreSQL refuses in text) and cut to MAX_FIELD_CHARS."""
    if value.isprintable() and len(value) <= MAX_FIELD_CHARS:
        return value
    kept = (c for c in value if c in _KEPT_CONTROLS or unicodedata.category(c) != "Cc")
    return "".join(kept)[:MAX_FIELD_CHARS]


def clean_form() -> None:
    """Replace the request's form by a cleaned copy, once the signature has been checked over the original.

    Callers' speech and keys reach Twilio's fields, and from there our database: done here, once, no route can
    forget it.
    """
    request.form = ImmutableMultiDict(  # type: ignore[misc]
        [(name, _clean(value)) for name, value in request.form.items(multi=True)]
    )


def twiml(response: VoiceResponse) -> Response:
    """Render a VoiceResponse as the text/xml Twilio expects."""
    return twiml_text(str(response))


def twiml_text(document: str) -> Response:
    """Answer with TwiML built earlier by VoiceResponse (e.g. a stored reply for a retried webhook)."""
    return Response(document, content_type="text/xml; charset=utf-8")


def safe_queue(response: VoiceResponse) -> None:
    """Queue the caller where routing sees them: the general queue with our waitUrl, whose first hold round
    records their place (backdated by Twilio's QueueTime) so an adviser is matched to them."""
    response.enqueue(
        SAFE_QUEUE_NAME,
        wait_url=url_for("queue.wait", topic=SAFE_QUEUE_NAME, language="en-GB", reason=SAFE_QUEUE_REASON),
        action=url_for("queue.result"),
    )


def safe_twiml() -> VoiceResponse:
    """Apology + a way to a person, needing nothing from our database or Redis to be built."""
    response = VoiceResponse()
    response.say("Sorry, something went wrong on our side.", **ENGLISH)
    gather = response.gather(
        num_digits=1,
        timeout=6,
        action=url_for("voice.safe_choice"),
        action_on_empty_result=False,
    )
    gather.say("To ask for a call back, press 1. Or stay on the line for an adviser.", **ENGLISH)
    safe_queue(response)
    return response


def safe_hold_twiml() -> VoiceResponse:
    """The apology for a caller on hold (a waitUrl, or a Gather inside one): only the verbs Twilio runs there
    (Say, Play, Pause, Gather, Redirect, Leave, Hangup). They stay in Twilio's queue; the next round tries again."""
    response = VoiceResponse()
    gather = response.gather(
        num_digits=1, timeout=5, action=url_for("voice.safe_hold_choice"), action_on_empty_result=False
    )
    gather.say(
        "Sorry, something went wrong on our side. Please keep holding for an adviser. "
        "To ask for a call back instead, press 1.",
        **ENGLISH,
    )
    response.pause(length=SAFE_HOLD_PAUSE_SECONDS)
    return response


def safe_adviser_twiml() -> VoiceResponse:
    """The apology for an adviser's leg (whisper, accept): the adviser hangs up and the caller keeps their place,
    as after a declined offer."""
    response = VoiceResponse()
    response.say("Sorry, this call could not be connected. The caller keeps their place.", **ENGLISH)
    response.hangup()
    return response


def ended_twiml() -> VoiceResponse:
    """The only answer for a call that has ended: nothing is done, whatever the webhook asked."""
    response = VoiceResponse()
    response.hangup()
    return response


def guarded_webhook(
    safe_reply: Callable[[], Response], sid_field: str = "CallSid", log_key: str = "call_sid"
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Build a guard for Twilio-facing views: 403 unless signed; on any error log (with the sid) and answer
    `safe_reply()` instead of a 500; latency and errors counted per route."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            route = request.endpoint or "unknown"
            started = time.perf_counter()
            try:
                if not signature_is_valid():
                    WEBHOOK_ERRORS.labels(route=route, kind="bad_signature").inc()
                    log.warning(
                        "webhook.rejected_signature", route=route, **{log_key: request.form.get(sid_field)}
                    )
                    abort(403)
                if not TWILIO_SID.fullmatch(request.form.get(sid_field, "")):
                    # Signed, yet not shaped like Twilio's: nothing is looked up or stored under it.
                    WEBHOOK_ERRORS.labels(route=route, kind="malformed_sid").inc()
                    log.warning("webhook.malformed_sid", route=route)
                    return safe_reply()
                clean_form()
                try:
                    return view(*args, **kwargs)
                except CallAlreadyEnded:
                    # A replayed or late webhook for a call Twilio told us has ended: an idempotent answer.
                    WEBHOOK_ERRORS.labels(route=route, kind="call_ended").inc()
                    log.info(
                        "webhook.call_already_ended", route=route, **{log_key: request.form.get(sid_field)}
                    )
                    return twiml(ended_twiml())
                except Exception:
                    WEBHOOK_ERRORS.labels(route=route, kind="exception").inc()
                    log.exception("webhook.failed", route=route, **{log_key: request.form.get(sid_field)})
                    return safe_reply()
            finally:
                WEBHOOK_LATENCY.labels(route=route).observe(time.perf_counter() - started)

        return guarded

    return decorate


# Voice: the caller hears a short apology and is offered a callback or an adviser.
twilio_webhook = guarded_webhook(lambda: twiml(safe_twiml()))
# Voice, while on hold: the same offer in the verbs a waitUrl may answer with.
twilio_hold_webhook = guarded_webhook(lambda: twiml(safe_hold_twiml()))
# Voice, the adviser's leg of an offer.
twilio_adviser_webhook = guarded_webhook(lambda: twiml(safe_adviser_twiml()))
