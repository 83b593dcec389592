"""Leave and sickness on top of the weekly rota: an adviser's shifts on a day they are away promise no callback
slots and do not count for "when are advisers next expected" (callbacks/slots.py, pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from callbacks.slots import available_slots, next_rostered_start, slot_at
from tests.unit.test_callback_slots import CT, HUDDERSFIELD, LIBRARIES, local, shifts

WEDNESDAY = date(2026, 11, 25)


def away(lines, first: date, last: date):
    return [replace(line, away=(*line.away, (first, last))) for line in lines]


def test_an_adviser_off_sick_today_offers_no_slots_today_but_does_tomorrow():
    rota = away(shifts(1, HUDDERSFIELD, {CT}), WEDNESDAY, WEDNESDAY)
    now = local(2026, 11, 25, 10, 5)

    slots = available_slots(now, CT, rota, LIBRARIES, count=2)
    assert [s.starts_at for s in slots] == [local(2026, 11, 26, 9), local(2026, 11, 26, 10)]
    assert available_slots(now, CT, shifts(1, HUDDERSFIELD, {CT}), LIBRARIES, count=1)[0].starts_at == local(
        2026, 11, 25, 11
    ), "without the sickness the next slot is today"


def test_one_adviser_away_takes_only_their_place_out_of_a_shared_slot():
    rota = away(shifts(1, HUDDERSFIELD, {CT}), WEDNESDAY, WEDNESDAY) + shifts(2, HUDDERSFIELD, {CT})

    slot = slot_at(local(2026, 11, 25, 14), CT, rota, LIBRARIES)
    assert slot is not None and slot.free == 1
    assert slot_at(local(2026, 11, 26, 14), CT, rota, LIBRARIES).free == 2


def test_advisers_are_next_expected_after_their_leave_ends():
    rota = away(shifts(1, HUDDERSFIELD, {CT}), date(2026, 11, 26), date(2026, 11, 30))
    now = local(2026, 11, 25, 18)  # Wednesday evening

    assert next_rostered_start(now, CT, shifts(1, HUDDERSFIELD, {CT}), LIBRARIES) == local(2026, 11, 26, 9)
    assert next_rostered_start(now, CT, rota, LIBRARIES) == local(2026, 12, 1, 9)


def test_the_first_and_last_days_of_an_absence_both_count():
    line = away(shifts(1, HUDDERSFIELD, {CT}, days=[2]), date(2026, 11, 25), date(2026, 12, 2))[0]

    assert not line.works_on(date(2026, 11, 25)) and not line.works_on(date(2026, 12, 2))
    assert line.works_on(date(2026, 12, 9))
    assert not line.works_on(date(2026, 11, 26)), "a Thursday is not this Wednesday line's day anyway"
