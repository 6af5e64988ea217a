"""
Integration tests for the bitmap commands of the strings module: SETBIT, GETBIT, BITCOUNT,
BITPOS, BITOP, BITFIELD and BITFIELD_RO, every option and error path. Differential: the same
expectations hold on redis-server 7.0 (DF_TEST_SERVER=redis).
"""
import pytest
import redis

from resp import Error
from helpers import WRONGTYPE, NOT_INT, SYNTAX

BAD_OFFSET = "bit offset is not an integer or out of range"
BAD_TYPE = "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported " \
           "but i64 is."


@pytest.fixture
def r(r):
    """The shared client without redis-py's reply callbacks."""
    r.response_callbacks.clear()
    return r


def err(r, *args):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


def bf(r, key, *args):
    return r.execute_command("BITFIELD", key, *args)


# ---------------------------------------------------------------------------- SETBIT / GETBIT

def test_setbit_getbit(rb):
    assert rb.setbit("k", 7, 1) == 0
    assert rb.get("k") == b"\x01"
    assert rb.setbit("k", 7, 0) == 1
    assert rb.setbit("k", 0, 1) == 0
    assert rb.get("k") == b"\x80"
    assert rb.getbit("k", 0) == 1
    assert rb.getbit("k", 1) == 0
    assert rb.getbit("k", 1000) == 0
    assert rb.getbit("missing", 3) == 0


def test_setbit_grows_with_zeros(rb):
    assert rb.setbit("k", 100, 1) == 0
    assert rb.strlen("k") == 13
    assert rb.get("k") == b"\x00" * 12 + b"\x08"


def test_setbit_on_existing_string_keeps_ttl(rb):
    rb.set("k", "a", ex=100)  # 0x61
    assert rb.setbit("k", 6, 1) == 0
    assert rb.get("k") == b"c"
    assert 0 < rb.ttl("k") <= 100


def test_setbit_on_int_value(r):
    r.set("k", "1")  # 0x31
    assert r.setbit("k", 7, 0) == 1
    assert r.get("k") == "0"


def test_setbit_errors(r):
    assert err(r, "SETBIT", "k", "-1", "1") == BAD_OFFSET
    assert err(r, "SETBIT", "k", "abc", "1") == BAD_OFFSET
    assert err(r, "SETBIT", "k", "4294967296", "1") == BAD_OFFSET
    assert err(r, "SETBIT", "k", "0", "2") == "bit is not an integer or out of range"
    assert err(r, "SETBIT", "k", "0", "-1") == "bit is not an integer or out of range"
    assert err(r, "SETBIT", "k", "0", "x") == "bit is not an integer or out of range"
    assert r.exists("k") == 0
    r.lpush("l", "x")
    assert err(r, "SETBIT", "l", "0", "1") == WRONGTYPE
    assert err(r, "SETBIT", "l", "0", "5") == "bit is not an integer or out of range"


def test_setbit_max_offset(r):
    assert r.setbit("k", 4294967295, 1) == 0
    assert r.strlen("k") == 536870912
    assert r.getbit("k", 4294967295) == 1
    r.delete("k")


def test_getbit_errors(r):
    assert err(r, "GETBIT", "k", "-1") == BAD_OFFSET
    assert err(r, "GETBIT", "k", "4294967296") == BAD_OFFSET
    r.lpush("l", "x")
    assert err(r, "GETBIT", "l", "0") == WRONGTYPE


# ---------------------------------------------------------------------------- BITCOUNT

def test_bitcount_basic(r):
    r.set("k", "foobar")
    assert r.bitcount("k") == 26
    assert r.bitcount("k", 0, 0) == 4
    assert r.bitcount("k", 1, 1) == 6
    assert r.bitcount("k", 1, -2) == 18
    assert r.bitcount("k", -100, 100) == 26
    assert r.bitcount("missing") == 0


def test_bitcount_bit_mode(r):
    r.set("k", "foobar")
    assert r.execute_command("BITCOUNT", "k", "5", "30", "BIT") == 17
    assert r.execute_command("BITCOUNT", "k", "5", "30", "bit") == 17
    assert r.execute_command("BITCOUNT", "k", "0", "0", "BIT") == 0
    assert r.execute_command("BITCOUNT", "k", "1", "1", "BIT") == 1
    assert r.execute_command("BITCOUNT", "k", "-5", "-1", "BIT") == 2
    assert r.execute_command("BITCOUNT", "k", "0", "-1", "BIT") == 26
    assert r.execute_command("BITCOUNT", "k", "1", "1", "BYTE") == 6


def test_bitcount_empty_ranges(r):
    r.set("k", "foobar")
    assert r.bitcount("k", 5, 1) == 0
    assert r.bitcount("k", -1, -2) == 0
    assert r.bitcount("k", -100, -200) == 0
    assert r.execute_command("BITCOUNT", "k", "-1", "-2", "FOO") == 0


def test_bitcount_large(rb):
    v = bytes(range(256)) * 50
    rb.set("k", v)
    assert rb.bitcount("k") == sum(bin(b).count("1") for b in v)
    assert rb.bitcount("k", 3, 1000) == sum(bin(b).count("1") for b in v[3:1001])
    got = rb.execute_command("BITCOUNT", "k", "13", "9001", "BIT")
    bits = "".join(f"{b:08b}" for b in v)
    assert got == bits[13:9002].count("1")


def test_bitcount_errors(r):
    r.set("k", "foobar")
    assert err(r, "BITCOUNT", "k", "0") == SYNTAX
    assert err(r, "BITCOUNT", "k", "0", "1", "BAD") == SYNTAX
    assert err(r, "BITCOUNT", "k", "0", "1", "BIT", "x") == SYNTAX
    assert err(r, "BITCOUNT", "k", "a", "1") == NOT_INT
    assert err(r, "BITCOUNT", "k", "0", "b", "BIT") == NOT_INT
    assert r.execute_command("BITCOUNT", "missing", "0") == 0
    r.lpush("l", "x")
    assert err(r, "BITCOUNT", "l") == WRONGTYPE
    assert err(r, "BITCOUNT", "l", "0", "1", "BAD") == WRONGTYPE


# ---------------------------------------------------------------------------- BITPOS

def test_bitpos_basic(rb):
    rb.set("k", b"\xff\xf0\x00")
    assert rb.bitpos("k", 0) == 12
    assert rb.bitpos("k", 1) == 0
    rb.set("k", b"\x00\xff\xf0")
    assert rb.bitpos("k", 1, 0) == 8
    assert rb.bitpos("k", 1, 2) == 16
    assert rb.bitpos("k", 1, 2, -1) == 16
    rb.set("z", b"\x00\x00\x00")
    assert rb.bitpos("z", 1) == -1


def test_bitpos_zero_past_end(rb):
    rb.set("k", b"\xff\xff\xff")
    assert rb.bitpos("k", 0) == 24
    assert rb.bitpos("k", 0, 1) == 24
    assert rb.bitpos("k", 0, 0, -1) == -1
    assert rb.bitpos("k", 0, 0, 1) == -1


def test_bitpos_bit_mode(rb):
    rb.set("k", b"\x00\xff\xf0")
    assert rb.execute_command("BITPOS", "k", "1", "7", "15", "BIT") == 8
    assert rb.execute_command("BITPOS", "k", "1", "9", "-1", "BIT") == 9
    assert rb.execute_command("BITPOS", "k", "0", "8", "-1", "BIT") == 20
    assert rb.execute_command("BITPOS", "k", "0", "8", "19", "BIT") == -1
    assert rb.execute_command("BITPOS", "k", "1", "2", "5", "BIT") == -1
    assert rb.execute_command("BITPOS", "k", "1", "-100", "-200", "BIT") == -1
    assert rb.execute_command("BITPOS", "k", "1", "0", "0", "BYTE") == -1
    assert rb.execute_command("BITPOS", "k", "1", "-100", "-200") == -1


def test_bitpos_long_runs(rb):
    rb.set("k", b"\x00" * 1000 + b"\x01" + b"\xff" * 1000)
    assert rb.bitpos("k", 1) == 8007
    assert rb.bitpos("k", 0, 1001) == 2001 * 8
    assert rb.execute_command("BITPOS", "k", "0", "8007", "-1", "BIT") == -1
    assert rb.execute_command("BITPOS", "k", "1", "3", "8006", "BIT") == -1
    assert rb.execute_command("BITPOS", "k", "1", "3", "8007", "BIT") == 8007


def test_bitpos_missing_and_empty(r):
    assert r.bitpos("missing", 1) == -1
    assert r.bitpos("missing", 0) == 0
    assert r.execute_command("BITPOS", "missing", "0", "0", "1", "FOO") == 0
    r.set("e", "")
    assert r.bitpos("e", 0) == -1
    assert r.bitpos("e", 1) == -1


def test_bitpos_errors(r):
    r.set("k", "foobar")
    assert err(r, "BITPOS", "k", "2") == "The bit argument must be 1 or 0."
    assert err(r, "BITPOS", "k", "x") == NOT_INT
    assert err(r, "BITPOS", "k", "1", "a") == NOT_INT
    assert err(r, "BITPOS", "k", "1", "0", "b") == NOT_INT
    assert err(r, "BITPOS", "k", "1", "0", "1", "FOO") == SYNTAX
    assert err(r, "BITPOS", "k", "1", "0", "b", "FOO") == SYNTAX
    assert err(r, "BITPOS", "k", "1", "0", "1", "BIT", "x") == SYNTAX
    r.lpush("l", "x")
    assert err(r, "BITPOS", "l", "1") == WRONGTYPE
    assert err(r, "BITPOS", "l", "3") == "The bit argument must be 1 or 0."


# ---------------------------------------------------------------------------- BITOP

def test_bitop_and_or_xor(rb):
    rb.set("a", b"\xff\x0f")
    rb.set("b", b"\x0f")
    assert rb.bitop("AND", "d", "a", "b") == 2
    assert rb.get("d") == b"\x0f\x00"
    assert rb.bitop("OR", "d", "a", "b") == 2
    assert rb.get("d") == b"\xff\x0f"
    assert rb.bitop("XOR", "d", "a", "b") == 2
    assert rb.get("d") == b"\xf0\x0f"


def test_bitop_not(rb):
    rb.set("a", b"\x0f\xf0")
    assert rb.bitop("NOT", "d", "a") == 2
    assert rb.get("d") == b"\xf0\x0f"


def test_bitop_missing_sources(rb):
    rb.set("a", b"\xff\xff")
    assert rb.bitop("AND", "d", "a", "nope") == 2
    assert rb.get("d") == b"\x00\x00"
    assert rb.bitop("OR", "d", "nope", "a") == 2
    assert rb.get("d") == b"\xff\xff"


def test_bitop_empty_result_deletes_dest(rb):
    rb.set("d", "old")
    assert rb.bitop("OR", "d", "nope1", "nope2") == 0
    assert rb.exists("d") == 0
    rb.set("e", "")
    assert rb.bitop("NOT", "d", "e") == 0
    assert rb.exists("d") == 0


def test_bitop_dest_is_source_and_other_type(rb):
    rb.set("a", b"\x01")
    rb.set("b", b"\x02")
    assert rb.bitop("OR", "a", "a", "b") == 1
    assert rb.get("a") == b"\x03"
    rb.lpush("l", "x")
    rb.set("t", "x", ex=100)
    assert rb.bitop("AND", "l", "a") == 1
    assert rb.get("l") == b"\x03"
    rb.bitop("AND", "t", "a")
    assert rb.ttl("t") == -1


def test_bitop_many_keys(rb):
    keys = [f"k{i}" for i in range(20)]
    for i, k in enumerate(keys):
        rb.set(k, bytes([1 << (i % 8)]) * (i + 1))
    assert rb.bitop("OR", "d", *keys) == 20
    assert rb.get("d")[:13] == b"\xff" * 13
    assert rb.bitop("XOR", "d", *keys) == 20


def test_bitop_errors(r):
    r.set("a", "x")
    assert err(r, "BITOP", "NAND", "d", "a") == SYNTAX
    assert err(r, "BITOP", "NOT", "d", "a", "a") == "BITOP NOT must be called with a single source key."
    assert err(r, "BITOP", "AND", "d") == "wrong number of arguments for 'bitop' command"
    r.lpush("l", "x")
    assert err(r, "BITOP", "AND", "d", "a", "l") == WRONGTYPE
    assert err(r, "BITOP", "NOT", "d", "l") == WRONGTYPE
    assert r.exists("d") == 0


# ---------------------------------------------------------------------------- BITFIELD

def test_bitfield_get_set(r):
    assert bf(r, "k", "SET", "i8", "0", "100", "GET", "i8", "0") == [0, 100]
    assert bf(r, "k", "SET", "u4", "4", "15", "GET", "u4", "4", "GET", "u8", "0") == [4, 15, 111]
    assert bf(r, "k", "GET", "u8", "100") == [0]


def test_bitfield_incrby(r):
    assert bf(r, "k", "INCRBY", "u2", "100", "1") == [1]
    assert bf(r, "k", "INCRBY", "u2", "100", "1") == [2]
    assert bf(r, "k", "INCRBY", "i5", "100", "-3") == [13]
    assert bf(r, "k", "INCRBY", "i64", "0", "-5") == [-5]


def test_bitfield_hash_offsets(rb):
    assert bf(rb, "k", "SET", "u8", "#0", "65", "SET", "u8", "#1", "66", "GET", "u8", "#1") == \
        [0, 0, 66]
    assert rb.get("k") == b"AB"
    assert bf(rb, "k", "GET", "u4", "#3") == [2]


def test_bitfield_overflow_wrap(r):
    assert bf(r, "k", "SET", "u8", "0", "255", "INCRBY", "u8", "0", "10") == [0, 9]
    assert bf(r, "k", "SET", "i8", "0", "127", "INCRBY", "i8", "0", "1") == [9, -128]
    assert bf(r, "k", "SET", "i8", "0", "200", "GET", "i8", "0") == [-128, -56]
    assert bf(r, "k", "SET", "u8", "0", "-1", "GET", "u8", "0") == [200, 255]


def test_bitfield_overflow_sat(r):
    assert bf(r, "k", "OVERFLOW", "SAT", "SET", "u8", "0", "250", "INCRBY", "u8", "0", "10") == \
        [0, 255]
    assert bf(r, "k", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "-300") == [0]
    assert bf(r, "k", "OVERFLOW", "SAT", "SET", "i8", "0", "1000", "GET", "i8", "0") == [0, 127]
    assert bf(r, "k", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-1000") == [-128]
    assert bf(r, "k", "OVERFLOW", "SAT", "SET", "u8", "0", "-5", "GET", "u8", "0") == [128, 255]
    assert bf(r, "k", "OVERFLOW", "sat", "SET", "i64", "0", "9223372036854775807",
              "INCRBY", "i64", "0", "1") == [-72057594037927936, 9223372036854775807]


def test_bitfield_overflow_fail(r):
    assert bf(r, "k", "OVERFLOW", "FAIL", "SET", "u8", "0", "255", "INCRBY", "u8", "0", "1",
              "GET", "u8", "0") == [0, None, 255]
    assert bf(r, "k", "OVERFLOW", "FAIL", "SET", "i4", "0", "8", "GET", "i4", "0") == [None, -1]
    assert bf(r, "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "-255") == [0]


def test_bitfield_overflow_applies_to_following_ops(r):
    assert bf(r, "k", "SET", "u2", "0", "3", "INCRBY", "u2", "0", "1",
              "OVERFLOW", "SAT", "INCRBY", "u2", "0", "5",
              "OVERFLOW", "WRAP", "INCRBY", "u2", "0", "1") == [0, 0, 3, 0]


def test_bitfield_i64_wrap_and_u63(r):
    assert bf(r, "k", "SET", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "1") == \
        [0, -9223372036854775808]
    assert bf(r, "u", "SET", "u63", "1", "9223372036854775807", "INCRBY", "u63", "1", "1") == \
        [0, 0]
    assert bf(r, "x", "INCRBY", "i1", "0", "1", "GET", "u1", "0") == [-1, 1]


def test_bitfield_unaligned(rb):
    rb.set("k", b"\xaa\x55")
    assert bf(rb, "k", "GET", "u7", "3", "GET", "i9", "5", "GET", "u16", "0") == \
        [41, 149, 43605]
    assert bf(rb, "k", "SET", "u5", "6", "31") == [18]
    assert rb.get("k") == b"\xab\xf5"


def test_bitfield_no_ops_and_missing(r):
    assert bf(r, "missing") == []
    assert r.exists("missing") == 0
    assert bf(r, "missing", "GET", "u8", "0", "GET", "i8", "8") == [0, 0]
    assert r.exists("missing") == 0


def test_bitfield_grows_key(rb):
    assert bf(rb, "k", "SET", "u8", "24", "255") == [0]
    assert rb.get("k") == b"\x00\x00\x00\xff"
    assert bf(rb, "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "56", "300") == [None]
    assert rb.strlen("k") == 8


def test_bitfield_errors(r):
    assert err(r, "BITFIELD", "k", "GET", "u64", "0") == BAD_TYPE
    assert err(r, "BITFIELD", "k", "GET", "i65", "0") == BAD_TYPE
    assert err(r, "BITFIELD", "k", "GET", "i0", "0") == BAD_TYPE
    assert err(r, "BITFIELD", "k", "GET", "x8", "0") == BAD_TYPE
    assert err(r, "BITFIELD", "k", "GET", "I8", "0") == BAD_TYPE
    assert err(r, "BITFIELD", "k", "GET", "u8", "-1") == BAD_OFFSET
    assert err(r, "BITFIELD", "k", "GET", "u8", "#-1") == BAD_OFFSET
    assert err(r, "BITFIELD", "k", "GET", "u8", "4294967296") == BAD_OFFSET
    assert err(r, "BITFIELD", "k", "SET", "u8", "0", "x") == NOT_INT
    assert err(r, "BITFIELD", "k", "OVERFLOW", "BAD") == "Invalid OVERFLOW type specified"
    assert err(r, "BITFIELD", "k", "OVERFLOW") == SYNTAX
    assert err(r, "BITFIELD", "k", "GET", "u8") == SYNTAX
    assert err(r, "BITFIELD", "k", "SET", "u8", "0") == SYNTAX
    assert err(r, "BITFIELD", "k", "FOO") == SYNTAX
    assert err(r, "BITFIELD", "k", "SET", "u8", "0", "1", "GET", "u64", "0") == BAD_TYPE
    assert r.exists("k") == 0


def test_bitfield_wrongtype(r):
    r.lpush("l", "x")
    assert err(r, "BITFIELD", "l", "GET", "u8", "0") == WRONGTYPE
    assert err(r, "BITFIELD", "l", "SET", "u8", "0", "1") == WRONGTYPE
    assert err(r, "BITFIELD", "l", "GET", "u64", "0") == BAD_TYPE


def test_bitfield_ro(r):
    bf(r, "k", "SET", "u8", "0", "42")
    assert r.execute_command("BITFIELD_RO", "k", "GET", "u8", "0", "GET", "i4", "4") == [42, -6]
    assert r.execute_command("BITFIELD_RO", "k") == []
    assert r.execute_command("BITFIELD_RO", "missing", "GET", "u8", "0") == [0]
    assert err(r, "BITFIELD_RO", "k", "SET", "u8", "0", "1") == \
        "BITFIELD_RO only supports the GET subcommand"
    assert err(r, "BITFIELD_RO", "k", "INCRBY", "u8", "0", "1") == \
        "BITFIELD_RO only supports the GET subcommand"
    assert err(r, "BITFIELD_RO", "k", "GET", "u8") == SYNTAX
    r.lpush("l", "x")
    assert err(r, "BITFIELD_RO", "l", "GET", "u8", "0") == WRONGTYPE
    assert err(r, "BITFIELD_RO", "l", "SET", "u8", "0", "1") == \
        "BITFIELD_RO only supports the GET subcommand"


# ---------------------------------------------------------------------------- wire / RESP3

def test_bitfield_fail_null_wire(raw):
    raw.send(b"*8\r\n$8\r\nBITFIELD\r\n$1\r\nk\r\n$8\r\nOVERFLOW\r\n$4\r\nFAIL\r\n"
             b"$6\r\nINCRBY\r\n$2\r\nu2\r\n$1\r\n0\r\n$1\r\n9\r\n")
    assert raw.read_line_raw() == b"*1"
    assert raw.read_line_raw() == b"$-1"
    raw.cmd("HELLO", "3")
    assert raw.cmd("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9") == [None]
    raw.send(b"*8\r\n$8\r\nBITFIELD\r\n$1\r\nk\r\n$8\r\nOVERFLOW\r\n$4\r\nFAIL\r\n"
             b"$6\r\nINCRBY\r\n$2\r\nu2\r\n$1\r\n0\r\n$1\r\n9\r\n")
    assert raw.read_line_raw() == b"*1"
    assert raw.read_line_raw() == b"_"


def test_resp3_bit_commands(raw):
    raw.cmd("HELLO", "3")
    assert raw.cmd("SETBIT", "k", "3", "1") == 0
    assert raw.cmd("GETBIT", "k", "3") == 1
    assert raw.cmd("BITCOUNT", "k") == 1
    assert raw.cmd("BITPOS", "k", "1") == 3
    assert raw.cmd("BITOP", "NOT", "d", "k") == 1
    assert raw.cmd("GET", "d") == b"\xef"
    assert raw.cmd("BITOP", "XOR", "d", "k", "x", "y", "z") == 1
    assert raw.cmd("BITCOUNT", "k", "0", "0", "FOO") == Error("ERR syntax error")
