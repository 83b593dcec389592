"""The matching engine: who is qualified, how the search widens, who goes first, and why."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from models.demo import LIBRARIES
from routing.engine import (
    AVAILABLE,
    BREAK,
    CUSTOMER_AT_DESK,
    MOST_PROFICIENT_FIRST,
    OFFLINE,
    ON_CALL,
    WRAP_UP,
    AvailableAdviser,
    RoutingState,
    WaitingCaller,
    assign_all,
    choose,
)
from routing.widening import WideningConfigError, default_rules, parse_rules

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
NEIGHBOURS = {library.name: library.neighbours for library in LIBRARIES}
RULES = default_rules(NEIGHBOURS)
CT, HB = "council_tax", "housing_benefit"


def caller(
    call_sid: str = "CA1",
    topic: str = CT,
    language: str = "en-GB",
    library: str = "Huddersfield",
    joined: float = 0,
    **fields: Any,
) -> WaitingCaller:
    return WaitingCaller(call_sid, topic, language, library, T0 + timedelta(seconds=joined), **fields)


def adviser(
    adviser_id: str = "1",
    library: str = "Huddersfield",
    skills: dict[str, int] | None = None,
    languages: tuple[str, ...] = ("en-GB",),
    idle_for: float = 0,
    state: str = AVAILABLE,
) -> AvailableAdviser:
    return AvailableAdviser(
        adviser_id,
        library,
        skills if skills is not None else {CT: 4},
        frozenset(languages),
        T0 - timedelta(seconds=idle_for),
        state,
    )


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def both_ways(waiting, advisers, now, strategy=None):  # type: ignore[no-untyped-def]
    """Run the readable `choose` and the indexed RoutingState; they must agree, so return one answer."""
    kwargs = {"strategy": strategy} if strategy else {}
    expected = choose(waiting, advisers, now, RULES, **kwargs)
    state = RoutingState(RULES, **kwargs)
    for c in waiting:
        state.add_caller(c)
    for a in advisers:
        state.put_adviser(a)
    assert state.choose(now) == expected
    return expected


def test_caller_goes_to_an_adviser_with_their_topic_skill():
    advisers = [adviser("tax", skills={CT: 4}), adviser("benefit", skills={HB: 5}, idle_for=600)]
    assignment = both_ways([caller(topic=HB)], advisers, at(1))
    assert (assignment.call_sid, assignment.adviser_id) == ("CA1", "benefit")


def test_nobody_is_chosen_when_no_adviser_has_the_topic():
    assert both_ways([caller(topic=HB)], [adviser(skills={CT: 5})], at(500)) is None


def test_adviser_below_the_stage_proficiency_waits_until_the_stage_that_allows_them():
    novice = [adviser(skills={CT: 2})]
    assert both_ways([caller()], novice, at(179)) is None
    assignment = both_ways([caller()], novice, at(180))
    assert assignment.stage == 3
    assert "any library, proficiency ≥ 1" in assignment.reason


def test_caller_stays_with_their_home_library_for_the_first_minute():
    dewsbury = [adviser(library="Dewsbury")]
    assert both_ways([caller(library="Batley")], dewsbury, at(59)) is None


def test_caller_widens_to_a_neighbouring_library_after_a_minute():
    assignment = both_ways([caller(library="Batley")], [adviser(library="Dewsbury")], at(60))
    assert assignment.stage == 2
    assert "neighbouring libraries" in assignment.reason


def test_neighbours_are_one_way_as_configured():
    # Huddersfield lends advisers to Kirkburton's callers, but Kirkburton's list does not name Huddersfield.
    huddersfield = [adviser(library="Huddersfield")]
    assert both_ways([caller(library="Kirkburton")], huddersfield, at(90)) is None
    kirkburton = [adviser(library="Kirkburton")]
    assert both_ways([caller(library="Huddersfield")], kirkburton, at(90)).adviser_id == "1"


def test_caller_widens_to_any_library_after_three_minutes():
    far_away = [adviser(library="Cleckheaton")]
    assert both_ways([caller(library="Holmfirth")], far_away, at(179)) is None
    assert both_ways([caller(library="Holmfirth")], far_away, at(180)).stage == 3


def test_polish_caller_waits_for_a_polish_speaker_before_the_interpreter_stage():
    english_only = [adviser(languages=("en-GB",))]
    assert both_ways([caller(language="pl-PL")], english_only, at(179)) is None


def test_after_the_interpreter_stage_an_english_speaker_takes_a_polish_caller_flagged_for_an_interpreter():
    assignment = both_ways([caller(language="pl-PL")], [adviser(languages=("en-GB",))], at(180))
    assert assignment.via_interpreter is True
    assert "interpreter for pl-PL" in assignment.reason


def test_a_polish_speaker_is_preferred_to_an_interpreter_even_when_less_idle():
    advisers = [
        adviser("english", languages=("en-GB",), idle_for=900),
        adviser("polish", library="Dewsbury", languages=("en-GB", "pl-PL"), idle_for=1),
    ]
    assignment = both_ways([caller(language="pl-PL")], advisers, at(200))
    assert (assignment.adviser_id, assignment.via_interpreter) == ("polish", False)


def test_a_polish_speaker_at_home_takes_the_caller_straight_away_without_an_interpreter():
    assignment = both_ways([caller(language="pl-PL")], [adviser(languages=("en-GB", "pl-PL"))], at(1))
    assert (assignment.stage, assignment.via_interpreter) == (1, False)


def test_the_longest_idle_qualified_adviser_takes_the_caller():
    advisers = [adviser("recent", idle_for=10), adviser("longest", idle_for=300), adviser("mid", idle_for=60)]
    assert both_ways([caller()], advisers, at(1)).adviser_id == "longest"


def test_higher_priority_caller_goes_first_and_the_reason_says_why():
    waiting = [
        caller("CA-early", joined=-300),
        caller("CA-vulnerable", joined=0, priority=2, priority_reasons=("vulnerable flag",)),
    ]
    assignment = both_ways(waiting, [adviser()], at(5))
    assert assignment.call_sid == "CA-vulnerable"
    assert "priority 2: vulnerable flag" in assignment.reason


def test_within_one_priority_the_longest_waiting_caller_goes_first():
    waiting = [caller("CA-later", joined=30), caller("CA-first", joined=10), caller("CA-last", joined=50)]
    assert both_ways(waiting, [adviser()], at(55)).call_sid == "CA-first"


def test_a_caller_nobody_can_help_yet_does_not_block_the_one_behind():
    waiting = [caller("CA-polish", language="pl-PL", joined=0), caller("CA-english", joined=20)]
    assert both_ways(waiting, [adviser()], at(30)).call_sid == "CA-english"


def test_an_adviser_who_declined_is_never_offered_that_caller_again_but_still_serves_others():
    waiting = [
        caller("CA-declined", joined=0, skipped_advisers=frozenset({"1"})),
        caller("CA-next", joined=5),
    ]
    assert both_ways(waiting, [adviser("1")], at(400)).call_sid == "CA-next"
    assert both_ways(waiting[:1], [adviser("1"), adviser("2", idle_for=-5)], at(400)).adviser_id == "2"


@pytest.mark.parametrize("state", [OFFLINE, ON_CALL, WRAP_UP, BREAK, CUSTOMER_AT_DESK])
def test_advisers_who_are_not_available_are_never_given_a_caller(state):
    assert both_ways([caller()], [adviser(state=state)], at(1000)) is None


def test_most_proficient_first_prefers_skill_over_idle_time():
    advisers = [
        adviser("steady", skills={CT: 3}, idle_for=900),
        adviser("expert", skills={CT: 5}, idle_for=1),
    ]
    assert both_ways([caller()], advisers, at(1)).adviser_id == "steady"
    assert both_ways([caller()], advisers, at(1), MOST_PROFICIENT_FIRST).adviser_id == "expert"


def test_any_object_with_an_adviser_rank_can_be_the_strategy():
    @dataclass(frozen=True)
    class HighestIdFirst:
        name: str = "highest_id"

        def adviser_rank(self, a: AvailableAdviser, topic: str) -> tuple[Any, ...]:
            return (-int(a.adviser_id),)

    advisers = [adviser("3", idle_for=900), adviser("7"), adviser("5")]
    assert both_ways([caller()], advisers, at(1), HighestIdFirst()).adviser_id == "7"


def test_assign_all_matches_everyone_it_can_and_nobody_twice():
    waiting = [caller(f"CA{i}", joined=i) for i in range(5)] + [caller("CA-hb", topic=HB, joined=9)]
    advisers = [adviser(str(i), idle_for=i) for i in range(3)] + [adviser("hb", skills={HB: 5})]
    assignments = assign_all(waiting, advisers, at(30), RULES)
    pairs = [(a.call_sid, a.adviser_id) for a in assignments]
    assert pairs == [("CA0", "2"), ("CA1", "1"), ("CA2", "0"), ("CA-hb", "hb")]


def test_routing_state_forgets_callers_who_hang_up_and_advisers_who_go_on_break():
    state = RoutingState(RULES)
    state.add_caller(caller("CA-gone", joined=0))
    state.add_caller(caller("CA-stays", joined=10))
    state.put_adviser(adviser("1"))
    state.put_adviser(adviser("2", idle_for=100))
    assert state.remove_caller("CA-gone") is not None
    state.put_adviser(replace(state.adviser("2"), state=BREAK))
    assignment = state.assign(at(20))
    assert (assignment.call_sid, assignment.adviser_id) == ("CA-stays", "1")
    assert len(state) == 0
    assert state.adviser("1").state == ON_CALL
    assert state.assign(at(21)) is None


def test_a_caller_queued_again_with_the_same_call_sid_replaces_their_entry():
    state = RoutingState(RULES)
    state.add_caller(caller("CA1", topic=HB))
    state.add_caller(caller("CA1", topic=CT))
    state.put_adviser(adviser(skills={CT: 4}))
    assert len(state) == 1
    assert state.choose(at(1)).call_sid == "CA1"


def test_skipping_an_adviser_keeps_the_callers_place():
    state = RoutingState(RULES)
    state.add_caller(caller("CA1", joined=0))
    state.add_caller(caller("CA2", joined=5))
    state.put_adviser(adviser("1"))
    state.skip_adviser("CA1", "1")
    assert state.choose(at(10)).call_sid == "CA2"
    state.put_adviser(adviser("2", idle_for=50))
    assert (state.choose(at(10)).call_sid, state.choose(at(10)).adviser_id) == ("CA1", "2")


# --- widening configuration


def test_stages_parse_from_plain_data_with_defaults():
    rules = parse_rules([{"after_seconds": 0}, {"after_seconds": 30, "libraries": "any"}], {"A": []})
    assert [(s.after_seconds, s.libraries, s.min_proficiency, s.languages) for s in rules.stages] == [
        (0, "home", 3, "caller"),
        (30, "any", 3, "caller"),
    ]


@pytest.mark.parametrize(
    ("stages", "neighbours", "message"),
    [
        ([], {}, "at least one stage"),
        ("home", {}, "must be a list"),
        ([{"after_seconds": 10}], {}, "stage 1: after_seconds must be 0"),
        ([{"libraries": "home"}], {}, "stage 1: after_seconds is required"),
        ([{"after_seconds": -1}], {}, "whole number of seconds"),
        ([{"after_seconds": 1.5}], {}, "whole number of seconds"),
        ([{"after_seconds": 0, "libraries": "town"}], {}, "libraries must be one of"),
        ([{"after_seconds": 0, "min_proficiency": 6}], {}, "min_proficiency must be 1 to 5"),
        ([{"after_seconds": 0, "languages": "welsh"}], {}, "languages must be one of"),
        ([{"after_seconds": 0, "wait": 5}], {}, "unknown field(s) ['wait']"),
        ([{"after_seconds": 0}, {"after_seconds": 0}], {}, "stage 2: after_seconds (0) must be greater"),
        (
            [{"after_seconds": 0, "libraries": "any"}, {"after_seconds": 60, "libraries": "home"}],
            {},
            "stage 2: libraries 'home' narrows",
        ),
        (
            [{"after_seconds": 0, "min_proficiency": 2}, {"after_seconds": 60, "min_proficiency": 4}],
            {},
            "stage 2: min_proficiency 4 is stricter",
        ),
        (
            [{"after_seconds": 0, "languages": "interpreter"}, {"after_seconds": 9, "languages": "caller"}],
            {},
            "stage 2: languages 'caller' narrows",
        ),
        ([{"after_seconds": 0}], {"Batley": ["Atlantis"]}, "neighbours of 'Batley' name unknown libraries"),
        ([{"after_seconds": 0}], {"Batley": ["Batley"]}, "lists itself"),
        ([{"after_seconds": 0}], {"Batley": "Dewsbury"}, "must be a list of names"),
    ],
)
def test_unusable_widening_config_is_rejected_with_a_message_naming_the_fault(stages, neighbours, message):
    with pytest.raises(WideningConfigError) as raised:
        parse_rules(stages, neighbours)
    assert message in str(raised.value)


def test_the_stage_reached_is_the_widest_whose_wait_has_passed():
    assert [RULES.stage_index_at(s) for s in (-5, 0, 59.9, 60, 179, 180, 10_000)] == [0, 0, 0, 1, 1, 2, 2]
