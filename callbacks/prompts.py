"""What a caller hears when the menu books them a callback, per language (English where we have no text)."""

from __future__ import annotations

from callbacks.numbers import INTERNATIONAL, INVALID, NumberCheck
from ivr.prompts import ENGLISH, speaking_language

BOOKED = {
    "en-GB": "Thank you. An adviser will call you back on the number you are calling from as soon as we can. Goodbye.",
    "pl-PL": "Dziękujemy. Konsultant oddzwoni na numer, z którego wykonano to połączenie, tak szybko, jak to możliwe. "
    "Do widzenia.",
}
UPDATED = {
    "en-GB": "You already had a callback booked with us. We've kept it and updated it. Goodbye.",
    "pl-PL": "Oddzwonienie było już zamówione. Zachowaliśmy je i zaktualizowaliśmy. Do widzenia.",
}
NEED_NUMBER = {
    "en-GB": "We can't see your phone number, so we'll put you through to an adviser instead.",
    "pl-PL": "Nie widzimy numeru telefonu, więc połączymy z konsultantem.",
}


def text(table: dict[str, str], language: str) -> tuple[str, str]:
    """Return (text, language it is in): the caller's language when we have it, else English."""
    return (table[language], language) if language in table else (table["en-GB"], "en-GB")


# The booking dialogue (callbacks/views.py), per language, each with the same keys and {blanks} as English. Slot
# phrases come from callbacks.slots.spoken_slot in the same language, so no sentence is half one, half the other.
DIALOGUE = {
    "en-GB": {
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
    },
    # Polite and impersonal ("proszę nacisnąć", passive forms), so no sentence needs the caller's gender (no
    # "Pan/Pani"); "Przepraszam, nie zrozumiałam" is the menu's own words (a female voice speaks them).
    "pl-PL": {
        "confirm_caller_id": "Oddzwonimy na numer kończący się cyframi {last_digits}. "
        "Jeśli to ten numer, proszę nacisnąć 1. Aby podać inny, proszę nacisnąć 2.",
        "confirm_keyed": "Wpisany numer to {digits}. Jeśli jest poprawny, proszę nacisnąć 1. "
        "Aby wpisać go ponownie, proszę nacisnąć 2.",
        "withheld": "Nie widzimy numeru telefonu.",
        "caller_id_refused": "Nie możemy oddzwonić na numer, z którego wykonano to połączenie. {reason}",
        "key_number": "Proszę wpisać numer telefonu, na który mamy oddzwonić, zaczynając od 0, "
        "a na końcu nacisnąć krzyżyk.",
        "not_heard": "Przepraszam, nie zrozumiałam.",
        "slot_option": "Jeśli mamy zadzwonić {when}, proszę nacisnąć {key}.",
        "asap_option": "Jeśli mamy zadzwonić, gdy tylko konsultant będzie wolny, proszę nacisnąć 4.",
        "adviser_option": "Aby teraz porozmawiać z konsultantem, proszę nacisnąć 0.",
        "no_slots": "W ciągu najbliższych dwóch tygodni nie mamy wolnych terminów.",
        "slot_taken": "Przepraszamy, ten termin został właśnie zajęty.",
        "booked": "Dziękujemy. Oddzwonienie jest zamówione: zadzwonimy {when}, "
        "na numer kończący się cyframi {last_digits}. Do widzenia.",
        "updated": "Oddzwonienie było już u nas zamówione, więc je zaktualizowaliśmy: zadzwonimy {when}, "
        "na numer kończący się cyframi {last_digits}. Do widzenia.",
        "asap": "od razu, gdy konsultant będzie wolny",  # "zadzwonimy od razu, gdy ...": a comma before "gdy"
        "asap_when_closed": "zaraz po otwarciu",
        "to_adviser": "Łączymy z konsultantem.",
    },
}


def dialogue_language(language: str) -> str:
    """Return the language the dialogue speaks to a caller who chose `language`: theirs if we have it, else English.

    Only a language with both dialogue text and a Twilio voice counts, so words and voice always match: an Urdu
    caller (no voice) or a Punjabi one (a voice, no text yet) hears English in the English voice.
    """
    if language in DIALOGUE and speaking_language(language).code == language:
        return language
    return ENGLISH


def dialogue(name: str, language: str, **values: object) -> str:
    """Return one sentence of the booking dialogue with its blanks filled in, in `language` or else English."""
    return DIALOGUE[dialogue_language(language)][name].format(**values)


# Why we won't ring a number (NumberCheck.refused → words). English is NumberCheck.reason itself.
_ONLY_UK_PL = "Możemy dzwonić tylko na brytyjskie numery komórkowe i stacjonarne."
_REFUSED_PL = {
    INVALID: f"Przepraszamy, nie rozpoznajemy tego numeru telefonu. {_ONLY_UK_PL}",
    INTERNATIONAL: f"To nie jest brytyjski numer. {_ONLY_UK_PL}",
    "premium_rate": f"To jest numer o podwyższonej opłacie. {_ONLY_UK_PL}",
    "shared_cost": f"To jest numer z opłatą dzieloną. {_ONLY_UK_PL}",
    "personal_number": f"To jest numer osobisty z przekierowaniem. {_ONLY_UK_PL}",
    "toll_free": f"To jest numer bezpłatny. {_ONLY_UK_PL}",
    "uan": f"To jest numer niegeograficzny. {_ONLY_UK_PL}",
    "voip": f"To jest numer telefonii internetowej. {_ONLY_UK_PL}",
    "pager": f"To jest numer pagera. {_ONLY_UK_PL}",
    "voicemail": f"To jest numer poczty głosowej. {_ONLY_UK_PL}",
}
_REFUSED_OTHER_PL = f"Na ten numer nie możemy dzwonić. {_ONLY_UK_PL}"


def refusal(check: NumberCheck, language: str) -> str:
    """Return why we won't ring a refused number, to say to the caller in `language` (Polish, else English).

    "" for a number we accepted. Kinds we have no words for get a general sentence, as in English.
    """
    if check.refused is None:
        return ""
    if dialogue_language(language) == "pl-PL":
        return _REFUSED_PL.get(check.refused, _REFUSED_OTHER_PL)
    return check.reason or ""
