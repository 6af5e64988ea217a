"""DUMP/RESTORE interoperability with real Redis (issue #4): a payload DUMPed by our server
RESTOREs into redis-server 7.0 with the same value, and a payload DUMPed by redis-server
RESTOREs into ours. Covers every string encoding Redis uses (int8/16/32, raw, LZF for
compressible strings over 20 bytes, incompressible long strings).

Needs both servers, so it is skipped when the suite itself runs against Redis."""
import os
import random

import pytest

from conftest import SERVER_KIND, Server

pytestmark = pytest.mark.skipif(SERVER_KIND == "redis",
                                reason="interop test: needs our server and redis-server")

_rng = random.Random(7)
VALUES = [
    b"", b"v", b"0", b"-1", b"127", b"-128", b"128", b"12345", b"-32768", b"32768",
    b"2147483647", b"-2147483648", b"2147483648", b"-2147483649", b"9223372036854775807",
    b"007", b"+1", b"1.5", b"hello world",
    b"a" * 20, b"a" * 21, b"x" * 100, b"hello world, " * 50,
    bytes(range(256)) * 40,
    bytes(_rng.getrandbits(8) for _ in range(5000)),
    b"ab" * 100_000,
]


@pytest.fixture(scope="module")
def redis_server():
    if not os.path.exists(os.environ.get("REDIS_BIN", "/usr/bin/redis-server")):
        pytest.skip("redis-server not installed")
    s = Server(kind="redis")
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


@pytest.mark.parametrize("i", range(len(VALUES)))
def test_ours_to_redis(ours, theirs, i):
    v = VALUES[i]
    ours.set("k", v)
    payload = ours.dump("k")
    assert theirs.restore("k", 0, payload)
    assert theirs.get("k") == v


@pytest.mark.parametrize("i", range(len(VALUES)))
def test_redis_to_ours(ours, theirs, i):
    v = VALUES[i]
    theirs.set("k", v)
    payload = theirs.dump("k")
    assert ours.restore("k", 0, payload)
    assert ours.get("k") == v
    # and back again: what we re-DUMP, Redis still reads
    assert theirs.restore("back", 0, ours.dump("k"))
    assert theirs.get("back") == v


def test_small_values_byte_identical(ours, theirs):
    """Integer and short raw strings are encoded exactly as Redis encodes them."""
    for v in VALUES:
        if len(v) > 20:
            continue
        ours.set("k", v)
        theirs.set("k", v)
        assert ours.dump("k") == theirs.dump("k"), v


def test_redis_payload_with_ttl_options(ours, theirs):
    theirs.set("k", "x" * 500)
    payload = theirs.dump("k")
    assert ours.restore("k", 10_000, payload)
    assert 9000 < ours.pttl("k") <= 10_000
    assert ours.restore("k", 0, payload, replace=True, idletime=100)
    assert ours.pttl("k") == -1
    assert ours.get("k") == b"x" * 500


def test_foreign_type_from_redis(ours, theirs):
    """A Redis list payload: restored when a module reads its RDB type, else refused cleanly."""
    theirs.rpush("l", *range(10))
    payload = theirs.dump("l")
    try:
        ours.restore("l", 0, payload)
    except Exception as e:  # no module reads the type in this build
        assert str(e) == "Bad data format"
        assert ours.exists("l") == 0
    else:
        assert ours.lrange("l", 0, -1) == [str(i).encode() for i in range(10)]


def _crc64(data):
    """CRC-64/Jones (reflected, init 0, no final xor), bit by bit."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x95AC9329AC4BC9B5 if crc & 1 else crc >> 1
    return crc


def _seal(body, version=10):
    body = body + version.to_bytes(2, "little")
    return body + _crc64(body).to_bytes(8, "little")


CRAFTED = [
    _seal(b"\x00\x01v"),                                  # fine
    _seal(b"\x00\x01v", version=9),                       # older version: fine
    _seal(b"\x00\x01v", version=11),                      # newer version: refused
    _seal(b"\x00\x05ab"),                                 # raw length past the end
    _seal(b"\x00\x81\x10\x00\x00\x00\x00\x00\x00\x00a"),  # 2^60 bytes claimed
    _seal(b"\x00\xc3\x03\x80\x40\x00\x00\x00\x00a\xe0"),  # LZF claiming 1 GB from 3 bytes
    _seal(b"\x00\xc3\x04\x04\x00a\x20\x05"),              # LZF reference before the start
    _seal(b"\x00\xc3\x09\x05\x00a"),                      # LZF data past the end
    _seal(b"\x00\xc4"),                                   # unknown string encoding
    _seal(b"\x00\xc2\x01\x02"),                           # truncated int32
    _seal(b"\x00\x82\x00"),                               # bad length form
    _seal(b"\xc8\x01v"),                                  # unknown RDB type
    _seal(b""),                                           # no type at all
    _seal(b"\x00\xc3\x05\x06\x04abcde"),                  # LZF decoding to 5, not 6
]


@pytest.mark.parametrize("i", range(len(CRAFTED)))
def test_crafted_payloads_same_answer(server, redis_server, i):
    """Hand-made payloads with a valid CRC: we answer exactly what Redis answers."""
    answers = []
    for s in (server, redis_server):
        raw = s.raw()
        raw.cmd("FLUSHALL")
        answers.append((raw.cmd("RESTORE", "k", "0", CRAFTED[i]), raw.cmd("GET", "k")))
        raw.close()
    assert answers[0] == answers[1]
