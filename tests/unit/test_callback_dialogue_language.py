"""The booking dialogue's words per language, and why a number is refused, said in the caller's language."""

from __future__ import annotations

import re
from string import Formatter

import pytest

from callbacks.numbers import INTERNATIONAL, INVALID, NAMED_KINDS, ONLY_UK, NumberCheck, check_callback_number
from callbacks.prompts import DIALOGUE, dialogue, dialogue_language, refusal

ONLY_UK_PL = "Możemy dzwonić tylko na brytyjskie numery komórkowe i stacjonarne."
OTHER_LANGUAGES = sorted(set(DIALOGUE) - {"en-GB"})


def blanks(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


def keys_to_press(text: str) -> list[str]:
    return sorted(re.findall(r"\d", text))


def test_the_dialogue_speaks_polish_as_well_as_english():
    assert OTHER_LANGUAGES == ["pl-PL"]


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_language_has_every_sentence_with_the_same_blanks_as_english(language):
    english, translated = DIALOGUE["en-GB"], DIALOGUE[language]
    assert set(translated) == set(english)
    for name, sentence in english.items():
        assert blanks(translated[name]) == blanks(sentence), name


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_language_names_the_same_keys_to_press_as_english(language):
    for name, sentence in DIALOGUE["en-GB"].items():
        assert keys_to_press(DIALOGUE[language][name]) == keys_to_press(sentence), name


def test_polish_callers_are_told_to_end_a_keyed_number_with_the_hash_key():
    assert "krzyżyk" in dialogue("key_number", "pl-PL")
    assert "hash key" in dialogue("key_number", "en-GB")


def test_a_polish_caller_hears_polish_with_the_blanks_filled_in():
    assert dialogue("booked", "pl-PL", when="dzisiaj między 14 a 15", last_digits="4 5 6") == (
        "Dziękujemy. Oddzwonienie jest zamówione: zadzwonimy dzisiaj między 14 a 15, "
        "na numer kończący się cyframi 4 5 6. Do widzenia."
    )
    assert dialogue("slot_option", "pl-PL", key=2, when="jutro, we wtorek, między 10 a 11") == (
        "Jeśli mamy zadzwonić jutro, we wtorek, między 10 a 11, proszę nacisnąć 2."
    )


@pytest.mark.parametrize(
    ("chosen", "spoken"),
    [
        ("en-GB", "en-GB"),
        ("pl-PL", "pl-PL"),
        ("ur-PK", "en-GB"),  # Twilio has no Urdu voice
        ("pa-IN", "en-GB"),  # a Punjabi voice, but no Punjabi words for the dialogue yet
        ("fr-FR", "en-GB"),
        ("", "en-GB"),
    ],
)
def test_callers_hear_their_own_language_only_where_we_have_both_its_words_and_a_voice(chosen, spoken):
    assert dialogue_language(chosen) == spoken
    assert dialogue("to_adviser", chosen) == DIALOGUE[spoken]["to_adviser"]


@pytest.mark.parametrize(
    ("raw", "polish"),
    [
        ("09098790000", "To jest numer o podwyższonej opłacie."),
        ("07012345678", "To jest numer osobisty z przekierowaniem."),
        ("08001234567", "To jest numer bezpłatny."),
        ("03001234567", "To jest numer niegeograficzny."),
        ("05612345678", "To jest numer telefonii internetowej."),
        ("07640123456", "To jest numer pagera."),
        ("+33612345678", "To nie jest brytyjski numer."),
        ("07700900123", "Przepraszamy, nie rozpoznajemy tego numeru telefonu."),
    ],
)
def test_a_refused_number_is_explained_in_polish_or_in_the_english_of_the_check(raw, polish):
    check = check_callback_number(raw)
    assert not check.ok
    assert refusal(check, "pl-PL") == f"{polish} {ONLY_UK_PL}"
    assert refusal(check, "en-GB") == check.reason
    assert refusal(check, "ur-PK") == check.reason
    assert refusal(check, "pa-IN") == check.reason


@pytest.mark.parametrize(
    ("refused", "polish"),
    [
        ("shared_cost", "To jest numer z opłatą dzieloną."),
        ("voicemail", "To jest numer poczty głosowej."),
        ("unknown", "Na ten numer nie możemy dzwonić."),
        ("satellite_phone", "Na ten numer nie możemy dzwonić."),  # a kind with no words of its own
    ],
)
def test_kinds_no_uk_number_here_has_are_explained_in_polish_too(refused, polish):
    english = f"That number is not a number we can call. {ONLY_UK}"
    check = NumberCheck(None, refused, english)
    assert refusal(check, "pl-PL") == f"{polish} {ONLY_UK_PL}"
    assert refusal(check, "en-GB") == english


def test_every_kind_the_english_reason_names_has_its_own_polish_sentence():
    generic = refusal(NumberCheck(None, "unknown", None), "pl-PL")
    codes = sorted(NAMED_KINDS | {INVALID, INTERNATIONAL})
    sentences = [refusal(NumberCheck(None, code, None), "pl-PL") for code in codes]
    assert generic not in sentences
    assert len(set(sentences)) == len(codes)


def test_an_accepted_number_has_no_refusal():
    check = check_callback_number("+447911123456")
    assert check.ok
    assert refusal(check, "pl-PL") == "" and refusal(check, "en-GB") == ""
