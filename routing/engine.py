"""The matching engine: which waiting resident goes to which adviser, and why. Plain data in, decisions out.

Two ways in, one behaviour:
- `choose()` is the specification, written to be read: sort the callers, try each against every adviser.
- `RoutingState` keeps incremental indexes (callers grouped by topic/language/library/priority, free advisers
  bucketed by topic/language/library in strategy order) so one decision over 10,000 callers and 1,000 advisers
  stays well under a millisecond. Property tests hold it to the same answers as `choose()`.

Fairness is not pluggable: the highest-priority, longest-waiting caller who *can* be helped is served first.
The strategy only decides which of the qualified advisers takes them.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from routing.widening import RoutingRules, WideningStage

# Adviser states, spelt as models.AdviserState values (this module may not import the ORM).
OFFLINE = "offline"
AVAILABLE = "available"
ON_CALL = "on_call"
WRAP_UP = "wrap_up"
BREAK = "break"
CUSTOMER_AT_DESK = "customer_at_desk"
ADVISER_STATES = frozenset({OFFLINE, AVAILABLE, ON_CALL, WRAP_UP, BREAK, CUSTOMER_AT_DESK})


@dataclass(frozen=True)
class WaitingCaller:
    """A resident in the queue. `priority` is higher-first; `priority_reasons` say why, for supervisors."""

    call_sid: str
    topic: str
    language: str
    home_library: str
    enqueued_at: datetime
    priority: int = 0
    priority_reasons: tuple[str, ...] = ()
    # Advisers who already declined or missed this caller: never offered them again.
    skipped_advisers: frozenset[str] = frozenset()

    def queue_key(self) -> tuple[int, datetime, str]:
        """Order of service: higher priority first, then longest waiting, then call sid for a stable tie."""
        return (-self.priority, self.enqueued_at, self.call_sid)


@dataclass(frozen=True)
class AvailableAdviser:
    """An adviser as routing sees them. Only those in the `available` state can be given a caller."""

    adviser_id: str
    library: str
    skills: Mapping[str, int]  # topic → proficiency 1-5
    languages: frozenset[str]
    idle_since: datetime
    state: str = AVAILABLE


@dataclass(frozen=True)
class Assignment:
    """One caller given to one adviser, with the widening stage that allowed it in words."""

    call_sid: str
    adviser_id: str
    stage: int  # 1-based, as supervisors number the stages
    via_interpreter: bool
    reason: str


class Strategy(Protocol):
    """Ranks qualified advisers for a caller's topic; the lowest rank takes the caller."""

    name: str

    def adviser_rank(self, adviser: AvailableAdviser, topic: str) -> tuple[Any, ...]:
        """Return a sort key; it must end with something unique (the adviser id) so ties never depend on order."""
        ...


@dataclass(frozen=True)
class LongestIdleFirst:
    """Spread the work: the adviser who has waited longest for a call takes the next one."""

    name: str = "longest_idle"

    def adviser_rank(self, adviser: AvailableAdviser, topic: str) -> tuple[Any, ...]:
        return (adviser.idle_since, adviser.adviser_id)


@dataclass(frozen=True)
class MostProficientFirst:
    """Best answer first: the most proficient adviser in the topic, then the longest idle of those."""

    name: str = "most_proficient"

    def adviser_rank(self, adviser: AvailableAdviser, topic: str) -> tuple[Any, ...]:
        return (-adviser.skills.get(topic, 0), adviser.idle_since, adviser.adviser_id)


LONGEST_IDLE_FIRST = LongestIdleFirst()
MOST_PROFICIENT_FIRST = MostProficientFirst()
STRATEGIES: dict[str, Strategy] = {s.name: s for s in (LONGEST_IDLE_FIRST, MOST_PROFICIENT_FIRST)}


def stage_for(caller: WaitingCaller, now: datetime, rules: RoutingRules) -> int:
    """Return the 0-based widening stage this caller has reached at `now`."""
    return rules.stage_index_at((now - caller.enqueued_at).total_seconds())


def qualification(
    caller: WaitingCaller, adviser: AvailableAdviser, stage: WideningStage, rules: RoutingRules
) -> bool | None:
    """Return None if the adviser may not take the caller at this stage, else whether an interpreter is needed."""
    if adviser.state != AVAILABLE or adviser.adviser_id in caller.skipped_advisers:
        return None
    if adviser.skills.get(caller.topic, 0) < stage.min_proficiency:
        return None
    libraries = rules.libraries_in_scope(caller.home_library, stage)
    if libraries is not None and adviser.library not in libraries:
        return None
    if caller.language in adviser.languages:
        return False
    if stage.languages == "interpreter" and rules.interpreter_language in adviser.languages:
        return True
    return None


def choose(
    waiting: Iterable[WaitingCaller],
    advisers: Iterable[AvailableAdviser],
    now: datetime,
    rules: RoutingRules,
    strategy: Strategy = LONGEST_IDLE_FIRST,
) -> Assignment | None:
    """Return the next assignment, or None when no waiting caller can be helped by a free adviser now.

    The first caller in queue order with any qualified adviser is served; an adviser speaking the caller's
    language beats one who would need an interpreter, then the strategy's rank decides.
    """
    free = [adviser for adviser in advisers if adviser.state == AVAILABLE]
    if not free:
        return None
    for caller in sorted(waiting, key=WaitingCaller.queue_key):
        stage_index = stage_for(caller, now, rules)
        stage = rules.stages[stage_index]
        best: tuple[tuple[Any, ...], AvailableAdviser, bool] | None = None
        for adviser in free:
            via_interpreter = qualification(caller, adviser, stage, rules)
            if via_interpreter is None:
                continue
            rank = (via_interpreter, *strategy.adviser_rank(adviser, caller.topic))
            if best is None or rank < best[0]:
                best = (rank, adviser, via_interpreter)
        if best is not None:
            return _assignment(caller, best[1].adviser_id, stage_index, best[2], now, rules)
    return None


def assign_all(
    waiting: Iterable[WaitingCaller],
    advisers: Iterable[AvailableAdviser],
    now: datetime,
    rules: RoutingRules,
    strategy: Strategy = LONGEST_IDLE_FIRST,
) -> list[Assignment]:
    """Apply `choose` until nobody else can be matched; each caller and adviser appears at most once."""
    state = RoutingState(rules, strategy)
    for caller in waiting:
        state.add_caller(caller)
    for adviser in advisers:
        state.put_adviser(adviser)
    assignments = []
    while (assignment := state.assign(now)) is not None:
        assignments.append(assignment)
    return assignments


def describe_reason(
    caller: WaitingCaller, stage_index: int, via_interpreter: bool, now: datetime, rules: RoutingRules
) -> str:
    """Say in words why this caller went to this adviser, for the call record and the wallboard."""
    waited = max(0, int((now - caller.enqueued_at).total_seconds()))
    stage = rules.stages[stage_index]
    parts = [f"stage {stage_index + 1} ({stage.describe()}) after waiting {waited}s"]
    if caller.priority:
        why = ", ".join(caller.priority_reasons) or "no reason recorded"
        parts.append(f"priority {caller.priority}: {why}")
    if via_interpreter:
        parts.append(f"needs an interpreter for {caller.language}")
    return "; ".join(parts)


def _assignment(
    caller: WaitingCaller,
    adviser_id: str,
    stage_index: int,
    via_interpreter: bool,
    now: datetime,
    rules: RoutingRules,
) -> Assignment:
    reason = describe_reason(caller, stage_index, via_interpreter, now, rules)
    return Assignment(caller.call_sid, adviser_id, stage_index + 1, via_interpreter, reason)


# (topic, language, home library, priority): callers in one group differ only in when they joined.
_GroupKey = tuple[str, str, str, int]
# A free adviser in a bucket: strategy rank, id, proficiency in the bucket's topic.
_FreeEntry = tuple[tuple[Any, ...], str, int]
_NOBODY: tuple[Any, ...] = ()


@dataclass
class RoutingState:
    """Incremental indexes over the queue and the free advisers, answering `choose` fast.

    Why it is fast and still fair: within a group (same topic, language, library, priority) the earliest
    caller has waited longest, so has the widest stage (stages only widen) and is the most matchable. So
    `choose` walks group heads in queue order and stops as soon as no later head could beat the best match.
    Free advisers sit in buckets per (topic, language) and library, kept in strategy order, so finding the
    best adviser for a stage reads one short run per library in scope.
    """

    rules: RoutingRules
    strategy: Strategy = LONGEST_IDLE_FIRST
    _callers: dict[str, WaitingCaller] = field(default_factory=dict)
    _groups: dict[_GroupKey, list[tuple[datetime, str]]] = field(default_factory=dict)
    _heads: list[tuple[tuple[int, datetime, str], _GroupKey]] = field(default_factory=list)
    _advisers: dict[str, AvailableAdviser] = field(default_factory=dict)
    _free: dict[tuple[str, str], dict[str, list[_FreeEntry]]] = field(default_factory=dict)
    _free_per_topic: dict[str, int] = field(default_factory=dict)
    _placed: dict[str, list[tuple[tuple[str, str], str, _FreeEntry]]] = field(default_factory=dict)

    # --- callers

    def add_caller(self, caller: WaitingCaller) -> None:
        """Queue a caller (replacing any earlier entry with the same call sid)."""
        self.remove_caller(caller.call_sid)
        self._callers[caller.call_sid] = caller
        key = _group_key(caller)
        members = self._groups.setdefault(key, [])
        old_head = members[0] if members else None
        insort(members, (caller.enqueued_at, caller.call_sid))
        if members[0] != old_head:
            if old_head is not None:
                self._drop_head(key, old_head)
            self._add_head(key, members[0])

    def remove_caller(self, call_sid: str) -> WaitingCaller | None:
        """Take a caller out of the queue (answered, hung up, or offered); return them if they were waiting."""
        caller = self._callers.pop(call_sid, None)
        if caller is None:
            return None
        key = _group_key(caller)
        members = self._groups[key]
        entry = (caller.enqueued_at, caller.call_sid)
        was_head = members[0] == entry
        del members[bisect_left(members, entry)]
        if was_head:
            self._drop_head(key, entry)
            if members:
                self._add_head(key, members[0])
        if not members:
            del self._groups[key]
        return caller

    def skip_adviser(self, call_sid: str, adviser_id: str) -> WaitingCaller | None:
        """Never offer this caller to this adviser again; their place in the queue is unchanged."""
        caller = self._callers.get(call_sid)
        if caller is None:
            return None
        updated = replace(caller, skipped_advisers=caller.skipped_advisers | {adviser_id})
        self._callers[call_sid] = updated
        return updated

    def caller(self, call_sid: str) -> WaitingCaller | None:
        return self._callers.get(call_sid)

    def callers(self) -> Iterator[WaitingCaller]:
        return iter(self._callers.values())

    def __len__(self) -> int:
        return len(self._callers)

    # --- advisers

    def put_adviser(self, adviser: AvailableAdviser) -> None:
        """Record an adviser's current profile and state; only `available` advisers can be chosen."""
        self.remove_adviser(adviser.adviser_id)
        self._advisers[adviser.adviser_id] = adviser
        if adviser.state != AVAILABLE:
            return
        placed = []
        for topic, proficiency in adviser.skills.items():
            entry: _FreeEntry = (self.strategy.adviser_rank(adviser, topic), adviser.adviser_id, proficiency)
            self._free_per_topic[topic] = self._free_per_topic.get(topic, 0) + 1
            for language in adviser.languages:
                bucket = self._free.setdefault((topic, language), {}).setdefault(adviser.library, [])
                insort(bucket, entry)
                placed.append(((topic, language), adviser.library, entry))
        self._placed[adviser.adviser_id] = placed

    def remove_adviser(self, adviser_id: str) -> AvailableAdviser | None:
        adviser = self._advisers.pop(adviser_id, None)
        for topic_language, library, entry in self._placed.pop(adviser_id, ()):
            by_library = self._free[topic_language]
            bucket = by_library[library]
            del bucket[bisect_left(bucket, entry)]
            if not bucket:
                del by_library[library]
        if adviser is not None and adviser.state == AVAILABLE:
            for topic in adviser.skills:
                self._free_per_topic[topic] -= 1
        return adviser

    def adviser(self, adviser_id: str) -> AvailableAdviser | None:
        return self._advisers.get(adviser_id)

    def advisers(self) -> Iterator[AvailableAdviser]:
        return iter(self._advisers.values())

    # --- decisions

    def choose(self, now: datetime) -> Assignment | None:
        """Return what `choose()` would return for the current callers and advisers, without changing them."""
        best: tuple[tuple[int, datetime, str], WaitingCaller, tuple[Any, ...]] | None = None
        free_per_topic = self._free_per_topic
        memo: dict[tuple[str, str, str, int], tuple[Any, ...]] = {}
        for head_key, (topic, language, library, _priority) in self._heads:
            if best is not None and head_key > best[0]:
                break  # every later caller sorts after the best match already found
            if not free_per_topic.get(topic):
                continue
            for enqueued_at, call_sid in self._groups[(topic, language, library, _priority)]:
                key = (-_priority, enqueued_at, call_sid)
                if best is not None and key > best[0]:
                    break
                caller = self._callers[call_sid]
                stage_index = self.rules.stage_index_at((now - enqueued_at).total_seconds())
                memo_key = (topic, language, library, stage_index)
                anyone = memo.get(memo_key)
                if anyone is None:
                    anyone = memo[memo_key] = self._best_adviser(caller, stage_index, frozenset())
                if anyone is _NOBODY:
                    break  # later members have waited less, so their stage is no wider
                found = (
                    self._best_adviser(caller, stage_index, caller.skipped_advisers)
                    if caller.skipped_advisers
                    else anyone
                )
                if found is not _NOBODY:
                    best = (key, caller, found)
                    break
        if best is None:
            return None
        _key, caller, (_rank, adviser_id, stage_index, via_interpreter) = best
        return _assignment(caller, adviser_id, stage_index, via_interpreter, now, self.rules)

    def assign(self, now: datetime) -> Assignment | None:
        """Choose, then take the caller out of the queue and mark the adviser on a call."""
        assignment = self.choose(now)
        if assignment is not None:
            self.remove_caller(assignment.call_sid)
            adviser = self._advisers[assignment.adviser_id]
            self.put_adviser(replace(adviser, state=ON_CALL, idle_since=now))
        return assignment

    def _best_adviser(
        self, caller: WaitingCaller, stage_index: int, skipped: frozenset[str]
    ) -> tuple[Any, ...]:
        """Return (rank, adviser id, stage index, via interpreter) of the best qualified adviser, or _NOBODY."""
        stage = self.rules.stages[stage_index]
        libraries = self.rules.libraries_in_scope(caller.home_library, stage)
        direct = self._best_in(caller.topic, caller.language, libraries, stage.min_proficiency, skipped)
        if direct is not None:
            return (direct[0], direct[1], stage_index, False)
        interpreter = self.rules.interpreter_language
        if stage.languages == "interpreter" and caller.language != interpreter:
            helped = self._best_in(caller.topic, interpreter, libraries, stage.min_proficiency, skipped)
            if helped is not None:
                return (helped[0], helped[1], stage_index, True)
        return _NOBODY

    def _best_in(
        self,
        topic: str,
        language: str,
        libraries: frozenset[str] | None,
        min_proficiency: int,
        skipped: frozenset[str],
    ) -> _FreeEntry | None:
        by_library = self._free.get((topic, language))
        if not by_library:
            return None
        best: _FreeEntry | None = None
        for library in by_library if libraries is None else libraries:
            for entry in by_library.get(library, ()):
                if entry[2] >= min_proficiency and entry[1] not in skipped:
                    if best is None or entry[0] < best[0]:
                        best = entry
                    break  # the bucket is in rank order: the first qualified one is this library's best
        return best

    def _add_head(self, key: _GroupKey, member: tuple[datetime, str]) -> None:
        insort(self._heads, ((-key[3], member[0], member[1]), key))

    def _drop_head(self, key: _GroupKey, member: tuple[datetime, str]) -> None:
        entry = ((-key[3], member[0], member[1]), key)
        del self._heads[bisect_left(self._heads, entry)]


def _group_key(caller: WaitingCaller) -> _GroupKey:
    return (caller.topic, caller.language, caller.home_library, caller.priority)
