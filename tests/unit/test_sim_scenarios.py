"""Scenario files are checked before anything runs, and every problem names the file and the step at fault."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from simulator.scenarios import DEFAULT_START, ScenarioError, load_scenario, parse_scenario
from tests.conftest import REPO_ROOT

FILE = Path("scenarios/example.yaml")
VALID = """
name: council-tax-by-keypad
caller: "07911 123456"
steps:
  - press: "1"
  - say: housing benefit
    confidence: 0.6
  - silence: true
  - wait: 300
  - adviser_answers: adviser-aisha-khan
  - hangup: true
expect:
  - heard: Welcome
  - reached_queue: council_tax
"""


def problems_in(text: str) -> str:
    with pytest.raises(ScenarioError) as raised:
        parse_scenario(text, FILE)
    return str(raised.value)


def test_a_valid_scenario_reads_into_steps_and_expectations_with_the_caller_in_e164():
    scenario = parse_scenario(VALID, FILE)
    assert scenario.caller == "+447911123456"
    assert [(step.action, step.value) for step in scenario.steps] == [
        ("press", "1"),
        ("say", "housing benefit"),
        ("silence", True),
        ("wait", 300),
        ("adviser_answers", "adviser-aisha-khan"),
        ("hangup", True),
    ]
    assert scenario.steps[1].confidence == 0.6
    assert scenario.expectations == (("heard", "Welcome"), ("reached_queue", "council_tax"))
    assert scenario.start == DEFAULT_START


def test_a_withheld_caller_has_no_number_and_an_unquoted_start_time_is_read_as_utc():
    scenario = parse_scenario(
        VALID.replace('"07911 123456"', "withheld") + "setup:\n  start: 2026-12-25T10:00:00Z\n", FILE
    )
    assert scenario.caller is None
    assert scenario.start == datetime(2026, 12, 25, 10, 0, tzinfo=UTC)


def test_a_misspelt_step_names_the_file_the_step_number_and_the_steps_there_are():
    message = problems_in(VALID.replace('- press: "1"', '- presss: "1"'))
    assert message.startswith("scenarios/example.yaml: step 1 (steps[0]): ")
    assert "'presss' was unexpected" in message
    assert "a step is one of: press, say, silence, wait, hangup, adviser_answers, adviser_rejects" in message


def test_keys_written_as_a_number_are_refused_with_a_hint_to_quote_them():
    message = problems_in(VALID.replace('press: "1"', "press: 0123"))
    assert "step 1 (steps[0].press)" in message
    assert 'put keys in quotes, e.g. press: "1"' in message


def test_a_step_doing_two_things_is_refused():
    message = problems_in(VALID.replace("  - silence: true\n", "  - silence: true\n    wait: 60\n"))
    assert "step 3 (steps[2]): a step does exactly one thing, this one has ['silence', 'wait']" in message


def test_confidence_without_speech_is_refused():
    message = problems_in(VALID.replace("  - silence: true\n", "  - silence: true\n    confidence: 0.5\n"))
    assert "step 3 (steps[2]): confidence only goes with say" in message


def test_an_unknown_expectation_lists_the_ones_there_are():
    message = problems_in(VALID.replace("  - heard: Welcome", "  - hears: Welcome"))
    assert "expectation 1 (expect[0])" in message
    assert "an expectation is one of: heard, not_heard, reached_queue" in message


def test_every_problem_is_listed_not_only_the_first():
    message = problems_in(
        VALID.replace("name: council-tax-by-keypad", "name: Council Tax!").replace("wait: 300", "wait: -5")
    )
    lines = message.splitlines()
    assert len(lines) == 2
    assert all(line.startswith("scenarios/example.yaml: ") for line in lines)
    assert any(
        line.startswith("scenarios/example.yaml: name: ") and "joined by hyphens" in line for line in lines
    )
    assert any(
        "step 4 (steps[3].wait): -5 is less than or equal to the minimum of 0" in line for line in lines
    )


def test_a_caller_that_is_not_a_phone_number_is_refused():
    assert "caller: 'call me' is not a phone number (or write: withheld)" in problems_in(
        VALID.replace('"07911 123456"', '"call me"')
    )


def test_missing_sections_and_a_bad_start_time_are_named():
    message = problems_in("name: x\ncaller: withheld\nsetup:\n  start: next tuesday\n")
    assert "'steps' is a required property" in message
    assert "'expect' is a required property" in message
    assert "setup.start: " in message and '"2026-12-25T10:00:00Z"' in message


def test_broken_yaml_and_a_missing_file_name_the_file(tmp_path: Path):
    assert problems_in("name: [unclosed").startswith("scenarios/example.yaml: not valid YAML")
    with pytest.raises(ScenarioError, match="missing.yaml: cannot read"):
        load_scenario(tmp_path / "missing.yaml")


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "scenarios").glob("*.yaml")), ids=lambda path: path.stem)
def test_every_shipped_scenario_file_is_valid_and_named_after_its_file(path: Path):
    assert load_scenario(path).name == path.stem
