"""
The Redis 7.0 sorted-set commands whose keys may live in several shards: ZMPOP, BZMPOP,
ZINTERCARD and ZRANGESTORE (zsets module). Every test runs against a server with at least
three threads, so the keys of one command usually land in different shards, and also with
DF_TEST_THREADS threads when that is fewer (one shard: the phases run inline). Replies and errors are Redis's, checked on the wire
for RESP2 and RESP3; every expectation holds on redis-server 7.0 (DF_TEST_SERVER=redis).
Blocking tests check outcomes and order, never how fast something happened.
"""
import math
import threading

import pytest

from conftest import per_thread_count_server, callbackless_client
from helpers import WRONGTYPE, SYNTAX, blocked_clients, wait_blocked
from resp import Error
# The blocked waiters come from test_blocking.
from test_blocking import block, err, waiters  # noqa: F401 (fixtures)

NOT_INT = "value is not an integer or out of range"
NUMKEYS = "numkeys should be greater than 0"
COUNT = "count should be greater than 0"
KEYS = [f"zm:{i}" for i in range(8)]  # spread over the shards


server = per_thread_count_server()


r = callbackless_client()


def zall(r, key):
    return r.execute_command("ZRANGE", key, 0, -1, "WITHSCORES")


def wire(raw, *cmd):
    """Send one command on a raw connection and return its complete reply, undecoded."""
    raw.send(b"".join([b"*%d\r\n" % len(cmd)] +
                      [b"$%d\r\n%s\r\n" % (len(str(a)), str(a).encode()) for a in cmd]))
    out = []

    def one():
        line = raw.read_line_raw()
        out.append(line)
        kind, n = line[:1], line[1:]
        if kind == b"$" and int(n) >= 0:
            out.append(raw._bytes(int(n)))
        elif kind in (b"*", b"%") and int(n) > 0:
            for _ in range(int(n) * (2 if kind == b"%" else 1)):
                one()

    one()
    return b"\r\n".join(out) + b"\r\n"


# ------------------------------------------------------------------------------ ZMPOP

def test_zmpop_takes_the_first_nonempty_set_in_argument_order(r):
    r.execute_command("ZADD", KEYS[6], 1, "x", 2, "y", 3, "z")
    r.execute_command("ZADD", KEYS[2], 5, "a", 6, "b")
    assert r.execute_command("ZMPOP", len(KEYS), *KEYS, "MIN") == [KEYS[2], [["a", "5"]]]
    assert r.execute_command("ZMPOP", len(KEYS), *KEYS, "max", "COUNT", 5) == \
        [KEYS[2], [["b", "6"]]]
    assert r.execute_command("EXISTS", KEYS[2]) == 0, "the emptied set is deleted"
    assert r.execute_command("ZMPOP", len(KEYS), *KEYS, "MAX", "count", 2) == \
        [KEYS[6], [["z", "3"], ["y", "2"]]]
    assert r.execute_command("ZMPOP", len(KEYS), *KEYS, "MIN", "COUNT", 9223372036854775807) \
        == [KEYS[6], [["x", "1"]]]
    assert r.execute_command("ZMPOP", 2, "zm:none", "zm:none2", "MIN") is None
    assert r.execute_command("DBSIZE") == 0


def test_zmpop_wrong_type_only_before_the_first_set(r):
    r.set("zm:str", "v")
    r.execute_command("ZADD", "zm:z", 1, "a", 2, "b")
    assert err(r, "ZMPOP", 2, "zm:str", "zm:z", "MIN") == WRONGTYPE
    assert err(r, "ZMPOP", 3, "zm:missing", "zm:str", "zm:z", "MIN") == WRONGTYPE
    assert err(r, "ZMPOP", 1, "zm:str", "MAX", "COUNT", 3) == WRONGTYPE
    assert zall(r, "zm:z") == ["a", "1", "b", "2"], "an error pops nothing"
    assert r.execute_command("ZMPOP", 2, "zm:z", "zm:str", "MIN") == ["zm:z", [["a", "1"]]]
    r.execute_command("RPUSH", "zm:list", "e")
    assert err(r, "ZMPOP", 2, "zm:list", "zm:z", "MIN") == WRONGTYPE


def test_zmpop_errors(r):
    r.execute_command("ZADD", "zm:z", 1, "a")
    assert "wrong number of arguments" in err(r, "ZMPOP", 1, "zm:z")
    assert "wrong number of arguments" in err(r, "ZMPOP")
    for bad in (0, -1, "x", "1.5", "9223372036854775808"):
        assert err(r, "ZMPOP", bad, "zm:z", "MIN") == NUMKEYS
    assert err(r, "ZMPOP", 3, "zm:z", "MIN") == SYNTAX
    assert err(r, "ZMPOP", 2, "zm:z", "MIN") == SYNTAX, "no room for MIN|MAX"
    assert err(r, "ZMPOP", 9223372036854775807, "zm:z", "MIN") == SYNTAX
    assert err(r, "ZMPOP", 1, "zm:z", "MINIMUM") == SYNTAX
    assert err(r, "ZMPOP", 1, "zm:z", "LEFT") == SYNTAX
    for bad in (0, -1, "x", "9223372036854775808"):
        assert err(r, "ZMPOP", 1, "zm:z", "MIN", "COUNT", bad) == COUNT
    assert err(r, "ZMPOP", 1, "zm:z", "MIN", "COUNT") == SYNTAX
    assert err(r, "ZMPOP", 1, "zm:z", "MIN", "COUNT", 1, "COUNT", 1) == SYNTAX
    assert err(r, "ZMPOP", 1, "zm:z", "MIN", "foo") == SYNTAX
    assert err(r, "ZMPOP", 1, "zm:z", "MIN", "foo", "COUNT", 0) == SYNTAX
    assert err(r, "ZMPOP", 1, "zm:z", "MIN", "COUNT", 0, "foo") == COUNT
    r.set("zm:str", "v")
    assert err(r, "ZMPOP", 1, "zm:str", "MID") == SYNTAX, "syntax before the type"
    assert zall(r, "zm:z") == ["a", "1"]


def test_zmpop_on_the_wire(server):
    raw = server.raw()
    raw.cmd("FLUSHALL")
    raw.cmd("ZADD", "zw", "1.5", "a", 2, "b", "-inf", "c")
    assert wire(raw, "ZMPOP", 1, "zw", "MIN", "COUNT", 2) == \
        b"*2\r\n$2\r\nzw\r\n*2\r\n*2\r\n$1\r\nc\r\n$4\r\n-inf\r\n*2\r\n$1\r\na\r\n$3\r\n1.5\r\n"
    assert wire(raw, "ZMPOP", 1, "nozw", "MIN") == b"*-1\r\n"
    raw.cmd("ZADD", "zw", 3, "d")
    raw.cmd("HELLO", 3)
    assert wire(raw, "ZMPOP", 1, "zw", "MAX", "COUNT", 5) == \
        b"*2\r\n$2\r\nzw\r\n*2\r\n*2\r\n$1\r\nd\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    assert wire(raw, "ZMPOP", 2, "nozw", "zw", "MIN") == b"_\r\n"
    raw.cmd("ZADD", "zw", "inf", "e")
    assert raw.cmd("ZMPOP", 1, "zw", "MIN") == [b"zw", [[b"e", math.inf]]]
    raw.close()


def test_zmpop_inside_multi(r):
    r.execute_command("ZADD", "zm:a", 1, "x")
    p = r.pipeline(transaction=True)
    p.execute_command("ZMPOP", 2, "zm:b", "zm:a", "MIN")
    p.execute_command("ZMPOP", 2, "zm:b", "zm:a", "MIN")
    p.execute_command("ZADD", "zm:b", 2, "y")
    p.execute_command("ZMPOP", 2, "zm:b", "zm:a", "MAX", "COUNT", 3)
    assert p.execute() == [["zm:a", [["x", "1"]]], None, 1, ["zm:b", [["y", "2"]]]]


# ------------------------------------------------------------------------------ BZMPOP

def test_bzmpop_replies_at_once_when_it_can(r):
    r.execute_command("ZADD", KEYS[5], 1, "a", 2, "b", 3, "c")
    assert r.execute_command("BZMPOP", 0, 3, KEYS[0], KEYS[5], KEYS[1], "MAX", "COUNT", 2) \
        == [KEYS[5], [["c", "3"], ["b", "2"]]]
    assert r.execute_command("BZMPOP", "0.5", 1, KEYS[5], "MIN", "COUNT", 10) == \
        [KEYS[5], [["a", "1"]]]
    assert r.execute_command("BZMPOP", "0.01", 2, KEYS[5], KEYS[3], "MIN") is None


def test_bzmpop_errors(r):
    r.set("bz:str", "v")
    assert err(r, "BZMPOP", -1, 1, "bz:k", "MIN") == "timeout is negative"
    assert err(r, "BZMPOP", "-0.1", 1, "bz:k", "MIN") == "timeout is negative"
    assert err(r, "BZMPOP", "x", 1, "bz:k", "MIN") == "timeout is not a float or out of range"
    assert err(r, "BZMPOP", "nan", 1, "bz:k", "MIN") == "timeout is not a float or out of range"
    assert err(r, "BZMPOP", "x", 1, "bz:k", "UP") == SYNTAX, "MIN|MAX before the timeout"
    assert err(r, "BZMPOP", "x", 0, "bz:k", "MIN") == NUMKEYS
    assert err(r, "BZMPOP", "x", 1, "bz:k", "MIN", "COUNT", 0) == COUNT
    assert err(r, "BZMPOP", 0, 3, "bz:k", "MIN") == SYNTAX
    assert err(r, "BZMPOP", 0, 1, "bz:str", "MIN") == WRONGTYPE
    assert err(r, "BZMPOP", 0, 2, "bz:missing", "bz:str", "MAX") == WRONGTYPE
    assert "wrong number of arguments" in err(r, "BZMPOP", 0, 1, "bz:k")


def test_bzmpop_inside_multi_does_not_block(server):
    raw = server.raw()
    raw.cmd("FLUSHALL")
    assert raw.cmd("MULTI") == "OK"
    assert raw.cmd("BZMPOP", 0, 2, "bm:a", "bm:b", "MIN") == "QUEUED"
    assert raw.cmd("ZADD", "bm:b", 1, "x") == "QUEUED"
    assert raw.cmd("BZMPOP", 0, 2, "bm:a", "bm:b", "MIN") == "QUEUED"
    assert wire(raw, "EXEC") == \
        b"*3\r\n*-1\r\n:1\r\n*2\r\n$4\r\nbm:b\r\n*1\r\n*2\r\n$1\r\nx\r\n$1\r\n1\r\n"
    raw.cmd("HELLO", 3)
    raw.cmd("MULTI")
    raw.cmd("BZMPOP", 0, 1, "bm:a", "MAX")
    assert wire(raw, "EXEC") == b"*1\r\n_\r\n"
    raw.close()


def test_bzmpop_timeout(server, r, waiters):
    w = block(server, waiters, "BZMPOP", "0.2", 2, "bt:a", "bt:b", "MIN")
    wait_blocked(r, 1)
    assert w.result() is None
    assert blocked_clients(r) == 0
    w = block(server, waiters, "BZMPOP", "0.0001", 1, "bt:a", "MIN")
    assert w.result() is None, "a tiny timeout is not 'forever'"


def test_bzmpop_woken_by_zadd_from_another_client(server, r, waiters):
    w = block(server, waiters, "BZMPOP", 0, len(KEYS), *KEYS, "MAX", "COUNT", 2)
    wait_blocked(r, 1)
    assert r.execute_command("ZADD", KEYS[4], 1, "a", 2, "b", 3, "c") == 3
    assert w.result() == [KEYS[4].encode(), [[b"c", b"3"], [b"b", b"2"]]]
    assert zall(r, KEYS[4]) == ["a", "1"]
    assert blocked_clients(r) == 0
    assert w.conn.cmd("PING") == "PONG"


def test_bzmpop_woken_in_resp3(server, r, waiters):
    w = block(server, waiters, "HELLO", 3)
    assert isinstance(w.result(), dict)
    got = {}

    def run():
        got["v"] = w.conn.cmd("BZMPOP", 0, 2, "b3:a", "b3:b", "MIN", "COUNT", 5)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    wait_blocked(r, 1)
    r.execute_command("ZADD", "b3:b", "2.5", "m", "-inf", "n")
    t.join(10)
    assert got["v"] == [b"b3:b", [[b"n", -math.inf], [b"m", 2.5]]]
    assert r.execute_command("EXISTS", "b3:b") == 0


def test_bzmpop_waiters_served_in_fifo_order(server, r, waiters):
    ws = []
    for i in range(3):
        ws.append(block(server, waiters, "BZMPOP", 0, 2, f"{{f{i}}}other", "fifo", "MIN"))
        wait_blocked(r, i + 1)
    r.execute_command("ZADD", "fifo", 1, "first", 2, "second", 3, "third")
    assert [w.result() for w in ws] == [[b"fifo", [[b"first", b"1"]]],
                                        [b"fifo", [[b"second", b"2"]]],
                                        [b"fifo", [[b"third", b"3"]]]]
    assert r.execute_command("EXISTS", "fifo") == 0


def test_bzmpop_and_bzpopmin_share_one_queue(server, r, waiters):
    a = block(server, waiters, "BZMPOP", 0, 1, "share", "MAX", "COUNT", 10)
    wait_blocked(r, 1)
    b = block(server, waiters, "BZPOPMIN", "share", 0)
    wait_blocked(r, 2)
    r.execute_command("ZADD", "share", 1, "one", 2, "two")
    assert a.result() == [b"share", [[b"two", b"2"], [b"one", b"1"]]]
    assert b.thread.is_alive(), "the first waiter took everything"
    r.execute_command("ZADD", "share", 3, "three")
    assert b.result() == [b"share", b"three", b"3"]
    assert blocked_clients(r) == 0


def test_bzmpop_on_keys_in_several_shards_is_served_once(server, r, waiters):
    keys = [f"{{s{i}}}many" for i in range(6)]  # different tags: different shards
    w = block(server, waiters, "BZMPOP", 0, len(keys), *keys, "MIN")
    wait_blocked(r, 1)
    p = r.pipeline(transaction=True)
    for i, k in enumerate(keys):
        p.execute_command("ZADD", k, i, f"m{i}")
    p.execute()
    res = w.result()
    assert len(res) == 2 and len(res[1]) == 1
    key = res[0].decode()
    assert key in keys
    i = keys.index(key)
    assert res[1] == [[f"m{i}".encode(), str(i).encode()]]
    left = sum(r.execute_command("ZCARD", k) for k in keys)
    assert left == len(keys) - 1, "exactly one member was popped"
    assert r.execute_command("EXISTS", key) == 0
    assert blocked_clients(r) == 0


def test_many_bzmpop_waiters_each_served_exactly_once(server, r, waiters):
    keys = [f"{{e{i}}}q" for i in range(4)]
    n = 10
    ws = [block(server, waiters, "BZMPOP", 0, len(keys), *keys, "MIN") for _ in range(n)]
    wait_blocked(r, n)
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.execute_command("ZADD", keys[i % len(keys)], i, f"e{i}")
    p.execute()
    got = [w.result() for w in ws]
    members = sorted(m[0] for res in got for m in res[1])
    assert all(len(res[1]) == 1 for res in got)
    assert members == sorted(f"e{i}".encode() for i in range(n))
    assert sum(r.execute_command("ZCARD", k) for k in keys) == 0
    assert blocked_clients(r) == 0


def test_bzmpop_stays_blocked_when_the_key_gets_another_type(server, r, waiters):
    w = block(server, waiters, "BZMPOP", 0, 1, "bw:k", "MIN")
    wait_blocked(r, 1)
    r.execute_command("RPUSH", "bw:k", "e")  # a list: not for a zset waiter
    r.execute_command("DEL", "bw:k")
    r.execute_command("ZADD", "bw:k", 4, "z")
    assert w.result() == [b"bw:k", [[b"z", b"4"]]]


def test_bzmpop_woken_by_zrangestore_into_its_key(server, r, waiters):
    r.execute_command("ZADD", "{src}rs", 1, "a", 2, "b", 3, "c")
    w = block(server, waiters, "BZMPOP", 0, 1, "{dst}rs", "MAX", "COUNT", 2)
    wait_blocked(r, 1)
    assert r.execute_command("ZRANGESTORE", "{dst}rs", "{src}rs", 0, -1) == 3
    assert w.result() == [b"{dst}rs", [[b"c", b"3"], [b"b", b"2"]]]
    assert zall(r, "{dst}rs") == ["a", "1"]


# -------------------------------------------------------------------------- ZINTERCARD

def test_zintercard(r):
    r.execute_command("ZADD", KEYS[0], 1, "a", 2, "b", 3, "c", 4, "d")
    r.execute_command("ZADD", KEYS[1], 1, "b", 2, "c", 3, "d", 4, "e")
    r.execute_command("ZADD", KEYS[2], 9, "c", 9, "d", 9, "x")
    assert r.execute_command("ZINTERCARD", 1, KEYS[0]) == 4
    assert r.execute_command("ZINTERCARD", 2, KEYS[0], KEYS[1]) == 3
    assert r.execute_command("ZINTERCARD", 3, KEYS[0], KEYS[1], KEYS[2]) == 2
    assert r.execute_command("ZINTERCARD", 3, KEYS[0], KEYS[1], KEYS[2], "LIMIT", 1) == 1
    assert r.execute_command("ZINTERCARD", 3, KEYS[0], KEYS[1], KEYS[2], "limit", 0) == 2
    assert r.execute_command("ZINTERCARD", 2, KEYS[0], KEYS[1], "LIMIT", 100) == 3
    assert r.execute_command("ZINTERCARD", 2, KEYS[0], KEYS[1], "LIMIT", 1, "LIMIT", 5) == 3
    assert r.execute_command("ZINTERCARD", 2, KEYS[0], KEYS[0]) == 4
    assert r.execute_command("ZINTERCARD", 2, KEYS[0], KEYS[7]) == 0
    assert r.execute_command("ZINTERCARD", 1, KEYS[7]) == 0
    r.execute_command("SADD", KEYS[3], "a", "d", "q")
    assert r.execute_command("ZINTERCARD", 2, KEYS[0], KEYS[3]) == 2, "plain sets count too"


def test_zintercard_errors(r):
    r.execute_command("ZADD", "ic:a", 1, "a")
    r.set("ic:str", "v")
    assert "wrong number of arguments" in err(r, "ZINTERCARD", 1)
    for bad in (0, -1):
        assert err(r, "ZINTERCARD", bad, "ic:a") == \
            "at least 1 input key is needed for 'zintercard' command"
    assert err(r, "ZINTERCARD", "x", "ic:a") == NOT_INT
    assert err(r, "ZINTERCARD", 2, "ic:a") == SYNTAX
    assert err(r, "ZINTERCARD", 9223372036854775807, "ic:a") == SYNTAX
    for bad in (-1, "x", "9223372036854775808"):
        assert err(r, "ZINTERCARD", 1, "ic:a", "LIMIT", bad) == "LIMIT can't be negative"
    assert err(r, "ZINTERCARD", 1, "ic:a", "LIMIT") == SYNTAX
    assert err(r, "ZINTERCARD", 1, "ic:a", "LIMIT", 1, "foo") == SYNTAX
    assert err(r, "ZINTERCARD", 1, "ic:a", "WEIGHTS", 1) == SYNTAX
    assert err(r, "ZINTERCARD", 1, "ic:a", "AGGREGATE", "SUM") == SYNTAX
    assert err(r, "ZINTERCARD", 1, "ic:a", "WITHSCORES") == SYNTAX
    # Every key's type is checked, before the options.
    assert err(r, "ZINTERCARD", 2, "ic:a", "ic:str") == WRONGTYPE
    assert err(r, "ZINTERCARD", 2, "ic:missing", "ic:str") == WRONGTYPE
    assert err(r, "ZINTERCARD", 2, "ic:str", "ic:a", "LIMIT", "x") == WRONGTYPE


# ------------------------------------------------------------------------- ZRANGESTORE

def test_zrangestore_every_form(r):
    src, dst = KEYS[0], KEYS[1]
    r.execute_command("ZADD", src, 1, "a", 2, "b", 3, "c", 4, "d", 5, "e")
    assert r.execute_command("ZRANGESTORE", dst, src, 0, -1) == 5
    assert zall(r, dst) == zall(r, src)
    assert r.execute_command("ZRANGESTORE", dst, src, 1, 2, "REV") == 2
    assert zall(r, dst) == ["c", "3", "d", "4"]
    assert r.execute_command("ZRANGESTORE", dst, src, "(2", "+inf", "BYSCORE",
                             "LIMIT", 1, 2) == 2
    assert zall(r, dst) == ["d", "4", "e", "5"]
    assert r.execute_command("ZRANGESTORE", dst, src, 4, 2, "BYSCORE", "REV") == 3
    assert zall(r, dst) == ["b", "2", "c", "3", "d", "4"]
    assert r.execute_command("ZRANGESTORE", dst, src, "-inf", "+inf", "BYSCORE",
                             "LIMIT", 1, -1) == 4
    assert r.execute_command("ZRANGESTORE", dst, src, -100, 100) == 5
    lex = KEYS[2]
    r.execute_command("ZADD", lex, 0, "a", 0, "b", 0, "c", 0, "d")
    assert r.execute_command("ZRANGESTORE", dst, lex, "[b", "+", "BYLEX") == 3
    assert zall(r, dst) == ["b", "0", "c", "0", "d", "0"]
    assert r.execute_command("ZRANGESTORE", dst, lex, "+", "[b", "BYLEX", "REV",
                             "LIMIT", 0, 1) == 1
    assert zall(r, dst) == ["d", "0"]
    r.execute_command("ZADD", "lexsc", 7, "m")
    assert r.execute_command("ZRANGESTORE", dst, "lexsc", "-", "+", "BYLEX") == 1
    assert zall(r, dst) == ["m", "7"], "scores come along with BYLEX"


def test_zrangestore_empty_result_deletes_destination(r):
    r.execute_command("ZADD", "rs:src", 1, "a", 2, "b")
    r.execute_command("ZADD", "rs:dst", 9, "old")
    assert r.execute_command("ZRANGESTORE", "rs:dst", "rs:src", 5, 10) == 0
    assert r.execute_command("EXISTS", "rs:dst") == 0
    r.set("rs:str", "v")
    assert r.execute_command("ZRANGESTORE", "rs:str", "rs:missing", 0, -1) == 0
    assert r.execute_command("EXISTS", "rs:str") == 0
    assert r.execute_command("ZRANGESTORE", "rs:dst", "rs:src", 0, -1, "BYSCORE",
                             "LIMIT", -1, 2) == 0
    assert r.execute_command("ZRANGESTORE", "rs:dst", "rs:src", 1, 0) == 0
    assert r.execute_command("EXISTS", "rs:dst") == 0


def test_zrangestore_overwrites_any_type_and_drops_the_ttl(r):
    r.execute_command("ZADD", "rs:src", 1, "a", 2, "b")
    r.set("rs:str", "v")
    assert r.execute_command("ZRANGESTORE", "rs:str", "rs:src", 0, 0) == 1
    assert r.execute_command("TYPE", "rs:str") == "zset"
    assert zall(r, "rs:str") == ["a", "1"]
    r.execute_command("ZADD", "rs:ttl", 5, "x")
    r.execute_command("EXPIRE", "rs:ttl", 100)
    assert r.execute_command("ZRANGESTORE", "rs:ttl", "rs:src", 0, -1) == 2
    assert r.execute_command("TTL", "rs:ttl") == -1
    assert r.execute_command("ZRANGESTORE", "rs:src", "rs:src", 1, 1) == 1
    assert zall(r, "rs:src") == ["b", "2"], "source and destination may be one key"


def test_zrangestore_errors(r):
    r.execute_command("ZADD", "re:src", 1, "a", 2, "b")
    r.set("re:str", "v")
    r.execute_command("ZADD", "re:dst", 1, "keep")
    assert "wrong number of arguments" in err(r, "ZRANGESTORE", "re:dst", "re:src", 0)
    assert err(r, "ZRANGESTORE", "re:dst", "re:src", 0, -1, "WITHSCORES") == SYNTAX
    assert err(r, "ZRANGESTORE", "re:dst", "re:src", 0, -1, "LIMIT", 0, 1) == \
        "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    assert err(r, "ZRANGESTORE", "re:dst", "re:src", 0, -1, "LIMIT", 0, 1, "WITHSCORES") == \
        SYNTAX
    assert err(r, "ZRANGESTORE", "re:dst", "re:src", 0, -1, "BYLEX") == \
        "min or max not valid string range item"
    assert err(r, "ZRANGESTORE", "re:dst", "re:src", "x", 1) == NOT_INT
    assert err(r, "ZRANGESTORE", "re:dst", "re:src", 0, "x") == NOT_INT
    assert err(r, "ZRANGESTORE", "re:dst", "re:src", "x", 1, "BYSCORE") == \
        "min or max is not a float"
    assert err(r, "ZRANGESTORE", "re:dst", "re:src", 0, 1, "BYSCORE", "LIMIT", "x", 1) == \
        NOT_INT
    assert err(r, "ZRANGESTORE", "re:dst", "re:src", 0, 1, "BYSCORE", "LIMIT", 0) == SYNTAX
    assert err(r, "ZRANGESTORE", "re:dst", "re:src", 0, 1, "REV", "REV") == SYNTAX
    assert err(r, "ZRANGESTORE", "re:dst", "re:src", 0, 1, "BYSCORE", "BYLEX") == SYNTAX
    assert err(r, "ZRANGESTORE", "re:dst", "re:str", 0, -1) == WRONGTYPE
    assert err(r, "ZRANGESTORE", "re:dst", "re:str", "x", 1) == NOT_INT, "arguments first"
    assert zall(r, "re:dst") == ["keep", "1"], "a failed ZRANGESTORE leaves dst alone"


def test_zrangestore_across_shards_many_pairs(r):
    """Source and destination in every combination of shards."""
    for i in range(8):
        src, dst = f"{{p{i}}}src", f"{{q{i}}}dst"
        r.execute_command("ZADD", src, *[v for j in range(i + 1) for v in (j, f"m{j}")])
        assert r.execute_command("ZRANGESTORE", dst, src, -1, 0, "BYSCORE", "REV") == 0
        assert r.execute_command("EXISTS", dst) == 0
        assert r.execute_command("ZRANGESTORE", dst, src, "+inf", "-inf", "BYSCORE",
                                 "REV") == i + 1
        assert r.execute_command("ZCARD", dst) == i + 1
        assert r.execute_command("ZSCORE", dst, f"m{i}") == str(i)


def test_zrangestore_resp3_and_encoding(server):
    raw = server.raw()
    raw.cmd("FLUSHALL")
    raw.cmd("HELLO", 3)
    raw.cmd("ZADD", "enc:src", 1, "a" * 100, 2, "b")
    assert wire(raw, "ZRANGESTORE", "enc:dst", "enc:src", 0, -1) == b":2\r\n"
    assert raw.cmd("OBJECT", "ENCODING", "enc:dst") == b"skiplist"
    assert wire(raw, "ZRANGESTORE", "enc:dst", "enc:src", 1, 1) == b":1\r\n"
    assert raw.cmd("OBJECT", "ENCODING", "enc:dst") == b"listpack"
    assert raw.cmd("ZRANGE", "enc:dst", 0, -1, "WITHSCORES") == [[b"b", 2.0]]
    assert isinstance(raw.cmd("ZRANGESTORE", "enc:dst", "enc:src", "x", 1), Error)
    raw.close()


def test_zrangestore_is_atomic_against_writers(server, r):
    """A writer removes and re-adds members in MULTI; ZRANGESTORE into a key of another
    shard always stores a whole snapshot (the set never looks short a member)."""
    a, dst = "{ra}atom", "{rd}atom"
    r.execute_command("ZADD", a, *[v for j in range(40) for v in (j, f"m{j}")])
    stop = threading.Event()
    bad = []

    def writer():
        c = server.client()
        c.response_callbacks.clear()
        j = 0
        while not stop.is_set():
            p = c.pipeline(transaction=True)
            p.execute_command("ZREM", a, f"m{j % 40}")
            p.execute_command("ZADD", a, j % 40, f"m{j % 40}")
            p.execute()
            j += 1

    def copier():
        c = server.client()
        c.response_callbacks.clear()
        for _ in range(200):
            n = c.execute_command("ZRANGESTORE", dst, a, 0, -1)
            if n != 40:
                bad.append(n)

    t = threading.Thread(target=writer)
    t.start()
    copier()
    stop.set()
    t.join()
    assert bad == []
    assert r.execute_command("ZCARD", dst) == 40


# ----------------------------------------------------------------------- COMMAND INFO

@pytest.mark.parametrize("name,arity,flags,first,last,step", [
    ("zrangestore", -5, ["write", "denyoom"], 1, 2, 1),
    ("zmpop", -4, ["write", "movablekeys"], None, None, None),
    ("bzmpop", -5, ["write", "blocking", "movablekeys"], None, None, None),
    ("zintercard", -3, ["readonly", "movablekeys"], None, None, None),
])
def test_command_info(r, name, arity, flags, first, last, step):
    info = r.execute_command("COMMAND", "INFO", name)[0]
    assert info[0] == name and info[1] == arity
    assert sorted(info[2]) == sorted(flags)
    if first is not None:
        assert info[3:6] == [first, last, step]
    assert r.execute_command("COMMAND", "GETKEYS", "ZMPOP", 2, "a", "b", "MIN") == ["a", "b"]
    assert r.execute_command("COMMAND", "GETKEYS", "ZRANGESTORE", "d", "s", 0, 1) == ["d", "s"]
