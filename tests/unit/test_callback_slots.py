"""The callback slot finder: rota × opening hours × bank holidays × closures × bookings, and how slots are said."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callbacks.slots import (
    Booking,
    RotaLine,
    available_slots,
    slot_at,
    spoken_slot,
)
from ivr.hours import LONDON, bank_holiday, parse_library_hours
from ivr.hours_words import ordinal

CT, HB = "council_tax", "housing_benefit"
WEEKDAYS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
HUDDERSFIELD, DEWSBURY = 1, 2
LIBRARIES = {
    HUDDERSFIELD: parse_library_hours("Huddersfield", {**WEEKDAYS, "sat": [["09:30", "13:00"]]}),
    DEWSBURY: parse_library_hours(
        "Dewsbury", WEEKDAYS, [{"starts_on": "2026-12-01", "ends_on": "2026-12-02", "reason": "Training"}]
    ),
}


def shifts(adviser_id: int, library_id: int, skills: set[str], days=range(6), starts=9, ends=17):
    return [
        RotaLine(adviser_id, library_id, day, time(starts), time(ends), frozenset(skills)) for day in days
    ]


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


ROTA = shifts(1, HUDDERSFIELD, {CT}) + shifts(2, HUDDERSFIELD, {CT, HB}) + shifts(3, DEWSBURY, {HB})


def test_the_next_slots_start_after_the_lead_time_on_the_hour():
    now = local(2026, 11, 25, 10, 40)  # Wednesday
    slots = available_slots(now, CT, ROTA, LIBRARIES, count=3)
    assert [s.starts_at for s in slots] == [
        local(2026, 11, 25, 12),
        local(2026, 11, 25, 13),
        local(2026, 11, 25, 14),
    ]
    assert all(s.ends_at - s.starts_at == timedelta(hours=1) for s in slots)
    assert slots[0].free == 2 and slots[0].library_ids == (HUDDERSFIELD,)


def test_christmas_week_skips_christmas_day_boxing_day_and_its_monday_substitute():
    now = local(2026, 12, 24, 16, 30)  # Christmas Eve, after the last slot that leaves a 30-minute lead
    slots = available_slots(now, CT, ROTA, LIBRARIES, count=3)
    assert [s.starts_at for s in slots] == [
        local(2026, 12, 29, 9),
        local(2026, 12, 29, 10),
        local(2026, 12, 29, 11),
    ]
    assert bank_holiday(date(2026, 12, 28)) is not None  # Boxing Day (observed): no slot that day


def test_a_dated_closure_removes_that_librarys_advisers_only():
    training_day = slot_at(local(2026, 12, 1, 10), HB, ROTA, LIBRARIES)
    assert (training_day.library_ids, training_day.free) == ((HUDDERSFIELD,), 1)
    usual_day = slot_at(local(2026, 12, 3, 10), HB, ROTA, LIBRARIES)
    assert (usual_day.library_ids, usual_day.free) == ((HUDDERSFIELD, DEWSBURY), 2)


def test_saturday_slots_fit_inside_the_shorter_saturday_session():
    now = local(2026, 11, 27, 18)  # Friday evening
    saturday = [
        s for s in available_slots(now, CT, ROTA, LIBRARIES, count=10) if s.starts_at.date().day == 28
    ]
    assert [s.starts_at.astimezone(LONDON).hour for s in saturday] == [10, 11, 12]


def test_bookings_use_up_capacity_and_a_full_hour_is_not_offered():
    hour = local(2026, 11, 26, 10)
    assert slot_at(hour, CT, ROTA, LIBRARIES).free == 2
    one = [Booking(hour, CT)]
    assert slot_at(hour, CT, ROTA, LIBRARIES, one).free == 1
    two = one * 2
    now = local(2026, 11, 26, 8)
    assert hour not in [s.starts_at for s in available_slots(now, CT, ROTA, LIBRARIES, two, count=20)]


def test_an_adviser_with_two_skills_is_not_promised_to_both_topics_in_one_hour():
    rota = shifts(2, HUDDERSFIELD, {CT, HB})
    hour = local(2026, 11, 26, 10)
    assert slot_at(hour, CT, rota, LIBRARIES, [Booking(hour, HB)]).free == 0


def test_nobody_rostered_with_the_skill_means_no_slot():
    assert (
        available_slots(local(2026, 11, 25, 8), "housing_benefit", shifts(1, HUDDERSFIELD, {CT}), LIBRARIES)
        == []
    )


def test_a_general_enquiry_can_go_to_any_rostered_adviser():
    assert slot_at(local(2026, 11, 26, 10), "general", ROTA, LIBRARIES).free == 3


def test_slots_follow_local_time_across_the_clock_change():
    now = local(2026, 3, 27, 16, 30)  # Friday before British Summer Time starts on Sunday 29 March
    weekdays_only = shifts(1, HUDDERSFIELD, {CT}, days=range(5))
    monday = available_slots(now, CT, weekdays_only, LIBRARIES, count=1)[0]
    assert monday.starts_at == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # 9 am BST
    assert (
        spoken_slot(monday.starts_at, monday.ends_at, now)
        == "on Monday the 30th of March between 9 and 10 am"
    )


def test_spoken_slots_say_today_tomorrow_or_the_date():
    now = local(2026, 11, 25, 10)  # Wednesday 25 November
    assert spoken_slot(local(2026, 11, 25, 14), local(2026, 11, 25, 15), now) == "today between 2 and 3 pm"
    assert (
        spoken_slot(local(2026, 11, 26, 10), local(2026, 11, 26, 11), now)
        == "tomorrow, Thursday, between 10 and 11 am"
    )
    assert (
        spoken_slot(local(2026, 11, 30, 9), local(2026, 11, 30, 10), now)
        == "on Monday the 30th of November between 9 and 10 am"
    )
    assert (
        spoken_slot(local(2026, 11, 25, 11), local(2026, 11, 25, 12), now)
        == "today between 11 am and 12 noon"
    )
    assert spoken_slot(local(2026, 11, 25, 12), local(2026, 11, 25, 13), now) == "today between 12 and 1 pm"


def test_tomorrow_is_judged_in_london_not_utc():
    late_evening_in_summer = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # already 00:30 on the 2nd in London
    slot = local(2026, 7, 2, 10)
    assert spoken_slot(slot, slot + timedelta(hours=1), late_evening_in_summer).startswith("today ")


@pytest.mark.parametrize(
    ("day", "hour", "expected"),
    [
        (25, 14, "dzisiaj między 14 a 15"),
        (26, 10, "jutro, w czwartek, między 10 a 11"),
        (30, 9, "w poniedziałek 30 listopada między 9 a 10"),
        (25, 11, "dzisiaj między 11 a 12"),  # noon is just 12 in Polish: no "am", "pm" or "noon"
        (25, 12, "dzisiaj między 12 a 13"),
    ],
)
def test_spoken_slots_in_polish_say_dzisiaj_jutro_or_the_date_on_the_24_hour_clock(day, hour, expected):
    now = local(2026, 11, 25, 10)  # Wednesday 25 November
    starts = local(2026, 11, day, hour)
    assert spoken_slot(starts, starts + timedelta(hours=1), now, "pl-PL") == expected


def test_polish_says_we_wtorek_and_w_for_every_other_day():
    monday = local(2026, 11, 30, 9)
    said = [
        spoken_slot(monday + timedelta(days=day), monday + timedelta(days=day, hours=1), monday, "pl-PL")
        for day in range(2, 9)
    ]
    assert [phrase.split(" 9 a 10")[0] for phrase in said] == [
        "w środę 2 grudnia między",
        "w czwartek 3 grudnia między",
        "w piątek 4 grudnia między",
        "w sobotę 5 grudnia między",
        "w niedzielę 6 grudnia między",
        "w poniedziałek 7 grudnia między",
        "we wtorek 8 grudnia między",
    ]
    tuesday = local(2026, 12, 1, 9)
    assert (
        spoken_slot(tuesday, tuesday + timedelta(hours=1), monday, "pl-PL")
        == "jutro, we wtorek, między 9 a 10"
    )


def test_polish_months_are_in_the_genitive():
    now = local(2026, 1, 1, 8)
    months = []
    for month in range(1, 13):
        slot = local(2026 + (month == 1), month, 15, 10)  # mid-January 2027, so never today or tomorrow
        months.append(spoken_slot(slot, slot + timedelta(hours=1), now, "pl-PL").split()[3])
    assert months == [
        "stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca",
        "lipca", "sierpnia", "września", "października", "listopada", "grudnia",
    ]  # fmt: skip


def test_polish_slots_are_said_in_london_time_across_the_clock_change():
    now = local(2026, 3, 27, 16, 30)
    monday = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # 9 am BST
    assert (
        spoken_slot(monday, monday + timedelta(hours=1), now, "pl-PL")
        == "w poniedziałek 30 marca między 9 a 10"
    )
    late_evening_in_summer = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # already 00:30 on the 2nd in London
    slot = local(2026, 7, 2, 10)
    assert spoken_slot(slot, slot + timedelta(hours=1), late_evening_in_summer, "pl-PL") == (
        "dzisiaj między 10 a 11"
    )


def test_polish_half_hours_keep_their_minutes():
    now = local(2026, 11, 25, 8)
    assert (
        spoken_slot(local(2026, 11, 25, 9, 30), local(2026, 11, 25, 10, 30), now, "pl-PL")
        == "dzisiaj między 9:30 a 10:30"
    )


def test_languages_without_slot_words_hear_the_english_phrase():
    now = local(2026, 11, 25, 10)
    slot = local(2026, 11, 26, 10)
    english = spoken_slot(slot, slot + timedelta(hours=1), now)
    assert english == "tomorrow, Thursday, between 10 and 11 am"
    for language in ("en-GB", "ur-PK", "pa-IN", "xx"):
        assert spoken_slot(slot, slot + timedelta(hours=1), now, language) == english


def test_ordinals():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 30, 31)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "30th", "31st",
    ]  # fmt: skip


# --- properties -----------------------------------------------------------------------------------------------

TOPICS = st.sampled_from([CT, HB, "general"])
rota_lines = st.builds(
    lambda adviser, library, day, start, length, skills: RotaLine(
        adviser, library, day, time(start), time(min(start + length, 23)), frozenset(skills)
    ),
    st.integers(1, 6),
    st.sampled_from([HUDDERSFIELD, DEWSBURY]),
    st.integers(0, 6),
    st.integers(6, 20),
    st.integers(1, 8),
    st.sets(st.sampled_from([CT, HB]), min_size=1),
)
# Around Christmas, New Year and both clock changes.
moments = st.sampled_from(
    [
        datetime(2026, 12, 20, tzinfo=UTC),
        datetime(2026, 3, 25, tzinfo=UTC),
        datetime(2026, 10, 22, tzinfo=UTC),
    ]
).flatmap(
    lambda base: st.integers(0, 14 * 24 * 4).map(lambda quarter: base + timedelta(minutes=15 * quarter))
)


@st.composite
def situations(draw):
    now = draw(moments)
    rota = draw(st.lists(rota_lines, max_size=12))
    topic = draw(TOPICS)
    hours = [now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=h) for h in range(0, 24 * 10)]
    booked = draw(st.lists(st.builds(Booking, st.sampled_from(hours), TOPICS), max_size=30))
    return now, topic, rota, booked


@settings(max_examples=150, deadline=None)
@given(situations())
def test_offered_slots_are_sorted_distinct_open_free_and_never_on_a_bank_holiday(situation):
    now, topic, rota, booked = situation
    slots = available_slots(now, topic, rota, LIBRARIES, booked, count=5)
    starts = [s.starts_at for s in slots]
    assert starts == sorted(set(starts))
    for slot in slots:
        assert slot.starts_at >= now + timedelta(minutes=30)
        day = slot.starts_at.astimezone(LONDON).date()
        assert bank_holiday(day) is None
        assert slot.free >= 1 and slot.library_ids
        for library_id in slot.library_ids:
            hours = LIBRARIES[library_id]
            assert not any(c.covers(day) for c in hours.closures)
            start, end = slot.starts_at.astimezone(LONDON).time(), slot.ends_at.astimezone(LONDON).time()
            assert any(o <= start and end <= c for o, c in hours.opening_hours.on(day))


@settings(max_examples=100, deadline=None)
@given(situations())
def test_booking_every_offered_place_never_books_more_than_the_rostered_advisers(situation):
    now, topic, rota, _ = situation
    booked: list[Booking] = []
    for _ in range(60):
        slots = available_slots(now, topic, rota, LIBRARIES, booked, count=1, days=3)
        if not slots:
            break
        booked.append(Booking(slots[0].starts_at, topic))
    for start in {b.starts_at for b in booked}:
        local_start = start.astimezone(LONDON)
        on_shift = {
            line.adviser_id
            for line in rota
            if line.weekday == local_start.weekday()
            and line.starts <= local_start.time()
            and (local_start + timedelta(hours=1)).time() <= line.ends
            and (topic == "general" or topic in line.skills)
        }
        assert sum(1 for b in booked if b.starts_at == start) <= len(on_shift)
