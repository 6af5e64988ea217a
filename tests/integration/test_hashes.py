"""
Integration tests for the hashes module: HSET/HSETNX/HMSET, HGET/HMGET, HDEL, HLEN, HSTRLEN,
HEXISTS, HGETALL/HKEYS/HVALS, HINCRBY/HINCRBYFLOAT, HRANDFIELD, HSCAN, the listpack ->
hashtable conversion, COPY/MEMORY USAGE/DUMP/RESTORE of hashes, errors and RESP3 replies.
Every expectation holds on redis-server 7.0 too (DF_TEST_SERVER=redis).
"""
import pytest
import redis

from resp import Error
from helpers import WRONGTYPE, NOT_INT, SYNTAX, err, plain


@pytest.fixture
def r(r):
    return plain(r)


def pairs(flat):
    return dict(zip(flat[0::2], flat[1::2]))


# ---------------------------------------------------------------------------- set / get

def test_hset_hget(r):
    assert r.execute_command("HSET", "h", "a", "1", "b", "2") == 2
    assert r.execute_command("HSET", "h", "a", "10", "c", "3") == 1
    assert r.execute_command("HGET", "h", "a") == "10"
    assert r.execute_command("HGET", "h", "nofield") is None
    assert r.execute_command("HGET", "nokey", "a") is None
    assert r.execute_command("HLEN", "h") == 3
    assert r.execute_command("HLEN", "nokey") == 0
    assert r.execute_command("TYPE", "h") == "hash"


def test_hset_arity(r):
    assert err(r, "HSET", "h", "a") == "wrong number of arguments for 'hset' command"
    assert err(r, "HSET", "h", "a", "1", "b") == "wrong number of arguments for 'hset' command"
    assert err(r, "HMSET", "h", "a", "1", "b") == "wrong number of arguments for 'hmset' command"
    assert r.exists("h") == 0


def test_hmset_hmget(r):
    assert r.execute_command("HMSET", "h", "a", "1", "b", "2") == "OK"
    assert r.execute_command("HMGET", "h", "a", "x", "b") == ["1", None, "2"]
    assert r.execute_command("HMGET", "nokey", "a", "b") == [None, None]


def test_hsetnx(r):
    assert r.execute_command("HSETNX", "h", "a", "1") == 1
    assert r.execute_command("HSETNX", "h", "a", "2") == 0
    assert r.execute_command("HGET", "h", "a") == "1"


def test_hdel_deletes_empty_key(r):
    r.execute_command("HSET", "h", "a", "1", "b", "2", "c", "3")
    assert r.execute_command("HDEL", "h", "a", "x", "a") == 1
    assert r.execute_command("HDEL", "nokey", "a") == 0
    assert r.execute_command("HDEL", "h", "b", "c") == 2
    assert r.exists("h") == 0


def test_hstrlen_hexists(r):
    r.execute_command("HSET", "h", "a", "hello", "n", "-123")
    assert r.execute_command("HSTRLEN", "h", "a") == 5
    assert r.execute_command("HSTRLEN", "h", "n") == 4
    assert r.execute_command("HSTRLEN", "h", "x") == 0
    assert r.execute_command("HSTRLEN", "nokey", "x") == 0
    assert r.execute_command("HEXISTS", "h", "a") == 1
    assert r.execute_command("HEXISTS", "h", "x") == 0
    assert r.execute_command("HEXISTS", "nokey", "x") == 0


def test_hgetall_hkeys_hvals(r):
    r.execute_command("HSET", "h", "a", "1", "b", "2", "c", "3")
    assert pairs(r.execute_command("HGETALL", "h")) == {"a": "1", "b": "2", "c": "3"}
    assert sorted(r.execute_command("HKEYS", "h")) == ["a", "b", "c"]
    assert sorted(r.execute_command("HVALS", "h")) == ["1", "2", "3"]
    assert r.execute_command("HGETALL", "nokey") == []
    assert r.execute_command("HKEYS", "nokey") == []
    assert r.execute_command("HVALS", "nokey") == []


def test_hgetall_resp3_map(raw):
    raw.cmd("HELLO", "3")
    raw.cmd("HSET", "h", "a", "1", "b", "2")
    assert raw.cmd("HGETALL", "h") == {b"a": b"1", b"b": b"2"}
    assert raw.cmd("HGETALL", "nokey") == {}
    raw.send(b"*2\r\n$7\r\nHGETALL\r\n$1\r\nh\r\n")
    assert raw.read_line_raw() == b"%2"

def test_hget_resp3_null(raw):
    raw.cmd("HELLO", "3")
    raw.send(b"*3\r\n$4\r\nHGET\r\n$5\r\nnokey\r\n$1\r\na\r\n")
    assert raw.read_line_raw() == b"_"


def test_binary_fields(rb):
    f, v = b"\x00\xff\r\n", b"\x01" * 100
    assert rb.hset("h", f, v) == 1
    assert rb.hget("h", f) == v
    assert rb.hset("h", b"", b"") == 1
    assert rb.hget("h", b"") == b""
    assert rb.hlen("h") == 2


# ---------------------------------------------------------------------------- encodings

def test_encoding_listpack_to_hashtable_by_count(r):
    # hash-max-listpack-entries: 512 built in (redis.conf's example says 128)
    r.execute_command("HSET", "h", *sum(([f"f{i}", "v"] for i in range(512)), []))
    assert r.execute_command("OBJECT", "ENCODING", "h") == "listpack"
    r.execute_command("HSET", "h", "f512", "v")
    assert r.execute_command("OBJECT", "ENCODING", "h") == "hashtable"
    assert r.execute_command("HLEN", "h") == 513
    for i in range(513):
        assert r.execute_command("HGET", "h", f"f{i}") == "v"


def test_encoding_by_length(r):
    r.execute_command("HSET", "h", "a", "x" * 64)
    assert r.execute_command("OBJECT", "ENCODING", "h") == "listpack"
    r.execute_command("HSET", "h", "b", "x" * 65)
    assert r.execute_command("OBJECT", "ENCODING", "h") == "hashtable"
    r.execute_command("HSET", "h2", "f" * 65, "1")
    assert r.execute_command("OBJECT", "ENCODING", "h2") == "hashtable"
    assert r.execute_command("HGET", "h2", "f" * 65) == "1"


def test_big_hash_ops(r):
    n = 2000
    for i in range(0, n, 100):
        args = []
        for j in range(i, i + 100):
            args += [f"f{j}", f"v{j}"]
        r.execute_command("HSET", "big", *args)
    assert r.execute_command("HLEN", "big") == n
    assert r.execute_command("HDEL", "big", *[f"f{j}" for j in range(0, n, 2)]) == n // 2
    assert r.execute_command("HLEN", "big") == n // 2
    got = pairs(r.execute_command("HGETALL", "big"))
    assert got == {f"f{j}": f"v{j}" for j in range(1, n, 2)}


# ---------------------------------------------------------------------------- incr

def test_hincrby(r):
    assert r.execute_command("HINCRBY", "h", "n", 5) == 5
    assert r.execute_command("HINCRBY", "h", "n", -7) == -2
    assert r.execute_command("HGET", "h", "n") == "-2"
    r.execute_command("HSET", "h", "s", "abc", "big", str(2**63 - 1), "sp", " 1")
    assert err(r, "HINCRBY", "h", "s", 1) == "hash value is not an integer"
    assert err(r, "HINCRBY", "h", "sp", 1) == "hash value is not an integer"
    assert err(r, "HINCRBY", "h", "big", 1) == "increment or decrement would overflow"
    assert err(r, "HINCRBY", "h", "n", "x") == NOT_INT
    assert err(r, "HINCRBY", "h", "n", "1.5") == NOT_INT
    assert err(r, "HINCRBY", "nokey", "n", "x") == NOT_INT
    assert r.exists("nokey") == 0


def test_hincrby_error_leaves_no_key(r):
    r.set("str", "x")
    assert err(r, "HINCRBY", "str", "f", 1) == WRONGTYPE
    assert err(r, "HINCRBYFLOAT", "str", "f", 1) == WRONGTYPE


def test_hincrbyfloat(r):
    assert r.execute_command("HINCRBYFLOAT", "h", "f", "10.5") == "10.5"
    assert r.execute_command("HINCRBYFLOAT", "h", "f", "0.1") == "10.6"
    assert r.execute_command("HINCRBYFLOAT", "h", "f", "-10.6") == "0"
    assert r.execute_command("HINCRBYFLOAT", "h", "f", "5.0e3") == "5000"
    r.execute_command("HSET", "h", "i", "3", "s", "abc")
    assert r.execute_command("HINCRBYFLOAT", "h", "i", "1.5") == "4.5"
    assert err(r, "HINCRBYFLOAT", "h", "s", "1") == "hash value is not a float"
    assert err(r, "HINCRBYFLOAT", "h", "f", "abc") == "value is not a valid float"
    assert err(r, "HINCRBYFLOAT", "h", "f", "inf") == "value is NaN or Infinity"
    assert err(r, "HINCRBYFLOAT", "nokey", "f", "x") == "value is not a valid float"


# ---------------------------------------------------------------------------- HRANDFIELD

def test_hrandfield_single(r):
    assert r.execute_command("HRANDFIELD", "nokey") is None
    r.execute_command("HSET", "h", "a", "1", "b", "2", "c", "3")
    seen = {r.execute_command("HRANDFIELD", "h") for _ in range(200)}
    assert seen == {"a", "b", "c"}


@pytest.mark.parametrize("size", [3, 300])
def test_hrandfield_count(r, size):
    fields = {f"f{i}": f"v{i}" for i in range(size)}
    r.execute_command("HSET", "h", *[x for kv in fields.items() for x in kv])
    got = r.execute_command("HRANDFIELD", "h", 2)
    assert len(got) == 2 and len(set(got)) == 2 and set(got) <= set(fields)
    got = r.execute_command("HRANDFIELD", "h", size + 5)
    assert sorted(got) == sorted(fields)
    got = r.execute_command("HRANDFIELD", "h", -(size * 4))
    assert len(got) == size * 4 and set(got) <= set(fields)
    got = r.execute_command("HRANDFIELD", "h", 2, "WITHVALUES")
    assert len(got) == 4 and all(fields[f] == v for f, v in pairs(got).items())
    got = r.execute_command("HRANDFIELD", "h", -5, "withvalues")
    assert len(got) == 10 and all(fields[f] == v for f, v in zip(got[0::2], got[1::2]))
    assert r.execute_command("HRANDFIELD", "h", 0) == []
    assert r.execute_command("HRANDFIELD", "nokey", 5) == []
    assert r.execute_command("HRANDFIELD", "nokey", -5, "WITHVALUES") == []


def test_hrandfield_errors(r):
    r.execute_command("HSET", "h", "a", "1")
    assert err(r, "HRANDFIELD", "h", "x") == NOT_INT
    assert err(r, "HRANDFIELD", "h", 1, "foo") == SYNTAX
    assert err(r, "HRANDFIELD", "h", 1, "withvalues", "x") == SYNTAX
    assert err(r, "HRANDFIELD", "h", str(-2**63)) == (
        "value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807")
    assert err(r, "HRANDFIELD", "h", str(-2**63 + 1), "WITHVALUES") == "value is out of range"
    assert err(r, "HRANDFIELD", "h", str(2**62), "WITHVALUES") == "value is out of range"


def test_hrandfield_resp3(raw):
    raw.cmd("HELLO", "3")
    raw.cmd("HSET", "h", "a", "1", "b", "2")
    got = raw.cmd("HRANDFIELD", "h", 5, "WITHVALUES")
    assert sorted(got) == [[b"a", b"1"], [b"b", b"2"]]
    got = raw.cmd("HRANDFIELD", "h", -3, "WITHVALUES")
    assert len(got) == 3 and all(p in ([b"a", b"1"], [b"b", b"2"]) for p in got)
    assert raw.cmd("HRANDFIELD", "h", 2) in ([b"a", b"b"], [b"b", b"a"])


# ---------------------------------------------------------------------------- HSCAN

def full_hscan(r, key, **kw):
    cursor, seen = "0", {}
    while True:
        cursor, items = r.execute_command("HSCAN", key, cursor, *sum(
            ([k.upper(), v] for k, v in kw.items()), []))
        seen.update(pairs(items))
        if cursor == "0":
            return seen


def test_hscan_small_and_big(r):
    r.execute_command("HSET", "small", "a", "1", "b", "2")
    assert r.execute_command("HSCAN", "small", 0) == ["0", ["a", "1", "b", "2"]]
    big = {f"f{i}": str(i) for i in range(1000)}
    r.execute_command("HSET", "big", *[x for kv in big.items() for x in kv])
    assert full_hscan(r, "big") == big
    assert full_hscan(r, "big", count=3) == big
    assert full_hscan(r, "big", match="f1*") == {k: v for k, v in big.items()
                                                 if k.startswith("f1")}
    cursor, items = r.execute_command("HSCAN", "big", 0, "COUNT", 50)
    assert cursor != "0" and 0 < len(items) // 2 < 1000


def test_hscan_match_patterns(r):
    r.execute_command("HSET", "h", "hello", "1", "hallo", "2", "hxllo", "3", "h*llo", "4",
                      "heeeello", "5")
    def m(p):
        return sorted(r.execute_command("HSCAN", "h", 0, "MATCH", p)[1][0::2])
    assert m("h?llo") == ["h*llo", "hallo", "hello", "hxllo"]
    assert m("h[ae]llo") == ["hallo", "hello"]
    assert m("h[^e]llo") == ["h*llo", "hallo", "hxllo"]
    assert m("h[a-b]llo") == ["hallo"]
    assert m("h\\*llo") == ["h*llo"]
    assert m("h*o") == ["h*llo", "hallo", "heeeello", "hello", "hxllo"]
    assert m("*ee*") == ["heeeello"]
    assert m("nomatch") == []


def test_hscan_errors(r):
    r.execute_command("HSET", "h", "a", "1")
    assert err(r, "HSCAN", "h", "x") == "invalid cursor"
    assert err(r, "HSCAN", "nokey", "x") == "invalid cursor"
    assert r.execute_command("HSCAN", "nokey", 0, "COUNT", 0) == ["0", []]
    assert err(r, "HSCAN", "h", 0, "COUNT", 0) == SYNTAX
    assert err(r, "HSCAN", "h", 0, "COUNT", "x") == NOT_INT
    assert err(r, "HSCAN", "h", 0, "COUNT") == SYNTAX
    assert err(r, "HSCAN", "h", 0, "TYPE", "hash") == SYNTAX
    assert err(r, "HSCAN", "h", 0, "FOO", "bar") == SYNTAX
    r.set("s", "x")
    assert err(r, "HSCAN", "s", 0) == WRONGTYPE


# ---------------------------------------------------------------------------- types, keys

@pytest.mark.parametrize("cmd", [
    ("HSET", "s", "a", "1"), ("HSETNX", "s", "a", "1"), ("HMSET", "s", "a", "1"),
    ("HGET", "s", "a"), ("HMGET", "s", "a"), ("HDEL", "s", "a"), ("HLEN", "s"),
    ("HSTRLEN", "s", "a"), ("HEXISTS", "s", "a"), ("HGETALL", "s"), ("HKEYS", "s"),
    ("HVALS", "s"), ("HINCRBY", "s", "a", "1"), ("HINCRBYFLOAT", "s", "a", "1"),
    ("HRANDFIELD", "s"), ("HRANDFIELD", "s", "2"), ("HSCAN", "s", "0"),
])
def test_wrongtype(r, cmd):
    r.set("s", "x")
    assert err(r, *cmd) == WRONGTYPE
    assert r.get("s") == "x"


def test_hash_ops_on_other_types(r):
    r.execute_command("HSET", "h", "a", "1")
    assert err(r, "GET", "h") == WRONGTYPE
    assert err(r, "LPUSH", "h", "x") == WRONGTYPE


def test_copy_and_memory_usage(r):
    r.execute_command("HSET", "h", *sum(([f"f{i}", "v" * 10] for i in range(300)), []))
    assert r.execute_command("COPY", "h", "h2") == 1
    r.execute_command("HSET", "h", "f0", "changed")
    assert r.execute_command("HGET", "h2", "f0") == "v" * 10
    assert r.execute_command("HLEN", "h2") == 300
    assert r.execute_command("MEMORY", "USAGE", "h2") > 300 * 10
    r.execute_command("HSET", "small", "a", "1")
    assert r.execute_command("COPY", "small", "small2") == 1
    assert r.execute_command("HGETALL", "small2") == ["a", "1"]
    assert 0 < r.execute_command("MEMORY", "USAGE", "small") < r.execute_command(
        "MEMORY", "USAGE", "h2")


@pytest.mark.parametrize("size", [3, 300])
def test_dump_restore_roundtrip(rb, size):
    data = {f"f{i}".encode(): f"v{i}".encode() for i in range(size)}
    rb.hset("h", mapping=data)
    payload = rb.dump("h")
    assert rb.restore("h2", 0, payload)
    assert rb.hgetall("h2") == data
    assert rb.type("h2") == b"hash"


def test_rename_keeps_hash(r):
    r.execute_command("HSET", "h", "a", "1")
    r.execute_command("RENAME", "h", "h2")
    assert r.execute_command("HGET", "h2", "a") == "1"


def test_watch_sees_hset(server, r):
    other = server.client()
    r.execute_command("HSET", "h", "a", "1")
    p = r.pipeline()
    p.watch("h")
    other.hset("h", "a", "2")
    p.multi()
    p.hget("h", "a")
    with pytest.raises(redis.WatchError):
        p.execute()
    other.close()


def test_expire_on_hash(r):
    r.execute_command("HSET", "h", "a", "1")
    assert r.execute_command("EXPIRE", "h", 100) == 1
    r.execute_command("HSET", "h", "b", "2")
    assert 0 < r.execute_command("TTL", "h") <= 100


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


@pytest.mark.parametrize("size", [1, 20, 600])
def test_dump_interop_with_redis(rb, redis_server, size):
    """Our type-4 payloads load in Redis; Redis's listpack (16) and type-4 payloads load here."""
    theirs = redis_server.client(decode_responses=False)
    theirs.flushall()
    data = {f"f{i}".encode(): (str(i) if i % 2 else "v" * (i % 70)).encode()
            for i in range(size)}
    rb.hset("h", mapping=data)
    assert theirs.restore("h", 0, rb.dump("h"))
    assert theirs.hgetall("h") == data
    assert rb.restore("back", 0, theirs.dump("h"))
    assert rb.hgetall("back") == data
    theirs.close()
