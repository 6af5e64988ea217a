"""Expiry (issue #4): EXPIRE family with NX/XX/GT/LT, TTL/PTTL/EXPIRETIME/PEXPIRETIME, PERSIST,
lazy and active expiry, expired_keys stat."""
import time

import pytest

NX_XX_ERR = "ERR NX and XX, GT or LT options at the same time are not compatible"
GT_LT_ERR = "ERR GT and LT options at the same time are not compatible"


def now_ms():
    return int(time.time() * 1000)


# ---------------------------------------------------------------- basic TTL

def test_ttl_missing_and_persistent(raw):
    assert raw.cmd("TTL", "nokey") == -2
    assert raw.cmd("PTTL", "nokey") == -2
    raw.cmd("SET", "k", "v")
    assert raw.cmd("TTL", "k") == -1
    assert raw.cmd("PTTL", "k") == -1


def test_expire_and_ttl(raw):
    raw.cmd("SET", "k", "v")
    assert raw.cmd("EXPIRE", "k", "100") == 1
    assert 99 <= raw.cmd("TTL", "k") <= 100
    assert 98_000 < raw.cmd("PTTL", "k") <= 100_000
    assert raw.cmd("EXPIRE", "nokey", "100") == 0


def test_pexpire(raw):
    raw.cmd("SET", "k", "v")
    assert raw.cmd("PEXPIRE", "k", "50000") == 1
    assert 49_000 < raw.cmd("PTTL", "k") <= 50_000
    assert 49 <= raw.cmd("TTL", "k") <= 50


def test_expireat_pexpireat(raw):
    raw.cmd("SET", "k", "v")
    at = int(time.time()) + 1000
    assert raw.cmd("EXPIREAT", "k", str(at)) == 1
    assert raw.cmd("EXPIRETIME", "k") == at
    assert raw.cmd("PEXPIRETIME", "k") == at * 1000
    pat = now_ms() + 500_000
    assert raw.cmd("PEXPIREAT", "k", str(pat)) == 1
    assert raw.cmd("PEXPIRETIME", "k") == pat
    assert raw.cmd("EXPIRETIME", "k") in (pat // 1000, pat // 1000 + 1)


def test_expiretime_missing_and_persistent(raw):
    assert raw.cmd("EXPIRETIME", "nokey") == -2
    assert raw.cmd("PEXPIRETIME", "nokey") == -2
    raw.cmd("SET", "k", "v")
    assert raw.cmd("EXPIRETIME", "k") == -1
    assert raw.cmd("PEXPIRETIME", "k") == -1


def test_set_ex_px(r):
    r.set("a", "1", ex=100)
    assert 99 <= r.ttl("a") <= 100
    r.set("b", "1", px=100000)
    assert 99_000 < r.pttl("b") <= 100_000
    r.set("a", "2")              # plain SET clears the TTL
    assert r.ttl("a") == -1


def test_set_invalid_expire(raw):
    assert raw.cmd("SET", "x", "1", "EX", "0") == "ERR invalid expire time in 'set' command"
    assert raw.cmd("SET", "x", "1", "PX", "-1") == "ERR invalid expire time in 'set' command"
    assert raw.cmd("EXISTS", "x") == 0


def test_persist(raw):
    raw.cmd("SET", "k", "v", "EX", "100")
    assert raw.cmd("PERSIST", "k") == 1
    assert raw.cmd("TTL", "k") == -1
    assert raw.cmd("PERSIST", "k") == 0
    assert raw.cmd("PERSIST", "nokey") == 0
    assert raw.cmd("GET", "k") == b"v"


def test_incr_and_append_keep_ttl(r):
    r.set("n", 1, ex=100)
    r.incr("n")
    assert r.ttl("n") > 0
    r.append("n", "0")
    assert r.ttl("n") > 0


# ---------------------------------------------------------------- past / negative

@pytest.mark.parametrize("cmd,arg", [("EXPIRE", "-1"), ("PEXPIRE", "-100"), ("EXPIRE", "0"),
                                     ("EXPIREAT", "1"), ("PEXPIREAT", "1")])
def test_past_expire_deletes(raw, cmd, arg):
    raw.cmd("SET", "k", "v")
    assert raw.cmd(cmd, "k", arg) == 1
    assert raw.cmd("EXISTS", "k") == 0
    assert raw.cmd("GET", "k") is None
    assert raw.cmd("TTL", "k") == -2


# ---------------------------------------------------------------- errors

def test_invalid_expire_time(raw):
    raw.cmd("SET", "k", "v")
    assert raw.cmd("EXPIRE", "k", "9223372036854775") == "ERR invalid expire time in 'expire' command"
    assert raw.cmd("EXPIRE", "k", "-9223372036854775808") == "ERR invalid expire time in 'expire' command"
    assert raw.cmd("PEXPIRE", "k", "9223372036854775807") == "ERR invalid expire time in 'pexpire' command"
    assert raw.cmd("EXPIREAT", "k", "9223372036854775807") == "ERR invalid expire time in 'expireat' command"
    assert raw.cmd("EXPIRE", "k", "x") == "ERR value is not an integer or out of range"
    assert raw.cmd("EXPIRE", "k", "99999999999999999999") == "ERR value is not an integer or out of range"
    assert raw.cmd("EXPIRE", "k", "1.5") == "ERR value is not an integer or out of range"
    assert raw.cmd("TTL", "k") == -1
    assert raw.cmd("GET", "k") == b"v"


def test_pexpireat_max(raw):
    raw.cmd("SET", "k", "v")
    assert raw.cmd("PEXPIREAT", "k", "9223372036854775807") == 1
    assert raw.cmd("GET", "k") == b"v"
    assert raw.cmd("PTTL", "k") > 0


def test_expire_option_errors(raw):
    raw.cmd("SET", "k", "v")
    assert raw.cmd("EXPIRE", "k", "10", "NX", "XX") == NX_XX_ERR
    assert raw.cmd("EXPIRE", "k", "10", "NX", "GT") == NX_XX_ERR
    assert raw.cmd("EXPIRE", "k", "10", "NX", "LT") == NX_XX_ERR
    assert raw.cmd("EXPIRE", "k", "10", "GT", "LT") == GT_LT_ERR
    assert raw.cmd("PEXPIRE", "k", "10", "GT", "LT") == GT_LT_ERR
    assert raw.cmd("EXPIREAT", "k", "10", "NX", "XX") == NX_XX_ERR
    assert raw.cmd("EXPIRE", "k", "10", "FOO") == "ERR Unsupported option FOO"
    assert raw.cmd("TTL", "k") == -1


# ---------------------------------------------------------------- NX / XX / GT / LT

def test_expire_nx(raw):
    raw.cmd("SET", "k", "v")
    assert raw.cmd("EXPIRE", "k", "100", "NX") == 1
    assert raw.cmd("EXPIRE", "k", "200", "NX") == 0
    assert raw.cmd("TTL", "k") <= 100
    assert raw.cmd("EXPIRE", "k", "200", "nx") == 0     # case-insensitive option


def test_expire_xx(raw):
    raw.cmd("SET", "k", "v")
    assert raw.cmd("EXPIRE", "k", "100", "XX") == 0
    assert raw.cmd("TTL", "k") == -1
    raw.cmd("EXPIRE", "k", "100")
    assert raw.cmd("EXPIRE", "k", "200", "XX") == 1
    assert raw.cmd("TTL", "k") > 100


def test_expire_gt(raw):
    raw.cmd("SET", "k", "v")
    assert raw.cmd("EXPIRE", "k", "100", "GT") == 0       # no TTL counts as infinite
    assert raw.cmd("TTL", "k") == -1
    raw.cmd("EXPIRE", "k", "100")
    assert raw.cmd("EXPIRE", "k", "50", "GT") == 0
    assert raw.cmd("EXPIRE", "k", "200", "GT") == 1
    assert raw.cmd("TTL", "k") > 100


def test_expire_lt(raw):
    raw.cmd("SET", "k", "v")
    assert raw.cmd("EXPIRE", "k", "100", "LT") == 1       # anything is less than infinite
    assert raw.cmd("EXPIRE", "k", "200", "LT") == 0
    assert raw.cmd("EXPIRE", "k", "50", "LT") == 1
    assert raw.cmd("TTL", "k") <= 50


def test_expire_xx_gt_combined(raw):
    raw.cmd("SET", "k", "v")
    assert raw.cmd("EXPIRE", "k", "100", "XX", "GT") == 0
    raw.cmd("EXPIRE", "k", "100")
    assert raw.cmd("EXPIRE", "k", "200", "XX", "GT") == 1
    assert raw.cmd("EXPIRE", "k", "150", "XX", "LT") == 1


def test_pexpire_options(raw):
    raw.cmd("SET", "k", "v")
    assert raw.cmd("PEXPIRE", "k", "100000", "NX") == 1
    assert raw.cmd("PEXPIRE", "k", "200000", "GT") == 1
    assert raw.cmd("PEXPIREAT", "k", str(now_ms() + 50_000), "LT") == 1
    assert raw.cmd("EXPIREAT", "k", str(int(time.time()) + 10_000), "LT") == 0


def test_options_on_missing_key(raw):
    for opt in ("NX", "XX", "GT", "LT"):
        assert raw.cmd("EXPIRE", "nokey", "100", opt) == 0


# ---------------------------------------------------------------- lazy / active expiry

def test_lazy_expiry(r):
    r.set("k", "v", px=50)
    r.set("keep", "v")
    time.sleep(0.2)
    assert r.get("k") is None
    assert r.exists("k") == 0
    assert r.ttl("k") == -2
    assert r.get("keep") == "v"


def test_expired_key_not_visible_to_any_command(r):
    r.set("s", "v", px=30)
    r.rpush("l", "a")
    r.pexpire("l", 30)
    time.sleep(0.15)
    assert r.type("s") == "none"
    assert r.llen("l") == 0
    assert r.rpush("l", "b") == 1        # a fresh list, not the expired one
    assert r.ttl("l") == -1
    assert r.append("s", "x") == 1


def test_active_expiry(r):
    pipe = r.pipeline(transaction=False)
    for i in range(1000):
        pipe.set(f"tmp:{i}", "v", px=100)
    pipe.execute()
    r.set("persistent", "v")
    deadline = time.time() + 10
    while time.time() < deadline:
        if r.dbsize() == 1:
            break
        time.sleep(0.1)
    assert r.dbsize() == 1
    assert r.get("persistent") == "v"


def test_expired_keys_stat(r):
    before = r.info("stats")["expired_keys"]
    for i in range(10):
        r.set(f"e{i}", "v", px=20)
    time.sleep(0.1)
    for i in range(10):
        assert r.get(f"e{i}") is None
    deadline = time.time() + 5
    while time.time() < deadline and r.info("stats")["expired_keys"] < before + 10:
        time.sleep(0.05)
    assert r.info("stats")["expired_keys"] >= before + 10


def test_keyspace_expires_count(r):
    r.set("a", "1", ex=100)
    r.set("b", "1", ex=100)
    r.set("c", "1")
    assert r.info("keyspace")["db0"]["expires"] == 2
    r.persist("a")
    assert r.info("keyspace")["db0"]["expires"] == 1
