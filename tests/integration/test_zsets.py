"""
Integration tests for the zsets module: ZADD (NX|XX|GT|LT|CH|INCR), ZINCRBY, ZREM, ZCARD,
ZSCORE, ZMSCORE, ZRANK, ZREVRANK, ZCOUNT, ZLEXCOUNT, the ZRANGE family (unified and legacy
forms), ZREMRANGEBY*, ZPOPMIN/ZPOPMAX, BZPOPMIN/BZPOPMAX, ZRANDMEMBER, ZSCAN, ZUNION/ZINTER/
ZDIFF[STORE], encodings, DUMP/RESTORE (including payloads written by Redis 7.0), RESP3 scores
and errors. Every expectation holds on redis-server 7.0 too (DF_TEST_SERVER=redis).
"""
import math
import random
import threading
import time

import pytest
import redis

from resp import Error
from helpers import err, plain

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "value is not an integer or out of range"
NOT_FLOAT = "value is not a valid float"
SYNTAX = "syntax error"
RANGE_NOT_FLOAT = "min or max is not a float"
LEX_BAD = "min or max not valid string range item"

# Keys spread over shards when the server runs several threads.
MANY = ["k%d" % i for i in range(8)]


@pytest.fixture
def r(r):
    return plain(r)


def zall(r, key):
    return r.execute_command("ZRANGE", key, 0, -1, "WITHSCORES")


def x(r, *args):
    return r.execute_command(*args)


# ---------------------------------------------------------------------------- ZADD

def test_zadd_basic(r):
    assert x(r, "ZADD", "z", 1, "a", 2, "b") == 2
    assert x(r, "ZADD", "z", 3, "a", 4, "c") == 1
    assert zall(r, "z") == ["b", "2", "a", "3", "c", "4"]
    assert x(r, "TYPE", "z") == "zset"
    assert x(r, "ZADD", "z", "CH", 3, "a", 5, "b", 6, "d") == 2
    assert x(r, "ZCARD", "z") == 4


def test_zadd_same_score_orders_by_member(r):
    x(r, "ZADD", "z", 1, "c", 1, "a", 1, "b", 0, "z")
    assert x(r, "ZRANGE", "z", 0, -1) == ["z", "a", "b", "c"]


def test_zadd_nx_xx(r):
    assert x(r, "ZADD", "z", "XX", 1, "a") == 0
    assert x(r, "EXISTS", "z") == 0
    x(r, "ZADD", "z", 1, "a")
    assert x(r, "ZADD", "z", "NX", 5, "a", 2, "b") == 1
    assert zall(r, "z") == ["a", "1", "b", "2"]
    assert x(r, "ZADD", "z", "XX", 7, "a", 8, "new") == 0
    assert zall(r, "z") == ["b", "2", "a", "7"]
    assert x(r, "ZADD", "z", "XX", "CH", 9, "a", 8, "new") == 1


def test_zadd_gt_lt(r):
    x(r, "ZADD", "z", 5, "a")
    assert x(r, "ZADD", "z", "GT", "CH", 3, "a") == 0
    assert x(r, "ZSCORE", "z", "a") == "5"
    assert x(r, "ZADD", "z", "GT", "CH", 6, "a") == 1
    assert x(r, "ZADD", "z", "LT", "CH", 7, "a") == 0
    assert x(r, "ZADD", "z", "LT", "CH", 2, "a") == 1
    assert x(r, "ZSCORE", "z", "a") == "2"
    # GT/LT never stop new members.
    assert x(r, "ZADD", "z", "GT", 1, "b") == 1
    assert x(r, "ZADD", "z", "XX", "GT", "CH", 10, "b", 10, "c") == 1
    assert zall(r, "z") == ["a", "2", "b", "10"]


def test_zadd_incr(r):
    assert x(r, "ZADD", "z", "INCR", 2, "a") == "2"
    assert x(r, "ZADD", "z", "INCR", 0.5, "a") == "2.5"
    assert x(r, "ZADD", "z", "NX", "INCR", 1, "a") is None
    assert x(r, "ZADD", "z", "XX", "INCR", 1, "nosuch") is None
    assert x(r, "ZADD", "z", "GT", "INCR", -1, "a") is None
    assert x(r, "ZADD", "z", "LT", "INCR", -1, "a") == "1.5"
    assert x(r, "ZADD", "nokey", "XX", "INCR", 1, "m") is None
    assert x(r, "EXISTS", "nokey") == 0


def test_zadd_errors(r):
    assert err(r, "ZADD", "z", "XX", "NX", 1, "a") == \
        "XX and NX options at the same time are not compatible"
    assert err(r, "ZADD", "z", "GT", "LT", 1, "a") == \
        "GT, LT, and/or NX options at the same time are not compatible"
    assert err(r, "ZADD", "z", "NX", "GT", 1, "a") == \
        "GT, LT, and/or NX options at the same time are not compatible"
    assert err(r, "ZADD", "z", "NX", "LT", 1, "a") == \
        "GT, LT, and/or NX options at the same time are not compatible"
    assert err(r, "ZADD", "z", "INCR", 1, "a", 2, "b") == \
        "INCR option supports a single increment-element pair"
    assert err(r, "ZADD", "z", 1, "a", 2) == SYNTAX
    assert err(r, "ZADD", "z", "NX", 1) == SYNTAX
    assert err(r, "ZADD", "z", "x", "a") == NOT_FLOAT
    assert err(r, "ZADD", "z", "nan", "a") == NOT_FLOAT
    assert err(r, "ZADD", "z", "1e400", "a") == NOT_FLOAT
    assert "wrong number of arguments" in err(r, "ZADD", "z", 1)
    # A bad score anywhere means nothing is added.
    assert err(r, "ZADD", "z", 1, "a", "bad", "b") == NOT_FLOAT
    assert x(r, "EXISTS", "z") == 0
    r.set("s", "v")
    assert err(r, "ZADD", "s", 1, "a") == WRONGTYPE


def test_zadd_infinities(r):
    x(r, "ZADD", "z", "+inf", "hi", "-inf", "lo", 0, "mid")
    assert zall(r, "z") == ["lo", "-inf", "mid", "0", "hi", "inf"]
    assert err(r, "ZADD", "z", "INCR", "-inf", "hi") == \
        "resulting score is not a number (NaN)"
    assert x(r, "ZSCORE", "z", "hi") == "inf"


# ---------------------------------------------------------------------------- ZINCRBY / ZREM

def test_zincrby(r):
    assert x(r, "ZINCRBY", "z", 1, "a") == "1"
    assert x(r, "ZINCRBY", "z", "1.5", "a") == "2.5"
    assert x(r, "ZINCRBY", "z", -10, "a") == "-7.5"
    assert x(r, "ZINCRBY", "z", "0.1", "b") == "0.10000000000000001"
    assert err(r, "ZINCRBY", "z", "abc", "a") == NOT_FLOAT
    x(r, "ZADD", "z", "inf", "i")
    assert err(r, "ZINCRBY", "z", "-inf", "i") == "resulting score is not a number (NaN)"
    r.set("s", "v")
    assert err(r, "ZINCRBY", "s", 1, "a") == WRONGTYPE
    assert "wrong number of arguments" in err(r, "ZINCRBY", "z", 1)


def test_zrem(r):
    x(r, "ZADD", "z", 1, "a", 2, "b", 3, "c")
    assert x(r, "ZREM", "z", "a", "x", "a") == 1
    assert x(r, "ZREM", "nokey", "a") == 0
    assert x(r, "ZREM", "z", "b", "c") == 2
    assert x(r, "EXISTS", "z") == 0
    r.set("s", "v")
    assert err(r, "ZREM", "s", "a") == WRONGTYPE


# ---------------------------------------------------------------------------- point reads

def test_zcard_zscore_zmscore(r):
    assert x(r, "ZCARD", "z") == 0
    assert x(r, "ZSCORE", "z", "a") is None
    assert x(r, "ZMSCORE", "z", "a", "b") == [None, None]
    x(r, "ZADD", "z", "1.1", "a", 2, "b", "-0.5", "c", "1e20", "d")
    assert x(r, "ZCARD", "z") == 4
    assert x(r, "ZSCORE", "z", "a") == "1.1000000000000001"
    assert x(r, "ZSCORE", "z", "c") == "-0.5"
    assert x(r, "ZSCORE", "z", "d") == "1e+20"
    assert x(r, "ZSCORE", "z", "nope") is None
    assert x(r, "ZMSCORE", "z", "b", "nope", "c") == ["2", None, "-0.5"]
    r.set("s", "v")
    for cmd in (("ZCARD", "s"), ("ZSCORE", "s", "a"), ("ZMSCORE", "s", "a")):
        assert err(r, *cmd) == WRONGTYPE


def test_zrank_zrevrank(r):
    x(r, "ZADD", "z", 1, "a", 2, "b", 3, "c")
    assert [x(r, "ZRANK", "z", m) for m in "abc"] == [0, 1, 2]
    assert [x(r, "ZREVRANK", "z", m) for m in "abc"] == [2, 1, 0]
    assert x(r, "ZRANK", "z", "nope") is None
    assert x(r, "ZREVRANK", "nokey", "a") is None
    r.set("s", "v")
    assert err(r, "ZRANK", "s", "a") == WRONGTYPE
    assert "wrong number of arguments" in err(r, "ZRANK", "z", "a", "WITHSCORE")


def test_zcount(r):
    x(r, "ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d")
    assert x(r, "ZCOUNT", "z", "-inf", "+inf") == 4
    assert x(r, "ZCOUNT", "z", 2, 3) == 2
    assert x(r, "ZCOUNT", "z", "(2", 3) == 1
    assert x(r, "ZCOUNT", "z", "(2", "(3") == 0
    assert x(r, "ZCOUNT", "z", 3, 2) == 0
    assert x(r, "ZCOUNT", "z", "(1", "inf") == 3
    assert x(r, "ZCOUNT", "nokey", 0, 1) == 0
    assert err(r, "ZCOUNT", "z", "x", 1) == RANGE_NOT_FLOAT
    assert err(r, "ZCOUNT", "z", 1, "(x") == RANGE_NOT_FLOAT
    assert err(r, "ZCOUNT", "z", 1, "nan") == RANGE_NOT_FLOAT
    r.set("s", "v")
    assert err(r, "ZCOUNT", "s", 0, 1) == WRONGTYPE


def test_zlexcount(r):
    x(r, "ZADD", "z", 0, "a", 0, "b", 0, "c", 0, "d", 0, "e")
    assert x(r, "ZLEXCOUNT", "z", "-", "+") == 5
    assert x(r, "ZLEXCOUNT", "z", "[b", "[d") == 3
    assert x(r, "ZLEXCOUNT", "z", "(b", "(d") == 1
    assert x(r, "ZLEXCOUNT", "z", "+", "-") == 0
    assert x(r, "ZLEXCOUNT", "z", "[c", "[c") == 1
    assert x(r, "ZLEXCOUNT", "z", "(c", "[c") == 0
    assert x(r, "ZLEXCOUNT", "nokey", "-", "+") == 0
    for bad in (("a", "+"), ("-", "b"), ("--", "+"), ("", "+")):
        assert err(r, "ZLEXCOUNT", "z", *bad) == LEX_BAD


# ---------------------------------------------------------------------------- ZRANGE family

def setup_abcde(r):
    x(r, "ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e")


def test_zrange_by_rank(r):
    setup_abcde(r)
    assert x(r, "ZRANGE", "z", 0, -1) == list("abcde")
    assert x(r, "ZRANGE", "z", 1, 2) == ["b", "c"]
    assert x(r, "ZRANGE", "z", -2, -1, "WITHSCORES") == ["d", "4", "e", "5"]
    assert x(r, "ZRANGE", "z", -100, 100) == list("abcde")
    assert x(r, "ZRANGE", "z", 3, 1) == []
    assert x(r, "ZRANGE", "z", 5, 10) == []
    assert x(r, "ZRANGE", "z", 0, 1, "REV") == ["e", "d"]
    assert x(r, "ZRANGE", "z", 0, 0, "REV", "WITHSCORES") == ["e", "5"]
    assert x(r, "ZREVRANGE", "z", 0, -1) == list("edcba")
    assert x(r, "ZREVRANGE", "z", 1, 2, "WITHSCORES") == ["d", "4", "c", "3"]
    assert x(r, "ZRANGE", "nokey", 0, -1) == []


def test_zrange_by_score(r):
    setup_abcde(r)
    assert x(r, "ZRANGE", "z", 2, 4, "BYSCORE") == ["b", "c", "d"]
    assert x(r, "ZRANGE", "z", "(2", "(4", "BYSCORE") == ["c"]
    assert x(r, "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", 1, 2) == ["b", "c"]
    assert x(r, "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", 1, -1) == list("bcde")
    assert x(r, "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", -1, 2) == []
    assert x(r, "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", 10, 2) == []
    assert x(r, "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", 0, 0) == []
    assert x(r, "ZRANGE", "z", 4, 2, "BYSCORE", "REV", "WITHSCORES") == \
        ["d", "4", "c", "3", "b", "2"]
    assert x(r, "ZRANGE", "z", "+inf", "(3", "BYSCORE", "REV", "LIMIT", 1, 5) == ["d"]
    assert x(r, "ZRANGE", "z", 2, 4, "BYSCORE", "REV") == []
    assert x(r, "ZRANGEBYSCORE", "z", "(1", 3, "WITHSCORES") == ["b", "2", "c", "3"]
    assert x(r, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 2, 2, "WITHSCORES") == \
        ["c", "3", "d", "4"]
    assert x(r, "ZREVRANGEBYSCORE", "z", "+inf", "-inf") == list("edcba")
    assert x(r, "ZREVRANGEBYSCORE", "z", 4, "(2", "LIMIT", 0, 1) == ["d"]
    assert x(r, "ZRANGEBYSCORE", "z", 10, 20) == []


def test_zrange_by_lex(r):
    x(r, "ZADD", "z", 0, "a", 0, "b", 0, "c", 0, "d", 0, "e")
    assert x(r, "ZRANGE", "z", "[b", "(d", "BYLEX") == ["b", "c"]
    assert x(r, "ZRANGE", "z", "+", "-", "BYLEX", "REV", "LIMIT", 1, 2) == ["d", "c"]
    assert x(r, "ZRANGEBYLEX", "z", "-", "+") == list("abcde")
    assert x(r, "ZRANGEBYLEX", "z", "-", "+", "LIMIT", 3, 10) == ["d", "e"]
    assert x(r, "ZRANGEBYLEX", "z", "(a", "[c") == ["b", "c"]
    assert x(r, "ZREVRANGEBYLEX", "z", "[c", "-") == ["c", "b", "a"]
    assert x(r, "ZREVRANGEBYLEX", "z", "+", "(c", "LIMIT", 0, 1) == ["e"]
    assert err(r, "ZRANGEBYLEX", "z", "a", "+") == LEX_BAD
    assert err(r, "ZRANGE", "z", "-", "c", "BYLEX") == LEX_BAD


def test_zrange_errors(r):
    setup_abcde(r)
    assert err(r, "ZRANGE", "z", 0, -1, "LIMIT", 0, 1) == \
        "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    assert err(r, "ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES") == \
        "syntax error, WITHSCORES not supported in combination with BYLEX"
    assert err(r, "ZRANGEBYLEX", "z", "-", "+", "WITHSCORES") == \
        "syntax error, WITHSCORES not supported in combination with BYLEX"
    assert err(r, "ZRANGE", "z", 0, -1, "BYSCORE", "BYLEX") == SYNTAX
    assert err(r, "ZRANGE", "z", 0, -1, "REV", "REV") == SYNTAX
    assert err(r, "ZRANGE", "z", 0, -1, "LIMIT", 0) == SYNTAX
    assert err(r, "ZRANGE", "z", 0, -1, "BOGUS") == SYNTAX
    assert err(r, "ZRANGE", "z", "a", -1) == NOT_INT
    assert err(r, "ZRANGE", "z", 0, 1, "BYSCORE", "LIMIT", "x", 1) == NOT_INT
    assert err(r, "ZRANGE", "z", "x", 1, "BYSCORE") == RANGE_NOT_FLOAT
    assert err(r, "ZREVRANGE", "z", 0, 1, "BYSCORE") == SYNTAX
    assert err(r, "ZREVRANGE", "z", 0, 1, "REV") == SYNTAX
    assert err(r, "ZRANGEBYSCORE", "z", 0, 1, "BYLEX") == SYNTAX
    assert err(r, "ZRANGEBYSCORE", "z", 0, 1, "REV") == SYNTAX
    assert err(r, "ZREVRANGEBYSCORE", "z", "x", 1) == RANGE_NOT_FLOAT
    r.set("s", "v")
    assert err(r, "ZRANGE", "s", 0, -1) == WRONGTYPE
    assert err(r, "ZRANGEBYSCORE", "s", 0, 1) == WRONGTYPE


# ---------------------------------------------------------------------------- ZREMRANGEBY*

def test_zremrangebyrank(r):
    setup_abcde(r)
    assert x(r, "ZREMRANGEBYRANK", "z", 1, 2) == 2
    assert x(r, "ZRANGE", "z", 0, -1) == ["a", "d", "e"]
    assert x(r, "ZREMRANGEBYRANK", "z", 5, 10) == 0
    assert x(r, "ZREMRANGEBYRANK", "z", -1, -1) == 1
    assert x(r, "ZREMRANGEBYRANK", "z", 0, -1) == 2
    assert x(r, "EXISTS", "z") == 0
    assert x(r, "ZREMRANGEBYRANK", "nokey", 0, -1) == 0
    assert err(r, "ZREMRANGEBYRANK", "z", "a", 1) == NOT_INT


def test_zremrangebyscore(r):
    setup_abcde(r)
    assert x(r, "ZREMRANGEBYSCORE", "z", "(1", 3) == 2
    assert x(r, "ZRANGE", "z", 0, -1) == ["a", "d", "e"]
    assert x(r, "ZREMRANGEBYSCORE", "z", 10, 20) == 0
    assert x(r, "ZREMRANGEBYSCORE", "z", "-inf", "+inf") == 3
    assert x(r, "EXISTS", "z") == 0
    assert err(r, "ZREMRANGEBYSCORE", "z", "x", 1) == RANGE_NOT_FLOAT


def test_zremrangebylex(r):
    x(r, "ZADD", "z", 0, "a", 0, "b", 0, "c", 0, "d")
    assert x(r, "ZREMRANGEBYLEX", "z", "[b", "(d") == 2
    assert x(r, "ZRANGE", "z", 0, -1) == ["a", "d"]
    assert x(r, "ZREMRANGEBYLEX", "z", "-", "+") == 2
    assert x(r, "EXISTS", "z") == 0
    assert err(r, "ZREMRANGEBYLEX", "z", "b", "+") == LEX_BAD
    r.set("s", "v")
    assert err(r, "ZREMRANGEBYLEX", "s", "-", "+") == WRONGTYPE


# ---------------------------------------------------------------------------- ZPOP*

def test_zpop(r):
    setup_abcde(r)
    assert x(r, "ZPOPMIN", "z") == ["a", "1"]
    assert x(r, "ZPOPMAX", "z") == ["e", "5"]
    assert x(r, "ZPOPMIN", "z", 2) == ["b", "2", "c", "3"]
    assert x(r, "ZPOPMAX", "z", 0) == []
    assert x(r, "ZPOPMAX", "z", 10) == ["d", "4"]
    assert x(r, "EXISTS", "z") == 0
    assert x(r, "ZPOPMIN", "z") == []
    assert x(r, "ZPOPMIN", "z", 3) == []


def test_zpop_errors(r):
    x(r, "ZADD", "z", 1, "a")
    assert err(r, "ZPOPMIN", "z", -1) == "value is out of range, must be positive"
    assert err(r, "ZPOPMIN", "z", "x") == "value is out of range, must be positive"
    assert err(r, "ZPOPMIN", "z", 1, 2) == SYNTAX
    r.set("s", "v")
    assert err(r, "ZPOPMAX", "s") == WRONGTYPE
    assert err(r, "ZPOPMAX", "s", 0) == WRONGTYPE


# ---------------------------------------------------------------------------- ZRANDMEMBER

def test_zrandmember(r):
    assert x(r, "ZRANDMEMBER", "nokey") is None
    assert x(r, "ZRANDMEMBER", "nokey", 5) == []
    setup_abcde(r)
    assert x(r, "ZRANDMEMBER", "z") in list("abcde")
    got = x(r, "ZRANDMEMBER", "z", 3)
    assert len(got) == 3 and len(set(got)) == 3 and set(got) <= set("abcde")
    assert sorted(x(r, "ZRANDMEMBER", "z", 10)) == list("abcde")
    rep = x(r, "ZRANDMEMBER", "z", -20)
    assert len(rep) == 20 and set(rep) <= set("abcde")
    assert x(r, "ZRANDMEMBER", "z", 0) == []
    ws = x(r, "ZRANDMEMBER", "z", 2, "WITHSCORES")
    assert len(ws) == 4
    for m, s in zip(ws[::2], ws[1::2]):
        assert x(r, "ZSCORE", "z", m) == s
    ws = x(r, "ZRANDMEMBER", "z", -7, "WITHSCORES")
    assert len(ws) == 14
    assert err(r, "ZRANDMEMBER", "z", 1, "WITHSCORE") == SYNTAX
    assert err(r, "ZRANDMEMBER", "z", 1, "WITHSCORES", "x") == SYNTAX
    assert err(r, "ZRANDMEMBER", "z", "x") == NOT_INT
    assert err(r, "ZRANDMEMBER", "z", "-9223372036854775808") == (
        "value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807")
    assert err(r, "ZRANDMEMBER", "z", "-9223372036854775807", "WITHSCORES") == \
        "value is out of range"
    r.set("s", "v")
    assert err(r, "ZRANDMEMBER", "s") == WRONGTYPE
    assert err(r, "ZRANDMEMBER", "s", 0) == WRONGTYPE


def test_zrandmember_big_distinct(r):
    x(r, "ZADD", "z", *[v for i in range(300) for v in (i, "m%d" % i)])
    got = x(r, "ZRANDMEMBER", "z", 100)
    assert len(got) == 100 and len(set(got)) == 100


# ---------------------------------------------------------------------------- ZSCAN

def test_zscan_small(r):
    x(r, "ZADD", "z", "1.5", "a", 2, "b", "-3", "c", "1e20", "d")
    cur, items = x(r, "ZSCAN", "z", 0)
    assert cur == "0"
    assert dict(zip(items[::2], items[1::2])) == \
        {"a": "1.5", "b": "2", "c": "-3", "d": "1e+20"}
    assert x(r, "ZSCAN", "z", 0, "MATCH", "[ab]") == ["0", ["a", "1.5", "b", "2"]]
    assert x(r, "ZSCAN", "nokey", 0) == ["0", []]
    assert x(r, "ZSCAN", "nokey", 0, "COUNT", 0) == ["0", []]
    assert err(r, "ZSCAN", "z", 0, "COUNT", 0) == SYNTAX
    assert err(r, "ZSCAN", "z", 0, "COUNT", "x") == NOT_INT
    assert err(r, "ZSCAN", "z", 0, "MATCH") == SYNTAX
    assert err(r, "ZSCAN", "z", 0, "TYPE", "zset") == SYNTAX
    assert err(r, "ZSCAN", "z", "abc") == "invalid cursor"
    r.set("s", "v")
    assert err(r, "ZSCAN", "s", 0) == WRONGTYPE


def test_zscan_big_full_iteration(r):
    n = 1000
    x(r, "ZADD", "z", *[v for i in range(n) for v in (i, "m%d" % i)])
    seen = {}
    cur = "0"
    rounds = 0
    while True:
        cur, items = x(r, "ZSCAN", "z", cur, "COUNT", 50)
        seen.update(zip(items[::2], items[1::2]))
        rounds += 1
        if cur == "0":
            break
    assert rounds > 1
    assert seen == {"m%d" % i: str(i) for i in range(n)}
    cur, items = "0", []
    matched = set()
    while True:
        cur, items = x(r, "ZSCAN", "z", cur, "MATCH", "m1?", "COUNT", 100)
        matched.update(items[::2])
        if cur == "0":
            break
    assert matched == {"m%d" % i for i in range(10, 20)}


# ---------------------------------------------------------------------------- set algebra

def test_zunionstore(r):
    a, b, d = MANY[0], MANY[1], MANY[2]
    x(r, "ZADD", a, 1, "x", 2, "y")
    x(r, "ZADD", b, 10, "y", 20, "z")
    assert x(r, "ZUNIONSTORE", d, 2, a, b) == 3
    assert zall(r, d) == ["x", "1", "y", "12", "z", "20"]
    assert x(r, "ZUNIONSTORE", d, 2, a, b, "WEIGHTS", 2, "0.5") == 3
    assert zall(r, d) == ["x", "2", "y", "9", "z", "10"]
    assert x(r, "ZUNIONSTORE", d, 2, a, b, "AGGREGATE", "MIN") == 3
    assert zall(r, d) == ["x", "1", "y", "2", "z", "20"]
    assert x(r, "ZUNIONSTORE", d, 3, a, b, "nokey", "AGGREGATE", "max", "WEIGHTS", 1, 1, 5) == 3
    assert zall(r, d) == ["x", "1", "y", "10", "z", "20"]
    # Destination of another type is replaced; destination may be a source.
    r.set(d, "string")
    assert x(r, "ZUNIONSTORE", d, 1, a) == 2
    assert x(r, "TYPE", d) == "zset"
    assert x(r, "ZUNIONSTORE", a, 2, a, b) == 3
    assert zall(r, a) == ["x", "1", "y", "12", "z", "20"]


def test_zunionstore_empty_result_deletes(r):
    d = MANY[3]
    r.set(d, "v")
    assert x(r, "ZUNIONSTORE", d, 2, "nokey1", "nokey2") == 0
    assert x(r, "EXISTS", d) == 0


def test_zinterstore(r):
    a, b, c, d = MANY[0], MANY[1], MANY[4], MANY[2]
    x(r, "ZADD", a, 1, "x", 2, "y", 3, "w")
    x(r, "ZADD", b, 10, "y", 20, "x", 30, "z")
    assert x(r, "ZINTERSTORE", d, 2, a, b) == 2
    assert zall(r, d) == ["y", "12", "x", "21"]
    assert x(r, "ZINTERSTORE", d, 2, a, b, "AGGREGATE", "MAX", "WEIGHTS", 3, 1) == 2
    assert zall(r, d) == ["y", "10", "x", "20"]
    r.set(d, "v")
    assert x(r, "ZINTERSTORE", d, 3, a, b, c) == 0
    assert x(r, "EXISTS", d) == 0


def test_zdiffstore(r):
    a, b, d = MANY[0], MANY[1], MANY[2]
    x(r, "ZADD", a, 1, "x", 2, "y", 3, "w")
    x(r, "ZADD", b, 10, "y")
    assert x(r, "ZDIFFSTORE", d, 2, a, b) == 2
    assert zall(r, d) == ["x", "1", "w", "3"]
    assert x(r, "ZDIFFSTORE", d, 1, "nokey") == 0
    assert x(r, "EXISTS", d) == 0


def test_zunion_zinter_zdiff(r):
    a, b = MANY[0], MANY[1]
    x(r, "ZADD", a, 1, "x", 2, "y")
    x(r, "ZADD", b, 10, "y", 20, "z")
    assert x(r, "ZUNION", 2, a, b) == ["x", "y", "z"]
    assert x(r, "ZUNION", 2, a, b, "WITHSCORES") == ["x", "1", "y", "12", "z", "20"]
    assert x(r, "ZINTER", 2, a, b, "WITHSCORES", "AGGREGATE", "MIN") == ["y", "2"]
    assert x(r, "ZDIFF", 2, a, b, "WITHSCORES") == ["x", "1"]
    assert x(r, "ZDIFF", 2, b, a) == ["z"]
    assert err(r, "ZDIFF", 2, a, b, "WEIGHTS", 1, 1) == SYNTAX
    assert err(r, "ZUNIONSTORE", MANY[2], 2, a, b, "WITHSCORES") == SYNTAX


def test_algebra_weights_nan_and_inf(r):
    a, b, d = MANY[0], MANY[1], MANY[2]
    x(r, "ZADD", a, "inf", "x")
    x(r, "ZADD", b, "-inf", "x")
    assert x(r, "ZUNIONSTORE", d, 2, a, b) == 1
    assert x(r, "ZSCORE", d, "x") == "0"
    assert x(r, "ZUNIONSTORE", d, 1, a, "WEIGHTS", 0) == 1
    assert x(r, "ZSCORE", d, "x") == "0"


def test_algebra_errors(r):
    a, b, d = MANY[0], MANY[1], MANY[2]
    x(r, "ZADD", a, 1, "x")
    assert err(r, "ZUNIONSTORE", d, 0, a) == \
        "at least 1 input key is needed for 'zunionstore' command"
    assert err(r, "ZINTERSTORE", d, -1, a) == \
        "at least 1 input key is needed for 'zinterstore' command"
    assert err(r, "ZUNION", 0, a) == "at least 1 input key is needed for 'zunion' command"
    assert err(r, "ZUNIONSTORE", d, "x", a) == NOT_INT
    assert err(r, "ZUNIONSTORE", d, 3, a, b) == SYNTAX
    assert err(r, "ZUNIONSTORE", d, 2, a, b, "WEIGHTS", 1) == SYNTAX
    assert err(r, "ZUNIONSTORE", d, 2, a, b, "WEIGHTS", 1, "x") == "weight value is not a float"
    assert err(r, "ZUNIONSTORE", d, 2, a, b, "AGGREGATE", "AVG") == SYNTAX
    assert err(r, "ZUNIONSTORE", d, 2, a, b, "AGGREGATE") == SYNTAX
    assert err(r, "ZINTER", 1, a, "BOGUS") == SYNTAX
    r.set(b, "v")
    assert err(r, "ZUNIONSTORE", d, 2, a, b) == WRONGTYPE
    # A wrong-type source is reported before a bad option.
    assert err(r, "ZINTERSTORE", d, 2, a, b, "WEIGHTS", "x", "y") == WRONGTYPE
    assert x(r, "EXISTS", d) == 0


def test_algebra_many_shards(r):
    keys = ["src%d" % i for i in range(12)]
    for i, k in enumerate(keys):
        x(r, "ZADD", k, i, "common", 1, "only%d" % i)
    assert x(r, "ZUNIONSTORE", "dst", len(keys), *keys) == 13
    assert x(r, "ZSCORE", "dst", "common") == str(sum(range(12)))
    assert x(r, "ZINTERSTORE", "dst2", len(keys), *keys, "AGGREGATE", "MAX") == 1
    assert zall(r, "dst2") == ["common", "11"]


# ---------------------------------------------------------------------------- encodings

def test_encoding_thresholds(r):
    x(r, "ZADD", "z", *[v for i in range(128) for v in (i, "m%d" % i)])
    assert x(r, "OBJECT", "ENCODING", "z") == "listpack"
    x(r, "ZADD", "z", 999, "extra")
    assert x(r, "OBJECT", "ENCODING", "z") == "skiplist"
    x(r, "ZREMRANGEBYRANK", "z", 0, 100)
    assert x(r, "OBJECT", "ENCODING", "z") == "skiplist"  # never converts back
    x(r, "ZADD", "y", 1, "a")
    assert x(r, "OBJECT", "ENCODING", "y") == "listpack"
    x(r, "ZADD", "y", 2, "b" * 65)
    assert x(r, "OBJECT", "ENCODING", "y") == "skiplist"
    x(r, "ZADD", "w", 1, "c" * 64)
    assert x(r, "OBJECT", "ENCODING", "w") == "listpack"
    # Store results are encoded from scratch.
    x(r, "ZUNIONSTORE", "z2", 1, "z")
    assert x(r, "OBJECT", "ENCODING", "z2") == "listpack"


def test_encoding_config(r):
    old = r.config_get("zset-max-listpack-entries")
    try:
        r.config_set("zset-max-listpack-entries", 2)
        x(r, "ZADD", "z", 1, "a", 2, "b", 3, "c")
        assert x(r, "OBJECT", "ENCODING", "z") == "skiplist"
    finally:
        r.config_set("zset-max-listpack-entries", 128)
    del old


# ---------------------------------------------------------------------------- keyspace

def test_dump_restore_roundtrip(r):
    x(r, "ZADD", "small", "1.5", "a", "-inf", "b", 3, "12345")
    x(r, "ZADD", "big", *[v for i in range(200) for v in (i / 3, "m%d" % i)])
    for key in ("small", "big"):
        before = zall(r, key)
        payload = r.dump(key)
        x(r, "RESTORE", key + "2", 0, payload)
        assert zall(r, key + "2") == before
        assert x(r, "OBJECT", "ENCODING", key + "2") == x(r, "OBJECT", "ENCODING", key)


def test_restore_redis_payloads(r):
    # DUMP output of redis-server 7.0.15: a listpack set (type 17) with an integer-encoded
    # member and score, and a skiplist set (type 5).
    small = (b'\x11##\x00\x00\x00\x08\x00\xf190\x03\xdf\xfd\x02\x81a\x02\x01\x01\x81b\x02'
             b'\x832.5\x04\x81c\x02\x83inf\x04\xff\n\x00\xe4\xd2&\xb3m\xa6q\x13')
    big = (b'\x05\x02\x01x\x00\x00\x00\x00\x00\x00\x00@\xc3\t@A\x01mm\xe04\x00\x01mm\x00'
           b'\x00\x00\x00\x00\x00\xf0?\n\x00kD\xbf\xbbI\xb0\xf8\xbd')
    x(r, "RESTORE", "small", 0, small)
    assert zall(r, "small") == ["12345", "-3", "a", "1", "b", "2.5", "c", "inf"]
    assert x(r, "OBJECT", "ENCODING", "small") == "listpack"
    x(r, "RESTORE", "big", 0, big)
    assert zall(r, "big") == ["m" * 65, "1", "x", "2"]
    assert x(r, "OBJECT", "ENCODING", "big") == "skiplist"


def test_copy_and_memory_usage(r):
    x(r, "ZADD", "z", 1, "a", 2, "b")
    assert x(r, "COPY", "z", "z2") == 1
    x(r, "ZADD", "z", 3, "c")
    assert zall(r, "z2") == ["a", "1", "b", "2"]
    assert x(r, "MEMORY", "USAGE", "z") > 0


def test_watch_sees_zset_writes(server, r):
    x(r, "ZADD", "z", 1, "a")
    other = server.client()
    try:
        for write in (("ZADD", "z", 2, "b"), ("ZREM", "z", "b"), ("ZINCRBY", "z", 1, "a"),
                      ("ZPOPMIN", "z")):
            p = r.pipeline(transaction=True)
            p.watch("z")
            other.execute_command(*write)
            p.multi()
            p.execute_command("ZCARD", "z")
            with pytest.raises(redis.WatchError):
                p.execute()
            p.reset()
    finally:
        other.close()


# ---------------------------------------------------------------------------- blocking

def test_bzpop_immediate(r):
    x(r, "ZADD", "b", 1, "x", 2, "y")
    assert x(r, "BZPOPMIN", "a", "b", 1) == ["b", "x", "1"]
    assert x(r, "BZPOPMAX", "a", "b", 1) == ["b", "y", "2"]
    assert x(r, "EXISTS", "b") == 0
    assert x(r, "BZPOPMIN", "a", "b", "0.05") is None


def test_bzpop_errors(r):
    assert err(r, "BZPOPMIN", "a", -1) == "timeout is negative"
    assert err(r, "BZPOPMIN", "a", "abc") == "timeout is not a float or out of range"
    r.set("s", "v")
    assert err(r, "BZPOPMAX", "s", 1) == WRONGTYPE
    x(r, "ZADD", "z", 1, "a")
    assert x(r, "BZPOPMAX", "z", "s", 1) == ["z", "a", "1"]


def test_bzpop_wakes_on_zadd(server, r):
    result = {}

    def waiter():
        c = server.client()
        c.response_callbacks.clear()
        result["v"] = c.execute_command("BZPOPMIN", "q1", "q2", 5)
        c.close()

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.2)
    x(r, "ZADD", "q2", 7, "m", 3, "n")
    t.join(10)
    assert result["v"] == ["q2", "n", "3"]
    assert zall(r, "q2") == ["m", "7"]


# ---------------------------------------------------------------------------- RESP3 / raw

def test_resp2_raw_scores(raw):
    raw.cmd("ZADD", "z", "1.1", "a", "inf", "b")
    raw.send(b"*3\r\n$6\r\nZSCORE\r\n$1\r\nz\r\n$1\r\na\r\n")
    assert raw.read_line_raw() == b"$18"
    assert raw.read_line_raw() == b"1.1000000000000001"
    assert raw.cmd("ZSCORE", "z", "b") == b"inf"
    assert raw.cmd("ZSCORE", "z", "nope") is None


def test_resp3_scores(raw):
    raw.cmd("HELLO", "3")
    raw.cmd("ZADD", "z", "1.5", "a", 2, "b", "-inf", "c", 4, "d")
    assert raw.cmd("ZSCORE", "z", "a") == 1.5
    assert raw.cmd("ZSCORE", "z", "c") == -math.inf
    raw.send(b"*3\r\n$6\r\nZSCORE\r\n$1\r\nz\r\n$1\r\nb\r\n")
    assert raw.read_line_raw() == b",2"
    assert raw.cmd("ZSCORE", "z", "nope") is None
    assert raw.cmd("ZMSCORE", "z", "a", "nope") == [1.5, None]
    assert raw.cmd("ZINCRBY", "z", 1, "a") == 2.5
    assert raw.cmd("ZADD", "z", "INCR", 1, "a") == 3.5
    assert raw.cmd("ZRANGE", "z", 0, 1, "WITHSCORES") == [[b"c", -math.inf], [b"b", 2.0]]
    assert raw.cmd("ZRANGEBYSCORE", "z", 3, 4, "WITHSCORES") == [[b"a", 3.5], [b"d", 4.0]]
    assert raw.cmd("ZUNION", 1, "z", "WITHSCORES")[0] == [b"c", -math.inf]
    assert raw.cmd("ZPOPMIN", "z") == [b"c", -math.inf]
    assert raw.cmd("ZPOPMIN", "z", 1) == [[b"b", 2.0]]
    assert raw.cmd("ZPOPMAX", "z", 5) == [[b"d", 4.0], [b"a", 3.5]]
    raw.cmd("ZADD", "z", 1, "x", 2, "y")
    got = raw.cmd("ZRANDMEMBER", "z", 2, "WITHSCORES")
    assert sorted(got) == [[b"x", 1.0], [b"y", 2.0]]
    assert raw.cmd("ZSCAN", "z", 0) == [b"0", [b"x", b"1", b"y", b"2"]]
    assert raw.cmd("BZPOPMAX", "z", 1) == [b"z", b"y", 2.0]
    assert raw.cmd("ZRANDMEMBER", "nokey") is None
    assert isinstance(raw.cmd("ZADD", "s"), Error)


# ---------------------------------------------------------------------------- model check

def test_random_ops_against_model(r):
    """Random writes and reads on a set big enough to be a skiplist, checked against a dict."""
    rnd = random.Random(7)
    model = {}
    members = ["m%d" % i for i in range(400)]

    def ordered():
        return sorted(model.items(), key=lambda kv: (kv[1], kv[0]))

    for step in range(1500):
        op = rnd.random()
        m = rnd.choice(members)
        if op < 0.5:
            s = rnd.randint(-50, 50)
            x(r, "ZADD", "z", s, m)
            model[m] = s
        elif op < 0.65:
            assert x(r, "ZREM", "z", m) == (1 if m in model else 0)
            model.pop(m, None)
        elif op < 0.75:
            inc = rnd.randint(-5, 5)
            model[m] = model.get(m, 0) + inc
            assert float(x(r, "ZINCRBY", "z", inc, m)) == model[m]
        elif op < 0.85 and model:
            o = ordered()
            i = rnd.randrange(len(o))
            assert x(r, "ZRANK", "z", o[i][0]) == i
            assert x(r, "ZREVRANK", "z", o[i][0]) == len(o) - 1 - i
        elif op < 0.95:
            lo, hi = sorted((rnd.randint(-60, 60), rnd.randint(-60, 60)))
            want = [k for k, v in ordered() if lo <= v <= hi]
            assert x(r, "ZRANGEBYSCORE", "z", lo, hi) == want
            assert x(r, "ZCOUNT", "z", lo, hi) == len(want)
        else:
            a, b = rnd.randint(-30, 30), rnd.randint(-30, 30)
            o = [k for k, _ in ordered()]
            n = len(o)
            sa, sb = (a + n if a < 0 else a), (b + n if b < 0 else b)
            sa = max(sa, 0)
            want = o[sa:sb + 1] if sa <= sb and sa < n else []
            assert x(r, "ZRANGE", "z", a, b) == want
    assert x(r, "ZCARD", "z") == len(model)
    assert x(r, "ZRANGE", "z", 0, -1) == [k for k, _ in ordered()]
