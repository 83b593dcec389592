"""The desk softphone's token endpoint: a JWT Twilio's Voice SDK accepts, for advisers only, short-lived."""

from __future__ import annotations

from datetime import datetime

import jwt
import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import DEMO_ACCOUNT_SID, Settings
from console.softphone import TOKEN_TTL_SECONDS
from models import Adviser, User
from models.demo import client_identity_for
from tests.integration import test_console_api
from tests.integration.test_console_api import signed_in

council = test_console_api.council  # the demo council fixture, shared
API_KEY_SID = "SK" + "ab12" * 8
API_KEY_SECRET = "Kirklees0softphone0secret0123456"
TOKEN_URL = "/console/softphone/token"
NOT_TIME = {"verify_nbf": False, "verify_exp": False}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(twilio_api_key_sid=API_KEY_SID, twilio_api_key_secret=API_KEY_SECRET)


def test_an_adviser_gets_a_voice_token_for_their_own_identity_that_twilio_would_accept(
    app: Flask,
    council: dict[str, User],
    clock,
):
    response = signed_in(app, council["aisha"]).get(TOKEN_URL)

    assert response.status_code == 200
    body = response.get_json()
    assert body["identity"] == client_identity_for("Aisha Khan")
    header = jwt.get_unverified_header(body["token"])
    assert (header["typ"], header["cty"], header["alg"]) == ("JWT", "twilio-fpa;v=1", "HS256")
    # Verified with the API key's secret: a token signed with anything else would fail here.
    # The test clock stands in 2026: whether "now" is inside nbf..exp is Twilio's check, the lifetime is ours.
    claims = jwt.decode(body["token"], API_KEY_SECRET, algorithms=["HS256"], options=NOT_TIME)
    assert claims["iss"] == API_KEY_SID
    assert claims["sub"] == DEMO_ACCOUNT_SID
    assert claims["grants"]["identity"] == client_identity_for("Aisha Khan")
    assert claims["grants"]["voice"] == {"incoming": {"allow": True}}, "incoming only: no outgoing grant"
    # twilio-python stamps nbf (not iat): the token lives exactly the TTL from now, and that is short.
    assert claims["nbf"] == int(clock.now().timestamp())
    assert claims["exp"] - claims["nbf"] == TOKEN_TTL_SECONDS <= 15 * 60
    assert datetime.fromisoformat(body["expires_at"]).timestamp() == claims["exp"]
    assert claims["jti"].startswith(API_KEY_SID)


def test_a_token_signed_with_another_secret_does_not_verify(app: Flask, council: dict[str, User]):
    token = signed_in(app, council["tom"]).get(TOKEN_URL).get_json()["token"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-000000000000000000", algorithms=["HS256"], options=NOT_TIME)


def test_tokens_are_never_cached(app: Flask, council: dict[str, User]):
    for response in (signed_in(app, council["tom"]).get(TOKEN_URL), app.test_client().get(TOKEN_URL)):
        assert "no-store" in response.headers["Cache-Control"]
        assert response.headers["Pragma"] == "no-cache"


def test_signed_out_is_401_and_a_supervisor_or_admin_without_an_adviser_is_403(
    app: Flask,
    council: dict[str, User],
):
    signed_out = app.test_client().get(TOKEN_URL)
    assert signed_out.status_code == 401 and "token" not in signed_out.get_json()
    for username in ("supervisor", "admin"):
        refused = signed_in(app, council[username]).get(TOKEN_URL)
        assert refused.status_code == 403, username
        assert "token" not in refused.get_json() and refused.get_json()["error"]


def test_an_adviser_who_answers_only_on_a_phone_has_no_browser_identity_and_gets_no_token(
    app: Flask,
    council: dict[str, User],
    db: Session,
):
    with db.begin():
        adviser = db.scalars(select(Adviser).where(Adviser.name == "Tom Hirst")).one()
        adviser.answers_on, adviser.phone_number, adviser.client_identity = "phone", "+447700900456", None
    assert signed_in(app, council["tom"]).get(TOKEN_URL).status_code == 403


def test_the_desk_gets_the_simulated_phone_in_simulator_mode_and_the_voice_sdk_otherwise(
    app: Flask, settings
):
    from console.softphone import softphone_options

    with app.test_request_context():
        simulated = softphone_options(settings, "adviser-tom-hirst")
        real = softphone_options(settings.with_overrides(simulator_enabled=False), "adviser-tom-hirst")
    assert simulated == {
        "mode": "simulated",
        "tokenUrl": TOKEN_URL,
        "identity": "adviser-tom-hirst",
        "simulatorBase": "/simulator/api",
    }
    assert real["mode"] == "twilio" and real["tokenUrl"] == TOKEN_URL
