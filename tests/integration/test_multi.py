"""Transactions (issue #4): MULTI/EXEC/DISCARD, queueing errors, runtime errors, WATCH/UNWATCH."""
import time

import pytest
import redis

from resp import Error, Simple

EXECABORT = "EXECABORT Transaction discarded because of previous errors."


@pytest.fixture
def other(server):
    c = server.raw()
    yield c
    c.close()


def exec_watched(raw):
    """Run an (empty-ish) transaction and return EXEC's reply."""
    assert raw.cmd("MULTI") == "OK"
    assert raw.cmd("PING") == "QUEUED"
    return raw.cmd("EXEC")


# ---------------------------------------------------------------- basics

def test_multi_exec(raw):
    assert raw.cmd("MULTI") == "OK"
    rep = raw.cmd("SET", "a", "1")
    assert rep == "QUEUED" and isinstance(rep, Simple)
    assert raw.cmd("INCR", "a") == "QUEUED"
    assert raw.cmd("GET", "a") == "QUEUED"
    assert raw.cmd("GET", "nokey") == "QUEUED"
    assert raw.cmd("EXEC") == ["OK", 2, b"2", None]
    assert raw.cmd("GET", "a") == b"2"


def test_commands_not_run_before_exec(server, raw, other):
    raw.cmd("MULTI")
    raw.cmd("SET", "pending", "1")
    assert other.cmd("GET", "pending") is None
    raw.cmd("EXEC")
    assert other.cmd("GET", "pending") == b"1"


def test_empty_exec(raw):
    raw.cmd("MULTI")
    assert raw.cmd("EXEC") == []


def test_discard(raw):
    assert raw.cmd("DISCARD") == "ERR DISCARD without MULTI"
    raw.cmd("MULTI")
    raw.cmd("SET", "d", "1")
    assert raw.cmd("DISCARD") == "OK"
    assert raw.cmd("GET", "d") is None
    assert raw.cmd("EXEC") == "ERR EXEC without MULTI"


def test_exec_without_multi(raw):
    assert raw.cmd("EXEC") == "ERR EXEC without MULTI"


def test_nested_multi(raw):
    assert raw.cmd("MULTI") == "OK"
    assert raw.cmd("MULTI") == "ERR MULTI calls can not be nested"
    raw.cmd("SET", "n", "1")
    # the nested MULTI error does not abort the transaction
    assert raw.cmd("EXEC") == ["OK"]


def test_redis_py_pipeline_transaction(r):
    p = r.pipeline(transaction=True)
    p.set("a", 1).incrby("a", 10).get("a")
    assert p.execute() == [True, 11, "11"]


def test_select_inside_multi(raw):
    raw.cmd("MULTI")
    assert raw.cmd("SELECT", "2") == "QUEUED"
    raw.cmd("SET", "k", "v")
    assert raw.cmd("EXEC") == ["OK", "OK"]
    assert raw.cmd("GET", "k") == b"v"     # the connection stays on db 2
    raw.cmd("SELECT", "0")
    assert raw.cmd("GET", "k") is None


# ---------------------------------------------------------------- errors

def test_execabort_unknown_command(raw):
    raw.cmd("MULTI")
    raw.cmd("SET", "a", "1")
    rep = raw.cmd("NOSUCHCOMMAND", "x")
    assert isinstance(rep, Error) and rep.startswith("ERR unknown command 'NOSUCHCOMMAND'")
    raw.cmd("SET", "b", "1")
    assert raw.cmd("EXEC") == EXECABORT
    assert raw.cmd("GET", "a") is None
    assert raw.cmd("GET", "b") is None
    assert raw.cmd("EXEC") == "ERR EXEC without MULTI"


def test_execabort_wrong_arity(raw):
    raw.cmd("MULTI")
    assert raw.cmd("GET") == "ERR wrong number of arguments for 'get' command"
    assert raw.cmd("SET", "b", "1") == "QUEUED"
    assert raw.cmd("EXEC") == EXECABORT
    assert raw.cmd("GET", "b") is None


def test_runtime_errors_in_exec(raw):
    raw.cmd("SET", "s", "x")
    raw.cmd("MULTI")
    raw.cmd("SET", "a", "1")
    raw.cmd("INCR", "s")
    raw.cmd("LPUSH", "s", "x")
    raw.cmd("GET", "a")
    rep = raw.cmd("EXEC")
    assert rep[0] == "OK"
    assert isinstance(rep[1], Error) and rep[1] == "ERR value is not an integer or out of range"
    assert isinstance(rep[2], Error) and rep[2].startswith("WRONGTYPE")
    assert rep[3] == b"1"


def test_watch_inside_multi(raw):
    raw.cmd("MULTI")
    assert raw.cmd("WATCH", "x") == "ERR WATCH inside MULTI is not allowed"
    raw.cmd("SET", "x", "1")
    assert raw.cmd("EXEC") == ["OK"]


def test_watch_arity(raw):
    assert raw.cmd("WATCH") == "ERR wrong number of arguments for 'watch' command"


# ---------------------------------------------------------------- WATCH

def test_watch_abort_on_change(raw, other):
    raw.cmd("SET", "w", "1")
    assert raw.cmd("WATCH", "w") == "OK"
    other.cmd("SET", "w", "2")
    raw.cmd("MULTI")
    raw.cmd("SET", "w", "3")
    assert raw.cmd("EXEC") is None
    assert raw.cmd("GET", "w") == b"2"


def test_watch_abort_null_is_resp2_nil_array(raw, other):
    raw.cmd("WATCH", "w")
    other.cmd("SET", "w", "2")
    raw.cmd("MULTI")
    raw.cmd("PING")
    raw.send(b"*1\r\n$4\r\nEXEC\r\n")
    assert raw.read_line_raw() == b"*-1"


def test_watch_success_without_change(raw):
    raw.cmd("SET", "w", "1")
    raw.cmd("WATCH", "w")
    raw.cmd("MULTI")
    raw.cmd("INCR", "w")
    assert raw.cmd("EXEC") == [2]


def test_watch_missing_key_created(raw, other):
    raw.cmd("WATCH", "nokey")
    other.cmd("SET", "nokey", "1")
    assert exec_watched(raw) is None


def test_watch_same_value_still_aborts(raw, other):
    raw.cmd("SET", "w", "1")
    raw.cmd("WATCH", "w")
    other.cmd("SET", "w", "1")
    assert exec_watched(raw) is None


def test_watch_own_modification_aborts(raw):
    raw.cmd("WATCH", "w")
    raw.cmd("SET", "w", "mine")
    assert exec_watched(raw) is None


@pytest.mark.parametrize("cmd", [("DEL", "w"), ("EXPIRE", "w", "100"), ("APPEND", "w", "x"),
                                 ("RENAME", "w", "w2"), ("INCR", "w")])
def test_watch_abort_on_various_writes(raw, other, cmd):
    raw.cmd("SET", "w", "1")
    raw.cmd("WATCH", "w")
    other.cmd(*cmd)
    assert exec_watched(raw) is None


def test_watch_rename_into_watched(raw, other):
    raw.cmd("WATCH", "w")
    other.cmd("SET", "src", "1")
    other.cmd("RENAME", "src", "w")
    assert exec_watched(raw) is None


def test_watch_write_to_other_key_ok(raw, other):
    raw.cmd("SET", "w", "1")
    raw.cmd("WATCH", "w")
    other.cmd("SET", "unrelated", "1")
    assert exec_watched(raw) == ["PONG"]


def test_watch_other_db_ok(raw, other):
    raw.cmd("WATCH", "z")
    other.cmd("SELECT", "1")
    other.cmd("SET", "z", "1")
    assert exec_watched(raw) == ["PONG"]


def test_watch_del_missing_key_ok(raw, other):
    raw.cmd("WATCH", "gone")
    other.cmd("DEL", "gone")
    assert exec_watched(raw) == ["PONG"]


def test_watch_expiry_aborts(raw):
    raw.cmd("SET", "w", "1", "PX", "50")
    raw.cmd("WATCH", "w")
    time.sleep(0.15)
    assert exec_watched(raw) is None


def test_watch_flushdb_aborts(raw, other):
    raw.cmd("SET", "w", "1")
    raw.cmd("WATCH", "w")
    other.cmd("FLUSHDB")
    assert exec_watched(raw) is None


def test_watch_flushall_aborts(raw, other):
    raw.cmd("SET", "w", "1")
    raw.cmd("WATCH", "w")
    other.cmd("FLUSHALL")
    assert exec_watched(raw) is None


def test_watch_swapdb_aborts(raw, other):
    raw.cmd("SET", "w", "1")
    raw.cmd("WATCH", "w")
    other.cmd("SWAPDB", "0", "5")
    assert exec_watched(raw) is None
    other.cmd("FLUSHALL")


def test_unwatch(raw, other):
    raw.cmd("WATCH", "w")
    assert raw.cmd("UNWATCH") == "OK"
    other.cmd("SET", "w", "1")
    assert exec_watched(raw) == ["PONG"]
    assert raw.cmd("UNWATCH") == "OK"


def test_exec_clears_watches(raw, other):
    raw.cmd("WATCH", "w")
    assert exec_watched(raw) == ["PONG"]
    other.cmd("SET", "w", "1")
    assert exec_watched(raw) == ["PONG"]


def test_aborted_exec_clears_watches(raw, other):
    raw.cmd("WATCH", "w")
    other.cmd("SET", "w", "1")
    assert exec_watched(raw) is None
    other.cmd("SET", "w", "2")
    assert exec_watched(raw) == ["PONG"]


def test_discard_clears_watches(raw, other):
    raw.cmd("WATCH", "w")
    raw.cmd("MULTI")
    raw.cmd("DISCARD")
    other.cmd("SET", "w", "1")
    assert exec_watched(raw) == ["PONG"]


def test_watch_multiple_keys(raw, other):
    raw.cmd("WATCH", "a", "b", "c")
    other.cmd("SET", "c", "1")
    assert exec_watched(raw) is None


def test_redis_py_watch_error(server, r):
    r.set("w", "1")
    other = server.client()
    with r.pipeline() as p:
        p.watch("w")
        other.set("w", "2")
        p.multi()
        p.set("w", "3")
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.get("w") == "2"
    other.close()
