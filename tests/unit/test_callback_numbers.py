"""Which numbers we ring back, and what a caller hears when we can't."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callbacks.numbers import ONLY_UK, check_callback_number, check_keyed_digits, spoken_digits


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("07911 123456", "+447911123456"),  # mobile
        ("+447911123456", "+447911123456"),
        ("01484 221000", "+441484221000"),  # Huddersfield landline
        ("020 7946 0000", "+442079460000"),
    ],
)
def test_uk_mobiles_and_landlines_are_accepted_in_e164(raw, e164):
    check = check_callback_number(raw)
    assert (check.ok, check.number, check.reason) == (True, e164, None)


@pytest.mark.parametrize(
    ("raw", "refused", "said"),
    [
        ("09098 790000", "premium_rate", "That number is a premium rate number."),
        (
            "0845 123 4567",
            "premium_rate",
            "That number is a premium rate number.",
        ),  # phonenumbers' class for 084
        ("070 1234 5678", "personal_number", "That number is a personal number."),
        ("0800 123 4567", "toll_free", "That number is a freephone number."),
        ("0300 123 4567", "uan", "That number is a non-geographic number."),
        ("056 1234 5678", "voip", "That number is an internet phone number."),
        ("076 4012 3456", "pager", "That number is a pager number."),
        ("+33 6 12 34 56 78", "international", "That number is not a UK number."),
        ("0033612345678", "international", "That number is not a UK number."),
        ("+1 202 555 0123", "international", "That number is not a UK number."),
        ("07700 900123", "invalid", "Sorry, that isn't a phone number we recognise."),  # Ofcom drama range
        ("012345", "invalid", "Sorry, that isn't a phone number we recognise."),
        ("", "invalid", "Sorry, that isn't a phone number we recognise."),
        ("anonymous", "invalid", "Sorry, that isn't a phone number we recognise."),
    ],
)
def test_other_numbers_are_refused_with_a_short_spoken_reason(raw, refused, said):
    check = check_callback_number(raw)
    assert not check.ok and check.number is None
    assert check.refused == refused
    assert check.reason == f"{said} {ONLY_UK}"


def test_the_premium_rate_reason_reads_as_the_issue_asks():
    assert check_callback_number("09098790000").reason == (
        "That number is a premium rate number. We can only call UK mobile and landline numbers."
    )


def test_keyed_digits_must_be_digits_only():
    assert check_keyed_digits("07911123456").number == "+447911123456"
    assert check_keyed_digits("07911*123456").refused == "invalid"
    assert check_keyed_digits("9" * 16).refused == "invalid"
    assert check_keyed_digits(None).refused == "invalid"


def test_numbers_are_read_back_digit_by_digit_in_national_groups():
    assert spoken_digits("+447911123456") == "0 7 9 1 1, 1 2 3 4 5 6"
    assert spoken_digits("+441484221000", last=3) == "0 0 0"


@given(st.text(max_size=40))
def test_any_text_gives_a_verdict_never_an_exception(raw):
    check = check_callback_number(raw)
    assert check.ok == (check.reason is None)
    if check.ok:
        assert check.number is not None and check.number.startswith("+44")


@given(st.from_regex(r"[0-9]{1,20}", fullmatch=True))
def test_any_keyed_digits_give_a_verdict(digits):
    check = check_keyed_digits(digits)
    assert check.ok or check.reason.endswith(ONLY_UK)
