"""`flask twilio setup`: point the council's number at this app and give the desk's softphone an API key.

What it changes in the Twilio account, through the telephony gateway only:
- the number TWILIO_PHONE_NUMBER: VoiceUrl {PUBLIC_BASE_URL}/voice/incoming, VoiceFallbackUrl /voice/fallback,
  StatusCallback /voice/status and SmsUrl /sms/inbound, each requested with POST;
- an API key (the Keys resource) when TWILIO_API_KEY_SID is not set, whose sid and secret are printed once.
No TwiML App is made: advisers never dial out from the browser, so the softphone's token grants incoming only.
Running it again changes nothing more and says so; `dry_run` only says what it would change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from config import DEMO_API_KEY_SID, Settings
from telephony.gateway import IncomingNumber, TelephonyGateway

API_KEY_NAME = "Kirklees contact centre: desk softphone"
# Routes of this app that Twilio requests for the number (all POST, all signed and checked).
NUMBER_ROUTES = {
    "VoiceUrl": "/voice/incoming",
    "VoiceFallbackUrl": "/voice/fallback",
    "StatusCallback": "/voice/status",
    "SmsUrl": "/sms/inbound",
}
METHOD_OF = {
    "VoiceUrl": "VoiceMethod",
    "VoiceFallbackUrl": "VoiceFallbackMethod",
    "StatusCallback": "StatusCallbackMethod",
    "SmsUrl": "SmsMethod",
}
# While one of these is set Twilio ignores the number's own URLs: setup will not silently take it over.
OVERRIDING_FIELDS = ("VoiceApplicationSid", "SmsApplicationSid", "TrunkSid")


class SetupRefused(RuntimeError):
    """Setup cannot go on safely; the message says what to do."""


@dataclass
class SetupReport:
    lines: list[str] = field(default_factory=list)
    changed: bool = False


def wanted_webhooks(public_base_url: str) -> dict[str, str]:
    base = public_base_url.rstrip("/")
    wanted: dict[str, str] = {}
    for url_field, path in NUMBER_ROUTES.items():
        wanted[url_field] = base + path
        wanted[METHOD_OF[url_field]] = "POST"
    return wanted


def number_changes(number: IncomingNumber, wanted: dict[str, str]) -> dict[str, str]:
    """The webhook fields whose value differs from what is wanted (an unset method counts as Twilio's POST)."""
    changes = {}
    for name, value in wanted.items():
        current = number.webhooks.get(name) or ("POST" if name.endswith("Method") else None)
        if current != value:
            changes[name] = value
    return changes


def check_public_base_url(settings: Settings) -> str:
    base = settings.public_base_url
    if not base:
        raise SetupRefused(
            "PUBLIC_BASE_URL must be set: it is the address Twilio calls, e.g. https://phone.kirklees.gov.uk"
        )
    parts = urlsplit(base)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise SetupRefused(
            f"PUBLIC_BASE_URL must be a web address like https://phone.kirklees.gov.uk, not {base!r}"
        )
    if parts.scheme != "https" and not settings.simulator_enabled:
        raise SetupRefused(
            "PUBLIC_BASE_URL must start with https:// (the console and Twilio's requests need it)"
        )
    return base


def set_up(
    settings: Settings, gateway: TelephonyGateway, dry_run: bool, say: Callable[[str], None]
) -> SetupReport:
    """Bring the account in line with this deployment; every finding and change is passed to `say`.

    Everything that could refuse is checked before anything is changed, so a refusal leaves the account as it was.
    """
    report = SetupReport()

    def tell(line: str) -> None:
        report.lines.append(line)
        say(line)

    base = check_public_base_url(settings)
    number = _the_number(settings, gateway)
    changes = number_changes(number, wanted_webhooks(base))
    create_key = _key_wanted(settings, gateway, tell)

    if not changes:
        tell(f"The number {number.phone_number} already sends its calls and texts to {base}.")
    verb = "Would set" if dry_run else "Set"
    for name, value in changes.items():
        tell(f"{verb} {name} of {number.phone_number}: {number.webhooks.get(name) or '(none)'} → {value}")
    if changes and not dry_run:
        left = number_changes(gateway.update_incoming_number(number.sid, changes), wanted_webhooks(base))
        if left:
            raise SetupRefused(f"Twilio did not take {', '.join(left)} for {number.phone_number}; try again.")
    if create_key and dry_run:
        tell(f"Would create an API key {API_KEY_NAME!r} for the desk's softphone tokens.")
    elif create_key:
        key = gateway.create_api_key(API_KEY_NAME)
        tell(f"Created the API key {API_KEY_NAME!r}. Twilio shows its secret this once: put both in the web")
        tell(
            "app's environment now (a secrets store, not a file in the repository), then restart the web app:"
        )
        tell(f"  TWILIO_API_KEY_SID={key.sid}")
        tell(f"  TWILIO_API_KEY_SECRET={key.secret}")
    report.changed = bool(changes) or create_key
    if not report.changed:
        tell("Nothing changed: the Twilio account was set up for this app already.")
    elif dry_run:
        tell("Dry run: nothing was changed. Run again without --dry-run to make these changes.")
    return report


def _the_number(settings: Settings, gateway: TelephonyGateway) -> IncomingNumber:
    number = gateway.find_incoming_number(settings.twilio_phone_number)
    if number is None:
        raise SetupRefused(
            f"The Twilio account has no number {settings.twilio_phone_number} (TWILIO_PHONE_NUMBER): buy or port"
            " it into this account first, or set TWILIO_PHONE_NUMBER to one it has."
        )
    overriding = [name for name in OVERRIDING_FIELDS if number.webhooks.get(name)]
    if overriding:
        raise SetupRefused(
            f"The number {number.phone_number} is handled by {', '.join(overriding)} "
            f"({', '.join(str(number.webhooks[name]) for name in overriding)}), so Twilio would ignore its URLs:"
            " remove that from the number in the Twilio console, then run this again."
        )
    return number


def _key_wanted(settings: Settings, gateway: TelephonyGateway, tell: Callable[[str], None]) -> bool:
    """Whether an API key must be made: none is configured and no earlier run made one."""
    configured = settings.twilio_api_key_sid
    if configured != DEMO_API_KEY_SID:
        if not gateway.api_key_exists(configured):
            raise SetupRefused(
                f"TWILIO_API_KEY_SID {configured} is not a key of this Twilio account (deleted?). Unset it and"
                " TWILIO_API_KEY_SECRET, then run this again to create a new one."
            )
        tell(f"The softphone's API key {configured} (TWILIO_API_KEY_SID) exists.")
        return False
    named = gateway.api_key_sids_named(API_KEY_NAME)
    if named:
        # Made by an earlier run. Its secret was shown then, once; another key would only be a second unused one.
        tell(
            f"The API key {API_KEY_NAME!r} exists already ({', '.join(named)}), so no other is made. Set"
            " TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET to it and the secret printed when it was made (lost it?"
            " delete the key in the Twilio console and run this again for a new one)."
        )
        return False
    return True
