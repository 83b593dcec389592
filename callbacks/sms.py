"""What residents read (SMS) and hear (the greeting when they answer) from the callback service.

Texts and the greeting are in the resident's language where we have it (Polish), else English. Numbers and slots
are written the way people say them; replies to a resident's text are in the language of their latest callback.
"""

from __future__ import annotations

from datetime import datetime

import phonenumbers

from ivr.hours import LONDON
from ivr.hours_words import MONTHS_EN, OF_MONTH_PL, ON_WEEKDAY_PL, WEEKDAYS_EN

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
    "general": "ogólne zapytanie",
}
CANCELLED_BEFORE_ANSWER = (
    "This is Kirklees Council. Your callback was cancelled, so there is nothing to do. Goodbye."
)


CANCEL_KEYWORDS = frozenset({"CANCEL", "STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "ANULUJ"})


def topic_words(topic: str) -> str:
    return TOPIC_WORDS.get(topic, TOPIC_WORDS["general"])


def greeting(topic: str, language: str) -> tuple[str, str]:
    """(text, language it is in) of what a resident hears on answering a callback."""
    spoken = language if language in GREETING else "en-GB"
    return GREETING[spoken].format(topic=_topic(topic, spoken)), spoken


def spoken_number(e164: str) -> str:
    """+441484221000 → "01484 221000", the way the number is printed on council letters."""
    return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL)


def slot_in_words(starts_at: datetime, ends_at: datetime | None, language: str = "en-GB") -> str:
    """ "Thursday 26 November between 10:00 and 10:30" in UK local time (Polish: "w czwartek 26 listopada …")."""
    start = starts_at.astimezone(LONDON)
    end = f"{ends_at.astimezone(LONDON):%H:%M}" if ends_at is not None else None
    if language == "pl-PL":
        day = f"{ON_WEEKDAY_PL[start.weekday()]} {start.day} {OF_MONTH_PL[start.month - 1]}"
        return f"{day} o {start:%H:%M}" if end is None else f"{day} między {start:%H:%M} a {end}"
    day = f"{WEEKDAYS_EN[start.weekday()]} {start.day} {MONTHS_EN[start.month - 1]}"  # not strftime: locale
    return f"{day} at {start:%H:%M}" if end is None else f"{day} between {start:%H:%M} and {end}"


# The texts of a booked callback, in the resident's language where we have it (they can be read any time later,
# so slots are dates, never "tomorrow"). Polish letters make a text Unicode (70 characters a part, not 160).
TEXTS = {
    "en-GB": {
        "confirmation": "Kirklees Council will call you back about {topic} {when}. "
        "Reply CANCEL to cancel. Questions: call {council}.",
        "reminder": "Reminder: Kirklees Council will call you about {topic} {when}. Reply CANCEL to cancel.",
        "final": "We tried to call you back about {topic} but couldn't reach you. Please call {council} or {visit}.",
        "on_slot": "on {slot}",
        "asap": "as soon as an adviser is free",
        "visit_library": "visit {library} Library ({address}) to book a face-to-face appointment",
        "visit_any": "visit any Kirklees library hub",
        # Replies to a resident's text (see inbound_reply).
        "cancelled": "Your callback from Kirklees Council is cancelled. "
        "To talk to us, call {council} or visit any library hub.",
        "nothing_to_cancel": "You have no callback booked with Kirklees Council. To talk to us, call {council}.",
        "help": "Kirklees Council callbacks: reply CANCEL to cancel your callback, or call {council}.",
    },
    "pl-PL": {
        "confirmation": "Rada Kirklees oddzwoni w sprawie: {topic}, {when}. "
        "Aby anulować, odpisz CANCEL. Pytania: {council}.",
        "reminder": "Przypomnienie: Rada Kirklees zadzwoni w sprawie: {topic}, {when}. Aby anulować, odpisz CANCEL.",
        "final": "Nie udało się dodzwonić w sprawie: {topic}. Prosimy zadzwonić pod {council} albo {visit}.",
        "on_slot": "{slot}",
        "asap": "gdy tylko konsultant będzie wolny",
        "visit_library": "umówić wizytę w bibliotece w {library} ({address})",
        "visit_any": "przyjść do dowolnej biblioteki Kirklees",
        "cancelled": "Oddzwonienie od Rady Kirklees zostało anulowane. "
        "Aby z nami porozmawiać, prosimy zadzwonić pod {council} albo przyjść do biblioteki.",
        "nothing_to_cancel": "Na ten numer nie ma zamówionego oddzwonienia od Rady Kirklees. "
        "Aby z nami porozmawiać, prosimy zadzwonić pod {council}.",
        "help": "Oddzwonienia Rady Kirklees: aby anulować, odpisz CANCEL albo zadzwoń pod {council}.",
    },
}


def _texts(language: str) -> dict[str, str]:
    return TEXTS.get(language, TEXTS["en-GB"])


def _topic(topic: str, language: str) -> str:
    if language == "pl-PL":
        return TOPIC_WORDS_PL.get(topic, TOPIC_WORDS_PL["general"])
    return topic_words(topic)


def confirmation(
    topic: str, slot: tuple[datetime, datetime | None] | None, council: str, language: str = "en-GB"
) -> str:
    texts = _texts(language)
    when = texts["on_slot"].format(slot=slot_in_words(*slot, language)) if slot else texts["asap"]
    return texts["confirmation"].format(topic=_topic(topic, language), when=when, council=council)


def reminder(topic: str, slot: tuple[datetime, datetime | None], language: str = "en-GB") -> str:
    texts = _texts(language)
    when = texts["on_slot"].format(slot=slot_in_words(*slot, language))
    return texts["reminder"].format(topic=_topic(topic, language), when=when)


def final(topic: str, council: str, library: tuple[str, str] | None = None, language: str = "en-GB") -> str:
    """After the last unanswered dial: call us, or book face to face at their library hub (name, address)."""
    texts = _texts(language)
    if library is None:
        visit = texts["visit_any"]
    else:
        visit = texts["visit_library"].format(library=library[0], address=library[1])
    return texts["final"].format(topic=_topic(topic, language), council=council, visit=visit)


def inbound_reply(action: str, council: str, language: str = "en-GB") -> str | None:
    """What we text back after a resident's text was handled ("cancelled", "nothing_to_cancel", "help")."""
    text = _texts(language).get(action) if action in ("cancelled", "nothing_to_cancel", "help") else None
    return text.format(council=council) if text else None


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
