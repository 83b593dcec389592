"""`flask flows validate|publish|diff|export|import|list|rollback` for supervisors and deploy scripts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from ivr import versions
from ivr.flow import FlowError, diff
from runtime.web import services


class FlowsGroup(AppGroup):
    """The flows commands; asking for a flow or version that does not exist is one line, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except versions.FlowNotFound as error:
            raise click.ClickException(str(error)) from None


flows_cli = FlowsGroup("flows", help="Manage voice-menu flows and their versions.")


def _report(definition: object) -> bool:
    report = versions.check(definition)
    for problem in report.problems:
        click.echo(f"error   {problem}")
    for warning in report.warnings:
        click.echo(f"warning {warning}")
    click.echo("valid" if report.publishable else f"invalid: {len(report.problems)} problem(s)")
    return report.publishable


@flows_cli.command("validate")
@click.argument("source")
@click.option(
    "--version", "number", type=int, help="Validate a stored version of flow SOURCE instead of a file."
)
def validate_command(source: str, number: int | None) -> None:
    """Validate and lint a flow file (or a stored version with --version); exit 1 if invalid."""
    if number is None:
        definition = json.loads(Path(source).read_text())
    else:
        with services().session_factory() as session:
            definition = versions.get_version(session, source, number).definition
    if not _report(definition):
        sys.exit(1)


@flows_cli.command("import")
@click.argument("name")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--author", default="cli", show_default=True)
@click.option("--publish", "and_publish", is_flag=True, help="Publish it straight away if it is valid.")
def import_command(name: str, path: str, author: str, and_publish: bool) -> None:
    """Store the flow file at PATH as a new draft version of flow NAME."""
    definition = json.loads(Path(path).read_text())
    app_services = services()
    with app_services.session_factory.begin() as session:
        version = versions.save_draft(session, name, definition, author, app_services.clock.now())
        click.echo(f"saved {name} version {version.number} as draft")
        valid = _report(definition)
        if and_publish:
            if not valid:
                raise click.ClickException("not published: the flow is invalid")
            versions.publish(session, name, version.number, app_services.clock.now())
            click.echo(f"published {name} version {version.number}")


@flows_cli.command("publish")
@click.argument("name")
@click.argument("number", type=int)
def publish_command(name: str, number: int) -> None:
    """Publish version NUMBER of flow NAME (archives the current one). Rollback = publish an older number."""
    app_services = services()
    try:
        with app_services.session_factory.begin() as session:
            versions.publish(session, name, number, app_services.clock.now())
    except (FlowError, versions.FlowNotFound) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"published {name} version {number}; calls already in progress keep their version")


@flows_cli.command("list")
@click.argument("name", default=versions.MAIN_FLOW_NAME)
def list_command(name: str) -> None:
    """List the versions of flow NAME."""
    with services().session_factory() as session:
        for version in versions.list_versions(session, name):
            click.echo(
                f"{version.number:>4}  {version.status.value:<9}  {version.author:<20}  {version.created_at:%Y-%m-%d %H:%M}"
            )


@flows_cli.command("diff")
@click.argument("name")
@click.argument("old", type=int)
@click.argument("new", type=int)
def diff_command(name: str, old: int, new: int) -> None:
    """Show what changed, node by node, between two versions of flow NAME."""
    with services().session_factory() as session:
        changes = diff(
            versions.get_version(session, name, old).definition,
            versions.get_version(session, name, new).definition,
        )
    click.echo("\n".join(changes.lines()) if not changes.is_empty() else "no differences")


@flows_cli.command("export")
@click.argument("name")
@click.option("--version", "number", type=int, help="Default: the published version.")
def export_command(name: str, number: int | None) -> None:
    """Print a version of flow NAME as JSON (to keep in the repo or import elsewhere)."""
    with services().session_factory() as session:
        version = versions.get_version(session, name, number)
    click.echo(json.dumps(version.definition, indent=2, ensure_ascii=False))


@flows_cli.command("funnel")
def funnel_command() -> None:
    """How many calls reached each menu node, and with what outcome."""
    from ivr.reports import funnel

    with services().session_factory() as session:
        rows = funnel(session)
    for row in rows:
        click.echo(f"{row.node:<24} {row.outcome:<16} {row.calls:>6}")


@flows_cli.command("journey")
@click.argument("call_sid")
def journey_command(call_sid: str) -> None:
    """Replay one call's journey step by step."""
    from ivr.reports import journey

    with services().session_factory() as session:
        events = journey(session, call_sid)
    if not events:
        raise click.ClickException(f"no journey recorded for {call_sid}")
    for event in events:
        click.echo(
            f"{event.occurred_at:%H:%M:%S}  {event.kind:<11} {event.node or '-':<22} {event.outcome or '-':<12} {event.caller_input or ''}"
        )
