from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telephony.numbers import to_e164


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("07700 900123", "+447700900123"),
        ("+44 7700 900123", "+447700900123"),
        ("01484 221000", "+441484221000"),
        ("+48 22 123 45 67", "+48221234567"),
        ("anonymous", None),
        ("Restricted", None),
        ("", None),
        (None, None),
        ("client:adviser-aisha-khan", None),
        ("not a number", None),
        ("123", None),
    ],
)
def test_numbers_are_normalised_to_e164_or_none(raw, expected):
    assert to_e164(raw) == expected


@given(st.text(max_size=64))
def test_any_text_from_a_webhook_never_raises(raw):
    result = to_e164(raw)
    assert result is None or result.startswith("+")
