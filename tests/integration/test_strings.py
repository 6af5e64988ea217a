"""
Integration tests for the strings module: GET/SET and variants, MGET/MSET/MSETNX, GETSET,
GETDEL, GETEX, APPEND, STRLEN, INCR family, INCRBYFLOAT, GETRANGE/SUBSTR, SETRANGE and LCS,
in RESP2 and (for a subset) RESP3. Every expectation holds on redis-server 7.0 too:
DF_TEST_SERVER=redis runs them against it. The bitmap commands are in test_bitmaps.py.
"""
import time

import pytest
import redis

from resp import Error, Simple
from helpers import WRONGTYPE, NOT_INT, SYNTAX, err


@pytest.fixture
def r(r):
    """The shared client without redis-py's reply callbacks: tests see Redis's own replies
    (INCRBYFLOAT's exact text, +OK rather than True)."""
    r.response_callbacks.clear()
    return r


# ---------------------------------------------------------------------------- GET / SET

def test_set_get_basic(r):
    assert r.set("k", "v") == "OK"
    assert r.get("k") == "v"
    assert r.get("missing") is None


def test_set_overwrites_and_clears_ttl(r):
    r.set("k", "a", ex=100)
    assert r.ttl("k") > 0
    r.set("k", "b")
    assert r.get("k") == "b"
    assert r.ttl("k") == -1


def test_set_overwrites_other_type(r):
    r.lpush("l", "x")
    assert r.set("l", "s") == "OK"
    assert r.type("l") == "string"


def test_get_wrongtype(r):
    r.lpush("l", "x")
    assert err(r, "GET", "l") == WRONGTYPE


def test_set_binary_and_empty(rb):
    v = bytes(range(256)) * 3
    rb.set(b"bin\x00key", v)
    assert rb.get(b"bin\x00key") == v
    rb.set("e", b"")
    assert rb.get("e") == b""
    assert rb.exists("e") == 1


def test_set_large_value(rb):
    v = b"x" * (1 << 20)
    rb.set("big", v)
    assert rb.get("big") == v
    assert rb.strlen("big") == 1 << 20


def test_set_ex_px(r):
    assert r.execute_command("SET", "k", "v", "EX", "100") == "OK"
    assert 0 < r.ttl("k") <= 100
    assert r.execute_command("SET", "k", "v", "PX", "100000") == "OK"
    assert 0 < r.pttl("k") <= 100000


def test_set_exat_pxat(r):
    now = int(time.time())
    r.execute_command("SET", "k", "v", "EXAT", now + 100)
    assert 0 < r.ttl("k") <= 101
    r.execute_command("SET", "k2", "v", "PXAT", now * 1000 + 100000)
    assert 0 < r.pttl("k2") <= 101000


def test_set_exat_in_past_removes_key(r):
    assert r.execute_command("SET", "k", "v", "EXAT", "1") == "OK"
    assert r.get("k") is None
    assert r.exists("k") == 0


def test_set_px_expires(r):
    r.execute_command("SET", "k", "v", "PX", "30")
    time.sleep(0.2)
    assert r.get("k") is None


def test_set_keepttl(r):
    r.set("k", "a", ex=100)
    assert r.execute_command("SET", "k", "b", "KEEPTTL") == "OK"
    assert r.get("k") == "b"
    assert 0 < r.ttl("k") <= 100


def test_set_nx(r):
    assert r.execute_command("SET", "k", "1", "NX") == "OK"
    assert r.execute_command("SET", "k", "2", "NX") is None
    assert r.get("k") == "1"


def test_set_xx(r):
    assert r.execute_command("SET", "k", "1", "XX") is None
    assert r.exists("k") == 0
    r.set("k", "a")
    assert r.execute_command("SET", "k", "2", "XX") == "OK"
    assert r.get("k") == "2"


def test_set_nx_xx_on_other_type(r):
    r.lpush("l", "x")
    assert r.execute_command("SET", "l", "v", "NX") is None
    assert r.execute_command("SET", "l", "v", "XX") == "OK"
    assert r.get("l") == "v"


def test_set_get_option(r):
    assert r.execute_command("SET", "k", "1", "GET") is None
    assert r.execute_command("SET", "k", "2", "GET") == "1"
    assert r.get("k") == "2"


def test_set_get_with_nx_xx(r):
    r.set("k", "old")
    assert r.execute_command("SET", "k", "new", "NX", "GET") == "old"
    assert r.get("k") == "old"
    assert r.execute_command("SET", "m", "new", "XX", "GET") is None
    assert r.exists("m") == 0


def test_set_get_wrongtype(r):
    r.lpush("l", "x")
    assert err(r, "SET", "l", "v", "GET") == WRONGTYPE
    assert r.type("l") == "list"


def test_set_options_case_insensitive(r):
    assert r.execute_command("set", "k", "v", "ex", "100", "nx") == "OK"
    assert 0 < r.ttl("k") <= 100


def test_set_syntax_errors(r):
    assert err(r, "SET", "k", "v", "NX", "XX") == SYNTAX
    assert err(r, "SET", "k", "v", "EX") == SYNTAX
    assert err(r, "SET", "k", "v", "EX", "10", "PX", "100") == SYNTAX
    assert err(r, "SET", "k", "v", "KEEPTTL", "EX", "10") == SYNTAX
    assert err(r, "SET", "k", "v", "EX", "10", "KEEPTTL") == SYNTAX
    assert err(r, "SET", "k", "v", "PERSIST") == SYNTAX
    assert err(r, "SET", "k", "v", "FOO") == SYNTAX
    assert err(r, "SET", "k", "v", "EX", "abc", "FOO") == SYNTAX
    assert r.exists("k") == 0


def test_set_repeated_options_allowed(r):
    assert r.execute_command("SET", "k", "v", "EX", "10", "EX", "20") == "OK"
    assert 10 < r.ttl("k") <= 20
    assert r.execute_command("SET", "k", "v", "NX", "NX") is None
    assert r.execute_command("SET", "k", "w", "GET", "GET") == "v"


def test_set_invalid_expire(r):
    msg = "invalid expire time in 'set' command"
    assert err(r, "SET", "k", "v", "EX", "0") == msg
    assert err(r, "SET", "k", "v", "EX", "-1") == msg
    assert err(r, "SET", "k", "v", "PX", "0") == msg
    assert err(r, "SET", "k", "v", "EXAT", "0") == msg
    assert err(r, "SET", "k", "v", "EX", "9223372036854775") == msg
    assert err(r, "SET", "k", "v", "PX", "9223372036854775807") == msg
    assert err(r, "SET", "k", "v", "EX", "abc") == NOT_INT
    assert err(r, "SET", "k", "v", "PX", "1.5") == NOT_INT
    assert r.exists("k") == 0


def test_set_arity(r):
    assert err(r, "SET", "k") == "wrong number of arguments for 'set' command"
    assert err(r, "GET") == "wrong number of arguments for 'get' command"
    assert err(r, "GET", "a", "b") == "wrong number of arguments for 'get' command"


def test_set_encodings(r):
    r.set("i", "12345")
    assert r.object("encoding", "i") == "int"
    r.set("e", "hello")
    assert r.object("encoding", "e") == "embstr"
    r.set("w", "x" * 100)
    assert r.object("encoding", "w") == "raw"


# ---------------------------------------------------------------------------- SETNX / SETEX / PSETEX

def test_setnx(r):
    assert r.setnx("k", "a") == 1
    assert r.setnx("k", "b") == 0
    assert r.get("k") == "a"


def test_setnx_other_type(r):
    r.lpush("l", "x")
    assert r.execute_command("SETNX", "l", "v") == 0


def test_setex(r):
    assert r.execute_command("SETEX", "k", "100", "v") == "OK"
    assert r.get("k") == "v"
    assert 0 < r.ttl("k") <= 100


def test_psetex(r):
    assert r.execute_command("PSETEX", "k", "100000", "v") == "OK"
    assert r.get("k") == "v"
    assert 0 < r.pttl("k") <= 100000


def test_setex_errors(r):
    assert err(r, "SETEX", "k", "0", "v") == "invalid expire time in 'setex' command"
    assert err(r, "SETEX", "k", "-5", "v") == "invalid expire time in 'setex' command"
    assert err(r, "PSETEX", "k", "0", "v") == "invalid expire time in 'psetex' command"
    assert err(r, "SETEX", "k", "x", "v") == NOT_INT
    assert err(r, "SETEX", "k", "10") == "wrong number of arguments for 'setex' command"
    assert r.exists("k") == 0


def test_setex_overwrites_other_type(r):
    r.lpush("l", "x")
    assert r.execute_command("SETEX", "l", "100", "v") == "OK"
    assert r.get("l") == "v"


# ---------------------------------------------------------------------------- MGET / MSET / MSETNX

def test_mset_mget(r):
    assert r.execute_command("MSET", "a", "1", "b", "2", "c", "3") == "OK"
    assert r.mget("a", "b", "c", "nope") == ["1", "2", "3", None]


def test_mget_wrongtype_is_nil(r):
    r.set("a", "1")
    r.lpush("l", "x")
    assert r.mget("a", "l", "a") == ["1", None, "1"]


def test_mget_many_keys(r):
    keys = [f"key:{i}" for i in range(200)]
    r.mset({k: k.upper() for k in keys[::2]})
    got = r.mget(keys)
    assert got == [k.upper() if i % 2 == 0 else None for i, k in enumerate(keys)]


def test_mset_same_key_last_wins(r):
    r.execute_command("MSET", "a", "1", "a", "2")
    assert r.get("a") == "2"


def test_mset_clears_ttl_and_type(r):
    r.set("a", "x", ex=100)
    r.lpush("l", "x")
    r.execute_command("MSET", "a", "1", "l", "2")
    assert r.ttl("a") == -1
    assert r.get("l") == "2"


def test_mset_wrong_args(r):
    assert err(r, "MSET", "a", "1", "b") == "wrong number of arguments for 'mset' command"
    assert err(r, "MSET", "a") == "wrong number of arguments for 'mset' command"
    assert r.exists("a") == 0


def test_msetnx(r):
    assert r.execute_command("MSETNX", "a", "1", "b", "2") == 1
    assert r.execute_command("MSETNX", "b", "x", "c", "3") == 0
    assert r.mget("a", "b", "c") == ["1", "2", None]


def test_msetnx_other_type_counts_as_existing(r):
    r.lpush("l", "x")
    assert r.execute_command("MSETNX", "a", "1", "l", "2") == 0
    assert r.exists("a") == 0


def test_msetnx_wrong_args(r):
    assert err(r, "MSETNX", "a", "1", "b") == "wrong number of arguments for 'msetnx' command"


# ---------------------------------------------------------------------------- GETSET / GETDEL / GETEX

def test_getset(r):
    assert r.getset("k", "a") is None
    assert r.getset("k", "b") == "a"
    assert r.get("k") == "b"


def test_getset_clears_ttl(r):
    r.set("k", "a", ex=100)
    r.getset("k", "b")
    assert r.ttl("k") == -1


def test_getset_wrongtype(r):
    r.lpush("l", "x")
    assert err(r, "GETSET", "l", "v") == WRONGTYPE


def test_getdel(r):
    r.set("k", "v")
    assert r.execute_command("GETDEL", "k") == "v"
    assert r.exists("k") == 0
    assert r.execute_command("GETDEL", "k") is None


def test_getdel_wrongtype(r):
    r.lpush("l", "x")
    assert err(r, "GETDEL", "l") == WRONGTYPE
    assert r.exists("l") == 1


def test_getex_plain(r):
    r.set("k", "v", ex=100)
    assert r.execute_command("GETEX", "k") == "v"
    assert 0 < r.ttl("k") <= 100
    assert r.execute_command("GETEX", "missing") is None


def test_getex_ex_px(r):
    r.set("k", "v")
    assert r.execute_command("GETEX", "k", "EX", "100") == "v"
    assert 0 < r.ttl("k") <= 100
    assert r.execute_command("GETEX", "k", "PX", "50000") == "v"
    assert 0 < r.pttl("k") <= 50000


def test_getex_exat_pxat(r):
    r.set("k", "v")
    now = int(time.time())
    assert r.execute_command("GETEX", "k", "EXAT", now + 100) == "v"
    assert 0 < r.ttl("k") <= 101
    assert r.execute_command("GETEX", "k", "PXAT", now * 1000 + 50000) == "v"
    assert 0 < r.pttl("k") <= 51000


def test_getex_past_time_deletes(r):
    r.set("k", "v")
    assert r.execute_command("GETEX", "k", "EXAT", "1") == "v"
    assert r.exists("k") == 0


def test_getex_persist(r):
    r.set("k", "v", ex=100)
    assert r.execute_command("GETEX", "k", "PERSIST") == "v"
    assert r.ttl("k") == -1


def test_getex_errors(r):
    r.set("k", "v")
    assert err(r, "GETEX", "k", "EX") == SYNTAX
    assert err(r, "GETEX", "k", "EX", "10", "PERSIST") == SYNTAX
    assert err(r, "GETEX", "k", "PERSIST", "PX", "10") == SYNTAX
    assert err(r, "GETEX", "k", "KEEPTTL") == SYNTAX
    assert err(r, "GETEX", "k", "NX") == SYNTAX
    assert err(r, "GETEX", "k", "EX", "0") == "invalid expire time in 'getex' command"
    assert err(r, "GETEX", "k", "EX", "x") == NOT_INT
    assert r.ttl("k") == -1


def test_getex_wrongtype(r):
    r.lpush("l", "x")
    assert err(r, "GETEX", "l") == WRONGTYPE
    assert err(r, "GETEX", "l", "BAD") == SYNTAX


# ---------------------------------------------------------------------------- APPEND / STRLEN

def test_append(r):
    assert r.append("k", "hello") == 5
    assert r.append("k", " world") == 11
    assert r.get("k") == "hello world"


def test_append_to_int_and_keeps_ttl(r):
    r.set("k", "12", ex=100)
    assert r.append("k", "34") == 4
    assert r.get("k") == "1234"
    assert 0 < r.ttl("k") <= 100
    assert r.object("encoding", "k") == "raw"


def test_append_empty(r):
    assert r.append("k", "") == 0
    assert r.exists("k") == 1
    assert r.get("k") == ""


def test_append_wrongtype(r):
    r.lpush("l", "x")
    assert err(r, "APPEND", "l", "v") == WRONGTYPE


def test_strlen(r):
    assert r.strlen("missing") == 0
    r.set("k", "hello")
    assert r.strlen("k") == 5
    r.set("n", "-1234")
    assert r.strlen("n") == 5
    r.lpush("l", "x")
    assert err(r, "STRLEN", "l") == WRONGTYPE


# ---------------------------------------------------------------------------- INCR family

def test_incr_decr(r):
    assert r.incr("n") == 1
    assert r.incr("n") == 2
    assert r.decr("n") == 1
    assert r.decr("m") == -1
    assert r.get("n") == "1"


def test_incrby_decrby(r):
    assert r.incrby("n", 10) == 10
    assert r.incrby("n", -3) == 7
    assert r.decrby("n", 10) == -3
    assert r.decrby("n", -5) == 2


def test_incr_keeps_ttl(r):
    r.set("n", "5", ex=100)
    r.incr("n")
    assert 0 < r.ttl("n") <= 100
    assert r.object("encoding", "n") == "int"


def test_incr_not_integer(r):
    for v in ["abc", "1.5", " 1", "1 ", "+1", "01", "", "99999999999999999999"]:
        r.set("n", v)
        assert err(r, "INCR", "n") == NOT_INT, v
        assert r.get("n") == v


def test_incrby_bad_increment(r):
    assert err(r, "INCRBY", "n", "abc") == NOT_INT
    assert err(r, "INCRBY", "n", "1.0") == NOT_INT
    assert err(r, "DECRBY", "n", "9223372036854775808") == NOT_INT
    assert r.exists("n") == 0


def test_incr_overflow(r):
    r.set("n", "9223372036854775807")
    assert err(r, "INCR", "n") == "increment or decrement would overflow"
    r.set("n", "-9223372036854775808")
    assert err(r, "DECR", "n") == "increment or decrement would overflow"
    assert err(r, "INCRBY", "n", "-1") == "increment or decrement would overflow"
    assert r.get("n") == "-9223372036854775808"


def test_decrby_min(r):
    r.set("n", "1")
    assert err(r, "DECRBY", "n", "-9223372036854775808") == "decrement would overflow"
    assert err(r, "DECRBY", "nokey", "-9223372036854775808") == "decrement would overflow"
    assert r.incrby("m", -9223372036854775808) == -9223372036854775808


def test_incr_wrongtype(r):
    r.lpush("l", "x")
    assert err(r, "INCR", "l") == WRONGTYPE
    assert err(r, "DECRBY", "l", "2") == WRONGTYPE


def test_incr_limits(r):
    r.set("n", "9223372036854775806")
    assert r.incr("n") == 9223372036854775807
    r.set("n", "-9223372036854775807")
    assert r.decr("n") == -9223372036854775808


# ---------------------------------------------------------------------------- INCRBYFLOAT

@pytest.mark.parametrize("start,incr,want", [
    ("10.50", "0.1", "10.6"),
    ("5.0e3", "2.0e2", "5200"),
    ("3", "1.5", "4.5"),
    ("1", "-1", "0"),
    ("0", "-0.5", "-0.5"),
    ("1.1", "0", "1.1"),
    ("10", "1e1", "20"),
    ("0", "0.0000001", "0.0000001"),
    ("17179869184", "1.5", "17179869185.5"),
])
def test_incrbyfloat_format(r, start, incr, want):
    r.set("f", start)
    assert r.execute_command("INCRBYFLOAT", "f", incr) == want
    assert r.get("f") == want


def test_incrbyfloat_missing_key(r):
    assert r.execute_command("INCRBYFLOAT", "f", "3.14") == "3.14"
    assert r.execute_command("INCRBYFLOAT", "f", "-3.14") == "0"


def test_incrbyfloat_big(r):
    r.set("f", "1e30")
    assert r.execute_command("INCRBYFLOAT", "f", "0") == "1000000000000000000024696061952"


def test_incrbyfloat_keeps_ttl(r):
    r.set("f", "1", ex=100)
    r.execute_command("INCRBYFLOAT", "f", "1.5")
    assert 0 < r.ttl("f") <= 100


def test_incrbyfloat_errors(r):
    r.set("s", "abc")
    assert err(r, "INCRBYFLOAT", "s", "1") == "value is not a valid float"
    assert err(r, "INCRBYFLOAT", "f", "abc") == "value is not a valid float"
    assert err(r, "INCRBYFLOAT", "f", " 1") == "value is not a valid float"
    assert err(r, "INCRBYFLOAT", "f", "nan") == "value is not a valid float"
    assert err(r, "INCRBYFLOAT", "f", "inf") == "increment would produce NaN or Infinity"
    r.set("g", "1")
    assert err(r, "INCRBYFLOAT", "g", "-inf") == "increment would produce NaN or Infinity"
    assert r.get("g") == "1"
    r.lpush("l", "x")
    assert err(r, "INCRBYFLOAT", "l", "1") == WRONGTYPE
    assert r.exists("f") == 0


# ---------------------------------------------------------------------------- GETRANGE / SUBSTR

def test_getrange(r):
    r.set("k", "This is a string")
    assert r.getrange("k", 0, 3) == "This"
    assert r.getrange("k", -3, -1) == "ing"
    assert r.getrange("k", 0, -1) == "This is a string"
    assert r.getrange("k", 10, 100) == "string"
    assert r.getrange("k", 5, 3) == ""
    assert r.getrange("k", -1, -5) == ""
    assert r.getrange("k", -100, 2) == "Thi"
    assert r.getrange("k", 100, 200) == ""


def test_getrange_missing_and_int(r):
    assert r.getrange("missing", 0, -1) == ""
    r.set("n", "12345")
    assert r.getrange("n", 1, 2) == "23"


def test_getrange_errors(r):
    r.set("k", "abc")
    assert err(r, "GETRANGE", "k", "a", "1") == NOT_INT
    assert err(r, "GETRANGE", "k", "0", "1.5") == NOT_INT
    r.lpush("l", "x")
    assert err(r, "GETRANGE", "l", "0", "1") == WRONGTYPE
    assert err(r, "GETRANGE", "l", "x", "1") == NOT_INT


def test_substr(r):
    r.set("k", "Hello World")
    assert r.execute_command("SUBSTR", "k", "0", "4") == "Hello"
    assert r.execute_command("SUBSTR", "k", "-5", "-1") == "World"


# ---------------------------------------------------------------------------- SETRANGE

def test_setrange(r):
    r.set("k", "Hello World")
    assert r.setrange("k", 6, "Redis") == 11
    assert r.get("k") == "Hello Redis"
    assert r.setrange("k", 11, "!!") == 13
    assert r.get("k") == "Hello Redis!!"


def test_setrange_pads_with_zeros(rb):
    assert rb.setrange("k", 5, b"x") == 6
    assert rb.get("k") == b"\x00\x00\x00\x00\x00x"


def test_setrange_empty_value(r):
    assert r.setrange("missing", 10, "") == 0
    assert r.exists("missing") == 0
    r.set("k", "abc")
    assert r.setrange("k", 100, "") == 3
    assert r.get("k") == "abc"


def test_setrange_keeps_ttl_and_int(r):
    r.set("k", "1234", ex=100)
    assert r.setrange("k", 1, "9") == 4
    assert r.get("k") == "1934"
    assert 0 < r.ttl("k") <= 100


def test_setrange_errors(r):
    assert err(r, "SETRANGE", "k", "-1", "x") == "offset is out of range"
    assert err(r, "SETRANGE", "k", "a", "x") == NOT_INT
    assert err(r, "SETRANGE", "k", "536870912", "x") == \
        "string exceeds maximum allowed size (proto-max-bulk-len)"
    assert err(r, "SETRANGE", "k", "536870911", "xy") == \
        "string exceeds maximum allowed size (proto-max-bulk-len)"
    for off in ("9223372036854775807", "9223372036854775806"):  # offset + length overflows
        assert err(r, "SETRANGE", "k", off, "xy") == \
            "string exceeds maximum allowed size (proto-max-bulk-len)"
    r.lpush("l", "x")
    assert err(r, "SETRANGE", "l", "0", "x") == WRONGTYPE
    assert r.exists("k") == 0


def test_append_size_limit(r):
    r.setrange("k", 536870911, "x")
    assert r.strlen("k") == 536870912
    assert err(r, "APPEND", "k", "y") == \
        "string exceeds maximum allowed size (proto-max-bulk-len)"
    r.delete("k")


# ---------------------------------------------------------------------------- LCS

def test_lcs_string(r):
    r.mset({"key1": "ohmytext", "key2": "mynewtext"})
    assert r.execute_command("LCS", "key1", "key2") == "mytext"
    assert r.execute_command("LCS", "key1", "key2", "LEN") == 6


def test_lcs_idx(r):
    r.mset({"key1": "ohmytext", "key2": "mynewtext"})
    assert r.execute_command("LCS", "key1", "key2", "IDX") == \
        ["matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], "len", 6]


def test_lcs_idx_minmatchlen_withmatchlen(r):
    r.mset({"key1": "ohmytext", "key2": "mynewtext"})
    assert r.execute_command("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4",
                             "WITHMATCHLEN") == ["matches", [[[4, 7], [5, 8], 4]], "len", 6]
    assert r.execute_command("LCS", "key1", "key2", "IDX", "WITHMATCHLEN") == \
        ["matches", [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]], "len", 6]
    assert r.execute_command("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "-3") == \
        ["matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], "len", 6]


def test_lcs_missing_keys(r):
    r.set("a", "hello")
    assert r.execute_command("LCS", "a", "missing") == ""
    assert r.execute_command("LCS", "missing", "other", "LEN") == 0
    assert r.execute_command("LCS", "a", "missing", "IDX") == ["matches", [], "len", 0]


def test_lcs_same_key_and_ints(r):
    r.set("a", "abcdef")
    assert r.execute_command("LCS", "a", "a") == "abcdef"
    r.set("x", "12345")
    r.set("y", "2468")
    assert r.execute_command("LCS", "x", "y") == "24"


def test_lcs_longer(r):
    a = "AGGTABQWERTYUIOPASDFGHJKL" * 4
    b = "GXTXAYBZZQWERTYASDFGH" * 4
    r.mset({"a": a, "b": b})
    n = r.execute_command("LCS", "a", "b", "LEN")
    s = r.execute_command("LCS", "a", "b")
    assert len(s) == n
    idx = r.execute_command("LCS", "a", "b", "IDX", "WITHMATCHLEN")
    assert idx[3] == n
    assert sum(m[2] for m in idx[1]) == n


def test_lcs_errors(r):
    r.set("a", "x")
    r.lpush("l", "y")
    assert err(r, "LCS", "a", "l") == "The specified keys must contain string values"
    assert err(r, "LCS", "l", "a", "BAD") == "The specified keys must contain string values"
    assert err(r, "LCS", "a", "b", "LEN", "IDX") == \
        "If you want both the length and indexes, please just use IDX."
    assert err(r, "LCS", "a", "b", "FOO") == SYNTAX
    assert err(r, "LCS", "a", "b", "MINMATCHLEN") == SYNTAX
    assert err(r, "LCS", "a", "b", "MINMATCHLEN", "x") == NOT_INT
    assert err(r, "LCS", "a") == "wrong number of arguments for 'lcs' command"


# ---------------------------------------------------------------------------- exact wire / RESP3

def test_wire_replies_resp2(raw):
    assert raw.cmd("SET", "k", "v") == Simple("OK")
    assert raw.cmd("GET", "k") == b"v"
    raw.send(b"*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n")
    assert raw.read_line_raw() == b"$-1"
    raw.send(b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nNX\r\n")
    assert raw.read_line_raw() == b"$-1"
    assert raw.cmd("SET", "k", "v", "EX", "0") == \
        Error("ERR invalid expire time in 'set' command")
    assert raw.cmd("INCRBYFLOAT", "f", "1.5") == b"1.5"


def test_resp3_nulls_and_types(raw):
    raw.cmd("HELLO", "3")
    raw.send(b"*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n")
    assert raw.read_line_raw() == b"_"
    raw.send(b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nXX\r\n")
    assert raw.read_line_raw() == b"_"
    assert raw.cmd("SET", "k", "v") == Simple("OK")
    assert raw.cmd("MGET", "k", "nope") == [b"v", None]
    assert raw.cmd("INCR", "n") == 1
    assert raw.cmd("GETEX", "nope") is None


def test_resp3_incrbyfloat_is_bulk(raw):
    raw.cmd("HELLO", "3")
    raw.cmd("SET", "f", "10.50")
    raw.send(b"*3\r\n$11\r\nINCRBYFLOAT\r\n$1\r\nf\r\n$3\r\n0.1\r\n")
    assert raw.read_line_raw() == b"$4"
    assert raw.read_line_raw() == b"10.6"
    assert raw.cmd("INCRBYFLOAT", "f", "5.0e3") == b"5010.60000000000000009"
    assert raw.cmd("INCRBYFLOAT", "f", "-5010.6") == b"0"


def test_resp3_lcs_idx_is_map(raw):
    raw.cmd("HELLO", "3")
    raw.cmd("MSET", "key1", "ohmytext", "key2", "mynewtext")
    got = raw.cmd("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN")
    assert got == {b"matches": [[[4, 7], [5, 8], 4]], b"len": 6}
    assert raw.cmd("LCS", "key1", "key2", "LEN") == 6
    assert raw.cmd("LCS", "key1", "key2") == b"mytext"


def test_resp3_set_get_option(raw):
    raw.cmd("HELLO", "3")
    assert raw.cmd("SET", "k", "v", "GET") is None
    assert raw.cmd("SET", "k", "w", "GET") == b"v"
    assert raw.cmd("GETDEL", "k") == b"w"
    assert raw.cmd("GETDEL", "k") is None


def test_pipeline_mixed(raw):
    replies = raw.pipeline([("SET", "a", "1"), ("INCR", "a"), ("APPEND", "a", "x"),
                            ("GET", "a"), ("INCR", "a"), ("STRLEN", "a")])
    assert replies == [Simple("OK"), 2, 2, b"2x",
                       Error("ERR value is not an integer or out of range"), 2]
