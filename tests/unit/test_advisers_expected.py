"""When are advisers for a topic next expected? The rota's next shift start at an open hub, said in words."""

from __future__ import annotations

from datetime import time

from callbacks.slots import RotaLine, next_rostered_start
from ivr.hours_words import spoken_moment
from tests.unit.test_callback_slots import CT, DEWSBURY, HB, HUDDERSFIELD, LIBRARIES, local, shifts


def test_an_afternoon_shift_today_is_when_advisers_are_next_expected():
    rota = shifts(1, HUDDERSFIELD, {CT}, days=[2], starts=14, ends=17)  # Wednesdays from 2 pm
    now = local(2026, 11, 25, 10, 5)

    expected = next_rostered_start(now, CT, rota, LIBRARIES)
    assert expected == local(2026, 11, 25, 14)
    assert spoken_moment(expected, now) == "today at 2 pm"
    assert spoken_moment(expected, now, "pl-PL") == "dzisiaj o 14"


def test_a_shift_already_under_way_does_not_count_its_advisers_are_not_here():
    rota = shifts(1, HUDDERSFIELD, {CT})  # Monday to Saturday, 9 to 5
    now = local(2026, 11, 25, 10, 5)  # Wednesday, nobody logged in

    expected = next_rostered_start(now, CT, rota, LIBRARIES)
    assert expected == local(2026, 11, 26, 9)
    assert spoken_moment(expected, now) == "tomorrow, Thursday, at 9 am"
    assert spoken_moment(expected, now, "pl-PL") == "jutro, w czwartek, o 9"


def test_only_advisers_with_the_topics_skill_count_and_any_adviser_for_a_general_enquiry():
    rota = shifts(1, HUDDERSFIELD, {HB}, days=[2], starts=12, ends=17) + shifts(
        2, HUDDERSFIELD, {CT}, days=[3], starts=9, ends=17
    )
    now = local(2026, 11, 25, 10, 5)

    assert next_rostered_start(now, CT, rota, LIBRARIES) == local(2026, 11, 26, 9)
    assert next_rostered_start(now, "general", rota, LIBRARIES) == local(2026, 11, 25, 12)


def test_a_shift_starts_when_its_library_opens_if_that_is_later():
    rota = [RotaLine(1, HUDDERSFIELD, 5, time(8), time(13), frozenset({CT}))]  # Saturday; the hub opens 9:30
    now = local(2026, 11, 27, 18)  # Friday evening

    expected = next_rostered_start(now, CT, rota, LIBRARIES)
    assert expected == local(2026, 11, 28, 9, 30)
    assert spoken_moment(expected, now) == "tomorrow, Saturday, at 9:30 am"


def test_closures_and_bank_holidays_are_skipped():
    rota = shifts(3, DEWSBURY, {HB})  # Dewsbury is closed 1-2 December for training
    assert next_rostered_start(local(2026, 11, 30, 18), HB, rota, LIBRARIES) == local(2026, 12, 3, 9)

    christmas = next_rostered_start(local(2026, 12, 24, 18), HB, rota, LIBRARIES)
    assert christmas == local(2026, 12, 29, 9)
    assert spoken_moment(christmas, local(2026, 12, 24, 18)) == "on Tuesday the 29th of December at 9 am"
    assert spoken_moment(christmas, local(2026, 12, 24, 18), "pl-PL") == "we wtorek 29 grudnia o 9"


def test_nobody_rostered_within_the_horizon_is_unknown():
    rota = shifts(1, HUDDERSFIELD, {HB})

    assert next_rostered_start(local(2026, 11, 25, 10), CT, rota, LIBRARIES) is None
    assert next_rostered_start(local(2026, 11, 25, 10), CT, [], LIBRARIES) is None
