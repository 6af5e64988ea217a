"""
Differences found by a differential sweep of the data-type commands (strings, lists, hashes,
sets, sorted sets) against redis-server 7.0; every expectation here is Redis's (run with
DF_TEST_SERVER=redis to check): a -0 score is stored as 0 in a "listpack" sorted set but kept
in a "skiplist" one and in the replies that print a computed score, SORT converts the sorted
set it reads to "skiplist", and ZSCAN's cursor and MATCH parsing.
"""
import pytest

from resp import Error

LONG = "m" * 65  # longer than zset-max-listpack-value: the set is a "skiplist"
KEYS = [f"dt:{i}" for i in range(6)]  # spread over shards when the server has several threads


# ---------------------------------------------------------------- -0 scores

def test_zadd_negative_zero_in_listpack_is_stored_as_zero(raw):
    k = KEYS[0]
    assert raw.cmd("ZADD", k, "-0", "a") == 1
    assert raw.cmd("ZSCORE", k, "a") == b"0"
    assert raw.cmd("ZRANGE", k, "0", "-1", "WITHSCORES") == [b"a", b"0"]
    assert raw.cmd("OBJECT", "ENCODING", k) == b"listpack"


def test_zadd_negative_zero_update_in_listpack(raw):
    k = KEYS[0]
    raw.cmd("ZADD", k, "1", "a")
    assert raw.cmd("ZADD", k, "CH", "-0", "a") == 1
    assert raw.cmd("ZSCORE", k, "a") == b"0"


def test_zincrby_new_member_replies_negative_zero_but_stores_zero(raw):
    # The reply prints the computed score; the listpack holds its text "0".
    k = KEYS[1]
    assert raw.cmd("ZINCRBY", k, "-0", "a") == b"-0"
    assert raw.cmd("ZADD", k, "INCR", "-0", "b") == b"-0"
    assert raw.cmd("ZSCORE", k, "a") == b"0"
    assert raw.cmd("ZSCORE", k, "b") == b"0"


def test_negative_zero_kept_in_skiplist(raw):
    k = KEYS[2]
    assert raw.cmd("ZADD", k, "-0", LONG, "1", "x") == 2
    assert raw.cmd("OBJECT", "ENCODING", k) == b"skiplist"
    assert raw.cmd("ZSCORE", k, LONG) == b"-0"
    assert raw.cmd("ZADD", k, "-0", "y") == 1
    assert raw.cmd("ZSCORE", k, "y") == b"-0"


def test_negative_zero_lost_when_stored_into_listpack(raw):
    # Source a skiplist holding -0; ZRANGESTORE of a short member makes a listpack: "0".
    src, dst = KEYS[2], KEYS[3]
    raw.cmd("ZADD", src, "-0", LONG, "-0", "short")
    assert raw.cmd("ZSCORE", src, "short") == b"-0"
    assert raw.cmd("ZRANGEBYSCORE", src, "0", "0") == [LONG.encode(), b"short"]
    assert raw.cmd("ZRANGESTORE", dst, src, "1", "1") == 1
    assert raw.cmd("OBJECT", "ENCODING", dst) == b"listpack"
    assert raw.cmd("ZSCORE", dst, "short") == b"0"
    # ... and a skiplist result keeps it.
    assert raw.cmd("ZRANGESTORE", dst, src, "0", "-1") == 2
    assert raw.cmd("OBJECT", "ENCODING", dst) == b"skiplist"
    assert raw.cmd("ZSCORE", dst, "short") == b"-0"


def test_zunion_reply_keeps_negative_zero_store_does_not(raw):
    src, dst = KEYS[0], KEYS[4]
    raw.cmd("ZADD", src, "0", "a", "1", "b")
    assert raw.cmd("ZUNION", "1", src, "WEIGHTS", "-1", "WITHSCORES") == [b"b", b"-1", b"a", b"-0"]
    assert raw.cmd("ZINTER", "1", src, "WEIGHTS", "-1", "WITHSCORES") == [b"b", b"-1", b"a", b"-0"]
    assert raw.cmd("ZUNIONSTORE", dst, "1", src, "WEIGHTS", "-1") == 2
    assert raw.cmd("ZRANGE", dst, "0", "-1", "WITHSCORES") == [b"b", b"-1", b"a", b"0"]
    assert raw.cmd("ZINTERSTORE", dst, "1", src, "WEIGHTS", "-1") == 2
    assert raw.cmd("ZSCORE", dst, "a") == b"0"


def test_zunion_negative_zero_resp3_double(raw):
    raw.cmd("ZADD", KEYS[0], "0", "a")
    raw.cmd("HELLO", "3")
    try:
        reply = raw.cmd("ZUNION", "1", KEYS[0], "WEIGHTS", "-1", "WITHSCORES")
        assert reply == [[b"a", 0.0]]
        assert str(reply[0][1]) == "-0.0"
    finally:
        raw.cmd("HELLO", "2")


# ---------------------------------------------------------------- SORT converts zsets

@pytest.mark.parametrize("args", [("SORT",), ("SORT", "BY", "nosort"), ("SORT_RO", "ALPHA"),
                                  ("SORT", "DESC", "LIMIT", "0", "1")])
def test_sort_converts_zset_to_skiplist(raw, args):
    k = KEYS[1]
    raw.cmd("ZADD", k, "1", "10", "2", "20")
    assert raw.cmd("OBJECT", "ENCODING", k) == b"listpack"
    assert isinstance(raw.cmd(args[0], k, *args[1:]), list)
    assert raw.cmd("OBJECT", "ENCODING", k) == b"skiplist"
    # From now on it is a skiplist: a -0 score is kept.
    raw.cmd("ZADD", k, "-0", "z")
    assert raw.cmd("ZSCORE", k, "z") == b"-0"


def test_sort_with_syntax_error_leaves_zset_encoding(raw):
    k = KEYS[1]
    raw.cmd("ZADD", k, "1", "10")
    assert raw.cmd("SORT", k, "LIMIT", "x") == Error("ERR syntax error")
    assert raw.cmd("OBJECT", "ENCODING", k) == b"listpack"


def test_sort_store_of_zset_converts_source(raw):
    k, dst = KEYS[1], KEYS[5]
    raw.cmd("ZADD", k, "1", "b", "2", "a")
    assert raw.cmd("SORT", k, "ALPHA", "STORE", dst) == 2
    assert raw.cmd("LRANGE", dst, "0", "-1") == [b"a", b"b"]
    assert raw.cmd("OBJECT", "ENCODING", k) == b"skiplist"


# ---------------------------------------------------------------- ZSCAN cursor and MATCH

@pytest.mark.parametrize("cursor", ["", "000000000000000000000000", "-0", "+0"])
def test_zscan_cursor_zero_spellings(raw, cursor):
    raw.cmd("ZADD", KEYS[0], "1", "a")
    assert raw.cmd("ZSCAN", KEYS[0], cursor) == [b"0", [b"a", b"1"]]
    raw.cmd("HSET", KEYS[1], "a", "1")
    assert raw.cmd("HSCAN", KEYS[1], cursor) == [b"0", [b"a", b"1"]]


@pytest.mark.parametrize("cursor", ["+", "-", " 0", "0 ", "18446744073709551616", "0x0"])
def test_zscan_invalid_cursor(raw, cursor):
    raw.cmd("ZADD", KEYS[0], "1", "a")
    assert raw.cmd("ZSCAN", KEYS[0], cursor) == Error("ERR invalid cursor")


@pytest.mark.parametrize("pattern,hit", [("[a", True), ("[^b", True), ("[a-", True),
                                         ("*[a", True), ("[ab", True), ("[b", False),
                                         ("a[", False), ("[]", False), ("[a]", True)])
def test_zscan_match_unterminated_class(raw, pattern, hit):
    # Redis closes a "[" class left open at the end of the pattern.
    raw.cmd("ZADD", KEYS[0], "1", "a")
    want = [b"a", b"1"] if hit else []
    assert raw.cmd("ZSCAN", KEYS[0], "0", "MATCH", pattern) == [b"0", want]
    raw.cmd("HSET", KEYS[1], "a", "1")
    assert raw.cmd("HSCAN", KEYS[1], "0", "MATCH", pattern) == [b"0", want]


def test_zscan_match_open_class_on_skiplist(raw):
    k = KEYS[2]
    members = [f"a{i}" for i in range(200)] + [f"b{i}" for i in range(200)]
    for i in range(0, len(members), 100):
        raw.cmd("ZADD", k, *[x for m in members[i:i + 100] for x in ("1", m)])
    assert raw.cmd("OBJECT", "ENCODING", k) == b"skiplist"
    seen, cursor = set(), b"0"
    while True:
        cursor, items = raw.cmd("ZSCAN", k, cursor, "MATCH", "b1[0", "COUNT", "50")
        seen.update(items[0::2])
        if cursor == b"0":
            break
    assert seen == {b"b10"}


# ---------------------------------------------------------------- LPOS RANK LLONG_MIN

def test_lpos_rank_llong_min_is_every_match_from_the_tail(raw):
    # Redis negates the rank into itself: every match from the tail counts, COUNT never stops.
    k, rmin = KEYS[0], "-9223372036854775808"
    raw.cmd("RPUSH", k, "b", "a", "b", "b")
    assert raw.cmd("LPOS", k, "b", "RANK", rmin) == 3
    assert raw.cmd("LPOS", k, "b", "RANK", rmin, "COUNT", "2") == [3, 2, 0]
    assert raw.cmd("LPOS", k, "b", "COUNT", "1", "RANK", rmin) == [3, 2, 0]
    assert raw.cmd("LPOS", k, "b", "RANK", rmin, "COUNT", "0", "MAXLEN", "2") == [3, 2]
    assert raw.cmd("LPOS", k, "x", "RANK", rmin, "COUNT", "1") == []
    assert raw.cmd("LPOS", k, "b", "RANK", "-9223372036854775807") is None
    assert raw.cmd("LPOS", k, "b", "RANK", "-9223372036854775809") == Error(
        "ERR value is not an integer or out of range")


@pytest.mark.parametrize("cursor,ok", [(b"1\x00", True), (b"\x00x", True), (b"0\x00zz", True),
                                       (b"+\x00", False), (b"-\x001", False), (b" \x00", False)])
def test_scan_family_cursor_ends_at_nul(raw, cursor, ok):
    # Redis reads the cursor with strtoul: a NUL byte ends it.
    raw.cmd("ZADD", KEYS[0], "1", "a")
    raw.cmd("HSET", KEYS[1], "a", "1")
    raw.cmd("SADD", KEYS[2], "a")
    for cmd, key, want in (("ZSCAN", KEYS[0], [b"a", b"1"]), ("HSCAN", KEYS[1], [b"a", b"1"]),
                           ("SSCAN", KEYS[2], [b"a"])):
        reply = raw.cmd(cmd, key, cursor)
        if ok:
            assert reply[0] == b"0" and (reply[1] == want or cursor == b"1\x00")
        else:
            assert reply == Error("ERR invalid cursor")
