"""
Integration tests for the streams module: XADD (ids, NOMKSTREAM, MAXLEN/MINID with = and ~,
LIMIT), XLEN, XRANGE/XREVRANGE, XDEL, XTRIM, XSETID, XREAD (COUNT, BLOCK served by an XADD
from another client, several keys on several shards), consumer groups (XGROUP, XREADGROUP,
XACK, XPENDING, XCLAIM, XAUTOCLAIM), XINFO, RDB (DUMP/RESTORE with a redis-server peer both
ways, SAVE and restart), keyspace events, the type's TYPE/OBJECT ENCODING answers, Redis's
error texts, and a seeded differential sweep against a redis-server peer. Every expectation
holds on redis-server 7.0 too (DF_TEST_SERVER=redis).
"""
import threading
import time

import pytest
import redis

from conftest import Server
from helpers import WRONGTYPE, SYNTAX, err, plain, wait_blocked

BAD_ID = "Invalid stream ID specified as stream command argument"
TOP = "The ID specified in XADD is equal or smaller than the target stream top item"


@pytest.fixture
def r(r):
    return plain(r)


def xadd(r, key, id, *pairs):
    return r.execute_command("XADD", key, id, *pairs)


def ids(entries):
    return [e[0] for e in entries]


def fill(r, key, n, start=1):
    for i in range(start, start + n):
        xadd(r, key, f"{i}-0", "f", str(i))


# ---------------------------------------------------------------------------- XADD

def test_xadd_ids_and_range(r):
    assert xadd(r, "s", "1-1", "a", "1", "b", "2") == "1-1"
    assert xadd(r, "s", "1-*", "c", "3") == "1-2"
    assert xadd(r, "s", "5", "d", "4") == "5-0"
    auto = xadd(r, "s", "*", "e", "5")
    ms, seq = auto.split("-")
    assert int(ms) > 5 and seq == "0"
    assert r.execute_command("XLEN", "s") == 4
    assert r.execute_command("XRANGE", "s", "-", "+") == [
        ["1-1", ["a", "1", "b", "2"]], ["1-2", ["c", "3"]], ["5-0", ["d", "4"]],
        [auto, ["e", "5"]]]
    assert r.execute_command("TYPE", "s") == "stream"
    assert r.execute_command("OBJECT", "ENCODING", "s") == "stream"


def test_xadd_errors(r):
    xadd(r, "s", "5-5", "f", "v")
    assert err(r, "XADD", "s", "5-5", "f", "v") == TOP
    assert err(r, "XADD", "s", "4-9", "f", "v") == TOP
    assert err(r, "XADD", "s", "0-0", "f", "v") == "The ID specified in XADD must be greater than 0-0"
    assert err(r, "XADD", "s", "abc", "f", "v") == BAD_ID
    assert err(r, "XADD", "s", "1-x", "f", "v") == BAD_ID
    assert err(r, "XADD", "s", "*", "f") == "wrong number of arguments for 'xadd' command"
    assert err(r, "XADD", "s", "*", "f", "v", "g") == "wrong number of arguments for 'xadd' command"
    assert err(r, "XADD", "s", "MAXLEN", "-1", "*", "f", "v") == "The MAXLEN argument must be >= 0."
    assert err(r, "XADD", "s", "MAXLEN", "1", "LIMIT", "5", "*", "f", "v") == \
        "syntax error, LIMIT cannot be used without the special ~ option"
    assert err(r, "XADD", "s", "MAXLEN", "1", "MINID", "1", "*", "f", "v") == \
        "syntax error, MAXLEN and MINID options at the same time are not compatible"
    r.execute_command("SET", "str", "x")
    assert err(r, "XADD", "str", "*", "f", "v") == WRONGTYPE
    assert r.execute_command("XLEN", "s") == 1


def test_xadd_seq_star_same_ms(r):
    xadd(r, "s", "7-3", "f", "v")
    assert xadd(r, "s", "7-*", "f", "v") == "7-4"
    assert xadd(r, "s", "8-*", "f", "v") == "8-0"
    assert err(r, "XADD", "s", "6-*", "f", "v") == TOP


def test_nomkstream(r):
    assert r.execute_command("XADD", "s", "NOMKSTREAM", "*", "f", "v") is None
    assert r.execute_command("EXISTS", "s") == 0
    xadd(r, "s", "1-1", "f", "v")
    assert r.execute_command("XADD", "s", "NOMKSTREAM", "2-1", "f", "v") == "2-1"


def test_xadd_maxlen_exact_and_approx(r):
    fill(r, "s", 10)
    assert r.execute_command("XADD", "s", "MAXLEN", "=", "5", "11-0", "f", "v") == "11-0"
    assert ids(r.execute_command("XRANGE", "s", "-", "+")) == \
        ["7-0", "8-0", "9-0", "10-0", "11-0"]
    # "~" only drops whole nodes (100 entries): nothing goes here
    r.execute_command("XADD", "s", "MAXLEN", "~", "2", "12-0", "f", "v")
    assert r.execute_command("XLEN", "s") == 6


def test_xadd_approx_trims_whole_nodes(r):
    for i in range(1, 251):
        xadd(r, "s", f"{i}-0", "f", "v")
    r.execute_command("XADD", "s", "MAXLEN", "~", "100", "251-0", "f", "v")
    assert r.execute_command("XLEN", "s") == 151
    assert r.execute_command("XTRIM", "s", "MAXLEN", "~", "10", "LIMIT", "50") == 0
    assert r.execute_command("XTRIM", "s", "MAXLEN", "~", "10") == 100
    assert r.execute_command("XRANGE", "s", "-", "+", "COUNT", 1)[0][0] == "201-0"


def test_xadd_minid(r):
    fill(r, "s", 10)
    r.execute_command("XADD", "s", "MINID", "6", "11-0", "f", "v")
    assert ids(r.execute_command("XRANGE", "s", "-", "+"))[0] == "6-0"
    assert r.execute_command("XLEN", "s") == 6


# ---------------------------------------------------------------------------- XRANGE

def test_xrange_bounds_and_count(r):
    fill(r, "s", 5)
    assert ids(r.execute_command("XRANGE", "s", "2", "4")) == ["2-0", "3-0", "4-0"]
    assert ids(r.execute_command("XRANGE", "s", "(2-0", "(4-0")) == ["3-0"]
    assert ids(r.execute_command("XRANGE", "s", "-", "+", "COUNT", 2)) == ["1-0", "2-0"]
    assert r.execute_command("XRANGE", "s", "-", "+", "COUNT", 0) is None
    assert ids(r.execute_command("XREVRANGE", "s", "+", "-", "COUNT", 2)) == ["5-0", "4-0"]
    assert ids(r.execute_command("XREVRANGE", "s", "(5", "(2")) == ["5-0", "4-0", "3-0"]
    assert ids(r.execute_command("XREVRANGE", "s", "(5-0", "(2")) == ["4-0", "3-0"]
    assert r.execute_command("XRANGE", "s", "4", "2") == []
    assert r.execute_command("XRANGE", "nosuch", "-", "+") == []
    assert err(r, "XRANGE", "s", "(-", "+") == BAD_ID
    assert err(r, "XRANGE", "s", "x", "+") == BAD_ID
    assert err(r, "XRANGE", "s", "-", "+", "COUNT") == SYNTAX
    assert err(r, "XRANGE", "s", "(18446744073709551615-18446744073709551615", "+") == \
        "invalid start ID for the interval"
    assert err(r, "XRANGE", "s", "-", "(0-0") == "invalid end ID for the interval"


# ---------------------------------------------------------------------------- XDEL / XTRIM / XSETID

def test_xdel(r):
    fill(r, "s", 3)
    assert r.execute_command("XDEL", "s", "2-0", "9-0") == 1
    assert ids(r.execute_command("XRANGE", "s", "-", "+")) == ["1-0", "3-0"]
    assert err(r, "XDEL", "s", "bad") == BAD_ID
    assert r.execute_command("XDEL", "nosuch", "1-0") == 0
    assert r.execute_command("XDEL", "s", "1-0", "3-0") == 2
    assert r.execute_command("XLEN", "s") == 0
    assert r.execute_command("EXISTS", "s") == 1  # an empty stream stays
    assert err(r, "XADD", "s", "3-0", "f", "v") == TOP


def test_xtrim(r):
    fill(r, "s", 10)
    assert r.execute_command("XTRIM", "s", "MAXLEN", 7) == 3
    assert r.execute_command("XTRIM", "s", "MINID", "=", "6") == 2
    assert r.execute_command("XLEN", "s") == 5
    assert r.execute_command("XTRIM", "nosuch", "MAXLEN", 1) == 0
    assert err(r, "XTRIM", "s", "FOO", 1) == SYNTAX
    assert err(r, "XTRIM", "s") == "wrong number of arguments for 'xtrim' command"
    assert err(r, "XTRIM", "s", "LIMIT", "1", "X") == SYNTAX


def test_xsetid(r):
    fill(r, "s", 3)
    assert r.execute_command("XSETID", "s", "10-0") == "OK"
    assert xadd(r, "s", "10-*", "f", "v") == "10-1"
    assert err(r, "XSETID", "s", "5-0") == \
        "The ID specified in XSETID is smaller than the target stream top item"
    assert err(r, "XSETID", "nosuch", "5-0") == "no such key"
    assert err(r, "XSETID", "s", "20-0", "ENTRIESADDED", "1") == \
        "The entries_added specified in XSETID is smaller than the target stream length"
    assert err(r, "XSETID", "s", "20-0", "MAXDELETEDID", "30-0") == \
        "The ID specified in XSETID is smaller than the provided max_deleted_entry_id"


# ---------------------------------------------------------------------------- keyspace

def test_generic_commands(r):
    fill(r, "s", 3)
    assert r.execute_command("COPY", "s", "c") == 1
    assert r.execute_command("RENAME", "s", "{s}x") == "OK"
    assert ids(r.execute_command("XRANGE", "c", "-", "+")) == ["1-0", "2-0", "3-0"]
    xadd(r, "c", "4-0", "f", "v")
    assert r.execute_command("XLEN", "{s}x") == 3
    assert r.execute_command("EXPIRE", "c", 100) == 1
    assert r.execute_command("DEL", "c", "{s}x") == 2
    fill(r, "m", 50)
    assert r.execute_command("MEMORY", "USAGE", "m") > 50 * 10


# ---------------------------------------------------------------------------- XREAD

def test_xread_several_keys(r):
    fill(r, "a", 3)
    fill(r, "b", 2)
    assert r.execute_command("XREAD", "COUNT", 2, "STREAMS", "a", "b", "nosuch", "1", "0", "0") == [
        ["a", [["2-0", ["f", "2"]], ["3-0", ["f", "3"]]]],
        ["b", [["1-0", ["f", "1"]], ["2-0", ["f", "2"]]]]]
    assert r.execute_command("XREAD", "STREAMS", "a", "b", "$", "$") is None
    assert err(r, "XREAD", "STREAMS", "a", "b", "0") == \
        "Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."
    assert err(r, "XREAD", "STREAMS", "a", ">") == \
        "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."
    assert err(r, "XREAD", "STREAMS", "a", "x") == BAD_ID
    r.execute_command("SET", "str", "x")
    assert err(r, "XREAD", "STREAMS", "a", "str", "0", "0") == WRONGTYPE
    assert err(r, "XREAD", "BLOCK", "-1", "STREAMS", "a", "0") == "timeout is negative"
    assert err(r, "XREAD", "GROUP", "g", "c", "STREAMS", "a", "0") == \
        "The GROUP option is only supported by XREADGROUP. You called XREAD instead."


def test_xread_block_timeout(r):
    fill(r, "a", 1)
    assert r.execute_command("XREAD", "BLOCK", 50, "STREAMS", "a", "$") is None


def test_xread_block_in_multi(r):
    p = r.pipeline(transaction=True)
    p.execute_command("XREAD", "BLOCK", 0, "STREAMS", "a", "$")
    assert p.execute() == [None]


class Reader:
    def __init__(self, server, *cmd):
        self.c = server.client()
        self.c.response_callbacks.clear()
        self.reply = "no reply"
        self.t = threading.Thread(target=self.run, args=cmd, daemon=True)
        self.t.start()

    def run(self, *cmd):
        try:
            self.reply = self.c.execute_command(*cmd)
        except redis.ResponseError as e:
            self.reply = e

    def result(self):
        self.t.join(10)
        assert not self.t.is_alive()
        self.c.close()
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


def test_xread_block_served_by_xadd(server, r):
    fill(r, "a", 2)
    w = Reader(server, "XREAD", "BLOCK", 0, "STREAMS", "b", "a", "$", "$")
    wait_blocked(r, 1)
    xadd(r, "a", "9-0", "x", "y")
    assert w.result() == [["a", [["9-0", ["x", "y"]]]]]


def test_xread_block_explicit_id_and_count(server, r):
    w = Reader(server, "XREAD", "COUNT", 1, "BLOCK", 5000, "STREAMS", "k1", "k2", "k3", "0", "0", "5")
    wait_blocked(r, 1)
    xadd(r, "k3", "3-0", "old", "1")   # not after 5: keeps waiting
    time.sleep(0.05)
    xadd(r, "k3", "7-0", "new", "1")
    assert w.result() == [["k3", [["7-0", ["new", "1"]]]]]


# ---------------------------------------------------------------------------- consumer groups

def test_xgroup_create_errors(r):
    assert err(r, "XGROUP", "CREATE", "s", "g", "$") == (
        "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want "
        "to use the MKSTREAM option to create an empty stream automatically.")
    assert r.execute_command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM") == "OK"
    assert r.execute_command("XLEN", "s") == 0
    assert err(r, "XGROUP", "CREATE", "s", "g", "0") == "BUSYGROUP Consumer Group name already exists"
    assert err(r, "XGROUP", "CREATE", "s", "h", "bad") == BAD_ID
    assert err(r, "XGROUP", "SETID", "s", "nog", "0") == \
        "NOGROUP No such consumer group 'nog' for key name 's'"
    assert err(r, "XGROUP", "CREATECONSUMER", "s", "nog", "c") == \
        "NOGROUP No such consumer group 'nog' for key name 's'"
    assert r.execute_command("XGROUP", "DESTROY", "s", "g") == 1
    assert r.execute_command("XGROUP", "DESTROY", "s", "g") == 0
    r.execute_command("SET", "str", "x")
    assert err(r, "XGROUP", "CREATE", "str", "g", "$") == WRONGTYPE


def test_xreadgroup_new_history_and_ack(r):
    fill(r, "s", 3)
    r.execute_command("XGROUP", "CREATE", "s", "g", "0")
    assert r.execute_command("XREADGROUP", "GROUP", "g", "alice", "COUNT", 2, "STREAMS", "s", ">") == \
        [["s", [["1-0", ["f", "1"]], ["2-0", ["f", "2"]]]]]
    assert r.execute_command("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">") == \
        [["s", [["3-0", ["f", "3"]]]]]
    assert r.execute_command("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">") is None
    # history: the consumer's own pending entries
    assert r.execute_command("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0") == \
        [["s", [["1-0", ["f", "1"]], ["2-0", ["f", "2"]]]]]
    r.execute_command("XDEL", "s", "2-0")
    assert r.execute_command("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "1-0") == \
        [["s", [["2-0", None]]]]
    summary = r.execute_command("XPENDING", "s", "g")
    assert summary == [3, "1-0", "3-0", [["alice", "2"], ["bob", "1"]]]
    assert r.execute_command("XACK", "s", "g", "1-0", "2-0", "9-0") == 2
    assert r.execute_command("XACK", "s", "nog", "3-0") == 0
    assert err(r, "XACK", "s", "g", "bad") == BAD_ID
    assert r.execute_command("XPENDING", "s", "g") == [1, "3-0", "3-0", [["bob", "1"]]]
    r.execute_command("XACK", "s", "g", "3-0")
    assert r.execute_command("XPENDING", "s", "g") == [0, None, None, None]


def test_xreadgroup_errors(r):
    fill(r, "s", 1)
    assert err(r, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">") == \
        "NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option"
    assert err(r, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "nosuch", ">") == \
        "NOGROUP No such key 'nosuch' or consumer group 'g' in XREADGROUP with GROUP option"
    r.execute_command("XGROUP", "CREATE", "s", "g", "0")
    assert err(r, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$").startswith(
        "The $ ID is meaningless in the context of XREADGROUP")
    assert err(r, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "t", ">") == \
        "Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."
    assert err(r, "XREADGROUP", "COUNT", "1", "STREAMS", "s", "t", ">", ">") == \
        "Missing GROUP option for XREADGROUP"


def test_xreadgroup_noack_and_consumers(r):
    fill(r, "s", 2)
    r.execute_command("XGROUP", "CREATE", "s", "g", "0")
    r.execute_command("XREADGROUP", "GROUP", "g", "c1", "NOACK", "STREAMS", "s", ">")
    assert r.execute_command("XPENDING", "s", "g")[0] == 0
    assert r.execute_command("XGROUP", "CREATECONSUMER", "s", "g", "c2") == 1
    assert r.execute_command("XGROUP", "CREATECONSUMER", "s", "g", "c2") == 0
    names = [dict(zip(c[::2], c[1::2]))["name"] for c in
             r.execute_command("XINFO", "CONSUMERS", "s", "g")]
    assert names == ["c1", "c2"]
    r.execute_command("XGROUP", "SETID", "s", "g", "0")
    r.execute_command("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">")
    assert r.execute_command("XGROUP", "DELCONSUMER", "s", "g", "c2") == 2
    assert r.execute_command("XGROUP", "DELCONSUMER", "s", "g", "zz") == 0
    assert r.execute_command("XPENDING", "s", "g")[0] == 0


def test_xpending_extended(r):
    fill(r, "s", 4)
    r.execute_command("XGROUP", "CREATE", "s", "g", "0")
    r.execute_command("XREADGROUP", "GROUP", "g", "a", "COUNT", 3, "STREAMS", "s", ">")
    r.execute_command("XREADGROUP", "GROUP", "g", "b", "STREAMS", "s", ">")
    rows = r.execute_command("XPENDING", "s", "g", "-", "+", 10)
    assert [(x[0], x[1], x[3]) for x in rows] == \
        [("1-0", "a", 1), ("2-0", "a", 1), ("3-0", "a", 1), ("4-0", "b", 1)]
    assert [x[0] for x in r.execute_command("XPENDING", "s", "g", "(1-0", "+", 2)] == ["2-0", "3-0"]
    assert [x[0] for x in r.execute_command("XPENDING", "s", "g", "-", "+", 10, "b")] == ["4-0"]
    assert r.execute_command("XPENDING", "s", "g", "-", "+", 10, "nobody") == []
    assert r.execute_command("XPENDING", "s", "g", "IDLE", 1000000, "-", "+", 10) == []
    assert err(r, "XPENDING", "s", "g", "-", "+") == SYNTAX
    assert err(r, "XPENDING", "s", "nog") == "NOGROUP No such key 's' or consumer group 'nog'"


def test_xclaim_and_xautoclaim(r):
    fill(r, "s", 4)
    r.execute_command("XGROUP", "CREATE", "s", "g", "0")
    r.execute_command("XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">")
    assert r.execute_command("XCLAIM", "s", "g", "b", 0, "1-0", "2-0") == \
        [["1-0", ["f", "1"]], ["2-0", ["f", "2"]]]
    assert r.execute_command("XCLAIM", "s", "g", "b", 1000000, "3-0") == []
    assert r.execute_command("XCLAIM", "s", "g", "c", 0, "3-0", "JUSTID", "RETRYCOUNT", 7) == ["3-0"]
    rows = {x[0]: (x[1], x[3]) for x in r.execute_command("XPENDING", "s", "g", "-", "+", 10)}
    assert rows == {"1-0": ("b", 2), "2-0": ("b", 2), "3-0": ("c", 7), "4-0": ("a", 1)}
    assert err(r, "XCLAIM", "s", "g", "b", 0, "1-0", "BOGUS") == "Unrecognized XCLAIM option 'BOGUS'"
    assert err(r, "XCLAIM", "s", "nog", "b", 0, "1-0") == "NOGROUP No such key 's' or consumer group 'nog'"
    r.execute_command("XDEL", "s", "2-0")
    assert r.execute_command("XAUTOCLAIM", "s", "g", "z", 0, "0", "COUNT", 2) == \
        ["3-0", [["1-0", ["f", "1"]]], ["2-0"]]
    assert r.execute_command("XAUTOCLAIM", "s", "g", "z", 0, "(1-0", "JUSTID") == \
        ["0-0", ["3-0", "4-0"], []]
    assert err(r, "XAUTOCLAIM", "s", "g", "z", 0, "0", "COUNT", 0) == "COUNT must be > 0"


def info_map(reply):
    return dict(zip(reply[::2], reply[1::2]))


def test_xinfo_stream_and_groups(r):
    fill(r, "s", 3)
    r.execute_command("XDEL", "s", "2-0")
    info = info_map(r.execute_command("XINFO", "STREAM", "s"))
    assert info["length"] == 2
    assert info["last-generated-id"] == "3-0"
    assert info["max-deleted-entry-id"] == "2-0"
    assert info["entries-added"] == 3
    assert info["recorded-first-entry-id"] == "1-0"
    assert info["groups"] == 0
    assert info["first-entry"] == ["1-0", ["f", "1"]]
    assert info["last-entry"] == ["3-0", ["f", "3"]]
    assert err(r, "XINFO", "STREAM", "nosuch") == "no such key"
    r.execute_command("XGROUP", "CREATE", "s", "g1", "$")
    r.execute_command("XGROUP", "CREATE", "s", "g0", "0", "ENTRIESREAD", "0")
    r.execute_command("XREADGROUP", "GROUP", "g0", "c", "COUNT", 1, "STREAMS", "s", ">")
    groups = [info_map(g) for g in r.execute_command("XINFO", "GROUPS", "s")]
    assert groups[0] == {"name": "g0", "consumers": 1, "pending": 1, "last-delivered-id": "1-0",
                         "entries-read": None, "lag": None}
    assert groups[1] == {"name": "g1", "consumers": 0, "pending": 0, "last-delivered-id": "3-0",
                         "entries-read": None, "lag": 0}
    assert err(r, "XINFO", "CONSUMERS", "s", "nog") == "NOGROUP No such consumer group 'nog' for key name 's'"


def test_xreadgroup_block_served_by_xadd(server, r):
    r.execute_command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    w = Reader(server, "XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", "s", ">")
    wait_blocked(r, 1)
    xadd(r, "s", "5-0", "x", "y")
    assert w.result() == [["s", [["5-0", ["x", "y"]]]]]
    assert r.execute_command("XPENDING", "s", "g")[0] == 1


# ---------------------------------------------------------------------------- RDB

def build_groups_stream(c, key="s"):
    """A stream spanning several Redis nodes, with deletions, two groups and pending entries."""
    c.response_callbacks.clear()
    for i in range(1, 260):
        c.execute_command("XADD", key, f"{i}-{i % 3}", "f", str(i), "name", "x" * (i % 7), "n", 12345)
    c.execute_command("XDEL", key, "5-2", "200-2")
    c.execute_command("XGROUP", "CREATE", key, "g", "0")
    c.execute_command("XREADGROUP", "GROUP", "g", "alice", "COUNT", 3, "STREAMS", key, ">")
    c.execute_command("XREADGROUP", "GROUP", "g", "bob", "COUNT", 2, "STREAMS", key, ">")
    c.execute_command("XGROUP", "CREATE", key, "g2", "$")


def stream_state(c, key="s"):
    c.response_callbacks.clear()
    info = info_map(c.execute_command("XINFO", "STREAM", key))
    for k in ("radix-tree-keys", "radix-tree-nodes"):
        info.pop(k)
    pending = [(x[0], x[1], x[3]) for x in c.execute_command("XPENDING", key, "g", "-", "+", 100)]
    consumers = [info_map(x)["name"] for x in c.execute_command("XINFO", "CONSUMERS", key, "g")]
    return (c.execute_command("XRANGE", key, "-", "+"), info,
            c.execute_command("XINFO", "GROUPS", key), pending, consumers)


@pytest.fixture
def redis_peer():
    s = Server(kind="redis")
    yield s
    s.stop()


def test_dump_restore_with_redis(server, r, redis_peer):
    peer = redis_peer.client()
    ours_b, peer_b = server.client(decode_responses=False), redis_peer.client(decode_responses=False)
    build_groups_stream(peer, "s")
    build_groups_stream(r, "t")
    ours_b.execute_command("RESTORE", "s", 0, peer_b.execute_command("DUMP", "s"))
    assert stream_state(r, "s") == stream_state(peer, "s")
    peer_b.execute_command("RESTORE", "t", 0, ours_b.execute_command("DUMP", "t"))
    assert stream_state(peer, "t") == stream_state(r, "t")
    # an emptied stream keeps its ids
    r.execute_command("XADD", "e", "3-3", "a", "b")
    r.execute_command("XDEL", "e", "3-3")
    peer_b.execute_command("RESTORE", "e", 0, ours_b.execute_command("DUMP", "e"))
    assert err(peer, "XADD", "e", "3-3", "a", "b") == TOP
    for c in (peer, ours_b, peer_b):
        c.close()


def test_save_restart_round_trip(tmp_path):
    s = Server(dir=str(tmp_path), args=["--save", ""])
    try:
        c = s.client()
        build_groups_stream(c)
        want = stream_state(c)
        assert c.execute_command("SAVE") in ("OK", b"OK", True)
    finally:
        s.stop()
    s = Server(dir=str(tmp_path), args=["--save", ""])
    try:
        assert stream_state(s.client()) == want
    finally:
        s.stop()
    red = Server(kind="redis", dir=str(tmp_path))  # redis-server reads the file too
    try:
        assert stream_state(red.client()) == want
    finally:
        red.stop()


def test_xreadgroup_blocked_reader_sees_group_destroyed(server, r):
    r.execute_command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    w = Reader(server, "XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", "s", ">")
    wait_blocked(r, 1)
    r.execute_command("XGROUP", "DESTROY", "s", "g")
    with pytest.raises(redis.ResponseError) as e:
        w.result()
    assert str(e.value) == "NOGROUP the consumer group this client was blocked on no longer exists"


def test_keyspace_events(server, r):
    r.execute_command("CONFIG", "SET", "notify-keyspace-events", "KEA")
    try:
        sub = server.client().pubsub()
        sub.psubscribe("__keyevent@0__:*")
        sub.get_message(timeout=5)
        xadd(r, "s", "1-0", "f", "v")
        xadd(r, "s", "2-0", "f", "v")
        r.execute_command("XGROUP", "CREATE", "s", "g", "0")
        r.execute_command("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
        r.execute_command("XGROUP", "CREATECONSUMER", "s", "g", "d")
        r.execute_command("XGROUP", "DELCONSUMER", "s", "g", "d")
        r.execute_command("XGROUP", "SETID", "s", "g", "0")
        r.execute_command("XDEL", "s", "1-0")
        r.execute_command("XTRIM", "s", "MAXLEN", 0)
        r.execute_command("XSETID", "s", "5-0")
        r.execute_command("XGROUP", "DESTROY", "s", "g")
        events = []
        while len(events) < 11:
            m = sub.get_message(timeout=5)
            assert m is not None, events
            events.append(m["channel"].split(":", 1)[1])
        assert events == ["xadd", "xadd", "xgroup-create", "xgroup-createconsumer",
                          "xgroup-createconsumer", "xgroup-delconsumer", "xgroup-setid", "xdel",
                          "xtrim", "xsetid", "xgroup-destroy"]
        sub.close()
    finally:
        r.execute_command("CONFIG", "SET", "notify-keyspace-events", "")


def test_xinfo_stream_full(r):
    fill(r, "s", 12)
    r.execute_command("XGROUP", "CREATE", "s", "g", "0")
    r.execute_command("XREADGROUP", "GROUP", "g", "a", "COUNT", 11, "STREAMS", "s", ">")
    full = info_map(r.execute_command("XINFO", "STREAM", "s", "FULL"))
    assert list(full) == ["length", "radix-tree-keys", "radix-tree-nodes", "last-generated-id",
                          "max-deleted-entry-id", "entries-added", "recorded-first-entry-id",
                          "entries", "groups"]
    assert ids(full["entries"]) == [f"{i}-0" for i in range(1, 11)]
    g = info_map(full["groups"][0])
    assert list(g) == ["name", "last-delivered-id", "entries-read", "lag", "pel-count", "pending",
                       "consumers"]
    assert (g["name"], g["last-delivered-id"], g["entries-read"], g["lag"], g["pel-count"]) == \
        ("g", "11-0", 11, 1, 11)
    assert [(p[0], p[1], p[3]) for p in g["pending"]] == [(f"{i}-0", "a", 1) for i in range(1, 11)]
    c = info_map(g["consumers"][0])
    assert list(c) == ["name", "seen-time", "pel-count", "pending"]
    assert (c["name"], c["pel-count"], len(c["pending"])) == ("a", 11, 10)
    small = info_map(r.execute_command("XINFO", "STREAM", "s", "FULL", "COUNT", 2))
    assert ids(small["entries"]) == ["1-0", "2-0"]
    every = info_map(r.execute_command("XINFO", "STREAM", "s", "FULL", "COUNT", 0))
    assert len(every["entries"]) == 12
    assert err(r, "XINFO", "stream", "s", "PARTIAL") == \
        "unknown subcommand or wrong number of arguments for 'stream'. Try XINFO HELP."


def test_xsetid_below_deleted_entries(r):
    xadd(r, "e", "5-0", "f", "v")
    r.execute_command("XDEL", "e", "5-0")
    assert r.execute_command("XSETID", "e", "3-0") == "OK"
    assert xadd(r, "e", "4-*", "f", "v") == "4-0"
    assert err(r, "XSETID", "e", "5-5", "ENTRIESADDED", "0") == \
        "The entries_added specified in XSETID is smaller than the target stream length"


def test_xgroup_ids_strictness(r):
    fill(r, "s", 2)
    assert err(r, "XGROUP", "CREATE", "s", "g", "-") == BAD_ID
    r.execute_command("XGROUP", "CREATE", "s", "g", "0")
    assert r.execute_command("XGROUP", "SETID", "s", "g", "+") == "OK"
    assert r.execute_command("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">") is None
    assert r.execute_command("XGROUP", "SETID", "s", "g", "-") == "OK"
    assert len(r.execute_command("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")[0][1]) == 2


# ---------------------------------------------------------------------------- differential sweep

class Sweep:
    """Seeded, mostly well-formed stream commands over two keys, two groups, three consumers."""

    def __init__(self, seed):
        import random
        self.rnd = random.Random(seed)
        self.top = 1

    def rid(self):
        rnd = self.rnd
        if rnd.random() < 0.1:
            return rnd.choice(["-", "+", "0", "$"])
        m = rnd.randint(0, self.top + 3)
        return f"{m}-{rnd.randint(0, 3)}" if rnd.random() < 0.7 else str(m)

    def maybe(self, p, words):
        return list(words) if self.rnd.random() < p else []

    def xadd(self, k):
        rnd = self.rnd
        self.top += rnd.randint(1, 2)
        a = ["XADD", k]
        if rnd.random() < 0.3:
            approx = rnd.random() < 0.5
            a += [rnd.choice(["MAXLEN", "MINID"]), "~" if approx else "=", str(rnd.randint(0, self.top))]
            a += self.maybe(0.5 if approx else 0, ["LIMIT", str(rnd.randint(0, 300))])
        tail = f"{self.top}-{rnd.randint(0, 2)}" if rnd.random() < 0.8 else f"{self.top}-*"
        return a + [tail, "f", str(self.top)]

    def command(self):
        rnd, rid = self.rnd, self.rid
        k, g, c = rnd.choice("st"), rnd.choice("gh"), rnd.choice("abc")
        n = str(rnd.randint(0, 5))
        return rnd.choice([
            lambda: self.xadd(k),
            lambda: ["XTRIM", k, rnd.choice(["MAXLEN", "MINID"]), rnd.choice("~="), str(rnd.randint(0, self.top))],
            lambda: ["XDEL", k] + [rid() for _ in range(rnd.randint(1, 4))],
            lambda: [rnd.choice(["XRANGE", "XREVRANGE"]), k, rid(), rid()] + self.maybe(0.5, ["COUNT", n]),
            lambda: ["XGROUP", "CREATE", k, g, rid()] + self.maybe(0.5, ["MKSTREAM"]),
            lambda: ["XGROUP", "SETID", k, g, rid()] + self.maybe(0.3, ["ENTRIESREAD", str(rnd.randint(-1, self.top))]),
            lambda: ["XREADGROUP", "GROUP", g, c, "COUNT", n] + self.maybe(0.2, ["NOACK"]) +
                    ["STREAMS", k, ">" if rnd.random() < 0.7 else rid()],
            lambda: ["XACK", k, g] + [rid() for _ in range(rnd.randint(1, 3))],
            lambda: ["XPENDING", k, g],
            lambda: ["XPENDING", k, g, rid(), rid(), n] + self.maybe(0.5, [c]),
            lambda: ["XCLAIM", k, g, c, "0"] + [rid() for _ in range(rnd.randint(1, 3))] + self.maybe(0.3, ["JUSTID"]),
            lambda: ["XAUTOCLAIM", k, g, c, "0", rid(), "COUNT", str(rnd.randint(1, 4))] + self.maybe(0.3, ["JUSTID"]),
            lambda: ["XINFO", "GROUPS", k],
            lambda: ["XINFO", "STREAM", k],
            lambda: ["XGROUP", rnd.choice(["DELCONSUMER", "CREATECONSUMER"]), k, g, c],
            lambda: ["XSETID", k, rid()],
            lambda: ["XREAD", "COUNT", n, "STREAMS", "s", "t", rid(), rid()],
        ])()


def comparable(args, reply):
    if args[:2] == ["XINFO", "STREAM"] and isinstance(reply, list):
        return {k: v for k, v in info_map(reply).items() if k != "radix-tree-nodes"}
    if args[0] == "XPENDING" and len(args) > 3 and isinstance(reply, list):
        return [(x[0], x[1], x[3]) for x in reply]  # not the idle time
    return reply


def outcome(c, args):
    try:
        return comparable(args, c.execute_command(*args))
    except redis.ResponseError as e:
        return "error: " + str(e)


@pytest.mark.parametrize("seed", [1, 2])
def test_differential_sweep_against_redis(server, r, redis_peer, seed):
    peer = plain(redis_peer.client())
    peer.flushall()
    sweep = Sweep(seed)
    for _ in range(1500):
        args = sweep.command()
        assert outcome(r, args) == outcome(peer, args), args
    # each side's DUMP restores on the other as the same stream
    binary = [server.client(decode_responses=False), redis_peer.client(decode_responses=False)]
    looks = [["XRANGE", "{k}", "-", "+"], ["XINFO", "GROUPS", "{k}"], ["XINFO", "STREAM", "{k}"],
             ["XPENDING", "{k}", "g"], ["XPENDING", "{k}", "h"]]
    for k in ("s", "t"):
        for src, dst, (bsrc, bdst) in ((r, peer, binary), (peer, r, binary[::-1])):
            if not src.execute_command("EXISTS", k):
                continue
            bdst.execute_command("RESTORE", k + "r", 0, bsrc.execute_command("DUMP", k), "REPLACE")
            for look in looks:
                assert outcome(src, [a.format(k=k) for a in look]) == \
                    outcome(dst, [a.format(k=k + "r") for a in look]), look
    for c in binary + [peer]:
        c.close()


def test_help_and_acl_category(r):
    assert r.execute_command("XGROUP", "HELP")[0] == \
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert len(r.execute_command("XGROUP", "HELP")) == 17
    assert len(r.execute_command("XINFO", "HELP")) == 9
    cat = set(r.execute_command("ACL", "CAT", "stream"))
    assert {"xadd", "xread", "xreadgroup", "xgroup|create", "xinfo|stream", "xautoclaim",
            "xgroup|help", "xinfo|help", "xsetid"} <= cat


def test_a_new_stream_where_a_deleted_one_was_reads_its_own_entries(r):
    """Regression: the read cursor cached offsets of a freed stream; a new stream at the same
    address and with the same write count reused them (heap overflow reading XINFO)."""
    for _ in range(20):
        r.xadd("gone", {"f": "v"})
        r.execute_command("XINFO", "STREAM", "gone")
        r.delete("gone")
        r.xadd("fresh", {"ffffffffffff": "v"})
        info = str(r.execute_command("XINFO", "STREAM", "fresh"))
        assert "ffffffffffff" in info and "'f'" not in info
        r.delete("fresh")
