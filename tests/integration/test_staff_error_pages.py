"""Staff pages answer errors with the console's own GOV.UK-styled pages (403 says who may use the page; 500 never
shows a stack trace), while the JSON API keeps answering in JSON and Twilio's webhooks keep their own answers."""

from __future__ import annotations

import pytest

from tests.staff import seed_council, signed_in


@pytest.fixture
def council(app, db, clock):
    return seed_council(db, clock)


def test_an_adviser_opening_a_supervisor_page_is_told_who_can_use_it(app, council):
    response = signed_in(app, council["tom"]).get("/console/supervisor/callbacks")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "govuk-template" in html and '<h1 class="govuk-heading-l">You cannot use this page</h1>' in html
    assert (
        "This page is for supervisors and admins." in html
        and "You are signed in as Tom Hirst (adviser)." in html
    )
    assert "Forbidden" not in html


def test_a_supervisor_without_an_adviser_opening_the_desk_is_told_it_is_for_advisers(app, council):
    response = signed_in(app, council["supervisor"]).get("/console/desk")
    assert response.status_code == 403
    assert "This page is for advisers" in response.get_data(as_text=True)


def test_an_unknown_console_address_is_a_page_not_found_on_the_layout(app, council):
    response = signed_in(app, council["supervisor"]).get("/console/no-such-page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Page not found" in html and "govuk-template" in html


def test_an_unforeseen_failure_on_a_staff_page_says_sorry_without_a_stack_trace(app, council):
    def broken() -> str:
        raise RuntimeError("secret internals")

    app.add_url_rule("/console/broken-for-test", "broken_for_test", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error handlers answer
    response = signed_in(app, council["supervisor"]).get("/console/broken-for-test")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in html and "govuk-template" in html
    assert "secret internals" not in html and "Traceback" not in html


def test_the_json_api_keeps_its_json_errors(app, council):
    adviser = signed_in(app, council["tom"])
    refused = adviser.get("/api/advisers")
    assert refused.status_code == 403 and refused.is_json
    missing = signed_in(app, council["supervisor"]).get("/api/callbacks/424242")
    assert missing.status_code == 404 and missing.is_json
    assert app.test_client().get("/api/me").is_json


def test_twilio_webhooks_keep_their_own_answers(app, client):
    unsigned = client.post("/voice/incoming", data={"CallSid": "CA" + "0" * 32})
    assert unsigned.status_code == 403
    assert "govuk-template" not in unsigned.get_data(as_text=True)
