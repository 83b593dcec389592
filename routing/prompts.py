"""What callers and advisers hear around the queue: short sentences, the caller's language where we have it.

Caller-facing texts exist in English and Polish; other languages hear English (as the menu does where Twilio
has no voice). Polish is polite and impersonal ("Miejsce w kolejce: 3.", "Miejsce w kolejce jest zachowane."),
so no sentence needs the caller's gender (no "Pan/Pani"). Adviser whispers are English: advisers work in English and hear the caller's language named.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from twilio.twiml.voice_response import Gather, VoiceResponse

from callbacks.numbers import NumberCheck
from callbacks.prompts import dialogue, dialogue_language, refusal
from ivr.hours_words import spoken_moment
from ivr.prompts import LANGUAGES, speaking_language
from ivr.twiml import say_in

CALLER_TEXTS: dict[str, dict[str, str]] = {
    "next": {"en-GB": "You are next in the queue.", "pl-PL": "To połączenie jest następne w kolejce."},
    "position": {
        "en-GB": "You are number {position} in the queue.",
        "pl-PL": "Miejsce w kolejce: {position}.",
    },
    "in_queue": {"en-GB": "You are in the queue.", "pl-PL": "Połączenie czeka w kolejce."},
    "wait": {
        "en-GB": "The wait is {estimate}.",
        "pl-PL": "Czas oczekiwania: {estimate}.",
    },
    "no_estimate": {
        "en-GB": "We can't estimate the wait right now.",
        "pl-PL": "Nie możemy teraz oszacować czasu oczekiwania.",
    },
    "nobody": {
        "en-GB": "No advisers for this are working right now.",
        "pl-PL": "Żaden konsultant nie pracuje teraz w tej sprawie.",
    },
    # From the third hold round with nobody for the topic working: the callback, plainly, and when to expect anyone.
    "nobody_offer": {
        "en-GB": "No one can take your call right now. Advisers are next expected {when}. "
        "To be called back then, press 1. To keep holding, press 2.",
        "pl-PL": "Nikt nie może teraz odebrać połączenia. Konsultantów spodziewamy się {when}. "
        "Aby otrzymać wtedy oddzwonienie, proszę nacisnąć 1. Aby dalej czekać, proszę nacisnąć 2.",
    },
    "nobody_offer_unknown": {
        "en-GB": "No one can take your call right now, and we can't tell when advisers will next be working. "
        "To be called back as soon as someone can, press 1. To keep holding, press 2.",
        "pl-PL": "Nikt nie może teraz odebrać połączenia i nie wiemy, kiedy konsultanci będą dostępni. "
        "Aby otrzymać oddzwonienie, gdy tylko będzie to możliwe, proszę nacisnąć 1. "
        "Aby dalej czekać, proszę nacisnąć 2.",
    },
    "long_wait": {
        "en-GB": "Sorry, it's a long wait today.",
        "pl-PL": "Przepraszamy, dziś trzeba długo czekać.",
    },
    "keys": {
        "en-GB": "To get a call back without losing your place, press 1. To keep waiting, press 2.",
        "pl-PL": "Aby otrzymać oddzwonienie bez utraty miejsca, naciśnij 1. Aby dalej czekać, naciśnij 2.",
    },
    "keep_waiting": {"en-GB": "Thank you for holding.", "pl-PL": "Dziękujemy za cierpliwość."},
    # The keep-your-place number read-back: what each answer other than 1 or 2 did, said plainly.
    "no_callback": {
        "en-GB": "OK, no call back. You keep your place in the queue.",
        "pl-PL": "Dobrze, bez oddzwaniania. Miejsce w kolejce jest zachowane.",
    },
    "not_a_choice": {
        "en-GB": "Sorry, that key isn't one of the choices.",
        "pl-PL": "Przepraszamy, tego klawisza nie ma wśród możliwości.",
    },
    "still_holding": {
        "en-GB": "You're still holding, and you keep your place in the queue.",
        "pl-PL": "Połączenie nadal czeka, a miejsce w kolejce jest zachowane.",
    },
    "no_choice_heard": {
        "en-GB": "We didn't hear a choice. You're still holding, and you keep your place in the queue.",
        "pl-PL": "Nie usłyszeliśmy wyboru. Połączenie nadal czeka, a miejsce w kolejce jest zachowane.",
    },
    "kept_place": {
        "en-GB": "Thank you. You keep your place, and an adviser will call you back on the number ending "
        "{last_digits} when it's your turn. You can hang up now.",
        "pl-PL": "Dziękujemy. Miejsce w kolejce jest zachowane: gdy przyjdzie kolej, konsultant oddzwoni na numer "
        "kończący się cyframi {last_digits}. Można się teraz rozłączyć.",
    },
    "kept_place_updated": {
        "en-GB": "Thank you. You already had a callback with us, so we've changed it to this one: you keep your "
        "place, and an adviser will call you back on the number ending {last_digits} when it's your turn. "
        "You can hang up now.",
        "pl-PL": "Dziękujemy. Oddzwonienie było już zamówione, więc je zmieniliśmy: miejsce w kolejce jest "
        "zachowane, a gdy przyjdzie kolej, konsultant oddzwoni na numer kończący się cyframi {last_digits}. "
        "Można się teraz rozłączyć.",
    },
    "connecting": {"en-GB": "Connecting you to an adviser.", "pl-PL": "Łączymy z konsultantem."},
    "still_your_place": {
        "en-GB": "Sorry, that adviser couldn't take your call. You keep your place in the queue.",
        "pl-PL": "Przepraszamy, ten konsultant nie mógł odebrać. Miejsce w kolejce jest zachowane.",
    },
    "goodbye": {
        "en-GB": "Thank you for calling Kirklees Council. Goodbye.",
        "pl-PL": "Dziękujemy. Do widzenia.",
    },
}

ADVISER_TEXTS = {
    "offer_gone": "This call is no longer waiting. Thank you.",
    "not_accepted": "Call not accepted. You have been set to break.",
    "calling_resident": "Calling the resident now.",
    "adviser_done": "The call has ended. Thank you.",
    "resident_already_called": "This resident is already being called back, or no longer needs a call. Goodbye.",
}

TOPIC_NAMES = {
    "council_tax": "council tax",
    "housing_benefit": "housing benefit",
    "general": "a general enquiry",
}


def say(target: VoiceResponse | Gather, name: str, language: str, **values: object) -> None:
    """Say a caller-facing text in the caller's language if we have it (and Twilio can speak it), else English."""
    texts = CALLER_TEXTS[name]
    code = _spoken_code(language, texts)
    say_in(target, texts[code].format(**values), code)


def say_callback_offer(
    target: VoiceResponse | Gather, language: str, expected: datetime | None, now: datetime
) -> None:
    """Nobody for the topic is working: offer the callback plainly, saying when advisers are next expected."""
    name = "nobody_offer" if expected is not None else "nobody_offer_unknown"
    code = _spoken_code(language, CALLER_TEXTS[name])
    when = spoken_moment(expected, now, code) if expected is not None else ""
    say_in(target, CALLER_TEXTS[name][code].format(when=when), code)


def say_number_step(target: VoiceResponse | Gather, name: str, language: str, **values: object) -> None:
    """A sentence of agreeing a callback number, the same words as the booking dialogue (callbacks.prompts)."""
    say_in(target, dialogue(name, language, **values), dialogue_language(language))


def say_refusal(target: VoiceResponse | Gather, check: NumberCheck, language: str) -> None:
    """Why we can't ring that number (callbacks.prompts.refusal), as the booking dialogue says it."""
    say_in(target, refusal(check, language), dialogue_language(language))


def _spoken_code(language: str, texts: Mapping[str, str]) -> str:
    spoken = speaking_language(language)
    return spoken.code if spoken.code in texts else "en-GB"


def say_to_adviser(target: VoiceResponse | Gather, text: str) -> None:
    say_in(target, ADVISER_TEXTS.get(text, text), "en-GB")


def say_place(target: VoiceResponse | Gather, position: int | None, language: str) -> None:
    if position == 1:
        say(target, "next", language)
    elif position:
        say(target, "position", language, position=position)
    else:
        say(target, "in_queue", language)


def _spoken_wait(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def whisper(
    topic: str, language: str, reference: str | None, waited_seconds: int, callback: bool = False
) -> str:
    """What the adviser hears before taking a call (or ringing back a resident who kept their place)."""
    what = TOPIC_NAMES.get(topic, topic.replace("_", " "))
    opening = f"Call back a resident about {what}" if callback else f"Caller about {what}"
    parts = [opening]
    chosen = LANGUAGES.get(language)
    if chosen is not None and chosen.code != "en-GB":
        parts.append(f"in {chosen.name}" + ("" if chosen.has_voice else ", interpreter needed"))
    if reference:
        parts.append("reference " + " ".join(reference))
    parts.append(f"waited {_spoken_wait(waited_seconds)}")
    action = "ring them now" if callback else "take the call"
    return ", ".join(parts) + f". Press 1 to {action}."
