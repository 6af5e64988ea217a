"""
Differences found by a differential sweep of the keyspace-wide and multi-key commands against
redis-server 7.0 (every expectation here is Redis's: run with DF_TEST_SERVER=redis to check):
blocking timeouts below a millisecond or beyond int64 milliseconds, CLIENT UNBLOCK / PAUSE
argument errors, WATCH against FLUSHALL / FLUSHDB / SWAPDB of keys that do not exist, the
sorted-set algebra over plain sets, and SWAPDB waking blocked clients. Keys are spread so that
they land on several shards when the server runs several threads.
"""
import time

import pytest

from helpers import blocked_clients, wait_blocked
from resp import Error
from test_multi import exec_watched, other  # noqa: F401 (a fixture)

KEYS = [f"dk:{i}" for i in range(8)]


# ---------------------------------------------------------------- blocking timeouts

@pytest.mark.parametrize("timeout", ["0.001", "0.0001", "1e-3", "1e-400"])
def test_sub_millisecond_timeout_expires(raw, timeout):
    # Redis rounds the timeout up to whole milliseconds: it never becomes 0 (= forever).
    assert raw.cmd("BLPOP", KEYS[0], KEYS[1], timeout) is None
    assert raw.cmd("BRPOP", KEYS[2], timeout) is None
    assert raw.cmd("BZPOPMIN", KEYS[3], KEYS[4], timeout) is None
    assert raw.cmd("BZPOPMAX", KEYS[5], timeout) is None


@pytest.mark.parametrize("timeout", ["inf", "1e30", "9.3e15", "99999999999999999",
                                     "9223372036854775807", "-inf", "-1e30"])
def test_timeout_beyond_int64_ms_is_negative(raw, timeout):
    # Redis 7.0 converts seconds * 1000 to a long long; out of range that is LLONG_MIN.
    for cmd in (("BLPOP", KEYS[0], KEYS[1]), ("BRPOP", KEYS[2]), ("BZPOPMIN", KEYS[3]),
                ("BZPOPMAX", KEYS[4], KEYS[5])):
        assert raw.cmd(*cmd, timeout) == Error("ERR timeout is negative")


def test_tiny_negative_timeout_rounds_to_forever(server, raw, other):
    # ceil(-0.1 ms) is 0: no "negative" error, the client blocks until served.
    other.send(b"*3\r\n$5\r\nBLPOP\r\n$4\r\ndk:0\r\n$7\r\n-0.0001\r\n")
    wait_blocked(raw, 1)
    assert raw.cmd("RPUSH", KEYS[0], "v") == 1
    assert other.read() == [KEYS[0].encode(), b"v"]


def test_large_timeout_in_range_blocks(raw, other):
    # Just below the int64 limit the wait is accepted (and is served by a push).
    other.send(b"*3\r\n$8\r\nBZPOPMIN\r\n$4\r\ndk:3\r\n$6\r\n9.2e15\r\n")
    wait_blocked(raw, 1)
    assert raw.cmd("ZADD", KEYS[3], "1", "m") == 1
    assert other.read() == [KEYS[3].encode(), b"m", b"1"]


# ---------------------------------------------------------------- CLIENT UNBLOCK / PAUSE

def test_client_unblock_too_many_args(raw):
    assert raw.cmd("CLIENT", "UNBLOCK", "1", "ERROR", "x") == Error(
        "ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP.")
    assert raw.cmd("client", "unblock", "1", "timeout", "x", "y") == Error(
        "ERR unknown subcommand or wrong number of arguments for 'unblock'. Try CLIENT HELP.")


def test_client_unblock_reason_checked_before_id(raw):
    assert raw.cmd("CLIENT", "UNBLOCK", "abc", "foo") == Error(
        "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    assert raw.cmd("CLIENT", "UNBLOCK", "abc", "error") == Error(
        "ERR value is not an integer or out of range")
    assert raw.cmd("CLIENT", "UNBLOCK", "999999", "TIMEOUT") == 0


def test_client_pause_argument_errors(raw):
    assert raw.cmd("CLIENT", "PAUSE", "10", "foo") == Error("ERR CLIENT PAUSE mode must be WRITE or ALL")
    assert raw.cmd("CLIENT", "PAUSE", "abc", "foo") == Error("ERR CLIENT PAUSE mode must be WRITE or ALL")
    assert raw.cmd("CLIENT", "PAUSE", "-1") == Error("ERR timeout is negative")
    assert raw.cmd("CLIENT", "PAUSE", "1.5", "write") == Error(
        "ERR timeout is not an integer or out of range")
    assert raw.cmd("CLIENT", "PAUSE", "10", "all", "x") == Error(
        "ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.")


# ---------------------------------------------------------------- WATCH and whole-db changes

def test_exec_with_arguments_aborts_and_discards(raw, other):
    """An EXEC rejected before it runs (its arity) discards the transaction and the WATCH."""
    err = "EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command"
    assert raw.cmd("EXEC", "x") == Error(err)
    assert raw.cmd("WATCH", KEYS[0]) == "OK"
    assert raw.cmd("MULTI") == "OK"
    assert raw.cmd("SET", KEYS[1], "v") == "QUEUED"
    assert raw.cmd("EXEC", "y", "z") == Error(err)
    assert raw.cmd("EXEC") == Error("ERR EXEC without MULTI")
    assert raw.cmd("EXISTS", KEYS[1]) == 0
    assert other.cmd("SET", KEYS[0], "changed") == "OK"  # no longer watched
    assert raw.cmd("MULTI") == "OK"
    assert raw.cmd("PING") == "QUEUED"
    assert raw.cmd("EXEC") == ["PONG"]


@pytest.mark.parametrize("flush", [("FLUSHALL",), ("FLUSHALL", "ASYNC"), ("FLUSHDB",),
                                   ("FLUSHDB", "SYNC")])
def test_flush_of_missing_watched_keys_keeps_exec(raw, other, flush):
    raw.cmd("MSET", KEYS[0], "1", KEYS[1], "2", KEYS[2], "3")
    assert raw.cmd("WATCH", KEYS[4], KEYS[5], KEYS[6], KEYS[7]) == "OK"
    assert other.cmd(*flush) == "OK"
    assert exec_watched(raw) == ["PONG"]


@pytest.mark.parametrize("flush", [("FLUSHALL",), ("FLUSHDB", "ASYNC")])
def test_flush_of_existing_watched_key_aborts(raw, other, flush):
    raw.cmd("MSET", KEYS[0], "1", KEYS[1], "2", KEYS[2], "3")
    assert raw.cmd("WATCH", KEYS[4], KEYS[5], KEYS[6], KEYS[2]) == "OK"
    assert other.cmd(*flush) == "OK"
    assert exec_watched(raw) is None


def test_flushdb_of_other_db_keeps_exec(raw, other):
    raw.cmd("SET", KEYS[0], "1")
    raw.cmd("WATCH", KEYS[0])
    other.cmd("SELECT", "1")
    other.cmd("SET", KEYS[0], "x")
    assert other.cmd("FLUSHDB") == "OK"
    assert exec_watched(raw) == ["PONG"]


def test_flushall_aborts_watch_of_key_in_other_db(raw, other):
    raw.cmd("SELECT", "1")
    raw.cmd("SET", KEYS[1], "1")
    raw.cmd("WATCH", KEYS[1], KEYS[2])
    assert other.cmd("FLUSHALL") == "OK"
    assert exec_watched(raw) is None


def test_swapdb_of_keys_in_neither_db_keeps_exec(raw, other):
    raw.cmd("SET", KEYS[0], "1")
    raw.cmd("WATCH", KEYS[1], KEYS[2], KEYS[3])
    assert other.cmd("SWAPDB", "0", "1") == "OK"
    assert exec_watched(raw) == ["PONG"]


@pytest.mark.parametrize("order", [("0", "1"), ("1", "0")])
def test_swapdb_bringing_a_watched_key_aborts(raw, other, order):
    other.cmd("SELECT", "1")
    other.cmd("SET", KEYS[3], "1")
    raw.cmd("WATCH", KEYS[1], KEYS[2], KEYS[3])
    assert other.cmd("SWAPDB", *order) == "OK"
    assert exec_watched(raw) is None


def test_swapdb_of_other_dbs_keeps_exec(raw, other):
    raw.cmd("SET", KEYS[0], "1")
    raw.cmd("WATCH", KEYS[0])
    other.cmd("SELECT", "2")
    other.cmd("SET", KEYS[0], "1")
    assert other.cmd("SWAPDB", "2", "3") == "OK"
    assert exec_watched(raw) == ["PONG"]


# ---------------------------------------------------------------- SWAPDB wakes blocked clients

def test_swapdb_serves_blocked_blpop(raw, other):
    raw.cmd("SELECT", "1")
    raw.cmd("RPUSH", KEYS[2], "a", "b")
    other.send(b"*4\r\n$5\r\nBLPOP\r\n$4\r\ndk:1\r\n$4\r\ndk:2\r\n$1\r\n0\r\n")
    wait_blocked(raw, 1)
    assert raw.cmd("SWAPDB", "0", "1") == "OK"
    assert other.read() == [KEYS[2].encode(), b"a"]
    assert raw.cmd("LRANGE", KEYS[2], "0", "-1") == []  # raw is in db 1: the old db 0
    raw.cmd("SELECT", "0")
    assert raw.cmd("LRANGE", KEYS[2], "0", "-1") == [b"b"]


def test_swapdb_serves_blocked_bzpopmin(raw, other):
    raw.cmd("SELECT", "3")
    raw.cmd("ZADD", KEYS[5], "2", "x", "1", "y")
    other.send(b"*4\r\n$8\r\nBZPOPMIN\r\n$4\r\ndk:4\r\n$4\r\ndk:5\r\n$1\r\n0\r\n")
    wait_blocked(raw, 1)
    assert raw.cmd("SWAPDB", "3", "0") == "OK"
    assert other.read() == [KEYS[5].encode(), b"y", b"1"]


# ---------------------------------------------------------------- sorted-set algebra over sets

def setup_sources(raw):
    raw.cmd("SADD", KEYS[0], "a", "b", "c")
    raw.cmd("SADD", KEYS[1], *[str(i) for i in range(0, 30, 3)])      # intset
    raw.cmd("SADD", KEYS[2], *[f"m{i}" for i in range(200)])          # hashtable
    raw.cmd("ZADD", KEYS[3], "1", "a", "2", "b", "3", "c", "10", "9")


def test_zunionstore_accepts_sets(raw):
    setup_sources(raw)
    assert raw.cmd("ZUNIONSTORE", KEYS[4], "2", KEYS[3], KEYS[0]) == 4
    assert raw.cmd("ZRANGE", KEYS[4], "0", "-1", "WITHSCORES") == [
        b"a", b"2", b"b", b"3", b"c", b"4", b"9", b"10"]
    assert raw.cmd("ZUNIONSTORE", KEYS[5], "3", KEYS[0], KEYS[1], KEYS[2],
                   "WEIGHTS", "2", "3", "4") == 213
    assert raw.cmd("ZSCORE", KEYS[5], "a") == b"2"
    assert raw.cmd("ZSCORE", KEYS[5], "27") == b"3"
    assert raw.cmd("ZSCORE", KEYS[5], "m150") == b"4"
    assert raw.cmd("TYPE", KEYS[5]) == "zset"


def test_zinterstore_and_zdiffstore_accept_sets(raw):
    setup_sources(raw)
    assert raw.cmd("ZINTERSTORE", KEYS[4], "2", KEYS[3], KEYS[1], "AGGREGATE", "MAX") == 1
    assert raw.cmd("ZRANGE", KEYS[4], "0", "-1", "WITHSCORES") == [b"9", b"10"]
    assert raw.cmd("ZINTERSTORE", KEYS[4], "2", KEYS[0], KEYS[3]) == 3
    assert raw.cmd("ZRANGE", KEYS[4], "0", "-1", "WITHSCORES") == [
        b"a", b"2", b"b", b"3", b"c", b"4"]
    assert raw.cmd("ZDIFFSTORE", KEYS[5], "2", KEYS[3], KEYS[0]) == 1
    assert raw.cmd("ZRANGE", KEYS[5], "0", "-1", "WITHSCORES") == [b"9", b"10"]
    assert raw.cmd("ZDIFFSTORE", KEYS[6], "1", KEYS[0]) == 3
    assert raw.cmd("ZRANGE", KEYS[6], "0", "-1", "WITHSCORES") == [
        b"a", b"1", b"b", b"1", b"c", b"1"]


def test_zunion_zinter_zdiff_accept_sets(raw):
    setup_sources(raw)
    assert raw.cmd("ZUNION", "2", KEYS[3], KEYS[0], "WITHSCORES", "AGGREGATE", "MIN") == [
        b"a", b"1", b"b", b"1", b"c", b"1", b"9", b"10"]
    assert raw.cmd("ZINTER", "2", KEYS[0], KEYS[3]) == [b"a", b"b", b"c"]
    assert raw.cmd("ZDIFF", "2", KEYS[3], KEYS[0], "WITHSCORES") == [b"9", b"10"]
    assert raw.cmd("ZDIFF", "2", KEYS[0], KEYS[7]) == [b"a", b"b", b"c"]


def test_zstore_other_types_still_wrongtype(raw):
    setup_sources(raw)
    raw.cmd("SET", KEYS[6], "x")
    raw.cmd("RPUSH", KEYS[7], "x")
    wrongtype = Error("WRONGTYPE Operation against a key holding the wrong kind of value")
    assert raw.cmd("ZUNIONSTORE", KEYS[4], "2", KEYS[0], KEYS[6]) == wrongtype
    assert raw.cmd("ZINTER", "2", KEYS[7], KEYS[0]) == wrongtype
    assert raw.cmd("ZDIFFSTORE", KEYS[4], "2", KEYS[3], KEYS[7]) == wrongtype
    assert raw.cmd("EXISTS", KEYS[4]) == 0


def test_client_pause_holds_commands_until_unpause(server):
    """CLIENT PAUSE WRITE holds writes but not reads; ALL holds everything; UNPAUSE (or the
    timeout) lets them run, in order, with their replies."""
    import threading
    admin, c = server.client(), server.client()
    c.set("p", "before")
    admin.execute_command("CLIENT", "PAUSE", 10000, "WRITE")
    try:
        assert c.get("p") == "before"  # reads go on
        done = []
        t = threading.Thread(target=lambda: done.append(c.set("p", "after")))
        t.start()
        time.sleep(0.3)
        assert not done and admin.get("p") == "before"
    finally:
        admin.execute_command("CLIENT", "UNPAUSE")
    t.join(timeout=10)
    assert done == [True] and admin.get("p") == "after"
    admin.execute_command("CLIENT", "PAUSE", 300, "ALL")
    start = time.time()
    assert c.get("p") == "after"  # held until the pause times out
    assert time.time() - start >= 0.2
