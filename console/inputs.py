"""Reading what a console API request sends, so that nothing the database would refuse ever reaches it.

PostgreSQL refuses what Python happily holds: integers beyond its column types, text containing NUL, text
longer than its column, strings that are not valid UTF-8 (a JSON "\\ud800"). Each would be a driver error and
a 500. Every value a view reads from the path, the query string or the JSON body goes through one of these
readers instead, which records a field error (answered as 400 `{"errors": {field: message}}`) and gives None.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy.orm import InstrumentedAttribute

# Every id column is a PostgreSQL `integer`; a larger number can name nothing.
LARGEST_ID = 2**31 - 1
_WHOLE_NUMBER = re.compile(r"[0-9]{1,10}")  # ASCII digits only: str.isdigit() also takes "²"
# Tab, newline and carriage return are ordinary in a typed reason; other control characters never are.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_UK_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
LONGEST_DATE = 10


def column_length(column: InstrumentedAttribute[Any]) -> int:
    """The declared length of a String column, so the limit checked is the one the database enforces."""
    length = column.property.columns[0].type.length
    assert isinstance(length, int), f"{column} has no length"
    return length


class Inputs:
    """Collects field errors while a view reads its inputs; `errors` is empty when every value was fine."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def whole_number(
        self,
        field: str,
        raw: object,
        *,
        default: int | None = None,
        minimum: int = 1,
        maximum: int = LARGEST_ID,
        message: str | None = None,
        digits_allowed: bool = True,
    ) -> int | None:
        """A whole number from `minimum` to `maximum`: an integer, or ASCII digits (path, query string).

        Booleans, fractions (1.5, 1.0, 1e400), numbers in words and, unless `digits_allowed` (JSON bodies say
        numbers as numbers), digits in a string are refused; None or "" gives `default`.
        """
        if raw is None or raw == "":
            return default
        value: int | None = None
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        elif digits_allowed and isinstance(raw, str) and _WHOLE_NUMBER.fullmatch(raw):
            value = int(raw)
        if value is None or not minimum <= value <= maximum:
            self.fail(field, message or f"A whole number from {minimum} to {maximum}.")
            return None
        return value

    def text(self, field: str, raw: object, *, max_length: int) -> str | None:
        """Text of at most `max_length` characters without control characters; None or "" gives None."""
        if raw is None or raw == "":
            return None
        if not isinstance(raw, str):
            self.fail(field, "Must be text.")
            return None
        if _CONTROL.search(raw):
            self.fail(field, "Remove the control characters (such as NUL) from this text.")
            return None
        try:
            raw.encode("utf-8")
        except UnicodeEncodeError:
            self.fail(field, "This text is not valid Unicode.")
            return None
        if len(raw) > max_length:
            self.fail(field, f"Keep this to {max_length} characters or fewer.")
            return None
        return raw

    def uk_date(self, field: str, raw: str | None, label: str) -> date | None:
        """A date typed as 25/11/2026 (as people in the UK write it) or 2026-11-25; None or "" gives None."""
        typed = self.text(field, raw.strip() if raw else raw, max_length=LONGEST_DATE)
        if not typed:
            return None
        try:
            found = _UK_DATE.fullmatch(typed)
            if found:
                return date(int(found[3]), int(found[2]), int(found[1]))
            return date.fromisoformat(typed)
        except ValueError:
            pass
        self.fail(field, f"{label} must be a real date, like 25/11/2026.")
        return None
