"""
Client-side caching (CLIENT TRACKING): invalidation pushes in the default mode, REDIRECT to a
RESP2 subscriber of __redis__:invalidate, BCAST with prefixes, OPTIN / OPTOUT / NOLOOP, null
invalidations on FLUSHALL, the table limit, and the introspection commands.

Expectations are redis-server 7.0.15's (DF_TEST_SERVER=redis runs this file against it). Two
things differ by design and are not asserted: BCAST gathers keys per shard thread (Redis sends
one push per prefix and event-loop iteration), and invalidations of keys on different shards
may arrive in any order; tests compare such keys as sets, or keep keys on one shard with a
{hash tag} when the order matters.
"""
import random
import threading
import time

import pytest
from conftest import per_thread_count_server
from resp import Error, Push, Set, encode

server = per_thread_count_server()


def info_field(c, section, name):
    for line in c.cmd("INFO", section).decode().splitlines():
        if line.startswith(name + ":"):
            return int(line.split(":")[1])
    raise AssertionError(f"INFO {section} has no {name}")


@pytest.fixture
def w(server):
    """A plain RESP2 writer on an empty server where no earlier test's client still tracks
    (closes are seen by the server a moment after the socket goes)."""
    c = server.raw()
    c.cmd("FLUSHALL")
    end = time.time() + 10
    while time.time() < end:
        if info_field(c, "clients", "tracking_clients") == 0 and \
                info_field(c, "stats", "tracking_total_prefixes") == 0:
            break
        time.sleep(0.01)
    yield c
    c.close()


@pytest.fixture
def clients(server):
    made = []

    def make(resp=3):
        c = server.raw()
        if resp == 3:
            assert c.cmd("HELLO", "3")[b"proto"] == 3
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


def read_push(c, timeout=5.0):
    c.sock.settimeout(timeout)
    try:
        m = c.read()
    finally:
        c.sock.settimeout(20)
    assert isinstance(m, Push), f"expected a push, got {m!r}"
    return m


def invalidated(c, want, timeout=5.0):
    """Read invalidate pushes until every key of `want` came (at least one push); returns
    every key seen."""
    seen = []
    while not seen or not set(want) <= set(seen):
        m = read_push(c, timeout)
        assert m[0] == b"invalidate", m
        seen += m[1]
    return seen


def no_push(c):
    """Nothing is queued for c: its next reply is PONG (a push owed would come first)."""
    assert c.cmd("PING") in ("PONG", b"PONG")


def test_invalidate_after_another_clients_write(w, clients):
    a = clients()
    assert a.cmd("CLIENT", "TRACKING", "ON") == "OK"
    assert a.cmd("GET", "k") is None
    assert w.cmd("SET", "k", "1") == "OK"
    assert read_push(a) == [b"invalidate", [b"k"]]
    assert w.cmd("SET", "k", "2") == "OK"  # forgotten after one invalidation
    no_push(a)
    assert a.cmd("GET", "k") == b"2"
    assert w.cmd("APPEND", "k", "x") == 2
    assert read_push(a) == [b"invalidate", [b"k"]]


def test_own_write_invalidation_follows_the_reply(clients):
    a = clients()
    a.cmd("CLIENT", "TRACKING", "ON")
    a.cmd("GET", "own")
    assert a.cmd("SET", "own", "v") == "OK"
    assert read_push(a) == [b"invalidate", [b"own"]]


def test_invalidation_never_precedes_the_read_it_invalidates(clients):
    # Regression: a pipelined GET k / SET k / PING, with k on another thread's shard, got
    # the invalidation of k ahead of GET's reply (pushes queued while the batch was away
    # were moved before the group's replies): the client would cache the old value.
    a = clients()
    a.cmd("CLIENT", "TRACKING", "ON")
    for i in range(40):
        k = f"ord:{i}"
        assert a.cmd("SET", k, "old") == "OK"
        a.send(encode("GET", k) + encode("SET", k, "new") + encode("PING"))
        frames = [a.read()]
        while frames[-1] not in ("PONG", b"PONG"):
            frames.append(a.read())
        assert frames[0] == b"old", frames  # the read's reply first
        pushes = [f for f in frames if isinstance(f, Push)]
        if not pushes:
            pushes = [read_push(a)]
        assert pushes == [[b"invalidate", [k.encode()]]], frames


def test_keys_on_many_shards(w, clients):
    a = clients()
    a.cmd("CLIENT", "TRACKING", "ON")
    keys = [f"key:{i}" for i in range(24)]
    a.pipeline([("GET", k) for k in keys[:12]])
    a.cmd("MGET", *keys[12:])
    w.cmd("MSET", *[x for k in keys for x in (k, "v")])
    seen = invalidated(a, [k.encode() for k in keys])
    assert sorted(seen) == sorted(k.encode() for k in keys)  # one push per key, each once
    assert w.cmd("DEL", *keys) == 24
    no_push(a)


def test_cache_stays_coherent(w, clients):
    """A client caching what it reads, with writes by another client in between on keys of
    every shard: once the writer has its reply, the invalidation reaches the reader ahead of
    anything the reader asks next, so a cache emptied by the pushes before a PONG always
    matches the server."""
    a = clients()
    a.cmd("CLIENT", "TRACKING", "ON")
    cache = {}
    rnd = random.Random(7)
    keys = [f"c:{i}" for i in range(30)]

    def reply(*args):
        a.send(encode(*args))
        while True:
            m = a.read()
            if not isinstance(m, Push):
                return m
            assert m[0] == b"invalidate"
            for k in m[1] or list(cache):
                cache.pop(k, None)

    for step in range(300):
        k = rnd.choice(keys)
        if rnd.random() < 0.4:
            w.cmd("SET", k, str(step))
        elif k.encode() not in cache:
            cache[k.encode()] = reply("GET", k)
        assert reply("PING") == "PONG"
        for key, val in cache.items():
            assert w.cmd("GET", key) == val, key


def test_only_reads_are_tracked(w, clients):
    a = clients()
    a.cmd("CLIENT", "TRACKING", "ON")
    a.cmd("INCR", "counter")
    a.cmd("EXISTS", "ex")
    assert w.cmd("SET", "counter", "5") == "OK"
    assert w.cmd("SET", "ex", "1") == "OK"
    assert read_push(a) == [b"invalidate", [b"ex"]]
    no_push(a)


def test_expiry_invalidates(w, clients):
    a = clients()
    a.cmd("CLIENT", "TRACKING", "ON")
    w.cmd("SET", "soon", "v", "PX", "50")
    assert a.cmd("GET", "soon") == b"v"
    assert read_push(a, timeout=10) == [b"invalidate", [b"soon"]]


def test_other_db_and_tracking_off(w, clients):
    a = clients()
    a.cmd("CLIENT", "TRACKING", "ON")
    a.cmd("SELECT", "1")
    a.cmd("GET", "dbkey")
    w.cmd("SET", "dbkey", "v")  # db 0: Redis's table ignores the db
    assert read_push(a) == [b"invalidate", [b"dbkey"]]
    a.cmd("GET", "dbkey")
    assert a.cmd("CLIENT", "TRACKING", "OFF") == "OK"
    w.cmd("SET", "dbkey", "w")
    no_push(a)


def test_script_reads_are_tracked(w, clients):
    a = clients()
    a.cmd("CLIENT", "TRACKING", "ON")
    assert a.cmd("EVAL", "return redis.call('get', KEYS[1])", "1", "scripted") is None
    w.cmd("SET", "scripted", "v")
    assert read_push(a) == [b"invalidate", [b"scripted"]]


def test_read_only_script_tracks_what_it_reads_not_what_it_declares(w, clients):
    a = clients()
    a.cmd("CLIENT", "TRACKING", "ON")
    assert a.cmd("EVAL_RO", "return 1", "1", "{ro}declared") == 1
    assert a.cmd("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "{ro}read") is None
    w.cmd("SET", "{ro}declared", "1")
    w.cmd("SET", "{ro}read", "1")
    assert invalidated(a, [b"{ro}read"]) == [b"{ro}read"]
    no_push(a)


def test_exec_reads_are_tracked(w, clients):
    a = clients()
    a.cmd("CLIENT", "TRACKING", "ON")
    a.cmd("MULTI")
    a.cmd("GET", "ex:1")
    a.cmd("HGET", "ex:2", "f")
    assert a.cmd("EXEC") == [None, None]
    w.cmd("SET", "ex:1", "v")
    w.cmd("HSET", "ex:2", "f", "v")
    assert set(invalidated(a, [b"ex:1", b"ex:2"])) == {b"ex:1", b"ex:2"}


def test_redirect_to_resp2_subscriber(w, clients):
    sub = clients(resp=2)
    sid = sub.cmd("CLIENT", "ID")
    assert sub.cmd("SUBSCRIBE", "__redis__:invalidate") == [b"subscribe", b"__redis__:invalidate", 1]
    a = clients(resp=2)
    assert a.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", sid) == "OK"
    assert a.cmd("CLIENT", "GETREDIR") == sid
    assert a.cmd("GET", "rk") is None
    w.cmd("SET", "rk", "v")
    assert sub.read() == [b"message", b"__redis__:invalidate", [b"rk"]]
    w.cmd("FLUSHALL")
    assert sub.read() == [b"message", b"__redis__:invalidate", None]


def test_redirect_to_resp3_client_and_broken_redirect(w, clients):
    target = clients()
    tid = target.cmd("CLIENT", "ID")
    a = clients()
    a.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", tid)
    a.cmd("GET", "bk")
    w.cmd("SET", "bk", "1")
    assert read_push(target) == [b"invalidate", [b"bk"]]
    target.close()
    end = time.time() + 10
    while f"id={tid} ".encode() in w.cmd("CLIENT", "LIST") and time.time() < end:
        time.sleep(0.01)
    a.cmd("GET", "bk")
    w.cmd("SET", "bk", "2")
    assert read_push(a) == [b"tracking-redir-broken", tid]
    info = a.cmd("CLIENT", "TRACKINGINFO")
    assert set(info[b"flags"]) == {b"on", b"broken_redirect"}
    assert info[b"redirect"] == tid
    line = a.cmd("CLIENT", "INFO").decode()
    assert " flags=tR " in line and f" redir={tid} " in line


def test_bcast_prefixes(w, clients):
    a = clients()
    assert a.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "obj:") == "OK"
    w.pipeline([("SET", "user:1", "a"), ("SET", "user:2", "b"), ("SET", "obj:1", "c"),
                ("SET", "other", "d"), ("INCR", "user:3"), ("INCR", "user:3")])
    seen = invalidated(a, [b"user:1", b"user:2", b"obj:1", b"user:3"])
    assert set(seen) == {b"obj:1", b"user:1", b"user:2", b"user:3"}
    w.cmd("SET", "other", "e")  # no prefix: nothing; a read key is not remembered in BCAST
    a.cmd("GET", "plain")
    w.cmd("SET", "plain", "x")
    no_push(a)


def test_bcast_without_prefix_sees_every_key(w, clients):
    a = clients()
    a.cmd("CLIENT", "TRACKING", "ON", "BCAST")
    w.cmd("SET", "anything", "1")
    assert invalidated(a, [b"anything"]) == [b"anything"]
    assert a.cmd("CLIENT", "TRACKINGINFO")[b"prefixes"] == [b""]


def test_noloop(w, clients):
    a = clients()
    a.cmd("CLIENT", "TRACKING", "ON", "NOLOOP")
    a.cmd("GET", "nl")
    a.cmd("SET", "nl", "1")
    no_push(a)
    a.cmd("GET", "nl")
    w.cmd("SET", "nl", "2")
    assert read_push(a) == [b"invalidate", [b"nl"]]


def test_bcast_noloop(w, clients):
    a = clients()
    a.cmd("CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP", "PREFIX", "nb")
    a.cmd("SET", "nb{t}1", "1")
    w.cmd("SET", "nb{t}2", "1")  # same shard: comes after anything nb{t}1 could cause
    assert invalidated(a, [b"nb{t}2"]) == [b"nb{t}2"]


def test_optin(w, clients):
    a = clients()
    a.cmd("CLIENT", "TRACKING", "ON", "OPTIN")
    a.cmd("GET", "{o}a")
    assert a.cmd("CLIENT", "CACHING", "YES") == "OK"
    a.cmd("GET", "{o}b")
    a.cmd("GET", "{o}c")
    a.cmd("CLIENT", "CACHING", "YES")
    a.cmd("PING")  # uses up CACHING
    a.cmd("GET", "{o}d")
    a.cmd("CLIENT", "CACHING", "YES")
    a.cmd("MULTI")
    a.cmd("GET", "{o}e")
    a.cmd("GET", "{o}f")
    a.cmd("EXEC")
    w.cmd("MSET", "{o}a", "1", "{o}b", "1", "{o}c", "1", "{o}d", "1", "{o}e", "1", "{o}f", "1")
    assert invalidated(a, [b"{o}b", b"{o}e", b"{o}f"]) == [b"{o}b", b"{o}e", b"{o}f"]
    no_push(a)


def test_optin_caching_queued_inside_multi(w, clients):
    # Regression: a CLIENT CACHING YES queued inside MULTI was ignored (redis-py's
    # transactional pipelines send exactly this), so the read was never invalidated.
    a = clients()
    a.cmd("CLIENT", "TRACKING", "ON", "OPTIN")
    for k in ("{q}a", "{q}b"):
        w.cmd("SET", k, "1")
        a.cmd("MULTI")
        a.cmd("CLIENT", "CACHING", "YES")
        a.cmd("GET", k)
        assert a.cmd("EXEC") == ["OK", b"1"]
        w.cmd("SET", k, "2")
        assert invalidated(a, [k.encode()]) == [k.encode()]
    a.cmd("GET", "{q}c")  # the flag ended with EXEC: not tracked
    w.cmd("SET", "{q}c", "1")
    w.cmd("SET", "{q}d", "1")
    no_push(a)


def test_optout(w, clients):
    a = clients()
    a.cmd("CLIENT", "TRACKING", "ON", "OPTOUT")
    a.cmd("GET", "{p}a")
    assert a.cmd("CLIENT", "CACHING", "NO") == "OK"
    assert set(a.cmd("CLIENT", "TRACKINGINFO")[b"flags"]) == {b"on", b"optout", b"caching-no"}
    a.cmd("GET", "{p}b")
    a.cmd("GET", "{p}c")
    w.cmd("MSET", "{p}a", "1", "{p}b", "1", "{p}c", "1")
    assert invalidated(a, [b"{p}a", b"{p}c"]) == [b"{p}a", b"{p}c"]
    no_push(a)


def test_flush_sends_null_invalidation(w, clients):
    a = clients()
    b = clients()
    a.cmd("CLIENT", "TRACKING", "ON")
    b.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "zz")
    a.cmd("GET", "f1")
    assert info_field(w, "stats", "tracking_total_keys") == 1
    assert w.cmd("FLUSHALL") == "OK"
    assert read_push(a) == [b"invalidate", None]
    assert read_push(b) == [b"invalidate", None]
    assert info_field(w, "stats", "tracking_total_keys") == 0
    w.cmd("SET", "f1", "v")  # the flush forgot f1
    no_push(a)
    assert w.cmd("FLUSHDB") == "OK"
    assert read_push(a) == [b"invalidate", None]


def test_trackinginfo_and_getredir(w, clients):
    a = clients()
    assert a.cmd("CLIENT", "TRACKINGINFO") == {b"flags": Set([b"off"]), b"redirect": -1,
                                                 b"prefixes": []}
    assert a.cmd("CLIENT", "GETREDIR") == -1
    a.cmd("CLIENT", "TRACKING", "ON", "OPTIN", "NOLOOP")
    a.cmd("CLIENT", "CACHING", "YES")
    info = a.cmd("CLIENT", "TRACKINGINFO")
    assert isinstance(info[b"flags"], Set)
    assert set(info[b"flags"]) == {b"on", b"optin", b"caching-yes", b"noloop"}
    assert info[b"redirect"] == 0 and info[b"prefixes"] == []
    assert a.cmd("CLIENT", "GETREDIR") == 0
    b = clients(resp=2)
    b.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "b:", "PREFIX", "a:")
    b.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "c")
    assert b.cmd("CLIENT", "TRACKINGINFO") == [b"flags", [b"on", b"bcast"], b"redirect", 0,
                                               b"prefixes", [b"a:", b"b:", b"c"]]
    line = b.cmd("CLIENT", "INFO").decode()
    assert " flags=tB " in line and " redir=0 " in line
    assert " redir=-1 " in w.cmd("CLIENT", "INFO").decode()
    assert b.cmd("CLIENT", "TRACKING", "OFF") == "OK"
    assert b.cmd("CLIENT", "TRACKINGINFO")[3] == -1


def test_info_counts(w, clients):
    a, b = clients(), clients()
    assert info_field(w, "clients", "tracking_clients") == 0
    a.cmd("CLIENT", "TRACKING", "ON")
    b.cmd("CLIENT", "TRACKING", "ON")
    a.cmd("GET", "i1")
    b.cmd("GET", "i1")
    a.cmd("GET", "i2")
    assert info_field(w, "clients", "tracking_clients") == 2
    assert info_field(w, "stats", "tracking_total_keys") == 2
    assert info_field(w, "stats", "tracking_total_items") == 3
    w.cmd("SET", "i1", "v")
    invalidated(a, [b"i1"])
    invalidated(b, [b"i1"])
    assert info_field(w, "stats", "tracking_total_keys") == 1
    assert info_field(w, "stats", "tracking_total_items") == 1
    c = clients()
    c.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p1", "PREFIX", "p2")
    d = clients()
    d.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p1")
    assert info_field(w, "stats", "tracking_total_prefixes") == 2
    assert b.cmd("RESET") == "RESET"
    assert info_field(w, "clients", "tracking_clients") == 3
    assert w.cmd("CONFIG", "GET", "tracking-table-max-keys") == [b"tracking-table-max-keys", b"1000000"]


def test_table_limit_invalidates_old_keys(w, clients):
    a = clients()
    a.cmd("CLIENT", "TRACKING", "ON")
    assert w.cmd("CONFIG", "SET", "tracking-table-max-keys", "1") == "OK"
    try:
        a.send(b"".join(encode("GET", f"{{lim}}{i}") for i in range(10)) + encode("PING"))
        pushed, replies = [], []
        while not replies or replies[-1] != "PONG":
            m = a.read()
            if isinstance(m, Push):
                assert m[0] == b"invalidate"
                pushed += m[1]
            else:
                replies.append(m)
        assert replies == [None] * 10 + ["PONG"]
        while len(set(pushed)) < 8:  # nothing was written: the limit made room
            pushed += invalidated(a, [])  # one push at a time
    finally:
        w.cmd("CONFIG", "SET", "tracking-table-max-keys", "1000000")


@pytest.mark.parametrize("args,error", [
    (("ON", "PREFIX", "a"), "ERR PREFIX option requires BCAST mode to be enabled"),
    (("ON", "BCAST", "OPTIN"), "ERR OPTIN and OPTOUT are not compatible with BCAST"),
    (("ON", "OPTIN", "OPTOUT"), "ERR You can't specify both OPTIN mode and OPTOUT mode"),
    (("ON", "REDIRECT", "987654"), "ERR The client ID you want redirect to does not exist"),
    (("OFF", "REDIRECT", "987654"), "ERR The client ID you want redirect to does not exist"),
    (("ON", "REDIRECT", "987654", "BOGUS"), "ERR The client ID you want redirect to does not exist"),
    (("ON", "BOGUS", "REDIRECT", "987654"), "ERR syntax error"),
    (("MAYBE",), "ERR syntax error"),
    (("ON", "REDIRECT"), "ERR syntax error"),
    (("ON", "REDIRECT", "x"), "ERR value is not an integer or out of range"),
    (("ON", "BCAST", "PREFIX", "a", "PREFIX", "ab"),
     "ERR Prefix 'a' overlaps with another provided prefix 'ab'. "
     "Prefixes for a single client must not overlap."),
])
def test_tracking_errors(clients, args, error):
    a = clients(resp=2)
    assert a.cmd("CLIENT", "TRACKING", *args) == error
    assert a.cmd("CLIENT", "TRACKINGINFO")[1] == [b"off"]


def test_mode_switch_and_prefix_errors(clients):
    a = clients(resp=2)
    own = a.cmd("CLIENT", "ID")
    assert a.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", own, "REDIRECT", own) == \
        "ERR A client can only redirect to a single other client"
    a.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab")
    assert a.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "abc") == \
        "ERR Prefix 'abc' overlaps with an existing prefix 'ab'. Prefixes for a single client must not overlap."
    assert a.cmd("CLIENT", "TRACKING", "ON") == \
        "ERR You can't switch BCAST mode on/off before disabling tracking for this client, " \
        "and then re-enabling it with a different mode."
    b = clients(resp=2)
    b.cmd("CLIENT", "TRACKING", "ON", "OPTIN")
    assert b.cmd("CLIENT", "TRACKING", "ON", "OPTOUT") == \
        "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, " \
        "and then re-enabling it with a different mode."


def test_caching_errors(clients):
    a = clients(resp=2)
    assert a.cmd("CLIENT", "CACHING", "YES") == \
        "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"
    a.cmd("CLIENT", "TRACKING", "ON")
    assert a.cmd("CLIENT", "CACHING", "YES") == \
        "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
    assert a.cmd("CLIENT", "CACHING", "NO") == \
        "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
    a.cmd("CLIENT", "TRACKING", "ON", "OPTIN")
    assert a.cmd("CLIENT", "CACHING", "MAYBE") == "ERR syntax error"
    assert isinstance(a.cmd("CLIENT", "CACHING"), Error)


def test_closed_tracking_client_leaves_nothing_behind(w, clients):
    a = clients()
    a.cmd("CLIENT", "TRACKING", "ON")
    a.cmd("GET", "gone")
    b = clients()
    b.cmd("CLIENT", "TRACKING", "ON", "BCAST")
    a.close()
    b.close()
    for i in range(50):
        w.cmd("SET", "gone", str(i))
    assert w.cmd("PING") == "PONG"
    assert w.cmd("GET", "gone") == b"49"


def test_churn_of_tracking_clients(server, w):
    """Clients that track in every mode, redirect to each other, read, write, flush and go
    away, from several threads at once: the server keeps answering (and an ASan build stays
    clean: checked when the module's server stops)."""
    ids, errors = [], []

    def reply(c, *args):
        c.send(encode(*args))
        while True:
            m = c.read()
            if not isinstance(m, Push):
                return m

    def run(seed):
        rnd = random.Random(seed)
        conns = []
        try:
            for _ in range(150):
                if not conns or rnd.random() < 0.1:
                    c = server.raw()
                    if rnd.random() < 0.7:
                        reply(c, "HELLO", "3")
                    ids.append(reply(c, "CLIENT", "ID"))
                    conns.append(c)
                c = rnd.choice(conns)
                k = f"churn:{rnd.randrange(12)}"
                op = rnd.randrange(10)
                if op == 0:
                    mode = rnd.choice([[], ["BCAST"], ["BCAST", "PREFIX", "churn:1"], ["OPTIN"],
                                       ["OPTOUT"], ["NOLOOP"]])
                    if ids and rnd.random() < 0.3:
                        mode += ["REDIRECT", str(rnd.choice(ids))]
                    reply(c, "CLIENT", "TRACKING", rnd.choice(["ON", "ON", "OFF"]), *mode)
                elif op == 1:
                    reply(c, "CLIENT", "CACHING", rnd.choice(["YES", "NO"]))
                elif op in (2, 3):
                    reply(c, "GET", k)
                elif op == 4:
                    reply(c, "MGET", k, "churn:3", "churn:7")
                elif op in (5, 6):
                    reply(c, "SET", k, "v", "PX", str(rnd.randrange(1, 200)))
                elif op == 7:
                    reply(c, "DEL", k, "churn:5")
                elif op == 8 and rnd.random() < 0.2:
                    reply(c, "FLUSHALL")
                elif op == 9 and len(conns) > 1:
                    conns.remove(c)
                    c.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        for c in conns:
            c.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert w.cmd("PING") == "PONG"


def test_redis_py_redirect_usage(server, w):
    """redis-py 4.3 (RESP2 only) does client-side caching with a pub/sub connection that
    receives the invalidations by REDIRECT."""
    r = server.client(client_name="inval-sub")
    p = r.pubsub()
    p.subscribe("__redis__:invalidate")
    assert p.get_message(timeout=5)["type"] == "subscribe"
    sid = [c["id"] for c in server.client().client_list() if c["name"] == "inval-sub"][0]
    reader = server.client(single_connection_client=True)
    assert reader.client_tracking_on(clientid=int(sid)) in (True, "OK")
    assert reader.client_getredir() == int(sid)
    assert reader.get("py:1") is None
    w.cmd("SET", "py:1", "v")
    m = p.get_message(timeout=5)
    assert m["type"] == "message" and m["channel"] == "__redis__:invalidate" and m["data"] == ["py:1"]
    assert reader.client_tracking_off() in (True, "OK")
    assert reader.client_tracking_on(clientid=int(sid), bcast=True, prefix=["py:"]) in (True, "OK")
    w.cmd("SET", "py:2", "v")
    m = p.get_message(timeout=5)
    assert m["type"] == "message" and m["data"] == ["py:2"]
    reader.close()
    p.close()
    r.close()
