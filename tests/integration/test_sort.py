"""
SORT and SORT_RO (lists module, sort.c): lists, sets and sorted sets, numeric and ALPHA
order, BY/GET patterns over strings and hash fields, LIMIT, DESC, STORE (a destination in any
shard, written in the same transaction as the source is read) and every error, as
redis-server 7.0 replies them. Sources and their BY/GET keys share a hash tag, as Redis
Cluster requires; the tests of that rule's refusals are dragonfly's own (redis-server, not in
cluster mode, accepts any pattern). Passes with DF_TEST_SERVER=redis.
"""
import random

import pytest
import redis

from conftest import Server, is_redis
from helpers import WRONGTYPE, err

NOT_DOUBLE = "One or more scores can't be converted into double"
NOT_INT = "value is not an integer or out of range"
DENIED_BY = "BY option of SORT denied in Cluster mode."
DENIED_GET = "GET option of SORT denied in Cluster mode."
only_dragonfly = pytest.mark.skipif(is_redis(), reason="redis-server is not in cluster mode")


# Several threads (keys spread over shards) and raw replies (COMMAND INFO, BLPOP).
from test_blocking import r, server  # noqa: E402,F401 (fixtures)


def sort(r, *args):
    return r.execute_command("SORT", *args)


def lrange(r, key):
    return r.execute_command("LRANGE", key, 0, -1)


# ------------------------------------------------------------------------- plain sorting

def test_numeric_sort_of_each_type(r):
    r.rpush("{s}l", 3, 1, 10, 2, -4, 1.5)
    r.sadd("{s}set", 3, 1, 10, 2, -4, 1.5)
    r.zadd("{s}z", {"3": 1, "1": 2, "10": 3, "2": 4, "-4": 5, "1.5": 6})
    for key in ("{s}l", "{s}set", "{s}z"):
        assert sort(r, key) == ["-4", "1", "1.5", "2", "3", "10"]
        assert sort(r, key, "DESC") == ["10", "3", "2", "1.5", "1", "-4"]
        assert r.execute_command("SORT_RO", key, "desc") == ["10", "3", "2", "1.5", "1", "-4"]
    assert sort(r, "nosuchkey") == []
    assert r.execute_command("SORT_RO", "nosuchkey", "ALPHA") == []


def test_zset_sorts_by_member_value_not_score(r):
    r.zadd("z", {"5": 1, "1": 2, "3": 3})
    assert sort(r, "z") == ["1", "3", "5"]
    assert sort(r, "z", "BY", "nosort") == ["5", "1", "3"], "score order"
    assert sort(r, "z", "BY", "nosort", "DESC") == ["3", "1", "5"]
    assert sort(r, "z", "BY", "nosort", "LIMIT", 1, 5) == ["1", "3"]
    assert sort(r, "z", "BY", "nosort", "DESC", "LIMIT", 1, 1) == ["1"]


def test_numeric_forms_and_ties(r):
    # strtod over the whole value: spaces before, hex, inf; equal numbers order by bytes
    r.rpush("l", "1.0", "01", "1", " 5", "0x10", "-inf", "inf", "", "1e2", "-0", "0")
    assert sort(r, "l") == ["-inf", "", "-0", "0", "01", "1", "1.0", " 5", "0x10", "1e2",
                            "inf"]
    assert sort(r, "l", "DESC") == list(reversed(sort(r, "l")))
    r.rpush("dup", 2, 1, 2, 1, "1.0")
    assert sort(r, "dup") == ["1", "1", "1.0", "2", "2"]


@pytest.mark.parametrize("bad", ["abc", "nan", "1e400", "1e-400", "5 ", " ", "1,5", "--1"])
def test_values_that_are_not_numbers(r, bad):
    r.rpush("l", 1, bad, 2)
    assert err(r, "SORT", "l") == NOT_DOUBLE
    assert err(r, "SORT_RO", "l", "DESC") == NOT_DOUBLE
    assert err(r, "SORT", "l", "STORE", "dst") == NOT_DOUBLE
    assert r.exists("dst") == 0, "nothing is stored after the error"
    assert sort(r, "l", "ALPHA") == sorted(["1", bad, "2"])
    assert sort(r, "l", "BY", "nosort") == ["1", bad, "2"], "no sorting, no numbers"


def test_alpha_is_byte_order(r):
    r.rpush("l", "b", "B", "a", "", "ab", "é", "10", "9")
    expected = ["", "10", "9", "B", "a", "ab", "b", "é"]
    assert sort(r, "l", "ALPHA") == expected
    assert sort(r, "l", "alpha", "desc") == list(reversed(expected))
    assert sort(r, "l", "ALPHA", "STORE", "out") == 8
    assert lrange(r, "out") == expected


def test_list_without_sorting_keeps_its_order(r):
    r.rpush("l", 3, 1, 2, 5, 4)
    assert sort(r, "l", "BY", "nosort") == ["3", "1", "2", "5", "4"]
    assert sort(r, "l", "BY", "nosort", "DESC") == ["4", "5", "2", "1", "3"]
    assert sort(r, "l", "BY", "nosort", "LIMIT", 1, 2) == ["1", "2"]
    assert sort(r, "l", "BY", "nosort", "DESC", "LIMIT", 1, 2) == ["5", "2"]
    assert sort(r, "l", "BY", "nosort", "LIMIT", 4, 10) == ["4"]
    assert sort(r, "l", "BY", "nosort", "LIMIT", 5, 10) == []


def test_set_without_sorting_is_sorted_when_stored(r):
    r.sadd("s", "c", "a", "b", "10", "9")
    assert sorted(sort(r, "s", "BY", "nosort")) == ["10", "9", "a", "b", "c"]
    assert sort(r, "s", "BY", "nosort", "STORE", "dst") == 5
    assert lrange(r, "dst") == ["10", "9", "a", "b", "c"], "forced ALPHA for a stable result"
    assert sort(r, "s", "BY", "nosort", "DESC", "STORE", "dst") == 5
    assert lrange(r, "dst") == ["c", "b", "a", "9", "10"]


def test_limit_windows(r):
    r.rpush("l", *range(10))
    all_ = [str(i) for i in range(10)]
    cases = [(0, 3, all_[:3]), (2, 3, all_[2:5]), (8, 5, all_[8:]), (-5, 2, all_[:2]),
             (3, -1, all_[3:]), (3, -100, all_[3:]), (0, 0, []), (10, 1, []), (9, 1, ["9"]),
             (2 ** 63 - 1, 2 ** 63 - 1, []), (2, 2 ** 63 - 1, all_[2:]),
             (-2 ** 63, -2 ** 63, all_), (-2 ** 63, 2 ** 63 - 1, all_)]
    for start, count, want in cases:
        assert sort(r, "l", "LIMIT", start, count) == want, (start, count)
        assert sort(r, "l", "LIMIT", start, count, "DESC") == \
            list(reversed(all_))[max(start, 0):][:count if count >= 0 else None][:len(want)]
    assert sort(r, "empty", "LIMIT", 0, 10) == []
    assert sort(r, "l", "LIMIT", 1, 2, "LIMIT", 5, 1) == ["5"], "the last LIMIT counts"


def test_limit_argument_errors(r):
    r.rpush("l", 1, 2)
    assert err(r, "SORT", "l", "LIMIT", "x", 1) == NOT_INT
    assert err(r, "SORT", "l", "LIMIT", 0, "1.5") == NOT_INT
    assert err(r, "SORT", "l", "LIMIT", 0, 2 ** 63) == NOT_INT
    assert err(r, "SORT", "l", "LIMIT", 0) == "syntax error"
    assert err(r, "SORT", "l", "LIMIT") == "syntax error"


def test_syntax_errors_and_their_order(r):
    r.set("str", "v")
    r.rpush("l", 1)
    assert err(r, "SORT", "l", "FOO") == "syntax error"
    assert err(r, "SORT", "l", "STORE") == "syntax error"
    assert err(r, "SORT", "l", "BY") == "syntax error"
    assert err(r, "SORT", "l", "GET") == "syntax error"
    assert err(r, "SORT_RO", "l", "STORE", "dst") == "syntax error"
    assert err(r, "SORT", "str") == WRONGTYPE
    assert err(r, "SORT_RO", "str", "ALPHA") == WRONGTYPE
    assert err(r, "SORT", "str", "FOO") == "syntax error", "options are checked first"
    assert err(r, "SORT", "str", "LIMIT", "x", "1") == NOT_INT
    assert err(r, "SORT", "str", "STORE", "dst") == WRONGTYPE
    r.hset("h", "f", "v")
    assert err(r, "SORT", "h") == WRONGTYPE
    assert "wrong number of arguments" in err(r, "SORT")
    assert "wrong number of arguments" in err(r, "SORT_RO")
    assert r.exists("dst") == 0


# ------------------------------------------------------------------------- BY and GET

@pytest.fixture
def weighted(r):
    """A list under tag {w} with weights (strings and hash fields) and data keys."""
    r.rpush("{w}l", "a", "b", "c", "d")
    r.mset({"{w}weight_a": 3, "{w}weight_b": 1, "{w}weight_c": 2})  # d has none: 0
    for k, v in {"a": 30, "b": 10, "c": 20, "d": 40}.items():
        r.hset("{w}h_" + k, mapping={"w": v, "name": k.upper()})
    r.mset({"{w}data_a": "A!", "{w}data_c": "C!"})
    return r


def test_by_string_keys(weighted):
    r = weighted
    assert sort(r, "{w}l", "BY", "{w}weight_*") == ["d", "b", "c", "a"]
    assert sort(r, "{w}l", "BY", "{w}weight_*", "DESC") == ["a", "c", "b", "d"]
    assert sort(r, "{w}l", "BY", "{w}weight_*", "LIMIT", 1, 2) == ["b", "c"]
    r.set("{w}weight_d", "x")
    assert err(r, "SORT", "{w}l", "BY", "{w}weight_*") == NOT_DOUBLE
    r.delete("{w}weight_d")
    r.rpush("{w}weight_d", "9")  # another type counts as missing
    assert sort(r, "{w}l", "BY", "{w}weight_*") == ["d", "b", "c", "a"]


def test_by_hash_fields(weighted):
    r = weighted
    assert sort(r, "{w}l", "BY", "{w}h_*->w") == ["b", "c", "a", "d"]
    assert sort(r, "{w}l", "BY", "{w}h_*->w", "DESC") == ["d", "a", "c", "b"]
    assert sort(r, "{w}l", "BY", "{w}h_*->name", "ALPHA", "DESC") == ["d", "c", "b", "a"]
    # missing fields count 0 (numeric) and sort first (ALPHA)
    assert sort(r, "{w}l", "BY", "{w}h_*->nofield") == ["a", "b", "c", "d"]
    r.hset("{w}h_c", "x", "zzz")
    assert sort(r, "{w}l", "BY", "{w}h_*->x", "ALPHA") == ["a", "b", "d", "c"]
    # "->" with nothing after it is part of the key name
    r.set("{w}h_b->", 5)
    assert sort(r, "{w}l", "BY", "{w}h_*->") == ["a", "c", "d", "b"]


def test_alpha_by(weighted):
    r = weighted
    r.mset({"{w}n_a": "pear", "{w}n_b": "apple", "{w}n_c": "fig"})
    assert sort(r, "{w}l", "BY", "{w}n_*", "ALPHA") == ["d", "b", "c", "a"]
    assert sort(r, "{w}l", "BY", "{w}n_*", "ALPHA", "DESC") == ["a", "c", "b", "d"]


def test_get_patterns(weighted):
    r = weighted
    assert sort(r, "{w}l", "ALPHA", "GET", "{w}data_*") == ["A!", None, "C!", None]
    assert sort(r, "{w}l", "ALPHA", "GET", "#", "GET", "{w}h_*->name", "GET", "{w}weight_*") == \
        ["a", "A", "3", "b", "B", "1", "c", "C", "2", "d", "D", None]
    assert sort(r, "{w}l", "BY", "{w}weight_*", "GET", "#", "LIMIT", 0, 2) == ["d", "b"]
    assert sort(r, "{w}l", "ALPHA", "GET", "nostar") == [None] * 4
    assert sort(r, "{w}l", "ALPHA", "GET", "{w}h_*->nofield", "LIMIT", 0, 1) == [None]
    assert sort(r, "{w}l", "BY", "nosort", "GET", "{w}h_*->w") == ["30", "10", "20", "40"]
    assert sort(r, "empty", "GET", "#", "GET", "#") == []


def test_get_results_stored(weighted):
    r = weighted
    assert sort(r, "{w}l", "ALPHA", "GET", "{w}data_*", "GET", "#", "STORE", "{w}out") == 8
    assert lrange(r, "{w}out") == ["A!", "a", "", "b", "C!", "c", "", "d"], "nil stores ''"


def test_model_of_numeric_and_alpha_order(r):
    """Random lists against a model of Redis's rules: numbers then bytes; ALPHA bytes."""
    rnd = random.Random(7)
    words = ["1", "2", "10", "-3", "1.5", "01", "3.0", "2e1", "-0", "0", "7", "007"]
    for i in range(60):
        vals = [rnd.choice(words) for _ in range(rnd.randint(0, 15))]
        key = "m%d" % i
        if vals:
            r.rpush(key, *vals)
        num = sorted(vals, key=lambda v: (float(v), v.encode()))
        assert sort(r, key) == num
        assert sort(r, key, "DESC") == num[::-1]
        assert sort(r, key, "ALPHA") == sorted(vals, key=str.encode)
        start, count = rnd.randint(-2, 16), rnd.randint(-2, 16)
        want = num[max(start, 0):][:count] if count >= 0 else num[max(start, 0):]
        assert sort(r, key, "LIMIT", start, count) == want


# ------------------------------------------------------------------------- STORE

def test_store_replaces_any_type_and_its_ttl(r):
    r.rpush("l", 2, 1)
    r.set("dst", "old")
    r.expire("dst", 100)
    assert sort(r, "l", "STORE", "dst") == 2
    assert r.type("dst") == "list"
    assert r.ttl("dst") == -1
    assert lrange(r, "dst") == ["1", "2"]
    r.sadd("dst2", "m")
    assert sort(r, "l", "DESC", "STORE", "dst2") == 2
    assert lrange(r, "dst2") == ["2", "1"]


def test_empty_result_deletes_destination(r):
    r.rpush("dst", "x")
    assert sort(r, "nosuch", "STORE", "dst") == 0
    assert r.exists("dst") == 0
    r.rpush("l", 1, 2)
    r.set("dst", "v")
    assert sort(r, "l", "LIMIT", 5, 5, "STORE", "dst") == 0
    assert r.exists("dst") == 0
    assert sort(r, "l", "LIMIT", 0, 0, "STORE", "missing") == 0
    assert r.exists("missing") == 0


def test_store_onto_the_source_and_last_store_wins(r):
    r.rpush("l", 3, 1, 2)
    assert sort(r, "l", "STORE", "l") == 3
    assert lrange(r, "l") == ["1", "2", "3"]
    assert sort(r, "l", "STORE", "first", "DESC", "STORE", "second") == 3
    assert r.exists("first") == 0
    assert lrange(r, "second") == ["3", "2", "1"]


def test_store_across_shards(r):
    """Destinations without a tag in common with the source: other shards, usually."""
    r.rpush("src", *range(20))
    r.sadd("srcset", *range(20))
    for i in range(12):
        dst = "dst:%d" % i
        assert sort(r, "src", "DESC", "LIMIT", i, 5, "STORE", dst) == 5
        assert lrange(r, dst) == [str(v) for v in range(19 - i, 14 - i, -1)]
        assert sort(r, "srcset", "STORE", dst) == 20
        assert lrange(r, dst) == [str(v) for v in range(20)]


def test_store_across_shards_with_several_threads():
    """The same with a server of 4 threads whatever DF_TEST_THREADS says (redis: 1)."""
    s = Server(threads=4)
    try:
        c = s.client()
        c.rpush("{x}src", 5, 3, 9)
        c.mset({"{x}w_5": 1, "{x}w_3": 2, "{x}w_9": 0})
        for i in range(16):
            assert c.execute_command("SORT", "{x}src", "BY", "{x}w_*", "GET", "#", "GET",
                                     "{x}w_*", "STORE", "d%d" % i) == 6
            assert lrange(c, "d%d" % i) == ["9", "0", "5", "1", "3", "2"]
        c.close()
    finally:
        s.stop()


def test_store_in_multi(r):
    r.rpush("a", 2, 1)
    p = r.pipeline(transaction=True)
    p.execute_command("SORT", "a", "STORE", "b")
    p.execute_command("SORT", "b", "DESC", "STORE", "c")
    p.execute_command("LRANGE", "c", 0, -1)
    assert p.execute() == [2, 2, ["2", "1"]]


def test_store_wakes_a_blocked_pop(server, r):
    r.rpush("l", "b", "a")
    waiter = server.client()
    import threading
    waiter.response_callbacks.clear()
    got = []
    t = threading.Thread(target=lambda: got.append(waiter.execute_command("BLPOP", "target", 10)))
    t.start()
    from helpers import wait_blocked
    wait_blocked(r, 1)
    assert sort(r, "l", "ALPHA", "STORE", "target") == 2
    t.join(15)
    assert got == [["target", "a"]]
    assert lrange(r, "target") == ["b"]
    waiter.close()


def test_sort_ro_is_read_only(r):
    r.rpush("l", 2, 1)
    assert r.execute_command("SORT_RO", "l", "LIMIT", 0, 1) == ["1"]
    info = r.execute_command("COMMAND", "INFO", "sort_ro")[0]
    assert info[1] == -2 and "readonly" in info[2] and "movablekeys" in info[2]
    info = r.execute_command("COMMAND", "INFO", "sort")[0]
    assert info[1] == -2 and "write" in info[2] and "movablekeys" in info[2]
    assert info[3:6] == [1, 1, 1]


def test_command_getkeys(r):
    gk = lambda *a: r.execute_command("COMMAND", "GETKEYS", "SORT", *a)  # noqa: E731
    assert gk("k") == ["k"]
    assert gk("k", "STORE", "d") == ["k", "d"]
    assert gk("k", "STORE", "d1", "ALPHA", "STORE", "d2") == ["k", "d2"]
    assert gk("k", "LIMIT", 0, 1, "GET", "store", "BY", "store", "STORE", "x") == ["k", "x"]
    assert gk("k", "LIMIT", "STORE", "x") == ["k"]
    assert r.execute_command("COMMAND", "GETKEYS", "SORT_RO", "k", "ALPHA") == ["k"]


def test_binary_values(rb):
    rb.rpush("{b}l", b"\x00b", b"\xff", b"a\x00", b"a")
    # stored: bytes; replied: C strings as strcoll sees them (a\0 == a, kept in list order)
    assert rb.execute_command("SORT", "{b}l", "ALPHA", "STORE", "{b}o") == 4
    assert rb.execute_command("LRANGE", "{b}o", 0, -1) == [b"\x00b", b"a", b"a\x00", b"\xff"]
    assert rb.execute_command("SORT", "{b}l", "ALPHA") == [b"\x00b", b"a\x00", b"a", b"\xff"]
    rb.set(b"{b}w_\xff", 1)
    assert rb.execute_command("SORT", "{b}l", "ALPHA", "GET", "{b}w_*", "LIMIT", 3, 1) == [b"1"]


# ------------------------------------------------------------------------- cluster rule

@only_dragonfly
def test_patterns_must_share_the_source_tag(r):
    r.rpush("{t}l", 2, 1)
    r.rpush("plain", 2, 1)
    assert err(r, "SORT", "plain", "BY", "w_*") == DENIED_BY
    assert err(r, "SORT", "plain", "GET", "d_*") == DENIED_GET
    assert err(r, "SORT", "{t}l", "BY", "w_*") == DENIED_BY
    assert err(r, "SORT", "{t}l", "BY", "{u}w_*") == DENIED_BY
    assert err(r, "SORT", "{t}l", "BY", "{}w_*") == DENIED_BY, "an empty tag is no tag"
    assert err(r, "SORT", "{t}l", "BY", "{t*}") == DENIED_BY, "the '*' is inside the tag"
    assert err(r, "SORT", "{t}l", "BY", "w_*{t}") == DENIED_BY, "the tag comes after '*'"
    assert err(r, "SORT", "{t}l", "GET", "#", "GET", "{u}d_*") == DENIED_GET
    assert err(r, "SORT_RO", "{t}l", "GET", "d_*->f") == DENIED_GET
    assert err(r, "SORT", "{t}l", "GET", "x_*", "STORE", "dst") == DENIED_GET
    assert r.exists("dst") == 0
    # the first bad option is the one reported
    assert err(r, "SORT", "{t}l", "FOO", "BY", "w_*") == "syntax error"
    assert err(r, "SORT", "{t}l", "BY", "w_*", "FOO") == DENIED_BY
    assert err(r, "SORT", "{t}l", "GET", "w_*", "BY", "w_*") == DENIED_GET


def test_patterns_that_make_no_keys_or_local_keys_are_allowed(r):
    r.rpush("plain", 2, 1)
    assert sort(r, "plain", "BY", "nosort") == ["2", "1"]
    assert sort(r, "plain", "GET", "#") == ["1", "2"]
    assert sort(r, "plain", "GET", "nostar") == [None, None]
    r.rpush("{t}l", 2, 1)
    r.mset({"{t}w_1": 5, "x{t}y_2": 9})
    assert sort(r, "{t}l", "BY", "{t}w_*", "GET", "x{t}y_*") == ["9", None]
    assert sort(r, "{t}l", "BY", "{t}w_*", "GET", "#", "GET", "{t}w_*") == ["2", None, "1", "5"]
    assert sort(r, "{t}l", "BY", "pre{t}{u}*") == ["1", "2"]
