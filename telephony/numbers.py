"""Phone numbers at the boundary: normalise to E.164 with phonenumbers, or None when withheld/unusable."""

from __future__ import annotations

import phonenumbers

# What Twilio puts in From when the caller withholds their number.
WITHHELD_MARKERS = frozenset({"", "anonymous", "restricted", "unknown", "private", "blocked", "unavailable"})


def to_e164(raw: str | None, region: str = "GB") -> str | None:
    """Return the number in E.164 (+441484221000), or None if withheld, a client identity, or not a number."""
    if raw is None:
        return None
    cleaned = raw.strip()
    if cleaned.lower() in WITHHELD_MARKERS or cleaned.startswith("client:") or len(cleaned) > 32:
        return None
    try:
        parsed = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
