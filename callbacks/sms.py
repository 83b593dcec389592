"""What residents read (SMS) and hear (the greeting when they answer) from the callback service.

Texts are English: SMS carries no voice, and a resident who asked in another language hears the greeting in it
where the menu has a voice for it (see `greeting`). Numbers and slots are written the way people say them.
"""

from __future__ import annotations

from datetime import datetime

import phonenumbers

from ivr.hours import LONDON

TOPIC_WORDS = {
    "council_tax": "council tax",
    "housing_benefit": "housing benefit",
    "general": "your enquiry",
}

GREETING = {
    "en-GB": "Hello, this is Kirklees Council returning your call about {topic}. "
    "Please hold while we connect you to an adviser.",
    "pl-PL": "Dzień dobry, tu Rada Kirklees. Oddzwaniamy w sprawie: {topic}. "
    "Prosimy czekać, łączymy z konsultantem.",
}
TOPIC_WORDS_PL = {
    "council_tax": "podatek lokalny",
    "housing_benefit": "dodatek mieszkaniowy",
    "general": "Pana/Pani zapytania",
}
CANCELLED_BEFORE_ANSWER = (
    "This is Kirklees Council. Your callback was cancelled, so there is nothing to do. Goodbye."
)

CANCELLED = "Your callback from Kirklees Council is cancelled. To talk to us, call {council} or visit any library hub."
NOTHING_TO_CANCEL = "You have no callback booked with Kirklees Council. To talk to us, call {council}."
HELP = "Kirklees Council callbacks: reply CANCEL to cancel your callback, or call {council}."

CANCEL_KEYWORDS = frozenset({"CANCEL", "STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT"})


def topic_words(topic: str) -> str:
    return TOPIC_WORDS.get(topic, TOPIC_WORDS["general"])


def greeting(topic: str, language: str) -> tuple[str, str]:
    """(text, language it is in) of what a resident hears on answering a callback."""
    if language == "pl-PL":
        return GREETING["pl-PL"].format(topic=TOPIC_WORDS_PL.get(topic, TOPIC_WORDS_PL["general"])), "pl-PL"
    return GREETING["en-GB"].format(topic=topic_words(topic)), "en-GB"


def spoken_number(e164: str) -> str:
    """+441484221000 → "01484 221000", the way the number is printed on council letters."""
    return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL)


def slot_in_words(starts_at: datetime, ends_at: datetime | None) -> str:
    """ "Thursday 26 November between 10:00 and 10:30" in UK local time."""
    start = starts_at.astimezone(LONDON)
    day = f"{start:%A} {start.day} {start:%B}"
    if ends_at is None:
        return f"{day} at {start:%H:%M}"
    return f"{day} between {start:%H:%M} and {ends_at.astimezone(LONDON):%H:%M}"


def confirmation(topic: str, slot: tuple[datetime, datetime | None] | None, council: str) -> str:
    when = f"on {slot_in_words(*slot)}" if slot else "as soon as an adviser is free"
    return (
        f"Kirklees Council will call you back about {topic_words(topic)} {when}. "
        f"Reply CANCEL to cancel. Questions: call {council}."
    )


def reminder(topic: str, slot: tuple[datetime, datetime | None]) -> str:
    return (
        f"Reminder: Kirklees Council will call you about {topic_words(topic)} {slot_in_words(*slot)}. "
        "Reply CANCEL to cancel."
    )


def final(topic: str, council: str) -> str:
    return (
        f"We tried to call you back about {topic_words(topic)} but couldn't reach you. "
        f"Please call {council} or visit any Kirklees library hub."
    )


def is_cancel(body: str) -> bool:
    words = body.strip().split()
    return bool(words) and words[0].strip(".!").upper() in CANCEL_KEYWORDS


def textable_number(e164: str | None, region: str = "GB") -> str | None:
    """The number if it is a mobile in our region (we text nothing else), else None."""
    if not e164:
        return None
    try:
        parsed = phonenumbers.parse(e164, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.region_code_for_number(parsed) != region:
        return None
    return e164 if phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE else None
