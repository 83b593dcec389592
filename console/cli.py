"""`flask advisers ...`: see advisers' states and change them from a shell (same rules as the console)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from models import Adviser
from routing.advisers import change_state, end_overdue_wrap_ups
from routing.states import StateChangeRefused
from runtime.web import services

advisers_cli = AppGroup(
    "advisers", help="Advisers' states: offline, available, on call, wrap-up, break, customer at desk."
)


@advisers_cli.command("list")
@click.option("--library", help="Only advisers whose home is this library.")
@click.option("--state", help="Only advisers in this state.")
def list_command(library: str | None, state: str | None) -> None:
    """List advisers with their state, since when and why."""
    app_services = services()
    end_overdue_wrap_ups(app_services)
    with app_services.session_factory() as session:
        advisers = session.scalars(
            select(Adviser).options(selectinload(Adviser.home_library)).order_by(Adviser.id)
        ).all()
        for adviser in advisers:
            if library and adviser.home_library.name != library:
                continue
            if state and adviser.state.value != state:
                continue
            since = adviser.state_since.strftime("%Y-%m-%d %H:%M")
            reason = f"  ({adviser.state_reason})" if adviser.state_reason else ""
            click.echo(
                f"{adviser.id:>4}  {adviser.name:<22} {adviser.home_library.name:<14} "
                f"{adviser.state.value:<17} since {since}{reason}"
            )


@advisers_cli.command("state")
@click.argument("adviser")
@click.argument("state")
@click.option("--reason", help="Why (kept in the adviser's state history).")
def state_command(adviser: str, state: str, reason: str | None) -> None:
    """Set ADVISER (an id or a client identity such as adviser-aisha-khan) to STATE."""
    app_services = services()
    with app_services.session_factory() as session:
        with session.begin():
            adviser_id = session.scalar(
                select(Adviser.id).where(
                    or_(
                        Adviser.client_identity == adviser,
                        Adviser.id == (int(adviser) if adviser.isdigit() else -1),
                    )
                )
            )
            if adviser_id is None:
                raise click.BadParameter(f"no adviser with id or identity {adviser!r}", param_hint="ADVISER")
            try:
                change = change_state(app_services, session, adviser_id, state, reason)
            except StateChangeRefused as refused:
                raise click.UsageError(refused.message) from None
        if change is None:
            click.echo(f"adviser {adviser_id} is already {state}; nothing changed")
        else:
            click.echo(f"adviser {adviser_id}: {change.previous} → {change.state} ({change.reason})")
