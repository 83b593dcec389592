"""Whatever a console API request carries, it is answered with field errors (400), never a 500.

Meant for PostgreSQL (CI runs it there): it refuses what SQLite lets through — integers beyond its column
types, NUL in text, text longer than its column, strings that are not UTF-8. Every endpoint × every input it
reads × the values that broke it (or could).
"""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from console import api
from tests.integration.test_console_api import JSON, app_user, callbacks, council, signed_in  # noqa: F401

HUGE = 99999999999999999999
JUST_PAST_INTEGER = 2**31

BAD_QUERY_NUMBERS = [
    str(HUGE),
    str(JUST_PAST_INTEGER),
    "-1",
    "0",
    "1.5",
    "1e3",
    "²",
    "٣",
    "0x10",
    "\x00",
    "1\x00",
]
BAD_QUERY_TEXT = ["\x00", "Hudders\x00field", "\x01", "x" * 10_000]
BAD_MOMENTS = ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "\x00", "2026-13-45"]
BAD_MOMENTS += ["x" * 10_000]
BAD_JSON_NUMBERS = [HUGE, JUST_PAST_INTEGER, -1, 0, 1.5, 1.0, True, False, "1", "tom", [], {}, "\x00"]
BAD_JSON_TEXT = [5, 1.5, True, [], {"a": 1}, "\x00", "fire\x00drill", "\x07", "x" * 5000]


def answers_400_naming(field: str, send, values: list[object]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Send each value; return what was wrong for those not answered 400 with an error on `field`."""
    wrong = {}
    for value in values:
        response = send(value)
        body = response.get_json(silent=True) or {}
        if response.status_code != 400 or field not in body.get("errors", {}):
            wrong[repr(value)[:40]] = f"{response.status_code} {response.get_data(as_text=True)[:200]}"
    return wrong


@pytest.fixture
def supervisor(app: Flask, callbacks) -> FlaskClient:  # noqa: F811
    return signed_in(app, app_user(app, "supervisor"))


QUERY_INPUTS = [
    ("/api/advisers", "state", BAD_QUERY_TEXT),
    ("/api/advisers", "library", BAD_QUERY_TEXT),
    ("/api/advisers/1/events", "page", BAD_QUERY_NUMBERS),
    ("/api/advisers/1/events", "per_page", BAD_QUERY_NUMBERS),
    ("/api/callbacks", "status", BAD_QUERY_TEXT),
    ("/api/callbacks", "topic", BAD_QUERY_TEXT),
    ("/api/callbacks", "library", BAD_QUERY_TEXT),
    ("/api/callbacks", "adviser", BAD_QUERY_TEXT + BAD_QUERY_NUMBERS),
    ("/api/callbacks", "slot_from", BAD_MOMENTS),
    ("/api/callbacks", "slot_to", [*BAD_MOMENTS, "9999-12-31"]),  # as an end: the day after the last day
    ("/api/callbacks", "page", BAD_QUERY_NUMBERS),
    ("/api/callbacks", "per_page", [*BAD_QUERY_NUMBERS, "201"]),
]


@pytest.mark.parametrize(
    ("path", "field", "values"), QUERY_INPUTS, ids=[f"{p}?{f}" for p, f, _ in QUERY_INPUTS]
)
def test_a_bad_query_value_is_a_field_error(supervisor, path, field, values):
    wrong = answers_400_naming(field, lambda value: supervisor.get(path, query_string={field: value}), values)
    assert wrong == {}


PATH_IDS = [
    ("post", "/api/advisers/{}/state", "adviser_id"),
    ("get", "/api/advisers/{}/events", "adviser_id"),
    ("get", "/api/callbacks/{}", "callback_id"),
    ("post", "/api/callbacks/{}/reassign", "callback_id"),
    ("post", "/api/callbacks/{}/cancel", "callback_id"),
]


@pytest.mark.parametrize(("method", "template", "field"), PATH_IDS, ids=[t for _, t, _ in PATH_IDS])
def test_an_id_in_the_path_no_row_could_have_is_a_field_error(supervisor, method, template, field):
    def send(value):  # type: ignore[no-untyped-def]
        return getattr(supervisor, method)(template.format(value), json={"state": "break", "reason": "x"})

    assert answers_400_naming(field, send, [HUGE, JUST_PAST_INTEGER, 0]) == {}


BODY_INPUTS = [
    ("aisha", "/api/advisers/me/state", "state", BAD_JSON_TEXT),
    ("aisha", "/api/advisers/me/state", "reason", BAD_JSON_TEXT),
    ("supervisor", "/api/advisers/{tom}/state", "state", BAD_JSON_TEXT),
    ("supervisor", "/api/advisers/{tom}/state", "reason", BAD_JSON_TEXT),
    ("supervisor", "/api/callbacks/{callback}/cancel", "reason", BAD_JSON_TEXT),
    ("supervisor", "/api/callbacks/{callback}/reassign", "adviser_id", BAD_JSON_NUMBERS),
]


@pytest.mark.parametrize(
    ("who", "path", "field", "values"), BODY_INPUTS, ids=[f"{p} {f}" for _, p, f, _ in BODY_INPUTS]
)
def test_a_bad_json_value_is_a_field_error(app, callbacks, who, path, field, values):  # noqa: F811
    url = path.format(tom=app_user(app, "tom").adviser_id, callback=callbacks["aishas"])
    client = signed_in(app, app_user(app, who))

    def send(value):  # type: ignore[no-untyped-def]
        return client.post(url, json={"state": "break", "reason": "fire drill", field: value})

    assert answers_400_naming(field, send, values) == {}


@pytest.mark.parametrize(
    ("path", "field"),
    [("/api/advisers/me/state", "reason"), ("/api/callbacks/{callback}/cancel", "reason")],
)
def test_text_that_is_not_unicode_is_a_field_error(app, callbacks, path, field):  # noqa: F811
    raw = '{"state": "break", "' + field + '": "\\ud800 lone surrogate"}'
    client = signed_in(app, app_user(app, "aisha"))
    response = client.post(path.format(callback=callbacks["aishas"]), data=raw, headers=JSON)
    assert response.status_code == 400 and field in response.get_json()["errors"]


def test_json_nested_past_pythons_limit_is_not_an_object(app, council):  # noqa: F811
    client = signed_in(app, app_user(app, "aisha"))
    response = client.post("/api/advisers/me/state", data="[" * 20_000, headers=JSON)
    assert response.status_code == 400 and response.get_json() == {"errors": {"body": "Send a JSON object."}}


def test_a_body_too_big_for_any_request_here_is_refused_unread(app, council):  # noqa: F811
    client = signed_in(app, app_user(app, "aisha"))
    body = json.dumps({"state": "break", "reason": "x" * 100_000})
    response = client.post("/api/advisers/me/state", data=body, headers=JSON)
    assert response.status_code == 413 and response.is_json


def test_good_values_still_work_at_the_edges(app, supervisor, callbacks):  # noqa: F811
    assert (
        supervisor.get("/api/callbacks", query_string={"page": "2147483647", "per_page": "200"}).status_code
        == 200
    )
    assert supervisor.get("/api/callbacks", query_string={"slot_from": "0001-01-02"}).status_code == 200
    reason = "r" * 200
    aisha = signed_in(app, app_user(app, "aisha"))
    changed = aisha.post("/api/advisers/me/state", json={"state": "break", "reason": reason})
    assert changed.status_code == 200 and changed.get_json()["adviser"]["state_reason"] == reason
    cancelled = aisha.post(
        f"/api/callbacks/{callbacks['aishas']}/cancel", json={"reason": "line 1\nline 2\t"}
    )
    assert (
        cancelled.status_code == 200
        and cancelled.get_json()["callback"]["cancelled_reason"] == "line 1 line 2"
    )


def test_an_unforeseen_error_is_a_plain_json_500_without_a_stack_trace(app, council, monkeypatch):  # noqa: F811
    def broken(_services):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api, "end_overdue_wrap_ups", broken)
    response = signed_in(app, app_user(app, "supervisor")).get("/api/advisers")
    assert response.status_code == 500 and response.is_json
    assert response.get_json() == {"error": api.SOMETHING_WENT_WRONG}
    assert "secret internals" not in response.get_data(as_text=True)
