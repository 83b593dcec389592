"""Signing in cannot be guessed at, a sign-out or a disabled account ends a sign-in everywhere, cookies are Secure.

Real Redis (the throttle counts there) and the real database (sign-ins are rows). The form is posted as a
browser posts it, CSRF token and all.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import create_app
from console import auth
from models import ConsoleSession, User
from models.demo import DEMO_PASSWORD, seed_demo
from runtime.web import EXTENSION_KEY
from tests.integration.test_console_api import CHEAP_HASHER, csrf_token

WRONG = "not-the-password"


@pytest.fixture
def council(app: Flask, db: Session, clock, monkeypatch) -> None:
    with db.begin():
        seed_demo(db, clock.now(), password_hasher=CHEAP_HASHER)
    # Unknown usernames are checked against a dummy hash as costly as a real one; cheap here, as the users are.
    dummy = CHEAP_HASHER.hash("no such user")
    monkeypatch.setattr(auth, "_dummy_hash", lambda: dummy)


def limiter_of(app: Flask):  # type: ignore[no-untyped-def]
    [limiter] = app.extensions["limiter"]
    return limiter


def sign_in(
    client: FlaskClient,
    username: str,
    password: str,
    address: str = "203.0.113.7",
    base_url: str = "http://localhost",
):  # type: ignore[no-untyped-def]
    environ = {"REMOTE_ADDR": address}
    token = csrf_token(
        client.get("/console/login", environ_base=environ, base_url=base_url).get_data(as_text=True)
    )
    return client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token},
        environ_base=environ,
        base_url=base_url,
    )


# --- throttling ---------------------------------------------------------------------------------------------


def test_thirty_wrong_passwords_for_one_account_are_refused_after_five_and_then_so_is_the_right_one(
    app, client, council
):
    answers = [sign_in(client, "aisha", WRONG).status_code for _ in range(30)]
    assert answers == [401] * 5 + [429] * 25

    refused = sign_in(client, "aisha", DEMO_PASSWORD)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    page = refused.get_data(as_text=True)
    assert 'role="alert"' in page and "too many wrong passwords. Wait a minute, then try again." in page
    assert client.get("/api/me").status_code == 401  # not signed in

    # Others are not locked out by Aisha's attacker, from another address or the same one.
    assert sign_in(app.test_client(), "tom", DEMO_PASSWORD, address="198.51.100.2").status_code == 302

    limiter_of(app).reset()  # the window has moved on
    assert sign_in(client, "aisha", DEMO_PASSWORD).status_code == 302
    assert client.get("/api/me").get_json()["user"]["username"] == "aisha"


def test_the_account_limit_ignores_case_and_spaces_in_the_username(client, council):
    for typed in ("aisha", "AISHA", " Aisha ", "aIsha", "aisha "):
        assert sign_in(client, typed, WRONG).status_code == 401
    assert sign_in(client, "Aisha", WRONG).status_code == 429


def test_one_address_trying_many_accounts_is_refused_after_twenty_wrong_passwords(app, client, council):
    answers = [sign_in(client, f"user{n}", WRONG, address="192.0.2.10").status_code for n in range(30)]
    assert answers == [401] * 20 + [429] * 10
    assert sign_in(client, "aisha", DEMO_PASSWORD, address="192.0.2.10").status_code == 429
    assert sign_in(client, "aisha", DEMO_PASSWORD, address="192.0.2.11").status_code == 302


def test_right_passwords_and_unfinished_forms_do_not_count_towards_the_limit(app, client, council):
    for _ in range(8):
        assert sign_in(app.test_client(), "aisha", DEMO_PASSWORD).status_code == 302
        assert sign_in(client, "aisha", "").status_code == 400
    assert sign_in(client, "aisha", WRONG).status_code == 401


def test_the_throttle_holds_across_web_processes_because_it_counts_in_redis(app, settings, clock, council):
    other_process = create_app(settings, clock=clock)  # another gunicorn worker: same Redis, own memory
    try:
        for _ in range(5):
            assert sign_in(app.test_client(), "aisha", WRONG).status_code == 401
        assert sign_in(other_process.test_client(), "aisha", WRONG).status_code == 429
    finally:
        other_process.extensions[EXTENSION_KEY].engine.dispose()


def test_x_forwarded_for_is_ignored_unless_a_proxy_is_trusted(settings, clock, council):
    untrusting = create_app(settings, clock=clock)
    client = untrusting.test_client()

    def spoofing(n: int):  # type: ignore[no-untyped-def]
        token = csrf_token(client.get("/console/login").get_data(as_text=True))
        return client.post(
            "/console/login",
            data={"username": f"user{n}", "password": WRONG, "csrf_token": token},
            headers={"X-Forwarded-For": f"10.0.0.{n}"},
        )

    assert [spoofing(n).status_code for n in range(21)] == [401] * 20 + [429]
    untrusting.extensions[EXTENSION_KEY].engine.dispose()

    behind_proxy = create_app(settings.with_overrides(trusted_proxy_count=1), clock=clock)
    limiter_of(behind_proxy).reset()
    client = behind_proxy.test_client()
    assert {spoofing(n).status_code for n in range(21)} == {401}  # 21 different clients, as the proxy says
    behind_proxy.extensions[EXTENSION_KEY].engine.dispose()


def test_the_api_answers_429_in_json_past_its_request_limit(settings, clock, council):
    from tests.integration.test_console_api import app_user, signed_in

    app = create_app(settings.with_overrides(api_requests_per_minute=3), clock=clock)
    client = signed_in(app, app_user(app, "aisha"))
    assert [client.get("/api/me").status_code for _ in range(3)] == [200] * 3
    refused = client.get("/api/me")
    assert refused.status_code == 429 and refused.is_json
    assert refused.get_json() == {"error": "Too many requests. Wait a moment, then try again."}
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert signed_in(app, app_user(app, "tom")).get("/api/me").status_code == 200  # per user
    app.extensions[EXTENSION_KEY].engine.dispose()


# --- session cookies ----------------------------------------------------------------------------------------


def session_cookie(response) -> SimpleCookie:  # type: ignore[no-untyped-def]
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    return SimpleCookie(header)


def test_the_session_cookie_is_secure_outside_simulator_mode(settings, clock, council):
    production = create_app(settings.with_overrides(simulator_enabled=False), clock=clock)
    response = sign_in(production.test_client(), "aisha", DEMO_PASSWORD, base_url="https://localhost")
    assert response.status_code == 302
    cookie = session_cookie(response)["session"]
    assert cookie["secure"] is True and cookie["httponly"] is True and cookie["samesite"] == "Lax"
    production.extensions[EXTENSION_KEY].engine.dispose()


def test_the_simulators_plain_http_dev_server_gets_a_cookie_without_secure(client, council):
    response = sign_in(client, "aisha", DEMO_PASSWORD)
    cookie = session_cookie(response)["session"]
    assert not cookie["secure"] and cookie["httponly"] is True


# --- sign-ins end on the server -----------------------------------------------------------------------------


def copied_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def replay(app: Flask, cookie: str) -> FlaskClient:
    """Another browser, holding a copy of the cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def test_a_cookie_copied_before_signing_out_is_useless_afterwards(app, client, council, db):
    assert sign_in(client, "aisha", DEMO_PASSWORD).status_code == 302
    cookie = copied_cookie(client)
    assert replay(app, cookie).get("/api/me").status_code == 200  # the copy works while signed in

    home = client.get("/console/").get_data(as_text=True)
    assert client.post("/console/logout", data={"csrf_token": csrf_token(home)}).status_code == 302

    thief = replay(app, cookie)
    assert thief.get("/api/me").status_code == 401
    console = thief.get("/console/")
    assert console.status_code == 302 and console.headers["Location"].startswith("/console/login")
    row = db.scalars(select(ConsoleSession)).one()
    assert row.ended_at is not None and len(row.token_hash) == 64
    assert row.token_hash not in cookie  # the database holds only a hash of the token


def test_signing_out_ends_only_that_sign_in(app, council):
    desk, laptop = app.test_client(), app.test_client()
    sign_in(desk, "aisha", DEMO_PASSWORD)
    sign_in(laptop, "aisha", DEMO_PASSWORD)
    home = desk.get("/console/").get_data(as_text=True)
    desk.post("/console/logout", data={"csrf_token": csrf_token(home)})
    assert desk.get("/api/me").status_code == 401
    assert laptop.get("/api/me").status_code == 200


def test_disabling_a_user_ends_their_sign_ins_at_once(app, client, council, db):
    sign_in(client, "aisha", DEMO_PASSWORD)
    assert client.get("/api/me").status_code == 200
    with db.begin():
        db.execute(update(User).where(User.username == "aisha").values(is_active=False))
    assert client.get("/api/me").status_code == 401
    assert client.get("/console/").status_code == 302


def test_a_sign_in_ends_after_console_session_hours(app, client, council, clock):
    sign_in(client, "aisha", DEMO_PASSWORD)
    clock.advance(11 * 3600)
    assert client.get("/api/me").status_code == 200
    clock.advance(3601)
    assert client.get("/api/me").status_code == 401


def test_a_cookie_from_before_sign_ins_were_rows_signs_nobody_in(app, council, db):
    """Such a cookie held the user id; forging a session with one (given the secret key) gets nobody."""
    user_id = db.scalar(select(User.id).where(User.username == "supervisor"))
    old = app.test_client()
    with old.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
    assert old.get("/api/me").status_code == 401


@pytest.mark.parametrize("username", ["ai\x00sha", "aisha\x01", "a" * 81])
def test_a_username_the_database_would_refuse_is_a_field_error_not_a_500(client, council, username):
    response = sign_in(client, username, WRONG)
    assert response.status_code == 400
    assert 'id="username-error"' in response.get_data(as_text=True)
