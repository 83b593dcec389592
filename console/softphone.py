"""The desk's softphone: a short-lived Twilio access token for the signed-in adviser's browser.

The Twilio Voice JS SDK registers the adviser's browser as their client identity with this token, so routing's
`<Dial><Client>` rings it. The token carries a VoiceGrant that allows incoming calls only: advisers never dial
out from the browser (a keep-your-place callback rings the adviser first and then the resident, from routing).
It lives ten minutes; the desk asks for a fresh one when the SDK says the old one will expire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Blueprint, jsonify, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from config import Settings
from models import Adviser
from runtime.web import db_session, services

softphone_bp = Blueprint("softphone", __name__, url_prefix="/console/softphone")

# Short, so a token copied out of a browser is soon worthless; the SDK refreshes it well before it runs out.
TOKEN_TTL_SECONDS = 600
NO_CACHE = {"Cache-Control": "no-store, max-age=0", "Pragma": "no-cache"}


@dataclass(frozen=True)
class SoftphoneToken:
    jwt: str
    identity: str
    expires_at: datetime


def softphone_token(settings: Settings, identity: str, now: datetime) -> SoftphoneToken:
    """Sign an access token letting the browser that holds it receive calls to `identity`, until now + TTL.

    twilio-python stamps `nbf`, not `iat`; both ends are given here from the injected clock, so the token's
    lifetime is exactly TOKEN_TTL_SECONDS (real time in production, where the clock is the system's).
    """
    starts = int(now.timestamp())
    token = AccessToken(
        settings.twilio_account_sid,
        settings.twilio_api_key_sid,
        settings.twilio_api_key_secret,
        identity=identity,
        nbf=starts,
        valid_until=starts + TOKEN_TTL_SECONDS,
    )
    token.add_grant(VoiceGrant(incoming_allow=True))
    expires_at = datetime.fromtimestamp(starts, UTC) + timedelta(seconds=TOKEN_TTL_SECONDS)
    return SoftphoneToken(token.to_jwt(), identity, expires_at)


def softphone_options(settings: Settings, identity: str) -> dict[str, str]:
    """What the desk page hands to softphone.js's createSoftphone(): the simulated phone in simulator mode (no
    Twilio account needed), else the Voice SDK with tokens from this blueprint. Call it inside a request."""
    return {
        "mode": "simulated" if settings.simulator_enabled else "twilio",
        "tokenUrl": url_for("softphone.token"),
        "identity": identity,
        "simulatorBase": "/simulator/api",
    }


@softphone_bp.get("/token")
def token() -> ResponseReturnValue:
    """`{"token", "identity", "expires_at"}` for the signed-in adviser; 401 signed out, 403 with no identity."""
    if not current_user.is_authenticated:
        return jsonify({"error": "Sign in first (POST /console/login)."}), 401, NO_CACHE
    identity = (
        db_session().scalar(select(Adviser.client_identity).where(Adviser.id == current_user.adviser_id))
        if current_user.adviser_id is not None
        else None
    )
    if not identity:
        message = "Only an adviser with a browser phone can answer calls here; your account has none."
        return jsonify({"error": message}), 403, NO_CACHE
    app_services = services()
    issued = softphone_token(app_services.settings, identity, app_services.clock.now())
    body = {"token": issued.jwt, "identity": issued.identity, "expires_at": issued.expires_at.isoformat()}
    return jsonify(body), 200, NO_CACHE
