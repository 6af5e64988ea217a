"""
Publish/subscribe (pubsub module): SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE,
SSUBSCRIBE, SUNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB CHANNELS / NUMSUB / NUMPAT /
SHARDCHANNELS / SHARDNUMSUB / HELP. Expected replies are redis-server 7.0's own (every test
also runs with DF_TEST_SERVER=redis unless marked dragonfly-only). The module runs at 1 and at
least 3 threads: subscribers on many connections land on different threads, so deliveries,
counts and PUBSUB's answers are gathered from every thread. Keyspace events
(notify-keyspace-events) reach subscribers through the module too.

Wire checks use the raw client (resp.RawClient) in RESP2 and RESP3; redis-py's PubSub object
is exercised too. Waiting for something another connection caused (a closed client's
subscriptions going away) polls; nothing asserts a timing.
"""
import socket
import struct
import threading
import time

import pytest

from conftest import is_redis, per_thread_count_server, callbackless_client
from helpers import err
from resp import Push, Simple, encode

server = per_thread_count_server()

r = callbackless_client()

ONLY_SUB = ("only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
            "context")


def only_sub(cmd):
    return f"ERR Can't execute '{cmd}': {ONLY_SUB}"


_opened = []


@pytest.fixture(autouse=True)
def no_subscriptions_left(server):
    """Close every connection a test opened (also when it failed) and wait until the server
    holds no subscription, so that tests asking about all channels see only their own."""
    yield
    while _opened:
        _opened.pop().close()
    c = server.client()
    c.response_callbacks.clear()
    wait_until(lambda: c.execute_command("PUBSUB", "CHANNELS") == [] and
               c.execute_command("PUBSUB", "SHARDCHANNELS") == [] and
               c.execute_command("PUBSUB", "NUMPAT") == 0)
    c.close()


def conn(server, resp=2):
    """A raw connection, in RESP3 after HELLO 3 when resp == 3."""
    c = server.raw()
    _opened.append(c)
    if resp == 3:
        assert isinstance(c.cmd("HELLO", "3"), dict)
    return c


def frames(c, n):
    return [c.read() for _ in range(n)]


def subscribe(c, verb, *names):
    """Send (P|S)SUBSCRIBE names and return the confirmation frames."""
    c.send(encode(verb, *names))
    return frames(c, len(names))


def sync(c, resp=2):
    """A barrier on a subscribed connection: everything queued for it before now has been read
    once PING's reply arrives. Returns the frames read before the PING reply."""
    c.send(encode("PING", "sync-marker"))
    got = []
    while True:
        f = c.read()
        if resp == 2 and f == [b"pong", b"sync-marker"]:
            return got
        if resp == 3 and f == b"sync-marker" and not isinstance(f, Push):
            return got
        got.append(f)


def numsub(r, *chans, shard=False):
    rep = r.execute_command("PUBSUB", "SHARDNUMSUB" if shard else "NUMSUB", *chans)
    return {rep[i]: rep[i + 1] for i in range(0, len(rep), 2)}


def threads(server):
    return 1 if server.kind == "redis" else int(server.cmd[server.cmd.index("--threads") + 1])


def wait_until(fn, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fn():
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached")


# ------------------------------------------------------------------------------ wire forms

def test_subscribe_publish_unsubscribe_resp2(server, r):
    c = conn(server)
    c.send(encode("SUBSCRIBE", "a", "b", "a"))
    assert c.read_line_raw() == b"*3"
    assert c.read() == b"subscribe" and c.read() == b"a" and c.read() == 1
    assert frames(c, 2) == [[b"subscribe", b"b", 2], [b"subscribe", b"a", 2]]
    assert r.execute_command("PUBLISH", "a", "hello") == 1
    assert r.execute_command("PUBLISH", "zz", "hello") == 0
    assert c.read() == [b"message", b"a", b"hello"]
    assert subscribe(c, "UNSUBSCRIBE", "a", "nope") == [[b"unsubscribe", b"a", 1],
                                                        [b"unsubscribe", b"nope", 1]]
    assert r.execute_command("PUBLISH", "a", "x") == 0
    assert r.execute_command("PUBLISH", "b", "y") == 1
    assert c.read() == [b"message", b"b", b"y"]
    c.send(encode("UNSUBSCRIBE"))
    assert c.read() == [b"unsubscribe", b"b", 0]
    # Out of subscribed mode: ordinary commands work again.
    assert c.cmd("SET", "k", "v") == "OK"
    c.close()


def test_resp3_confirmations_and_messages_are_pushes(server, r):
    c = conn(server, 3)
    c.send(encode("SUBSCRIBE", "a"))
    assert c.read_line_raw() == b">3"
    assert frames(c, 3) == [b"subscribe", b"a", 1]
    rep = subscribe(c, "PSUBSCRIBE", "a*")
    assert rep == [[b"psubscribe", b"a*", 2]] and isinstance(rep[0], Push)
    assert r.execute_command("PUBLISH", "ab", "m") == 1
    assert c.read_line_raw() == b">4"
    assert frames(c, 4) == [b"pmessage", b"a*", b"ab", b"m"]
    assert r.execute_command("PUBLISH", "a", "m2") == 2
    f1, f2 = c.read(), c.read()
    assert isinstance(f1, Push) and isinstance(f2, Push)
    assert [f1, f2] == [[b"message", b"a", b"m2"], [b"pmessage", b"a*", b"a", b"m2"]]
    # RESP3 clients keep using ordinary commands while subscribed; PING is a plain PONG.
    assert c.cmd("PING") == "PONG"
    assert c.cmd("SET", "k", "v") == "OK"
    assert c.cmd("GET", "k") == b"v"
    c.send(encode("UNSUBSCRIBE"))
    assert c.read_line_raw() == b">3"
    assert frames(c, 3) == [b"unsubscribe", b"a", 1]
    rep = subscribe(c, "PUNSUBSCRIBE", "a*")
    assert rep == [[b"punsubscribe", b"a*", 0]] and isinstance(rep[0], Push)
    c.close()


def test_unsubscribe_without_subscriptions_replies_a_null_name(server):
    c = conn(server)
    for verb in ("UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE"):
        c.send(encode(verb))
        assert c.read_line_raw() == b"*3"
        assert c.read() == verb.lower().encode()
        assert c.read_line_raw() == b"$-1"
        assert c.read() == 0
    # The count is the client's channels and patterns together, shard channels apart.
    subscribe(c, "PSUBSCRIBE", "p*")
    c.send(encode("UNSUBSCRIBE"))
    assert c.read() == [b"unsubscribe", None, 1]
    c.send(encode("SUNSUBSCRIBE"))
    assert c.read() == [b"sunsubscribe", None, 0]
    c.close()
    c = conn(server, 3)
    c.send(encode("UNSUBSCRIBE"))
    assert c.read_line_raw() == b">3"
    assert c.read() == b"unsubscribe"
    assert c.read_line_raw() == b"_"
    assert c.read() == 0
    c.close()


def test_counts_mix_channels_and_patterns_shards_apart(server):
    c = conn(server)
    assert subscribe(c, "SUBSCRIBE", "a", "b") == [[b"subscribe", b"a", 1],
                                                   [b"subscribe", b"b", 2]]
    assert subscribe(c, "PSUBSCRIBE", "p*", "q*", "p*") == [
        [b"psubscribe", b"p*", 3], [b"psubscribe", b"q*", 4], [b"psubscribe", b"p*", 4]]
    assert subscribe(c, "SSUBSCRIBE", "s1", "s2") == [[b"ssubscribe", b"s1", 1],
                                                     [b"ssubscribe", b"s2", 2]]
    assert subscribe(c, "PUNSUBSCRIBE", "q*") == [[b"punsubscribe", b"q*", 3]]
    assert subscribe(c, "SUNSUBSCRIBE", "s1") == [[b"sunsubscribe", b"s1", 1]]
    # Dropping all of a kind confirms each (in no promised order), counting down.
    c.send(encode("UNSUBSCRIBE"))
    got = frames(c, 2)
    assert sorted(f[1] for f in got) == [b"a", b"b"]
    assert [f[0] for f in got] == [b"unsubscribe"] * 2 and [f[2] for f in got] == [2, 1]
    c.send(encode("PUNSUBSCRIBE"))
    assert c.read() == [b"punsubscribe", b"p*", 0]
    # Shard channels are still there: still in subscribed mode.
    assert c.cmd("GET", "k") == only_sub("get")
    c.send(encode("SUNSUBSCRIBE"))
    assert c.read() == [b"sunsubscribe", b"s2", 0]
    assert c.cmd("EXISTS", "nokey") == 0
    c.close()


def test_many_channels_on_one_client(server, r):
    names = [f"ch:{i}" for i in range(1500)]
    c = conn(server)
    got = subscribe(c, "SUBSCRIBE", *names)
    assert got == [[b"subscribe", n.encode(), i + 1] for i, n in enumerate(names)]
    assert numsub(r, "ch:0", "ch:1499", "ch:1500") == {"ch:0": 1, "ch:1499": 1, "ch:1500": 0}
    assert len(r.execute_command("PUBSUB", "CHANNELS", "ch:*")) == 1500
    assert r.execute_command("PUBLISH", "ch:777", "x") == 1
    assert c.read() == [b"message", b"ch:777", b"x"]
    assert subscribe(c, "UNSUBSCRIBE", *names[:1000]) == \
        [[b"unsubscribe", n.encode(), 1499 - i] for i, n in enumerate(names[:1000])]
    c.send(encode("UNSUBSCRIBE"))
    got = frames(c, 500)
    assert sorted(f[1] for f in got) == sorted(n.encode() for n in names[1000:])
    assert [f[2] for f in got] == list(range(499, -1, -1))
    assert r.execute_command("PUBSUB", "CHANNELS", "ch:*") == []
    c.close()


def test_publish_counts_through_channel_churn(server, r):
    """PUBLISH counts other threads' subscribers without asking them (each thread's hint of
    its channels); the counts stay exact when the hints overflow (over 4096 names on one
    thread), after every subscriber left (a hint starts over) and with patterns around (only
    the thread can match those). Expectations hold on redis-server as well."""
    subs = [conn(server) for _ in range(6)]  # spread over the threads
    names = [f"churn:{i}" for i in range(4500)]
    for c in subs:
        subscribe(c, "SUBSCRIBE", *names)
    for name in ("churn:0", "churn:2500", "churn:4499"):
        assert r.execute_command("PUBLISH", name, "a") == 6
    assert r.execute_command("PUBLISH", "churn:4500", "a") == 0
    for c in subs:
        assert [f[1] for f in frames(c, 3)] == [b"churn:0", b"churn:2500", b"churn:4499"]
        c.send(encode("UNSUBSCRIBE"))
        assert frames(c, len(names))[-1][2] == 0
    assert r.execute_command("PUBLISH", "churn:0", "b") == 0
    for i, c in enumerate(subs):
        subscribe(c, "SUBSCRIBE", f"again:{i % 2}")
    assert r.execute_command("PUBLISH", "again:0", "c") == 3
    assert r.execute_command("PUBLISH", "again:1", "c") == 3
    pat = conn(server)
    subscribe(pat, "PSUBSCRIBE", "again:*")
    assert r.execute_command("PUBLISH", "again:1", "d") == 4
    assert r.execute_command("SPUBLISH", "again:1", "d") == 0
    for i, c in enumerate(subs):
        assert [f[2] for f in sync(c)] == ([b"c", b"d"] if i % 2 else [b"c"])
    assert sync(pat) == [[b"pmessage", b"again:*", b"again:1", b"d"]]
    for c in subs + [pat]:
        c.close()


def test_info_counts_distinct_names(server, r):
    """INFO stats: pubsub_channels / pubsub_patterns / pubsubshard_channels count distinct
    names over all clients (and threads)."""
    def counts():
        info = dict(line.split(":", 1) for line in r.execute_command("INFO", "stats").split()
                    if ":" in line)
        return tuple(int(info[k]) for k in ("pubsub_channels", "pubsub_patterns",
                                            "pubsubshard_channels"))
    assert counts() == (0, 0, 0)
    subs = [conn(server) for _ in range(6)]  # spread over the threads
    for i, c in enumerate(subs):
        subscribe(c, "SUBSCRIBE", "info:a", f"info:{i % 3}")
        subscribe(c, "PSUBSCRIBE", "info:*", f"p{i % 2}*")
    s = conn(server)
    subscribe(s, "SSUBSCRIBE", "sa", "sb")
    assert counts() == (4, 3, 2)  # info:a info:0-2; info:* p0* p1*; sa sb
    for c in subs[:3]:
        c.send(encode("UNSUBSCRIBE"))
        frames(c, 2)
    assert counts() == (4, 3, 2)  # subs[3:] still hold info:a and info:0-2
    for c in subs + [s]:
        c.close()
    wait_until(lambda: counts() == (0, 0, 0))


def test_pattern_star_does_not_match_the_empty_channel(server, r):
    """Redis matches an empty channel name only with an empty pattern (stringmatchlen)."""
    c = conn(server)
    subscribe(c, "PSUBSCRIBE", "*")
    e = conn(server)
    subscribe(e, "SUBSCRIBE", "")
    assert r.execute_command("PUBLISH", "", "x") == 1
    assert r.execute_command("PUBSUB", "CHANNELS", "*") == []
    assert r.execute_command("PUBSUB", "CHANNELS") == [""]
    assert e.read() == [b"message", b"", b"x"]
    assert sync(c) == []
    c.close()
    e.close()


# ------------------------------------------------------------------------------ patterns

def test_patterns_and_glob_rules(server, r):
    c = conn(server)
    pats = ["h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[a-b]llo", "x\\*", "H*"]
    subscribe(c, "PSUBSCRIBE", *pats)
    expect = {"hello": {"h?llo", "h*llo", "h[ae]llo"},
              "hallo": {"h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[a-b]llo"},
              "hllo": {"h*llo"},
              "heeello": {"h*llo"},
              "x*": {"x\\*"},
              "xy": set(),
              "Hello": {"H*"}}
    for ch, pset in expect.items():
        assert r.execute_command("PUBLISH", ch, "m") == len(pset), ch
        got = sync(c)
        assert sorted(g[1].decode() for g in got) == sorted(pset), ch
        assert all(g[0] == b"pmessage" and g[2] == ch.encode() and g[3] == b"m" for g in got)
    c.close()


def test_channel_message_first_then_each_matching_pattern(server, r):
    c = conn(server)
    subscribe(c, "SUBSCRIBE", "news.tech")
    subscribe(c, "PSUBSCRIBE", "news.*", "*", "sport.*")
    # One delivery per matching subscription: channel, then two patterns.
    assert r.execute_command("PUBLISH", "news.tech", "hi") == 3
    got = sync(c)
    assert got[0] == [b"message", b"news.tech", b"hi"]
    assert sorted(got[1:]) == [[b"pmessage", b"*", b"news.tech", b"hi"],
                               [b"pmessage", b"news.*", b"news.tech", b"hi"]]
    assert r.execute_command("PUBLISH", "other", "o") == 1
    assert sync(c) == [[b"pmessage", b"*", b"other", b"o"]]
    c.close()


# ------------------------------------------------------------------------------ shard channels

def test_shard_channels_are_separate(server, r):
    s = conn(server)
    c = conn(server)
    assert subscribe(s, "SSUBSCRIBE", "orders") == [[b"ssubscribe", b"orders", 1]]
    subscribe(c, "SUBSCRIBE", "orders")
    subscribe(c, "PSUBSCRIBE", "ord*")
    assert r.execute_command("SPUBLISH", "orders", "o1") == 1
    assert r.execute_command("PUBLISH", "orders", "o2") == 2
    assert sync(s) == [[b"smessage", b"orders", b"o1"]]
    assert sync(c) == [[b"message", b"orders", b"o2"], [b"pmessage", b"ord*", b"orders", b"o2"]]
    assert r.execute_command("PUBSUB", "SHARDCHANNELS") == ["orders"]
    assert r.execute_command("PUBSUB", "CHANNELS") == ["orders"]
    assert numsub(r, "orders", shard=True) == {"orders": 1}
    assert numsub(r, "orders") == {"orders": 1}
    assert r.execute_command("PUBSUB", "NUMPAT") == 1
    assert subscribe(s, "SUNSUBSCRIBE", "orders") == [[b"sunsubscribe", b"orders", 0]]
    assert r.execute_command("SPUBLISH", "orders", "o3") == 0
    assert r.execute_command("PUBSUB", "SHARDCHANNELS") == []
    s.close()
    c.close()


def test_resp3_shard_messages(server, r):
    s = conn(server, 3)
    subscribe(s, "SSUBSCRIBE", "a", "b")
    assert r.execute_command("SPUBLISH", "b", "x") == 1
    assert s.read_line_raw() == b">3"
    assert frames(s, 3) == [b"smessage", b"b", b"x"]
    s.close()


# ------------------------------------------------------------------------------ across threads

def test_every_subscriber_gets_every_message_once_in_order(server, r):
    subs = [conn(server, 3 if i % 3 == 0 else 2) for i in range(8)]
    for i, c in enumerate(subs):
        subscribe(c, "SUBSCRIBE", "feed", f"own{i}")
        if i % 2:
            subscribe(c, "PSUBSCRIBE", "fe*")
    assert numsub(r, "feed") == {"feed": 8}
    assert r.execute_command("PUBSUB", "NUMPAT") == 1
    n = 300
    for k in range(n):
        assert r.execute_command("PUBLISH", "feed", f"m{k}") == 12
    for i, c in enumerate(subs):
        resp = 3 if i % 3 == 0 else 2
        got = sync(c, resp)
        plain = [g[2] for g in got if g[0] == b"message"]
        pat = [g[3] for g in got if g[0] == b"pmessage"]
        assert plain == [f"m{k}".encode() for k in range(n)], i
        assert pat == (plain if i % 2 else [])
        assert len(got) == len(plain) + len(pat)
    for i, c in enumerate(subs):
        assert r.execute_command("PUBLISH", f"own{i}", "me") == 1
        assert sync(c, 3 if i % 3 == 0 else 2) == [[b"message", f"own{i}".encode(), b"me"]]
    for c in subs:
        c.close()


def test_concurrent_publishers_keep_each_publishers_order(server):
    subs = [conn(server) for _ in range(6)]
    for c in subs:
        subscribe(c, "SUBSCRIBE", "bus")
    npub, n = 4, 200
    counts = []

    def publisher(p):
        c = server.client()
        got = [c.publish("bus", f"{p}:{k}") for k in range(n)]
        counts.append(got)
        c.close()

    ts = [threading.Thread(target=publisher, args=(p,)) for p in range(npub)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert counts == [[6] * n] * npub
    for c in subs:
        got = sync(c)
        assert len(got) == npub * n
        per = {}
        for g in got:
            p, k = g[2].decode().split(":")
            per.setdefault(p, []).append(int(k))
        assert per == {str(p): list(range(n)) for p in range(npub)}
    for c in subs:
        c.close()


def test_pubsub_introspection_merges_threads(server, r):
    subs = [conn(server) for _ in range(8)]
    for i, c in enumerate(subs):
        subscribe(c, "SUBSCRIBE", "common", f"ch{i}", *(["even"] if i % 2 == 0 else []))
        subscribe(c, "PSUBSCRIBE", "pat*", f"own{i}*")
        subscribe(c, "SSUBSCRIBE", "shard", f"sh{i}")
    chans = r.execute_command("PUBSUB", "CHANNELS")
    assert sorted(chans) == sorted(["common", "even"] + [f"ch{i}" for i in range(8)])
    assert sorted(r.execute_command("PUBSUB", "CHANNELS", "ch*")) == [f"ch{i}" for i in range(8)]
    assert r.execute_command("PUBSUB", "CHANNELS", "c[o]*") == ["common"]
    assert r.execute_command("PUBSUB", "CHANNELS", "nothing*") == []
    assert numsub(r, "common", "even", "ch3", "none", "common") == \
        {"common": 8, "even": 4, "ch3": 1, "none": 0}
    rep = r.execute_command("PUBSUB", "NUMSUB", "common", "none", "common")
    assert rep == ["common", 8, "none", 0, "common", 8]
    # Patterns are counted once however many clients (on however many threads) use them.
    assert r.execute_command("PUBSUB", "NUMPAT") == 1 + 8
    assert sorted(r.execute_command("PUBSUB", "SHARDCHANNELS")) == \
        sorted(["shard"] + [f"sh{i}" for i in range(8)])
    assert r.execute_command("PUBSUB", "SHARDCHANNELS", "sha*") == ["shard"]
    assert numsub(r, "shard", "sh0", "common", shard=True) == {"shard": 8, "sh0": 1, "common": 0}
    assert r.execute_command("PUBSUB", "NUMSUB") == []
    assert r.execute_command("PUBSUB", "SHARDNUMSUB") == []
    # Numbers of subscriptions, not clients, for PUBLISH.
    assert r.execute_command("PUBLISH", "common", "x") == 8
    assert r.execute_command("PUBLISH", "pattern", "x") == 8
    assert r.execute_command("PUBLISH", "own3xyz", "x") == 1
    assert r.execute_command("SPUBLISH", "shard", "x") == 8
    for c in subs:
        c.close()
    wait_until(lambda: r.execute_command("PUBSUB", "NUMPAT") == 0)
    wait_until(lambda: r.execute_command("PUBSUB", "CHANNELS") == [])
    wait_until(lambda: r.execute_command("PUBSUB", "SHARDCHANNELS") == [])


# ------------------------------------------------------------------------------ subscribed mode

def test_resp2_subscribed_mode_allows_only_pubsub_commands(server):
    for verb, name in (("SUBSCRIBE", "a"), ("PSUBSCRIBE", "a*"), ("SSUBSCRIBE", "s")):
        c = conn(server)
        subscribe(c, verb, name)
        assert c.cmd("GET", "k") == only_sub("get")
        assert c.cmd("PUBLISH", "a", "x") == only_sub("publish")
        assert c.cmd("PUBSUB", "NUMSUB", "a") == only_sub("pubsub|numsub")
        assert c.cmd("CLIENT", "ID") == only_sub("client|id")
        assert c.cmd("HELLO", "3") == only_sub("hello")
        c.send(encode("PING"))
        assert c.read_line_raw() == b"*2"
        assert frames(c, 2) == [b"pong", b""]
        assert c.cmd("PING", "x") == [b"pong", b"x"]
        assert subscribe(c, "SUBSCRIBE", "b")[0][0] == b"subscribe"
        assert c.cmd("RESET") == "RESET"
        assert c.cmd("EXISTS", "nokey") == 0
        assert c.cmd("PING") == "PONG"
        c.close()


def test_quit_while_subscribed(server, r):
    c = conn(server)
    subscribe(c, "SUBSCRIBE", "q")
    assert c.cmd("QUIT") == "OK"
    c.close()
    wait_until(lambda: numsub(r, "q") == {"q": 0})


def test_reset_and_close_drop_subscriptions(server, r):
    a, b = conn(server), conn(server, 3)
    for c in (a, b):
        subscribe(c, "SUBSCRIBE", "gone")
        subscribe(c, "PSUBSCRIBE", "go*")
        subscribe(c, "SSUBSCRIBE", "sgone")
    assert numsub(r, "gone") == {"gone": 2}
    assert a.cmd("RESET") == "RESET"
    assert b.cmd("RESET") == "RESET"
    assert numsub(r, "gone") == {"gone": 0}
    assert numsub(r, "sgone", shard=True) == {"sgone": 0}
    assert r.execute_command("PUBSUB", "NUMPAT") == 0
    assert r.execute_command("PUBLISH", "gone", "x") == 0
    # After RESET nothing is delivered any more, and the clients are ordinary clients.
    assert a.cmd("PING") == "PONG" and b.cmd("PING") == "PONG"
    for c in (a, b):
        subscribe(c, "SUBSCRIBE", "gone")
    assert r.execute_command("PUBLISH", "gone", "x") == 2
    a.close()
    b.close()
    wait_until(lambda: numsub(r, "gone") == {"gone": 0})
    assert r.execute_command("PUBLISH", "gone", "x") == 0


def test_clients_closing_while_messages_flow(server, r):
    stop = threading.Event()
    sent = []

    def publisher():
        c = server.client()
        while not stop.is_set():
            sent.append(c.publish("storm", "x" * 100))
        c.close()

    t = threading.Thread(target=publisher)
    t.start()
    for _ in range(5):
        cs = [conn(server, resp=2 + (i % 2)) for i in range(10)]
        for c in cs:
            subscribe(c, "SUBSCRIBE", "storm")
            subscribe(c, "PSUBSCRIBE", "st*")
        for c in cs:
            c.close()  # closed with unread messages pending
    stop.set()
    t.join(30)
    assert sent
    wait_until(lambda: numsub(r, "storm") == {"storm": 0})
    wait_until(lambda: r.execute_command("PUBSUB", "NUMPAT") == 0)
    assert r.execute_command("PUBLISH", "storm", "x") == 0


def test_publishers_vanishing_mid_command(server, r):
    """Clients that pipeline PUBLISH and PUBSUB queries and close without reading: the
    gathered per-thread results are disposed of (ASan builds check), subscribers still get
    every message that was published."""
    subs = [conn(server) for _ in range(6)]
    for c in subs:
        subscribe(c, "SUBSCRIBE", "gone", "other")
        subscribe(c, "PSUBSCRIBE", "go*")
        subscribe(c, "SSUBSCRIBE", "sgone")
    for _ in range(20):
        p = server.raw()
        p.send(b"".join(encode(*cmd) for cmd in [
            ("PUBLISH", "gone", "x"), ("PUBSUB", "CHANNELS"), ("PUBSUB", "NUMSUB", "gone", "a"),
            ("PUBSUB", "NUMPAT"), ("PUBSUB", "SHARDCHANNELS", "s*"), ("SPUBLISH", "sgone", "y"),
            ("PUBSUB", "SHARDNUMSUB", "sgone")] * 20))
        p.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
        p.close()
    # Whatever was published arrived whole: message and pmessage in pairs, smessages apart.
    assert r.execute_command("PUBLISH", "other", "end") == 6
    for c in subs:
        got = []
        while True:
            f = c.read()
            if f == [b"message", b"other", b"end"]:
                break
            got.append(f)
        msgs = [g for g in got if g[0] == b"message"]
        assert msgs == [[b"message", b"gone", b"x"]] * len(msgs)
        assert len([g for g in got if g[0] == b"pmessage"]) == len(msgs)
        assert all(g == [b"smessage", b"sgone", b"y"] for g in got if g[0] == b"smessage")


def test_client_list_shows_subscriptions(server, r):
    c = conn(server)
    cid = c.cmd("CLIENT", "ID")
    subscribe(c, "SUBSCRIBE", "a", "b")
    subscribe(c, "PSUBSCRIBE", "p*")
    subscribe(c, "SSUBSCRIBE", "s1", "s2", "s3")

    def fields():
        for line in r.execute_command("CLIENT", "LIST", "ID", cid).splitlines():
            kv = dict(f.split("=", 1) for f in line.split(" ") if "=" in f)
            if kv.get("id") == str(cid):
                return kv
        raise AssertionError("client not listed")

    kv = fields()
    assert (kv["sub"], kv["psub"], kv["ssub"]) == ("2", "1", "3")
    assert "P" in kv["flags"]
    subscribe(c, "UNSUBSCRIBE", "a")
    assert (fields()["sub"], fields()["psub"]) == ("1", "1")
    assert c.cmd("RESET") == "RESET"
    kv = fields()
    assert (kv["sub"], kv["psub"], kv["ssub"]) == ("0", "0", "0")
    assert "P" not in kv["flags"]
    c.close()


def test_resp3_pushes_never_split_replies(server, r):
    """A RESP3 subscriber keeps running pipelines with big replies while two publishers pour
    messages in: every reply arrives whole and in order, every message once and in order."""
    c = conn(server, 3)
    subscribe(c, "SUBSCRIBE", "live")
    big = "v" * 200000
    r.set("big", big)
    npub, n = 2, 1500
    done = []

    def publisher(p):
        cl = server.client()
        for base in range(0, n, 50):
            pipe = cl.pipeline(transaction=False)
            for k in range(base, base + 50):
                pipe.publish("live", f"{p}:{k}")
            assert pipe.execute() == [1] * 50
        cl.close()
        done.append(p)

    ts = [threading.Thread(target=publisher, args=(p,)) for p in range(npub)]
    for t in ts:
        t.start()
    replies, pushes = [], []
    rounds = 0
    while len(done) < npub or rounds < 20:
        c.send(b"".join([encode("GET", "big"), encode("SET", "k", str(rounds)),
                         encode("GET", "k"), encode("STRLEN", "big"),
                         encode("PUBSUB", "NUMSUB", "live")]))
        want = 5
        while want:
            f = c.read()
            if isinstance(f, Push):
                pushes.append(f)
            else:
                replies.append(f)
                want -= 1
        rounds += 1
    for t in ts:
        t.join(60)
    assert replies == [x for i in range(rounds) for x in (
        big.encode(), "OK", str(i).encode(), len(big), [b"live", 1])]
    c.send(encode("UNSUBSCRIBE"))
    while True:
        f = c.read()
        if f == [b"unsubscribe", b"live", 0]:
            break
        pushes.append(f)
    assert all(isinstance(p, Push) and p[:2] == [b"message", b"live"] for p in pushes)
    per = {}
    for p in pushes:
        who, k = p[2].decode().split(":")
        per.setdefault(who, []).append(int(k))
    assert per == {str(p): list(range(n)) for p in range(npub)}
    c.close()


def test_publisher_subscribed_to_its_own_channel_resp3(server):
    c = conn(server, 3)
    subscribe(c, "SUBSCRIBE", "self")
    c.send(encode("PUBLISH", "self", "hi"))
    push = c.read()
    assert isinstance(push, Push) and push == [b"message", b"self", b"hi"]
    assert c.read() == 1
    c.close()


def test_client_kill_drops_subscriptions(server, r):
    c = conn(server)
    cid = c.cmd("CLIENT", "ID")
    subscribe(c, "SUBSCRIBE", "killed")
    subscribe(c, "PSUBSCRIBE", "kil*")
    assert r.execute_command("CLIENT", "KILL", "ID", cid) == 1
    wait_until(lambda: numsub(r, "killed") == {"killed": 0})
    wait_until(lambda: r.execute_command("PUBSUB", "NUMPAT") == 0)
    assert r.execute_command("PUBLISH", "killed", "x") == 0
    c.close()


def test_client_type_pubsub(server, r):
    a, b, n = conn(server), conn(server), conn(server)
    subscribe(a, "SUBSCRIBE", "t1")
    subscribe(b, "PSUBSCRIBE", "t*")
    listed = r.execute_command("CLIENT", "LIST", "TYPE", "pubsub")
    assert listed.count("id=") == 2
    assert "id=" in r.execute_command("CLIENT", "LIST", "TYPE", "normal")  # r and n
    assert "flags=P" not in r.execute_command("CLIENT", "LIST", "TYPE", "normal")
    assert r.execute_command("CLIENT", "KILL", "TYPE", "pubsub") == 2
    wait_until(lambda: r.execute_command("PUBSUB", "NUMPAT") == 0)
    assert n.cmd("PING") == "PONG"
    for c in (a, b, n):
        c.close()


def test_keyspace_events_reach_subscribers_on_every_thread(server, r):
    """notify-keyspace-events messages go through the module to subscribers on every thread;
    each key's events arrive in order (events of keys in different shards may interleave
    differently from Redis: they start on different threads)."""
    subs = [conn(server, 3 if i % 2 else 2) for i in range(6)]
    for c in subs:
        subscribe(c, "PSUBSCRIBE", "__key*@0__:*")
    keys = [f"key{i}" for i in range(20)]
    r.execute_command("CONFIG", "SET", "notify-keyspace-events", "KEA")
    try:
        for k in keys:
            assert r.execute_command("SET", k, "v") == "OK"
            assert r.execute_command("DEL", k) == 1
    finally:
        r.execute_command("CONFIG", "SET", "notify-keyspace-events", "")
    for c in subs:
        per = {}
        for _ in range(4 * len(keys)):
            f = c.read()
            assert f[:2] == [b"pmessage", b"__key*@0__:*"]
            ch, msg = f[2], f[3]
            key = ch.split(b":", 1)[1] if ch.startswith(b"__keyspace@") else msg
            per.setdefault(key, []).append((ch, msg))
        for k in keys:
            kb = k.encode()
            assert per.pop(kb) == [(b"__keyspace@0__:" + kb, b"set"), (b"__keyevent@0__:set", kb),
                                   (b"__keyspace@0__:" + kb, b"del"), (b"__keyevent@0__:del", kb)]
        assert per == {}
    for c in subs:
        c.close()


def test_redis_py_pubsub_object(server):
    rp = server.client()
    p = rp.pubsub()
    p.subscribe("x", "y")
    p.psubscribe("z*")
    seen = []
    deadline = time.time() + 10
    while len(seen) < 3 and time.time() < deadline:
        m = p.get_message(timeout=1)
        if m:
            seen.append((m["type"], m["channel"], m["data"]))
    assert seen == [("subscribe", "x", 1), ("subscribe", "y", 2), ("psubscribe", "z*", 3)]
    assert rp.publish("y", "hello") == 1
    assert rp.publish("zed", "pat") == 1
    msgs = []
    deadline = time.time() + 10
    while len(msgs) < 2 and time.time() < deadline:
        m = p.get_message(timeout=1, ignore_subscribe_messages=True)
        if m:
            msgs.append(m)
    assert msgs[0] == {"type": "message", "pattern": None, "channel": "y", "data": "hello"}
    assert msgs[1] == {"type": "pmessage", "pattern": "z*", "channel": "zed", "data": "pat"}
    assert rp.pubsub_numsub("x", "y") == [("x", 1), ("y", 1)]
    assert rp.pubsub_numpat() == 1
    assert sorted(rp.pubsub_channels()) == ["x", "y"]
    p.unsubscribe()
    p.punsubscribe()
    p.close()
    wait_until(lambda: rp.pubsub_numsub("x") == [("x", 0)])
    rp.close()


# ------------------------------------------------------------------------------ payloads

def test_binary_empty_channels_and_huge_payloads(server):
    r = server.client(decode_responses=False)
    r.response_callbacks.clear()
    chans = [b"", b"\x00\xff\r\n", b"a" * 5000]
    subs = [conn(server, resp=2 + (i % 2)) for i in range(4)]
    for c in subs:
        assert [f[1] for f in subscribe(c, "SUBSCRIBE", *chans)] == chans
        subscribe(c, "PSUBSCRIBE", b"\x00*")
    assert sorted(r.execute_command("PUBSUB", "CHANNELS")) == sorted(chans)
    assert numsub(r, b"", b"\x00\xff\r\n") == {b"": 4, b"\x00\xff\r\n": 4}
    payloads = [b"", b"\r\n*3\r\n$1\r\n", bytes(range(256)) * 4, b"P" * (1 << 20)]
    for ch in chans:
        for pl in payloads:
            want = 8 if ch.startswith(b"\x00") else 4
            assert r.execute_command("PUBLISH", ch, pl) == want
    for i, c in enumerate(subs):
        got = sync(c, 2 + (i % 2))
        expect = []
        for ch in chans:
            for pl in payloads:
                expect.append([b"message", ch, pl])
                if ch.startswith(b"\x00"):
                    expect.append([b"pmessage", b"\x00*", ch, pl])
        assert got == expect
    for c in subs:
        c.close()
    r.close()


# ------------------------------------------------------------------------------ MULTI

def test_publish_inside_multi(server, r):
    c = conn(server)
    subscribe(c, "SUBSCRIBE", "tx")
    p = server.raw()
    p.cmd("MULTI")
    assert p.cmd("PUBLISH", "tx", "one") == "QUEUED"
    assert p.cmd("PUBLISH", "nobody", "two") == "QUEUED"
    assert p.cmd("PUBSUB", "NUMSUB", "nobody") == "QUEUED"
    rep = p.cmd("EXEC")
    assert len(rep) == 3 and rep[1] == 0 and rep[2] == [b"nobody", 0]
    assert isinstance(rep[0], int)
    if threads(server) == 1:
        assert rep[0] == 1  # exact at one thread; inside EXEC other threads are not waited for
    assert sync(c) == [[b"message", b"tx", b"one"]]
    p.close()
    c.close()


def test_subscribe_inside_multi(server):
    c = conn(server)
    c.cmd("MULTI")
    assert c.cmd("SUBSCRIBE", "m1") == "QUEUED"
    assert c.cmd("SSUBSCRIBE", "m2") == "QUEUED"
    assert c.cmd("PSUBSCRIBE", "m3*") == "QUEUED"
    assert c.cmd("EXEC") == [[b"subscribe", b"m1", 1],
                             "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client",
                             [b"psubscribe", b"m3*", 2]]
    assert c.cmd("GET", "k") == only_sub("get")
    assert c.cmd("RESET") == "RESET"
    c.close()


# ------------------------------------------------------------------------------ errors, help, info

def test_errors(r):
    def e(*a):
        return err(r, *a)
    for cmd in ("SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "PUBLISH", "SPUBLISH", "PUBSUB"):
        assert e(cmd) == f"wrong number of arguments for '{cmd.lower()}' command"
    assert e("PUBLISH", "a") == "wrong number of arguments for 'publish' command"
    assert e("PUBLISH", "a", "b", "c") == "wrong number of arguments for 'publish' command"
    assert e("SPUBLISH", "a", "b", "c") == "wrong number of arguments for 'spublish' command"
    assert e("PUBSUB", "foo") == "unknown subcommand 'foo'. Try PUBSUB HELP."
    assert e("PUBSUB", "CHANNELS", "a", "b") == \
        "unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP."
    assert e("PUBSUB", "shardchannels", "a", "b") == \
        "unknown subcommand or wrong number of arguments for 'shardchannels'. Try PUBSUB HELP."
    assert e("PUBSUB", "NUMPAT", "x") == "wrong number of arguments for 'pubsub|numpat' command"
    assert e("PUBSUB", "HELP", "x") == "wrong number of arguments for 'pubsub|help' command"


def test_help(server):
    c = conn(server)
    rep = c.cmd("PUBSUB", "HELP")
    assert all(isinstance(x, Simple) for x in rep)
    assert rep == [
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: "
        "'*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ]
    c.close()


def test_command_info(r):
    names = ["subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe",
             "sunsubscribe", "publish", "spublish"]
    info = r.execute_command("COMMAND", "INFO", *names)
    got = {i[0]: (i[1], sorted(i[2]), sorted(i[6])) for i in info}
    sub = ["loading", "noscript", "pubsub", "stale"]
    pub = ["fast", "loading", "pubsub", "stale"]
    assert got == {
        "subscribe": (-2, sub, ["@pubsub", "@slow"]),
        "unsubscribe": (-1, sub, ["@pubsub", "@slow"]),
        "psubscribe": (-2, sub, ["@pubsub", "@slow"]),
        "punsubscribe": (-1, sub, ["@pubsub", "@slow"]),
        "ssubscribe": (-2, sub, ["@pubsub", "@slow"]),
        "sunsubscribe": (-1, sub, ["@pubsub", "@slow"]),
        "publish": (3, pub, ["@fast", "@pubsub"]),
        "spublish": (3, pub, ["@fast", "@pubsub"]),
    }
    # Redis gives the shard commands a key spec (cluster routing); ours are keyless.
    for i in info:
        if i[0][0] != "s":
            assert i[3:6] == [0, 0, 0]
    subs = r.execute_command("COMMAND", "INFO", "pubsub")[0][9]
    got = {s[0]: (s[1], sorted(s[2])) for s in subs}
    assert got == {
        "pubsub|channels": (-2, ["loading", "pubsub", "stale"]),
        "pubsub|numsub": (-2, ["loading", "pubsub", "stale"]),
        "pubsub|numpat": (2, ["loading", "pubsub", "stale"]),
        "pubsub|shardchannels": (-2, ["loading", "pubsub", "stale"]),
        "pubsub|shardnumsub": (-2, ["loading", "pubsub", "stale"]),
        "pubsub|help": (2, ["loading", "stale"]),
    }
    docs = r.execute_command("COMMAND", "DOCS", "publish", "ssubscribe")
    d = {docs[i]: dict(zip(docs[i + 1][::2], docs[i + 1][1::2])) for i in range(0, len(docs), 2)}
    assert (d["publish"]["summary"], d["publish"]["since"], d["publish"]["group"]) == \
        ("Post a message to a channel", "2.0.0", "pubsub")
    assert (d["ssubscribe"]["summary"], d["ssubscribe"]["since"]) == \
        ("Listen for messages published to the given shard channels", "7.0.0")


@pytest.mark.skipif(is_redis(), reason="dragonfly-only: Redis gives shard commands key specs")
def test_shard_commands_are_keyless(r):
    info = r.execute_command("COMMAND", "INFO", "ssubscribe", "sunsubscribe", "spublish")
    assert [i[3:6] for i in info] == [[0, 0, 0]] * 3
