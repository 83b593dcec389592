"""`flask advisers list|state`: the same rules as the console, from a shell."""

from __future__ import annotations

from argon2 import PasswordHasher
from sqlalchemy import select

from models import Adviser, AdviserState, AdviserStateChange
from models.demo import client_identity_for, seed_demo
from routing.live import MATCH_JOB, adviser_key, ready_store
from runtime.web import EXTENSION_KEY

AISHA = client_identity_for("Aisha Khan")


def seeded(app, clock):
    services = app.extensions[EXTENSION_KEY]
    with services.session_factory.begin() as session:
        seed_demo(
            session, clock.now(), password_hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        )
    return services


def aisha(services) -> Adviser:
    with services.session_factory() as session:
        return session.scalars(select(Adviser).where(Adviser.client_identity == AISHA)).one()


def test_state_by_client_identity_changes_database_store_and_asks_for_matching(app, runner, clock):
    services = seeded(app, clock)
    result = runner.invoke(args=["advisers", "state", AISHA, "available", "--reason", "covering the phones"])
    assert result.exit_code == 0, result.output
    assert "offline → available (covering the phones)" in result.output
    adviser = aisha(services)
    assert adviser.state == AdviserState.AVAILABLE
    with services.session_factory() as session:
        event = session.scalars(select(AdviserStateChange)).one()
        status = {s.profile.adviser_id: s for s in ready_store(services, session).snapshot().advisers}
    assert event.changed_by_user_id is None and event.reason == "covering the phones"
    assert status[adviser_key(adviser.id)].state == "available"
    assert [job.func_name for job in services.queue.get_jobs()] == [MATCH_JOB]


def test_state_by_id_and_list_filtered_by_state(app, runner, clock):
    services = seeded(app, clock)
    adviser_id = aisha(services).id
    assert runner.invoke(args=["advisers", "state", str(adviser_id), "customer_at_desk"]).exit_code == 0
    listed = runner.invoke(args=["advisers", "list", "--state", "customer_at_desk"])
    assert listed.exit_code == 0
    lines = listed.output.strip().splitlines()
    assert len(lines) == 1 and "Aisha Khan" in lines[0] and "helping a customer at the desk" in lines[0]
    assert (
        len(runner.invoke(args=["advisers", "list", "--library", "Dewsbury"]).output.strip().splitlines())
        == 3
    )


def test_refusals_are_plain_messages_not_tracebacks(app, runner, clock):
    seeded(app, clock)
    unknown = runner.invoke(args=["advisers", "state", "adviser-nobody", "available"])
    assert unknown.exit_code == 2 and "no adviser with id or identity 'adviser-nobody'" in unknown.output
    on_call = runner.invoke(args=["advisers", "state", AISHA, "on_call"])
    assert on_call.exit_code == 2 and "set when calls start and end" in on_call.output
    again = runner.invoke(args=["advisers", "state", AISHA, "offline"])
    assert again.exit_code == 0 and "already offline; nothing changed" in again.output


def test_an_inactive_adviser_is_marked_in_the_list_and_cannot_be_made_available(app, runner, clock):
    services = seeded(app, clock)
    with services.session_factory.begin() as session:
        session.get_one(Adviser, aisha(services).id).is_active = False
    listed = runner.invoke(args=["advisers", "list", "--library", "Huddersfield"]).output
    assert [line for line in listed.splitlines() if "[inactive]" in line] == [
        line for line in listed.splitlines() if "Aisha Khan" in line
    ]
    refused = runner.invoke(args=["advisers", "state", AISHA, "available"])
    assert refused.exit_code != 0 and "not active" in refused.output
    assert aisha(services).state == AdviserState.OFFLINE
