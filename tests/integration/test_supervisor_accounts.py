"""The accounts pages behind the browser: adding an account (a one-time password shown once, chosen again at
first sign-in), changing role and adviser, disabling (signed out at once), resetting a password; who may do
which (supervisors look after advisers' accounts, admins after all); field errors (400) checked on PostgreSQL
too; every change on the audit page with who, when and before → after."""

from __future__ import annotations

import re
from html import unescape

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Adviser, AdviserState, Library, Role, User
from models.audit import AuditEvent
from models.demo import DEMO_PASSWORD
from tests.staff import seed_council, signed_in

USERS = "/console/supervisor/users"


@pytest.fixture
def council(app, db, clock):
    return seed_council(db, clock)


@pytest.fixture
def supervisor(app, council):
    return signed_in(app, council["supervisor"])


@pytest.fixture
def admin(app, council):
    return signed_in(app, council["admin"])


def csrf(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


def new_adviser(db, clock, name: str = "Nadia Akhtar") -> int:
    with db.begin():
        library = db.scalars(select(Library).where(Library.name == "Dewsbury")).one()
        adviser = Adviser(
            name=name,
            home_library_id=library.id,
            languages=["en-GB"],
            client_identity=f"adviser-{name.split()[0].lower()}",
            state=AdviserState.OFFLINE,
            state_since=clock.now(),
        )
        db.add(adviser)
        db.flush()
        adviser_id = adviser.id
    return adviser_id


def one_time_password(html: str) -> str:
    found = re.search(r'id="one-time-password"[^>]*>([a-z0-9-]+)<', html)
    assert found, html
    return found.group(1)


def account(db, username: str) -> User:
    user = db.scalars(select(User).where(User.username == username)).one()
    db.expunge(user)
    db.rollback()
    return user


def audit_lines(db, action: str) -> list[AuditEvent]:
    events = list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
    db.rollback()
    return events


def sign_in(client: FlaskClient, username: str, password: str):
    token = csrf(client, "/console/login")
    return client.post(
        "/console/login", data={"csrf_token": token, "username": username, "password": password}
    )


def test_a_supervisor_adds_an_advisers_account_who_must_choose_a_password_at_first_sign_in(
    app, supervisor, db, clock
):
    nadia = new_adviser(db, clock)
    token = csrf(supervisor, f"{USERS}/new")
    made = supervisor.post(
        f"{USERS}/new",
        data={
            "csrf_token": token,
            "username": " N.Akhtar ",
            "display_name": "Nadia Akhtar",
            "role": "adviser",
            "adviser_id": str(nadia),
        },
    )
    assert made.status_code == 201
    assert made.headers["Cache-Control"].startswith("no-store")
    password = one_time_password(made.get_data(as_text=True))
    user = account(db, "n.akhtar")
    assert (user.role, user.adviser_id, user.must_change_password) == (Role.ADVISER, nadia, True)
    assert password not in user.password_hash
    PasswordHasher().verify(user.password_hash, password)
    created = audit_lines(db, "user.created")
    assert created[-1].after == {
        "username": "n.akhtar",
        "display name": "Nadia Akhtar",
        "role": "adviser",
        "adviser": "Nadia Akhtar",
        "active": True,
    }
    assert created[-1].user_id is not None

    # Nadia signs in with it: every console page leads to choosing her own password, the API refuses her.
    nadia_browser = app.test_client()
    signed = sign_in(nadia_browser, "n.akhtar", password)
    assert signed.status_code == 302 and "/console/password" in signed.headers["Location"]
    assert "/console/password" in nadia_browser.get("/console/desk").headers["Location"]
    assert nadia_browser.get("/api/me").status_code == 403
    page = "/console/password"
    token = csrf(nadia_browser, page)
    same = nadia_browser.post(
        page,
        data={
            "csrf_token": token,
            "current_password": password,
            "new_password": password,
            "confirm_password": password,
        },
    )
    assert same.status_code == 400 and "different from the one you signed in with" in same.get_data(
        as_text=True
    )
    short = nadia_browser.post(
        page,
        data={
            "csrf_token": token,
            "current_password": password,
            "new_password": "short",
            "confirm_password": "short",
        },
    )
    assert short.status_code == 400 and "at least 12 characters" in short.get_data(as_text=True)
    wrong = nadia_browser.post(
        page,
        data={
            "csrf_token": token,
            "current_password": "not it at all",
            "new_password": "library kettle ladder",
            "confirm_password": "library kettle ladder",
        },
    )
    assert wrong.status_code == 400 and "current password is not right" in wrong.get_data(as_text=True)
    chosen = nadia_browser.post(
        page,
        data={
            "csrf_token": token,
            "current_password": password,
            "new_password": "library kettle ladder",
            "confirm_password": "library kettle ladder",
        },
    )
    assert chosen.status_code == 302
    assert not account(db, "n.akhtar").must_change_password
    assert nadia_browser.get("/console/").status_code == 200
    assert audit_lines(db, "user.password_changed")[-1].summary == "n.akhtar chose a new password"


def test_field_errors_answer_400_with_the_summary_and_keep_what_was_typed(supervisor, db, clock, council):
    nadia = new_adviser(db, clock)
    tom = account(db, "tom") if "tom" in council else None
    token = csrf(supervisor, f"{USERS}/new")

    def add(**fields: str):
        data = {
            "csrf_token": token,
            "role": "adviser",
            "display_name": "Nadia",
            "adviser_id": str(nadia),
            **fields,
        }
        return supervisor.post(f"{USERS}/new", data=data)

    for fields, message in (
        ({"username": "n"}, "A username is 3 to 80"),
        ({"username": "n akhtar"}, "A username is 3 to 80"),
        ({"username": "supervisor"}, "There is already an account called supervisor"),
        ({"username": "SUPERVISOR"}, "There is already an account called supervisor"),
        ({"username": "n.akhtar", "display_name": "N" * 121}, "Keep this to 120 characters or fewer"),
        ({"username": "n.akhtar", "display_name": "Nadia\x00"}, "control characters"),
        ({"username": "n.akhtar", "display_name": "  "}, "Enter the person's name"),
        ({"username": "n.akhtar", "adviser_id": ""}, "Choose the adviser this account is for"),
        ({"username": "n.akhtar", "adviser_id": "99999999999"}, "Choose an adviser from the list"),
        ({"username": "n.akhtar", "adviser_id": "2147483000"}, "Choose an adviser from the list"),
        ({"username": "n.akhtar", "role": "root"}, "Choose what this person does"),
        ({"username": "x" * 81}, "Keep this to 80 characters or fewer"),
    ):
        answer = add(**fields)
        html = unescape(answer.get_data(as_text=True))
        assert answer.status_code == 400, fields
        assert "There is a problem" in html and message in html, (fields, message)
    kept = add(username="n.akhtar", display_name="Nadia <b>Akhtar</b>", adviser_id="").get_data(as_text=True)
    assert 'value="n.akhtar"' in kept and "Nadia &lt;b&gt;Akhtar&lt;/b&gt;" in kept
    if tom is not None:
        taken = add(username="n.akhtar", adviser_id=str(tom.adviser_id)).get_data(as_text=True)
        assert "That adviser already has an account (tom)" in taken
    assert supervisor.post(f"{USERS}/new", data={"username": "n.akhtar"}).status_code == 400  # no CSRF token
    assert db.scalar(select(User).where(User.username == "n.akhtar")) is None


def test_a_supervisor_looks_after_advisers_accounts_only_and_an_admin_after_everyones(
    supervisor, admin, db, clock, council
):
    nadia = new_adviser(db, clock)
    token = csrf(supervisor, f"{USERS}/new")
    refused = supervisor.post(
        f"{USERS}/new",
        data={"csrf_token": token, "username": "new.boss", "display_name": "New Boss", "role": "supervisor"},
    )
    assert refused.status_code == 400 and "Only an admin can give the supervisor role" in refused.get_data(
        as_text=True
    )
    admin_id = council["admin"].id
    page = supervisor.get(f"{USERS}/{admin_id}").get_data(as_text=True)
    assert (
        "Only an admin can change a admin" not in page
        and "Only an admin can change a admin's account" not in page
    )
    assert "Only an admin can change" in page and "Reset password" not in page
    token = csrf(supervisor, f"{USERS}/{admin_id}")
    for path in (f"{USERS}/{admin_id}/password", f"{USERS}/{admin_id}/active"):
        assert supervisor.post(path, data={"csrf_token": token, "active": "no"}).status_code == 403
    tom = council.get("tom")
    if tom is not None:
        promote = supervisor.post(
            f"{USERS}/{tom.id}",
            data={
                "csrf_token": token,
                "display_name": "Tom Hirst",
                "role": "admin",
                "adviser_id": str(tom.adviser_id),
            },
        )
        assert promote.status_code == 400 and "Only an admin can give the admin role" in promote.get_data(
            as_text=True
        )

    token = csrf(admin, f"{USERS}/new")
    made = admin.post(
        f"{USERS}/new",
        data={"csrf_token": token, "username": "new.boss", "display_name": "New Boss", "role": "supervisor"},
    )
    assert made.status_code == 201
    boss = account(db, "new.boss")
    changed = admin.post(
        f"{USERS}/{boss.id}",
        data={"csrf_token": token, "display_name": "New Boss", "role": "adviser", "adviser_id": str(nadia)},
    )
    assert changed.status_code == 302
    line = audit_lines(db, "user.changed")[-1]
    assert line.before == {"adviser": None, "role": "supervisor"}
    assert line.after == {"adviser": "Nadia Akhtar", "role": "adviser"}


def test_nobody_locks_themselves_or_the_council_out(admin, db, council):
    me = council["admin"].id
    token = csrf(admin, f"{USERS}/{me}")
    own_disable = admin.post(f"{USERS}/{me}/active", data={"csrf_token": token, "active": "no"})
    assert own_disable.status_code == 400 and "cannot disable your own account" in own_disable.get_data(
        as_text=True
    )
    own_role = admin.post(
        f"{USERS}/{me}",
        data={"csrf_token": token, "display_name": "Demo Admin", "role": "supervisor", "adviser_id": ""},
    )
    assert own_role.status_code == 400 and "cannot change your own role" in own_role.get_data(as_text=True)
    assert admin.post(f"{USERS}/{me}/password", data={"csrf_token": token}).status_code == 400
    assert account(db, "admin").is_active and account(db, "admin").role == Role.ADMIN


def test_the_last_active_admin_cannot_be_demoted_or_disabled_by_another_admin(app, admin, db, council, clock):
    from console import accounts

    with db.begin():
        second = User(
            username="second.admin",
            display_name="Second Admin",
            role=Role.ADMIN,
            password_hash="x",
            created_at=clock.now(),
        )
        db.add(second)
        db.flush()
        second_id = second.id
        only_one = council["admin"].id
        actor = accounts.Actor(second_id, Role.ADMIN)
        accounts.set_active(db, actor, clock.now(), only_one, False)  # two admins: one may go
    with db.begin(), pytest.raises(accounts.AccountRefused, match="only active admin"):
        accounts.set_active(db, accounts.Actor(only_one, Role.ADMIN), clock.now(), second_id, False)


def test_disabling_signs_the_person_out_at_once_and_they_cannot_sign_in(app, supervisor, db, council):
    tom = council.get("tom") or next(u for u in council.values() if u.role == Role.ADVISER)
    toms_browser = signed_in(app, tom)
    assert toms_browser.get("/console/").status_code == 200
    token = csrf(supervisor, f"{USERS}/{tom.id}")
    disabled = supervisor.post(f"{USERS}/{tom.id}/active", data={"csrf_token": token, "active": "no"})
    assert disabled.status_code == 302
    assert "disabled" in supervisor.get(disabled.headers["Location"]).get_data(as_text=True)
    assert "/console/login" in toms_browser.get("/console/").headers["Location"]
    assert sign_in(app.test_client(), tom.username, DEMO_PASSWORD).status_code == 401
    line = audit_lines(db, "user.disabled")[-1]
    assert (line.before, line.after) == ({"active": True}, {"active": False})

    enabled = supervisor.post(f"{USERS}/{tom.id}/active", data={"csrf_token": token, "active": "yes"})
    assert enabled.status_code == 302 and account(db, tom.username).is_active
    assert (
        supervisor.post(f"{USERS}/{tom.id}/active", data={"csrf_token": token, "active": "maybe"}).status_code
        == 400
    )


def test_a_reset_gives_a_one_time_password_and_ends_every_sign_in(app, supervisor, db, council):
    tom = next(u for u in council.values() if u.role == Role.ADVISER)
    toms_browser = signed_in(app, tom)
    token = csrf(supervisor, f"{USERS}/{tom.id}")
    reset = supervisor.post(f"{USERS}/{tom.id}/password", data={"csrf_token": token})
    assert reset.status_code == 200 and reset.headers["Cache-Control"].startswith("no-store")
    password = one_time_password(reset.get_data(as_text=True))
    assert "/console/login" in toms_browser.get("/console/").headers["Location"]
    again = app.test_client()
    assert "/console/password" in sign_in(again, tom.username, password).headers["Location"]
    assert account(db, tom.username).must_change_password
    assert audit_lines(db, "user.password_reset")[-1].subject_id == tom.id
    # A role change signs them out too: their pages change.
    assert supervisor.post(f"{USERS}/{tom.id}/password", data={}).status_code == 400  # no CSRF token


def test_unknown_accounts_are_404_and_advisers_are_refused(app, supervisor, council):
    assert supervisor.get(f"{USERS}/999999").status_code == 404
    token = csrf(supervisor, USERS + "/new")
    assert (
        supervisor.post(f"{USERS}/999999/active", data={"csrf_token": token, "active": "no"}).status_code
        == 404
    )
    adviser = signed_in(app, next(u for u in council.values() if u.role == Role.ADVISER))
    assert adviser.get(USERS).status_code == 403
    assert adviser.get("/console/supervisor/audit").status_code == 403


def test_the_audit_page_shows_who_changed_what_when_and_filters(supervisor, db, clock, council):
    tom = next(u for u in council.values() if u.role == Role.ADVISER)
    token = csrf(supervisor, f"{USERS}/{tom.id}")
    supervisor.post(
        f"{USERS}/{tom.id}",
        data={
            "csrf_token": token,
            "display_name": "Thomas Hirst",
            "role": "adviser",
            "adviser_id": str(tom.adviser_id),
        },
    )
    supervisor.post(f"{USERS}/{tom.id}/active", data={"csrf_token": token, "active": "no"})

    page = supervisor.get("/console/supervisor/audit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "2 changes" in html
    assert html.index(f"Account {tom.username} disabled") < html.index(
        f"Account {tom.username}: display name changed"
    )
    assert f"{tom.display_name} → Thomas Hirst" in html and "Yes → No" in html
    assert "Demo Supervisor" in html

    def listed(query: str) -> str:
        answer = supervisor.get(f"/console/supervisor/audit?{query}")
        assert answer.status_code == 200, query
        return answer.get_data(as_text=True)

    assert "2 changes" in listed(f"subject=user&id={tom.id}")
    assert "0 changes" in listed("subject=callback")
    assert "2 changes" in listed(f"user={council['supervisor'].id}")
    today = clock.now().date()
    assert "2 changes" in listed(f"since={today:%d/%m/%Y}&until={today:%d/%m/%Y}")
    assert "0 changes" in listed(f"since={today.replace(year=today.year + 1):%d/%m/%Y}")
    for query, message in (
        ("since=31/02/2026", "must be a real date"),
        ("since=02/12/2026&until=01/12/2026", "same as or after the first"),
        ("user=abc", "Choose who made the change"),
        ("user=99999", "Choose who made the change"),
        ("page=0", "A whole number"),
        ("subject=" + "x" * 41, "Keep this to 40"),
    ):
        answer = supervisor.get(f"/console/supervisor/audit?{query}")
        assert answer.status_code == 400 and message in answer.get_data(as_text=True), query
