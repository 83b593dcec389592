""" "We've sent you a text" only once the gateway took it: the engine leaves the choice of words to the adapter."""

from __future__ import annotations

from datetime import datetime

import pytest

from ivr.engine import CallContext, OfferCallback, Say, SendSms, after_texts
from ivr.hours import LONDON
from tests.unit.test_ivr_engine import call, handover, keys, spoken

SATURDAY = CallContext(now=datetime(2026, 3, 14, 11, 0, tzinfo=LONDON), caller_has_mobile=True)
LANGUAGE_KEYS = {"en-GB": "1", "pl-PL": "2", "ur-PK": "3", "pa-IN": "4"}


def closed_step(language: str = "en-GB"):
    return call([keys(LANGUAGE_KEYS[language]), keys("0")], SATURDAY)[-1]


def test_the_step_says_nothing_about_the_text_until_the_adapter_knows_whether_it_went():
    step = closed_step()

    [sms] = [action for action in step.actions if isinstance(action, SendSms)]
    assert "https://www.kirklees.gov.uk" in sms.text
    assert not any("text" in sentence for sentence in spoken(step))
    assert sms.sent == Say(
        "We've sent you a text with a link to do this online.", "en-GB", "Polly.Amy-Neural"
    )
    assert sms.not_sent is not None and sms.not_sent.text.startswith("Sorry, we couldn't send you a text")


def test_a_text_the_gateway_accepted_is_announced_where_it_was_sent():
    heard = after_texts(closed_step(), [True])

    texts = [action.text for action in heard.actions if isinstance(action, Say)]
    assert texts[1:] == [
        "We've sent you a text with a link to do this online.",
        "We can call you back when we're open.",
    ]
    assert not any(isinstance(action, SendSms) for action in heard.actions)
    assert isinstance(handover(heard), OfferCallback)


def test_a_text_that_failed_is_owned_up_to_and_the_call_carries_on_to_the_callback():
    heard = after_texts(closed_step(), [False])

    texts = [action.text for action in heard.actions if isinstance(action, Say)]
    assert not any("We've sent you a text" in text for text in texts)
    assert texts[1] == (
        "Sorry, we couldn't send you a text just now. You can pay, check your bill or manage a claim online "
        "at any time at kirklees.gov.uk."
    )
    assert texts[2] == "We can call you back when we're open."
    assert isinstance(handover(heard), OfferCallback)


@pytest.mark.parametrize("language", LANGUAGE_KEYS)
def test_both_sentences_exist_in_the_language_the_caller_hears(language):
    [sms] = [action for action in closed_step(language).actions if isinstance(action, SendSms)]

    spoken_in = "en-GB" if language == "ur-PK" else language
    assert sms.sent.language == sms.not_sent.language == spoken_in
    assert sms.sent.text != sms.not_sent.text


def test_a_step_with_no_texts_is_unchanged():
    step = call([keys("1")])[-1]

    assert after_texts(step, []) == step
