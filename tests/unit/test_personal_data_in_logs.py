from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.flow import DEFAULT_FLOW_PATH
from runtime.logging import PersonalDataRedactor, configure_logging, get_logger
from runtime.personal_data import PHONE_LABEL, REFERENCE_LABEL, scrub

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


# --- free text: phone numbers and references hidden by what they are, everything else readable ---------------

_SUBSCRIBER = st.text(alphabet="0123456789", min_size=6, max_size=6)
_UK_NUMBER_FORMS = (
    "+44 7{area} {subscriber}",
    "+447{area}{subscriber}",
    "07{area}{subscriber}",
    "07{area} {subscriber}",
    "07{area} {first} {last}",
    "0044 7{area} {subscriber}",
    "+44 (0)7{area} {subscriber}",
    "01484 {subscriber}",
    "(01484) {subscriber}",
    "01484-{first}-{last}",
    "+44 1484 {subscriber}",
    "020 7{area} {four}",
    "+44 20 7{area} {four}",
)
# Sentences with no digits of their own, so any digit left in the output is a leak.
_SENTENCES = (
    "calling {} now",
    "Callback booked for {}.",
    "number={}",
    "dial failed for {}: busy",
    "{}",
    "resident said: my number is {}, thanks",
    "sms to '{}' refused",
)


@st.composite
def uk_numbers(draw: st.DrawFn) -> str:
    subscriber = draw(_SUBSCRIBER)
    form = draw(st.sampled_from(_UK_NUMBER_FORMS))
    return form.format(
        area=draw(st.text(alphabet="0123456789", min_size=3, max_size=3)),
        subscriber=subscriber,
        first=subscriber[:3],
        last=subscriber[3:],
        four=subscriber[2:],
    )


@given(uk_numbers(), st.sampled_from(_SENTENCES))
def test_a_uk_number_in_any_common_written_form_is_hidden_from_free_text(number, sentence):
    scrubbed = scrub(sentence.format(number))
    assert not any(character.isdigit() for character in scrubbed), scrubbed
    assert PHONE_LABEL in scrubbed


def _capture_patterns() -> dict[str, str]:
    """The shipped menu's reference captures: the shapes the log scrubber must know."""
    nodes = json.loads(DEFAULT_FLOW_PATH.read_text())["nodes"].values()
    return {node["name"]: node["pattern"] for node in nodes if node.get("kind") == "capture"}


def test_the_shipped_menu_captures_a_council_tax_account_and_a_housing_benefit_claim():
    assert set(_capture_patterns()) == {"council_tax_account", "housing_benefit_claim"}


@given(st.data(), st.sampled_from(_SENTENCES))
def test_a_reference_in_the_shape_the_menu_captures_is_hidden_from_free_text(data, sentence):
    pattern = data.draw(st.sampled_from(sorted(_capture_patterns().values())))
    reference = data.draw(st.from_regex(pattern, fullmatch=True).filter(lambda text: "\n" not in text))
    scrubbed = scrub(sentence.format(reference))
    assert not any(character.isdigit() for character in scrubbed), scrubbed


def test_a_reference_read_back_or_grouped_is_hidden():
    assert scrub("I heard 1 2 3 4 5 6 7 8. Press 1 if that is right.") == (
        f"I heard {REFERENCE_LABEL}. Press 1 if that is right."
    )
    assert scrub("account 1234 5678") == f"account {REFERENCE_LABEL}"


_TIMESTAMPS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.sampled_from([UTC, None])
)
_READABLE_SENTENCES = (
    "scheduled at {}",
    "{} job started",
    "retry ({}) after 900 seconds",
    "queued {}, 3 waiting",
)


@given(
    st.one_of(_TIMESTAMPS.map(datetime.isoformat), _TIMESTAMPS.map(str)), st.sampled_from(_READABLE_SENTENCES)
)
def test_iso_timestamps_are_never_altered(timestamp, sentence):
    text = sentence.format(timestamp)
    assert scrub(text) == text


@given(
    st.integers(min_value=1, max_value=10**10),
    st.integers(min_value=1, max_value=9),
    st.sampled_from(["callback-{}-attempt-{}", "callback-{}-text-{}", "rq:job:callback-{}-attempt-{}"]),
    st.sampled_from(_READABLE_SENTENCES),
)
def test_job_ids_are_never_altered(callback_id, attempt, job_id, sentence):
    text = sentence.format(job_id.format(callback_id, attempt))
    assert scrub(text) == text


@given(
    st.sampled_from(["CA", "SM", "QU", "AC", "MM", "CF"]),
    st.text(alphabet="0123456789abcdef", min_size=32, max_size=32),
    st.sampled_from(_READABLE_SENTENCES),
)
def test_twilio_sids_are_never_altered(prefix, hex_digits, sentence):
    text = sentence.format(prefix + hex_digits)
    assert scrub(text) == text


@pytest.mark.parametrize(
    "line",
    [
        '127.0.0.1 - - [07/Dec/2026 00:59:39] "GET /readyz HTTP/1.1" 200 -',
        "Worker 1f2e3d4c5b6a79880123456789abcdef [PID 1234567]: warm shut down requested",
        "Job OK (callback-123456789-attempt-2), result kept for 500 seconds",
        "epoch 1764000000.123456, in ms 1764000000123, took 0.004512 s",
        "request 3f2a1b4c-1234-5678-9abc-def012345678 took 15 ms for 12345 callers",
        "2026-12-07 00:59:39,123 rq.worker cleaning registries",
    ],
)
def test_what_an_engineer_needs_to_trace_a_failure_stays_readable(line):
    assert scrub(line) == line


def test_each_kind_is_named_in_a_mixed_line():
    scrubbed = scrub(
        "2026-11-25T10:00:00Z callback-12-attempt-1 for CA" + "0" * 32 + " rang 07911 123456 about 12345678"
    )
    assert scrubbed == (
        f"2026-11-25T10:00:00Z callback-12-attempt-1 for CA{'0' * 32} rang {PHONE_LABEL} about {REFERENCE_LABEL}"
    )
