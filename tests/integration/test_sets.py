"""
Integration tests for the sets module: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD,
SPOP, SRANDMEMBER, SMOVE, SINTER/SUNION/SDIFF and their *STORE forms, SINTERCARD, SSCAN, the
intset -> hashtable conversion, COPY/MEMORY USAGE/DUMP/RESTORE of sets, errors and RESP3
replies. The multi-key commands use many keys, so with several threads they span shards.
Every expectation holds on redis-server 7.0 too (DF_TEST_SERVER=redis).
"""
import pytest
import redis

from resp import Error, Set
from helpers import WRONGTYPE, NOT_INT, SYNTAX, err, plain


@pytest.fixture
def r(r):
    return plain(r)


def members(r, key):
    return sorted(r.execute_command("SMEMBERS", key))


# ---------------------------------------------------------------------------- basics

def test_sadd_srem_scard(r):
    assert r.execute_command("SADD", "s", "a", "b", "a") == 2
    assert r.execute_command("SADD", "s", "b", "c") == 1
    assert r.execute_command("SCARD", "s") == 3
    assert r.execute_command("SCARD", "nokey") == 0
    assert r.execute_command("SREM", "s", "a", "x", "a") == 1
    assert r.execute_command("SREM", "nokey", "a") == 0
    assert members(r, "s") == ["b", "c"]
    assert r.execute_command("TYPE", "s") == "set"
    assert r.execute_command("SREM", "s", "b", "c") == 2
    assert r.exists("s") == 0


def test_sismember_smismember(r):
    r.execute_command("SADD", "s", "a", "1")
    assert r.execute_command("SISMEMBER", "s", "a") == 1
    assert r.execute_command("SISMEMBER", "s", "1") == 1
    assert r.execute_command("SISMEMBER", "s", "x") == 0
    assert r.execute_command("SISMEMBER", "nokey", "x") == 0
    assert r.execute_command("SMISMEMBER", "s", "a", "x", "1") == [1, 0, 1]
    assert r.execute_command("SMISMEMBER", "nokey", "a", "b") == [0, 0]


def test_smembers_empty(r):
    assert r.execute_command("SMEMBERS", "nokey") == []


def test_smembers_resp3_set(raw):
    raw.cmd("HELLO", "3")
    raw.cmd("SADD", "s", "a", "b")
    got = raw.cmd("SMEMBERS", "s")
    assert isinstance(got, Set) and sorted(got) == [b"a", b"b"]
    got = raw.cmd("SMEMBERS", "nokey")
    assert isinstance(got, Set) and got == []
    raw.send(b"*2\r\n$8\r\nSMEMBERS\r\n$5\r\nnokey\r\n")
    assert raw.read_line_raw() == b"~0"


def test_binary_members(rb):
    assert rb.sadd("s", b"\x00\xff", b"", b"\r\n") == 3
    assert rb.smembers("s") == {b"\x00\xff", b"", b"\r\n"}
    assert rb.sismember("s", b"") == 1


# ---------------------------------------------------------------------------- encodings

def test_intset_encoding(r):
    r.execute_command("SADD", "s", "1", "-5", "9223372036854775807", "-9223372036854775808")
    assert r.execute_command("OBJECT", "ENCODING", "s") == "intset"
    assert members(r, "s") == sorted(["1", "-5", "9223372036854775807", "-9223372036854775808"])
    assert r.execute_command("SISMEMBER", "s", "01") == 0
    assert r.execute_command("SREM", "s", "abc", "+1") == 0
    r.execute_command("SADD", "s", "a")
    assert r.execute_command("OBJECT", "ENCODING", "s") == "hashtable"
    assert r.execute_command("SISMEMBER", "s", "1") == 1


@pytest.mark.parametrize("m", ["007", "+1", "1.0", " 1", "9223372036854775808", "-0"])
def test_not_integers_are_not_intset(r, m):
    r.execute_command("SADD", "s", m)
    assert r.execute_command("OBJECT", "ENCODING", "s") == "hashtable"
    assert r.execute_command("SMEMBERS", "s") == [m]


def test_intset_conversion_by_count(r):
    r.execute_command("SADD", "s", *range(512))
    assert r.execute_command("OBJECT", "ENCODING", "s") == "intset"
    r.execute_command("SADD", "s", 512)
    assert r.execute_command("OBJECT", "ENCODING", "s") == "hashtable"
    assert r.execute_command("SCARD", "s") == 513
    assert members(r, "s") == sorted(str(i) for i in range(513))


def test_big_set(r):
    r.execute_command("SADD", "s", *[f"m{i}" for i in range(3000)])
    assert r.execute_command("SREM", "s", *[f"m{i}" for i in range(0, 3000, 3)]) == 1000
    assert set(r.execute_command("SMEMBERS", "s")) == {f"m{i}" for i in range(3000) if i % 3}


# ---------------------------------------------------------------------------- SPOP / SRANDMEMBER

@pytest.mark.parametrize("items", [["1", "2", "3"], ["a", "b", "c"]])
def test_spop_single(r, items):
    assert r.execute_command("SPOP", "nokey") is None
    r.execute_command("SADD", "s", *items)
    got = {r.execute_command("SPOP", "s") for _ in range(3)}
    assert got == set(items)
    assert r.exists("s") == 0


@pytest.mark.parametrize("prefix", ["", "m"])
def test_spop_count(r, prefix):
    items = {f"{prefix}{i}" for i in range(600)}
    r.execute_command("SADD", "s", *items)
    got = r.execute_command("SPOP", "s", 100)
    assert len(got) == 100 and len(set(got)) == 100 and set(got) <= items
    assert r.execute_command("SCARD", "s") == 500
    assert set(r.execute_command("SMEMBERS", "s")) == items - set(got)
    assert r.execute_command("SPOP", "s", 0) == []
    rest = r.execute_command("SPOP", "s", 1000)
    assert set(rest) == items - set(got)
    assert r.exists("s") == 0
    assert r.execute_command("SPOP", "nokey", 3) == []


def test_spop_errors(r):
    r.execute_command("SADD", "s", "a")
    assert err(r, "SPOP", "s", -1) == "value is out of range, must be positive"
    assert err(r, "SPOP", "s", "x") == "value is out of range, must be positive"
    assert err(r, "SPOP", "s", 1, 2) == SYNTAX


def test_spop_resp3(raw):
    raw.cmd("HELLO", "3")
    raw.cmd("SADD", "s", "a", "b", "c")
    got = raw.cmd("SPOP", "s", 2)
    assert isinstance(got, Set) and len(got) == 2
    assert isinstance(raw.cmd("SPOP", "nokey", 2), Set)
    assert raw.cmd("SPOP", "nokey") is None


@pytest.mark.parametrize("prefix", ["", "m"])
def test_srandmember(r, prefix):
    assert r.execute_command("SRANDMEMBER", "nokey") is None
    assert r.execute_command("SRANDMEMBER", "nokey", 3) == []
    items = {f"{prefix}{i}" for i in range(5)}
    r.execute_command("SADD", "s", *items)
    assert {r.execute_command("SRANDMEMBER", "s") for _ in range(300)} == items
    got = r.execute_command("SRANDMEMBER", "s", 3)
    assert len(got) == 3 and len(set(got)) == 3 and set(got) <= items
    assert sorted(r.execute_command("SRANDMEMBER", "s", 10)) == sorted(items)
    got = r.execute_command("SRANDMEMBER", "s", -20)
    assert len(got) == 20 and set(got) <= items
    assert r.execute_command("SRANDMEMBER", "s", 0) == []
    assert r.execute_command("SCARD", "s") == 5


def test_srandmember_errors(r):
    r.execute_command("SADD", "s", "a")
    assert err(r, "SRANDMEMBER", "s", "x") == NOT_INT
    assert err(r, "SRANDMEMBER", "s", 1, 2) == SYNTAX
    assert err(r, "SRANDMEMBER", "s", str(-2**63)) == (
        "value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807")


def test_srandmember_resp3_array(raw):
    raw.cmd("HELLO", "3")
    raw.cmd("SADD", "s", "a", "b")
    got = raw.cmd("SRANDMEMBER", "s", 5)
    assert not isinstance(got, Set) and sorted(got) == [b"a", b"b"]


# ---------------------------------------------------------------------------- SMOVE

def test_smove(r):
    r.execute_command("SADD", "src", "a", "b")
    r.execute_command("SADD", "dst", "c")
    assert r.execute_command("SMOVE", "src", "dst", "a") == 1
    assert members(r, "src") == ["b"] and members(r, "dst") == ["a", "c"]
    assert r.execute_command("SMOVE", "src", "dst", "x") == 0
    assert r.execute_command("SMOVE", "src", "new", "b") == 1
    assert r.exists("src") == 0 and members(r, "new") == ["b"]
    assert r.execute_command("SMOVE", "nokey", "dst", "a") == 0
    assert r.execute_command("SMOVE", "dst", "dst", "a") == 1
    assert r.execute_command("SMOVE", "dst", "dst", "zz") == 0
    assert members(r, "dst") == ["a", "c"]


def test_smove_wrongtype(r):
    r.set("str", "x")
    r.execute_command("SADD", "s", "a")
    assert err(r, "SMOVE", "str", "s", "a") == WRONGTYPE
    assert err(r, "SMOVE", "s", "str", "a") == WRONGTYPE
    assert err(r, "SMOVE", "s", "str", "zz") == WRONGTYPE
    assert r.execute_command("SMOVE", "nokey", "str", "a") == 0
    assert members(r, "s") == ["a"]


def test_smove_many_keys(r):
    for i in range(20):
        r.execute_command("SADD", f"src{i}", "m", f"x{i}")
        assert r.execute_command("SMOVE", f"src{i}", f"dst{i}", "m") == 1
        assert r.execute_command("SISMEMBER", f"dst{i}", "m") == 1
        assert r.execute_command("SISMEMBER", f"src{i}", "m") == 0


# ---------------------------------------------------------------------------- algebra

@pytest.fixture
def abc(r):
    r.execute_command("SADD", "a", "1", "2", "3", "4", "x")
    r.execute_command("SADD", "b", "2", "3", "x", "y")
    r.execute_command("SADD", "c", "3", "x", "z")
    return r


def test_sinter(abc):
    r = abc
    assert sorted(r.execute_command("SINTER", "a", "b", "c")) == ["3", "x"]
    assert sorted(r.execute_command("SINTER", "a")) == ["1", "2", "3", "4", "x"]
    assert r.execute_command("SINTER", "a", "nokey") == []
    assert r.execute_command("SINTER", "nokey") == []


def test_sunion_sdiff(abc):
    r = abc
    assert sorted(r.execute_command("SUNION", "a", "b", "c", "nokey")) == \
        ["1", "2", "3", "4", "x", "y", "z"]
    assert sorted(r.execute_command("SDIFF", "a", "b", "c")) == ["1", "4"]
    assert sorted(r.execute_command("SDIFF", "a", "nokey")) == ["1", "2", "3", "4", "x"]
    assert r.execute_command("SDIFF", "nokey", "a") == []
    assert r.execute_command("SDIFF", "a", "a") == []


def test_algebra_many_keys(r):
    for i in range(20):
        r.execute_command("SADD", f"k{i}", "common", f"own{i}", *range(i))
    keys = [f"k{i}" for i in range(20)]
    assert r.execute_command("SINTER", *keys) == ["common"]
    assert len(r.execute_command("SUNION", *keys)) == 1 + 20 + 19
    assert sorted(r.execute_command("SDIFF", *keys[::-1])) == sorted(
        ["own19", "18"])
    assert r.execute_command("SINTERCARD", 20, *keys) == 1
    assert r.execute_command("SUNIONSTORE", "dst", *keys) == 40
    assert r.execute_command("SCARD", "dst") == 40


def test_store_commands(abc):
    r = abc
    assert r.execute_command("SINTERSTORE", "d", "a", "b") == 3
    assert members(r, "d") == ["2", "3", "x"]
    assert r.execute_command("SUNIONSTORE", "d", "b", "c") == 5
    assert members(r, "d") == ["2", "3", "x", "y", "z"]
    assert r.execute_command("SDIFFSTORE", "d", "a", "b") == 2
    assert members(r, "d") == ["1", "4"]
    assert r.execute_command("SINTERSTORE", "a", "a", "c") == 2  # destination among sources
    assert members(r, "a") == ["3", "x"]


def test_store_empty_deletes_and_overwrites(abc):
    r = abc
    r.set("d", "string")
    r.expire("d", 100)
    assert r.execute_command("SUNIONSTORE", "d", "c") == 3
    assert r.execute_command("TYPE", "d") == "set"
    assert r.execute_command("TTL", "d") == -1
    assert r.execute_command("SINTERSTORE", "d", "a", "nokey") == 0
    assert r.exists("d") == 0
    assert r.execute_command("SDIFFSTORE", "d", "c", "c") == 0
    assert r.exists("d") == 0


def test_intset_results(r):
    r.execute_command("SADD", "a", 1, 2, 3)
    r.execute_command("SADD", "b", 2, 3, 4)
    r.execute_command("SUNIONSTORE", "d", "a", "b")
    assert r.execute_command("OBJECT", "ENCODING", "d") == "intset"
    r.execute_command("SADD", "c", "x")
    r.execute_command("SUNIONSTORE", "d", "a", "c")
    assert r.execute_command("OBJECT", "ENCODING", "d") == "hashtable"


def test_algebra_wrongtype(abc):
    r = abc
    r.set("str", "x")
    for cmd in ("SINTER", "SUNION", "SDIFF"):
        assert err(r, cmd, "a", "str") == WRONGTYPE
        assert err(r, cmd, "str", "a") == WRONGTYPE
    assert err(r, "SINTER", "nokey", "str") == WRONGTYPE
    for cmd in ("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"):
        assert err(r, cmd, "d", "a", "str") == WRONGTYPE
        assert err(r, cmd, "a", "str") == WRONGTYPE
    assert members(r, "a") == ["1", "2", "3", "4", "x"]
    assert r.exists("d") == 0
    assert r.execute_command("SUNIONSTORE", "str", "a") == 5  # the destination's type is free


def test_algebra_resp3_set(raw):
    raw.cmd("HELLO", "3")
    raw.cmd("SADD", "a", "1", "2")
    raw.cmd("SADD", "b", "2")
    for cmd in ("SINTER", "SUNION", "SDIFF"):
        assert isinstance(raw.cmd(cmd, "a", "b"), Set)
    assert isinstance(raw.cmd("SINTER", "a", "nokey"), Set)


def test_sintercard(abc):
    r = abc
    assert r.execute_command("SINTERCARD", 3, "a", "b", "c") == 2
    assert r.execute_command("SINTERCARD", 2, "a", "b") == 3
    assert r.execute_command("SINTERCARD", 2, "a", "b", "LIMIT", 2) == 2
    assert r.execute_command("SINTERCARD", 2, "a", "b", "LIMIT", 0) == 3
    assert r.execute_command("SINTERCARD", 2, "a", "b", "limit", 10) == 3
    assert r.execute_command("SINTERCARD", 2, "a", "nokey") == 0
    assert r.execute_command("SINTERCARD", 1, "nokey") == 0


def test_sintercard_errors(abc):
    r = abc
    r.set("str", "x")
    assert err(r, "SINTERCARD", 0, "a") == "numkeys should be greater than 0"
    assert err(r, "SINTERCARD", "x", "a") == "numkeys should be greater than 0"
    assert err(r, "SINTERCARD", 3, "a") == "Number of keys can't be greater than number of args"
    assert err(r, "SINTERCARD", 1, "a", "LIMIT", -1) == "LIMIT can't be negative"
    assert err(r, "SINTERCARD", 1, "a", "LIMIT", "x") == "LIMIT can't be negative"
    assert err(r, "SINTERCARD", 1, "a", "LIMIT") == SYNTAX
    assert err(r, "SINTERCARD", 1, "a", "foo") == SYNTAX
    assert err(r, "SINTERCARD", 2, "a", "str") == WRONGTYPE


# ---------------------------------------------------------------------------- SSCAN

def full_sscan(r, key, *opts):
    cursor, seen = "0", set()
    while True:
        cursor, items = r.execute_command("SSCAN", key, cursor, *opts)
        seen.update(items)
        if cursor == "0":
            return seen


def test_sscan(r):
    r.execute_command("SADD", "ints", 3, 1, 2)
    assert r.execute_command("SSCAN", "ints", 0) == ["0", ["1", "2", "3"]]
    assert r.execute_command("SSCAN", "ints", 0, "MATCH", "2*") == ["0", ["2"]]
    big = {f"m{i}" for i in range(1000)}
    r.execute_command("SADD", "big", *big)
    assert full_sscan(r, "big") == big
    assert full_sscan(r, "big", "COUNT", 7) == big
    assert full_sscan(r, "big", "MATCH", "m9?") == {f"m9{i}" for i in range(10)}
    cursor, items = r.execute_command("SSCAN", "big", 0, "COUNT", 20)
    assert cursor != "0" and 0 < len(items) < 1000
    assert r.execute_command("SSCAN", "nokey", 0) == ["0", []]


def test_sscan_errors(r):
    r.execute_command("SADD", "s", "a")
    r.set("str", "x")
    assert err(r, "SSCAN", "s", "x") == "invalid cursor"
    assert err(r, "SSCAN", "s", 0, "COUNT", 0) == SYNTAX
    assert err(r, "SSCAN", "s", 0, "COUNT", "x") == NOT_INT
    assert err(r, "SSCAN", "s", 0, "MATCH") == SYNTAX
    assert err(r, "SSCAN", "str", 0) == WRONGTYPE


# ---------------------------------------------------------------------------- types, keys

@pytest.mark.parametrize("cmd", [
    ("SADD", "str", "a"), ("SREM", "str", "a"), ("SMEMBERS", "str"), ("SISMEMBER", "str", "a"),
    ("SMISMEMBER", "str", "a"), ("SCARD", "str"), ("SPOP", "str"), ("SPOP", "str", "2"),
    ("SRANDMEMBER", "str"), ("SRANDMEMBER", "str", "2"), ("SSCAN", "str", "0"),
    ("SINTER", "str"), ("SUNION", "str"), ("SDIFF", "str"), ("SINTERCARD", "1", "str"),
])
def test_wrongtype(r, cmd):
    r.set("str", "x")
    assert err(r, *cmd) == WRONGTYPE
    assert r.get("str") == "x"


def test_copy_and_memory_usage(r):
    r.execute_command("SADD", "s", *[f"m{i}" for i in range(100)])
    assert r.execute_command("COPY", "s", "s2") == 1
    r.execute_command("SREM", "s", "m0")
    assert r.execute_command("SCARD", "s2") == 100
    r.execute_command("SADD", "i", 1, 2, 3)
    assert r.execute_command("COPY", "i", "i2") == 1
    assert members(r, "i2") == ["1", "2", "3"]
    assert r.execute_command("OBJECT", "ENCODING", "i2") == "intset"
    assert 0 < r.execute_command("MEMORY", "USAGE", "i") < r.execute_command(
        "MEMORY", "USAGE", "s2")


@pytest.mark.parametrize("items", [[b"1", b"2", b"-70000"], [b"a", b"b"],
                                   [str(i).encode() for i in range(600)]])
def test_dump_restore_roundtrip(rb, items):
    rb.sadd("s", *items)
    assert rb.restore("s2", 0, rb.dump("s"))
    assert rb.smembers("s2") == set(items)
    assert rb.type("s2") == b"set"


def test_watch_sees_sadd(server, r):
    other = server.client()
    r.execute_command("SADD", "s", "a")
    p = r.pipeline()
    p.watch("s")
    other.sadd("s", "b")
    p.multi()
    p.scard("s")
    with pytest.raises(redis.WatchError):
        p.execute()
    other.close()


def test_multi_exec_with_sets(r):
    p = r.pipeline()
    p.sadd("x", "1", "2")
    p.sadd("y", "2", "3")
    p.sinterstore("z", "x", "y")
    p.smove("x", "y", "1")
    p.smembers("z")
    res = p.execute()
    assert res[:4] == [2, 2, 1, 1]
    assert res[4] == ["2"]


# ---------------------------------------------------------------------------- interop

@pytest.fixture(scope="module")
def redis_server():
    from conftest import SERVER_KIND, Server
    import os
    if SERVER_KIND == "redis":
        pytest.skip("interop test: needs our server and redis-server")
    if not os.path.exists(os.environ.get("REDIS_BIN", "/usr/bin/redis-server")):
        pytest.skip("redis-server not installed")
    s = Server(kind="redis")
    yield s
    s.stop()


@pytest.mark.parametrize("items", [
    [b"1", b"-2", b"300", b"-70000", b"5000000000", b"-9223372036854775808"],  # intset (11)
    [b"a", b"1", b""],
    [str(i).encode() for i in range(600)],
])
def test_dump_interop_with_redis(rb, redis_server, items):
    """Our type-2 payloads load in Redis; Redis's intset (11) and type-2 payloads load here."""
    theirs = redis_server.client(decode_responses=False)
    theirs.flushall()
    rb.sadd("s", *items)
    assert theirs.restore("s", 0, rb.dump("s"))
    assert theirs.smembers("s") == set(items)
    assert rb.restore("back", 0, theirs.dump("s"))
    assert rb.smembers("back") == set(items)
    theirs.close()
