"""Settings read once from the environment, with documented defaults.

Only the entry points (`app.create_app`, the worker's `main()`, the dev server, gunicorn.conf.py) read the
environment; everything else receives a `Settings`.
Booleans and integers are parsed strictly so a typo in a deployment fails loudly, naming the variable.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_URL = f"sqlite:///{REPO_ROOT / 'instance' / 'contact_centre.db'}"
TWILIO_DEFAULT_API_BASE_URL = "https://api.twilio.com"
# Twilio's documented test credentials shape; used only by the embedded default and tests.
DEMO_ACCOUNT_SID = "AC" + "0" * 32
DEMO_AUTH_TOKEN = "demo-auth-token-not-secret"
# The shape of an API key (what signs the desk's softphone tokens); the demo one signs tokens nobody checks.
DEMO_API_KEY_SID = "SK" + "0" * 32
DEMO_API_KEY_SECRET = "demoapikeysecretnotsecret0000000"
API_KEY_SID = re.compile(r"SK[0-9a-fA-F]{32}")
API_KEY_SECRET = re.compile(r"[0-9A-Za-z]{32}")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name} must be a boolean (true/false/1/0), got {raw!r}")


def _parse_int(name: str, raw: str, minimum: int = 0) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Every setting of the service. See the README's configuration table for each one."""

    database_url: str = DEFAULT_SQLITE_URL
    # None means "start the embedded Redis" (local default only; production must set REDIS_URL).
    redis_url: str | None = None
    twilio_account_sid: str = DEMO_ACCOUNT_SID
    twilio_auth_token: str = DEMO_AUTH_TOKEN
    twilio_api_base_url: str = TWILIO_DEFAULT_API_BASE_URL
    # An API key of the account: signs the access tokens the desk's softphone (Twilio Voice JS SDK) registers with.
    twilio_api_key_sid: str = DEMO_API_KEY_SID
    twilio_api_key_secret: str = DEMO_API_KEY_SECRET
    # The number residents dial; used as caller ID for callbacks and SMS.
    twilio_phone_number: str = "+441484221000"
    public_base_url: str | None = None
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    simulator_enabled: bool = False
    log_level: str = "INFO"
    log_json: bool = False
    # Personal data (caller numbers, references) is redacted from calls older than this.
    call_data_retention_days: int = 90
    default_region: str = "GB"
    rq_queue_name: str = "contact-centre"
    # Routing: the hub tried first for a caller no adviser has helped before; how long an adviser's phone rings
    # before the offer moves on; past this wait or queue position, callers are offered a callback each round.
    default_home_library: str = "Huddersfield"
    adviser_ring_seconds: int = 20
    # After a call the adviser is in wrap-up (notes, follow-up) this long, then available again by themselves.
    adviser_wrap_up_seconds: int = 60
    queue_callback_offer_after_seconds: int = 600
    queue_max_position: int = 25
    # Callbacks: dials per callback before the final SMS; how often the reconciler re-checks the database;
    # how long a claimed dial may go without any word from Twilio before the reconciler asks Twilio about it.
    callback_max_attempts: int = 3
    callback_reconcile_seconds: int = 30
    callback_stale_claim_seconds: int = 120
    # Where a web process keeps "call me back" requests made while both the database and Redis were away, until
    # the reconciler moves them into the database (a worker must run on the same host, or share this folder).
    callback_spool_dir: str = str(REPO_ROOT / "instance" / "callback-spool")
    # Console sign-in: wrong passwords allowed per account and per client address in each window; sign-ins last
    # at most this many hours; requests per minute one signed-in user may make to the JSON API.
    login_attempts_per_account: int = 5
    login_attempts_per_address: int = 20
    login_throttle_window_seconds: int = 60
    console_session_hours: int = 12
    api_requests_per_minute: int = 600
    # Service level (wallboard and reports): answered within this many seconds of joining the queue; callers who
    # hang up sooner than the short-abandon limit are counted apart and left out of service level and abandonment.
    service_level_seconds: int = 60
    short_abandon_seconds: int = 5
    # The wallboard's colours (always with words): the longest wait turns amber, then red, at these seconds;
    # service level is "on target" at this percentage or more; a callback this many seconds late is overdue.
    wallboard_wait_amber_seconds: int = 120
    wallboard_wait_red_seconds: int = 300
    wallboard_service_level_target: int = 80
    wallboard_callback_grace_seconds: int = 300
    # How many proxies in front of the app to believe about the client's address and scheme (X-Forwarded-For,
    # X-Forwarded-Proto). 0: none, so a client cannot pick its own address for the sign-in throttle.
    trusted_proxy_count: int = 0
    # /metrics needs "Authorization: Bearer <token>" when set; unset, it is served only in simulator mode.
    metrics_token: str | None = None
    # Fail fast instead of holding a webhook toward Twilio's 15 s limit: connecting (or waiting for a pooled
    # connection) and any one statement are bounded. 0 turns the statement timeout off.
    database_connect_timeout_seconds: int = 3
    database_statement_timeout_ms: int = 5000
    testing: bool = False

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


_ENV_NAMES: dict[str, str] = {
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "twilio_account_sid": "TWILIO_ACCOUNT_SID",
    "twilio_auth_token": "TWILIO_AUTH_TOKEN",
    "twilio_api_base_url": "TWILIO_API_BASE_URL",
    "twilio_api_key_sid": "TWILIO_API_KEY_SID",
    "twilio_api_key_secret": "TWILIO_API_KEY_SECRET",
    "twilio_phone_number": "TWILIO_PHONE_NUMBER",
    "public_base_url": "PUBLIC_BASE_URL",
    "secret_key": "SECRET_KEY",
    "simulator_enabled": "SIMULATOR_ENABLED",
    "log_level": "LOG_LEVEL",
    "log_json": "LOG_JSON",
    "call_data_retention_days": "CALL_DATA_RETENTION_DAYS",
    "default_region": "DEFAULT_REGION",
    "rq_queue_name": "RQ_QUEUE_NAME",
    "default_home_library": "DEFAULT_HOME_LIBRARY",
    "adviser_ring_seconds": "ADVISER_RING_SECONDS",
    "adviser_wrap_up_seconds": "ADVISER_WRAP_UP_SECONDS",
    "queue_callback_offer_after_seconds": "QUEUE_CALLBACK_OFFER_AFTER_SECONDS",
    "queue_max_position": "QUEUE_MAX_POSITION",
    "callback_max_attempts": "CALLBACK_MAX_ATTEMPTS",
    "callback_reconcile_seconds": "CALLBACK_RECONCILE_SECONDS",
    "callback_stale_claim_seconds": "CALLBACK_STALE_CLAIM_SECONDS",
    "callback_spool_dir": "CALLBACK_SPOOL_DIR",
    "login_attempts_per_account": "LOGIN_ATTEMPTS_PER_ACCOUNT",
    "login_attempts_per_address": "LOGIN_ATTEMPTS_PER_ADDRESS",
    "login_throttle_window_seconds": "LOGIN_THROTTLE_WINDOW_SECONDS",
    "console_session_hours": "CONSOLE_SESSION_HOURS",
    "api_requests_per_minute": "API_REQUESTS_PER_MINUTE",
    "service_level_seconds": "SERVICE_LEVEL_SECONDS",
    "short_abandon_seconds": "SHORT_ABANDON_SECONDS",
    "wallboard_wait_amber_seconds": "WALLBOARD_WAIT_AMBER_SECONDS",
    "wallboard_wait_red_seconds": "WALLBOARD_WAIT_RED_SECONDS",
    "wallboard_service_level_target": "WALLBOARD_SERVICE_LEVEL_TARGET",
    "wallboard_callback_grace_seconds": "WALLBOARD_CALLBACK_GRACE_SECONDS",
    "trusted_proxy_count": "TRUSTED_PROXY_COUNT",
    "metrics_token": "METRICS_TOKEN",
    "database_connect_timeout_seconds": "DATABASE_CONNECT_TIMEOUT_SECONDS",
    "database_statement_timeout_ms": "DATABASE_STATEMENT_TIMEOUT_MS",
}
_BOOLEANS = {"simulator_enabled", "log_json"}
_INTEGERS = {
    "call_data_retention_days",
    "adviser_ring_seconds",
    "adviser_wrap_up_seconds",
    "queue_callback_offer_after_seconds",
    "queue_max_position",
    "callback_max_attempts",
    "callback_reconcile_seconds",
    "callback_stale_claim_seconds",
    "login_attempts_per_account",
    "login_attempts_per_address",
    "login_throttle_window_seconds",
    "console_session_hours",
    "api_requests_per_minute",
    "service_level_seconds",
    "short_abandon_seconds",
    "wallboard_wait_amber_seconds",
    "wallboard_wait_red_seconds",
    "wallboard_service_level_target",
    "wallboard_callback_grace_seconds",
    "trusted_proxy_count",
    "database_connect_timeout_seconds",
    "database_statement_timeout_ms",
}
# Settings where 0 would mean "never" or "nothing allowed", which no deployment wants.
_AT_LEAST_ONE = {
    "login_attempts_per_account",
    "login_attempts_per_address",
    "login_throttle_window_seconds",
    "console_session_hours",
    "api_requests_per_minute",
    "service_level_seconds",
    "wallboard_wait_amber_seconds",
    "wallboard_wait_red_seconds",
    "wallboard_service_level_target",
    "database_connect_timeout_seconds",
}
# A guessable bearer token would put the metrics back in the open.
METRICS_TOKEN_MIN_LENGTH = 16
# Outside the simulator these must come from the environment: a default secret would be a real hole.
_REQUIRED_IN_PRODUCTION = (
    "twilio_account_sid",
    "twilio_auth_token",
    "secret_key",
    "redis_url",
)
# The web app also signs the desk's softphone tokens; the worker and the command line never do (and
# `flask twilio setup` is how a deployment gets its first API key, so it must run without one).
_REQUIRED_FOR_THE_WEB_APP = ("twilio_api_key_sid", "twilio_api_key_secret")
_SHAPES = {
    "twilio_api_key_sid": (API_KEY_SID, "SK followed by 32 hexadecimal characters"),
    "twilio_api_key_secret": (API_KEY_SECRET, "32 letters and digits, as Twilio showed it once"),
}


def load_settings(environ: Mapping[str, str] | None = None, web: bool = False) -> Settings:
    """Build Settings from environment variables; unset or empty variables keep their defaults.

    `web`: for the web app (gunicorn, `create_app()` outside the command line), which also needs the API key.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for attribute, env_name in _ENV_NAMES.items():
        raw = environ.get(env_name)
        if raw is None or raw == "":
            continue
        if attribute in _BOOLEANS:
            values[attribute] = _parse_bool(env_name, raw)
        elif attribute in _INTEGERS:
            values[attribute] = _parse_int(env_name, raw, minimum=1 if attribute in _AT_LEAST_ONE else 0)
        else:
            values[attribute] = raw.strip()
    token = values.get("metrics_token")
    if isinstance(token, str) and len(token) < METRICS_TOKEN_MIN_LENGTH:
        raise SettingsError(f"METRICS_TOKEN must be at least {METRICS_TOKEN_MIN_LENGTH} characters long")
    for attribute, (shape, words) in _SHAPES.items():
        given = values.get(attribute)
        if isinstance(given, str) and not shape.fullmatch(given):
            # The value may be a secret: say what is wrong with it, never what it is.
            raise SettingsError(f"{_ENV_NAMES[attribute]} must be {words}")
    settings = Settings(**values)  # type: ignore[arg-type]
    if settings.wallboard_service_level_target > 100:
        raise SettingsError("WALLBOARD_SERVICE_LEVEL_TARGET is a percentage: at most 100")
    if settings.wallboard_wait_red_seconds < settings.wallboard_wait_amber_seconds:
        raise SettingsError("WALLBOARD_WAIT_RED_SECONDS must be at least WALLBOARD_WAIT_AMBER_SECONDS")
    if not settings.simulator_enabled:
        required = _REQUIRED_IN_PRODUCTION + (_REQUIRED_FOR_THE_WEB_APP if web else ())
        missing = [_ENV_NAMES[a] for a in required if a not in values]
        if missing:
            key_hint = (
                "; `flask --app app twilio setup` creates an API key"
                if set(missing) & {_ENV_NAMES[a] for a in _REQUIRED_FOR_THE_WEB_APP}
                else ""
            )
            raise SettingsError(
                "outside simulator mode these must be set: "
                + ", ".join(missing)
                + " (for the local embedded default use `python3 dev.py serve` or `python3 dev.py flask …`,"
                f" or set SIMULATOR_ENABLED=true{key_hint})"
            )
    return settings


def load_settings_or_exit(environ: Mapping[str, str] | None = None, web: bool = False) -> Settings:
    """load_settings for a process's entry point: a missing or malformed setting ends it with one line.

    The message already says which variable and what to do; a traceback would only bury it.
    """
    try:
        return load_settings(environ, web=web)
    except SettingsError as error:
        raise SystemExit(f"contact centre: {error}") from None


def env_documentation() -> dict[str, str]:
    """Map each environment variable to its attribute; the README table and tests use it."""
    return {v: k for k, v in _ENV_NAMES.items()}
