"""`flask --app app ...` commands: database, demo data, worker, retention, the Twilio account's set-up."""

from __future__ import annotations

import click
from flask import Flask

from runtime.web import services


def register_cli(app: Flask) -> None:
    from console.cli import advisers_cli
    from ivr.cli import flows_cli
    from simulator.cli import sim_cli
    from telephony.cli import twilio_cli

    app.cli.add_command(advisers_cli)
    app.cli.add_command(flows_cli)
    app.cli.add_command(twilio_cli)
    # Safe in any mode: `sim run` builds its own throwaway database, Redis and simulated Twilio.
    app.cli.add_command(sim_cli)

    @app.cli.command("db-upgrade")
    @click.argument("revision", default="head")
    def db_upgrade(revision: str) -> None:
        """Apply Alembic migrations up to REVISION (default head)."""
        from models.migrate import upgrade

        upgrade(services().settings.database_url, revision)
        click.echo(f"database upgraded to {revision}")

    @app.cli.command("db-downgrade")
    @click.argument("revision", default="base")
    def db_downgrade(revision: str) -> None:
        """Revert Alembic migrations down to REVISION (default base: drops every table)."""
        from models.migrate import downgrade

        downgrade(services().settings.database_url, revision)
        click.echo(f"database downgraded to {revision}")

    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Load the demo libraries, advisers and console users (idempotent; all marked as demo data)."""
        from ivr.versions import install_default_flow
        from models.demo import DEMO_PASSWORD, seed_demo

        app_services = services()
        with app_services.session_factory.begin() as session:
            created = seed_demo(session, app_services.clock.now())
            flow = install_default_flow(session, app_services.clock.now())
            published = f"{flow.flow.name} version {flow.number}" if flow is not None else None
        click.echo("demo data: " + ", ".join(f"{n} {k} created" for k, n in created.items()))
        if published:
            click.echo(f"published the shipped Kirklees menu as {published}")
        click.echo(f"demo console users: supervisor, admin, aisha, tom, ... (password: {DEMO_PASSWORD})")

    @app.cli.command("purge-personal-data")
    def purge_personal_data() -> None:
        """Redact caller numbers and references older than CALL_DATA_RETENTION_DAYS (run daily)."""
        from ivr.calls import redact_expired_personal_data

        app_services = services()
        with app_services.session_factory.begin() as session:
            count = redact_expired_personal_data(
                session, app_services.clock.now(), app_services.settings.call_data_retention_days
            )
        click.echo(f"redacted personal data from {count} calls")

    @app.cli.group("callbacks")
    def callbacks_group() -> None:
        """Scheduled callbacks (the database row is the truth; RQ only does the timing)."""

    @callbacks_group.command("reconcile")
    def callbacks_reconcile() -> None:
        """Re-enqueue due callbacks the job queue lost, settle stale dials, send texts not yet sent."""
        from callbacks.lifecycle import reconcile

        report = reconcile(services())
        click.echo(
            f"dials enqueued: {report.dials_enqueued}, stale claims settled: {report.stale_claims}, "
            f"texts enqueued: {report.texts_enqueued}"
        )

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Process what is queued, then exit.")
    def worker_command(burst: bool) -> None:
        """Run the RQ worker with its scheduler (timed callbacks, reconciler)."""
        from runtime.worker import run_worker

        run_worker(services().settings, burst=burst)
