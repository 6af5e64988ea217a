"""
LMOVE, RPOPLPUSH, BLMOVE, BRPOPLPUSH (issue #6's cross-shard framework, through the lists
module): the element moves atomically between lists that may live in different shards, in
one step or after the client blocked on the source. The server runs several threads so source
and destination are usually in different shards. Every expectation holds on redis-server 7.0
(DF_TEST_SERVER=redis). Tests check outcomes and order, never how fast something happened.
"""
import threading
import time

from helpers import WRONGTYPE, blocked_clients, wait_blocked
from resp import Error
# The server (several threads), the plain client and the waiters come from test_blocking.
from test_blocking import block, err, r, server, waiters  # noqa: F401 (fixtures)

def lrange(r, key):
    return r.execute_command("LRANGE", key, 0, -1)


# ------------------------------------------------------------------------- non-blocking

def test_lmove_every_direction(r):
    r.execute_command("RPUSH", "src", "a", "b", "c", "d")
    assert r.execute_command("LMOVE", "src", "dst", "LEFT", "RIGHT") == "a"
    assert r.execute_command("LMOVE", "src", "dst", "RIGHT", "LEFT") == "d"
    assert r.execute_command("LMOVE", "src", "dst", "left", "left") == "b"
    assert r.execute_command("LMOVE", "src", "dst", "Right", "Right") == "c"
    assert lrange(r, "dst") == ["b", "d", "a", "c"]
    assert r.execute_command("EXISTS", "src") == 0


def test_rpoplpush_and_rotation(r):
    r.execute_command("RPUSH", "rot", "1", "2", "3")
    assert r.execute_command("RPOPLPUSH", "rot", "rot") == "3"
    assert lrange(r, "rot") == ["3", "1", "2"]
    assert r.execute_command("LMOVE", "rot", "rot", "LEFT", "RIGHT") == "3"
    assert lrange(r, "rot") == ["1", "2", "3"]
    r.execute_command("RPUSH", "one", "x")
    assert r.execute_command("RPOPLPUSH", "one", "one") == "x"
    assert lrange(r, "one") == ["x"]


def test_missing_source_and_wrong_types(r):
    r.set("str", "v")
    r.execute_command("RPUSH", "lst", "e")
    assert r.execute_command("LMOVE", "nosuch", "dst", "LEFT", "LEFT") is None
    assert r.execute_command("LMOVE", "nosuch", "str", "LEFT", "LEFT") is None
    assert err(r, "LMOVE", "str", "dst", "LEFT", "LEFT") == WRONGTYPE
    assert err(r, "LMOVE", "lst", "str", "LEFT", "LEFT") == WRONGTYPE
    assert lrange(r, "lst") == ["e"], "a failed move leaves the source alone"
    assert err(r, "RPOPLPUSH", "lst", "str") == WRONGTYPE
    assert err(r, "LMOVE", "lst", "dst", "UP", "LEFT") == "syntax error"
    assert err(r, "LMOVE", "nosuch", "dst", "LEFT", "DOWN") == "syntax error"
    assert "wrong number of arguments" in err(r, "LMOVE", "a", "b", "LEFT")
    assert "wrong number of arguments" in err(r, "RPOPLPUSH", "a")


def test_blocking_forms_reply_at_once_when_they_can(r):
    r.execute_command("RPUSH", "bsrc", "a", "b")
    assert r.execute_command("BLMOVE", "bsrc", "bdst", "LEFT", "LEFT", 0) == "a"
    assert r.execute_command("BRPOPLPUSH", "bsrc", "bdst", 0) == "b"
    assert lrange(r, "bdst") == ["b", "a"]
    assert r.execute_command("BLMOVE", "bsrc", "bdst", "LEFT", "LEFT", "0.01") is None
    assert err(r, "BLMOVE", "bsrc", "bdst", "LEFT", "LEFT", -1) == "timeout is negative"
    assert err(r, "BLMOVE", "bsrc", "bdst", "LEFT", "LEFT", "x") == \
        "timeout is not a float or out of range"
    assert err(r, "BLMOVE", "bsrc", "bdst", "SIDEWAYS", "LEFT", "x") == "syntax error"
    assert err(r, "BRPOPLPUSH", "bsrc", "bdst", "x") == "timeout is not a float or out of range"


def test_blmove_inside_multi_does_not_block(r):
    p = r.pipeline(transaction=True)
    p.execute_command("BLMOVE", "mnone", "mdst", "LEFT", "LEFT", 0)
    p.execute_command("RPUSH", "msrc", "v")
    p.execute_command("BRPOPLPUSH", "msrc", "mdst", 0)
    assert p.execute() == [None, 1, "v"]
    assert lrange(r, "mdst") == ["v"]


def test_lmove_across_shards_is_atomic(server, r):
    """Movers shuttle elements between two lists while readers look at both in one MULTI:
    the total never changes."""
    keys = ["{a}ring", "{b}ring"]  # different tags: usually different shards
    n = 50
    r.execute_command("DEL", *keys)
    r.execute_command("RPUSH", keys[0], *range(n))
    stop = threading.Event()
    bad = []

    def mover(src, dst):
        c = server.client()
        while not stop.is_set():
            c.execute_command("LMOVE", src, dst, "LEFT", "RIGHT")

    def reader():
        c = server.client()
        while not stop.is_set():
            p = c.pipeline(transaction=True)
            p.execute_command("LLEN", keys[0])
            p.execute_command("LLEN", keys[1])
            a, b = p.execute()
            if a + b != n:
                bad.append((a, b))

    threads = [threading.Thread(target=mover, args=(keys[0], keys[1])),
               threading.Thread(target=mover, args=(keys[1], keys[0])),
               threading.Thread(target=reader)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join()
    assert bad == []
    assert sorted(int(x) for x in lrange(r, keys[0]) + lrange(r, keys[1])) == list(range(n))


# ----------------------------------------------------------------------------- blocking

def test_blmove_woken_by_push_moves_to_another_shard(server, r, waiters):
    w = block(server, waiters, "BLMOVE", "{x}src", "{y}dst", "RIGHT", "LEFT", 10)
    wait_blocked(r, 1)
    assert r.execute_command("RPUSH", "{x}src", "a", "b") == 2
    assert w.result() == b"b"
    assert lrange(r, "{x}src") == ["a"]
    assert lrange(r, "{y}dst") == ["b"]
    assert blocked_clients(r) == 0
    assert w.conn.cmd("PING") == "PONG"


def test_brpoplpush_timeout(server, r, waiters):
    w = block(server, waiters, "BRPOPLPUSH", "{x}empty", "{y}dst2", "0.2")
    wait_blocked(r, 1)
    assert w.result() is None
    assert r.execute_command("EXISTS", "{y}dst2") == 0


def test_blmove_waiters_served_in_fifo_order(server, r, waiters):
    ws = []
    for i in range(3):
        ws.append(block(server, waiters, "BLMOVE", "fq", f"{{d{i}}}out", "LEFT", "LEFT", 0))
        wait_blocked(r, i + 1)
    r.execute_command("RPUSH", "fq", "first", "second", "third")
    assert [w.result() for w in ws] == [b"first", b"second", b"third"]
    assert [lrange(r, f"{{d{i}}}out") for i in range(3)] == [["first"], ["second"], ["third"]]
    assert r.execute_command("EXISTS", "fq") == 0


def test_blmove_and_blpop_waiters_share_one_queue(server, r, waiters):
    a = block(server, waiters, "BLMOVE", "mixq", "{m}out", "LEFT", "LEFT", 0)
    wait_blocked(r, 1)
    b = block(server, waiters, "BLPOP", "mixq", 0)
    wait_blocked(r, 2)
    r.execute_command("RPUSH", "mixq", "one")
    assert a.result() == b"one"
    assert b.thread.is_alive(), "one element serves one waiter"
    r.execute_command("RPUSH", "mixq", "two")
    assert b.result() == [b"mixq", b"two"]
    assert lrange(r, "{m}out") == ["one"]


def test_blmove_to_wrong_type_destination_fails_when_served(server, r, waiters):
    r.set("{w}str", "v")
    w = block(server, waiters, "BLMOVE", "{v}src", "{w}str", "LEFT", "LEFT", 0)
    wait_blocked(r, 1)
    r.execute_command("RPUSH", "{v}src", "e")
    res = w.result()
    assert isinstance(res, Error) and res == WRONGTYPE
    assert lrange(r, "{v}src") == ["e"], "the element stays in the source"


def test_many_blmove_waiters_each_served_exactly_once(server, r, waiters):
    n = 12
    ws = [block(server, waiters, "BLMOVE", "many", f"{{o{i}}}out", "LEFT", "RIGHT", 0)
          for i in range(n)]
    wait_blocked(r, n)
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.execute_command("RPUSH", "many", f"e{i}")
    p.execute()
    got = sorted(w.result() for w in ws)
    assert got == sorted(f"e{i}".encode() for i in range(n))
    moved = sorted(x for i in range(n) for x in lrange(r, f"{{o{i}}}out"))
    assert moved == sorted(f"e{i}" for i in range(n))
    assert r.execute_command("EXISTS", "many") == 0
    assert blocked_clients(r) == 0


# ------------------------------------------------------------------------- LMPOP, BLMPOP

def test_lmpop_takes_the_first_nonempty_list_in_argument_order(r):
    keys = [f"mp:{i}" for i in range(10)]  # spread over shards
    r.execute_command("RPUSH", keys[7], "x", "y", "z")
    r.execute_command("RPUSH", keys[3], "a", "b")
    assert r.execute_command("LMPOP", len(keys), *keys, "LEFT") == [keys[3], ["a"]]
    assert r.execute_command("LMPOP", len(keys), *keys, "RIGHT", "COUNT", 5) == [keys[3], ["b"]]
    assert r.execute_command("EXISTS", keys[3]) == 0
    assert r.execute_command("LMPOP", len(keys), *keys, "RIGHT", "COUNT", 2) == \
        [keys[7], ["z", "y"]]
    assert r.execute_command("LMPOP", 2, "mp:none", "mp:none2", "LEFT") is None


def test_lmpop_errors(r):
    r.set("mp:str", "v")
    r.execute_command("RPUSH", "mp:l", "e")
    assert err(r, "LMPOP", 2, "mp:str", "mp:l", "LEFT") == WRONGTYPE
    assert r.execute_command("LMPOP", 2, "mp:l", "mp:str", "LEFT") == ["mp:l", ["e"]]
    assert err(r, "LMPOP", 0, "k", "LEFT") == "numkeys should be greater than 0"
    assert err(r, "LMPOP", "x", "k", "LEFT") == "numkeys should be greater than 0"
    assert err(r, "LMPOP", 3, "k", "LEFT") == "syntax error"
    assert err(r, "LMPOP", 1, "k", "UP") == "syntax error"
    assert err(r, "LMPOP", 1, "k", "LEFT", "COUNT", 0) == "count should be greater than 0"
    assert err(r, "LMPOP", 1, "k", "LEFT", "COUNT", 1, "COUNT", 2) == "syntax error"
    assert err(r, "BLMPOP", -1, 1, "k", "LEFT") == "timeout is negative"
    assert err(r, "BLMPOP", "x", 1, "k", "UP") == "syntax error"


def test_blmpop_woken_by_push_takes_count(server, r, waiters):
    keys = [f"bmp:{i}" for i in range(6)]
    w = block(server, waiters, "BLMPOP", 10, len(keys), *keys, "RIGHT", "COUNT", 2)
    wait_blocked(r, 1)
    r.execute_command("RPUSH", keys[4], "a", "b", "c")
    assert w.result() == [keys[4].encode(), [b"c", b"b"]]
    assert lrange(r, keys[4]) == ["a"]
    assert blocked_clients(r) == 0


def test_blmpop_timeout_and_multi(server, r, waiters):
    w = block(server, waiters, "BLMPOP", "0.2", 2, "bmp:x", "bmp:y", "LEFT")
    wait_blocked(r, 1)
    assert w.result() is None
    p = r.pipeline(transaction=True)
    p.execute_command("BLMPOP", 0, 1, "bmp:x", "LEFT")
    assert p.execute() == [None]


def test_nothing_to_move_on_the_wire(server):
    """Inside MULTI, BLMOVE and BRPOPLPUSH reply a null bulk (like LMOVE), BLMPOP a null
    array; a BLMOVE that times out replies a null array."""
    raw = server.raw()
    assert raw.cmd("MULTI") == "OK"
    for cmd in (("BLMOVE", "wn", "wd", "LEFT", "LEFT", "0"), ("BRPOPLPUSH", "wn", "wd", "0"),
                ("BLMPOP", "0", "1", "wn", "LEFT")):
        assert raw.cmd(*cmd) == "QUEUED"
    raw.send(b"*1\r\n$4\r\nEXEC\r\n")
    assert [raw.read_line_raw() for _ in range(4)] == [b"*3", b"$-1", b"$-1", b"*-1"]
    raw.send(b"*6\r\n$6\r\nBLMOVE\r\n$2\r\nwn\r\n$2\r\nwd\r\n$4\r\nLEFT\r\n$4\r\nLEFT\r\n"
             b"$4\r\n0.05\r\n")
    assert raw.read_line_raw() == b"*-1"
    raw.close()
