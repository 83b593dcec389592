from __future__ import annotations

import logging

from hypothesis import given
from hypothesis import strategies as st

from runtime.logging import PersonalDataRedactor, configure_logging, get_logger

redact = PersonalDataRedactor("secret")


def test_known_personal_fields_are_replaced_by_a_stable_fingerprint():
    first = redact(None, "info", {"event": "x", "caller_number": "+447700900123"})
    second = redact(None, "info", {"event": "y", "caller_number": "+447700900123"})
    assert "+447700900123" not in str(first)
    assert first["caller_number"] == second["caller_number"], "same caller must stay correlatable"
    assert first["caller_number"] != redact(None, "info", {"caller_number": "+447700900124"})["caller_number"]


def test_numbers_inside_free_text_are_scrubbed_but_call_sids_are_kept():
    event = redact(None, "info", {"event": "calling 07700 900123 for CA0123456789abcdef0123456789abcdef"})
    assert "07700 900123" not in event["event"]
    assert "CA0123456789abcdef0123456789abcdef" in event["event"]


@given(st.from_regex(r"\+44 ?7\d{3} ?\d{6}", fullmatch=True))
def test_no_uk_mobile_survives_in_any_message(number):
    event = redact(None, "info", {"event": f"number was {number}.", "note": number})
    digits_only = number.replace(" ", "")
    assert digits_only not in str(event).replace(" ", "")


def test_configured_logging_never_prints_the_caller_number(capsys):
    configure_logging("INFO", as_json=True, secret="secret")
    get_logger("test").info("callback.requested", number="+447700900123", call_sid="CA" + "1" * 32)
    logging.getLogger("werkzeug").info("stdlib line mentioning 07700900123")
    printed = capsys.readouterr().err
    assert "CA" + "1" * 32 in printed
    assert "7700900123" not in printed
