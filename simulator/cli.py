"""`flask --app app sim run scenarios/*.yaml`: run scenario files against a throwaway copy of the service."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import click
from flask.cli import AppGroup

from simulator.scenarios import Scenario, ScenarioError, ScenarioResult, load_scenario, run_scenario

sim_cli = AppGroup("sim", help="The local Twilio simulator: run scenario files.")


@sim_cli.command("run")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def run_command(paths: tuple[Path, ...]) -> None:
    """Run each scenario file; print PASS/FAIL per scenario and exit 1 if any failed.

    Each scenario gets its own empty database, Redis and simulated Twilio, with a clock that jumps, so a
    20-minute queue wait takes milliseconds. The configured database, Redis and Twilio are never touched.
    """
    from simulator.live import scenario_council

    loaded: list[Scenario | ScenarioResult] = []
    for path in paths:
        try:
            loaded.append(load_scenario(path))
        except ScenarioError as error:
            problems = "; ".join(str(error).splitlines())  # one line per scenario, even with many problems
            loaded.append(ScenarioResult(path.stem, (f"invalid scenario file: {problems}",)))
    results: list[ScenarioResult] = []
    with ExitStack() as stack:
        open_line = None
        for item in loaded:
            if isinstance(item, Scenario):
                # Start the throwaway council only when there is something to run on it.
                open_line = open_line or stack.enter_context(scenario_council())
                with open_line() as line:
                    item = run_scenario(item, line)
            results.append(item)
            click.echo(item.report_line())
    failed = sum(1 for result in results if not result.passed)
    click.echo(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        raise SystemExit(1)
