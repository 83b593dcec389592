"""Every supervisor and reports page, found in the app's URL map (so pages added later are covered without
listing them): signed out → the sign-in page (or 401 for a fragment or JSON endpoint), an adviser → 403 for GET
and POST, a supervisor → let in (never 403, never a 500 even with placeholder ids and no form)."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tests.staff import seed_council, signed_in

AUDIENCES = ("supervisor.", "reports.")
PLACEHOLDERS = {
    "int": "1",
    "default": "1",
    "string": "1",
    "path": "1",
    "uuid": "00000000-0000-0000-0000-000000000001",
}


@pytest.fixture
def council(app, db, clock):
    return seed_council(db, clock)


def supervisor_pages(app: Flask) -> list[tuple[str, str]]:
    """(method, path) of every GET and POST route of the supervisor and reports blueprints, ids filled in."""
    pages = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(AUDIENCES):
            continue
        path = re.sub(
            r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>",
            lambda m: PLACEHOLDERS.get(m.group(1) or "default", "1"),
            rule.rule,
        )
        pages += [(method, path) for method in ("GET", "POST") if method in (rule.methods or ())]
    return sorted(pages)


def test_the_walk_finds_the_supervisor_pages(app):
    pages = supervisor_pages(app)
    assert ("GET", "/console/supervisor/callbacks") in pages
    assert ("POST", "/console/supervisor/callbacks/1/cancel") in pages


def test_signed_out_every_supervisor_page_sends_you_to_sign_in(app, council):
    client = app.test_client()
    for method, path in supervisor_pages(app):
        response = client.open(path, method=method)
        if response.status_code == 401:
            continue  # a fragment or JSON endpoint says so rather than redirecting
        assert response.status_code == 302, (method, path, response.status_code)
        assert "/console/login" in response.headers["Location"], (method, path)


def test_an_adviser_is_refused_every_supervisor_page(app, council):
    adviser = signed_in(app, council["tom"])
    for method, path in supervisor_pages(app):
        response = adviser.open(path, method=method)
        assert response.status_code == 403, (method, path, response.status_code)


def test_a_supervisor_is_let_into_every_supervisor_page(app, council):
    supervisor = signed_in(app, council["supervisor"])
    for method, path in supervisor_pages(app):
        response = supervisor.open(path, method=method)
        assert response.status_code != 403, (method, path)
        assert response.status_code < 500, (method, path, response.status_code)
