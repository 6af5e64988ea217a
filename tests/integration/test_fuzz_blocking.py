"""Robustness of the list-move / multi-pop / SORT / zset-store commands and of the blocking
paths across shards: a bounded fixed-seed fuzz of those commands from several connections
(with MULTI/EXEC, EXEC with arguments, SWAPDB/FLUSH*, CLIENT UNBLOCK/KILL), a BLMOVE chain
(a->b->c->a) whose elements must be conserved, the blocking scenarios one by one, and the
minimized reproducers of what the fuzzer found (marked "# Regression (found by fuzzing):" while they fail on our
server). Every expectation holds on redis-server 7.0 (DF_TEST_SERVER=redis). No timing
assertions: waits are barriers (blocked_clients) and generous hang bounds.
"""
import random
import socket
import threading
import time

import pytest

from conftest import THREADS, Server
from helpers import blocked_clients, wait_blocked
from resp import Error, RawClient, encode
# A several-thread server and the waiters list (closed after each test), shared with test_blocking.
from test_blocking import server, waiters  # noqa: E402,F401 (fixtures)

SEED = 20261124
HANG = 15.0                     # a reply slower than this is a hang (ASan, loaded machine)


class Conn(RawClient):
    """RawClient whose simple strings / errors may hold any bytes."""

    def __init__(self, server, timeout=HANG):
        RawClient.__init__(self, server.host, server.port, timeout=timeout)

    def read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"-":
            return Error(rest.decode(errors="replace"))
        if t == b"+":
            return rest.decode(errors="replace")
        if t in (b"*", b"~", b">"):
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        self.buf = line + b"\r\n" + self.buf
        return RawClient.read(self)


def stop_checked(s):
    """Stop a server we started in the test (fails on a sanitizer report in its output)."""
    s.stop()


def alive(s):
    c = Conn(s)
    try:
        return c.cmd("PING") == "PONG"
    finally:
        c.close()


def wait_unblocked(c, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if blocked_clients(c) == 0:
            return
        time.sleep(0.01)
    raise AssertionError(f"blocked_clients stays {blocked_clients(c)}")


class Waiter:
    """A connection that sends one blocking command and reads its reply in a thread."""

    def __init__(self, server, *cmd, db=0):
        self.conn = Conn(server)
        if db:
            self.conn.cmd("SELECT", str(db))
        self.id = self.conn.cmd("CLIENT", "ID")
        self.reply = "no reply"
        self.thread = threading.Thread(target=self._run, args=(cmd,), daemon=True)
        self.thread.start()

    def _run(self, cmd):
        try:
            self.reply = self.conn.cmd(*cmd)
        except OSError as e:
            self.reply = e

    def result(self, timeout=HANG):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "blocked client was never served"
        return self.reply

    def close(self):
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()


@pytest.fixture
def c(server):
    conn = Conn(server)
    conn.cmd("FLUSHALL")
    yield conn
    conn.close()


def block(server, c, waiters, *cmd, db=0):
    n = blocked_clients(c)
    w = Waiter(server, *cmd, db=db)
    waiters.append(w)
    wait_blocked(c, n + 1)
    return w


# ------------------------------------------------------------------------ blocking scenarios

def test_swapdb_serves_a_blmove_waiter(server, c, waiters):
    c.cmd("SELECT", "1")
    c.cmd("RPUSH", "src", "v1")
    c.cmd("SELECT", "0")
    w = block(server, c, waiters, "BLMOVE", "src", "dst", "LEFT", "RIGHT", "0")
    assert c.cmd("SWAPDB", "0", "1") == "OK"
    assert w.result() == b"v1"
    assert c.cmd("LRANGE", "dst", "0", "-1") == [b"v1"]
    assert c.cmd("EXISTS", "src") == 0
    wait_unblocked(c)


def test_flushall_keeps_waiters_blocked(server, c, waiters):
    w = block(server, c, waiters, "BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "5")
    c.cmd("FLUSHALL")
    c.cmd("FLUSHDB")
    c.cmd("SWAPDB", "0", "1")
    assert blocked_clients(c) == 1
    c.cmd("RPUSH", "b", "1", "2", "3")
    assert w.result() == [b"b", [b"3", b"2", b"1"]]
    wait_unblocked(c)


@pytest.mark.parametrize("op,aborted", [(("SWAPDB", "0", "1"), True), (("FLUSHALL",), True),
                                        (("FLUSHDB",), True), (("SWAPDB", "1", "2"), False)])
def test_watch_and_swapdb_or_flush(server, c, op, aborted):
    c.cmd("SET", "wk", "1")
    other = Conn(server)
    try:
        other.cmd("WATCH", "wk", "missing")
        c.cmd(*op)
        assert other.pipeline([["MULTI"], ["PING"], ["EXEC"]])[2] == (None if aborted else ["PONG"])
    finally:
        other.close()


@pytest.mark.parametrize("cmd", [("BLMOVE", "x", "y", "LEFT", "LEFT", "0"),
                                 ("BRPOPLPUSH", "x", "y", "0"),
                                 ("BLMPOP", "0", "2", "x", "y", "LEFT"),
                                 ("BZMPOP", "0", "1", "x", "MIN")])
@pytest.mark.parametrize("how", ["TIMEOUT", "ERROR"])
def test_client_unblock(server, c, waiters, cmd, how):
    w = block(server, c, waiters, *cmd)
    assert c.cmd("CLIENT", "UNBLOCK", str(w.id), how) == 1
    r = w.result()
    if how == "ERROR":
        assert isinstance(r, Error) and r.startswith("UNBLOCKED")
    else:
        assert r is None
    wait_unblocked(c)
    assert c.cmd("CLIENT", "UNBLOCK", str(w.id)) == 0


def test_killed_blmove_waiter_leaves_the_element(server, c, waiters):
    w = block(server, c, waiters, "BLMOVE", "x", "y", "LEFT", "LEFT", "0")
    assert c.cmd("CLIENT", "KILL", "ID", str(w.id)) == 1
    wait_unblocked(c)
    c.cmd("RPUSH", "x", "e")
    assert c.cmd("LRANGE", "x", "0", "-1") == [b"e"]
    assert c.cmd("EXISTS", "y") == 0


def test_blmove_waiter_killed_right_after_a_push(server, c, waiters):
    """The push serves the waiter before the kill (one connection, in order): moved once."""
    w = block(server, c, waiters, "BLMOVE", "x", "y", "LEFT", "LEFT", "0")
    assert c.pipeline([["RPUSH", "x", "e"], ["CLIENT", "KILL", "ID", str(w.id)]])[0] == 1
    w.result()
    wait_unblocked(c)
    assert c.cmd("LRANGE", "x", "0", "-1") + c.cmd("LRANGE", "y", "0", "-1") == [b"e"]


def test_blocking_commands_inside_multi(c):
    r = c.pipeline([["MULTI"], ["BLMOVE", "x", "y", "LEFT", "LEFT", "0"],
                    ["BRPOPLPUSH", "x", "y", "0"], ["BLMPOP", "0", "1", "x", "LEFT"],
                    ["BZMPOP", "0", "1", "z", "MIN"], ["RPUSH", "x", "1"],
                    ["BLMOVE", "x", "y", "LEFT", "LEFT", "0"], ["EXEC"]])
    assert r[-1] == [None, None, None, None, 1, b"1"]
    assert blocked_clients(c) == 0


def test_exec_with_arguments(c):
    r = c.pipeline([["MULTI"], ["PING"], ["EXEC", "a"], ["EXEC"]])
    assert r[2].startswith("EXECABORT") and "wrong number of arguments for 'exec'" in r[2]
    assert r[3] == "ERR EXEC without MULTI"
    assert c.cmd("EXEC", "x").startswith("EXECABORT")


def test_blmove_chain_of_waiters_passes_one_element_around(server, c, waiters):
    ws = [block(server, c, waiters, "BLMOVE", a, b, "LEFT", "LEFT", "0")
          for a, b in (("a", "b"), ("b", "c"), ("c", "a"))]
    c.cmd("RPUSH", "a", "E")
    assert [w.result() for w in ws] == [b"E"] * 3
    assert [c.cmd("LRANGE", k, "0", "-1") for k in "abc"] == [[b"E"], [], []]
    wait_unblocked(c)


# ------------------------------------------------------------------------ findings

@pytest.mark.parametrize("setup", [("RPUSH", "k", ""), ("SADD", "k", ""), ("ZADD", "k", "0", "")])
@pytest.mark.parametrize("sort", [("SORT", "k"), ("SORT", "k", "ALPHA"), ("SORT_RO", "k"),
                                  ("SORT_RO", "k", "DESC", "ALPHA")])
def test_sort_of_only_empty_elements(setup, sort):
    # Regression (found by fuzzing): every element empty -> the sort arena stays NULL: memcpy(NULL, 0) at
    # modules/lists/sort.c:318 (sort_score, numeric) and core/reply.c:84 via sort.c:582
    # (ALPHA); UBSan aborts the server.
    s = Server()
    try:
        c = Conn(s)
        c.cmd(*setup)
        assert c.cmd(*sort) == [b""]
        c.close()
    finally:
        stop_checked(s)


def test_sort_of_empty_values_stored_by_sort():
    # Regression (found by fuzzing): same as above; SORT ... GET <missing> STORE makes the empty elements.
    s = Server()
    try:
        c = Conn(s)
        c.cmd("RPUSH", "{t}l", "1", "2")
        assert c.cmd("SORT", "{t}l", "GET", "{t}nokey_*", "STORE", "{t}d") == 2
        assert c.cmd("SORT", "{t}d") == [b"", b""]
        assert c.cmd("SORT", "{t}d", "ALPHA") == [b"", b""]
        c.close()
    finally:
        stop_checked(s)


def test_blmove_served_while_it_parks():
    # Regression (found by fuzzing): heap-use-after-free in block_each_shard (core/block.c:313) called from
    # block_attach (block.c:397) <- tx_deliver (tx.c:786): block_on_register, run inline for
    # a shard of the client's own thread, serves the BLMOVE waiter at once (a push landed
    # since the command looked), which frees it (block.c:84 <- 282), and the loop goes on
    # reading w->nkeys. Several threads needed; a push racing with a parking BLMOVE.
    s = Server(threads=max(THREADS, 3))
    try:
        stop = threading.Event()
        keys = ["k%d" % i for i in range(6)]
        errors = []

        def waiter(i):
            rng = random.Random(SEED + i)
            conn = Conn(s)
            try:
                while not stop.is_set():
                    conn.cmd("BLMOVE", rng.choice(keys), rng.choice(keys), "LEFT", "RIGHT",
                             "0.05")
            except OSError as e:
                errors.append(e)
                stop.set()
            conn.close()

        def pusher(i):
            rng = random.Random(SEED + 100 + i)
            conn = Conn(s)
            try:
                while not stop.is_set():
                    conn.pipeline([["RPUSH", rng.choice(keys), "x"], ["LPOP", rng.choice(keys)]])
            except OSError as e:
                errors.append(e)
                stop.set()
            conn.close()

        ths = [threading.Thread(target=waiter, args=(i,)) for i in range(8)]
        ths += [threading.Thread(target=pusher, args=(i,)) for i in range(3)]
        for t in ths:
            t.start()
        stop.wait(2.5)
        stop.set()
        for t in ths:
            t.join(HANG * 2)
        assert not errors, errors[:1]
        assert alive(s)
    finally:
        stop_checked(s)


# ------------------------------------------------------------------------ bounded fuzz

LKEYS = ["la", "lb", "lc", "{t}la", "{t}lb", "{t}lc", "lx"]
KEYS = LKEYS + ["s", "h", "z", "st", "{t}z", "{t}st", "none", "d1"]
NUMS = ["0", "1", "2", "5", "-1", "-2", "100", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "abc", "", "1.5"]
PATS = ["w_*", "{t}w_*", "hw_*->f", "{t}hw_*->f", "#", "nosort", "*->", "->f", "{t}*", "**"]
SETUP = [["SET", "s", "str"], ["HSET", "h", "f", "1"], ["ZADD", "z", "1", "a", "2", "b"],
         ["SADD", "st", "1", "2", "a"], ["ZADD", "{t}z", "5", "a", "1", "1"],
         ["SADD", "{t}st", "a", "1"], ["RPUSH", "la", "3", "1", "2"], ["RPUSH", "{t}la", "b", "2"]]
SETUP += [["SET", "%sw_%d" % (t, i), str(i % 5 - 2)] for t in ("", "{t}") for i in range(8)]
SETUP += [["HSET", "%shw_%d" % (t, i), "f", str(i % 3)] for t in ("", "{t}") for i in range(8)]


class Gen:
    def __init__(self, rng, park_blmove):
        self.r, self.park_blmove = rng, park_blmove

    def k(self):
        return self.r.choice(LKEYS) if self.r.random() < 0.6 else self.r.choice(KEYS)

    def n(self):
        return self.r.choice(NUMS) if self.r.random() < 0.3 else str(self.r.randrange(-3, 8))

    def d(self):
        return self.r.choice(["LEFT", "RIGHT"])

    def to(self):
        return self.r.choice(["0.01", "0.05", "0.1", "-1", "abc"])

    def keys(self):
        n = self.r.randrange(1, 4)
        nk = str(n) if self.r.random() < 0.9 else self.r.choice(["0", "-1", str(n + 1), "abc"])
        return [nk] + [self.k() for _ in range(n)]

    def cmd(self):
        r, k = self.r, self.k
        x = r.randrange(22)
        if x == 0:
            return ["LMOVE", k(), k(), self.d(), self.d()]
        if x == 1:
            return ["RPOPLPUSH", k(), k()]
        if x == 2:
            if self.park_blmove:
                return ["BLMOVE", k(), k(), self.d(), self.d(), self.to()]
            # see test_blmove_served_while_it_parks
            return ["LMOVE", k(), k(), self.d(), self.d()]
        if x == 3:
            return (["BRPOPLPUSH", k(), k(), self.to()] if self.park_blmove
                    else ["RPOPLPUSH", k(), k()])
        if x == 4:
            return ["LMPOP"] + self.keys() + [self.d()] + (["COUNT", self.n()] if r.random() < .5 else [])
        if x == 5:
            return ["BLMPOP", self.to()] + self.keys() + [self.d(), "COUNT", self.n()]
        if x in (6, 7):
            c = [r.choice(["SORT", "SORT_RO"]), r.choice(["la", "{t}la", "st", "z", "{t}z", "s", "none"])]
            for _ in range(r.randrange(0, 4)):
                c += r.choice([["BY", r.choice(PATS)], ["GET", r.choice(PATS)], ["ALPHA"],
                               ["LIMIT", self.n(), self.n()], ["DESC"], ["STORE", r.choice(KEYS)]])
            if "GET" in c and "STORE" in c:          # see test_sort_of_empty_values_stored_by_sort
                i = c.index("STORE")
                c = c[:i] + c[i + 2:]
            return c
        if x == 8:
            return ["ZRANGESTORE", k(), r.choice(["z", "{t}z", "st", "la"]), self.n(), self.n()] + \
                r.choice([[], ["REV"], ["BYSCORE", "LIMIT", self.n(), self.n()]])
        if x == 9:
            return ["ZINTERCARD"] + self.keys() + (["LIMIT", self.n()] if r.random() < .4 else [])
        if x == 10:
            return ["ZMPOP"] + self.keys() + [r.choice(["MIN", "MAX"]), "COUNT", self.n()]
        if x == 11:
            return ["BZMPOP", self.to()] + self.keys() + [r.choice(["MIN", "MAX"])]
        if x == 12:
            c = [r.choice(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]), k()] + self.keys()
            return c + (["AGGREGATE", "MAX"] if c[0] != "ZDIFFSTORE" and r.random() < .3 else [])
        if x in (13, 14, 15):
            return [r.choice(["RPUSH", "LPUSH"]), r.choice(LKEYS), str(r.randrange(20))]
        if x == 16:
            return ["ZADD", r.choice(["z", "{t}z", "la"]), str(r.randrange(5)), r.choice("abc")]
        if x == 17:
            return [r.choice(["DEL", "SADD"]), k(), "m"][:2 + (r.random() < .5)]
        if x == 18:
            return r.choice([["SWAPDB", "0", "1"], ["FLUSHDB"], ["SELECT", "1"], ["SELECT", "0"]])
        if x == 19:
            return ["BLPOP", k(), k(), self.to()]
        if x == 20:
            return ["EXEC"] + ([k()] if r.random() < .5 else [])
        return ["COPY", k(), k(), "REPLACE"]


def short(batch):
    return " | ".join(" ".join(map(str, c)) for c in batch)[:400]


def command_fuzz(s, seed, seconds, park_blmove, nconn=5):
    c = Conn(s)
    c.pipeline(SETUP)
    c.close()
    stop = threading.Event()
    errors = []
    ids = {}

    def worker(i):
        rng = random.Random(seed * 100 + i)
        g = Gen(rng, park_blmove)
        conn = Conn(s)
        ids[i] = conn.cmd("CLIENT", "ID")
        while not stop.is_set():
            m = rng.random()
            if m < 0.6:
                batch = [g.cmd()]
            elif m < 0.7:
                batch = [g.cmd() for _ in range(rng.randrange(2, 15))]
            elif m < 0.85:
                batch = ([["WATCH", g.k()]] if rng.random() < 0.5 else []) + [["MULTI"]]
                batch += [g.cmd() for _ in range(rng.randrange(0, 5))]
                batch.append(rng.choice([["EXEC"], ["EXEC"], ["EXEC", "x"], ["DISCARD"]]))
            elif m < 0.9:
                batch = [["BLMPOP", "0.5", "2", g.k(), g.k(), "LEFT"]]
            elif m < 0.95:
                batch = [["CLIENT", "UNBLOCK", str(ids.get(rng.randrange(nconn), 0)),
                          rng.choice(["TIMEOUT", "ERROR"])]]
            elif m < 0.97:
                batch = [["CLIENT", "KILL", "ID", str(ids.get(rng.randrange(nconn), 0))]]
            else:
                batch = SETUP
            try:
                conn.send(b"".join(encode(*cmd) for cmd in batch))
                for _ in batch:
                    conn.read()
                pong = conn.cmd("PING")
                if pong == "QUEUED":
                    conn.cmd("DISCARD")
                    pong = conn.cmd("PING")
                assert pong == "PONG", short(batch)
            except socket.timeout:
                errors.append("hang in " + short(batch))
                stop.set()
            except ValueError as e:
                errors.append(f"unparsable reply in {short(batch)}: {e}")
                stop.set()
            except (ConnectionError, OSError):      # CLIENT KILL hit this connection
                conn.close()
                try:
                    conn = Conn(s)
                    ids[i] = conn.cmd("CLIENT", "ID")
                except OSError as e:
                    errors.append(f"server gone after {short(batch)}: {e}")
                    stop.set()
        conn.close()

    ths = [threading.Thread(target=worker, args=(i,)) for i in range(nconn)]
    for t in ths:
        t.start()
    stop.wait(seconds)
    stop.set()
    for t in ths:
        t.join(HANG * 3)
        assert not t.is_alive(), "a fuzz connection is stuck"
    assert not errors, errors[0]
    c = Conn(s)
    wait_unblocked(c)
    c.close()


def blmove_chain(s, seed, seconds):
    """Movers BLMOVE/BRPOPLPUSH a->b->c->a, pushers add unique elements, poppers take some,
    a killer unblocks and kills movers. At the end: elements = pushed - popped, no duplicate."""
    L = ["ca", "cb", "cc"]
    stop = threading.Event()
    lock = threading.Lock()
    count = {"pushed": 0, "popped": 0}
    errors = []
    ids = {}

    def guard(fn):
        def run(i):
            try:
                fn(i)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(f"{fn.__name__}: {e!r}")
                stop.set()
        return run

    @guard
    def mover(i):
        rng = random.Random(seed + i)
        conn = Conn(s)
        ids[i] = conn.cmd("CLIENT", "ID")
        src, dst = L[i % 3], L[(i + 1) % 3]
        while not stop.is_set():
            cmd = rng.choice([["BLMOVE", src, dst, rng.choice(["LEFT", "RIGHT"]), "LEFT",
                               rng.choice(["0.05", "0.3", "0"])],
                              ["BRPOPLPUSH", src, dst, rng.choice(["0.05", "0"])],
                              ["LMOVE", src, dst, "RIGHT", "RIGHT"]])
            try:
                conn.cmd(*cmd)
            except (ConnectionError, OSError):      # killed: reconnect (may be killed again)
                conn.close()
                for attempt in range(5):
                    conn = Conn(s)
                    try:
                        ids[i] = conn.cmd("CLIENT", "ID")
                        break
                    except (ConnectionError, OSError):
                        conn.close()
                        if attempt == 4:
                            raise
        conn.close()

    @guard
    def pusher(i):
        rng = random.Random(seed + 50 + i)
        conn = Conn(s)
        n = 0
        while not stop.is_set():
            vals = ["p%d_%d" % (i, n + q) for q in range(rng.randrange(1, 4))]
            n += len(vals)
            assert isinstance(conn.cmd(rng.choice(["LPUSH", "RPUSH"]), rng.choice(L), *vals), int)
            with lock:
                count["pushed"] += len(vals)
            time.sleep(rng.random() * 0.01)
        conn.close()

    @guard
    def popper(i):
        rng = random.Random(seed + 70 + i)
        conn = Conn(s)
        while not stop.is_set():
            if rng.random() < 0.5:
                r = conn.cmd("BLMPOP", "0.1", "3", *L, "RIGHT", "COUNT", "2")
                got = len(r[1]) if r else 0
            else:
                got = 1 if conn.cmd("BLPOP", *L, "0.1") else 0
            with lock:
                count["popped"] += got
            time.sleep(rng.random() * 0.03)
        conn.close()

    @guard
    def killer(i):
        rng = random.Random(seed + 90)
        conn = Conn(s)
        while not stop.is_set():
            time.sleep(rng.random() * 0.03)
            if not ids:
                continue
            cid = str(ids[rng.choice(sorted(ids))])
            x = rng.random()
            if x < 0.5:
                conn.cmd("CLIENT", "UNBLOCK", cid, rng.choice(["TIMEOUT", "ERROR"]))
            elif x < 0.7:
                conn.cmd("CLIENT", "KILL", "ID", cid)
            else:
                r = conn.pipeline([["RPUSH", rng.choice(L), "k%d" % rng.randrange(10 ** 9)],
                                   ["CLIENT", "KILL", "ID", cid]])
                with lock:
                    count["pushed"] += 1 if isinstance(r[0], int) else 0
        conn.close()

    ths = [threading.Thread(target=mover, args=(i,)) for i in range(6)]
    ths += [threading.Thread(target=pusher, args=(i,)) for i in range(2)]
    ths += [threading.Thread(target=popper, args=(i,)) for i in range(2)]
    ths += [threading.Thread(target=killer, args=(0,))]
    for t in ths:
        t.start()
    stop.wait(seconds)
    stop.set()
    c = Conn(s)
    deadline = time.time() + HANG
    while any(t.is_alive() for t in ths) and time.time() < deadline:
        for cid in list(ids.values()):      # movers blocked with timeout 0
            c.cmd("CLIENT", "UNBLOCK", str(cid))
        time.sleep(0.05)
    for t in ths:
        t.join(HANG)
        assert not t.is_alive(), "a chain connection is stuck"
    assert not errors, errors[0]
    wait_unblocked(c)
    elems = [e for k in L for e in c.cmd("LRANGE", k, "0", "-1")]
    c.close()
    assert len(elems) == len(set(elems)), "duplicated elements"
    assert len(elems) == count["pushed"] - count["popped"], (len(elems), count)


def test_fuzz_new_commands_and_blmove_chain():
    """~6 s: command fuzz on a several-thread server, then the BLMOVE chain. The fuzz on
    several threads replaces parking BLMOVE/BRPOPLPUSH by LMOVE/RPOPLPUSH and the chain runs
    on one thread, to stay clear of test_blmove_served_while_it_parks (a use-after-free)."""
    s = Server(threads=max(THREADS, 3))
    try:
        command_fuzz(s, SEED, 3.0, park_blmove=False)
        assert alive(s)
    finally:
        stop_checked(s)
    s = Server(threads=1)
    try:
        command_fuzz(s, SEED + 1, 1.0, park_blmove=True)
        c = Conn(s)
        c.cmd("FLUSHALL")
        c.close()
        blmove_chain(s, SEED, 2.0)
        assert alive(s)
    finally:
        stop_checked(s)
