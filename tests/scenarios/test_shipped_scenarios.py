"""Every scenario shipped in scenarios/ passes against the live app; a failing one is reported with its reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo

from simulator.cli import sim_cli
from simulator.live import CouncilLine
from simulator.scenarios import load_scenario, run_scenario
from tests.conftest import REPO_ROOT

SHIPPED = sorted((REPO_ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[path.stem for path in SHIPPED])
def test_shipped_scenario_passes(live_service, path: Path):
    result = run_scenario(load_scenario(path), CouncilLine(live_service))
    assert result.passed, result.report_line()


def test_the_product_ships_scenarios_for_the_main_journeys():
    names = {load_scenario(path).name for path in SHIPPED}
    assert {
        "council-tax-by-keypad",
        "housing-benefit-by-speech",
        "polish-speaker",
        "polish-caller-books-a-callback-in-polish",
        "silent-caller-reaches-an-adviser",
        "invalid-keys-reach-an-adviser",
        "reference-corrected",
        "closed-on-christmas-day",
        "closed-at-night-withheld",
    } <= names


def test_a_scenario_whose_expectation_fails_is_reported_with_the_reason(live_service, tmp_path: Path):
    path = tmp_path / "wrong.yaml"
    path.write_text(
        "name: wrong-expectation\ncaller: '+447911123456'\nsteps:\n  - press: '1'\n"
        "expect:\n  - heard: free parking permits\n  - reached_queue: council_tax\n"
    )
    result = run_scenario(load_scenario(path), CouncilLine(live_service))
    assert not result.passed
    line = result.report_line()
    assert line.startswith("FAIL wrong-expectation: expected to hear 'free parking permits'; heard: ")
    assert "For council tax, press 1" in line  # what the caller did hear, to show the author the way
    assert "expected to reach queue 'council_tax'; queues reached: none" in line


def test_sim_run_prints_a_line_per_scenario_and_a_summary_and_exits_1_on_failure(tmp_path: Path):
    passing = REPO_ROOT / "scenarios" / "polish-speaker.yaml"
    failing = tmp_path / "failing.yaml"
    failing.write_text(
        "name: hears-nothing-useful\ncaller: withheld\nsteps:\n  - press: '1'\n"
        "expect:\n  - heard: Press 5 for bins\n"
    )
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text("name: typo\ncaller: withheld\nsteps:\n  - presss: '1'\nexpect:\n  - heard: x\n")

    result = CliRunner().invoke(
        sim_cli,
        ["run", str(passing), str(failing), str(invalid)],
        obj=ScriptInfo(create_app=lambda: Flask("sim-cli-test")),
    )

    lines = result.output.strip().splitlines()
    assert result.exit_code == 1, result.output
    assert "PASS polish-speaker" in lines
    assert any(
        line.startswith("FAIL hears-nothing-useful: expected to hear 'Press 5 for bins'") for line in lines
    )
    assert any(line.startswith("FAIL invalid: invalid scenario file:") and "step 1" in line for line in lines)
    assert lines[-1] == "1 passed, 2 failed"


def test_sim_run_exits_0_when_every_scenario_passes(tmp_path: Path):
    result = CliRunner().invoke(
        sim_cli,
        ["run", str(REPO_ROOT / "scenarios" / "council-tax-by-keypad.yaml")],
        obj=ScriptInfo(create_app=lambda: Flask("sim-cli-test")),
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-2:] == ["PASS council-tax-by-keypad", "1 passed, 0 failed"]
