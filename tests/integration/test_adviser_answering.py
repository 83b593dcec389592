"""Where an adviser answers (browser or phone): set by supervisors in the console API or from a shell."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from structlog.testing import capture_logs

from models import Adviser, AnswersOn, User
from models.demo import client_identity_for
from tests.integration import test_console_api
from tests.integration.test_console_api import JSON, signed_in

council = test_console_api.council  # the demo council fixture, shared
TOM = client_identity_for("Tom Hirst")


def tom(db: Session) -> Adviser:
    with Session(db.get_bind()) as session:
        return session.scalars(select(Adviser).where(Adviser.client_identity == TOM)).one()


def answering(app: Flask, user: User, adviser_id: int, body: object):
    return signed_in(app, user).post(f"/api/advisers/{adviser_id}/answering", json=body, headers=JSON)


def test_a_supervisor_has_an_adviser_answer_on_a_phone_stored_in_e164_and_back_in_the_browser(
    app: Flask,
    council: dict[str, User],
    db: Session,
):
    adviser_id = tom(db).id
    with capture_logs() as logs:
        response = answering(
            app, council["supervisor"], adviser_id, {"answers_on": "phone", "phone_number": "07400 123456"}
        )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["adviser"]["answers_on"] == "phone"
    assert response.get_json()["changed"] is True
    row = tom(db)
    assert (row.answers_on, row.phone_number) == (AnswersOn.PHONE, "+447400123456")
    [logged] = [line for line in logs if line["event"] == "adviser.answering_changed"]
    assert logged["adviser_id"] == adviser_id and logged["by"] == f"user {council['supervisor'].id}"
    assert "123456" not in repr(logged), "the number itself is never logged"

    back = answering(app, council["supervisor"], adviser_id, {"answers_on": "browser"})
    assert back.status_code == 200 and back.get_json()["adviser"]["answers_on"] == "browser"
    assert tom(db).phone_number == "+447400123456", "kept, so switching back to the phone needs no number"
    again = answering(app, council["supervisor"], adviser_id, {"answers_on": "phone"})
    assert again.get_json()["adviser"]["answers_on"] == "phone"
    unchanged = answering(app, council["supervisor"], adviser_id, {"answers_on": "phone"})
    assert unchanged.get_json()["changed"] is False


def test_only_supervisors_choose_where_an_adviser_answers(app: Flask, council: dict[str, User], db: Session):
    response = answering(
        app, council["tom"], tom(db).id, {"answers_on": "phone", "phone_number": "07400123456"}
    )
    assert response.status_code == 403
    assert tom(db).answers_on == AnswersOn.BROWSER
    assert app.test_client().post(f"/api/advisers/{tom(db).id}/answering", json={}).status_code == 401


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({}, "answers_on", "browser or phone"),
        ({"answers_on": "pigeon"}, "answers_on", "browser or phone"),
        ({"answers_on": ["phone"]}, "answers_on", "text"),
        ({"answers_on": "phone"}, "phone_number", "Give the phone number"),
        ({"answers_on": "phone", "phone_number": "09011234567"}, "phone_number", "premium rate"),
        ({"answers_on": "phone", "phone_number": "+33 1 23 45 67 89"}, "phone_number", "not a UK number"),
        ({"answers_on": "phone", "phone_number": "0800 123 4567"}, "phone_number", "freephone"),
        ({"answers_on": "phone", "phone_number": "07400\x00123456"}, "phone_number", "control characters"),
        ({"answers_on": "phone", "phone_number": "0" * 200}, "phone_number", "32 characters"),
        ({"answers_on": "phone", "phone_number": 7400123456}, "phone_number", "text"),
        ({"answers_on": "phone", "phone_number": "not a number"}, "phone_number", "isn't a phone number"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(
    app: Flask,
    council: dict[str, User],
    db: Session,
    body,
    field,
    words,
):
    response = answering(app, council["supervisor"], tom(db).id, body)
    assert response.status_code == 400, response.get_json()
    errors = response.get_json()["errors"]
    assert list(errors) == [field] and words in errors[field]
    assert (tom(db).answers_on, tom(db).phone_number) == (AnswersOn.BROWSER, None)


def test_an_adviser_without_a_browser_identity_cannot_be_switched_to_the_browser(
    app: Flask,
    council: dict[str, User],
    db: Session,
):
    with db.begin():
        adviser = db.get_one(Adviser, tom(db).id)
        adviser.answers_on, adviser.phone_number, adviser.client_identity = (
            AnswersOn.PHONE,
            "+447400123456",
            None,
        )
    response = answering(app, council["supervisor"], adviser.id, {"answers_on": "browser"})
    assert response.status_code == 400
    assert "no browser phone" in response.get_json()["errors"]["answers_on"]


def test_an_unknown_adviser_is_a_404(app: Flask, council: dict[str, User]):
    response = answering(app, council["supervisor"], 99999, {"answers_on": "browser"})
    assert response.status_code == 404


def test_the_command_line_sets_the_same_with_the_same_checks_and_never_prints_the_number(
    app: Flask,
    council: dict[str, User],
    db: Session,
    runner,
):
    result = runner.invoke(args=["advisers", "answer-on", TOM, "phone", "--number", "01484 221000"])
    assert result.exit_code == 0, result.output
    assert "now answers on their phone" in result.output and "221000" not in result.output
    assert (tom(db).answers_on, tom(db).phone_number) == (AnswersOn.PHONE, "+441484221000")

    again = runner.invoke(args=["advisers", "answer-on", str(tom(db).id), "phone"])
    assert again.exit_code == 0 and "nothing changed" in again.output

    refused = runner.invoke(args=["advisers", "answer-on", TOM, "phone", "--number", "09011234567"])
    assert refused.exit_code != 0 and "premium rate" in refused.output and "--number" in refused.output
    unknown = runner.invoke(args=["advisers", "answer-on", "adviser-nobody", "browser"])
    assert unknown.exit_code != 0 and "no adviser with id or identity" in unknown.output
    wrong = runner.invoke(args=["advisers", "answer-on", TOM, "carrier-pigeon"])
    assert wrong.exit_code != 0

    back = runner.invoke(args=["advisers", "answer-on", TOM, "browser"])
    assert back.exit_code == 0 and "in the browser" in back.output
    assert tom(db).answers_on == AnswersOn.BROWSER
