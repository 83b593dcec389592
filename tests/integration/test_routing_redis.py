"""The routing store against a real Redis: the same contract as the in-memory fake, atomic under concurrency,
and rebuildable after Redis loses its data."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from bench.routing_bench import CHECK_PREFIX, assignment_worker, bench_rules, population
from routing.engine import AVAILABLE, BREAK, MOST_PROFICIENT_FIRST, OFFLINE, ON_CALL, WaitingCaller
from routing.redis_store import RedisRoutingStore, RoutingKeys
from routing.store import AdviserProfile, InMemoryRoutingStore, RoutingStore, UnknownAdviser

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
RULES = bench_rules()
CT, HB = "council_tax", "housing_benefit"


@pytest.fixture
def redis_connection(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(params=["in_memory", "redis"])
def store(request: pytest.FixtureRequest) -> RoutingStore:
    """Each contract test runs against the fake and the real thing, so the fake cannot drift."""
    if request.param == "in_memory":
        return InMemoryRoutingStore(RULES)
    return RedisRoutingStore(request.getfixturevalue("redis_connection"), RULES)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def caller(call_sid: str, joined: float = 0, topic: str = CT, library: str = "Huddersfield", **fields: Any):
    return WaitingCaller(call_sid, topic, fields.pop("language", "en-GB"), library, at(joined), **fields)


def staff(
    store: RoutingStore, adviser_id: str, library: str = "Huddersfield", free_since: float = 0, **skills: int
):
    store.register_adviser(
        AdviserProfile(adviser_id, library, skills or {CT: 4}, frozenset({"en-GB"})), at(free_since)
    )
    store.set_adviser_state(adviser_id, AVAILABLE, at(free_since), "signed in")


# --- the contract, on both stores


def test_the_longest_waiting_caller_goes_to_the_longest_idle_adviser_who_is_then_on_a_call(store):
    staff(store, "1", free_since=-10)
    staff(store, "2", free_since=-300)
    store.add_waiting(caller("CA-second", joined=20))
    store.add_waiting(caller("CA-first", joined=10))
    assignment = store.try_assign(at(30))
    assert (assignment.call_sid, assignment.adviser_id, assignment.stage) == ("CA-first", "2", 1)
    assert "after waiting 20s" in assignment.reason
    adviser = {s.profile.adviser_id: s for s in store.snapshot().advisers}["2"]
    assert (adviser.state, adviser.reason) == (ON_CALL, "offered CA-first")


def test_a_vulnerable_caller_is_served_first_with_the_reason_recorded(store):
    staff(store, "1")
    store.add_waiting(caller("CA-early", joined=0))
    store.add_waiting(caller("CA-vulnerable", joined=50, priority=2, priority_reasons=("vulnerable flag",)))
    assignment = store.try_assign(at(60))
    assert assignment.call_sid == "CA-vulnerable"
    assert "priority 2: vulnerable flag" in assignment.reason


def test_the_search_widens_to_neighbours_then_to_any_library(store):
    staff(store, "dewsbury", library="Dewsbury")
    store.add_waiting(caller("CA-batley", library="Batley"))
    store.add_waiting(caller("CA-holmfirth", library="Holmfirth", joined=-1))
    assert store.try_assign(at(59)) is None
    assignment = store.try_assign(at(60))
    assert (assignment.call_sid, assignment.stage) == ("CA-batley", 2)
    staff(store, "cleckheaton", library="Cleckheaton", free_since=60)
    assert store.try_assign(at(178)) is None
    assert store.try_assign(at(179)).call_sid == "CA-holmfirth"


def test_a_polish_caller_gets_an_english_speaker_with_an_interpreter_only_at_the_last_stage(store):
    staff(store, "1")
    store.add_waiting(caller("CA-polish", language="pl-PL"))
    assert store.try_assign(at(179)) is None
    assignment = store.try_assign(at(180))
    assert assignment.via_interpreter is True


def test_no_adviser_means_no_assignment_and_nobody_leaves_the_queue(store):
    store.add_waiting(caller("CA1"))
    staff(store, "benefits-only", **{HB: 5})
    assert store.try_assign(at(600)) is None
    assert store.queue_sizes() == {CT: 1}


def test_a_rejected_offer_keeps_the_callers_place_and_skips_that_adviser(store):
    staff(store, "1", free_since=-100)
    store.add_waiting(caller("CA-first", joined=0))
    store.add_waiting(caller("CA-second", joined=10))
    assert store.try_assign(at(20)).call_sid == "CA-first"
    assert store.position_of("CA-first") is None
    back = store.reject_offer("CA-first", at(25), AVAILABLE, "no answer")
    assert back.skipped_advisers == frozenset({"1"})
    assert store.position_of("CA-first") == 1
    assert store.try_assign(at(26)).call_sid == "CA-second"  # adviser 1 is never offered CA-first again
    staff(store, "2", free_since=26)
    assert (store.try_assign(at(27)).call_sid, store.snapshot().offered[0][1]) == ("CA-first", "2")


def test_rejecting_an_offer_can_send_the_adviser_on_a_break(store):
    staff(store, "1")
    store.add_waiting(caller("CA1"))
    store.try_assign(at(5))
    store.reject_offer("CA1", at(20), BREAK, "missed the call")
    event = store.recent_adviser_events(1)[0]
    assert (event.adviser_id, event.previous, event.state, event.reason) == (
        "1",
        ON_CALL,
        BREAK,
        "missed the call",
    )
    assert store.try_assign(at(21)) is None


def test_every_state_change_is_recorded_with_its_time(store):
    staff(store, "1", free_since=0)
    change = store.set_adviser_state("1", "customer_at_desk", at(42), "resident at the counter")
    assert (change.previous, change.state, change.at) == (AVAILABLE, "customer_at_desk", at(42))
    assert [e.state for e in store.recent_adviser_events(2)] == ["customer_at_desk", AVAILABLE]


def test_unknown_advisers_and_states_are_refused(store):
    with pytest.raises(UnknownAdviser):
        store.set_adviser_state("nobody", AVAILABLE, at(0))
    staff(store, "1")
    with pytest.raises(ValueError, match="unknown adviser state"):
        store.set_adviser_state("1", "asleep", at(0))


def test_positions_count_only_callers_ahead_on_the_same_topic(store):
    store.add_waiting(caller("CA-a", joined=0))
    store.add_waiting(caller("CA-benefit", joined=1, topic=HB))
    store.add_waiting(caller("CA-b", joined=2))
    store.add_waiting(caller("CA-urgent", joined=3, priority=1, priority_reasons=("second timeout in menu",)))
    assert [store.position_of(sid) for sid in ("CA-urgent", "CA-a", "CA-b", "CA-benefit")] == [1, 2, 3, 1]
    assert store.position_of("CA-unknown") is None
    assert store.queue_sizes() == {CT: 3, HB: 1}


def test_a_caller_who_hangs_up_leaves_the_queue(store):
    store.add_waiting(caller("CA1"))
    store.add_waiting(caller("CA2", joined=1))
    assert store.remove_waiting("CA1") is True
    assert store.remove_waiting("CA1") is False
    assert store.position_of("CA2") == 1


def test_a_retried_webhook_cannot_queue_a_caller_who_is_being_offered(store):
    staff(store, "1")
    store.add_waiting(caller("CA1"))
    store.try_assign(at(1))
    assert store.add_waiting(caller("CA1")) is False
    assert store.queue_sizes() == {}
    assert store.release_assignment("CA1") is True
    assert store.release_assignment("CA1") is False


def test_a_snapshot_rebuilds_the_same_live_picture(store):
    staff(store, "1", free_since=-50)
    staff(store, "2", library="Dewsbury", free_since=-40)
    store.set_adviser_state("2", OFFLINE, at(-5), "went home")
    store.add_waiting(caller("CA1", joined=0, skipped_advisers=frozenset({"9"})))
    store.add_waiting(caller("CA2", joined=1, priority=1, priority_reasons=("vulnerable flag",)))
    store.add_waiting(caller("CA3", joined=2))
    store.try_assign(at(5))
    before = store.snapshot()
    store.rebuild_from(before)
    assert store.snapshot() == before
    assert store.try_assign(at(6)) is None  # the only free adviser is already on the call
    assert store.reject_offer("CA2", at(7)) is not None  # the restored offer can still be rejected


def test_most_proficient_first_is_honoured_by_both_stores(redis_connection):
    for store in (
        InMemoryRoutingStore(RULES, MOST_PROFICIENT_FIRST),
        RedisRoutingStore(redis_connection, RULES, MOST_PROFICIENT_FIRST),
    ):
        staff(store, "steady", free_since=-900, **{CT: 3})
        staff(store, "expert", free_since=-1, **{CT: 5})
        store.add_waiting(caller("CA1"))
        assert store.try_assign(at(1)).adviser_id == "expert"


# --- Redis only


def test_a_strategy_the_lua_script_does_not_implement_is_refused(redis_connection):
    class Custom:
        name = "custom"

        def adviser_rank(self, adviser, topic):  # type: ignore[no-untyped-def]
            return (adviser.adviser_id,)

    with pytest.raises(ValueError, match="not implemented in the Redis script"):
        RedisRoutingStore(redis_connection, RULES, Custom())


def test_the_queue_is_rebuilt_from_a_snapshot_after_redis_is_flushed(redis_connection):
    store = RedisRoutingStore(redis_connection, RULES)
    store.rebuild_from(population(7, T0, callers=300, advisers=40, available=0.5))
    before = store.snapshot()
    positions = {c.call_sid: store.position_of(c.call_sid) for c in before.waiting[:20]}
    redis_connection.flushdb()
    assert store.snapshot().waiting == ()
    store.rebuild_from(before)  # in production the snapshot is read from the database
    assert store.snapshot() == before
    assert {sid: store.position_of(sid) for sid in positions} == positions
    assert store.try_assign(T0) is not None


def test_keys_live_under_the_configured_prefix_only(redis_connection):
    store = RedisRoutingStore(redis_connection, RULES, keys=RoutingKeys("kirklees:{routing}"))
    staff(store, "1")
    store.add_waiting(caller("CA1"))
    store.try_assign(at(1))
    assert redis_connection.keys("*") and all(
        k.startswith(b"kirklees:{routing}:") for k in redis_connection.keys("*")
    )


def test_redis_decides_exactly_as_the_in_memory_fake_through_a_random_day(redis_connection):
    """A random mix of arrivals, hang-ups, state changes, offers and rejections, checked step by step."""
    fake = InMemoryRoutingStore(RULES)
    real = RedisRoutingStore(redis_connection, RULES)
    rng = random.Random(20261125)
    snapshot = population(11, T0, callers=150, advisers=25, available=0.3)
    fake.rebuild_from(snapshot)
    real.rebuild_from(snapshot)
    offered: list[str] = []
    now = T0
    for step in range(400):
        now += timedelta(milliseconds=rng.randint(1, 3_000))
        roll = rng.random()
        if roll < 0.45:
            expected = fake.try_assign(now)
            assert real.try_assign(now) == expected, f"step {step}"
            if expected:
                offered.append(expected.call_sid)
        elif roll < 0.55 and offered:
            sid = offered.pop(rng.randrange(len(offered)))
            state = rng.choice([AVAILABLE, BREAK])
            assert real.reject_offer(sid, now, state) == fake.reject_offer(sid, now, state)
        elif roll < 0.7 and offered:
            sid = offered.pop(rng.randrange(len(offered)))
            assert real.release_assignment(sid) == fake.release_assignment(sid)
        elif roll < 0.85:
            adviser_id = f"{rng.randrange(25):04d}"
            state = rng.choice([AVAILABLE, AVAILABLE, BREAK, OFFLINE, "wrap_up"])
            assert real.set_adviser_state(adviser_id, state, now) == fake.set_adviser_state(
                adviser_id, state, now
            )
        elif roll < 0.95:
            new = caller(f"CN{step}", topic=rng.choice([CT, HB]), library=rng.choice(["Batley", "Holmfirth"]))
            new = WaitingCaller(
                new.call_sid,
                new.topic,
                rng.choice(["en-GB", "pl-PL"]),
                new.home_library,
                now,
                priority=rng.choice([0, 0, 1]),
            )
            assert real.add_waiting(new) == fake.add_waiting(new)
        else:
            sid = rng.choice([c.call_sid for c in fake.snapshot().waiting] or ["CA-none"])
            assert real.remove_waiting(sid) == fake.remove_waiting(sid)
    assert real.snapshot() == fake.snapshot()
    assert real.queue_sizes() == fake.queue_sizes()


# --- concurrency


def test_threads_assigning_at_once_never_give_one_caller_or_adviser_twice(redis_connection, redis_url):
    store = RedisRoutingStore(redis_connection, RULES)
    store.rebuild_from(population(3, T0, callers=400, advisers=120, available=1.0))
    results: list[Any] = []
    barrier = threading.Barrier(8)

    def assign_until_empty() -> None:
        own = RedisRoutingStore(redis.Redis.from_url(redis_url), RULES)
        barrier.wait()
        while (assignment := own.try_assign(T0 + timedelta(minutes=10))) is not None:
            results.append(assignment)

    threads = [threading.Thread(target=assign_until_empty) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    call_sids = [a.call_sid for a in results]
    adviser_ids = [a.adviser_id for a in results]
    assert len(results) > 50
    assert len(set(call_sids)) == len(call_sids)
    assert len(set(adviser_ids)) == len(adviser_ids)
    assert len(store.snapshot().offered) == len(results)


def test_processes_assigning_and_freeing_advisers_at_once_never_double_assign(redis_connection, redis_url):
    import multiprocessing

    store = RedisRoutingStore(redis_connection, RULES, keys=RoutingKeys("routing-bench"))
    start = population(5, datetime.now(UTC), callers=2_000, advisers=100, available=0.2)
    store.rebuild_from(start)
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.starmap(assignment_worker, [(redis_url, "routing-bench", w, 250) for w in range(4)])
    assert sum(r["assignments"] for r in results) >= 900
    assert sum(r["adviser_doubles"] for r in results) == 0
    assert sum(r["caller_doubles"] for r in results) == 0
    assert redis_connection.keys(f"{CHECK_PREFIX}:adviser:*") == []
    after = store.snapshot()
    assert (len(after.waiting), len(after.offered)) == (2_000, 0)
    free = [s.profile.adviser_id for s in after.advisers if s.state == AVAILABLE]
    assert free and free == [s.profile.adviser_id for s in start.advisers if s.state == AVAILABLE]
