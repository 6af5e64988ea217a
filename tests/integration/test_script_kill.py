"""The script time limit: busy-reply-threshold (lua-time-limit), BUSY, SCRIPT KILL, UNKILLABLE,
SHUTDOWN NOSAVE against a busy script.

Differential. On redis-server every other client gets BUSY once a script passes the threshold.
On dragonfly the script's thread serves nothing until the script ends, while the other threads
answer BUSY, so these tests run dragonfly with several threads and send SCRIPT KILL from a
client that answered BUSY (one on another thread): `busy_client` opens clients until one does.
"""
import hashlib
import os
import select
import socket
import threading
import time

import pytest

from conftest import THREADS, Server, is_redis
from resp import Error, Simple, encode

SPIN = "while true do end"


def threads():
    return 1 if is_redis() else max(THREADS, 3)


@pytest.fixture(scope="module")
def server():
    s = Server(threads=threads())
    yield s
    s.stop()


@pytest.fixture
def fast(server):
    """A 100 ms threshold for the test, the default (5000) again afterwards."""
    c = server.raw()
    assert c.cmd("CONFIG", "SET", "busy-reply-threshold", "100") == Simple("OK")
    yield c
    c.cmd("CONFIG", "SET", "busy-reply-threshold", "5000")
    c.close()


def start(server, body, *keys_and_args, numkeys=0):
    """A client that sent EVAL and has not read the reply yet."""
    c = server.raw()
    c.send(encode("EVAL", body, numkeys, *keys_and_args))
    return c


BUSY_EVAL = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
BUSY_FUNCTION = ("BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
                 "SHUTDOWN NOSAVE.")


def busy_client(server, busy=BUSY_EVAL):
    """A client that got BUSY, and the clients opened on the way (those still waiting: on the
    script's own thread). PING is answered PONG until the script passes the threshold (or, on
    the script's thread, until it starts there)."""
    clients = []
    deadline = time.time() + 30
    while time.time() < deadline:
        if len(clients) < 32:
            c = server.raw()
            c.send(encode("PING"))
            clients.append(c)
        ready, _, _ = select.select([c.sock for c in clients], [], [], 0.05)
        for c in clients:
            if c.sock not in ready:
                continue
            reply = c.read()
            if isinstance(reply, Error):
                assert reply == busy
                return c, [o for o in clients if o is not c]
            assert reply == Simple("PONG")
            c.send(encode("PING"))
    raise AssertionError("no client was answered BUSY")


def close_all(clients):
    for c in clients:
        c.close()


def where(body, line=1):
    sha = hashlib.sha1(body.encode()).hexdigest()
    return f" script: {sha}, on @user_script:{line}."


def test_threshold_config_and_alias(server):
    c = server.raw()
    try:
        assert c.cmd("CONFIG", "GET", "busy-reply-threshold") == [b"busy-reply-threshold", b"5000"]
        assert c.cmd("CONFIG", "SET", "lua-time-limit", "1234") == Simple("OK")
        assert c.cmd("CONFIG", "GET", "busy-reply-threshold") == [b"busy-reply-threshold", b"1234"]
        assert c.cmd("CONFIG", "SET", "busy-reply-threshold", "5000") == Simple("OK")
        assert c.cmd("CONFIG", "GET", "lua-time-limit") == [b"lua-time-limit", b"5000"]
    finally:
        c.close()


def test_script_kill_without_script(server):
    c = server.raw()
    try:
        assert c.cmd("SCRIPT", "KILL") == Error("NOTBUSY No scripts in execution right now.")
    finally:
        c.close()


@pytest.mark.parametrize("body", [SPIN, "while true do pcall(function() while true do end end) end"],
                         ids=["loop", "loop-in-pcall"])
def test_busy_script_is_killed(server, fast, body):
    script = start(server, body)
    helper, others = busy_client(server)
    try:
        assert helper.cmd("GET", "x") == Error(BUSY_EVAL)
        assert helper.cmd("FUNCTION", "KILL") == Error(BUSY_EVAL)
        assert helper.cmd("SCRIPT", "KILL") == Simple("OK")
        assert script.read() == Error(
            "ERR Script killed by user with SCRIPT KILL..." + where(body))
        assert helper.cmd("PING") == Simple("PONG")
        assert helper.cmd("SCRIPT", "KILL") == Error("NOTBUSY No scripts in execution right now.")
        assert script.cmd("EVAL", "return 1", 0) == 1  # the scripting thread is usable again
    finally:
        close_all([script, helper] + others)


def test_killed_script_wrote_nothing_and_later_writes_work(server, fast):
    body = "local n = 0 while true do n = n + 1 end"
    script = start(server, body, "k", numkeys=1)
    helper, others = busy_client(server)
    try:
        assert helper.cmd("SCRIPT", "KILL") == Simple("OK")
        assert isinstance(script.read(), Error)
        assert script.cmd("EVAL", "return redis.call('set', KEYS[1], 'after')", 1, "k") == Simple("OK")
        assert script.cmd("GET", "k") == b"after"
    finally:
        close_all([script, helper] + others)


def test_unkillable_script_and_shutdown_nosave():
    """A script that wrote cannot be killed; SHUTDOWN (saving) is refused while it is busy;
    SHUTDOWN NOSAVE stops the server."""
    s = Server(threads=threads())
    clients = []
    try:
        c = s.raw()
        clients.append(c)
        assert c.cmd("CONFIG", "SET", "busy-reply-threshold", "100") == Simple("OK")
        script = start(s, "redis.call('set', KEYS[1], 'v') " + SPIN, "k", numkeys=1)
        clients.append(script)
        helper, others = busy_client(s)
        clients += [helper] + others
        assert helper.cmd("SCRIPT", "KILL") == Error(
            "UNKILLABLE Sorry the script already executed write commands against the dataset. "
            "You can either wait the script termination or kill the server in a hard way using "
            "the SHUTDOWN NOSAVE command.")
        assert helper.cmd("SHUTDOWN") == Error(BUSY_EVAL)
        helper.send(encode("SHUTDOWN", "NOSAVE"))
        s.proc.wait(timeout=30)
    finally:
        close_all(clients)
        s.stop()


def test_busy_function_is_killed_and_shown_by_stats(server, fast):
    setup = server.raw()
    script = server.raw()
    others = []
    try:
        assert setup.cmd("FUNCTION", "LOAD", "REPLACE",
                         "#!lua name=spinlib\nredis.register_function('spin', function() "
                         "while true do end end)") == b"spinlib"
        script.send(encode("FCALL", "spin", 0))
        helper, others = busy_client(server, BUSY_FUNCTION)
        others.append(helper)
        stats = helper.cmd("FUNCTION", "STATS")
        running = dict(zip(stats[1][::2], stats[1][1::2]))
        assert running[b"name"] == b"spin"
        assert running[b"command"] == [b"FCALL", b"spin", b"0"]
        assert isinstance(running[b"duration_ms"], int)
        assert helper.cmd("SCRIPT", "KILL") == Error(BUSY_FUNCTION)
        assert helper.cmd("FUNCTION", "KILL") == Simple("OK")
        assert script.read() == Error(
            "ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.")
        assert helper.cmd("FUNCTION", "STATS")[1] is None
        assert helper.cmd("FUNCTION", "KILL") == Error("NOTBUSY No scripts in execution right now.")
    finally:
        setup.cmd("FUNCTION", "DELETE", "spinlib")
        close_all([setup, script] + others)


@pytest.mark.skipif(is_redis(), reason="redis-server 7.0 replicates a script's effects, so its "
                    "replicas never run one; ours replicates the EVAL itself")
def empty_rdb():
    """An RDB file of an empty dataset, as the server under test writes it."""
    s = Server(threads=1)
    try:
        c = s.raw()
        assert c.cmd("SAVE") == Simple("OK")
        c.close()
        with open(os.path.join(s.dir, "dump.rdb"), "rb") as f:
            return f.read()
    finally:
        s.stop()


def fake_master_sending(stream, go):
    """A listening socket that plays a master for one replica: it answers the handshake,
    sends an empty dataset (+FULLRESYNC) and, once the event go is set, `stream`. Returns the
    socket and the thread."""
    rdb = empty_rdb()
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)

    def serve():
        conn, _ = lsock.accept()
        f = conn.makefile("rb")
        while True:
            head = f.readline()
            if not head:
                return
            n = int(head[1:])
            args = []
            for _ in range(n):
                ln = int(f.readline()[1:])
                args.append(f.read(ln + 2)[:-2])
            name = args[0].upper()
            if name == b"PING":
                conn.sendall(b"+PONG\r\n")
            elif name == b"REPLCONF":
                if args[1].upper() != b"ACK":
                    conn.sendall(b"+OK\r\n")
            elif name in (b"PSYNC", b"SYNC"):
                conn.sendall(b"+FULLRESYNC " + b"a" * 40 + b" 0\r\n" +
                             b"$%d\r\n" % len(rdb) + rdb)
                go.wait(30)
                conn.sendall(stream)
        # the connection stays open until the test ends (its socket is closed with lsock)
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return lsock, t


def test_script_from_our_master_is_unkillable():
    # A replica that runs a script its master sent (Redis 7 masters send effects, but an older
    # master or an AOF replays scripts) must not kill it, or it would diverge: SCRIPT KILL
    # answers Redis's UNKILLABLE text for it (even before the script writes).
    body = ("local t = redis.call('time') local s = t[1] * 1000000 + t[2] "
            "while true do local n = redis.call('time') "
            "if n[1] * 1000000 + n[2] - s > 1500000 then break end end "
            "return redis.call('set', KEYS[1], 'done')")
    go = threading.Event()
    lsock, _ = fake_master_sending(encode("EVAL", body, 1, "from-master"), go)
    replica = Server(threads=threads(), args=["--busy-reply-threshold", "100"])
    try:
        r = replica.raw()
        assert r.cmd("REPLICAOF", "127.0.0.1", str(lsock.getsockname()[1])) == Simple("OK")
        deadline = time.time() + 20
        while time.time() < deadline and b"master_link_status:up" not in r.cmd("INFO", "replication"):
            time.sleep(0.05)
        go.set()
        busy, others = busy_client(replica)
        err = busy.cmd("SCRIPT", "KILL")
        assert err == ("UNKILLABLE The busy script was sent by a master instance in the context "
                       "of replication and cannot be killed."), err
        close_all(others + [busy])
        deadline = time.time() + 20
        while time.time() < deadline and r.cmd("GET", "from-master") != b"done":
            time.sleep(0.05)
        assert r.cmd("GET", "from-master") == b"done"
        r.close()
    finally:
        go.set()
        replica.stop()
        lsock.close()
