"""
Deleting a big collection: the key goes at once and its memory comes back (dragonfly frees
values above 256 KB on a background thread, as Redis's lazyfree does for UNLINK).
"""
import time


def used_memory(r):
    return int(r.info("memory")["used_memory"])


def fill_list(r, key, n, chunk=50000):
    for start in range(0, n, chunk):
        r.rpush(key, *[f"element:{i}" for i in range(start, min(n, start + chunk))])


def wait_memory_below(r, limit, seconds=10.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if used_memory(r) <= limit:
            return True
        time.sleep(0.05)
    return False


def test_del_big_list_frees_memory(r):
    before = used_memory(r)
    fill_list(r, "big", 300000)
    grown = used_memory(r) - before
    assert grown > 3_000_000
    assert r.delete("big") == 1
    assert r.exists("big") == 0
    assert r.ping()
    assert wait_memory_below(r, before + grown // 2)


def test_unlink_big_list_then_reuse_key(r):
    fill_list(r, "big2", 200000)
    assert r.unlink("big2") == 1
    r.rpush("big2", "fresh")
    assert r.lrange("big2", 0, -1) == ["fresh"]


def test_overwrite_big_list_with_string(r):
    fill_list(r, "big3", 200000)
    assert r.set("big3", "small")
    assert r.get("big3") == "small"
    assert r.type("big3") == "string"
