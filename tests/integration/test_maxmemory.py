"""
maxmemory and maxmemory-policy (core/evict.c): Redis's OOM refusal under noeviction, eviction
under the other policies (LRU keeps recently used keys, volatile-* only takes keys with a TTL
and refuses writes once none is left), evicted_keys in INFO, keyspace "evicted" events.

Memory per key differs between servers, so every limit is set relative to the server's own
used_memory; the assertions are properties that hold on redis-server 7.0.15 as well
(DF_TEST_SERVER=redis).
"""
import time

import pytest
import redis

from conftest import per_thread_count_server

OOM = "OOM command not allowed when used memory > 'maxmemory'."
VALUE = "x" * 100

server = per_thread_count_server()


@pytest.fixture
def r(server):
    c = server.client()
    c.config_set("maxmemory", 0)
    c.config_set("maxmemory-policy", "noeviction")
    c.flushall()
    yield c
    c.config_set("maxmemory", 0)
    c.config_set("maxmemory-policy", "noeviction")
    c.flushall()
    c.close()


def used(r):
    return int(r.info("memory")["used_memory"])


def limit_above_now(r, extra):
    """maxmemory = used_memory + extra, once used_memory settles: our overhead estimate is
    refreshed by the cron (10 Hz), and a FLUSHALL before the test frees its tables a slice
    at a time, so right after it used_memory is still falling."""
    now = used(r)
    for _ in range(20):
        time.sleep(0.15)
        prev, now = now, used(r)
        if abs(now - prev) < 32 * 1024:
            break
    r.config_set("maxmemory", now + extra)


def fill(r, prefix, n, ex=None, pipe_size=500):
    """SET n keys; returns the error texts met (pipelined, errors collected)."""
    errors = []
    for base in range(0, n, pipe_size):
        p = r.pipeline(transaction=False)
        for i in range(base, min(n, base + pipe_size)):
            p.set(f"{prefix}:{i}", VALUE, ex=ex)
        errors += [str(x) for x in p.execute(raise_on_error=False) if isinstance(x, Exception)]
    return errors


def test_noeviction_refuses_writes_not_reads(r):
    fill(r, "base", 100)
    limit_above_now(r, 512 * 1024)
    errors = fill(r, "more", 20000)
    assert errors and set(errors) == {OOM}
    assert r.get("base:0") == VALUE  # reads still run
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("SET", "one", "more")
    assert str(e.value) == OOM
    # inside MULTI the refused command makes EXEC abort
    p = r.pipeline(transaction=True)
    p.get("base:1")
    p.set("in-multi", "v")
    with pytest.raises(redis.ResponseError) as e:
        p.execute()
    assert "EXECABORT" in str(e.value) or "OOM" in str(e.value)
    # DEL is not denyoom (last: freeing a value may bring memory back under the limit)
    assert r.delete("base:0") == 1
    r.config_set("maxmemory", 0)
    assert r.set("one", "more")
    assert int(r.info("stats")["evicted_keys"]) == 0


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-random", "allkeys-lfu"])
def test_allkeys_policies_evict_instead_of_refusing(r, policy):
    r.config_set("maxmemory-policy", policy)
    limit_above_now(r, 4 * 1024 * 1024)  # room for the pipelines' own buffers too
    before = int(r.info("stats")["evicted_keys"])
    assert fill(r, "k", 60000) == []
    left = r.dbsize()
    assert left < 60000
    assert int(r.info("stats")["evicted_keys"]) - before >= 60000 - left
    limit = int(r.config_get("maxmemory")["maxmemory"])
    assert used(r) < limit + 2 * 1024 * 1024  # bounded (the data alone is 8-10 MB)


def lru_round(r):
    """Cold keys, then (2.2 s later) hot ones, then new ones past maxmemory: how many of 100
    sampled hot keys survive, and how many keys are left."""
    r.config_set("maxmemory", 0)
    r.flushall()
    r.config_set("maxmemory-policy", "allkeys-lru")
    assert fill(r, "cold", 20000) == []
    time.sleep(2.2)  # the LRU clock has a one-second resolution
    assert fill(r, "hot", 1000) == []
    limit_above_now(r, 256 * 1024)
    assert fill(r, "new", 8000) == []
    return sum(r.exists(f"hot:{i}") for i in range(0, 1000, 10)), r.dbsize()


def test_lru_keeps_the_recently_used_keys(r):
    # Sampled LRU (as Redis's) keeps nearly all (99-100 here and on redis-server); random
    # eviction of the ~7000 keys that go would keep about 75. Loaded CI machines saw 89 and,
    # once, 78 (unexplained; the next round kept 100): a second round decides then.
    alive, left = lru_round(r)
    if alive < 85:
        alive, left = lru_round(r)
    assert alive >= 85, (alive, left)
    assert left < 29000  # cold keys went


def test_object_freq_counts_as_redis(r):
    """Redis's LFU counter: 5 for a new key, +1 for its first access (certain), then ever
    less likely steps (lfu-log-factor)."""
    r.config_set("maxmemory-policy", "allkeys-lfu")
    r.set("f", "v")
    assert r.object("freq", "f") == 5
    r.get("f")
    assert r.object("freq", "f") == 6
    for _ in range(300):
        r.get("f")
    assert 7 <= r.object("freq", "f") <= 20  # about 9 after 300 accesses at factor 10
    r.config_set("lfu-log-factor", 0)  # every access counts
    before = r.object("freq", "f")
    for _ in range(10):
        r.get("f")
    assert r.object("freq", "f") == before + 10
    r.set("f", "w")  # an overwrite keeps (and counts) the frequency
    assert r.object("freq", "f") >= before + 10
    r.config_set("lfu-log-factor", 10)


def test_lfu_keeps_the_frequently_used_keys(r):
    """Keys read often survive eviction even when rarely-read keys were read after them
    (LRU would keep the latter)."""
    r.config_set("maxmemory-policy", "allkeys-lfu")
    assert fill(r, "hot", 1000) == []
    for _ in range(20):
        p = r.pipeline(transaction=False)
        for i in range(0, 1000, 10):
            p.get(f"hot:{i}")
        p.execute()
    time.sleep(2.2)  # LRU (one-second clock) would now see the hot keys as the oldest
    assert fill(r, "cold", 20000) == []
    p = r.pipeline(transaction=False)
    for i in range(20000):  # read once each, after the hot keys
        p.get(f"cold:{i}")
    p.execute()
    limit_above_now(r, 256 * 1024)
    assert fill(r, "new", 8000) == []
    alive = sum(r.exists(f"hot:{i}") for i in range(0, 1000, 10))
    assert alive >= 85  # the read ones; random eviction would keep about 75, LRU fewer
    assert r.dbsize() < 29000


def test_volatile_policies_take_only_keys_with_a_ttl(r):
    r.config_set("maxmemory-policy", "volatile-lru")
    assert fill(r, "keep", 2000) == []
    assert fill(r, "temp", 2000, ex=1000) == []
    limit_above_now(r, 128 * 1024)
    errors, round = [], 0
    deadline = time.time() + 10
    while not errors and time.time() < deadline:  # temp keys go first, then writes fail
        errors = fill(r, f"new{round}", 2000)
        round += 1
    assert set(errors) == {OOM}
    assert all(r.exists(f"keep:{i}") for i in range(0, 2000, 50))
    assert int(r.info("stats")["evicted_keys"]) > 0


def test_evicted_keys_publish_evicted_events(server, r):
    sub = server.client().pubsub()
    sub.psubscribe("__keyevent@0__:evicted")
    assert sub.get_message(timeout=5)["type"] == "psubscribe"
    r.config_set("notify-keyspace-events", "Ee")
    try:
        r.config_set("maxmemory-policy", "allkeys-random")
        limit_above_now(r, 256 * 1024)
        got = None
        for round_ in range(10):  # more writes until something is evicted (a loaded machine)
            fill(r, f"ev{round_}", 5000)
            deadline = time.time() + 2
            while got is None and time.time() < deadline:
                m = sub.get_message(timeout=0.5)
                if m and m["type"] == "pmessage":
                    got = m
            if got:
                break
        assert got and got["data"].startswith("ev")
    finally:
        r.config_set("notify-keyspace-events", "")
        sub.close()


def test_cache_mode_evicts_under_noeviction(server, r):
    if server.kind == "redis":
        pytest.skip("cache_mode is Dragonfly's flag")
    r.config_set("cache_mode", "yes")
    try:
        limit_above_now(r, 4 * 1024 * 1024)
        assert fill(r, "c", 60000) == []
        assert r.dbsize() < 60000
    finally:
        r.config_set("cache_mode", "no")
