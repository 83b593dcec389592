"""Sign-in throttling and the JSON API's request limit: Flask-Limiter, counting in the app's Redis.

Redis, so the counts hold across gunicorn workers and web processes. If Redis stops answering, each process
goes on counting in its own memory (Flask-Limiter's in-memory fallback) rather than letting every guess through,
and a sign-in never fails because of the limiter.

Sign-in: only wrong passwords count (the 401 answers), against the account typed and against the client's
address; once either has LOGIN_ATTEMPTS_PER_… in the last LOGIN_THROTTLE_WINDOW_SECONDS, every sign-in for it
is refused with 429 and Retry-After — the right password too — until the window moves on. Testing and counting
are two steps, so a burst of simultaneous guesses can pass by as many as are in flight at once, no more.
The client's address is `request.remote_addr`: a proxy's X-Forwarded-For is believed only with
TRUSTED_PROXY_COUNT (app.py), so nobody escapes the per-address limit by sending the header.
"""

from __future__ import annotations

import hashlib
import time

from flask import Flask, Response, jsonify, request
from flask_limiter import Limiter, RequestLimit
from flask_login import current_user

from console.auth import throttled_login_page
from runtime.logging import get_logger
from runtime.services import Services

log = get_logger(__name__)

# Redis keys of the limiter: LIMITS-style moving windows under this prefix.
THROTTLE_KEY_PREFIX = "contact-centre:throttle"
API_TOO_MANY = "Too many requests. Wait a moment, then try again."


def client_address() -> str:
    return request.remote_addr or "unknown"


def account_key() -> str:
    """The account being guessed at, as typed (case and spaces aside), hashed so any input makes a short key."""
    typed = request.form.get("username", "").strip().casefold()
    return "account:" + hashlib.sha256(typed.encode("utf-8", "replace")).hexdigest()


def address_key() -> str:
    return "address:" + client_address()


def api_caller_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else address_key()


def wrong_password(response: Response) -> bool:
    return response.status_code == 401


def retry_after_seconds(limit: RequestLimit) -> int:
    return max(1, int(limit.reset_at - time.time()))


def _login_refused(limit: RequestLimit) -> Response:
    # Which limit, never the key: the account typed and the address stay out of the logs.
    by = "account" if any(arg.startswith("account:") for arg in limit.request_args) else "address"
    log.warning("console.sign_in_throttled", by=by, retry_after=retry_after_seconds(limit))
    return throttled_login_page(retry_after_seconds(limit))


def _api_refused(limit: RequestLimit) -> Response:
    response = jsonify({"error": API_TOO_MANY})
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after_seconds(limit))
    return response


def init_app(app: Flask, app_services: Services) -> Limiter:
    """Attach a limiter of this app's own (its own Redis) to the sign-in view and the API blueprint.

    Call after the console's blueprints are registered: the sign-in view is wrapped in place, because a limiter
    declared at import would share one storage between every app built in the process.
    """
    settings = app_services.settings
    limiter = Limiter(
        key_func=client_address,
        storage_uri="redis://",  # only the scheme: the connections come from the app's own pool
        storage_options={
            "connection_pool": app_services.redis.connection_pool,
            "key_prefix": THROTTLE_KEY_PREFIX,
        },
        strategy="moving-window",
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )
    limiter.init_app(app)
    window = settings.login_throttle_window_seconds
    per_account = limiter.limit(
        f"{settings.login_attempts_per_account} per {window} seconds",
        key_func=account_key,
        methods=["POST"],
        deduct_when=wrong_password,
        on_breach=_login_refused,
        scope="sign-in",
    )
    per_address = limiter.limit(
        f"{settings.login_attempts_per_address} per {window} seconds",
        key_func=address_key,
        methods=["POST"],
        deduct_when=wrong_password,
        on_breach=_login_refused,
        scope="sign-in",
    )
    app.view_functions["console.login"] = per_account(per_address(app.view_functions["console.login"]))
    limiter.limit(
        f"{settings.api_requests_per_minute} per minute",
        key_func=api_caller_key,
        on_breach=_api_refused,
        scope="api",
    )(app.blueprints["api"])
    return limiter
