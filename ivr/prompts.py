"""The languages the voice menu speaks, and which Twilio <Say> voice and <Gather> speech model each one uses.

Prompt wording lives in the flow JSON; this table only says how Twilio can speak and hear each language.

What Twilio offered when this was written (its "Text-to-Speech" voice list, confirm in the console before
changing a voice):

- en-GB: Amazon Polly British voices (Polly.Amy, Polly.Emma, Polly.Brian, and their -Neural versions) and
  Google en-GB voices. Speech recognition: en-GB.
- pl-PL: Polly.Ewa, Polly.Maja, Polly.Jacek, Polly.Jan, Polly.Ola-Neural and Google.pl-PL-* voices.
  Speech recognition: pl-PL.
- pa-IN: Google.pa-IN-Standard-A..D and Google.pa-IN-Wavenet-A..D (Gurmukhi text). Punjabi was not in Twilio's
  <Gather> speech-recognition language list we found, so Punjabi callers use the keypad only.
- Urdu: no Twilio <Say> voice (neither Polly nor Google) in that list, though <Gather> recognises ur-PK.
  Urdu callers therefore hear English with an offer of an interpreter, and their speech is recognised as
  en-GB to match the English prompts; the engine records that in the journey and passes it to routing as an
  "interpreter:ur-PK" reason. The Urdu texts in the flow are still used for SMS and for when a voice arrives.
"""

from __future__ import annotations

from dataclasses import dataclass

ENGLISH = "en-GB"


@dataclass(frozen=True)
class Language:
    """One language a caller can choose: how Twilio says it and hears it."""

    code: str  # BCP-47, the same codes advisers' languages use, e.g. "pl-PL"
    name: str  # in English, for journeys and the console
    say_language: str  # <Say language=...>
    voice: str  # <Say voice=...>
    speech_language: str | None  # <Gather language=...> for speech, None where Twilio cannot recognise it
    has_voice: bool  # False: Twilio cannot speak it, so we speak English and offer an interpreter


_ENGLISH_VOICE = Language(
    code=ENGLISH,
    name="English",
    say_language="en-GB",
    voice="Polly.Amy-Neural",
    speech_language="en-GB",
    has_voice=True,
)

LANGUAGES: dict[str, Language] = {
    language.code: language
    for language in (
        _ENGLISH_VOICE,
        Language(
            code="pl-PL",
            name="Polish",
            say_language="pl-PL",
            voice="Polly.Ola-Neural",
            speech_language="pl-PL",
            has_voice=True,
        ),
        Language(
            code="pa-IN",
            name="Punjabi",
            say_language="pa-IN",
            voice="Google.pa-IN-Wavenet-A",
            speech_language=None,
            has_voice=True,
        ),
        Language(
            code="ur-PK",
            name="Urdu",
            say_language=_ENGLISH_VOICE.say_language,
            voice=_ENGLISH_VOICE.voice,
            speech_language="ur-PK",
            has_voice=False,
        ),
    )
}


def language(code: str) -> Language:
    """Return the language for a code, English for anything unknown (a caller must always hear something)."""
    return LANGUAGES.get(code, LANGUAGES[ENGLISH])


def speaking_language(code: str) -> Language:
    """Return the language prompts are actually spoken in: the caller's, or English where Twilio has no voice."""
    chosen = language(code)
    return chosen if chosen.has_voice else LANGUAGES[ENGLISH]
