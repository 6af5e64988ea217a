"""SCAN (issue #4): full iteration, MATCH/COUNT/TYPE, the Redis guarantee under concurrent
writes, cursor errors."""
import threading

import pytest


def full_scan(c, **kw):
    seen = []
    cursor = 0
    calls = 0
    while True:
        cursor, keys = c.scan(cursor=cursor, **kw)
        seen.extend(keys)
        calls += 1
        assert calls < 1_000_000
        if cursor == 0:
            return seen, calls


def test_scan_empty(r):
    cursor, keys = r.scan(0)
    assert cursor == 0 and keys == []


def test_scan_all_10k(r):
    pipe = r.pipeline(transaction=False)
    for i in range(10000):
        pipe.set(f"key:{i}", i)
    pipe.execute()
    seen, calls = full_scan(r)
    assert set(seen) == {f"key:{i}" for i in range(10000)}
    assert calls > 1                      # it is really paginated
    assert len(seen) >= 10000             # duplicates allowed, misses not


def test_scan_count(r):
    r.mset({f"k{i}": i for i in range(1000)})
    seen, calls_small = full_scan(r, count=10)
    assert set(seen) == {f"k{i}" for i in range(1000)}
    seen, calls_big = full_scan(r, count=1000)
    assert set(seen) == {f"k{i}" for i in range(1000)}
    assert calls_big < calls_small


def test_scan_match(r):
    r.mset({f"user:{i}": i for i in range(300)})
    r.mset({f"item:{i}": i for i in range(300)})
    seen, _ = full_scan(r, match="user:*")
    assert set(seen) == {f"user:{i}" for i in range(300)}
    seen, _ = full_scan(r, match="user:1?", count=50)
    assert set(seen) == {f"user:{i}" for i in range(10, 20)}
    seen, _ = full_scan(r, match="nomatch*")
    assert seen == []


def test_scan_type(r):
    for i in range(100):
        r.set(f"s{i}", "v")
        r.rpush(f"l{i}", "v")
        r.hset(f"h{i}", "f", "v")
    seen, _ = full_scan(r, _type="string")
    assert set(seen) == {f"s{i}" for i in range(100)}
    seen, _ = full_scan(r, _type="list", count=20)
    assert set(seen) == {f"l{i}" for i in range(100)}
    seen, _ = full_scan(r, _type="hash", match="h1*")
    assert set(seen) == {f"h{i}" for i in range(100) if str(i).startswith("1")}
    seen, _ = full_scan(r, _type="zset")
    assert seen == []


def test_scan_per_db(raw):
    raw.cmd("SET", "a", "1")
    raw.cmd("SELECT", "1")
    raw.cmd("SET", "b", "1")
    cursor, keys = raw.cmd("SCAN", "0", "COUNT", "100")
    assert cursor == b"0" and keys == [b"b"]


def test_scan_skips_expired(r):
    import time
    r.set("live", "1")
    for i in range(20):
        r.set(f"dead{i}", "1", px=20)
    time.sleep(0.1)
    seen, _ = full_scan(r)
    assert set(seen) == {"live"}


def test_scan_reply_shape(raw):
    raw.cmd("SET", "x", "1")
    rep = raw.cmd("SCAN", "0")
    assert isinstance(rep, list) and len(rep) == 2
    assert isinstance(rep[0], bytes) and rep[0].isdigit()
    assert isinstance(rep[1], list)


def test_scan_invalid_cursor(raw):
    assert raw.cmd("SCAN", "abc") == "ERR invalid cursor"
    assert raw.cmd("SCAN", "1.5") == "ERR invalid cursor"
    assert raw.cmd("SCAN", "0", "COUNT", "0") == "ERR syntax error"
    assert raw.cmd("SCAN", "0", "COUNT", "x") == "ERR value is not an integer or out of range"
    assert raw.cmd("SCAN", "0", "FOO") == "ERR syntax error"
    assert raw.cmd("SCAN") == "ERR wrong number of arguments for 'scan' command"


@pytest.mark.parametrize("grow", [False, True])
def test_scan_guarantee_under_concurrent_writes(server, r, grow):
    """Every key present for the whole scan is returned at least once while another client
    inserts and deletes other keys (with grow=True it inserts enough to make the table grow)."""
    stable = {f"stable:{i}" for i in range(5000)}
    pipe = r.pipeline(transaction=False)
    for k in stable:
        pipe.set(k, "v")
    for i in range(2000):
        pipe.set(f"churn:{i}", "v")
    pipe.execute()

    stop = threading.Event()
    errors = []

    def writer():
        w = server.client()
        try:
            i = 2000
            while not stop.is_set():
                p = w.pipeline(transaction=False)
                for _ in range(50):
                    p.set(f"churn:{i}", "v")
                    if not grow:
                        p.delete(f"churn:{i - 2000}")
                    i += 1
                p.execute()
                if grow and i > 60000:
                    break
        except Exception as e:       # surfaced in the main thread
            errors.append(e)
        finally:
            w.close()

    t = threading.Thread(target=writer)
    t.start()
    try:
        seen = set()
        cursor = 0
        while True:
            cursor, keys = r.scan(cursor=cursor, count=20)
            seen.update(keys)
            if cursor == 0:
                break
    finally:
        stop.set()
        t.join(timeout=30)
    assert not errors
    missing = stable - seen
    assert not missing, f"{len(missing)} stable keys missed, e.g. {sorted(missing)[:5]}"
    for k in stable:
        assert k in seen
