"""Opening hours in words a caller hears: why we're closed today, when we open again, our weekly hours.

Pure functions over `ivr.hours` data, in English and Polish (the languages we have a voice and words for; other
callers hear the English). The flow's texts use them as placeholders, filled by the engine:

- ``{closed_today}``: "We're closed today for Christmas Day." on a bank holiday or a closure of every hub, else
  nothing (lines are simply closed for the night); a closure with a sentence for callers ("Batley Library is
  closed from 2pm today because of flooding.") is heard in English as staff wrote it, and as the plain
  translated "closed today" words in Polish (staff's English is not read out in another language);
- ``{next_opening}``: "We open again on Tuesday the 29th of December at 9 am." (nothing if we don't know);
- ``{opening_hours}``: "Our opening hours are: Monday, Wednesday and Friday, 9 am to 5 pm; ...".

The service is open while any hub is, so the weekly hours are the union of every hub's sessions. Days, months
and clock times are written out here rather than taken from strftime, which follows the server's locale.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from ivr.hours import LONDON, Closure, LibraryHours, bank_holiday, closure_at, next_opening

ENGLISH, POLISH = "en-GB", "pl-PL"
WORDS_LANGUAGES = (ENGLISH, POLISH)
HOURS_PLACEHOLDERS = ("closed_today", "next_opening", "opening_hours")

WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS_PL = ("poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela")
# "On <weekday>" takes the accusative in Polish, with "we" before the consonant cluster of "wtorek".
ON_WEEKDAY_PL = (
    "w poniedziałek",
    "we wtorek",
    "w środę",
    "w czwartek",
    "w piątek",
    "w sobotę",
    "w niedzielę",
)
FROM_WEEKDAY_PL = ("poniedziałku", "wtorku", "środy", "czwartku", "piątku", "soboty", "niedzieli")  # "od ..."
OF_MONTH_PL = (  # genitive: "30 listopada"
    "stycznia",
    "lutego",
    "marca",
    "kwietnia",
    "maja",
    "czerwca",
    "lipca",
    "sierpnia",
    "września",
    "października",
    "listopada",
    "grudnia",
)

# England & Wales bank holidays by the `holidays` package's names. "(observed)" marks a substitute day.
BANK_HOLIDAYS_EN = {
    "May Day": "the May Day bank holiday",
    "Spring Bank Holiday": "the spring bank holiday",
    "Late Summer Bank Holiday": "the summer bank holiday",
}
BANK_HOLIDAYS_PL = {
    "New Year's Day": "Nowy Rok",
    "Good Friday": "Wielki Piątek",
    "Easter Monday": "Poniedziałek Wielkanocny",
    "May Day": "majowe święto bankowe",
    "Spring Bank Holiday": "wiosenne święto bankowe",
    "Late Summer Bank Holiday": "letnie święto bankowe",
    "Christmas Day": "Boże Narodzenie",
    "Boxing Day": "drugi dzień świąt Bożego Narodzenia",
}
_OBSERVED = " (observed)"

SENTENCES = {
    ENGLISH: {
        "bank_holiday": "We're closed today for {name}.",
        "observed": "We're closed today for the {name} bank holiday.",
        "other_holiday": "We're closed today for a bank holiday.",
        "closure": "We're closed today for {reason}.",
        "next_opening": "We open again {when}.",
        "opening_hours": "Our opening hours are: {week}.",
    },
    POLISH: {
        "bank_holiday": "Dziś jest dzień wolny od pracy: {name}.",
        "observed": "Dziś jest dzień wolny od pracy w zamian za święto: {name}.",
        "other_holiday": "Dziś jest dzień wolny od pracy.",
        "closure": "Dziś jesteśmy zamknięci.",  # the reason is staff's English text, so it is not read out
        "next_opening": "Zapraszamy ponownie {when}.",
        "opening_hours": "Godziny otwarcia: {week}.",
    },
}


def hours_sentences(
    now: datetime,
    libraries: Sequence[LibraryHours],
    language: str,
    observe_bank_holidays: bool = True,
) -> dict[str, str]:
    """The sentence for each placeholder in `language` (English unless Polish); "" where there is nothing true
    to say (open today, no opening known, no hours at all)."""
    language = language if language in WORDS_LANGUAGES else ENGLISH
    local = now.astimezone(LONDON)
    return {
        "closed_today": closed_today(local.date(), libraries, language, observe_bank_holidays, now=local),
        "next_opening": _next_opening_sentence(local, libraries, language, observe_bank_holidays),
        "opening_hours": opening_hours(libraries, language),
    }


def closed_today(
    day: date,
    libraries: Sequence[LibraryHours],
    language: str,
    observe_bank_holidays: bool = True,
    now: datetime | None = None,
) -> str:
    """Why the whole service is shut today (a bank holiday, or a closure at every hub), else "".

    With `now`, a closure in effect then counts even if it began part-way through the day (an emergency).
    """
    words = SENTENCES[language]
    holiday = bank_holiday(day) if observe_bank_holidays else None
    if holiday:
        observed = holiday.endswith(_OBSERVED)
        name = holiday.removesuffix(_OBSERVED)
        if language == POLISH:
            if name not in BANK_HOLIDAYS_PL:
                return words["other_holiday"]
            return words["observed" if observed else "bank_holiday"].format(name=BANK_HOLIDAYS_PL[name])
        if observed:
            return words["observed"].format(name=name)
        return words["bank_holiday"].format(name=BANK_HOLIDAYS_EN.get(name, name))
    closures: list[Closure] = []
    for library in libraries:
        covering = [closure for closure in library.closures if closure.covers(day)]
        in_effect = closure_at(now, library.closures) if now is not None else None
        if in_effect is None and not covering:
            return ""  # this hub is not closed: the lines are closed only outside its hours
        closures.append(in_effect or covering[0])
    if not libraries:
        return ""
    if language == ENGLISH and all(closure.caller_message for closure in closures):
        return closure_sentences(closures)
    reasons = {closure.reason for closure in closures}
    if len(reasons) != 1:
        return ""
    return words["closure"].format(reason=reasons.pop())


MOST_CLOSURE_SENTENCES = 3


def closure_sentences(closures: Sequence[Closure]) -> str:
    """The callers' sentences of these closures, each once, in order; "" if there are more than three (a list
    that long is no help on the phone: the menu's own "our lines are closed" is said instead)."""
    sentences = list(dict.fromkeys(closure.caller_message.strip() for closure in closures))
    if len(sentences) > MOST_CLOSURE_SENTENCES:
        return ""
    return " ".join(
        sentence if sentence.endswith((".", "!", "?")) else f"{sentence}." for sentence in sentences
    )


def _next_opening_sentence(
    local: datetime, libraries: Sequence[LibraryHours], language: str, observe_bank_holidays: bool
) -> str:
    openings = [
        opening
        for library in libraries
        if (opening := next_opening(local, library.opening_hours, library.closures, observe_bank_holidays))
    ]
    if not openings or min(openings) <= local:
        return ""  # unknown, or open right now
    return SENTENCES[language]["next_opening"].format(when=spoken_moment(min(openings), local, language))


def spoken_day(local: datetime, today: date, language: str = ENGLISH) -> str:
    """The day of a UK-local moment as a person says it, relative to `today`.

    "today", "tomorrow, Saturday," "on Tuesday the 29th of December"; "dzisiaj", "jutro, w sobotę,",
    "we wtorek 29 grudnia". Callback slots and "when we open" both use it, so they never disagree.
    """
    if language == POLISH:
        on_weekday = ON_WEEKDAY_PL[local.weekday()]
        if local.date() == today:
            return "dzisiaj"
        if local.date() == today + timedelta(days=1):
            return f"jutro, {on_weekday},"
        return f"{on_weekday} {local.day} {OF_MONTH_PL[local.month - 1]}"
    weekday = WEEKDAYS_EN[local.weekday()]
    if local.date() == today:
        return "today"
    if local.date() == today + timedelta(days=1):
        return f"tomorrow, {weekday},"
    return f"on {weekday} the {ordinal(local.day)} of {MONTHS_EN[local.month - 1]}"


def spoken_moment(moment: datetime, now: datetime, language: str = ENGLISH) -> str:
    """A moment the way a person says it, relative to now, in UK local time.

    "today at 2 pm", "tomorrow, Saturday, at 9:30 am", "on Tuesday the 29th of December at 9 am";
    "dzisiaj o 14", "jutro, w sobotę, o 9:30", "we wtorek 29 grudnia o 9".
    """
    local = moment.astimezone(LONDON)
    day = spoken_day(local, now.astimezone(LONDON).date(), language)
    at = f"o {clock_pl(local.time())}" if language == POLISH else f"at {clock_en(local.time())}"
    return f"{day} {at}"


def ordinal(number: int) -> str:
    """1 → "1st", 12 → "12th", 22 → "22nd"."""
    suffix = "th" if 11 <= number % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def clock_en(moment: time) -> str:
    """9:00 → "9 am", 13:30 → "1:30 pm", 12:00 → "12 noon"."""
    if (moment.hour, moment.minute) == (12, 0):
        return "12 noon"
    words, half = clock_en_parts(moment)
    return f"{words} {half}"


def clock_en_parts(moment: time) -> tuple[str, str]:
    """9:00 → ("9", "am"), 13:30 → ("1:30", "pm"): the words and the half of the day, apart."""
    hour = moment.hour % 12 or 12
    words = f"{hour}:{moment.minute:02d}" if moment.minute else str(hour)
    return words, "am" if moment.hour < 12 else "pm"


def clock_pl(moment: time, ending: bool = False) -> str:
    """The 24-hour clock Polish speakers use: 9:00 → "9", 17:30 → "17:30"; an end at midnight is "24"."""
    hour = 24 if ending and moment.hour == 0 and moment.minute == 0 else moment.hour
    return f"{hour}:{moment.minute:02d}" if moment.minute else str(hour)


def opening_hours(libraries: Sequence[LibraryHours], language: str) -> str:
    """The service's weekly hours (the union of every hub's), days with the same hours said together."""
    week = service_week(libraries)
    groups: dict[tuple[tuple[time, time], ...], list[int]] = {}
    for weekday, sessions in enumerate(week):
        if sessions:
            groups.setdefault(sessions, []).append(weekday)
    if not groups:
        return ""
    parts = [
        f"{_days(days, language)}, {_sessions(sessions, language)}"
        for sessions, days in sorted(groups.items(), key=lambda item: item[1][0])
    ]
    return SENTENCES[language]["opening_hours"].format(week="; ".join(parts))


def service_week(libraries: Sequence[LibraryHours]) -> list[tuple[tuple[time, time], ...]]:
    """Per weekday (Monday = 0), the times at least one hub is open, overlapping sessions merged."""
    week = []
    for weekday in range(7):
        merged: list[tuple[time, time]] = []
        for start, end in sorted(s for library in libraries for s in library.opening_hours.sessions[weekday]):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        week.append(tuple(merged))
    return week


def _days(days: list[int], language: str) -> str:
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    names = WEEKDAYS_PL if language == POLISH else WEEKDAYS_EN
    items = []
    for run in runs:
        if len(run) >= 3:
            if language == POLISH:
                items.append(f"od {FROM_WEEKDAY_PL[run[0]]} do {FROM_WEEKDAY_PL[run[-1]]}")
            else:
                items.append(f"{names[run[0]]} to {names[run[-1]]}")
        else:
            items += [names[day] for day in run]
    return _and(items, language)


def _sessions(sessions: tuple[tuple[time, time], ...], language: str) -> str:
    if language == POLISH:
        return _and(
            [f"od {clock_pl(start)} do {clock_pl(end, ending=True)}" for start, end in sessions], language
        )
    return _and([f"{clock_en(start)} to {clock_en(end)}" for start, end in sessions], language)


def _and(items: list[str], language: str) -> str:
    conjunction = " i " if language == POLISH else " and "
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + conjunction + items[-1]
