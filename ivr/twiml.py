"""Turn the flow engine's plain actions into TwiML with VoiceResponse; the only place IVR TwiML is built."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from twilio.twiml.voice_response import Gather as GatherVerb
from twilio.twiml.voice_response import VoiceResponse

from ivr import engine
from ivr.prompts import speaking_language

# Callers who struggled get slower speech for the rest of the call (the engine sets Say.slow).
SLOW_SPEECH_RATE = "85%"


def say_in(target: VoiceResponse | GatherVerb, text: str, language: str) -> None:
    """Say `text` in the voice of `language`, the language it is written in (English where Twilio has none)."""
    voice = speaking_language(language)
    target.say(text, language=voice.say_language, voice=voice.voice)


def _say(target: VoiceResponse | GatherVerb, action: engine.Say) -> None:
    if action.slow:
        target.say(language=action.language, voice=action.voice).prosody(action.text, rate=SLOW_SPEECH_RATE)
    else:
        target.say(action.text, language=action.language, voice=action.voice)


def render(
    actions: Sequence[engine.Action],
    gather_action_url: str,
    enqueue_urls: Callable[[engine.Enqueue], tuple[str, str]],
) -> VoiceResponse:
    """Render one engine step. `enqueue_urls(action)` returns (waitUrl, action URL) for a queue handover.

    SendSms and OfferCallback are carried out by the webhook itself (they need the database), not rendered.
    """
    response = VoiceResponse()
    for action in actions:
        if isinstance(action, engine.Say):
            _say(response, action)
        elif isinstance(action, engine.Gather):
            gather = response.gather(
                input=" ".join(action.input_modes),
                num_digits=action.num_digits,
                timeout=action.timeout_s,
                finish_on_key=action.finish_on_key,
                hints=",".join(action.hints) or None,
                language=action.speech_language if "speech" in action.input_modes else None,
                action=gather_action_url,
                # Silence must come back to the engine (to reprompt and count it), not fall through.
                action_on_empty_result=True,
            )
            for prompt in action.prompts:
                _say(gather, prompt)
        elif isinstance(action, engine.Enqueue):
            wait_url, result_url = enqueue_urls(action)
            response.enqueue(action.topic, wait_url=wait_url, action=result_url)
        elif isinstance(action, engine.Transfer):
            response.dial(action.number)
        elif isinstance(action, engine.Hangup):
            response.hangup()
    return response
