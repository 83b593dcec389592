"""Measure routing decisions: in-process, through Redis, and from 4 processes at once with a correctness check.

    .venv/bin/python -m bench.routing_bench [--quick]

Uses REDIS_URL if set (only keys under the bench prefix are touched), else starts a throwaway local Redis on
127.0.0.1. Every figure is compared with a baseline measured in the same run on the same machine, because
absolute microseconds mean little across machines.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import random
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis

from routing.engine import AVAILABLE, ON_CALL, RoutingState, WaitingCaller
from routing.redis_store import RedisRoutingStore, RoutingKeys
from routing.store import AdviserProfile, AdviserStatus, RoutingSnapshot
from routing.widening import RoutingRules, default_rules

BENCH_PREFIX = "routing-bench"
CHECK_PREFIX = "routing-bench-check"
TOPICS = ("council_tax", "housing_benefit")
# Roughly Kirklees' mix: mostly English, then Urdu, Punjabi, Polish.
LANGUAGES = ("en-GB",) * 7 + ("ur-PK", "pa-IN", "pl-PL")
LIBRARY_NEIGHBOURS = {
    "Huddersfield": ("Almondbury", "Kirkburton", "Holmfirth"),
    "Dewsbury": ("Ravensthorpe", "Batley"),
    "Batley": ("Birstall", "Dewsbury"),
    "Cleckheaton": ("Heckmondwike", "Birstall"),
    "Heckmondwike": ("Cleckheaton", "Ravensthorpe"),
    "Birstall": ("Batley", "Cleckheaton"),
    "Ravensthorpe": ("Dewsbury", "Heckmondwike"),
    "Almondbury": ("Huddersfield", "Kirkburton"),
    "Holmfirth": ("Huddersfield", "Kirkburton"),
    "Kirkburton": ("Almondbury", "Holmfirth"),
}
LIBRARIES = tuple(LIBRARY_NEIGHBOURS)


def bench_rules() -> RoutingRules:
    """The default widening over the demo libraries' neighbour map (kept here: the bench needs no database)."""
    return default_rules(LIBRARY_NEIGHBOURS)


def random_caller(rng: random.Random, call_sid: str, enqueued_at: datetime) -> WaitingCaller:
    vulnerable = rng.random() < 0.1
    return WaitingCaller(
        call_sid=call_sid,
        topic=rng.choice(TOPICS),
        language=rng.choice(LANGUAGES),
        home_library=rng.choice(LIBRARIES),
        enqueued_at=enqueued_at,
        priority=1 if vulnerable else 0,
        priority_reasons=("vulnerable flag",) if vulnerable else (),
    )


def random_profile(rng: random.Random, adviser_id: str) -> AdviserProfile:
    topics = rng.sample(TOPICS, rng.choice((1, 2)))
    languages = {"en-GB"} | ({rng.choice(LANGUAGES)} if rng.random() < 0.4 else set())
    return AdviserProfile(
        adviser_id, rng.choice(LIBRARIES), {t: rng.randint(1, 5) for t in topics}, frozenset(languages)
    )


def population(
    seed: int, now: datetime, callers: int = 10_000, advisers: int = 1_000, available: float = 0.1
) -> RoutingSnapshot:
    """Build a queue of `callers` who joined over the last 5 minutes and `advisers`, some of them free."""
    rng = random.Random(seed)
    waiting = tuple(
        random_caller(rng, f"CA{n:06d}", now - timedelta(milliseconds=rng.randint(0, 300_000)))
        for n in range(callers)
    )
    statuses = tuple(
        AdviserStatus(
            random_profile(rng, f"{n:04d}"),
            AVAILABLE if rng.random() < available else ON_CALL,
            now - timedelta(milliseconds=rng.randint(0, 600_000)),
        )
        for n in range(advisers)
    )
    return RoutingSnapshot(waiting=waiting, advisers=statuses)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def timed(samples: list[float], action: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = action()
    samples.append(time.perf_counter() - start)
    return result


# --- in process


def in_process(decisions: int, available: float, freeze_gc: bool = True) -> dict[str, list[float]]:
    """Time RoutingState.choose under churn: each match is replaced by a new caller and the adviser freed.

    With `freeze_gc` the loaded state is moved out of the garbage collector's sight (gc.freeze()), as a
    long-running process holding a RoutingState should do: otherwise a full collection walks every
    queued caller and lands, now and then, inside a decision.
    """
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    snapshot = population(1, now, available=available)
    state = RoutingState(bench_rules())
    for caller in snapshot.waiting:
        state.add_caller(caller)
    for status in snapshot.advisers:
        state.put_adviser(status.as_routable())
    if freeze_gc:
        gc.collect()
        gc.freeze()
    rng = random.Random(2)
    choose_times: list[float] = []
    fifo_times: list[float] = []
    fifo_callers = deque(c.call_sid for c in snapshot.waiting)
    fifo_advisers = deque(s.profile.adviser_id for s in snapshot.advisers if s.state == AVAILABLE)
    misses = 0
    for n in range(decisions):
        now += timedelta(milliseconds=20)
        assignment = timed(choose_times, lambda now=now: state.choose(now))
        if assignment is None:
            misses += 1
            continue
        state.remove_caller(assignment.call_sid)
        adviser = state.adviser(assignment.adviser_id)
        assert adviser is not None
        state.put_adviser(replace(adviser, idle_since=now))
        state.add_caller(random_caller(rng, f"CN{n:07d}", now))
        # Baseline: a plain FIFO decision (pop the oldest caller, pop the next free adviser, put both back).
        timed(fifo_times, lambda: (fifo_callers.popleft(), fifo_advisers.popleft()))
        fifo_callers.append(f"CN{n:07d}")
        fifo_advisers.append(assignment.adviser_id)
    if freeze_gc:
        gc.unfreeze()
    return {"choose": choose_times, "fifo": fifo_times, "misses": [float(misses)]}


# --- through Redis

FIFO_ASSIGN = """
local call_sid = redis.call('LPOP', KEYS[1])
if not call_sid then return false end
local adviser_id = redis.call('LPOP', KEYS[2])
if not adviser_id then redis.call('LPUSH', KEYS[1], call_sid) return false end
redis.call('HSET', KEYS[3], call_sid, adviser_id)
return {call_sid, adviser_id}
"""


def clear_bench_keys(client: redis.Redis) -> None:
    for pattern in (f"{BENCH_PREFIX}*", f"{CHECK_PREFIX}*"):
        batch = list(client.scan_iter(match=pattern, count=1000))
        for start in range(0, len(batch), 1000):
            client.unlink(*batch[start : start + 1000])


def load_store(client: redis.Redis, available: float, seed: int = 1) -> RedisRoutingStore:
    store = RedisRoutingStore(client, bench_rules(), keys=RoutingKeys(BENCH_PREFIX))
    clear_bench_keys(client)
    store.rebuild_from(population(seed, datetime.now(UTC), available=available))
    return store


def through_redis(url: str, decisions: int, available: float) -> dict[str, list[float]]:
    """Time try_assign (decision + reservation, one round trip) against a bare round trip and a FIFO pop."""
    client = redis.Redis.from_url(url)
    store = load_store(client, available)
    rng = random.Random(3)
    assign_times: list[float] = []
    ping_times: list[float] = []
    fifo_times: list[float] = []
    fifo = client.register_script(FIFO_ASSIGN)
    fifo_keys = [
        f"{BENCH_PREFIX}:fifo:callers",
        f"{BENCH_PREFIX}:fifo:advisers",
        f"{BENCH_PREFIX}:fifo:offers",
    ]
    client.rpush(fifo_keys[0], *[f"CA{n}" for n in range(10_000)])
    client.rpush(fifo_keys[1], *[f"{n:04d}" for n in range(int(1_000 * available) or 1)])
    fifo(keys=fifo_keys, args=[])  # load the script before timing
    misses = 0
    for n in range(decisions):
        now = datetime.now(UTC)
        assignment = timed(assign_times, lambda now=now: store.try_assign(now))
        if assignment is None:
            misses += 1
        else:
            store.release_assignment(assignment.call_sid)
            store.set_adviser_state(assignment.adviser_id, AVAILABLE, now, "call finished")
            store.add_waiting(random_caller(rng, f"CN{n:07d}", now))
        timed(ping_times, client.ping)
        pair = timed(fifo_times, lambda: fifo(keys=fifo_keys, args=[]))
        if pair:
            client.rpush(fifo_keys[0], pair[0])
            client.rpush(fifo_keys[1], pair[1])
    # Server-side cost of the script alone: Redis's own count for back-to-back try_assign calls.
    client.config_resetstat()
    for _ in range(20):
        if store.try_assign(datetime.now(UTC)) is None:
            break
    server = client.info("commandstats").get("cmdstat_evalsha", {"usec_per_call": 0.0})
    clear_bench_keys(client)
    client.close()
    return {
        "try_assign": assign_times,
        "ping": ping_times,
        "fifo": fifo_times,
        "misses": [float(misses)],
        "server_us": [float(server["usec_per_call"])],
    }


# --- concurrent assignment with a correctness check


def assignment_worker(
    url: str, prefix: str, worker: int, cycles: int, reject_every: int = 10
) -> dict[str, Any]:
    """Assign, then finish or reject, `cycles` times; count any adviser or caller handed out twice at once.

    The check keys sit outside the store: each assignment claims its adviser and caller with SET NX, and the
    claims are dropped only before the adviser is freed or the caller is put back. A claim that already
    exists means two processes hold the same adviser (or caller) at the same time: a double assignment.
    """
    client = redis.Redis.from_url(url)
    store = RedisRoutingStore(client, bench_rules(), keys=RoutingKeys(prefix))
    rng = random.Random(1000 + worker)
    counts = {
        "operations": 0,
        "assignments": 0,
        "rejections": 0,
        "empty": 0,
        "adviser_doubles": 0,
        "caller_doubles": 0,
    }
    start = time.perf_counter()
    for n in range(cycles):
        now = datetime.now(UTC)
        assignment = store.try_assign(now)
        counts["operations"] += 1
        if assignment is None:
            counts["empty"] += 1
            continue
        counts["assignments"] += 1
        adviser_claim = f"{CHECK_PREFIX}:adviser:{assignment.adviser_id}"
        caller_claim = f"{CHECK_PREFIX}:caller:{assignment.call_sid}"
        if not client.set(adviser_claim, worker, nx=True):
            counts["adviser_doubles"] += 1
        if not client.set(caller_claim, worker, nx=True):
            counts["caller_doubles"] += 1
        if n % reject_every == 0:
            client.delete(adviser_claim, caller_claim)
            store.reject_offer(assignment.call_sid, now, AVAILABLE, "no answer")
            counts["rejections"] += 1
            counts["operations"] += 1
        else:
            store.release_assignment(assignment.call_sid)
            client.delete(adviser_claim)  # the caller's claim stays: a finished call must never come back
            store.set_adviser_state(assignment.adviser_id, AVAILABLE, now, "call finished")
            store.add_waiting(random_caller(rng, f"W{worker}-{n:07d}", now))
            counts["operations"] += 3
    counts["seconds"] = time.perf_counter() - start
    client.close()
    return counts


def concurrent(url: str, processes: int, cycles_each: int, available: float) -> dict[str, Any]:
    client = redis.Redis.from_url(url)
    store = load_store(client, available)
    waiting_before = sum(store.queue_sizes().values())
    context = multiprocessing.get_context("spawn")
    started = time.perf_counter()
    with context.Pool(processes) as pool:
        results = pool.starmap(
            assignment_worker, [(url, BENCH_PREFIX, worker, cycles_each) for worker in range(processes)]
        )
    elapsed = time.perf_counter() - started
    snapshot = store.snapshot()
    total = {key: sum(r[key] for r in results) for key in results[0] if key != "seconds"}
    total["seconds"] = elapsed
    total["worker_seconds"] = max(r["seconds"] for r in results)
    total["waiting_before"] = waiting_before
    total["waiting_after"] = len(snapshot.waiting)
    total["offers_left"] = len(snapshot.offered)
    clear_bench_keys(client)
    client.close()
    return total


# --- running and printing


@contextmanager
def redis_for_bench() -> Iterator[str]:
    configured = os.environ.get("REDIS_URL")
    if configured:
        yield configured
        return
    from runtime.embedded_redis import start_embedded_redis

    with tempfile.TemporaryDirectory() as data_dir:
        url, process = start_embedded_redis(Path(data_dir), persist=False)
        try:
            yield url
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=10)


def row(name: str, samples: list[float], baseline: list[float] | None = None) -> str:
    p50, p99 = percentile(samples, 0.5) * 1e6, percentile(samples, 0.99) * 1e6
    ratio = ""
    if baseline:
        ratio = f"{p50 / (percentile(baseline, 0.5) * 1e6):7.1f}x {p99 / (percentile(baseline, 0.99) * 1e6):7.1f}x"
    return f"  {name:<46} {len(samples):>7} {p50:>9.1f} {p99:>9.1f} {max(samples) * 1e6:>9.1f}   {ratio}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer decisions and operations (a smoke run)")
    args = parser.parse_args(argv)
    decisions = 300 if args.quick else 2_000
    cycles_each = 500 if args.quick else 6_700  # 3.7 operations per cycle: 4 × 6,700 × 3.7 > 100,000
    header = f"  {'decision (10,000 waiting, 1,000 advisers)':<46} {'n':>7} {'p50 µs':>9} {'p99 µs':>9} {'max µs':>9}   ratio p50/p99 to baseline"
    print("In-process (RoutingState.choose), baseline: deque FIFO pop")
    print(header)
    for available in (0.01, 0.1, 1.0):
        result = in_process(decisions, available)
        print(row(f"choose, {available:.0%} of advisers free", result["choose"], result["fifo"]))
    print(row("baseline: FIFO pop (deque)", result["fifo"]))
    unfrozen = in_process(decisions, 0.1, freeze_gc=False)
    print(row("choose, 10% free, without gc.freeze()", unfrozen["choose"], unfrozen["fifo"]))
    with redis_for_bench() as url:
        print(f"\nThrough Redis at {url} (try_assign = decide + reserve in one Lua script)")
        print(header)
        for available in (0.01, 0.1, 1.0):
            result = through_redis(url, decisions, available)
            print(row(f"try_assign, {available:.0%} free", result["try_assign"], result["ping"]))
            print(row("   same, relative to LPOP FIFO assign script", result["try_assign"], result["fifo"]))
            print(f"  {'   server-side mean (INFO commandstats)':<46} {result['server_us'][0]:>27.1f}")
        print(row("baseline: PING round trip", result["ping"]))
        print(row("baseline: LPOP FIFO assign (Lua, 1 round trip)", result["fifo"]))
        print(
            f"\nConcurrent: 4 processes × {cycles_each} cycles, 10% of advisers free, 10% of offers rejected"
        )
        total = concurrent(url, 4, cycles_each, 0.1)
        print(
            f"  operations {total['operations']:,} in {total['seconds']:.1f} s "
            f"({total['operations'] / total['worker_seconds']:,.0f} ops/s across workers); "
            f"assignments {total['assignments']:,}, rejections {total['rejections']:,}, "
            f"empty {total['empty']:,}"
        )
        print(
            f"  double assignments: advisers {total['adviser_doubles']}, callers {total['caller_doubles']}; "
            f"waiting before {total['waiting_before']:,}, after {total['waiting_after']:,}, "
            f"offers left {total['offers_left']}"
        )
        ok = total["adviser_doubles"] == 0 and total["caller_doubles"] == 0 and total["offers_left"] == 0
        ok = ok and total["waiting_before"] == total["waiting_after"]
        print("  correctness:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
