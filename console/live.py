"""One server-sent-events stream per signed-in page: small messages from Redis pub/sub, never database polling.

Whatever changes the live picture publishes one small message (the routing store's Lua scripts, and
routing.live.announce after a commit): the queue changed, an adviser's state changed, an offer rang, a wrap-up
was saved. A page's stream carries the messages of the floor and of its own adviser's desk; the page fetches the
fragments it shows when one arrives. Any web process can publish and every stream hears, because the messages go
through Redis, not process memory.

A stream ends by itself after STREAM_LIFETIME (the browser reconnects at once and is signed in again, so an
expired sign-in stops streaming), when the user signs out (a message on their sign-in's channel), and when Redis
goes away (the browser retries every RETRY_MS). Each open stream holds a thread: production serves /console/events
from a gunicorn of its own (GUNICORN_ROLE=live), so a hundred open desks never take a thread Twilio's webhooks need.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import redis
from flask import Blueprint, Response
from flask_login import current_user, login_required

from console.auth import session_channel
from routing.live import desk_channel, floor_channel
from runtime.logging import get_logger
from runtime.web import services

log = get_logger(__name__)
live_bp = Blueprint("live", __name__, url_prefix="/console")

STREAM_LIFETIME_SECONDS = 300
KEEP_ALIVE_SECONDS = 15
RETRY_MS = 3000
POLL_SECONDS = 1.0


def sse(event: str, data: object) -> str:
    """One server-sent event; `data` as one line of JSON."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@live_bp.get("/events")
@login_required
def events() -> Response:
    """This user's stream: the floor's messages, their desk's (advisers), and their own sign-out."""
    user = current_user._get_current_object()
    channels = [floor_channel(), session_channel(user.session_token)]
    if user.adviser_id is not None:
        channels.append(desk_channel(user.adviser_id))
    response = Response(
        stream(services().redis, channels, session_channel(user.session_token)),
        mimetype="text/event-stream",
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # a proxy (nginx) must pass each message on at once
    return response


def stream(
    client: redis.Redis,
    channels: list[str],
    ended_channel: str,
    lifetime: float = STREAM_LIFETIME_SECONDS,
) -> Iterator[str]:
    """Relay pub/sub messages as SSE until the lifetime is over, the sign-in ends or Redis goes away."""
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(*channels)
        yield f"retry: {RETRY_MS}\n\n"
        yield sse("hello", {"channels": len(channels)})
        deadline = last_sent = time.monotonic()
        deadline += lifetime
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=POLL_SECONDS)
            if message is None:
                if time.monotonic() - last_sent >= KEEP_ALIVE_SECONDS:
                    last_sent = time.monotonic()
                    yield ": keep-alive\n\n"
                continue
            channel = _text(message.get("channel"))
            if channel == ended_channel:
                yield sse("signed-out", {})
                return
            try:
                data = json.loads(_text(message.get("data")))
            except ValueError:
                continue
            last_sent = time.monotonic()
            yield sse(str(data.get("kind", "changed")), data)
    except (redis.RedisError, OSError, ValueError):
        # Redis went away, or the process is closing its connections (shutdown): the browser reconnects.
        log.warning("live.stream_lost_redis")
    finally:
        pubsub.close()


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")
