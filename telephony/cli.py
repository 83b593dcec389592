"""`flask twilio setup`: point the council's number at this app and create the softphone's API key."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from runtime.web import services
from telephony.gateway import TelephonyError
from telephony.setup import SetupRefused, set_up

twilio_cli = AppGroup("twilio", help="The Twilio account this app runs on.")


@twilio_cli.command("setup")
@click.option("--dry-run", is_flag=True, help="Only say what would change in the Twilio account.")
def setup_command(dry_run: bool) -> None:
    """Point TWILIO_PHONE_NUMBER's voice, fallback, status and SMS URLs at PUBLIC_BASE_URL; make an API key.

    Safe to run again: what is already right is left alone, and it says so.
    """
    app_services = services()
    try:
        set_up(app_services.settings, app_services.gateway, dry_run, click.echo)
    except SetupRefused as refused:
        raise click.ClickException(str(refused)) from None
    except TelephonyError as error:
        hint = " Check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN." if error.status in {401, 403} else ""
        raise click.ClickException(f"{error}.{hint}") from None
