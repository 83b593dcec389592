"""What a caller hears when the menu books them a callback, per language (English where we have no text)."""

from __future__ import annotations

BOOKED = {
    "en-GB": "Thank you. An adviser will call you back on the number you are calling from as soon as we can. Goodbye.",
    "pl-PL": "Dziękujemy. Konsultant oddzwoni na numer, z którego Pan/Pani dzwoni, tak szybko, jak to możliwe. Do widzenia.",
}
UPDATED = {
    "en-GB": "You already had a callback booked with us. We've kept it and updated it. Goodbye.",
    "pl-PL": "Ma Pan/Pani już zamówione oddzwonienie. Zachowaliśmy je i zaktualizowaliśmy. Do widzenia.",
}
NEED_NUMBER = {
    "en-GB": "We can't see your phone number, so we'll put you through to an adviser instead.",
    "pl-PL": "Nie widzimy Pana/Pani numeru telefonu, więc połączymy z konsultantem.",
}


def text(table: dict[str, str], language: str) -> tuple[str, str]:
    """Return (text, language it is in): the caller's language when we have it, else English."""
    return (table[language], language) if language in table else (table["en-GB"], "en-GB")


# The booking dialogue (callbacks/views.py). English for now: the slot phrases are built in English, and a
# sentence half in Polish and half in English helps nobody; the caller's language is kept on the booking.
DIALOGUE = {
    "confirm_caller_id": "We'll call you on the number ending {last_digits}. "
    "Press 1 for that number, or 2 to give another.",
    "confirm_keyed": "You keyed {digits}. Press 1 if that's right, or 2 to key it again.",
    "withheld": "We can't see your phone number.",
    "caller_id_refused": "We can't call back the number you're calling from. {reason}",
    "key_number": "Please key the phone number we should call, starting with 0, then press the hash key.",
    "not_heard": "Sorry, I didn't catch that.",
    "slot_option": "Press {key} for a call {when}.",
    "asap_option": "Press 4 for a call as soon as an adviser is free.",
    "adviser_option": "Or press 0 to talk to an adviser now.",
    "no_slots": "We have no booked times free in the next two weeks.",
    "slot_taken": "Sorry, that time has just been taken.",
    "booked": "Thank you. Your callback is booked: we'll call you {when}, on the number ending {last_digits}. "
    "Goodbye.",
    "updated": "You already had a callback with us, so we've updated your existing callback: we'll call you "
    "{when}, on the number ending {last_digits}. Goodbye.",
    "asap": "as soon as an adviser is free",
    "asap_when_closed": "as soon as we open",
    "to_adviser": "Let me put you through to an adviser.",
}


def dialogue(name: str, **values: object) -> str:
    """One sentence of the booking dialogue with its blanks filled in."""
    return DIALOGUE[name].format(**values)
