"""Closures that start or end part-way through a day (an emergency: "closed from 14:00 today"), as the menu, the
queue, the callback slot finder and "when are advisers next expected" all read them through ivr.hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callbacks.slots import RotaLine, available_slots, next_rostered_start
from ivr.hours import (
    LONDON,
    HoursError,
    closure_at,
    is_open,
    next_opening,
    open_sessions,
    parse_closures,
    parse_library_hours,
    parse_opening_hours,
    service_open,
)
from ivr.hours_words import closed_today, hours_sentences

WEEKDAYS = parse_opening_hours({day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")})
WEDNESDAY = date(2026, 11, 25)
FLOODING = "Batley Library is closed from 2 pm today because of flooding."


def at(hour: int, minute: int = 0, day: date = WEDNESDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def from_two_pm(**more):
    return parse_closures(
        [{"starts_at": at(14).isoformat(), "reason": "Flooding", "caller_message": FLOODING, **more}]
    )


def test_a_closure_from_two_pm_leaves_the_morning_open_and_closes_the_afternoon():
    closures = from_two_pm()
    assert closures[0].starts_on == closures[0].ends_on == WEDNESDAY  # "until the end of today"

    assert is_open(at(13, 59), WEEKDAYS, closures).reason == "open until 14:00"
    assert not is_open(at(14), WEEKDAYS, closures).is_open
    assert is_open(at(14), WEEKDAYS, closures).reason == "Flooding"
    assert is_open(at(9), WEEKDAYS, closures).is_open
    assert is_open(at(10, day=date(2026, 11, 26)), WEEKDAYS, closures).is_open  # Thursday: open again


def test_open_sessions_are_cut_by_a_closure_at_either_end_of_the_day():
    assert open_sessions(WEDNESDAY, WEEKDAYS, from_two_pm()) == ((at(9), at(14)),)
    until_noon = parse_closures(
        [{"date": "2026-11-25", "ends_at": at(12).isoformat(), "reason": "Burst pipe"}]
    )
    assert open_sessions(WEDNESDAY, WEEKDAYS, until_noon) == ((at(12), at(17)),)
    lunch = parse_closures(
        [{"starts_at": at(12).isoformat(), "ends_at": at(13).isoformat(), "reason": "Fire drill"}]
    )
    assert open_sessions(WEDNESDAY, WEEKDAYS, lunch) == ((at(9), at(12)), (at(13), at(17)))
    assert not lunch[0].covers(WEDNESDAY) and lunch[0].touches(WEDNESDAY)


def test_next_opening_after_an_emergency_from_two_pm_is_tomorrow_morning():
    closures = from_two_pm()
    assert next_opening(at(15), WEEKDAYS, closures) == at(9, day=date(2026, 11, 26))
    assert next_opening(at(11), WEEKDAYS, closures) == at(11)  # open right now


def test_an_emergency_running_over_several_days_ends_at_its_moment():
    closures = parse_closures(
        [
            {
                "starts_at": at(14).isoformat(),
                "ends_at": at(12, day=date(2026, 11, 27)).isoformat(),
                "reason": "x",
            }
        ]
    )
    assert (closures[0].starts_on, closures[0].ends_on) == (WEDNESDAY, date(2026, 11, 27))
    assert closures[0].covers(date(2026, 11, 26))
    assert next_opening(at(15), WEEKDAYS, closures) == at(12, day=date(2026, 11, 27))


def test_a_closure_ending_at_midnight_ends_the_day_before():
    closures = parse_closures(
        [
            {
                "starts_at": at(14).isoformat(),
                "ends_at": at(0, day=date(2026, 11, 26)).isoformat(),
                "reason": "x",
            }
        ]
    )
    assert closures[0].ends_on == WEDNESDAY


def test_closure_times_need_a_time_zone_and_must_end_after_they_start():
    with pytest.raises(HoursError, match="time zone"):
        parse_closures([{"starts_at": "2026-11-25T14:00:00", "reason": "x"}])
    with pytest.raises(HoursError, match="ends before it starts"):
        parse_closures([{"starts_at": at(14).isoformat(), "ends_at": at(13).isoformat(), "reason": "x"}])


def test_utc_closure_times_are_read_in_london_time_in_summer():
    # 13:00 UTC on a July Wednesday is 14:00 in London.
    summer = parse_closures(
        [{"starts_at": datetime(2026, 7, 8, 13, 0, tzinfo=UTC).isoformat(), "reason": "x"}]
    )
    wednesday = date(2026, 7, 8)
    assert open_sessions(wednesday, WEEKDAYS, summer) == ((at(9, day=wednesday), at(14, day=wednesday)),)


def test_the_service_is_closed_when_every_hub_is_closed_by_an_emergency():
    hubs = [
        parse_library_hours(
            name, {"wed": [["09:00", "17:00"]]}, [{"starts_at": at(14).isoformat(), "reason": "Snow"}]
        )
        for name in ("Batley", "Dewsbury")
    ]
    assert service_open(at(13), hubs).is_open
    assert service_open(at(15), hubs).reason == "Snow"


def test_the_closed_words_say_the_closures_sentence_in_english_and_plain_words_in_polish():
    hubs = [
        parse_library_hours(
            "Batley",
            {"wed": [["09:00", "17:00"]]},
            [{"starts_at": at(14).isoformat(), "reason": "Flooding", "caller_message": FLOODING}],
        )
    ]
    assert hours_sentences(at(15), hubs, "en-GB")["closed_today"] == FLOODING
    assert hours_sentences(at(15), hubs, "pl-PL")["closed_today"] == "Dziś jesteśmy zamknięci."
    assert hours_sentences(at(13), hubs, "en-GB")["closed_today"] == ""  # not closed yet
    # A whole-day closure without a sentence still says its reason, as before.
    plain = [parse_library_hours("Batley", {}, [{"date": "2026-11-25", "reason": "staff training"}])]
    assert closed_today(WEDNESDAY, plain, "en-GB", now=at(10)) == "We're closed today for staff training."


def test_more_than_three_different_sentences_are_not_read_out():
    hubs = [
        parse_library_hours(
            f"Hub {n}", {}, [{"date": "2026-11-25", "reason": "x", "caller_message": f"Hub {n} is shut"}]
        )
        for n in range(4)
    ]
    assert (
        closed_today(WEDNESDAY, hubs[:3], "en-GB", now=at(10))
        == "Hub 0 is shut. Hub 1 is shut. Hub 2 is shut."
    )
    assert closed_today(WEDNESDAY, hubs, "en-GB", now=at(10)) == ""


def test_callback_slots_and_advisers_next_expected_skip_the_closed_afternoon():
    library = parse_library_hours(
        "Batley",
        {"wed": [["09:00", "17:00"]], "thu": [["09:00", "17:00"]]},
        [{"starts_at": at(14).isoformat(), "reason": "Flooding"}],
    )
    rota = [RotaLine(1, 7, weekday, time(9), time(17), frozenset({"council_tax"})) for weekday in (2, 3)]
    slots = available_slots(at(12), "council_tax", rota, {7: library}, count=3)
    assert [slot.starts_at.astimezone(LONDON) for slot in slots] == [
        at(13),
        at(9, day=date(2026, 11, 26)),
        at(10, day=date(2026, 11, 26)),
    ]
    assert next_rostered_start(at(8), "council_tax", rota, {7: library}) == at(9).astimezone(UTC)
    assert next_rostered_start(at(10), "council_tax", rota, {7: library}) == at(
        9, day=date(2026, 11, 26)
    ).astimezone(UTC)
    until_noon = parse_library_hours(
        "Batley",
        {"wed": [["09:00", "17:00"]]},
        [{"date": "2026-11-25", "ends_at": at(12).isoformat(), "reason": "Pipe"}],
    )
    assert next_rostered_start(at(8), "council_tax", rota, {7: until_noon}) == at(12).astimezone(UTC)


@given(
    start=st.integers(min_value=0, max_value=23 * 60),
    length=st.integers(min_value=1, max_value=24 * 60),
    probe=st.integers(min_value=0, max_value=24 * 60 - 1),
)
def test_a_library_is_never_open_while_a_closure_is_in_effect(start, length, probe):
    starts_at = datetime.combine(WEDNESDAY, time(0), tzinfo=LONDON).replace(
        hour=start // 60, minute=start % 60
    )
    ends_at = min(
        datetime.fromtimestamp(starts_at.timestamp() + length * 60, tz=LONDON),
        datetime.combine(date(2026, 11, 26), time(0), tzinfo=LONDON),
    )
    closures = parse_closures(
        [{"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(), "reason": "x"}]
    )
    moment = at(probe // 60, probe % 60)
    decision = is_open(moment, WEEKDAYS, closures)
    if closure_at(moment, closures) is not None:
        assert not decision.is_open
    else:
        assert decision.is_open == (at(9) <= moment < at(17))
