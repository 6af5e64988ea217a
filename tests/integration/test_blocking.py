"""
Integration tests for BLPOP/BRPOP and, through them, the core's blocking framework (issue #6):
immediate replies, parking and waking by a push from another client, timeouts, Redis's FIFO
order among clients blocked on one key, a waiter on keys in several shards served exactly once,
BLPOP inside MULTI, CLIENT UNBLOCK, and the errors. The server runs several threads so the
keys spread over shards. Every expectation holds on redis-server 7.0 (DF_TEST_SERVER=redis).
Tests check order and outcomes, never how fast something happened.
"""
import socket
import threading
import time

import pytest
import redis

from conftest import THREADS, Server
from helpers import blocked_clients, wait_blocked
from resp import Error

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


@pytest.fixture(scope="module")
def server():
    s = Server(threads=max(THREADS, 4))
    yield s
    s.stop()


@pytest.fixture
def r(r):
    r.response_callbacks.clear()
    return r


def err(r, *args):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


class Waiter:
    """A raw connection that sends one blocking command and reads its reply in a thread."""

    def __init__(self, server, *cmd):
        self.conn = server.raw()
        self.id = self.conn.cmd("CLIENT", "ID")
        self.reply = "no reply"
        self.thread = threading.Thread(target=self._run, args=(cmd,), daemon=True)
        self.thread.start()

    def _run(self, cmd):
        try:
            self.reply = self.conn.cmd(*cmd)
        except OSError as e:  # the test hung up on purpose
            self.reply = e

    def result(self, timeout=10.0):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "blocked client was never served"
        return self.reply

    def close(self):
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)  # close() alone leaves recv() hanging
        except OSError:
            pass
        self.conn.close()


@pytest.fixture
def waiters():
    made = []
    yield made
    for w in made:
        w.close()


def block(server, waiters, *cmd):
    w = Waiter(server, *cmd)
    waiters.append(w)
    return w


# ---------------------------------------------------------------------------- no waiting

def test_immediate_pop(r):
    r.execute_command("RPUSH", "l", "a", "b", "c")
    assert r.execute_command("BLPOP", "l", 1) == ["l", "a"]
    assert r.execute_command("BRPOP", "l", 1) == ["l", "c"]
    assert r.execute_command("BLPOP", "l", 0) == ["l", "b"]
    assert r.execute_command("EXISTS", "l") == 0


def test_first_nonempty_key_in_argument_order(r):
    r.execute_command("RPUSH", "k2", "x")
    r.execute_command("RPUSH", "k3", "y")
    assert r.execute_command("BLPOP", "k1", "k3", "k2", 1) == ["k3", "y"]
    assert r.execute_command("BLPOP", "k1", "k3", "k2", 1) == ["k2", "x"]


def test_wrongtype_only_before_the_first_nonempty(r):
    r.set("s", "v")
    r.execute_command("RPUSH", "l", "a", "b")
    assert err(r, "BLPOP", "s", "l", 1) == WRONGTYPE
    assert err(r, "BLPOP", "missing", "s", "l", 1) == WRONGTYPE
    assert r.execute_command("BLPOP", "l", "s", 1) == ["l", "a"]
    assert r.execute_command("LLEN", "l") == 1


def test_timeout_errors(r):
    assert err(r, "BLPOP", "l", "abc") == "timeout is not a float or out of range"
    assert err(r, "BLPOP", "l", "-1") == "timeout is negative"
    assert err(r, "BRPOP", "l", "-0.5") == "timeout is negative"
    r.set("s", "v")
    assert err(r, "BLPOP", "s", "abc") == "timeout is not a float or out of range"
    assert err(r, "BLPOP", "l") == "wrong number of arguments for 'blpop' command"
    assert err(r, "BRPOP", "l") == "wrong number of arguments for 'brpop' command"


def test_timeout_returns_null(r):
    t0 = time.time()
    assert r.execute_command("BLPOP", "l", "0.2") is None
    assert time.time() - t0 >= 0.1
    assert r.execute_command("BRPOP", "a", "b", "c", "0.1") is None


def test_timeout_null_array_on_the_wire(raw):
    raw.send(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nl\r\n$4\r\n0.05\r\n")
    assert raw.read_line_raw() == b"*-1"
    raw.cmd("HELLO", "3")
    raw.send(b"*3\r\n$5\r\nBRPOP\r\n$1\r\nl\r\n$4\r\n0.05\r\n")
    assert raw.read_line_raw() == b"_"


def test_blpop_inside_multi_does_not_block(r):
    p = r.pipeline(transaction=True)
    p.execute_command("BLPOP", "l", 0)
    p.execute_command("BRPOP", "l", "m", 0)
    assert p.execute() == [None, None]
    r.execute_command("RPUSH", "l", "a")
    p = r.pipeline(transaction=True)
    p.execute_command("BLPOP", "l", 0)
    assert p.execute() == [["l", "a"]]


# ---------------------------------------------------------------------------- waiting

def test_blocked_client_woken_by_push(server, r, waiters):
    w = block(server, waiters, "BLPOP", "l", 10)
    wait_blocked(r, 1)
    assert r.execute_command("LPUSH", "l", "v") == 1
    assert w.result() == [b"l", b"v"]
    assert r.execute_command("EXISTS", "l") == 0
    assert w.conn.cmd("PING") == "PONG"


def test_brpop_woken_by_rpush_takes_tail(server, r, waiters):
    w = block(server, waiters, "BRPOP", "l", 0)
    wait_blocked(r, 1)
    r.execute_command("RPUSH", "l", "a", "b", "c")
    assert w.result() == [b"l", b"c"]
    assert r.execute_command("LRANGE", "l", 0, -1) == ["a", "b"]


def test_fifo_order_on_one_key(server, r, waiters):
    ws = []
    for i in range(3):
        ws.append(block(server, waiters, "BLPOP", "q", 0))
        wait_blocked(r, i + 1)
    for v in ("first", "second", "third"):
        r.execute_command("RPUSH", "q", v)
    assert [w.result()[1] for w in ws] == [b"first", b"second", b"third"]
    assert r.execute_command("EXISTS", "q") == 0


def test_one_push_of_many_elements_serves_many_waiters(server, r, waiters):
    ws = []
    for i in range(2):
        ws.append(block(server, waiters, "BLPOP", "q", 0))
        wait_blocked(r, i + 1)
    assert r.execute_command("RPUSH", "q", "a", "b", "c") == 3
    assert [w.result()[1] for w in ws] == [b"a", b"b"]
    assert r.execute_command("LRANGE", "q", 0, -1) == ["c"]


def test_waiter_on_many_shards_served_once(server, r, waiters):
    keys = [f"shardkey:{i}" for i in range(24)]
    w = block(server, waiters, "BLPOP", *keys, 0)
    wait_blocked(r, 1)
    p = r.pipeline(transaction=False)
    p.execute_command("RPUSH", keys[3], "x")
    p.execute_command("RPUSH", keys[17], "y")
    assert p.execute() == [1, 1]
    key, val = w.result()
    assert (key, val) in ((keys[3].encode(), b"x"), (keys[17].encode(), b"y"))
    left = r.execute_command("LLEN", keys[3]) + r.execute_command("LLEN", keys[17])
    assert left == 1
    assert w.conn.cmd("PING") == "PONG"
    assert blocked_clients(r) == 0


def test_waiter_on_many_shards_served_once_by_multi(server, r, waiters):
    keys = [f"mkey:{i}" for i in range(24)]
    w = block(server, waiters, "BRPOP", *keys, 0)
    wait_blocked(r, 1)
    p = r.pipeline(transaction=True)
    p.execute_command("RPUSH", keys[20], "x")
    p.execute_command("RPUSH", keys[1], "y")
    p.execute()
    key, val = w.result()
    assert (key, val) in ((keys[20].encode(), b"x"), (keys[1].encode(), b"y"))
    assert r.execute_command("LLEN", keys[20]) + r.execute_command("LLEN", keys[1]) == 1


def test_exec_serves_waiters_after_its_last_command(server, r, waiters):
    """Redis serves blocked clients when EXEC is over: a pop later in the same EXEC takes the
    element first, and the waiter gets what is left."""
    keys = [f"xkey:{i}" for i in range(8)]  # spread over shards
    w = block(server, waiters, "BLPOP", keys[0], 0)
    wait_blocked(r, 1)
    p = r.pipeline(transaction=True)
    p.execute_command("RPUSH", keys[0], "a", "b")
    for k in keys[1:]:
        p.execute_command("SET", k, "v")
    p.execute_command("LPOP", keys[0])
    assert p.execute() == [2] + ["OK"] * (len(keys) - 1) + ["a"]
    assert w.result() == [keys[0].encode(), b"b"]
    assert r.execute_command("EXISTS", keys[0]) == 0


def test_exec_that_empties_the_list_keeps_the_waiter_waiting(server, r, waiters):
    w = block(server, waiters, "BLPOP", "xl", 0)
    wait_blocked(r, 1)
    p = r.pipeline(transaction=True)
    p.execute_command("RPUSH", "xl", "x")
    p.execute_command("SET", "xother", "1")
    p.execute_command("LPOP", "xl")
    assert p.execute() == [1, "OK", "x"]
    time.sleep(0.05)
    assert w.thread.is_alive(), "the element was taken inside EXEC: nothing to serve"
    r.execute_command("RPUSH", "xl", "y")
    assert w.result() == [b"xl", b"y"]


def test_wrong_type_write_keeps_waiting(server, r, waiters):
    w = block(server, waiters, "BLPOP", "l", 0)
    wait_blocked(r, 1)
    r.set("l", "string")
    r.delete("l")
    time.sleep(0.05)
    assert w.thread.is_alive(), "a non-list write must not serve the waiter"
    r.execute_command("RPUSH", "l", "v")
    assert w.result() == [b"l", b"v"]


def test_disconnected_waiter_leaves_the_element(server, r, waiters):
    w = block(server, waiters, "BLPOP", "l", 0)
    wait_blocked(r, 1)
    w.close()
    deadline = time.time() + 10
    while blocked_clients(r) and time.time() < deadline:
        time.sleep(0.01)
    assert blocked_clients(r) == 0
    r.execute_command("RPUSH", "l", "v")
    assert r.execute_command("LRANGE", "l", 0, -1) == ["v"]


def test_timeout_while_others_push_elsewhere(server, r, waiters):
    w = block(server, waiters, "BLPOP", "l", "0.3")
    wait_blocked(r, 1)
    r.execute_command("RPUSH", "other", "v")
    assert w.result() is None
    assert r.execute_command("LLEN", "other") == 1


def test_client_unblock(server, r, waiters):
    w = block(server, waiters, "BLPOP", "l", 0)
    wait_blocked(r, 1)
    res = r.execute_command("CLIENT", "UNBLOCK", w.id)
    assert res == 1, f"CLIENT UNBLOCK (needs the CLIENT command work) returned {res!r}"
    assert w.result() is None
    assert r.execute_command("CLIENT", "UNBLOCK", w.id) == 0


def test_client_unblock_error(server, r, waiters):
    w = block(server, waiters, "BRPOP", "l", 0)
    wait_blocked(r, 1)
    res = r.execute_command("CLIENT", "UNBLOCK", w.id, "ERROR")
    assert res == 1, f"CLIENT UNBLOCK ERROR (needs the CLIENT command work) returned {res!r}"
    reply = w.result()
    assert isinstance(reply, Error)
    assert reply == "UNBLOCKED client unblocked via CLIENT UNBLOCK"
