"""The supervisor's advisers: every adviser (filtered by library) with their state and whether they are active;
one adviser's settings with a form to change them; and a page to add one.

Views read the form (anything the database would refuse answers 400 with an error summary, the typed values
kept) and call routing.staffing, which checks, saves and audits each change. Phone numbers are never shown in
full: the form asks for a new one rather than showing the stored one.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from console.auth import supervisor_required
from console.inputs import Inputs
from console.supervisor import supervisor_bp
from console.supervisor.callbacks import EXPIRED, CallbackForm
from models import Adviser, AnswersOn, Library
from routing import staffing
from routing.contacts import TOPICS, mask
from routing.staffing import AdviserDetails
from routing.states import LABELS as STATE_LABELS
from runtime.web import services

# The adviser form's topics, in the order the phone menu offers them.
FORM_TOPICS = ("council_tax", "housing_benefit", "general")
LONGEST_TYPED = 400  # typed text shown back after an error is cut to this


def _libraries(session: Session) -> list[tuple[int, str]]:
    return [tuple(row) for row in session.execute(select(Library.id, Library.name).order_by(Library.name))]  # type: ignore[misc]


def read_form(form: MultiDict[str, str], inputs: Inputs) -> tuple[AdviserDetails, dict[str, Any]]:
    """The adviser's details as typed, and the values to show back in the form."""
    library_id = inputs.whole_number(
        "home_library_id", form.get("home_library_id"), message="Choose the library the adviser works from."
    )
    languages = tuple(code for code in form.getlist("languages")[:20] if isinstance(code, str))
    skills: dict[str, int] = {}
    for topic in FORM_TOPICS:
        raw = form.get(f"skill_{topic}", "")
        if raw == "":
            continue
        level = inputs.whole_number(
            f"skill_{topic}", raw, minimum=1, maximum=5, message="Choose a level from the list."
        )
        if level is not None:
            skills[topic] = level
    name = inputs.text("name", form.get("name"), max_length=staffing.LONGEST_NAME) or ""
    phone = inputs.text("phone_number", form.get("phone_number"), max_length=40)
    answers_on = form.get("answers_on", "")
    details = AdviserDetails(
        name=name,
        home_library_id=library_id,
        languages=languages,
        skills=skills,
        answers_on=answers_on,
        phone_number=phone,
        is_active=form.get("is_active") == "yes",
    )
    values = {
        "name": (form.get("name") or "")[:LONGEST_TYPED],
        "home_library_id": (form.get("home_library_id") or "")[:12],
        "languages": list(languages),
        "skills": {topic: (form.get(f"skill_{topic}") or "")[:2] for topic in FORM_TOPICS},
        "answers_on": answers_on[:12],
        "phone_number": (form.get("phone_number") or "")[:40],
        "is_active": details.is_active,
    }
    return details, values


def all_errors(
    session: Session, details: AdviserDetails, form_errors: dict[str, str], stored: str | None
) -> dict[str, str]:
    """The form's own errors with the service's checks of the rest, so a supervisor fixes everything at once."""
    try:
        staffing.checked_details(session, details, services().settings.default_region, stored_number=stored)
    except staffing.AdviserRefused as refused:
        found = dict(refused.errors)
        if any(field.startswith("skill_") for field in form_errors):
            found.pop("skill_general", None)  # a level that could not be read is not "no topic"
        return {**found, **form_errors}
    return form_errors


def _form_context(session: Session) -> dict[str, Any]:
    return {
        "libraries": _libraries(session),
        "language_names": staffing.language_names(),
        "topics": {topic: TOPICS[topic] for topic in FORM_TOPICS},
        "proficiency": staffing.PROFICIENCY,
        "form": CallbackForm(),
    }


# --- the list ------------------------------------------------------------------------------------------------


@supervisor_bp.get("/advisers")
@supervisor_required
def advisers() -> ResponseReturnValue:
    """Every adviser, or one library's, with their state now and whether they are active."""
    inputs = Inputs()
    library_id = inputs.whole_number("library", request.args.get("library"), message="Choose a library.")
    with services().session_factory() as session:
        libraries = _libraries(session)
        if library_id is not None and library_id not in dict(libraries):
            inputs.fail("library", "Choose a library from the list.")
        rows = [] if inputs.errors else staffing.adviser_rows(session, library_id)
    return (
        render_template(
            "supervisor/advisers.html",
            rows=rows,
            libraries=libraries,
            library=(request.args.get("library") or "")[:12],
            errors=inputs.errors,
            state_labels=STATE_LABELS,
        ),
        400 if inputs.errors else 200,
    )


# --- adding one ----------------------------------------------------------------------------------------------


@supervisor_bp.route("/advisers/new", methods=["GET", "POST"])
@supervisor_required
def new_adviser() -> ResponseReturnValue:
    """Add an adviser: they start offline, with a browser phone; the rota page gives them shifts."""
    values: dict[str, Any] = {
        "languages": ["en-GB"],
        "answers_on": "browser",
        "is_active": True,
        "skills": {},
    }
    errors: dict[str, str] = {}
    app_services = services()
    if request.method == "POST":
        inputs = Inputs()
        details, values = read_form(request.form, inputs)
        errors = inputs.errors
        if errors:
            with app_services.session_factory() as session:
                errors = all_errors(session, details, errors, None)
        if not CallbackForm().validate_on_submit():
            errors = {"name": EXPIRED}
        if not errors:
            try:
                with app_services.session_factory.begin() as session:
                    added = staffing.create_adviser(app_services, session, details, current_user)
                    adviser_id, name = added.id, added.name
            except staffing.AdviserRefused as refused:
                errors = refused.errors
            else:
                flash(f"{name} is added. Give them shifts on the rota so callers can be promised callbacks.")
                return redirect(url_for("supervisor.adviser", adviser_id=adviser_id))
    with app_services.session_factory() as session:
        return (
            render_template(
                "supervisor/adviser_new.html", values=values, errors=errors, **_form_context(session)
            ),
            400 if errors else 200,
        )


# --- one adviser ---------------------------------------------------------------------------------------------


def _not_found() -> ResponseReturnValue:
    return (
        render_template(
            "console/error.html",
            title="Page not found",
            paragraphs=["There is no adviser with that number. It may have been mistyped."],
            link=(url_for("supervisor.advisers"), "Go back to advisers"),
        ),
        404,
    )


def _stored_values(adviser: Any) -> dict[str, Any]:
    return {
        "name": adviser.name,
        "home_library_id": str(adviser.home_library_id),
        "languages": list(adviser.languages),
        "skills": {skill.topic.value: str(skill.proficiency) for skill in adviser.skills},
        "answers_on": adviser.answers_on.value,
        "phone_number": "",
        "is_active": adviser.is_active,
    }


@supervisor_bp.route("/advisers/<int:adviser_id>", methods=["GET", "POST"])
@supervisor_required
def adviser(adviser_id: int) -> ResponseReturnValue:
    """One adviser: what they take, in which languages, where their calls ring, active or not; and a form to
    change any of it."""
    app_services = services()
    errors: dict[str, str] = {}
    values: dict[str, Any] | None = None
    if request.method == "POST":
        inputs = Inputs()
        details, values = read_form(request.form, inputs)
        errors = inputs.errors
        if errors:
            with app_services.session_factory() as session:
                stored = session.scalar(select(Adviser.phone_number).where(Adviser.id == adviser_id))
                errors = all_errors(session, details, errors, stored)
        if not CallbackForm().validate_on_submit():
            errors = {"name": EXPIRED}
        if not errors:
            try:
                with app_services.session_factory.begin() as session:
                    changed = staffing.update_adviser(
                        app_services, session, adviser_id, details, current_user
                    )
            except staffing.AdviserNotFound:
                return _not_found()
            except staffing.AdviserRefused as refused:
                errors = refused.errors
            else:
                words = ", ".join(field.replace("_", " ") for field in changed)
                flash(f"Saved: {words} changed." if changed else "Nothing was changed.")
                return redirect(url_for("supervisor.adviser", adviser_id=adviser_id))
    with app_services.session_factory() as session:
        try:
            found = staffing.load_adviser(session, adviser_id)
        except staffing.AdviserNotFound:
            return _not_found()
        return (
            render_template(
                "supervisor/adviser.html",
                adviser=found,
                values=values or _stored_values(found),
                errors=errors,
                masked_number=mask(found.phone_number),
                state_label=STATE_LABELS.get(found.state.value, found.state.value),
                answers_on_phone=found.answers_on == AnswersOn.PHONE,
                **_form_context(session),
            ),
            400 if errors else 200,
        )
