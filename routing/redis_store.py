"""The RoutingStore in Redis: one live queue shared by every web process and worker.

Every write is one Lua script, so each multi-key step is atomic. The important one, `try_assign`, makes the
whole matching decision inside Redis (the same rules as routing.engine.choose) and reserves the adviser in
the same step. Why a script rather than WATCH/MULTI around a decision made in Python: the decision needs the
queue heads and the free advisers, so a Python decision would read many keys per attempt and, with several
processes assigning at once, nearly every attempt would touch the same keys and be retried. The script is one
round trip and never retries. Its cost grows with the number of matching groups (topic, language, library,
priority: a few hundred at most) queued ahead of the first caller who can be helped, not with the number of
callers; bench/routing_bench.py measures it against a bare round trip and a plain FIFO pop.

Key shapes are declared once, in RoutingKeys; the scripts receive them as a generated `KEY` table.

    <prefix>:caller:<call_sid>       hash   topic, language, library, priority, enqueued_ms, reasons, offered_to
    <prefix>:skipped:<call_sid>      set    advisers never to offer this caller again
    <prefix>:queue:<topic>           zset   call_sid by (priority, enqueue time): positions and queue sizes
    <prefix>:group:<t>|<lang>|<library>|<priority>  zset  call_sid by enqueue time: one matching group
    <prefix>:heads                   zset   "<17-digit head queue score>|<group id>", lexical: serving order
    <prefix>:head_of                 hash   group id → its current member of heads
    <prefix>:topics                  set    topics that have ever had callers
    <prefix>:adviser:<adviser_id>    hash   id, library, skills, languages, state, since_ms, reason
    <prefix>:advisers                set    every registered adviser id
    <prefix>:free:<t>|<lang>|<library>  zset  "adviser_id<TAB>proficiency" by strategy rank, available only
    <prefix>:free:<t>|<lang>         zset   the same across every library, for the "any library" stage
    <prefix>:free_counts             hash   free bucket id → how many advisers it holds (non-empty only)
    <prefix>:offers                  hash   call_sid → adviser_id for offers not yet settled
    <prefix>:adviser_events          stream every adviser state change (capped at about 10,000)

Times are whole milliseconds since the epoch. All keys share the prefix; on Redis Cluster put a hash tag in it
(e.g. "routing:{kirklees}") because the scripts compute key names from data.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import redis

from routing.engine import (
    AVAILABLE,
    LONGEST_IDLE_FIRST,
    Assignment,
    Strategy,
    WaitingCaller,
    describe_reason,
)
from routing.store import (
    AdviserProfile,
    AdviserStateChange,
    AdviserStatus,
    RoutingSnapshot,
    UnknownAdviser,
    check_name,
    checked_caller,
    checked_profile,
    checked_state,
    from_millis,
    to_millis,
)
from routing.widening import RoutingRules

LUA_DIR = Path(__file__).with_name("lua")
# Strategies the Lua script implements: the free-adviser score encodes the rank, so it must be known here.
SUPPORTED_STRATEGIES = ("longest_idle", "most_proficient")


class RoutingKeys:
    """Every Redis key routing uses, built in one place."""

    def __init__(self, prefix: str = "routing") -> None:
        if not prefix or any(ch in prefix for ch in "'\\\n\r\t "):
            raise ValueError(
                f"key prefix {prefix!r} must be non-empty, without quotes, spaces or backslashes"
            )
        self.prefix = prefix

    def _key(self, kind: str, suffix: str | None = None) -> str:
        return f"{self.prefix}:{kind}" if suffix is None else f"{self.prefix}:{kind}:{suffix}"

    def caller(self, call_sid: str) -> str:
        return self._key("caller", call_sid)

    def skipped(self, call_sid: str) -> str:
        return self._key("skipped", call_sid)

    def queue(self, topic: str) -> str:
        return self._key("queue", topic)

    def group(self, group_id: str) -> str:
        return self._key("group", group_id)

    def heads(self) -> str:
        return self._key("heads")

    def head_of(self) -> str:
        return self._key("head_of")

    def free_counts(self) -> str:
        return self._key("free_counts")

    def topics(self) -> str:
        return self._key("topics")

    def adviser(self, adviser_id: str) -> str:
        return self._key("adviser", adviser_id)

    def advisers(self) -> str:
        return self._key("advisers")

    def free(self, bucket_id: str) -> str:
        return self._key("free", bucket_id)

    def offers(self) -> str:
        return self._key("offers")

    def adviser_events(self) -> str:
        return self._key("adviser_events")

    def live_floor(self) -> str:
        """The pub/sub channel every live page hears: the queue or some adviser's state changed."""
        return self._key("live", "floor")

    def live_adviser(self, adviser_id: str) -> str:
        """The pub/sub channel of one adviser's desk: their state, their offers, their callbacks."""
        return self._key("live:adviser", adviser_id)

    def everything(self) -> str:
        """A SCAN pattern matching every routing key."""
        return self._key("*")

    def lua_table(self) -> str:
        """Return Lua source declaring `KEY`: fixed keys whole, per-item keys as prefixes to append to."""
        fixed = {"heads", "head_of", "topics", "advisers", "offers", "adviser_events", "free_counts"}
        per_item = {"caller", "skipped", "queue", "group", "adviser", "free"}
        entries = [f"{kind} = '{self._key(kind)}'" for kind in sorted(fixed)]
        entries += [f"{kind} = '{self._key(kind, '')}'" for kind in sorted(per_item)]
        entries += [f"live_floor = '{self.live_floor()}'", f"live_adviser = '{self.live_adviser('')}'"]
        return "local KEY = {" + ", ".join(entries) + "}\n"


def lua_rules(rules: RoutingRules) -> list[str]:
    """Encode the widening rules as the try_assign script's flat arguments (stages, interpreter, neighbours).

    Flat strings rather than JSON: decoding JSON on every assignment cost more than the decision itself.
    """
    for name, others in rules.neighbours.items():
        for library in (name, *others):
            check_name("library in the neighbour map", library)
    stages = ";".join(
        f"{stage.after_seconds * 1000}:{stage.libraries}:{stage.min_proficiency}:{stage.languages}"
        for stage in rules.stages
    )
    neighbours = "".join(
        f"{name}={','.join(sorted(others))};" for name, others in sorted(rules.neighbours.items())
    )
    return [stages, rules.interpreter_language, ";" + neighbours]


class RedisRoutingStore:
    """The RoutingStore shared through Redis; builds nothing at import and connects on first use."""

    def __init__(
        self,
        client: redis.Redis,
        rules: RoutingRules,
        strategy: Strategy = LONGEST_IDLE_FIRST,
        keys: RoutingKeys | None = None,
    ) -> None:
        if strategy.name not in SUPPORTED_STRATEGIES:
            raise ValueError(
                f"strategy {strategy.name!r} is not implemented in the Redis script; use one of {SUPPORTED_STRATEGIES}"
            )
        self.client = client
        self.rules = rules
        self.strategy = strategy
        self.keys = keys or RoutingKeys()
        self._rules_args = lua_rules(rules)
        prelude = self.keys.lua_table() + (LUA_DIR / "common.lua").read_text()
        self._scripts = {
            name: client.register_script(prelude + (LUA_DIR / f"{name}.lua").read_text())
            for name in (
                "add_waiting",
                "remove_waiting",
                "register_adviser",
                "set_adviser_state",
                "try_assign",
                "reject_offer",
                "release_assignment",
                "position_of",
                "queue_sizes",
            )
        }

    # --- advisers

    def register_adviser(self, profile: AdviserProfile, now: datetime) -> None:
        self._register(checked_profile(profile), to_millis(now), None, self.client)

    def set_adviser_state(
        self, adviser_id: str, state: str, since: datetime, reason: str = ""
    ) -> AdviserStateChange:
        state = checked_state(state)
        since_ms = to_millis(since)
        try:
            previous = self._run("set_adviser_state", adviser_id, state, since_ms, reason, self.strategy.name)
        except redis.ResponseError as error:
            if "unknown adviser" in str(error):
                raise UnknownAdviser(adviser_id) from None
            raise
        return AdviserStateChange(adviser_id, _text(previous), state, from_millis(since_ms), reason)

    def recent_adviser_events(self, count: int = 100) -> list[AdviserStateChange]:
        if count <= 0:
            return []
        entries = self.client.xrevrange(self.keys.adviser_events(), count=count)
        events = []
        for _id, raw in entries:
            fields = {_text(k): _text(v) for k, v in raw.items()}
            events.append(
                AdviserStateChange(
                    fields["adviser_id"],
                    fields["previous"],
                    fields["state"],
                    from_millis(int(fields["at_ms"])),
                    fields["reason"],
                )
            )
        return events

    # --- callers

    def add_waiting(self, caller: WaitingCaller) -> bool:
        return bool(self._add(checked_caller(caller), "", self.client))

    def remove_waiting(self, call_sid: str) -> bool:
        return bool(self._run("remove_waiting", call_sid))

    def try_assign(self, now: datetime) -> Assignment | None:
        now_ms = to_millis(now)
        stages, interpreter, neighbours = self._rules_args
        reply = self._run("try_assign", now_ms, stages, interpreter, self.strategy.name, neighbours)
        if not reply:
            return None
        call_sid, adviser_id, stage, interpreted = _text(reply[0]), _text(reply[1]), int(reply[2]), reply[3]
        caller = _caller_from_reply([reply[0], *reply[4:]])
        reason = describe_reason(caller, stage - 1, bool(interpreted), from_millis(now_ms), self.rules)
        return Assignment(call_sid, adviser_id, stage, bool(interpreted), reason)

    def reject_offer(
        self, call_sid: str, now: datetime, adviser_state: str = AVAILABLE, reason: str = "offer rejected"
    ) -> WaitingCaller | None:
        adviser_state = checked_state(adviser_state)
        reply = self._run("reject_offer", call_sid, to_millis(now), adviser_state, reason, self.strategy.name)
        return _caller_from_reply(reply) if reply else None

    def release_assignment(self, call_sid: str) -> bool:
        return bool(self._run("release_assignment", call_sid))

    def add_offered(self, caller: WaitingCaller, adviser_id: str) -> None:
        self._add(checked_caller(caller), adviser_id, self.client)

    def position_of(self, call_sid: str) -> int | None:
        position = self._run("position_of", call_sid)
        return int(position) if position else None

    def queue_sizes(self) -> dict[str, int]:
        flat = self._run("queue_sizes")
        return {_text(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}

    # --- snapshot and rebuild

    def snapshot(self) -> RoutingSnapshot:
        keys = self.keys
        adviser_ids = sorted(_text(a) for a in self.client.smembers(keys.advisers()))
        call_sids: list[str] = []
        for topic in sorted(_text(t) for t in self.client.smembers(keys.topics())):
            call_sids += [_text(sid) for sid in self.client.zrange(keys.queue(topic), 0, -1)]
        offers = {_text(k): _text(v) for k, v in self.client.hgetall(keys.offers()).items()}
        offered_sids = sorted(offers)
        with self.client.pipeline(transaction=False) as pipe:
            for adviser_id in adviser_ids:
                pipe.hgetall(keys.adviser(adviser_id))
            for call_sid in call_sids + offered_sids:
                pipe.hgetall(keys.caller(call_sid))
                pipe.smembers(keys.skipped(call_sid))
            replies = pipe.execute()
        advisers = tuple(_status_from_hash(h) for h in replies[: len(adviser_ids)])
        callers = []
        rest = replies[len(adviser_ids) :]
        for index, call_sid in enumerate(call_sids + offered_sids):
            fields = {_text(k): _text(v) for k, v in rest[2 * index].items()}
            skipped = ",".join(sorted(_text(s) for s in rest[2 * index + 1]))
            callers.append(
                _caller_from_reply(
                    [
                        call_sid,
                        fields["topic"],
                        fields["language"],
                        fields["library"],
                        fields["priority"],
                        fields["enqueued_ms"],
                        fields.get("reasons", "[]"),
                        skipped,
                    ]
                )
            )
        waiting = tuple(sorted(callers[: len(call_sids)], key=WaitingCaller.queue_key))
        offered = tuple(zip(callers[len(call_sids) :], (offers[sid] for sid in offered_sids), strict=True))
        return RoutingSnapshot(waiting=waiting, offered=offered, advisers=advisers)

    def rebuild_from(self, snapshot: RoutingSnapshot) -> None:
        """Replace every routing key with the snapshot in one MULTI, so readers never see half of it."""
        advisers = [(checked_profile(s.profile), s) for s in snapshot.advisers]
        waiting = [checked_caller(c) for c in snapshot.waiting]
        offered = [(checked_caller(c), adviser_id) for c, adviser_id in snapshot.offered]
        # The event stream is history, not live state: it survives a rebuild.
        events = self.keys.adviser_events().encode()
        stale = [
            key
            for key in self.client.scan_iter(match=self.keys.everything(), count=1000)
            if (key if isinstance(key, bytes) else key.encode()) != events
        ]
        with self.client.pipeline(transaction=True) as pipe:
            for start in range(0, len(stale), 1000):
                pipe.unlink(*stale[start : start + 1000])
            for profile, status in advisers:
                self._register(profile, to_millis(status.since), status, pipe)
            for caller in waiting:
                self._add(caller, "", pipe)
            for caller, adviser_id in offered:
                self._add(caller, adviser_id, pipe)
            pipe.execute()

    # --- helpers

    def _run(self, script: str, *args: Any, client: Any = None) -> Any:
        return self._scripts[script](keys=[], args=list(args), client=client or self.client)

    def _register(
        self, profile: AdviserProfile, now_ms: int, status: AdviserStatus | None, client: Any
    ) -> Any:
        restore = (
            [checked_state(status.state), to_millis(status.since), status.reason] if status else ["", "", ""]
        )
        return self._run(
            "register_adviser",
            profile.adviser_id,
            profile.library,
            ",".join(f"{topic}={level}" for topic, level in sorted(profile.skills.items())),
            ",".join(sorted(profile.languages)),
            now_ms,
            self.strategy.name,
            *restore,
            client=client,
        )

    def _add(self, caller: WaitingCaller, offered_to: str, client: Any) -> Any:
        return self._run(
            "add_waiting",
            caller.call_sid,
            caller.topic,
            caller.language,
            caller.home_library,
            caller.priority,
            to_millis(caller.enqueued_at),
            json.dumps(list(caller.priority_reasons)),
            ",".join(sorted(caller.skipped_advisers)),
            offered_to,
            client=client,
        )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _caller_from_reply(reply: list[Any]) -> WaitingCaller:
    call_sid, topic, language, library, priority, enqueued_ms, reasons, skipped = (_text(v) for v in reply)
    return WaitingCaller(
        call_sid=call_sid,
        topic=topic,
        language=language,
        home_library=library,
        enqueued_at=from_millis(int(enqueued_ms)),
        priority=int(priority),
        priority_reasons=tuple(json.loads(reasons)),
        skipped_advisers=frozenset(s for s in skipped.split(",") if s),
    )


def _status_from_hash(raw: dict[Any, Any]) -> AdviserStatus:
    fields = {_text(k): _text(v) for k, v in raw.items()}
    skills = {}
    for pair in filter(None, fields.get("skills", "").split(",")):
        topic, level = pair.split("=")
        skills[topic] = int(level)
    profile = AdviserProfile(
        fields["id"],
        fields["library"],
        skills,
        frozenset(filter(None, fields.get("languages", "").split(","))),
    )
    return AdviserStatus(
        profile, fields["state"], from_millis(int(fields["since_ms"])), fields.get("reason", "")
    )
