"""Widening rules as data: how far, and to whom, a waiting caller's search spreads as their wait grows.

Like TaskRouter workflow targets or Asterisk queue rules, the stages are configuration, not code:

    [{"after_seconds": 0,   "libraries": "home",       "min_proficiency": 3},
     {"after_seconds": 60,  "libraries": "neighbours", "min_proficiency": 3},
     {"after_seconds": 180, "libraries": "any",        "min_proficiency": 1, "languages": "interpreter"}]

Stages may only widen (never narrow) as time passes. The engine and the Redis script both rely on that: a
caller who waited longer is never offered fewer advisers, so the head of a queue is its most matchable caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Library scopes, narrowest first; "neighbours" means home plus its neighbours.
LIBRARY_SCOPES = ("home", "neighbours", "any")
# "caller": the adviser must speak the caller's language.
# "interpreter": an adviser speaking the interpreter language also qualifies (the assignment is flagged).
LANGUAGE_RULES = ("caller", "interpreter")
_STAGE_FIELDS = {"after_seconds", "libraries", "min_proficiency", "languages"}


class WideningConfigError(ValueError):
    """The widening stages or the neighbour map cannot be used; the message says which and why."""


@dataclass(frozen=True)
class WideningStage:
    """Who may take a caller once they have waited `after_seconds`."""

    after_seconds: int
    libraries: str = "home"
    min_proficiency: int = 3
    languages: str = "caller"

    def describe(self) -> str:
        where = {
            "home": "home library",
            "neighbours": "home or neighbouring libraries",
            "any": "any library",
        }[self.libraries]
        language = "caller's language" if self.languages == "caller" else "caller's language or interpreter"
        return f"{where}, proficiency ≥ {self.min_proficiency}, {language}"


@dataclass(frozen=True)
class RoutingRules:
    """Validated widening stages plus the library neighbour map they refer to."""

    stages: tuple[WideningStage, ...]
    # Library name → libraries whose advisers may take its callers when routing widens (one-way).
    neighbours: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # The language an adviser needs to help through a telephone interpreter.
    interpreter_language: str = "en-GB"

    def stage_index_at(self, waited_seconds: float) -> int:
        """Return the index of the widest stage reached after waiting this long (0 if the clock went back)."""
        index = 0
        for position, stage in enumerate(self.stages):
            if waited_seconds >= stage.after_seconds:
                index = position
            else:
                break
        return index

    def libraries_in_scope(self, home_library: str, stage: WideningStage) -> frozenset[str] | None:
        """Return the libraries whose advisers qualify, or None for any library."""
        if stage.libraries == "any":
            return None
        if stage.libraries == "neighbours":
            return frozenset({home_library}) | self.neighbours.get(home_library, frozenset())
        return frozenset({home_library})

    def to_data(self) -> dict[str, Any]:
        """Return plain JSON-able data (for the Redis script and for showing supervisors the rules)."""
        return {
            "stages": [
                {
                    "after_seconds": s.after_seconds,
                    "libraries": s.libraries,
                    "min_proficiency": s.min_proficiency,
                    "languages": s.languages,
                }
                for s in self.stages
            ],
            "neighbours": {name: sorted(others) for name, others in sorted(self.neighbours.items())},
            "interpreter_language": self.interpreter_language,
        }


DEFAULT_STAGES: tuple[dict[str, Any], ...] = (
    {"after_seconds": 0, "libraries": "home", "min_proficiency": 3},
    {"after_seconds": 60, "libraries": "neighbours", "min_proficiency": 3},
    {"after_seconds": 180, "libraries": "any", "min_proficiency": 1, "languages": "interpreter"},
)


def parse_rules(
    stages: Sequence[Mapping[str, Any]],
    neighbours: Mapping[str, Iterable[str]],
    interpreter_language: str = "en-GB",
) -> RoutingRules:
    """Validate stage data and a neighbour map into RoutingRules; raise WideningConfigError naming the fault."""
    if isinstance(stages, (str, bytes)) or not isinstance(stages, Sequence):
        raise WideningConfigError("widening stages must be a list of stage objects")
    if not stages:
        raise WideningConfigError("widening needs at least one stage")
    parsed = tuple(_parse_stage(number, raw) for number, raw in enumerate(stages, start=1))
    if parsed[0].after_seconds != 0:
        raise WideningConfigError(
            "stage 1: after_seconds must be 0 so every caller has a stage from the start"
        )
    for number, (before, after) in enumerate(zip(parsed, parsed[1:], strict=False), start=2):
        if after.after_seconds <= before.after_seconds:
            raise WideningConfigError(
                f"stage {number}: after_seconds ({after.after_seconds}) must be greater than "
                f"stage {number - 1}'s ({before.after_seconds})"
            )
        if LIBRARY_SCOPES.index(after.libraries) < LIBRARY_SCOPES.index(before.libraries):
            raise WideningConfigError(
                f"stage {number}: libraries {after.libraries!r} narrows stage {number - 1}'s "
                f"{before.libraries!r}; stages may only widen"
            )
        if after.min_proficiency > before.min_proficiency:
            raise WideningConfigError(
                f"stage {number}: min_proficiency {after.min_proficiency} is stricter than stage "
                f"{number - 1}'s {before.min_proficiency}; stages may only widen"
            )
        if LANGUAGE_RULES.index(after.languages) < LANGUAGE_RULES.index(before.languages):
            raise WideningConfigError(
                f"stage {number}: languages {after.languages!r} narrows stage {number - 1}'s "
                f"{before.languages!r}; stages may only widen"
            )
    if not isinstance(interpreter_language, str) or not interpreter_language.strip():
        raise WideningConfigError("interpreter_language must be a language code such as 'en-GB'")
    return RoutingRules(parsed, _parse_neighbours(neighbours), interpreter_language)


def default_rules(neighbours: Mapping[str, Iterable[str]]) -> RoutingRules:
    """Return the council's standard widening: home, then neighbours after 1 minute, then anyone after 3."""
    return parse_rules(DEFAULT_STAGES, neighbours)


def _parse_stage(number: int, raw: Any) -> WideningStage:
    if not isinstance(raw, Mapping):
        raise WideningConfigError(f"stage {number}: must be an object, got {type(raw).__name__}")
    unknown = set(raw) - _STAGE_FIELDS
    if unknown:
        raise WideningConfigError(f"stage {number}: unknown field(s) {sorted(unknown)}")
    if "after_seconds" not in raw:
        raise WideningConfigError(f"stage {number}: after_seconds is required")
    after_seconds = raw["after_seconds"]
    if isinstance(after_seconds, bool) or not isinstance(after_seconds, int) or after_seconds < 0:
        raise WideningConfigError(
            f"stage {number}: after_seconds must be a whole number of seconds ≥ 0, got {after_seconds!r}"
        )
    libraries = raw.get("libraries", "home")
    if libraries not in LIBRARY_SCOPES:
        raise WideningConfigError(
            f"stage {number}: libraries must be one of {LIBRARY_SCOPES}, got {libraries!r}"
        )
    proficiency = raw.get("min_proficiency", 3)
    if isinstance(proficiency, bool) or not isinstance(proficiency, int) or not 1 <= proficiency <= 5:
        raise WideningConfigError(f"stage {number}: min_proficiency must be 1 to 5, got {proficiency!r}")
    languages = raw.get("languages", "caller")
    if languages not in LANGUAGE_RULES:
        raise WideningConfigError(
            f"stage {number}: languages must be one of {LANGUAGE_RULES}, got {languages!r}"
        )
    return WideningStage(after_seconds, libraries, proficiency, languages)


def _parse_neighbours(neighbours: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    if not isinstance(neighbours, Mapping):
        raise WideningConfigError("neighbours must map a library name to a list of library names")
    parsed: dict[str, frozenset[str]] = {}
    for library, others in neighbours.items():
        if isinstance(others, (str, bytes)):
            raise WideningConfigError(f"neighbours of {library!r} must be a list of names, not one string")
        names = frozenset(others)
        if library in names:
            raise WideningConfigError(f"library {library!r} lists itself as a neighbour")
        parsed[library] = names
    for library, names in parsed.items():
        strangers = sorted(names - parsed.keys())
        if strangers:
            raise WideningConfigError(f"neighbours of {library!r} name unknown libraries {strangers}")
    return parsed
