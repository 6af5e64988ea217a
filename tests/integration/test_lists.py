"""
Integration tests for the lists module: LPUSH/RPUSH(X), LPOP/RPOP with count, LLEN, LRANGE,
LINDEX, LSET, LTRIM, LREM, LINSERT, LPOS, the type's TYPE/OBJECT ENCODING answers, errors and
RESP3 nulls. Every expectation holds on redis-server 7.0 too (DF_TEST_SERVER=redis).
BLPOP/BRPOP are in test_blocking.py.
"""
import random

import pytest
import redis

from resp import Error
from helpers import WRONGTYPE, NOT_INT, SYNTAX, err, plain


@pytest.fixture
def r(r):
    return plain(r)


def lrange(r, key):
    return r.execute_command("LRANGE", key, 0, -1)


# ---------------------------------------------------------------------------- push

def test_push_order_and_length(r):
    assert r.execute_command("RPUSH", "l", "a", "b") == 2
    assert r.execute_command("LPUSH", "l", "x", "y") == 4
    assert lrange(r, "l") == ["y", "x", "a", "b"]
    assert r.execute_command("TYPE", "l") == "list"
    assert r.execute_command("EXISTS", "l") == 1


def test_pushx(r):
    assert r.execute_command("LPUSHX", "l", "a") == 0
    assert r.execute_command("RPUSHX", "l", "a", "b") == 0
    assert r.execute_command("EXISTS", "l") == 0
    r.execute_command("RPUSH", "l", "m")
    assert r.execute_command("LPUSHX", "l", "a", "b") == 3
    assert r.execute_command("RPUSHX", "l", "z") == 4
    assert lrange(r, "l") == ["b", "a", "m", "z"]


def test_push_wrongtype_and_arity(r):
    r.set("s", "v")
    for cmd in ("LPUSH", "RPUSH", "LPUSHX", "RPUSHX"):
        assert err(r, cmd, "s", "x") == WRONGTYPE
        assert err(r, cmd, "l") == f"wrong number of arguments for '{cmd.lower()}' command"
    assert r.get("s") == "v"


def test_push_binary_and_empty(rb):
    vals = [b"", b"\x00\xff", bytes(range(256)), b"x" * 200, b"y" * 20000]
    rb.rpush("l", *vals)
    assert rb.lrange("l", 0, -1) == vals
    assert rb.lindex("l", 0) == b""
    assert rb.rpop("l") == b"y" * 20000
    assert rb.lpop("l") == b""


# ---------------------------------------------------------------------------- pop

def test_pop_single(r):
    r.execute_command("RPUSH", "l", "a", "b", "c")
    assert r.execute_command("LPOP", "l") == "a"
    assert r.execute_command("RPOP", "l") == "c"
    assert r.execute_command("LPOP", "l") == "b"
    assert r.execute_command("EXISTS", "l") == 0
    assert r.execute_command("LPOP", "l") is None
    assert r.execute_command("RPOP", "l") is None


def test_pop_count(r):
    r.execute_command("RPUSH", "l", "a", "b", "c", "d", "e")
    assert r.execute_command("LPOP", "l", 2) == ["a", "b"]
    assert r.execute_command("RPOP", "l", 2) == ["e", "d"]
    assert r.execute_command("LPOP", "l", 0) == []
    assert r.execute_command("RPOP", "l", 10) == ["c"]
    assert r.execute_command("EXISTS", "l") == 0
    assert r.execute_command("LPOP", "l", 3) is None


def test_pop_count_errors(r):
    r.execute_command("RPUSH", "l", "a")
    assert err(r, "LPOP", "l", -1) == "value is out of range, must be positive"
    assert err(r, "RPOP", "l", "abc") == "value is out of range, must be positive"
    assert err(r, "LPOP", "l", 1, 2) == "wrong number of arguments for 'lpop' command"
    assert err(r, "LPOP", "nokey", -1) == "value is out of range, must be positive"
    r.set("s", "v")
    assert err(r, "LPOP", "s") == WRONGTYPE
    assert err(r, "RPOP", "s", 2) == WRONGTYPE


def test_pop_nulls_raw(raw):
    assert raw.cmd("LPOP", "nokey") is None
    raw.send(b"*2\r\n$4\r\nLPOP\r\n$5\r\nnokey\r\n")
    assert raw.read_line_raw() == b"$-1"
    raw.send(b"*3\r\n$4\r\nLPOP\r\n$5\r\nnokey\r\n$1\r\n2\r\n")
    assert raw.read_line_raw() == b"*-1"


def test_resp3_nulls(raw):
    raw.cmd("HELLO", "3")
    raw.send(b"*3\r\n$4\r\nRPOP\r\n$5\r\nnokey\r\n$1\r\n2\r\n")
    assert raw.read_line_raw() == b"_"
    raw.send(b"*3\r\n$6\r\nLINDEX\r\n$5\r\nnokey\r\n$1\r\n0\r\n")
    assert raw.read_line_raw() == b"_"
    raw.cmd("RPUSH", "l", "a", "b")
    assert raw.cmd("LRANGE", "l", 0, -1) == [b"a", b"b"]
    assert raw.cmd("LPOS", "l", "zz") is None
    assert raw.cmd("LPOP", "l", 5) == [b"a", b"b"]


# ---------------------------------------------------------------------------- read

def test_llen(r):
    assert r.execute_command("LLEN", "l") == 0
    r.execute_command("RPUSH", "l", *range(100))
    assert r.execute_command("LLEN", "l") == 100
    r.set("s", "v")
    assert err(r, "LLEN", "s") == WRONGTYPE


@pytest.mark.parametrize("start,stop", [(0, -1), (0, 0), (-1, -1), (2, 5), (-3, -1), (-100, 2),
                                        (5, 2), (8, 100), (20, 30), (-100, -50), (3, -4)])
def test_lrange_ranges(r, start, stop):
    items = [str(i) for i in range(10)]
    r.execute_command("RPUSH", "l", *items)
    n = len(items)
    s, e = start + n if start < 0 else start, stop + n if stop < 0 else stop
    s = max(s, 0)
    expect = [] if s > e or s >= n else items[s:min(e, n - 1) + 1]
    assert r.execute_command("LRANGE", "l", start, stop) == expect


def test_lrange_errors(r):
    assert r.execute_command("LRANGE", "nokey", 0, -1) == []
    assert err(r, "LRANGE", "nokey", "a", 1) == NOT_INT
    r.set("s", "v")
    assert err(r, "LRANGE", "s", 0, -1) == WRONGTYPE
    assert err(r, "LRANGE", "s", "x", 1) == NOT_INT


def test_lindex(r):
    r.execute_command("RPUSH", "l", "a", "b", "c")
    assert r.execute_command("LINDEX", "l", 0) == "a"
    assert r.execute_command("LINDEX", "l", -1) == "c"
    assert r.execute_command("LINDEX", "l", 1) == "b"
    assert r.execute_command("LINDEX", "l", 3) is None
    assert r.execute_command("LINDEX", "l", -4) is None
    assert r.execute_command("LINDEX", "nokey", "x") is None
    assert err(r, "LINDEX", "l", "x") == NOT_INT
    r.set("s", "v")
    assert err(r, "LINDEX", "s", 0) == WRONGTYPE


def test_lpos(r):
    r.execute_command("RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c")
    assert r.execute_command("LPOS", "l", "c") == 2
    assert r.execute_command("LPOS", "l", "c", "RANK", 2) == 6
    assert r.execute_command("LPOS", "l", "c", "RANK", -1) == 7
    assert r.execute_command("LPOS", "l", "c", "RANK", -3) == 2
    assert r.execute_command("LPOS", "l", "c", "RANK", 4) is None
    assert r.execute_command("LPOS", "l", "c", "COUNT", 2) == [2, 6]
    assert r.execute_command("LPOS", "l", "c", "COUNT", 0) == [2, 6, 7]
    assert r.execute_command("LPOS", "l", "c", "RANK", -1, "COUNT", 2) == [7, 6]
    assert r.execute_command("LPOS", "l", "c", "COUNT", 0, "MAXLEN", 7) == [2, 6]
    assert r.execute_command("LPOS", "l", "c", "MAXLEN", 2) is None
    assert r.execute_command("LPOS", "l", "zz", "COUNT", 0) == []
    assert r.execute_command("LPOS", "nokey", "c") is None
    assert r.execute_command("LPOS", "nokey", "c", "COUNT", 1) == []


def test_lpos_errors(r):
    r.execute_command("RPUSH", "l", "a")
    assert err(r, "LPOS", "l", "a", "RANK", 0).startswith("RANK can't be zero")
    assert err(r, "LPOS", "l", "a", "COUNT", -1) == "COUNT can't be negative"
    assert err(r, "LPOS", "l", "a", "MAXLEN", -1) == "MAXLEN can't be negative"
    assert err(r, "LPOS", "l", "a", "RANK") == SYNTAX
    assert err(r, "LPOS", "l", "a", "FOO", 1) == SYNTAX
    assert err(r, "LPOS", "l", "a", "RANK", "x") == NOT_INT
    r.set("s", "v")
    assert err(r, "LPOS", "s", "a") == WRONGTYPE


# ---------------------------------------------------------------------------- edit

def test_lset(r):
    r.execute_command("RPUSH", "l", "a", "b", "c")
    assert r.execute_command("LSET", "l", 1, "B") == "OK"
    assert r.execute_command("LSET", "l", -1, "C" * 100) == "OK"
    assert lrange(r, "l") == ["a", "B", "C" * 100]
    assert err(r, "LSET", "l", 3, "x") == "index out of range"
    assert err(r, "LSET", "l", -4, "x") == "index out of range"
    assert err(r, "LSET", "nokey", 0, "x") == "no such key"
    assert err(r, "LSET", "l", "x", "y") == NOT_INT
    r.set("s", "v")
    assert err(r, "LSET", "s", 0, "x") == WRONGTYPE


def test_ltrim(r):
    r.execute_command("RPUSH", "l", *"abcdefg")
    assert r.execute_command("LTRIM", "l", 1, -2) == "OK"
    assert lrange(r, "l") == list("bcdef")
    assert r.execute_command("LTRIM", "l", -2, 100) == "OK"
    assert lrange(r, "l") == ["e", "f"]
    assert r.execute_command("LTRIM", "l", 5, 1) == "OK"
    assert r.execute_command("EXISTS", "l") == 0
    assert r.execute_command("LTRIM", "nokey", 0, 1) == "OK"
    assert err(r, "LTRIM", "l", "a", 1) == NOT_INT
    r.set("s", "v")
    assert err(r, "LTRIM", "s", 0, 1) == WRONGTYPE


def test_lrem(r):
    r.execute_command("RPUSH", "l", "a", "x", "b", "x", "c", "x")
    assert r.execute_command("LREM", "l", 1, "x") == 1
    assert lrange(r, "l") == ["a", "b", "x", "c", "x"]
    assert r.execute_command("LREM", "l", -1, "x") == 1
    assert lrange(r, "l") == ["a", "b", "x", "c"]
    assert r.execute_command("LREM", "l", 0, "x") == 1
    assert r.execute_command("LREM", "l", 0, "zz") == 0
    assert r.execute_command("LREM", "l", 0, "a") == 1
    assert r.execute_command("LREM", "l", -5, "c") == 1
    assert r.execute_command("LREM", "l", 5, "b") == 1
    assert r.execute_command("EXISTS", "l") == 0
    assert r.execute_command("LREM", "nokey", 0, "x") == 0
    assert err(r, "LREM", "l", "x", "y") == NOT_INT
    r.set("s", "v")
    assert err(r, "LREM", "s", 0, "x") == WRONGTYPE


def test_linsert(r):
    r.execute_command("RPUSH", "l", "a", "b", "c")
    assert r.execute_command("LINSERT", "l", "BEFORE", "b", "x") == 4
    assert r.execute_command("LINSERT", "l", "after", "c", "y") == 5
    assert r.execute_command("LINSERT", "l", "before", "a", "z") == 6
    assert lrange(r, "l") == ["z", "a", "x", "b", "c", "y"]
    assert r.execute_command("LINSERT", "l", "before", "nope", "q") == -1
    assert r.execute_command("LINSERT", "nokey", "before", "a", "q") == 0
    assert r.execute_command("EXISTS", "nokey") == 0
    assert err(r, "LINSERT", "l", "middle", "a", "q") == SYNTAX
    r.set("s", "v")
    assert err(r, "LINSERT", "s", "before", "a", "q") == WRONGTYPE


# ---------------------------------------------------------------------------- the type

def test_type_and_encoding(r):
    r.execute_command("RPUSH", "small", "a", "b")
    r.execute_command("RPUSH", "big", *range(1000))
    # Redis 7.0 reports every list as quicklist (listpack for small lists came in 7.2).
    assert r.execute_command("OBJECT", "ENCODING", "small") == "quicklist"
    assert r.execute_command("OBJECT", "ENCODING", "big") == "quicklist"
    assert r.execute_command("TYPE", "big") == "list"
    assert r.execute_command("MEMORY", "USAGE", "big") > 1000


def test_other_commands_wrongtype_on_list(r):
    r.execute_command("RPUSH", "l", "a")
    assert err(r, "GET", "l") == WRONGTYPE
    assert err(r, "INCR", "l") == WRONGTYPE


def test_copy_rename_del(r):
    r.execute_command("RPUSH", "l", "a", "b")
    assert r.execute_command("RENAME", "l", "m") == "OK"
    assert lrange(r, "m") == ["a", "b"]
    assert r.execute_command("DEL", "m") == 1
    assert r.execute_command("LLEN", "m") == 0


def test_random_model(rb):
    """A long random walk over every command against a Python list as the model, with
    elements of many sizes so the list spans many nodes."""
    rnd = random.Random(1234)
    model = []

    def val():
        n = rnd.choice([0, 1, 5, 60, 130, 1000, 9000])
        return bytes([rnd.randrange(97, 100)]) * n + str(rnd.randrange(5)).encode()

    for step in range(2500):
        op = rnd.randrange(10)
        if op < 3:
            vs = [val() for _ in range(rnd.randrange(1, 6))]
            if op == 0:
                rb.lpush("l", *vs)
                model[:0] = vs[::-1]
            else:
                rb.rpush("l", *vs)
                model.extend(vs)
        elif op == 3 and model:
            n = rnd.randrange(1, 4)
            got = rb.execute_command("LPOP", "l", n)
            assert got == model[:n]
            del model[:n]
        elif op == 4 and model:
            assert rb.rpop("l") == model.pop()
        elif op == 5 and model:
            i = rnd.randrange(-len(model), len(model))
            v = val()
            rb.lset("l", i, v)
            model[i] = v
        elif op == 6 and model:
            pivot, v = rnd.choice(model), val()
            where = rnd.choice(["BEFORE", "AFTER"])
            assert rb.execute_command("LINSERT", "l", where, pivot, v) == len(model) + 1
            j = model.index(pivot)
            model.insert(j + (where == "AFTER"), v)
        elif op == 7 and model:
            v = rnd.choice(model)
            cnt = rnd.randrange(-2, 3)
            n = rb.lrem("l", cnt, v)
            idx = [i for i, x in enumerate(model) if x == v]
            if cnt > 0:
                idx = idx[:cnt]
            elif cnt < 0:
                idx = idx[cnt:]
            assert n == len(idx)
            for i in reversed(idx):
                del model[i]
        elif op == 8 and model and rnd.random() < 0.2:
            s, e = rnd.randrange(-5, 5), rnd.randrange(-5, len(model) + 5)
            rb.ltrim("l", s, e)
            n = len(model)
            s2, e2 = max(s + n if s < 0 else s, 0), e + n if e < 0 else e
            model = [] if s2 > e2 or s2 >= n else model[s2:min(e2, n - 1) + 1]
        elif op == 9 and model:
            i = rnd.randrange(-len(model), len(model))
            assert rb.lindex("l", i) == model[i]
        assert rb.llen("l") == len(model)
        if step % 100 == 0:
            assert rb.lrange("l", 0, -1) == model
    assert rb.lrange("l", 0, -1) == model
