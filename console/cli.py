"""`flask advisers ...`: see advisers' states and change them, and where they answer, from a shell (same rules
as the console)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from models import Adviser, AnswersOn
from routing.advisers import change_state, end_overdue_wrap_ups
from routing.answering import AnsweringRefused, set_answering
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
            inactive = "" if adviser.is_active else "  [inactive]"
            click.echo(
                f"{adviser.id:>4}  {adviser.name:<22} {adviser.home_library.name:<14} "
                f"{adviser.state.value:<17} since {since}{reason}{inactive}"
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
            adviser_id = _adviser_id(session, adviser)
            try:
                change = change_state(app_services, session, adviser_id, state, reason)
            except StateChangeRefused as refused:
                raise click.UsageError(refused.message) from None
        if change is None:
            click.echo(f"adviser {adviser_id} is already {state}; nothing changed")
        else:
            click.echo(f"adviser {adviser_id}: {change.previous} → {change.state} ({change.reason})")


@advisers_cli.command("answer-on")
@click.argument("adviser")
@click.argument("where", type=click.Choice([choice.value for choice in AnswersOn]))
@click.option("--number", help="The phone number their calls ring (UK mobile or landline); kept for later.")
def answer_on_command(adviser: str, where: str, number: str | None) -> None:
    """Make ADVISER (an id or client identity) answer calls in the browser or on a phone."""
    app_services = services()
    with app_services.session_factory() as session, session.begin():
        adviser_id = _adviser_id(session, adviser)
        try:
            change = set_answering(
                session, adviser_id, where, number, app_services.settings.default_region, by="command line"
            )
        except AnsweringRefused as refused:
            hint = "--number" if refused.field == "phone_number" else "WHERE"
            raise click.BadParameter(refused.message, param_hint=hint) from None
    if not change.changed:
        click.echo(f"adviser {adviser_id} already answers on the {where}; nothing changed")
    elif where == AnswersOn.PHONE.value:
        # The number itself is never printed: terminals are logged and shared.
        click.echo(f"adviser {adviser_id} now answers on their phone (calls ring the number given)")
    else:
        click.echo(f"adviser {adviser_id} now answers in the browser (the desk's softphone)")


def _adviser_id(session: Session, adviser: str) -> int:
    """The id of the adviser named by id or client identity, else a usage error naming ADVISER."""
    adviser_id = session.scalar(
        select(Adviser.id).where(
            or_(Adviser.client_identity == adviser, Adviser.id == (int(adviser) if adviser.isdigit() else -1))
        )
    )
    if adviser_id is None:
        raise click.BadParameter(f"no adviser with id or identity {adviser!r}", param_hint="ADVISER")
    return int(adviser_id)
