"""Opening hours: weekly sessions in London time, England & Wales bank holidays, dated closures."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ivr.hours import (
    LONDON,
    HoursError,
    bank_holiday,
    is_open,
    next_opening,
    parse_closures,
    parse_library_hours,
    parse_opening_hours,
    service_open,
)

WEEKDAYS_NINE_TO_FIVE = parse_opening_hours(
    {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
)


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def test_a_library_is_open_inside_its_hours_and_closed_outside():
    assert is_open(at(2026, 3, 10, 9, 0), WEEKDAYS_NINE_TO_FIVE).is_open
    assert is_open(at(2026, 3, 10, 16, 59), WEEKDAYS_NINE_TO_FIVE).is_open
    assert not is_open(at(2026, 3, 10, 8, 59), WEEKDAYS_NINE_TO_FIVE).is_open
    assert not is_open(at(2026, 3, 10, 17, 0), WEEKDAYS_NINE_TO_FIVE).is_open  # closing time is closed
    assert is_open(at(2026, 3, 14, 11, 0), WEEKDAYS_NINE_TO_FIVE).reason == "outside opening hours"


def test_split_sessions_close_over_lunch():
    hours = parse_opening_hours({"mon": [["13:30", "17:00"], ["09:00", "12:30"]]})

    assert is_open(at(2026, 3, 9, 10, 0), hours).is_open
    assert not is_open(at(2026, 3, 9, 13, 0), hours).is_open
    assert is_open(at(2026, 3, 9, 14, 0), hours).is_open


def test_hours_are_read_in_london_time_across_british_summer_time():
    # 08:30 UTC on a July Tuesday is 09:30 in London.
    assert is_open(datetime(2026, 7, 7, 8, 30, tzinfo=UTC), WEEKDAYS_NINE_TO_FIVE).is_open
    # 08:30 UTC in January is 08:30 in London.
    assert not is_open(datetime(2026, 1, 6, 8, 30, tzinfo=UTC), WEEKDAYS_NINE_TO_FIVE).is_open


def test_christmas_day_and_the_boxing_day_substitute_are_bank_holidays_in_2026():
    assert bank_holiday(date(2026, 12, 25)) == "Christmas Day"
    # Boxing Day 2026 is a Saturday, so Monday 28 December is the substitute day.
    assert bank_holiday(date(2026, 12, 28)) == "Boxing Day (observed)"
    assert bank_holiday(date(2026, 12, 29)) is None


def test_bank_holidays_close_a_weekday_library_unless_told_not_to_observe_them():
    decision = is_open(at(2026, 12, 28, 10, 0), WEEKDAYS_NINE_TO_FIVE)

    assert decision == decision.__class__(False, "Boxing Day (observed)")
    assert is_open(at(2026, 12, 28, 10, 0), WEEKDAYS_NINE_TO_FIVE, observe_bank_holidays=False).is_open


def test_scottish_only_holidays_do_not_close_kirklees():
    # 2 January is a bank holiday in Scotland, not in England & Wales.
    assert bank_holiday(date(2026, 1, 2)) is None
    assert is_open(at(2026, 1, 2, 10, 0), WEEKDAYS_NINE_TO_FIVE).is_open


def test_a_dated_closure_closes_the_library_for_that_day_with_its_reason():
    closures = parse_closures([{"date": "2026-12-24", "reason": "Christmas Eve staff closure"}])

    assert (
        is_open(at(2026, 12, 24, 10, 0), WEEKDAYS_NINE_TO_FIVE, closures).reason
        == "Christmas Eve staff closure"
    )
    assert is_open(at(2026, 12, 23, 10, 0), WEEKDAYS_NINE_TO_FIVE, closures).is_open


def test_a_closure_range_from_the_library_closure_table_covers_every_day_in_it():
    closures = parse_closures(
        [{"starts_on": "2026-12-29", "ends_on": "2026-12-31", "reason": "Refurbishment"}]
    )

    assert [
        is_open(at(2026, 12, day, 10, 0), WEEKDAYS_NINE_TO_FIVE, closures).is_open for day in (29, 30, 31)
    ] == [
        False,
        False,
        False,
    ]


def test_next_opening_after_christmas_skips_the_bank_holidays():
    opens = next_opening(at(2026, 12, 24, 18, 0), WEEKDAYS_NINE_TO_FIVE)

    assert opens == at(2026, 12, 29, 9, 0)


def test_the_service_is_open_while_any_library_is_open():
    weekdays = parse_library_hours("Huddersfield", {"mon": [["09:00", "17:00"]]})
    saturdays = parse_library_hours("Dewsbury", {"sat": [["09:00", "13:00"]]})

    decision = service_open(at(2026, 3, 14, 10, 0), [weekdays, saturdays])

    assert decision.is_open
    assert decision.reason == "Dewsbury open until 13:00"
    assert not service_open(at(2026, 3, 15, 10, 0), [weekdays, saturdays]).is_open
    assert service_open(at(2026, 3, 14, 10, 0), []).reason == "no opening hours known"


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError):
        is_open(datetime(2026, 3, 10, 10, 0), WEEKDAYS_NINE_TO_FIVE)


@pytest.mark.parametrize(
    "bad",
    [
        {"mon": [["9am", "5pm"]]},
        {"mon": [["17:00", "09:00"]]},
        {"monday": [["09:00", "17:00"]]},
        {"mon": "09:00-17:00"},
        {"mon": [["09:00"]]},
        ["mon"],
    ],
)
def test_unreadable_opening_hours_raise_a_clear_error(bad):
    with pytest.raises(HoursError):
        parse_opening_hours(bad)


def test_unreadable_closures_raise_a_clear_error():
    with pytest.raises(HoursError, match="YYYY-MM-DD"):
        parse_closures([{"date": "24/12/2026"}])
    with pytest.raises(HoursError, match="ends before"):
        parse_closures([{"starts_on": "2026-12-31", "ends_on": "2026-12-29"}])
