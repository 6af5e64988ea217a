"""
Keyspace notifications (notify-keyspace-events): the core reports every write's event, and the
pubsub module publishes Redis's __keyspace@<db>__:<key> / __keyevent@<db>__:<event> messages
to subscribers on every thread.

Expectations are redis-server 7.0.15's (DF_TEST_SERVER=redis runs this file against it). One
key's events come in order (one shard); events of keys in different shards are compared as
multisets, since each shard publishes from its own thread.
"""
import time

import pytest
import redis

from conftest import per_thread_count_server

server = per_thread_count_server()


@pytest.fixture
def r(server):
    c = server.client()
    c.flushall()
    yield c
    c.config_set("notify-keyspace-events", "")
    c.close()


@pytest.fixture
def sub(server):
    c = server.client()
    p = c.pubsub()
    yield p
    p.close()
    c.close()


def listen(p, *patterns):
    p.psubscribe(*patterns)
    for _ in patterns:
        assert p.get_message(timeout=5)["type"] == "psubscribe"


def collect(p, n, timeout=5.0):
    """The next n messages as (channel, data) pairs; fewer if they do not come in time."""
    out, end = [], time.time() + timeout
    while len(out) < n and time.time() < end:
        m = p.get_message(timeout=0.2)
        if m and m["type"] in ("pmessage", "message"):
            out.append((m["channel"], m["data"]))
    return out


def quiet(p, wait=0.3):
    """No further message arrives within `wait` seconds (what must not be published)."""
    return collect(p, 1, timeout=wait) == []


def test_config_normal_form_and_errors(r):
    for given, shown in [("KEA", "AKE"), ("Elg", "glE"), ("$szK", "$szK"), ("KEAmn", "AKEm"),
                         ("Kd", "dK"), ("", "")]:
        r.config_set("notify-keyspace-events", given)
        assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": shown}
    with pytest.raises(redis.ResponseError) as e:
        r.config_set("notify-keyspace-events", "KQ")
    assert "Invalid event class character. Use 'Ag$lshzxeKEtmdn'." in str(e.value)


def test_keyspace_and_keyevent_of_one_key_in_order(r, sub):
    r.config_set("notify-keyspace-events", "KEA")
    listen(sub, "__key*__:*")
    r.set("k", "v")
    r.append("k", "w")
    r.expire("k", 100)
    r.persist("k")
    r.delete("k")
    events = ["set", "append", "expire", "persist", "del"]
    want = []
    for ev in events:
        want += [("__keyspace@0__:k", ev), (f"__keyevent@0__:{ev}", "k")]
    assert collect(sub, len(want)) == want
    assert quiet(sub)


def test_classes_select_what_is_published(r, sub):
    r.config_set("notify-keyspace-events", "El")  # list events, keyevent channel only
    listen(sub, "__key*__:*")
    r.set("s", "1")
    r.sadd("set", "a")
    r.rpush("list", "a", "b")
    r.lpop("list")
    assert collect(sub, 2) == [("__keyevent@0__:rpush", "list"), ("__keyevent@0__:lpop", "list")]
    assert quiet(sub)
    r.config_set("notify-keyspace-events", "K$")
    r.set("s", "2")
    r.sadd("set", "b")
    assert collect(sub, 1) == [("__keyspace@0__:s", "set")]
    assert quiet(sub)
    r.config_set("notify-keyspace-events", "")
    r.set("s", "3")
    assert quiet(sub)


def test_generic_events_across_shards(r, sub):
    r.config_set("notify-keyspace-events", "Eg")
    listen(sub, "__keyevent@*")
    keys = [f"g{i}" for i in range(6)]  # spread over the shards
    for k in keys:
        r.set(k, "v")
    r.rename("g0", "g0new")
    r.copy("g1", "g1copy")
    r.move("g2", 3)
    r.delete("g3", "g4", "nosuch")
    r.expire("g5", 0)  # a time in the past deletes: "del"
    want = [("__keyevent@0__:rename_from", "g0"), ("__keyevent@0__:rename_to", "g0new"),
            ("__keyevent@0__:copy_to", "g1copy"), ("__keyevent@0__:move_from", "g2"),
            ("__keyevent@3__:move_to", "g2"), ("__keyevent@0__:del", "g3"),
            ("__keyevent@0__:del", "g4"), ("__keyevent@0__:del", "g5")]
    assert sorted(collect(sub, len(want))) == sorted(want)
    assert quiet(sub)


def test_expired_keys_publish_expired(r, sub):
    r.config_set("notify-keyspace-events", "Ex")
    listen(sub, "__keyevent@0__:expired")
    r.set("lazy", "v", px=1)
    r.set("active", "v", px=1)
    time.sleep(0.05)
    assert r.get("lazy") is None  # expired on access
    got = collect(sub, 2)
    assert sorted(got) == [("__keyevent@0__:expired", "active"),
                           ("__keyevent@0__:expired", "lazy")]


def test_key_miss_events(r, sub):
    r.config_set("notify-keyspace-events", "Em")
    listen(sub, "__keyevent@0__:*")
    r.set("here", "v")
    assert r.get("here") == "v"
    assert r.get("missing") is None
    assert r.ttl("gone") == -2
    assert r.dump("nothing") is None
    assert sorted(collect(sub, 3)) == [("__keyevent@0__:keymiss", "gone"),
                                       ("__keyevent@0__:keymiss", "missing"),
                                       ("__keyevent@0__:keymiss", "nothing")]
    assert quiet(sub)


def test_type_events(r, sub):
    r.config_set("notify-keyspace-events", "E$lshz")
    listen(sub, "__keyevent@0__:*")
    r.incr("n")
    r.hset("h", "f", "v")
    r.sadd("s", "m")
    r.zadd("z", {"m": 1})
    r.lpush("l", "x")
    r.pfadd("hll", "a")
    want = [("__keyevent@0__:incrby", "n"), ("__keyevent@0__:hset", "h"),
            ("__keyevent@0__:sadd", "s"), ("__keyevent@0__:zadd", "z"),
            ("__keyevent@0__:lpush", "l"), ("__keyevent@0__:pfadd", "hll")]
    assert sorted(collect(sub, len(want))) == sorted(want)
    assert quiet(sub)


def test_subscribers_on_every_thread_get_each_event_once(server, r):
    r.config_set("notify-keyspace-events", "KA")
    clients = [server.client() for _ in range(6)]
    subs = [c.pubsub() for c in clients]
    for p in subs:
        listen(p, "__keyspace@0__:*")
    for i in range(20):
        r.set(f"k{i}", i)
    want = sorted((f"__keyspace@0__:k{i}", "set") for i in range(20))
    for p in subs:
        assert sorted(collect(p, 20)) == want
        assert quiet(p, 0.1)
    for p, c in zip(subs, clients):
        p.close()
        c.close()


def test_concurrent_config_set_of_string_parameters(server, r):
    """CONFIG SET runs on each client's own thread: string values replaced while another
    thread reads them must stay valid (ASan builds run this)."""
    import threading
    stop, errors = threading.Event(), []

    def setter(i):
        c = server.client()
        name, vals = (("notify-keyspace-events", ["KEA", "", "Em", "K$g"]) if i % 2
                      else ("save", ["", "3600 1", "60 10000 300 5"]))
        n = 0
        try:
            while not stop.is_set():
                assert c.config_set(name, vals[n % len(vals)])
                c.config_get(name)
                n += 1
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))
        finally:
            c.close()

    ts = [threading.Thread(target=setter, args=(i,)) for i in range(6)]
    for t in ts:
        t.start()
    time.sleep(1.5)
    stop.set()
    for t in ts:
        t.join(30)
    assert not errors, errors[0]
    r.config_set("save", "")
    assert r.ping()
