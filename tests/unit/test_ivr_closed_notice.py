"""The closed notice says the real hours from library data, names the bank holiday and when we open again."""

from __future__ import annotations

import copy
import json
from datetime import datetime

import pytest

from ivr.engine import CallContext, Enqueue, OfferCallback, Say
from ivr.flow import DEFAULT_FLOW_PATH, validate
from ivr.hours import LONDON
from models.demo import LIBRARIES
from tests.unit.test_ivr_engine import call, handover, keys

DEMO_HUBS = [{"name": hub.name, "opening_hours": hub.hours, "closures": []} for hub in LIBRARIES]
DEMO_WEEK_EN = (
    "Our opening hours are: Monday, Wednesday and Friday, 9 am to 5 pm; Tuesday and Thursday, 9 am to 7 pm; "
    "Saturday, 9:30 am to 1 pm."
)
DEMO_WEEK_PL = (
    "Godziny otwarcia: poniedziałek, środa i piątek, od 9 do 17; wtorek i czwartek, od 9 do 19; "
    "sobota, od 9:30 do 13."
)
CLOSED = "Sorry, our lines are closed now."
LANGUAGE_KEYS = {"en-GB": "1", "pl-PL": "2", "ur-PK": "3", "pa-IN": "4"}


def closed_notice(now: datetime, language: str = "en-GB", hubs=DEMO_HUBS) -> Say:
    """What a caller hears first after asking for an adviser while the lines are closed."""
    context = CallContext(now=now, caller_has_mobile=False, libraries=hubs)
    steps = call([keys(LANGUAGE_KEYS[language]), keys("0")], context)
    assert isinstance(handover(steps[-1]), OfferCallback)
    return next(action for action in steps[-1].actions if isinstance(action, Say))


def test_on_christmas_day_the_notice_names_it_says_when_we_reopen_and_the_real_hours():
    notice = closed_notice(datetime(2026, 12, 25, 10, 0, tzinfo=LONDON))

    assert notice.text == (
        f"{CLOSED} We're closed today for Christmas Day. We open again on Tuesday the 29th of December at 9 am. "
        + DEMO_WEEK_EN
    )
    assert "Monday to Friday, 9 till 5" not in notice.text


def test_on_christmas_day_a_polish_caller_hears_it_all_in_polish():
    notice = closed_notice(datetime(2026, 12, 25, 10, 0, tzinfo=LONDON), "pl-PL")

    assert notice.text == (
        "Przepraszamy, nasze linie są teraz zamknięte. Dziś jest dzień wolny od pracy: Boże Narodzenie. "
        "Zapraszamy ponownie we wtorek 29 grudnia o 9. " + DEMO_WEEK_PL
    )
    assert (notice.language, notice.voice) == ("pl-PL", "Polly.Ola-Neural")


def test_a_substitute_bank_holiday_is_named_as_one():
    notice = closed_notice(datetime(2026, 12, 28, 10, 0, tzinfo=LONDON))
    polish = closed_notice(datetime(2026, 12, 28, 10, 0, tzinfo=LONDON), "pl-PL")

    assert (
        "We're closed today for the Boxing Day bank holiday. We open again tomorrow, Tuesday, at 9 am."
        in (notice.text)
    )
    assert "w zamian za święto: drugi dzień świąt Bożego Narodzenia" in polish.text


def test_saturday_afternoon_after_the_hubs_close_at_1_pm():
    notice = closed_notice(datetime(2026, 11, 28, 14, 0, tzinfo=LONDON))

    assert notice.text == f"{CLOSED} We open again on Monday the 30th of November at 9 am. {DEMO_WEEK_EN}"


def test_saturday_before_the_hubs_open_says_they_open_later_today():
    notice = closed_notice(datetime(2026, 11, 28, 8, 0, tzinfo=LONDON))
    polish = closed_notice(datetime(2026, 11, 28, 8, 0, tzinfo=LONDON), "pl-PL")

    assert "We open again today at 9:30 am." in notice.text
    assert "Zapraszamy ponownie dzisiaj o 9:30." in polish.text


def test_tuesday_evening_is_open_until_7_and_closed_after():
    open_late = CallContext(now=datetime(2026, 11, 24, 18, 30, tzinfo=LONDON), libraries=DEMO_HUBS)
    assert isinstance(handover(call([keys("1"), keys("0")], open_late)[-1]), Enqueue)

    notice = closed_notice(datetime(2026, 11, 24, 19, 30, tzinfo=LONDON))
    assert notice.text == f"{CLOSED} We open again tomorrow, Wednesday, at 9 am. {DEMO_WEEK_EN}"


def test_a_closure_of_every_hub_is_named_and_we_reopen_the_next_day():
    hubs = [dict(hub, closures=[{"date": "2026-12-02", "reason": "staff training"}]) for hub in DEMO_HUBS]
    notice = closed_notice(datetime(2026, 12, 2, 11, 0, tzinfo=LONDON), hubs=hubs)
    polish = closed_notice(datetime(2026, 12, 2, 11, 0, tzinfo=LONDON), "pl-PL", hubs=hubs)

    assert notice.text == (
        f"{CLOSED} We're closed today for staff training. We open again tomorrow, Thursday, at 9 am. "
        + DEMO_WEEK_EN
    )
    assert "Dziś jesteśmy zamknięci. Zapraszamy ponownie jutro, w czwartek, o 9." in polish.text


def test_a_closure_of_one_hub_is_not_announced_as_the_service_closing():
    hubs = [dict(DEMO_HUBS[0], closures=[{"date": "2026-12-02", "reason": "staff training"}]), *DEMO_HUBS[1:]]
    notice = closed_notice(datetime(2026, 12, 2, 20, 0, tzinfo=LONDON), hubs=hubs)

    assert "staff training" not in notice.text
    assert "We open again tomorrow, Thursday, at 9 am." in notice.text


@pytest.mark.parametrize("language", ["ur-PK", "pa-IN"])
def test_urdu_and_punjabi_callers_hear_the_true_hours_in_english_in_the_english_voice(language):
    notice = closed_notice(datetime(2026, 12, 25, 10, 0, tzinfo=LONDON), language)

    assert notice.text.startswith(f"{CLOSED} We're closed today for Christmas Day.")
    assert notice.language == "en-GB"


def test_without_library_data_the_flow_service_hours_are_said():
    notice = closed_notice(datetime(2026, 3, 14, 11, 0, tzinfo=LONDON), hubs=[])

    assert notice.text == (
        f"{CLOSED} We open again on Monday the 16th of March at 9 am. Our opening hours are: Monday to Friday, 9 am to 5 pm."
    )


def _flow_with_closed_text(**texts: str) -> dict:
    definition = json.loads(DEFAULT_FLOW_PATH.read_text(encoding="utf-8"))
    definition = copy.deepcopy(definition)
    definition["nodes"]["closed_notice"]["text"] = texts
    return definition


def test_an_unknown_placeholder_is_refused_at_load():
    problems = validate(_flow_with_closed_text(**{"en-GB": "Closed. We open {when_we_open}."}))

    assert [(p.code, p.where) for p in problems] == [("bad_placeholder", "closed_notice")]
    assert "when_we_open" in problems[0].message


def test_a_placeholder_in_a_language_without_hours_words_is_refused():
    texts = {"en-GB": "Closed. {next_opening}", "pa-IN": "ਬੰਦ। {next_opening}"}
    problems = validate(_flow_with_closed_text(**texts))

    assert [(p.code, p.where) for p in problems] == [("bad_placeholder", "closed_notice")]
    assert "pa-IN" in problems[0].message


def test_a_stray_brace_in_a_spoken_text_is_refused():
    problems = validate(_flow_with_closed_text(**{"en-GB": "Closed {next_opening"}))

    assert [p.code for p in problems] == ["bad_placeholder"]
