"""MIGRATE as Redis 7.0: one key or KEYS across shards, COPY, REPLACE / BUSYKEY, TTLs, the
destination db, NOKEY, AUTH / AUTH2, unreachable and silent targets, the target's errors passed
through, MULTI/EXEC, replicas seeing DEL, and both directions between our server and
redis-server.

The server under test migrates to a second server of the same kind (so DF_TEST_SERVER=redis
proves every expectation on redis-server alone); the cross-kind tests start one of each.
A scripted fake target (a Python socket) stands in where a real server cannot misbehave."""
import os
import socket
import threading
import time

import pytest

from conftest import Server, dragonfly_bin, free_port
from helpers import err, wait_for

HOST = "127.0.0.1"
BUSY = "Target instance replied with error: BUSYKEY Target key name already exists."
IOERR_WRITE = "IOERR error or timeout writing to target instance"
IOERR_READ = "IOERR error or timeout reading to target instance"


@pytest.fixture(scope="module")
def target_server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def src(server):
    c = server.client()
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def dst(target_server):
    c = target_server.client()
    c.flushall()
    yield c
    c.close()


def migrate(c, port, key, db=0, timeout=5000, *opts):
    return c.execute_command("MIGRATE", HOST, port, key, db, timeout, *opts)


def fill_types(c):
    """One key of each type (names chosen to fall on different shards)."""
    c.set("s1", "value")
    c.set("n1", 12345)
    c.rpush("l1", "a", "b", "c")
    c.hset("h1", mapping={"f": "v", "g": "w"})
    c.sadd("set1", "x", "y")
    c.zadd("z1", {"m": 1.5, "n": 2})
    return ["s1", "n1", "l1", "h1", "set1", "z1"]


def assert_types(c):
    assert c.get("s1") == "value"
    assert c.get("n1") == "12345"
    assert c.lrange("l1", 0, -1) == ["a", "b", "c"]
    assert c.hgetall("h1") == {"f": "v", "g": "w"}
    assert c.smembers("set1") == {"x", "y"}
    assert c.zrange("z1", 0, -1, withscores=True) == [("m", 1.5), ("n", 2.0)]


# ---- the server under test to one of the same kind ----------------------------------------

def test_single_key(src, dst, target_server):
    src.set("k", "v1")
    assert migrate(src, target_server.port, "k") == "OK"
    assert src.exists("k") == 0
    assert dst.get("k") == "v1"


def test_keys_across_shards(src, dst, target_server):
    names = fill_types(src) + [f"key:{i}" for i in range(30)]
    for i in range(30):
        src.set(f"key:{i}", i)
    src.set("stays", "here")
    assert migrate(src, target_server.port, "", 0, 5000, "KEYS", *names, "missing") == "OK"
    assert src.keys("*") == ["stays"]
    assert_types(dst)
    assert [dst.get(f"key:{i}") for i in range(30)] == [str(i) for i in range(30)]
    assert dst.exists("missing", "stays") == 0


def test_big_values(server, target_server):
    """Megabytes that do not compress: the socket takes them in many writes."""
    src = server.client(decode_responses=False)
    dst = target_server.client(decode_responses=False)
    src.flushall()
    dst.flushall()
    big = os.urandom(3 << 20)
    src.set("big", big)
    src.rpush("biglist", *[os.urandom(1000) for _ in range(2000)])
    assert migrate(src, target_server.port, "", 0, 10000, "KEYS", "big", "biglist") == b"OK"
    assert src.dbsize() == 0
    assert dst.get("big") == big
    assert dst.llen("biglist") == 2000


def test_copy_keeps_the_source(src, dst, target_server):
    src.rpush("l", "a", "b")
    assert migrate(src, target_server.port, "", 0, 5000, "COPY", "KEYS", "l") == "OK"
    assert src.lrange("l", 0, -1) == ["a", "b"]
    assert dst.lrange("l", 0, -1) == ["a", "b"]


def test_busykey_then_replace(src, dst, target_server):
    src.set("k", "new")
    dst.set("k", "old")
    assert err(src, "MIGRATE", HOST, target_server.port, "k", 0, 5000) == BUSY
    assert src.get("k") == "new"  # not deleted: the target refused it
    assert dst.get("k") == "old"
    assert migrate(src, target_server.port, "k", 0, 5000, "REPLACE") == "OK"
    assert dst.get("k") == "new"
    assert src.exists("k") == 0


def test_busykey_on_some_keys_moves_the_others(src, dst, target_server):
    src.mset({"a": "1", "b": "2", "c": "3"})
    dst.set("b", "theirs")
    assert err(src, "MIGRATE", HOST, target_server.port, "", 0, 5000, "KEYS", "a", "b", "c") == BUSY
    assert sorted(src.keys("*")) == ["b"]
    assert dst.mget("a", "b", "c") == ["1", "theirs", "3"]


def test_ttl_is_carried(src, dst, target_server):
    src.set("t", "v", px=100000)
    src.set("p", "v")
    assert migrate(src, target_server.port, "", 0, 5000, "KEYS", "t", "p") == "OK"
    assert 0 < dst.pttl("t") <= 100000
    assert dst.ttl("p") == -1


def test_destination_db(src, target_server):
    d5 = target_server.client(db=5)
    d0 = target_server.client(db=0)
    d5.flushall()
    src.set("a", "1")
    src.set("b", "2")
    assert migrate(src, target_server.port, "a", 5) == "OK"
    assert migrate(src, target_server.port, "b", 0) == "OK"  # the same cached connection
    assert d5.get("a") == "1" and d5.exists("b") == 0
    assert d0.get("b") == "2" and d0.exists("a") == 0


def test_source_db_is_the_clients(server, target_server, dst):
    s3 = server.client(db=3)
    s3.flushall()
    s3.set("k", "in3")
    assert migrate(s3, target_server.port, "k", 0) == "OK"
    assert s3.exists("k") == 0
    assert dst.get("k") == "in3"


def test_nokey(src, target_server):
    assert migrate(src, target_server.port, "nothing") == "NOKEY"
    assert migrate(src, target_server.port, "", 0, 5000, "KEYS", "x", "y") == "NOKEY"
    # nobody listens there: with no key, nothing is sent
    assert migrate(src, free_port(), "nothing") == "NOKEY"


def test_empty_key_name_is_a_key(src, dst, target_server):
    src.set("", "empty name")
    assert migrate(src, target_server.port, "") == "OK"
    assert dst.get("") == "empty name"


def test_argument_errors(src, target_server):
    p = target_server.port
    src.set("k", "v")
    assert err(src, "MIGRATE", HOST, p, "k", 0, 1000, "foo") == "syntax error"
    assert err(src, "MIGRATE", HOST, p, "k", 0, 1000, "AUTH") == "syntax error"
    assert err(src, "MIGRATE", HOST, p, "k", 0, 1000, "AUTH2", "u") == "syntax error"
    assert err(src, "MIGRATE", HOST, p, "k", "x", 1000) == "value is not an integer or out of range"
    assert err(src, "MIGRATE", HOST, p, "k", 0, "x") == "value is not an integer or out of range"
    assert err(src, "MIGRATE", HOST, p, "k", 0, 1000, "KEYS", "k") == \
        "When using MIGRATE KEYS option, the key argument must be set to the empty string"
    assert err(src, "MIGRATE", HOST, p, "k", 0) == "wrong number of arguments for 'migrate' command"
    assert src.get("k") == "v"


def test_select_error_from_target(src, target_server):
    src.set("k", "v")
    assert err(src, "MIGRATE", HOST, target_server.port, "k", 100000, 5000) == \
        "Target instance replied with error: ERR DB index is out of range"
    assert src.get("k") == "v"


def test_inside_multi(src, dst, target_server):
    p = src.pipeline(transaction=True)
    p.set("k", "v")
    p.execute_command("MIGRATE", HOST, target_server.port, "k", 0, 5000)
    p.exists("k")
    assert p.execute() == [True, "OK", 0]
    assert dst.get("k") == "v"


def test_cached_connection_closed_by_target(src, dst, target_server):
    src.set("a", "1")
    assert migrate(src, target_server.port, "a") == "OK"
    dst.execute_command("CLIENT", "KILL", "TYPE", "normal")  # closes the cached connection
    src.set("b", "2")
    assert migrate(src, target_server.port, "b") == "OK"  # reopened once, sent again
    assert dst.mget("a", "b") == ["1", "2"]


def test_source_acl_checks_the_keys(server, target_server):
    admin = server.client()
    admin.flushall()
    admin.execute_command("ACL", "SETUSER", "mig", "on", ">pw", "~a*", "+@all")
    try:
        c = server.client(username="mig", password="pw")
        admin.set("b", "1")
        noperm = "this user has no permissions to access one of the keys used as arguments"
        assert err(c, "MIGRATE", HOST, target_server.port, "", 0, 5000, "KEYS", "b") == noperm
        assert err(c, "MIGRATE", HOST, target_server.port, "b", 0, 5000) == noperm
        assert admin.get("b") == "1"
        c.close()
    finally:
        admin.execute_command("ACL", "DELUSER", "mig")


def test_monitor_hides_the_passwords(server, src, target_server):
    m = server.raw()
    try:
        assert m.cmd("MONITOR") == "OK"
        src.set("k", "v")
        err(src, "MIGRATE", HOST, target_server.port, "k", 0, 5000, "COPY", "AUTH2", "u",
            "secret1", "AUTH", "secret2", "KEYS")  # an error (KEYS after a key), shown anyway
        line = ""
        while '"migrate"' not in line:
            line = m.read().lower()
        assert "secret" not in line
        assert line.endswith('"copy" "auth2" "(redacted)" "(redacted)" "auth" "(redacted)" '
                             '"keys"')
    finally:
        m.close()


# ---- AUTH / AUTH2 -------------------------------------------------------------------------

def test_auth_to_a_target_with_requirepass(src):
    t = Server(args=["--requirepass", "pw"])
    try:
        src.set("k", "v")
        assert err(src, "MIGRATE", HOST, t.port, "k", 0, 5000).startswith(
            "Target instance replied with error: NOAUTH")
        assert err(src, "MIGRATE", HOST, t.port, "k", 0, 5000, "AUTH", "bad") == \
            "Target instance replied with error: WRONGPASS invalid username-password pair " \
            "or user is disabled."
        assert src.get("k") == "v"
        assert migrate(src, t.port, "k", 0, 5000, "AUTH", "pw") == "OK"
        assert src.exists("k") == 0
        assert t.client(password="pw").get("k") == "v"
    finally:
        t.stop()


def test_auth2_to_an_acl_user(src):
    t = Server(args=["--requirepass", "pw"])
    try:
        tc = t.client(password="pw")
        tc.execute_command("ACL", "SETUSER", "mover", "on", ">secret", "~*", "+@all")
        tc.execute_command("ACL", "SETUSER", "weak", "on", ">weak", "~*", "+@all", "-restore")
        src.set("k", "v")
        assert err(src, "MIGRATE", HOST, t.port, "k", 0, 5000, "AUTH2", "mover", "nope") == \
            "Target instance replied with error: WRONGPASS invalid username-password pair " \
            "or user is disabled."
        assert err(src, "MIGRATE", HOST, t.port, "k", 0, 5000, "AUTH2", "weak", "weak") == \
            "Target instance replied with error: NOPERM this user has no permissions to run " \
            "the 'restore' command"
        assert src.get("k") == "v"
        assert migrate(src, t.port, "k", 0, 5000, "AUTH2", "mover", "secret") == "OK"
        assert tc.get("k") == "v"
    finally:
        t.stop()


# ---- unreachable and misbehaving targets --------------------------------------------------

class FakeTarget:
    """A listener that reads commands and answers as scripted: reply(n_cmds) returns the
    bytes to send once n complete commands arrived (None: never answer)."""

    def __init__(self, reply):
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.commands = []
        self.got = threading.Event()  # the first command arrived
        self.go = threading.Event()   # answer now
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            buf = b""
            while True:
                cmds, buf = parse_commands(buf)
                self.commands += cmds
                if self.commands:
                    self.got.set()
                out = self.reply(self.commands)
                if out is not None:
                    self.go.wait(10)
                    conn.sendall(out)
                    return
                data = conn.recv(65536)
                if not data:
                    return
                buf += data

    def close(self):
        self.go.set()
        self.sock.close()
        self.thread.join(5)


def parse_commands(buf):
    """Complete RESP commands in buf (lists of bytes), and what is left."""
    cmds = []
    while buf.startswith(b"*"):
        pos = buf.find(b"\r\n")
        if pos < 0:
            break
        n, p, args = int(buf[1:pos]), pos + 2, []
        for _ in range(n):
            e = buf.find(b"\r\n", p)
            if e < 0 or buf[p:p + 1] != b"$":
                return cmds, buf
            ln = int(buf[p + 1:e])
            if len(buf) < e + 2 + ln + 2:
                return cmds, buf
            args.append(buf[e + 2:e + 2 + ln])
            p = e + 2 + ln + 2
        else:
            cmds.append(args)
            buf = buf[p:]
            continue
        break
    return cmds, buf


def test_refused_connection(src):
    src.set("k", "v")
    assert err(src, "MIGRATE", HOST, free_port(), "k", 0, 1000) == IOERR_WRITE
    assert src.get("k") == "v"


def test_unresolvable_host(src):
    src.set("k", "v")
    assert err(src, "MIGRATE", "no-such-host.invalid", 6379, "k", 0, 1000) == \
        "IOERR error or timeout connecting to the client"
    assert src.get("k") == "v"


def test_silent_target_times_out(src):
    fake = FakeTarget(lambda cmds: None)
    try:
        src.set("k", "v")
        assert err(src, "MIGRATE", HOST, fake.port, "k", 0, 300) == IOERR_READ
        assert src.get("k") == "v"
        assert fake.commands[0][0] == b"SELECT" and fake.commands[1][0] == b"RESTORE"
    finally:
        fake.close()


def test_target_error_text_passed_through(src):
    fake = FakeTarget(lambda cmds: b"+OK\r\n-ERR custom failure here\r\n"
                      if len(cmds) >= 2 else None)
    fake.go.set()
    try:
        src.set("k", "v")
        assert err(src, "MIGRATE", HOST, fake.port, "k", 3, 5000) == \
            "Target instance replied with error: ERR custom failure here"
        assert src.get("k") == "v"
        assert fake.commands[0] == [b"SELECT", b"3"]
        assert fake.commands[1][:3] == [b"RESTORE", b"k", b"0"]
    finally:
        fake.close()


def test_keys_stay_locked_during_the_exchange(server, src):
    """A write to a migrating key from another client waits for MIGRATE: it lands after the
    deletion (in Redis the server is busy in MIGRATE meanwhile)."""
    fake = FakeTarget(lambda cmds: b"+OK\r\n+OK\r\n" if len(cmds) >= 2 else None)
    try:
        src.set("k", "v")
        result = {}
        t = threading.Thread(target=lambda: result.update(
            m=server.client().execute_command("MIGRATE", HOST, fake.port, "k", 0, 10000)))
        t.start()
        assert fake.got.wait(10)  # the request is out: MIGRATE holds the key now
        other = server.client()
        w = threading.Thread(target=lambda: result.update(s=other.set("k", "later")))
        w.start()
        time.sleep(0.2)  # let the SET reach the server (ordering help, not a timing check)
        fake.go.set()
        t.join(10)
        w.join(10)
        assert result == {"m": "OK", "s": True}
        assert src.get("k") == "later"  # deleted by MIGRATE first, then set
    finally:
        fake.close()


def test_replica_sees_the_deletion(server, target_server, src, dst):
    rep = Server(args=["--replicaof", f"{HOST} {server.port}"])
    try:
        rc = rep.client()
        src.set("k", "v")
        src.set("sync-mark", "1")
        wait_for(lambda: rc.get("sync-mark") == "1", "the full sync")
        assert rc.get("k") == "v"
        assert migrate(src, target_server.port, "k") == "OK"
        src.set("after", "1")
        wait_for(lambda: rc.get("after") == "1", "the replicated writes")
        assert rc.exists("k") == 0
        assert dst.get("k") == "v"
    finally:
        rep.stop()


# ---- across kinds: our server and redis-server ---------------------------------------------

def _have_both():
    return os.path.exists(os.environ.get("REDIS_BIN", "/usr/bin/redis-server")) and \
        os.path.exists(dragonfly_bin())


@pytest.fixture(scope="module")
def pair():
    if not _have_both():
        pytest.skip("needs redis-server and our binary")
    ours = Server(kind="dragonfly")
    theirs = Server(kind="redis", args=["--requirepass", "pw"])
    yield ours, theirs
    ours.stop()
    theirs.stop()


def test_ours_to_redis(pair):
    ours, theirs = pair
    o, t = ours.client(), theirs.client(password="pw")
    o.flushall()
    t.flushall()
    names = fill_types(o)
    o.expire("l1", 1000)
    assert migrate(o, theirs.port, "", 2, 5000, "AUTH", "pw", "KEYS", *names) == "OK"
    assert o.dbsize() == 0
    t2 = theirs.client(password="pw", db=2)
    assert_types(t2)
    assert 0 < t2.ttl("l1") <= 1000


def test_redis_to_ours(pair):
    ours, theirs = pair
    o, t = ours.client(), theirs.client(password="pw")
    o.flushall()
    t.flushall()
    names = fill_types(t)
    t.pexpire("h1", 50000)
    assert migrate(t, ours.port, "", 1, 5000, "KEYS", *names) == "OK"
    assert t.dbsize() == 0
    o1 = ours.client(db=1)
    assert_types(o1)
    assert 0 < o1.pttl("h1") <= 50000
    t.set("h1", "x")
    assert err(t, "MIGRATE", HOST, ours.port, "h1", 1, 5000) == BUSY
    assert migrate(t, ours.port, "h1", 1, 5000, "REPLACE") == "OK"
    assert o1.get("h1") == "x"


def test_redis_to_ours_with_auth(pair):
    _, theirs = pair
    o = Server(kind="dragonfly", args=["--requirepass", "opw"])
    try:
        t = theirs.client(password="pw")
        t.flushall()
        t.set("k", "v")
        assert err(t, "MIGRATE", HOST, o.port, "k", 0, 5000).startswith(
            "Target instance replied with error: NOAUTH")
        assert migrate(t, o.port, "k", 0, 5000, "AUTH", "opw") == "OK"
        assert o.client(password="opw").get("k") == "v"
    finally:
        o.stop()
