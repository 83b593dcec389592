"""May we ring this number back? Validation of a callback number with phonenumbers, with a spoken reason if not.

Pure (no Flask, database or Twilio). By default we call UK mobiles and landlines only: premium rate, shared cost
and personal (070) numbers cost the council money or forward anywhere; freephone, non-geographic, pager and
internet numbers are not a resident's own phone; international calls are not in the service. "UK" is country
code +44, which the Channel Islands and the Isle of Man share (many Kirklees mobiles are in ranges that
phonenumbers files under Guernsey or Jersey).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

UK_COUNTRY_CODE = 44
CALLABLE_BY_DEFAULT = frozenset(
    {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
ONLY_UK = "We can only call UK mobile and landline numbers."
MAX_KEYED_DIGITS = 15  # the longest number E.164 allows
# NumberCheck.refused codes besides the lower-cased phonenumbers type names (see `refused_kind`).
INVALID, INTERNATIONAL = "invalid", "international"

_KIND_WORDS = {
    PhoneNumberType.PREMIUM_RATE: "a premium rate number",
    PhoneNumberType.SHARED_COST: "a shared cost number",
    PhoneNumberType.PERSONAL_NUMBER: "a personal number",
    PhoneNumberType.TOLL_FREE: "a freephone number",
    PhoneNumberType.UAN: "a non-geographic number",
    PhoneNumberType.VOIP: "an internet phone number",
    PhoneNumberType.PAGER: "a pager number",
    PhoneNumberType.VOICEMAIL: "a voicemail number",
}


def refused_kind(kind: int) -> str:
    """Return the `refused` code for a kind of number: PhoneNumberType.PREMIUM_RATE → "premium_rate"."""
    return PhoneNumberType.to_string(kind).lower()


# The kinds the spoken reason names (others get "not a number we can call"), as `refused` codes.
NAMED_KINDS = frozenset(refused_kind(kind) for kind in _KIND_WORDS)


@dataclass(frozen=True)
class NumberCheck:
    """The verdict on one number: E.164 when we may call it, else a short reason to say to the caller."""

    number: str | None
    refused: str | None  # why not, e.g. "premium_rate", "international", "invalid"
    reason: str | None  # spoken: "That number is a premium rate number. We can only call UK ..."

    @property
    def ok(self) -> bool:
        return self.number is not None


def check_callback_number(
    raw: str | None, region: str = "GB", allowed: Collection[int] = CALLABLE_BY_DEFAULT
) -> NumberCheck:
    """Check a caller ID or keyed number (e.g. "07911123456" or "+447911123456") for a callback."""
    cleaned = (raw or "").strip()
    if not cleaned or len(cleaned) > 32:
        return _invalid()
    try:
        parsed = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        return _invalid()
    if parsed.country_code != UK_COUNTRY_CODE:
        # International numbers are refused whether or not phonenumbers knows the country's plan.
        return NumberCheck(None, INTERNATIONAL, f"That number is not a UK number. {ONLY_UK}")
    if not phonenumbers.is_valid_number(parsed):
        return _invalid()
    kind = phonenumbers.number_type(parsed)
    if kind not in allowed:
        words = _KIND_WORDS.get(kind, "not a number we can call")
        return NumberCheck(None, refused_kind(kind), f"That number is {words}. {ONLY_UK}")
    return NumberCheck(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), None, None)


def check_keyed_digits(digits: str | None, region: str = "GB") -> NumberCheck:
    """Check what a caller keyed on the phone: digits only (the keypad has no +), a UK number from 0."""
    keyed = (digits or "").strip()
    if not keyed.isdigit() or len(keyed) > MAX_KEYED_DIGITS:
        return _invalid()
    return check_callback_number(keyed, region)


def spoken_digits(e164: str, last: int | None = None) -> str:
    """Read a number digit by digit in its national form: "0 7 9 1 1, 1 2 3 4 5 6" (or just its last digits)."""
    national = phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL)
    if last is not None:
        only_digits = [char for char in national if char.isdigit()]
        return " ".join(only_digits[-last:])
    return ", ".join(" ".join(group) for group in national.split())


def _invalid() -> NumberCheck:
    return NumberCheck(None, INVALID, f"Sorry, that isn't a phone number we recognise. {ONLY_UK}")
