"""The callback texts residents read: their language where we have it, dates not "tomorrow", their hub named."""

from __future__ import annotations

import string
from datetime import UTC, datetime

import pytest

from callbacks import sms

THURSDAY_10 = datetime(2026, 11, 26, 10, tzinfo=UTC)
THURSDAY_11 = datetime(2026, 11, 26, 11, tzinfo=UTC)
SUMMER_MONDAY_9_LONDON = datetime(2026, 6, 1, 8, tzinfo=UTC)  # 09:00 BST


def test_english_confirmation_reminder_and_final_text():
    confirmation = sms.confirmation("council_tax", (THURSDAY_10, THURSDAY_11), "01484 221000")
    assert confirmation == (
        "Kirklees Council will call you back about council tax on Thursday 26 November between 10:00 and 11:00. "
        "Reply CANCEL to cancel. Questions: call 01484 221000."
    )
    assert sms.reminder("housing_benefit", (THURSDAY_10, THURSDAY_11)).startswith(
        "Reminder: Kirklees Council will call you about housing benefit on Thursday 26 November"
    )
    assert sms.final("council_tax", "01484 221000", ("Dewsbury", "Railway Street")).endswith(
        "Please call 01484 221000 or visit Dewsbury Library (Railway Street) to book a face-to-face appointment."
    )
    assert sms.final("council_tax", "01484 221000").endswith("or visit any Kirklees library hub.")


def test_polish_texts_use_polish_dates_on_the_24_hour_clock_in_london_time():
    assert sms.slot_in_words(SUMMER_MONDAY_9_LONDON, None, "pl-PL") == "w poniedziałek 1 czerwca o 09:00"
    confirmation = sms.confirmation("council_tax", None, "01484 221000", "pl-PL")
    assert confirmation == (
        "Rada Kirklees oddzwoni w sprawie: podatek lokalny, gdy tylko konsultant będzie wolny. "
        "Aby anulować, odpisz CANCEL. Pytania: 01484 221000."
    )
    reminder = sms.reminder("housing_benefit", (THURSDAY_10, THURSDAY_11), "pl-PL")
    assert reminder.endswith(
        "dodatek mieszkaniowy, w czwartek 26 listopada między 10:00 a 11:00. Aby anulować, odpisz CANCEL."
    )
    assert sms.final("general", "01484 221000", ("Batley", "Market Place"), "pl-PL").endswith(
        "albo umówić wizytę w bibliotece w Batley (Market Place)."
    )


@pytest.mark.parametrize("language", ["ur-PK", "pa-IN", "fr-FR"])
def test_languages_without_texts_get_english(language):
    assert sms.confirmation("council_tax", None, "01484 221000", language).startswith(
        "Kirklees Council will call"
    )


@pytest.mark.parametrize("body", ["CANCEL", "cancel please", "Stop", "anuluj", "ANULUJ."])
def test_cancel_words_in_english_and_polish(body):
    assert sms.is_cancel(body)


def test_every_language_has_the_same_texts_and_blanks():
    english = sms.TEXTS["en-GB"]
    for language, texts in sms.TEXTS.items():
        assert texts.keys() == english.keys(), language
        for name, text in texts.items():
            assert sorted(_blanks(text)) == sorted(_blanks(english[name])), (language, name)


def _blanks(text: str) -> list[str]:
    return [field for _, field, _, _ in string.Formatter().parse(text) if field]
