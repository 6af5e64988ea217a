"""DUMP/RESTORE of lists, interoperating with real Redis 7.0: a list DUMPed by our server
RESTOREs into redis-server with the same elements, and a list DUMPed by redis-server RESTOREs
into ours (and back). Covers the listpack encodings (7/13/16/24/32/64-bit integers, 6/12/32-bit
string lengths), node splitting of long lists, payloads in the older list formats (plain LIST,
LIST_ZIPLIST, ziplist QUICKLIST) and PLAIN quicklist nodes built here, and corrupted payloads,
which must be refused with "Bad data format" and never crash the server.

The reference redis-server runs with sanitize-dump-payload yes, so it deep-checks what we
write and every corruption listed here is proven to be refused by Redis too.

Needs both servers, so it is skipped when the suite itself runs against Redis."""
import os
import random
import re

import pytest
import redis

from conftest import SERVER_KIND, Server

pytestmark = pytest.mark.skipif(SERVER_KIND == "redis",
                                reason="interop test: needs our server and redis-server")

BAD = "Bad data format"


# ---------------------------------------------------------------------------- payload helpers

def _crc64_table():
    poly = 0x95AC9329AC4BC9B5  # CRC-64/Jones, reflected
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc64_table()


def crc64(data):
    crc = 0
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def seal(body):
    """A DUMP payload: body + RDB version 10 + CRC-64 of both, little endian."""
    body = bytes(body) + b"\x0a\x00"
    return body + crc64(body).to_bytes(8, "little")


def body_of(payload):
    return payload[:-10]


def rdb_len(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | n >> 8, n & 0xFF])
    if n <= 0xFFFFFFFF:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + n.to_bytes(8, "big")


def rdb_str(b):
    return rdb_len(len(b)) + b


def as_int(v):
    """The int64 a listpack/ziplist stores v as, or None (canonical decimal only)."""
    if len(v) <= 20 and re.fullmatch(rb"0|-?[1-9][0-9]*", v):
        n = int(v)
        if -(1 << 63) <= n < (1 << 63):
            return n
    return None


def lp_backlen(n):
    size = 1 if n <= 127 else 2 if n < 16383 else 3 if n < 2097151 else 4 if n < 268435455 else 5
    out = [(n >> (7 * i)) & 127 | (128 if i < size - 1 else 0) for i in range(size)]
    return bytes(reversed(out))


def lp_entry(v):
    n = as_int(v)
    if n is not None:
        if 0 <= n <= 127:
            enc = bytes([n])
        elif -4096 <= n <= 4095:
            u = n & 0x1FFF
            enc = bytes([0xC0 | u >> 8, u & 0xFF])
        else:
            for tag, width in ((0xF1, 2), (0xF2, 3), (0xF3, 4), (0xF4, 8)):
                if -(1 << (8 * width - 1)) <= n < (1 << (8 * width - 1)):
                    break
            enc = bytes([tag]) + (n & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
    elif len(v) < 64:
        enc = bytes([0x80 | len(v)]) + v
    elif len(v) < 4096:
        enc = bytes([0xE0 | len(v) >> 8, len(v) & 0xFF]) + v
    else:
        enc = b"\xF0" + len(v).to_bytes(4, "little") + v
    return enc + lp_backlen(len(enc))


def listpack(entries, count=None):
    """A listpack of already encoded entries (count defaults to how many there are)."""
    body = b"".join(entries)
    count = len(entries) if count is None else count
    return (len(body) + 7).to_bytes(4, "little") + count.to_bytes(2, "little") + body + b"\xff"


def lp(values):
    return listpack([lp_entry(v) for v in values])


def zl_entry_enc(v):
    n = as_int(v)
    if n is not None:
        if 0 <= n <= 12:
            return bytes([0xF1 + n])
        for tag, width in ((0xFE, 1), (0xC0, 2), (0xF0, 3), (0xD0, 4), (0xE0, 8)):
            if -(1 << (8 * width - 1)) <= n < (1 << (8 * width - 1)):
                return bytes([tag]) + (n & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
    if len(v) < 64:
        return bytes([len(v)]) + v
    if len(v) < 16384:
        return bytes([0x40 | len(v) >> 8, len(v) & 0xFF]) + v
    return b"\x80" + len(v).to_bytes(4, "big") + v


def ziplist(values, tail_delta=0, count=None, prevlen_delta=0):
    """A ziplist of values; the deltas corrupt the tail offset or the last prevlen."""
    body, prev, last = b"", 0, 10
    for i, v in enumerate(values):
        p = prev + (prevlen_delta if i == len(values) - 1 and i > 0 else 0)
        pl = bytes([p]) if p < 254 else b"\xfe" + p.to_bytes(4, "little")
        entry = pl + zl_entry_enc(v)
        last = 10 + len(body)
        body += entry
        prev = len(entry)
    count = len(values) if count is None else count
    return ((len(body) + 11).to_bytes(4, "little") + (last + tail_delta).to_bytes(4, "little")
            + count.to_bytes(2, "little") + body + b"\xff")


def quicklist2(nodes):
    """RDB_TYPE_LIST_QUICKLIST_2 body from (container, node bytes) pairs."""
    return (bytes([18]) + rdb_len(len(nodes))
            + b"".join(rdb_len(c) + rdb_str(blob) for c, blob in nodes))


def packed(values_list):
    return quicklist2([(2, lp(vs)) for vs in values_list])


def lzf_decode(data, size):
    out = bytearray()
    i = 0
    while i < len(data):
        c = data[i]
        i += 1
        if c < 32:
            out += data[i:i + c + 1]
            i += c + 1
            continue
        n = c >> 5
        if n == 7:
            n += data[i]
            i += 1
        back = ((c & 0x1F) << 8 | data[i]) + 1
        i += 1
        for _ in range(n + 2):
            out.append(out[-back])
    assert len(out) == size
    return bytes(out)


class Reader:
    """Reads the RDB encodings of a payload body (enough to look at list nodes)."""

    def __init__(self, b):
        self.b, self.i = b, 0

    def byte(self):
        self.i += 1
        return self.b[self.i - 1]

    def length(self):
        b = self.byte()
        kind = b >> 6
        if kind == 0:
            return b & 0x3F, False
        if kind == 1:
            return (b & 0x3F) << 8 | self.byte(), False
        if kind == 3:
            return b & 0x3F, True
        width = 4 if b == 0x80 else 8
        self.i += width
        return int.from_bytes(self.b[self.i - width:self.i], "big"), False

    def string(self):
        n, enc = self.length()
        if not enc:
            self.i += n
            return self.b[self.i - n:self.i]
        assert n == 3, "only LZF is expected for a node"
        clen, _ = self.length()
        ulen, _ = self.length()
        self.i += clen
        return lzf_decode(self.b[self.i - clen:self.i], ulen)


def lp_count(blob):
    assert int.from_bytes(blob[:4], "little") == len(blob) and blob[-1] == 0xFF
    return int.from_bytes(blob[4:6], "little")


# ---------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def redis_server():
    if not os.path.exists(os.environ.get("REDIS_BIN", "/usr/bin/redis-server")):
        pytest.skip("redis-server not installed")
    s = Server(kind="redis", args=["--sanitize-dump-payload", "yes"])
    yield s
    s.stop()


@pytest.fixture
def ours(server):
    c = server.client(decode_responses=False)
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def theirs(redis_server):
    c = redis_server.client(decode_responses=False)
    c.flushall()
    yield c
    c.close()


def restore_error(client, payload, key="k"):
    with pytest.raises(redis.ResponseError) as e:
        client.restore(key, 0, payload, replace=True)
    return str(e.value)


def lrange(client, key):
    return client.lrange(key, 0, -1)


# ---------------------------------------------------------------------------- lists both ways

_rng = random.Random(11)
INTS = [b"%d" % n for n in (
    -1, -64, -4096, 4095, -4097, 4096, 32767, -32768, 32768, -32769, 8388607, -8388608,
    8388608, -8388609, 2147483647, -2147483648, 2147483648, -2147483649,
    9223372036854775807, -9223372036854775808)]
NOT_INTS = [b"007", b"+1", b"-0", b"1.5", b" 1", b"1 ", b"9223372036854775808",
            b"-9223372036854775809", b"0x10", b"-"]
LISTS = {
    "small_ints": [b"%d" % i for i in range(128)],
    "ints": INTS + NOT_INTS,
    "binary": [b"", b"\x00", b"\xff", b"\xff" * 9, bytes(range(256))],
    "many": [b"%d" % i if i % 3 else b"e%d" % i for i in range(10000)],
    "mixed_many": [_rng.choice([b"%d" % _rng.randrange(-10**12, 10**12), b"x" * _rng.randrange(200),
                                b"y" * _rng.randrange(5000)]) for _ in range(2000)],
}
for _n in (0, 1, 63, 64, 4095, 4096, 70000):
    LISTS[f"str_{_n}"] = [b"a", b"s" * _n, b"z"]
    LISTS[f"rnd_{_n}"] = [bytes(_rng.getrandbits(8) for _ in range(_n)), b"1"]
LISTS["big_run"] = [b"b" * 70000, b"c" * 70000, b"-5"]


@pytest.mark.parametrize("name", sorted(LISTS))
def test_ours_to_redis(ours, theirs, name):
    values = LISTS[name]
    ours.rpush("l", *values)
    payload = ours.dump("l")
    assert payload[0] == 18  # RDB_TYPE_LIST_QUICKLIST_2
    assert theirs.restore("l", 0, payload)
    assert lrange(theirs, "l") == values


@pytest.mark.parametrize("name", sorted(LISTS))
def test_redis_to_ours(ours, theirs, name):
    values = LISTS[name]
    theirs.rpush("l", *values)
    assert ours.restore("l", 0, theirs.dump("l"))
    assert lrange(ours, "l") == values
    assert ours.type("l") == b"list"
    # and back again: what we re-DUMP, Redis still reads
    assert theirs.restore("back", 0, ours.dump("l"))
    assert lrange(theirs, "back") == values


def test_restore_on_ours_roundtrip_keeps_working(ours):
    ours.rpush("l", *LISTS["many"])
    assert ours.restore("l2", 0, ours.dump("l"))
    assert ours.lpush("l2", b"head") == 10001
    assert ours.rpop("l2") == b"e9999"
    assert ours.lindex("l2", 5000) == b"4999"
    assert ours.llen("l2") == 10000


def test_small_lists_byte_identical(ours, theirs):
    """Single small listpacks (not LZF compressed by Redis) come out exactly as Redis's."""
    for values in ([b"1", b"2", b"3"], [b"-1", b"a"], [b"abc", b""], [b"4095", b"-4096"],
                   [b"32768"], [b"8388608"], [b"2147483648"], [b"007"]):
        ours.delete("l")
        theirs.delete("l")
        ours.rpush("l", *values)
        theirs.rpush("l", *values)
        assert ours.dump("l") == theirs.dump("l"), values


def test_long_list_is_split_in_listpack_nodes(ours, theirs):
    values = LISTS["many"]
    ours.rpush("l", *values)
    r = Reader(body_of(ours.dump("l")))
    assert r.byte() == 18
    nodes, _ = r.length()
    assert nodes > 1
    total = 0
    for _ in range(nodes):
        assert r.length() == (2, False)  # PACKED
        blob = r.string()
        assert len(blob) <= 8192
        total += lp_count(blob)
    assert total == len(values)
    assert r.i == len(r.b)


# ---------------------------------------------------------------------------- other formats

VALUES = [b"0", b"12", b"13", b"-1", b"127", b"-128", b"128", b"-32768", b"32768", b"8388607",
          b"-8388609", b"2147483648", b"-9223372036854775808", b"", b"x" * 63, b"y" * 64,
          b"z" * 300, b"w" * 16384, b"007"]

HANDMADE = {
    "list": (bytes([1]) + rdb_len(len(VALUES)) + b"".join(rdb_str(v) for v in VALUES), VALUES),
    "list_int_encoded": (bytes([1, 3]) + b"\xc0\x7f" + b"\xc1\x00\x80" + b"\xc2\xff\xff\xff\x7f",
                         [b"127", b"-32768", b"2147483647"]),
    "ziplist": (bytes([10]) + rdb_str(ziplist(VALUES)), VALUES),
    "quicklist_ziplists": (bytes([14, 2]) + rdb_str(ziplist(VALUES[:5]))
                           + rdb_str(ziplist(VALUES[5:])), VALUES),
    "plain_nodes": (quicklist2([(2, lp([b"a", b"1"])), (1, b"big" * 100), (1, b"7"),
                                (2, lp([b"z"]))]),
                    [b"a", b"1", b"big" * 100, b"7", b"z"]),
    "lp_unknown_count": (quicklist2([(2, listpack([lp_entry(b"a"), lp_entry(b"2")], 65535))]),
                         [b"a", b"2"]),
    "lp_empty_node_skipped": (quicklist2([(2, lp([])), (2, lp([b"q"]))]), [b"q"]),
    "lp_wide_encodings": (quicklist2([(2, listpack([
        b"\xf4" + (5).to_bytes(8, "little") + b"\x09",        # 5 as a 64-bit integer
        b"\xe0\x03abc" + b"\x05",                              # "abc" with a 12-bit length
        b"\xf0" + (2).to_bytes(4, "little") + b"hi\x07",       # "hi" with a 32-bit length
        b"\xdf\xff\x02",                                       # -1 as a 13-bit integer
    ]))]), [b"5", b"abc", b"hi", b"-1"]),
}


@pytest.mark.parametrize("name", sorted(HANDMADE))
def test_restore_other_formats(ours, theirs, name):
    body, values = HANDMADE[name]
    payload = seal(body)
    assert theirs.restore("l", 0, payload)  # the payload is valid for Redis
    assert lrange(theirs, "l") == values
    assert ours.restore("l", 0, payload)
    assert lrange(ours, "l") == values
    back = ours.dump("l")
    assert back[0] == 18
    assert theirs.restore("back", 0, back)
    assert lrange(theirs, "back") == values


# ---------------------------------------------------------------------------- bad payloads

def _lp_two():
    return [lp_entry(b"a"), lp_entry(b"bb")]


GOOD_LP = listpack(_lp_two())
CORRUPT = {
    "lp_total_too_big": quicklist2([(2, (len(GOOD_LP) + 1).to_bytes(4, "little") + GOOD_LP[4:])]),
    "lp_total_too_small": quicklist2([(2, (len(GOOD_LP) - 1).to_bytes(4, "little") + GOOD_LP[4:])]),
    "lp_count_wrong": quicklist2([(2, listpack(_lp_two(), 3))]),
    "lp_no_terminator": quicklist2([(2, GOOD_LP[:-1] + b"\xfe")]),
    "lp_early_terminator": quicklist2([(2, listpack([lp_entry(b"a"), b"\xff\x01"], 2))]),
    "lp_bad_backlen": quicklist2([(2, listpack([b"\x81a\x03"]))]),
    "lp_string_overruns": quicklist2([(2, listpack([b"\xbfabc\x40"]))]),
    "lp_huge_string": quicklist2([(2, listpack([b"\xf0\xff\xff\xff\xffab\x01"]))]),
    "lp_bad_encoding": quicklist2([(2, listpack([b"\xf5\x01"]))]),
    "lp_truncated_int": quicklist2([(2, listpack([b"\xf4\x01\x02"]))]),
    "lp_too_short": quicklist2([(2, b"\x05\x00\x00\x00\x00")]),
    "lp_all_empty": quicklist2([(2, lp([])), (2, lp([]))]),
    "q2_no_nodes": quicklist2([]),
    "q2_container_0": quicklist2([(0, GOOD_LP)]),
    "q2_container_3": quicklist2([(3, GOOD_LP)]),
    "q2_empty_node": quicklist2([(2, b"")]),
    "q2_empty_plain": quicklist2([(1, b"")]),
    "q2_missing_node": bytes([18, 3]) + b"\x02" + rdb_str(GOOD_LP),
    "q2_huge_count": bytes([18]) + rdb_len(1 << 40),
    "q2_node_overruns": bytes([18, 1, 2]) + rdb_len(500) + GOOD_LP,
    "list_empty": bytes([1, 0]),
    "list_short": bytes([1, 5]) + rdb_str(b"a") + rdb_str(b"b"),
    "zl_bad_prevlen": bytes([10]) + rdb_str(ziplist([b"a", b"b"], prevlen_delta=1)),
    "zl_bad_tail": bytes([10]) + rdb_str(ziplist([b"a", b"b"], tail_delta=1)),
    "zl_count_wrong": bytes([10]) + rdb_str(ziplist([b"a", b"b"], count=3)),
    "zl_bad_encoding": bytes([10]) + rdb_str(b"\x0d\x00\x00\x00\x0a\x00\x00\x00\x01\x00"
                                             b"\x00\x81\xff"),
    "zl_empty": bytes([10]) + rdb_str(ziplist([])),
    "ql_zl_bad_total": bytes([14, 1]) + rdb_str(b"\x00" + ziplist([b"a"])[1:]),
    "unknown_encoding_len": bytes([18, 0xC5]),
}


@pytest.mark.parametrize("name", sorted(CORRUPT))
def test_corrupt_payload_refused(ours, theirs, name):
    payload = seal(CORRUPT[name])
    assert restore_error(theirs, payload) == BAD  # Redis (sanitizing) refuses it too
    assert restore_error(ours, payload) == BAD
    assert ours.exists("k") == 0
    assert ours.ping()


def test_bad_checksum_refused(ours):
    ours.rpush("l", b"a", b"b")
    payload = bytearray(ours.dump("l"))
    payload[3] ^= 1
    assert restore_error(ours, bytes(payload)) == "DUMP payload version or checksum are wrong"


def _fuzz_sources(ours):
    ours.rpush("s1", *LISTS["ints"], *LISTS["binary"])
    ours.rpush("s2", *[b"%d" % i for i in range(3000)], b"q" * 5000)
    sources = [body_of(ours.dump("s1")), body_of(ours.dump("s2"))]
    sources += [HANDMADE[n][0] for n in ("ziplist", "quicklist_ziplists", "list", "plain_nodes")]
    return sources


def test_fuzzed_payloads_never_crash(ours):
    """Random byte flips and truncations (with a fixed-up CRC): either a list or the error."""
    rng = random.Random(1234)
    sources = _fuzz_sources(ours)
    accepted = refused = 0
    for i in range(600):
        body = bytearray(rng.choice(sources))
        if i % 5 == 4:
            body = body[:rng.randrange(1, len(body))]
        else:
            for _ in range(rng.randrange(1, 4)):
                body[rng.randrange(1, len(body))] = rng.randrange(256)
        try:
            ours.restore("f", 0, seal(body), replace=True)
            accepted += 1
            assert len(lrange(ours, "f")) == ours.llen("f") > 0
            assert ours.restore("f2", 0, ours.dump("f"), replace=True)
        except redis.ResponseError as e:
            assert str(e) == BAD
            refused += 1
    assert ours.ping()
    assert accepted > 0 and refused > 0
