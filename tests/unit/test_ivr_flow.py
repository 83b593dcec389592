"""Flow definitions: the shipped flow is valid, and each validation and lint rule catches its broken flow."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from ivr.flow import (
    DEFAULT_FLOW_PATH,
    FlowError,
    MenuNode,
    default_flow,
    diff,
    lint,
    load_flow,
    load_flow_file,
    menu_depths,
    validate,
)

HOURS = {"opening_hours": {"mon": [["09:00", "17:00"]]}, "closures": []}


def small_flow() -> dict[str, Any]:
    """A valid flow with one menu, an adviser queue and a goodbye, to break one rule at a time."""
    return {
        "name": "small",
        "version": 1,
        "start": "main",
        "languages": ["en-GB"],
        "service_hours": copy.deepcopy(HOURS),
        "globals": {
            "repeat": {"key": "9"},
            "back": {"key": "*"},
            "adviser": {"key": "0", "target": "adviser"},
            "on_no_input": {"fallback": "adviser"},
            "on_invalid": {"fallback": "adviser"},
        },
        "nodes": {
            "main": {
                "kind": "menu",
                "prompt": {"en-GB": "For council tax, press 1. To leave, press 2."},
                "options": [{"key": "1", "target": "adviser"}, {"key": "2", "target": "goodbye"}],
            },
            "adviser": {"kind": "queue", "topic": "council_tax"},
            "goodbye": {"kind": "hangup", "goodbye": {"en-GB": "Goodbye."}},
        },
    }


def codes(definition: dict[str, Any]) -> list[str]:
    return [problem.code for problem in validate(definition)]


def test_the_shipped_kirklees_flow_is_valid_and_lint_clean():
    definition = json.loads(DEFAULT_FLOW_PATH.read_text(encoding="utf-8"))

    assert validate(definition) == []
    assert lint(default_flow()) == []


def test_the_small_test_flow_is_valid():
    assert validate(small_flow()) == []


def test_every_menu_in_the_shipped_flow_has_at_most_five_options_and_the_adviser_key():
    flow = default_flow()
    menus = [node for node in flow.nodes.values() if isinstance(node, MenuNode)]

    assert len(menus) == 3
    assert all(len(menu.options) <= 5 and "adviser" in menu.globals_enabled for menu in menus)
    assert max(menu_depths(flow)[menu.id] for menu in menus) + 1 <= 3


def test_an_unknown_node_kind_is_rejected_by_name():
    definition = small_flow()
    definition["nodes"]["goodbye"]["kind"] = "dance"

    problems = validate(definition)

    assert [problem.code for problem in problems] == ["unknown_kind"]
    assert "'dance'" in problems[0].message
    assert problems[0].where == "/nodes/goodbye/kind"


def test_a_misspelt_field_is_rejected_by_the_schema():
    definition = small_flow()
    definition["nodes"]["main"]["optoins"] = []

    problems = validate(definition)

    assert problems[0].code == "schema"
    assert "optoins" in problems[0].message


def test_a_target_naming_no_node_is_a_dangling_target():
    definition = small_flow()
    definition["nodes"]["main"]["options"][1]["target"] = "good_bye"

    problems = validate(definition)

    assert [problem.code for problem in problems] == ["dangling_target"]
    assert "'good_bye'" in problems[0].message


def test_a_node_nobody_can_reach_is_unreachable():
    definition = small_flow()
    definition["nodes"]["orphan"] = {"kind": "hangup", "goodbye": {"en-GB": "Goodbye."}}

    assert codes(definition) == ["unreachable"]


def test_automatic_nodes_going_round_in_a_circle_are_a_dead_end():
    definition = small_flow()
    definition["nodes"]["main"]["options"][1]["target"] = "ping"
    definition["nodes"]["ping"] = {"kind": "say", "text": {"en-GB": "Ping."}, "next": "pong"}
    definition["nodes"]["pong"] = {"kind": "say", "text": {"en-GB": "Pong."}, "next": "ping"}
    del definition["nodes"]["goodbye"]

    assert codes(definition)[:2] == ["dead_end", "dead_end"]


def test_a_menu_without_a_no_input_fallback_is_rejected():
    definition = small_flow()
    del definition["globals"]["on_no_input"]

    problems = validate(definition)

    assert [(problem.code, problem.where) for problem in problems] == [("missing_fallback", "main")]
    assert "on_no_input" in problems[0].message


def test_a_menu_without_an_invalid_input_fallback_is_rejected():
    definition = small_flow()
    del definition["globals"]["on_invalid"]

    assert codes(definition) == ["missing_fallback"]


def test_fallbacks_that_send_a_silent_caller_round_in_a_loop_are_rejected():
    definition = small_flow()
    definition["nodes"]["main"]["on_no_input"] = {"fallback": "second"}
    definition["nodes"]["main"]["options"][1]["target"] = "second"
    definition["nodes"]["second"] = {
        "kind": "menu",
        "prompt": {"en-GB": "Press 1 to leave."},
        "options": [{"key": "1", "target": "goodbye"}],
        "on_no_input": {"fallback": "main"},
    }

    problems = validate(definition)

    assert [problem.code for problem in problems] == ["fallback_loop"]
    assert "main → second → main" in problems[0].message


def test_an_option_on_a_global_key_is_a_clash_unless_that_key_is_switched_off():
    definition = small_flow()
    definition["nodes"]["main"]["options"][1]["key"] = "0"

    assert codes(definition) == ["key_clash"]

    definition["nodes"]["main"]["globals_off"] = ["adviser"]
    assert codes(definition) == []


def test_two_options_on_the_same_key_clash():
    definition = small_flow()
    definition["nodes"]["main"]["options"][1]["key"] = "1"

    assert codes(definition) == ["key_clash"]


def test_a_capture_with_a_broken_pattern_or_readback_field_is_rejected():
    definition = small_flow()
    definition["nodes"]["main"]["options"][0]["target"] = "reference"
    definition["nodes"]["reference"] = {
        "kind": "capture",
        "name": "account",
        "prompt": {"en-GB": "Key in your account number."},
        "pattern": "^[0-9{8}$",
        "readback": {"en-GB": "I heard {digits}."},
        "next": "adviser",
    }

    assert sorted(codes(definition)) == ["bad_pattern", "bad_readback"]


def test_the_adviser_key_must_not_lead_into_another_menu():
    definition = small_flow()
    definition["globals"]["adviser"]["target"] = "main"
    definition["globals"]["on_no_input"]["fallback"] = "adviser_queue"
    definition["globals"]["on_invalid"]["fallback"] = "adviser_queue"
    definition["nodes"]["adviser_queue"] = definition["nodes"].pop("adviser")
    definition["nodes"]["main"]["options"][0]["target"] = "adviser_queue"

    assert codes(definition) == ["adviser_not_direct"]


def test_a_language_twilio_setup_does_not_know_is_rejected():
    definition = small_flow()
    definition["languages"] = ["en-GB", "tlh-QO"]

    assert codes(definition) == ["unknown_language"]


def test_check_hours_needs_service_hours_and_they_must_be_readable():
    definition = small_flow()
    definition["nodes"]["main"]["options"][0]["target"] = "hours"
    definition["nodes"]["hours"] = {"kind": "check_hours", "open": "adviser", "closed": "goodbye"}
    assert codes(definition) == []

    definition["service_hours"]["opening_hours"]["mon"] = [["17:00", "09:00"]]
    assert codes(definition) == ["bad_hours"]

    del definition["service_hours"]
    assert codes(definition) == ["no_hours"]


def test_prompts_need_english():
    definition = small_flow()
    definition["nodes"]["goodbye"]["goodbye"] = {"pl-PL": "Do widzenia."}

    assert codes(definition) == ["schema"]


def test_loading_an_invalid_flow_raises_an_error_listing_every_problem():
    definition = small_flow()
    definition["nodes"]["main"]["options"][1]["target"] = "nowhere"
    definition["globals"]["adviser"]["target"] = "nobody"

    with pytest.raises(FlowError) as raised:
        load_flow(definition)

    assert len(raised.value.problems) == 2
    assert "'nowhere'" in str(raised.value) and "'nobody'" in str(raised.value)


def test_a_flow_file_that_is_not_json_is_a_flow_error(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{ not json", encoding="utf-8")

    with pytest.raises(FlowError) as raised:
        load_flow_file(path)
    assert raised.value.problems[0].code == "json"


def test_validate_refuses_something_that_is_not_a_flow_object():
    assert [problem.code for problem in validate(["nodes"])] == ["schema"]


# --- lint ------------------------------------------------------------------------------------------------


def test_lint_warns_about_a_menu_with_more_than_five_options():
    definition = small_flow()
    definition["nodes"]["main"]["options"] = [
        {"key": str(key), "target": "adviser"} for key in range(1, 7)
    ] + [{"key": "7", "target": "goodbye"}]

    warnings = lint(load_flow(definition))

    assert [(warning.code, warning.where) for warning in warnings] == [("too_many_options", "main")]


def test_lint_warns_about_menus_more_than_three_levels_deep():
    definition = small_flow()
    for level in range(1, 5):
        target = f"level{level + 1}" if level < 4 else "goodbye"
        definition["nodes"][f"level{level}"] = {
            "kind": "menu",
            "prompt": {"en-GB": "Press 1."},
            "options": [{"key": "1", "target": target}],
        }
    definition["nodes"]["main"]["options"][1]["target"] = "level1"

    warnings = lint(load_flow(definition))

    assert [(warning.code, warning.where) for warning in warnings] == [
        ("too_deep", "level3"),
        ("too_deep", "level4"),
    ]


def test_lint_warns_about_a_menu_with_the_adviser_key_switched_off():
    definition = small_flow()
    definition["nodes"]["main"]["options"][0]["target"] = "goodbye"
    definition["nodes"]["main"]["globals_off"] = ["adviser"]
    definition["nodes"]["main"]["on_no_input"] = {"fallback": "adviser"}

    warnings = lint(load_flow(definition))

    assert [warning.code for warning in warnings] == ["no_adviser_option"]


def test_lint_accepts_an_adviser_key_switched_off_when_an_option_reaches_a_person():
    definition = small_flow()
    definition["nodes"]["main"]["globals_off"] = ["adviser"]

    assert lint(load_flow(definition)) == []


def test_lint_warns_about_missing_translations_and_long_prompts():
    definition = small_flow()
    definition["languages"] = ["en-GB", "pl-PL"]
    definition["nodes"]["goodbye"]["goodbye"]["pl-PL"] = "Do widzenia."
    definition["nodes"]["main"]["prompt"]["en-GB"] = "Press 1 or 2. " + "Please listen carefully. " * 10

    warnings = lint(load_flow(definition))

    assert sorted(warning.code for warning in warnings) == ["long_prompt", "missing_translation"]


# --- diff ------------------------------------------------------------------------------------------------


def test_diff_lists_added_removed_and_changed_nodes():
    old = small_flow()
    new = copy.deepcopy(old)
    new["nodes"]["main"]["options"][1]["target"] = "farewell"
    new["nodes"]["farewell"] = new["nodes"].pop("goodbye")
    new["nodes"]["farewell"]["goodbye"]["en-GB"] = "Thank you for calling. Goodbye."
    new["globals"]["on_no_input"]["max"] = 3

    result = diff(old, load_flow(new))

    assert result.added == ("farewell (hangup)",)
    assert result.removed == ("goodbye (hangup)",)
    assert [change.node for change in result.changed] == ["main"]
    assert result.changed[0].fields == ("options.1.target: 'goodbye' → 'farewell'",)
    assert result.settings == ("globals.on_no_input.max: added 3",)
    assert str(result).splitlines()[:3] == ["+ farewell (hangup)", "- goodbye (hangup)", "~ main"]


def test_diff_of_identical_flows_is_empty():
    result = diff(small_flow(), small_flow())

    assert result.is_empty()
    assert str(result) == "no changes"
