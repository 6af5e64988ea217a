"""
HyperLogLog commands (hll module): PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.

Values are strings in Redis's own HLL format, so the expectations below are byte-exact: the
hex strings, counts and sparse decodings were produced by redis-server 7.0.15, and every test
passes against it (DF_TEST_SERVER=redis). PFCOUNT and PFMERGE take keys in several shards;
those tests run at three threads at least. The last tests run one random workload against
our server and a redis-server side by side and compare every reply and every value.
"""
import os
import random
import shutil

import pytest
import redis

from conftest import Server, is_redis, per_thread_count_server
from helpers import WRONGTYPE

NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."
CORRUPT = "INVALIDOBJ Corrupted HLL object detected"
# PFADD h a b c d e f g on redis-server 7.0.15: sparse, cache stale (top bit of byte 15)...
SEVEN_STALE = "48594c4c010000000000000000000080466d80560c80443c84388050b184498c80426d80425a"
# ... and after PFCOUNT h cached 7
SEVEN_CACHED = "48594c4c010000000700000000000000466d80560c80443c84388050b184498c80426d80425a"
SEVEN_DECODED = ("Z:1646 v:1,1 Z:5645 v:1,1 Z:1085 v:2,1 z:57 v:1,1 Z:4274 v:2,1 Z:2445 v:1,1 "
                 "Z:622 v:1,1 Z:603")
EMPTY_STALE = "48594c4c0100000000000000000000807fff"


server = per_thread_count_server()


# r and rb (conftest.py) run on the parametrized server above.


def err(c, *args):
    with pytest.raises(redis.ResponseError) as e:
        c.execute_command(*args)
    return str(e.value)


def add_many(c, key, items, chunk=1000):
    items = list(items)
    for i in range(0, len(items), chunk):
        c.pfadd(key, *items[i:i + chunk])


def test_pfadd_replies_whether_a_register_changed(r):
    assert r.pfadd("h", "a", "b") == 1
    assert r.pfadd("h", "a", "b") == 0
    assert r.pfadd("h", "b") == 0
    assert r.pfadd("h") == 0
    assert r.pfadd("new") == 1  # creating the key is a change
    assert r.pfcount("new") == 0
    assert r.type("new") == "string"
    assert r.object("encoding", "new") == "raw"


def test_value_is_redis_format_byte_for_byte(rb):
    rb.pfadd("h", *"abcdefg")
    assert rb.get("h").hex() == SEVEN_STALE
    assert rb.pfcount("h") == 7
    assert rb.get("h").hex() == SEVEN_CACHED
    assert rb.execute_command("PFDEBUG", "DECODE", "h").decode() == SEVEN_DECODED
    rb.pfadd("e")
    assert rb.get("e").hex() == EMPTY_STALE


@pytest.mark.parametrize("n,count,encoding,strlen", [
    (10, 10, "sparse", 48), (100, 100, "sparse", 285), (1000, 1008, "sparse", 1906),
    (10000, 9973, "dense", 12304), (100000, 100853, "dense", 12304)])
def test_counts_and_encodings_are_redis(r, n, count, encoding, strlen):
    add_many(r, "x", (f"e{j}" for j in range(n)))
    assert r.pfcount("x") == count
    assert r.execute_command("PFDEBUG", "ENCODING", "x") == encoding
    assert r.strlen("x") == strlen


def test_union_of_keys_in_several_shards(r):
    r.pfadd("h", *"abcdefg")
    add_many(r, "n", range(1, 5001))
    add_many(r, "m", range(1, 201))
    assert (r.pfcount("n"), r.strlen("n"), r.pfcount("m"), r.strlen("m")) == (4985, 12304, 201, 508)
    assert r.pfcount("h", "n", "m") == 4993
    assert r.pfcount("h", "nosuch", "m") == 208
    assert r.pfcount("nosuch", "nosuch2") == 0
    # many keys spread over every shard: the union of disjoint parts counts like the whole
    for i in range(20):
        add_many(r, f"part:{i}", (f"x{j}" for j in range(i * 500, (i + 1) * 500)))
    add_many(r, "whole", (f"x{j}" for j in range(10000)))
    parts = [f"part:{i}" for i in range(20)]
    assert r.pfcount(*parts) == r.pfcount("whole")
    assert r.pfmerge("merged", *parts)
    assert r.pfcount("merged") == r.pfcount("whole")
    assert r.execute_command("PFDEBUG", "GETREG", "merged") == \
        r.execute_command("PFDEBUG", "GETREG", "whole")


def test_pfmerge(r):
    r.pfadd("{t}a", *"abc")
    r.pfadd("{t}b", *"cde")
    assert r.pfmerge("{t}d", "{t}a", "{t}b") is True
    assert r.pfcount("{t}d") == 5
    assert r.execute_command("PFDEBUG", "ENCODING", "{t}d") == "sparse"
    # the destination is an input too; a missing source is an empty HLL
    assert r.pfmerge("{t}d", "nosuch") is True
    assert r.pfcount("{t}d") == 5
    assert r.pfmerge("{t}none") is True
    assert r.exists("{t}none") == 1 and r.pfcount("{t}none") == 0
    # an existing destination keeps its TTL
    r.expire("{t}d", 100)
    r.pfmerge("{t}d", "{t}a")
    assert 0 < r.ttl("{t}d") <= 100
    # one dense input makes the result dense
    add_many(r, "big", range(5000))
    r.pfmerge("{t}d", "big")
    assert r.execute_command("PFDEBUG", "ENCODING", "{t}d") == "dense"
    assert r.pfcount("{t}d") == 4992


def test_cached_cardinality(rb):
    rb.pfadd("h", *"abcdefg")
    assert rb.get("h")[15] & 0x80  # stale after an add
    assert rb.pfcount("h") == 7
    v = rb.get("h")
    assert v[15] & 0x80 == 0 and int.from_bytes(v[8:16], "little") == 7
    assert rb.pfadd("h", "a") == 0
    assert rb.get("h") == v  # nothing changed, cache still valid
    # a forged cache is believed, as in Redis
    forged = v[:8] + (1234).to_bytes(8, "little") + v[16:]
    rb.set("f", forged)
    assert rb.pfcount("f") == 1234
    assert rb.pfcount("f", "f") == 7  # several keys never use the cache


def test_pfcount_caching_a_count_is_a_write_for_watch(server, r):
    r.pfadd("h", "a")
    other = server.client()
    p = r.pipeline()
    p.watch("h")
    other.pfcount("h")  # stores the count: the key changed
    p.multi()
    p.get("x")
    with pytest.raises(redis.WatchError):
        p.execute()
    p.reset()
    p.watch("h")
    other.pfcount("h")  # cache valid now: no write
    p.multi()
    p.get("x")
    assert p.execute() == [None]
    other.close()


def test_sparse_limit_is_a_config_parameter(r):
    assert r.config_get("hll-sparse-max-bytes") == {"hll-sparse-max-bytes": "3000"}
    try:
        assert r.config_set("hll-sparse-max-bytes", "200")
        add_many(r, "x", (f"e{j}" for j in range(100)))
        assert r.execute_command("PFDEBUG", "ENCODING", "x") == "dense"
        assert r.pfcount("x") == 100
        assert r.config_set("hll-sparse-max-bytes", "1kb")
        assert r.config_get("hll-sparse-max-bytes") == {"hll-sparse-max-bytes": "1024"}
    finally:
        r.config_set("hll-sparse-max-bytes", "3000")


def test_wrong_types_and_invalid_values(r):
    r.rpush("l", "a")
    r.set("s", "hello")
    r.set("i", 123)
    r.set("densebad", "HYLL\x00" + "\x00" * 20)  # dense but not 12304 bytes
    r.set("encbad", "HYLL\x02" + "\x00" * 20)
    for key in ("s", "i", "densebad", "encbad"):
        assert err(r, "PFADD", key, "a") == NOT_HLL
        assert err(r, "PFCOUNT", key) == NOT_HLL
    assert err(r, "PFADD", "l", "a") == WRONGTYPE
    assert err(r, "PFCOUNT", "l") == WRONGTYPE
    # the first bad key in argument order decides the error
    assert err(r, "PFCOUNT", "s", "l") == NOT_HLL
    assert err(r, "PFCOUNT", "l", "s") == WRONGTYPE
    assert err(r, "PFCOUNT", "nosuch", "s") == NOT_HLL
    assert err(r, "PFMERGE", "l", "s") == WRONGTYPE
    assert err(r, "PFMERGE", "s", "l") == NOT_HLL
    assert err(r, "PFMERGE", "d", "s") == NOT_HLL
    assert r.exists("d") == 0
    assert r.lrange("l", 0, -1) == ["a"] and r.get("s") == "hello"


def test_corrupt_sparse_values(rb):
    stale = b"HYLL\x01\x00\x00\x00" + b"\x00" * 7 + b"\x80"
    rb.set("over", stale + b"\x7f\xff\x00")  # covers 16385 registers
    rb.set("under", stale + b"\x7f\xfe")  # covers 16383
    for key in ("over", "under"):
        assert err(rb, "PFCOUNT", key) == CORRUPT
        assert err(rb, "PFCOUNT", key, key) == CORRUPT
        assert err(rb, "PFMERGE", "d", key) == CORRUPT
        assert err(rb, "PFDEBUG", "GETREG", key) == CORRUPT
        assert err(rb, "PFDEBUG", "TODENSE", key) == CORRUPT
    assert rb.exists("d") == 0
    assert rb.execute_command("PFDEBUG", "DECODE", "over") == b"Z:16384 z:1"


def test_pfdebug(r):
    assert err(r, "PFDEBUG", "ENCODING", "nosuch") == "The specified key does not exist"
    r.rpush("l", "a")
    assert err(r, "PFDEBUG", "ENCODING", "l") == WRONGTYPE
    r.pfadd("h", *"abcdefg")
    assert err(r, "PFDEBUG", "Frob", "h") == "Unknown PFDEBUG subcommand 'Frob'"
    assert err(r, "PFDEBUG", "DECODE", "h", "x") == \
        "wrong number of arguments for 'pfdebug' command"
    assert r.execute_command("PFDEBUG", "ENCODING", "h") == "sparse"
    regs = r.execute_command("PFDEBUG", "GETREG", "h")  # converts to dense
    assert len(regs) == 16384 and sorted(regs)[-7:] == [1, 1, 1, 1, 1, 2, 2]
    assert regs[1646] == 1 and sum(1 for v in regs if v) == 7
    assert r.execute_command("PFDEBUG", "ENCODING", "h") == "dense"
    assert err(r, "PFDEBUG", "DECODE", "h") == "HLL encoding is not sparse"
    assert r.execute_command("PFDEBUG", "TODENSE", "h") == 0
    r.pfadd("h2", "x")
    assert r.execute_command("PFDEBUG", "TODENSE", "h2") == 1
    assert r.strlen("h2") == 12304 and r.pfcount("h2") == 1
    assert r.pfcount("h") == 7
    assert r.execute_command("PFSELFTEST") == "OK"


def test_command_info(server):
    r = server.client()
    r.response_callbacks.clear()
    info = r.execute_command("COMMAND", "INFO", "pfadd", "pfcount", "pfmerge", "pfdebug",
                             "pfselftest")
    got = {i[0]: (i[1], sorted(i[2]), i[3], i[4], i[5]) for i in info}
    assert got == {
        "pfadd": (-2, ["denyoom", "fast", "write"], 1, 1, 1),
        "pfcount": (-2, ["readonly"], 1, -1, 1),
        "pfmerge": (-2, ["denyoom", "write"], 1, -1, 1),
        "pfdebug": (3, ["admin", "denyoom", "write"], 2, 2, 1),
        "pfselftest": (1, ["admin"], 0, 0, 0),
    }
    r.close()


def test_many_writers_on_keys_in_several_shards(server):
    """Clients add disjoint ranges to keys in different shards and merge them while others
    count: the final merge counts exactly what one key holding everything counts."""
    import threading
    c = server.client()
    c.flushall()
    errors = []

    def writer(i):
        w = server.client()
        try:
            for j in range(20):
                base = (i * 20 + j) * 50
                w.pfadd(f"w:{i}", *[f"v{x}" for x in range(base, base + 50)])
                w.pfcount(*[f"w:{k}" for k in range(6)])
                w.pfmerge(f"m:{i}", f"w:{i}", f"w:{(i + 1) % 6}")
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(e)
        finally:
            w.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    add_many(c, "all", (f"v{x}" for x in range(6 * 20 * 50)))
    assert c.pfcount(*[f"w:{k}" for k in range(6)]) == c.pfcount("all")
    c.pfmerge("final", *[f"w:{k}" for k in range(6)], *[f"m:{k}" for k in range(6)])
    assert c.execute_command("PFDEBUG", "GETREG", "final") == \
        c.execute_command("PFDEBUG", "GETREG", "all")
    c.close()


# ---------------------------------------------------------------- side by side with Redis

REDIS_BIN = os.environ.get("REDIS_BIN", "/usr/bin/redis-server")


@pytest.fixture(scope="module")
def reference():
    if is_redis() or not shutil.which(REDIS_BIN):
        pytest.skip("needs our server and a redis-server to compare with")
    s = Server(kind="redis")
    yield s
    s.stop()


def test_random_workload_matches_redis(server, reference):
    ours, ref = server.client(decode_responses=False), reference.client(decode_responses=False)
    ours.flushall()
    ref.flushall()
    rnd = random.Random(20261124)
    keys = [f"k{i}" for i in range(8)] + ["{g}a", "{g}b"]

    def run(*args):
        out = []
        for c in (ours, ref):
            try:
                out.append(c.execute_command(*args))
            except redis.ResponseError as e:
                out.append(("error", str(e)))
        assert out[0] == out[1], args
        return out[0]

    for step in range(1500):
        op = rnd.random()
        if op < 0.5:
            n = rnd.choice([0, 1, 3, 20, 200])
            pool = rnd.choice([100, 5000, 100000])
            run("PFADD", rnd.choice(keys), *[f"m{rnd.randrange(pool)}" for _ in range(n)])
        elif op < 0.7:
            run("PFCOUNT", *rnd.sample(keys, rnd.randint(1, 4)))
        elif op < 0.8:
            run("PFMERGE", *rnd.sample(keys, rnd.randint(1, 4)))
        elif op < 0.85:
            run("PFDEBUG", rnd.choice(["ENCODING", "DECODE", "TODENSE"]), rnd.choice(keys))
        elif op < 0.9:
            run("CONFIG", "SET", "hll-sparse-max-bytes", str(rnd.choice([200, 1000, 3000])))
        else:
            run("GET", rnd.choice(keys))
    for k in keys:
        run("GET", k)
    run("CONFIG", "SET", "hll-sparse-max-bytes", "3000")
    # values move between the servers both ways through DUMP / RESTORE
    for k in keys:
        if not ref.exists(k):
            continue
        ours.restore(k + ":r", 0, ref.dump(k))
        ref.restore(k + ":o", 0, ours.dump(k))
        assert ours.get(k + ":r") == ref.get(k) and ref.get(k + ":o") == ours.get(k)
        assert ours.pfcount(k + ":r") == ref.pfcount(k)
    ours.close()
    ref.close()
