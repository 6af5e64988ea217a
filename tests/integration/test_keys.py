"""Generic keyspace commands (issue #4): DEL/UNLINK/EXISTS/TYPE/RENAME/COPY/MOVE/KEYS/RANDOMKEY/
TOUCH/OBJECT/SWAPDB/DUMP/RESTORE/WAIT/MEMORY USAGE."""
import time

import pytest
import redis

from resp import Error

LFU_ERR = ("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
           "that when switching between policies at runtime LRU and LFU data will take some time to "
           "adjust.")

# DUMP payloads produced by Redis 7.0.15 (RDB version 10): restoring them must work on ours too.
REDIS_DUMP_V = b"\x00\x01v\n\x00\x91\x08\xce\xb2\x198\x8a\xce"                    # "v"
REDIS_DUMP_12345 = b"\x00\xc190\n\x00\x9d\x94\xea'\x93\xfc\x08\xb9"              # "12345"
REDIS_DUMP_HELLO = b"\x00\x0bhello world\n\x00\x0b\xfcI\xb9\xa6\xc7\xa04"        # "hello world"


# ---------------------------------------------------------------- DEL / UNLINK / EXISTS / TYPE

def test_del_multi(r):
    r.mset({"a": 1, "b": 2, "c": 3})
    assert r.delete("a", "b", "nokey") == 2
    assert r.delete("a") == 0
    assert r.delete("c", "c") == 1
    assert r.dbsize() == 0


def test_unlink_multi(r):
    r.mset({"a": 1, "b": 2})
    assert r.unlink("a", "b", "b", "x") == 2
    assert r.dbsize() == 0


def test_exists_counts_duplicates(r):
    r.set("a", 1)
    r.set("b", 2)
    assert r.exists("a") == 1
    assert r.exists("nokey") == 0
    assert r.exists("a", "a", "a") == 3
    assert r.exists("a", "b", "nokey", "b") == 3


def test_type(r):
    assert r.type("nokey") == "none"
    r.set("s", "x")
    assert r.type("s") == "string"
    r.rpush("l", "x")
    assert r.type("l") == "list"
    r.hset("h", "f", "v")
    assert r.type("h") == "hash"
    r.sadd("st", "m")
    assert r.type("st") == "set"
    r.zadd("z", {"m": 1})
    assert r.type("z") == "zset"


def test_del_across_many_keys(r):
    r.mset({f"k{i}": i for i in range(1000)})
    assert r.delete(*[f"k{i}" for i in range(0, 1000, 2)]) == 500
    assert r.dbsize() == 500
    assert r.exists(*[f"k{i}" for i in range(1000)]) == 500


# ---------------------------------------------------------------- RENAME / RENAMENX

def test_rename(r):
    r.set("a", "1", ex=100)
    assert r.rename("a", "b")
    assert r.get("a") is None
    assert r.get("b") == "1"
    assert 0 < r.ttl("b") <= 100
    r.set("c", "2")
    assert r.rename("b", "c")        # overwrites, takes the TTL of the source
    assert r.get("c") == "1"
    assert r.ttl("c") > 0


def test_rename_overwrite_removes_ttl(r):
    r.set("src", "1")
    r.set("dst", "2", ex=100)
    r.rename("src", "dst")
    assert r.ttl("dst") == -1


def test_rename_no_such_key(raw):
    assert raw.cmd("RENAME", "nokey", "x") == "ERR no such key"
    assert raw.cmd("RENAMENX", "nokey", "x") == "ERR no such key"


def test_rename_same_key(raw):
    raw.cmd("SET", "k", "v")
    assert raw.cmd("RENAME", "k", "k") == "OK"
    assert raw.cmd("RENAMENX", "k", "k") == 0
    assert raw.cmd("GET", "k") == b"v"


def test_renamenx(r):
    r.set("a", "1")
    r.set("b", "2")
    assert r.renamenx("a", "b") is False
    assert r.get("a") == "1" and r.get("b") == "2"
    assert r.renamenx("a", "c") is True
    assert r.get("a") is None and r.get("c") == "1"


def test_rename_other_types(r):
    r.rpush("l", "x", "y")
    r.rename("l", "l2")
    assert r.lrange("l2", 0, -1) == ["x", "y"]


# ---------------------------------------------------------------- COPY / MOVE / SWAPDB

def test_copy(raw):
    raw.cmd("SET", "src", "v")
    assert raw.cmd("COPY", "src", "dst") == 1
    assert raw.cmd("GET", "dst") == b"v"
    raw.cmd("SET", "src", "v2")
    assert raw.cmd("GET", "dst") == b"v"          # a real copy
    assert raw.cmd("COPY", "src", "dst") == 0      # exists, no REPLACE
    assert raw.cmd("GET", "dst") == b"v"
    assert raw.cmd("COPY", "src", "dst", "REPLACE") == 1
    assert raw.cmd("GET", "dst") == b"v2"
    assert raw.cmd("COPY", "nokey", "x") == 0
    assert raw.cmd("COPY", "src", "src") == "ERR source and destination objects are the same"


def test_copy_keeps_ttl(r):
    r.set("src", "v", ex=100)
    assert r.copy("src", "dst")
    assert 0 < r.ttl("dst") <= 100


def test_copy_db(raw):
    raw.cmd("SET", "src", "v")
    assert raw.cmd("COPY", "src", "src", "DB", "2") == 1
    assert raw.cmd("COPY", "src", "src", "DB", "2") == 0
    raw.cmd("SELECT", "2")
    assert raw.cmd("GET", "src") == b"v"
    raw.cmd("SELECT", "0")
    assert raw.cmd("COPY", "src", "x", "DB", "16") == "ERR DB index is out of range"


def test_copy_list(r):
    r.rpush("l", 1, 2, 3)
    r.copy("l", "l2")
    r.rpush("l", 4)
    assert r.lrange("l2", 0, -1) == ["1", "2", "3"]


def test_move(raw):
    raw.cmd("SET", "k", "v")
    assert raw.cmd("MOVE", "k", "1") == 1
    assert raw.cmd("EXISTS", "k") == 0
    raw.cmd("SELECT", "1")
    assert raw.cmd("GET", "k") == b"v"
    raw.cmd("SELECT", "0")
    raw.cmd("SET", "k", "other")
    assert raw.cmd("MOVE", "k", "1") == 0           # target exists
    assert raw.cmd("GET", "k") == b"other"
    assert raw.cmd("MOVE", "nokey", "1") == 0
    assert raw.cmd("MOVE", "k", "0") == "ERR source and destination objects are the same"
    assert raw.cmd("MOVE", "k", "16") == "ERR DB index is out of range"
    assert raw.cmd("MOVE", "k", "abc") == "ERR value is not an integer or out of range"


def test_move_keeps_ttl(raw):
    raw.cmd("SET", "k", "v", "EX", "100")
    assert raw.cmd("MOVE", "k", "3") == 1
    raw.cmd("SELECT", "3")
    assert 0 < raw.cmd("TTL", "k") <= 100


def test_swapdb(server, raw):
    raw.cmd("SET", "a", "db0")
    raw.cmd("SELECT", "1")
    raw.cmd("SET", "b", "db1")
    raw.cmd("SET", "c", "db1")
    other = server.raw()          # stays on db 0 and must see the swapped contents
    assert raw.cmd("SWAPDB", "0", "1") == "OK"
    assert raw.cmd("GET", "a") == b"db0"
    assert raw.cmd("DBSIZE") == 1
    assert other.cmd("GET", "b") == b"db1"
    assert other.cmd("DBSIZE") == 2
    assert raw.cmd("SWAPDB", "0", "16") == "ERR DB index is out of range"
    assert raw.cmd("SWAPDB", "0", "x") == "ERR invalid second DB index"
    other.close()


# ---------------------------------------------------------------- KEYS / RANDOMKEY / TOUCH

@pytest.fixture
def globkeys(r):
    keys = ["a*b", "aXb", "a?b", "a[b", "hello", "hallo", "hxllo", "hllo", "heeello"]
    for k in keys:
        r.set(k, "1")
    return keys


@pytest.mark.parametrize("pattern,expected", [
    ("*", ["a*b", "aXb", "a?b", "a[b", "hello", "hallo", "hxllo", "hllo", "heeello"]),
    ("h?llo", ["hello", "hallo", "hxllo"]),
    ("h*llo", ["hello", "hallo", "hxllo", "hllo", "heeello"]),
    ("h[ae]llo", ["hello", "hallo"]),
    ("h[^e]llo", ["hallo", "hxllo"]),
    ("h[a-e]llo", ["hello", "hallo"]),
    ("a\\*b", ["a*b"]),
    ("a\\?b", ["a?b"]),
    ("a\\[b", ["a[b"]),
    ("a[*]b", ["a*b"]),
    ("a?b", ["a*b", "aXb", "a?b", "a[b"]),
    ("hello", ["hello"]),
    ("nomatch*", []),
])
def test_keys_glob(r, globkeys, pattern, expected):
    assert sorted(r.keys(pattern)) == sorted(expected)


def test_keys_many(r):
    r.mset({f"user:{i}": i for i in range(500)})
    r.mset({f"item:{i}": i for i in range(300)})
    assert len(r.keys("user:*")) == 500
    assert len(r.keys("item:*")) == 300
    assert len(r.keys("*")) == 800
    assert sorted(r.keys("user:1?")) == sorted(f"user:{i}" for i in range(10, 20))


def test_keys_skips_expired(r):
    r.set("live", "1")
    r.set("dying", "1", px=30)
    time.sleep(0.1)
    assert r.keys("*") == ["live"]


def test_randomkey(r):
    assert r.randomkey() is None
    r.set("only", "1")
    assert r.randomkey() == "only"
    keys = {f"k{i}" for i in range(20)}
    r.mset({k: 1 for k in keys})
    for _ in range(20):
        assert r.randomkey() in keys | {"only"}


def test_touch(r):
    r.mset({"a": 1, "b": 2})
    assert r.touch("a", "b", "nokey", "a") == 3
    assert r.touch("nokey") == 0


# ---------------------------------------------------------------- OBJECT

def test_object_encoding_strings(raw):
    raw.cmd("SET", "i", "12345")
    assert raw.cmd("OBJECT", "ENCODING", "i") == b"int"
    raw.cmd("SET", "neg", "-5")
    assert raw.cmd("OBJECT", "ENCODING", "neg") == b"int"
    raw.cmd("SET", "big", "99999999999999999999")     # does not fit in a long
    assert raw.cmd("OBJECT", "ENCODING", "big") == b"embstr"
    raw.cmd("SET", "e", "x" * 44)
    assert raw.cmd("OBJECT", "ENCODING", "e") == b"embstr"
    raw.cmd("SET", "rw", "x" * 45)
    assert raw.cmd("OBJECT", "ENCODING", "rw") == b"raw"
    raw.cmd("SET", "huge", "y" * 10000)
    assert raw.cmd("OBJECT", "ENCODING", "huge") == b"raw"
    assert raw.cmd("OBJECT", "ENCODING", "nokey") is None


def test_object_encoding_after_incr(raw):
    raw.cmd("SET", "c", "abc")
    raw.cmd("SET", "n", "10")
    raw.cmd("INCR", "n")
    assert raw.cmd("OBJECT", "ENCODING", "n") == b"int"


def test_object_refcount_idletime(raw):
    raw.cmd("SET", "k", "hello")
    rc = raw.cmd("OBJECT", "REFCOUNT", "k")
    assert isinstance(rc, int) and rc >= 1
    idle = raw.cmd("OBJECT", "IDLETIME", "k")
    assert isinstance(idle, int) and 0 <= idle <= 2
    assert raw.cmd("OBJECT", "REFCOUNT", "nokey") is None
    assert raw.cmd("OBJECT", "IDLETIME", "nokey") is None


def test_object_freq_without_lfu(raw):
    raw.cmd("SET", "k", "v")
    assert raw.cmd("OBJECT", "FREQ", "k") == LFU_ERR


def test_object_help_and_errors(raw):
    helptext = raw.cmd("OBJECT", "HELP")
    assert isinstance(helptext, list) and len(helptext) > 4
    assert helptext[0].startswith("OBJECT <subcommand>")
    assert any("ENCODING" in line for line in helptext)
    assert raw.cmd("OBJECT", "nosuch") == "ERR unknown subcommand 'nosuch'. Try OBJECT HELP."
    assert raw.cmd("OBJECT", "ENCODING") == "ERR wrong number of arguments for 'object|encoding' command"


# ---------------------------------------------------------------- DUMP / RESTORE

def test_dump_restore_round_trip(rb):
    values = [b"v", b"12345", b"x" * 100, bytes(range(256)) * 40, b""]
    for i, v in enumerate(values):
        rb.set(f"src{i}", v)
        payload = rb.dump(f"src{i}")
        assert isinstance(payload, bytes)
        assert rb.restore(f"dst{i}", 0, payload)
        assert rb.get(f"dst{i}") == v
        assert rb.ttl(f"dst{i}") == -1


def test_dump_missing(rb):
    assert rb.dump("nokey") is None


def test_restore_with_ttl(rb):
    rb.set("src", "v")
    p = rb.dump("src")
    rb.restore("dst", 5000, p)
    assert 4000 < rb.pttl("dst") <= 5000


def test_restore_busykey_and_replace(raw):
    raw.cmd("SET", "src", "one")
    p = raw.cmd("DUMP", "src")
    raw.cmd("SET", "dst", "old")
    assert raw.cmd("RESTORE", "dst", "0", p) == "BUSYKEY Target key name already exists."
    assert raw.cmd("GET", "dst") == b"old"
    assert raw.cmd("RESTORE", "dst", "0", p, "REPLACE") == "OK"
    assert raw.cmd("GET", "dst") == b"one"


def test_restore_absttl(raw):
    raw.cmd("SET", "src", "v")
    p = raw.cmd("DUMP", "src")
    at = int(time.time() * 1000) + 100_000
    assert raw.cmd("RESTORE", "dst", str(at), p, "ABSTTL") == "OK"
    assert 90_000 < raw.cmd("PTTL", "dst") <= 100_000
    assert raw.cmd("PEXPIRETIME", "dst") == at
    # an absolute time in the past: OK, but the key does not exist afterwards
    assert raw.cmd("RESTORE", "past", "1", p, "ABSTTL") == "OK"
    assert raw.cmd("EXISTS", "past") == 0


def test_restore_errors(raw):
    raw.cmd("SET", "src", "v")
    p = raw.cmd("DUMP", "src")
    assert raw.cmd("RESTORE", "k", "0", "garbage") == "ERR DUMP payload version or checksum are wrong"
    corrupted = p[:-1] + bytes([p[-1] ^ 0xFF])
    assert raw.cmd("RESTORE", "k", "0", corrupted) == "ERR DUMP payload version or checksum are wrong"
    assert raw.cmd("RESTORE", "k", "-1", p) == "ERR Invalid TTL value, must be >= 0"
    assert raw.cmd("RESTORE", "k", "x", p) == "ERR value is not an integer or out of range"
    assert raw.cmd("RESTORE", "k", "0", p, "FOO") == "ERR syntax error"
    assert raw.cmd("EXISTS", "k") == 0


@pytest.mark.parametrize("payload,value", [
    (REDIS_DUMP_V, b"v"),
    (REDIS_DUMP_12345, b"12345"),
    (REDIS_DUMP_HELLO, b"hello world"),
])
def test_restore_redis_payload(raw, payload, value):
    assert raw.cmd("RESTORE", "k", "0", payload) == "OK"
    assert raw.cmd("GET", "k") == value


def test_dump_restore_list(r):
    r.rpush("l", *range(100))
    p = r.dump("l")
    r.restore("l2", 0, p)
    assert r.lrange("l2", 0, -1) == [str(i) for i in range(100)]


# ---------------------------------------------------------------- WAIT / MEMORY USAGE

def test_wait_no_replicas(raw):
    assert raw.cmd("WAIT", "0", "0") == 0


def test_memory_usage(raw):
    raw.cmd("SET", "k", "x" * 1000)
    n = raw.cmd("MEMORY", "USAGE", "k")
    assert isinstance(n, int) and n >= 1000
    raw.cmd("SET", "small", "1")
    m = raw.cmd("MEMORY", "USAGE", "small")
    assert isinstance(m, int) and 0 < m < n
    assert raw.cmd("MEMORY", "USAGE", "nokey") is None
