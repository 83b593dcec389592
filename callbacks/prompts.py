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
