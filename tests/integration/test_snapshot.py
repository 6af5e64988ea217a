"""RDB snapshots: SAVE, BGSAVE, save points, the save at shutdown, loading at start-up, and
files exchanged with redis-server both ways. Every test also runs against redis-server
(DF_TEST_SERVER=redis), whose fork gives the point-in-time guarantee ours must match."""
import contextlib
import os
import signal
import shutil
import subprocess
import tempfile
import threading
import time

import pytest
import redis

from conftest import SERVER_KIND, Server, dragonfly_bin, free_port
from resp import Error

DBS = (0, 5)


def wait_saved(r, timeout=30):
    """Until no BGSAVE runs; returns the persistence INFO."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        info = r.info("persistence")
        if not info["rdb_bgsave_in_progress"]:
            return info
        time.sleep(0.02)
    raise AssertionError("BGSAVE did not finish")


def client(server, db=0):
    return redis.Redis(host=server.host, port=server.port, db=db, decode_responses=False,
                       socket_timeout=30)


def value_of(c, key):
    """(type, canonical value, has ttl) of key."""
    t = c.type(key).decode()
    if t == "string":
        v = c.get(key)
    elif t == "list":
        v = tuple(c.lrange(key, 0, -1))
    elif t == "hash":
        v = tuple(sorted(c.hgetall(key).items()))
    elif t == "set":
        v = tuple(sorted(c.smembers(key)))
    elif t == "zset":
        v = tuple(c.zrange(key, 0, -1, withscores=True))
    elif t == "stream":
        v = tuple(c.xrange(key))
    else:
        v = None
    return t, v, c.pttl(key) > 0


def state(server):
    """Every key of the test dbs with its value."""
    out = {}
    for db in DBS:
        c = client(server, db)
        for k in c.scan_iter(count=1000):
            out[(db, k)] = value_of(c, k)
        c.close()
    return out


def fill(server):
    """Keys of every type and encoding in two dbs, some with a TTL."""
    c = client(server, 0)
    p = c.pipeline(transaction=False)
    p.set("int", 12345)
    p.set("neg", -7)
    p.set("emb", "hello")
    p.set("raw", "x" * 100)
    p.set("big", os.urandom(1 << 20))
    p.set("bin", bytes(range(256)))
    p.set("ttl", "v", px=600000)
    p.rpush("lsmall", "a", "b", 1, 2)
    p.rpush("lbig", *[f"item{i}" for i in range(3000)])
    p.hset("hsmall", mapping={"f1": "v1", "f2": 2})
    p.hset("hbig", mapping={f"f{i}": "v" * (i % 90) for i in range(600)})
    p.sadd("sint", *range(50))
    p.sadd("sstr", *[f"m{i}" for i in range(700)])
    p.zadd("zsmall", {"a": 1, "b": 2.5, "c": -3})
    p.zadd("zbig", {f"m{i}": i / 7 for i in range(500)})
    p.pfadd("hll", *[f"e{i}" for i in range(100)])
    p.expire("lbig", 600)
    p.execute()
    c5 = client(server, 5)
    c5.set("other", "db5")
    c5.rpush("l5", "x")
    c.close()
    c5.close()


def populate(c, n, prefix):
    """prefix:i = value:i for i < n, as DEBUG POPULATE makes them (which Redis only allows
    with enable-debug-command)."""
    p = c.pipeline(transaction=False)
    for lo in range(0, n, 1000):
        p.mset({f"{prefix}:{i}": f"value:{i}" for i in range(lo, min(n, lo + 1000))})
    p.execute()


def check_rdb(path):
    out = subprocess.run(["redis-check-rdb", path], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "RDB looks OK" in out.stdout


@contextlib.contextmanager
def served(d, save="", extra=()):
    """Our server (or redis-server) on snapshot dir d with these save points, stopped after."""
    s = Server(dir=d, args=["--save", save] + list(extra))
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def tmpdir_path():
    d = tempfile.mkdtemp(prefix="df-snap-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_save_writes_a_valid_rdb(tmpdir_path):
    with served(tmpdir_path, "") as s:
        r = s.client()
        fill(s)
        before = r.lastsave()
        assert r.info("persistence")["rdb_changes_since_last_save"] > 0
        assert r.save() is True
        info = r.info("persistence")
        assert info["rdb_changes_since_last_save"] == 0
        assert info["rdb_last_bgsave_status"] == "ok"
        assert r.lastsave() >= before
        check_rdb(os.path.join(tmpdir_path, "dump.rdb"))
        r.set("after", 1)
        assert r.info("persistence")["rdb_changes_since_last_save"] >= 1


def test_restart_loads_everything(tmpdir_path):
    s = Server(dir=tmpdir_path, args=["--save", ""])
    fill(s)
    want = state(s)
    assert client(s).save()
    s.stop()
    with served(tmpdir_path, "") as s2:
        assert state(s2) == want
        assert s2.client().info("persistence")["rdb_last_load_keys_loaded"] == len(want)


def test_shutdown_saves_with_save_points(tmpdir_path):
    s = Server(dir=tmpdir_path, args=["--save", "3600 1"])
    fill(s)
    want = state(s)
    s.stop()  # SIGTERM: save points are set, so a final snapshot is written
    check_rdb(os.path.join(tmpdir_path, "dump.rdb"))
    with served(tmpdir_path, "") as s2:
        assert state(s2) == want


def test_shutdown_nosave_and_save(tmpdir_path):
    s = Server(dir=tmpdir_path, args=["--save", "3600 1"])
    s.client().set("k", "v")
    s.raw().send(b"SHUTDOWN NOSAVE\r\n")
    s.proc.wait(timeout=15)
    s.stop()
    assert not os.path.exists(os.path.join(tmpdir_path, "dump.rdb"))
    s = Server(dir=tmpdir_path, args=["--save", ""])
    s.client().set("k", "v")
    s.raw().send(b"SHUTDOWN SAVE\r\n")
    s.proc.wait(timeout=15)
    s.stop()
    check_rdb(os.path.join(tmpdir_path, "dump.rdb"))


def test_redis_and_we_read_each_others_files(tmpdir_path):
    """Ours -> redis-server and redis-server -> ours (with DF_TEST_SERVER=redis both sides
    are redis, which proves the comparison itself)."""
    ours = Server(dir=tmpdir_path, args=["--save", ""])
    fill(ours)
    want = state(ours)
    assert client(ours).save()
    ours.stop()
    check_rdb(os.path.join(tmpdir_path, "dump.rdb"))
    red = Server(kind="redis", dir=tmpdir_path)
    try:
        assert state(red) == want
        client(red, 5).set("from-redis", "yes")
        want[(5, b"from-redis")] = (b"string".decode(), b"yes", False)
        assert client(red).save()
    finally:
        red.stop()
    with served(tmpdir_path, "") as back:
        assert state(back) == want


def test_bgsave_is_point_in_time(tmpdir_path):
    """Writes that follow BGSAVE's reply (overwrites, deletes, new keys, FLUSHALL) are not
    in the file: it holds the keyspace as it was when BGSAVE answered."""
    with served(tmpdir_path, "") as s:
        r = client(s)
        populate(r, 200000, "k")
        r.rpush("list", *range(100))
        want = r.dbsize()
        assert r.bgsave()
        p = r.pipeline(transaction=False)
        for i in range(0, 200000, 7):
            p.set(f"k:{i}", "changed")
        for i in range(3, 200000, 11):
            p.delete(f"k:{i}")
        for i in range(2000):
            p.set(f"new:{i}", 1)
        p.rpush("list", "late")
        p.execute()
        wait_saved(r)
    with served(tmpdir_path, "") as s2:
        r = client(s2)
        assert r.dbsize() == want
        assert r.llen("list") == 100
        assert r.exists("new:0", "new:1999") == 0
        vals = r.mget([f"k:{i}" for i in range(0, 200000, 7)])
        assert all(v is not None and v.startswith(b"value:") for v in vals)
        assert r.mget(["k:3", "k:14"]) == [b"value:3", b"value:14"]


@pytest.mark.skipif(SERVER_KIND == "redis", reason="Redis's FLUSHALL kills a running BGSAVE")
def test_bgsave_survives_flushall(tmpdir_path):
    """FLUSHALL/FLUSHDB while a snapshot runs: the snapshot keeps the flushed tables and still
    writes the keyspace as it was at the cut."""
    with served(tmpdir_path, "") as s:
        r = client(s)
        populate(r, 200000, "k")
        populate(client(s, 5), 1000, "five")
        assert r.bgsave()
        p = r.pipeline(transaction=False)
        p.flushall()
        p.set("after", 1)
        p.execute()
        wait_saved(r)
        assert r.dbsize() == 1
    with served(tmpdir_path, "") as s2:
        assert client(s2).dbsize() == 200000
        assert client(s2, 5).dbsize() == 1000
        assert client(s2).get("after") is None


def test_bgsave_cut_is_consistent_across_shards(tmpdir_path):
    """MSET writers keep pairs of keys in different shards equal while BGSAVE runs: the file
    never holds a mixed pair."""
    s = Server(dir=tmpdir_path, args=["--save", ""])
    stop = threading.Event()
    errors = []

    def writer(wid):
        c = client(s)
        n = 0
        try:
            while not stop.is_set():
                n += 1
                p = c.pipeline(transaction=False)
                for i in range(wid, 400, 4):
                    p.mset({f"a{{{i}}}": n, f"b{{{i}x}}": n})
                p.execute()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    try:
        r = client(s)
        populate(r, 50000, "pad")
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.2)
        for _ in range(3):
            assert r.bgsave()
            wait_saved(r)
        stop.set()
        for t in threads:
            t.join()
        assert not errors
    finally:
        stop.set()
        s.stop()
    with served(tmpdir_path, "") as s2:
        r = client(s2)
        for i in range(400):
            a, b = r.mget(f"a{{{i}}}", f"b{{{i}x}}")
            assert a == b, (i, a, b)


def test_save_point_triggers_bgsave(tmpdir_path):
    with served(tmpdir_path, "") as s:
        r = s.client()
        r.config_set("save", "1 1")
        r.set("k", "v")
        deadline = time.time() + 10
        while time.time() < deadline and r.info("persistence")["rdb_changes_since_last_save"]:
            time.sleep(0.1)
        assert r.info("persistence")["rdb_changes_since_last_save"] == 0
        assert os.path.exists(os.path.join(tmpdir_path, "dump.rdb"))


def test_save_point_waits_its_period_from_the_start(tmpdir_path):
    # Regression: the first save point counted from the epoch, not the start, so "3600 1"
    # saved after the first write. Redis waits 3600 s from the start (or the last save).
    s = Server(dir=tmpdir_path, args=["--save", "3600 1"])
    try:
        r = s.client()
        r.set("k", "v")
        time.sleep(1.5)  # several save-point checks (hz 10)
        assert r.info("persistence")["rdb_changes_since_last_save"] == 1
        assert not os.path.exists(os.path.join(tmpdir_path, "dump.rdb"))
    finally:
        s.stop(signal.SIGKILL)


def test_expired_keys_are_not_loaded(tmpdir_path):
    s = Server(dir=tmpdir_path, args=["--save", ""])
    r = s.client()
    r.set("gone", "v", px=1000)
    r.set("stays", "v")
    assert r.save()
    s.stop()
    time.sleep(1.2)
    with served(tmpdir_path, "") as s2:
        r = s2.client()
        assert r.exists("gone") == 0 and r.get("stays") == "v"
        assert r.info("persistence")["rdb_last_load_keys_expired"] == 1


def test_bgsave_arguments(tmpdir_path):
    with served(tmpdir_path, "") as s:
        r = s.client()
        with pytest.raises(redis.exceptions.ResponseError, match="syntax error"):
            r.execute_command("BGSAVE", "NOW")
        assert s.raw().cmd("BGSAVE", "SCHEDULE") in ("Background saving started",
                                                     "Background saving scheduled")
        wait_saved(r)
        with pytest.raises(redis.exceptions.ResponseError):
            r.execute_command("SAVE", "extra")


def test_save_inside_multi_is_refused(tmpdir_path):
    with served(tmpdir_path, "") as s:
        raw = s.raw()
        assert raw.cmd("MULTI") == "OK"
        err = raw.cmd("SAVE")
        assert "not allowed" in str(err).lower() or "transaction" in str(err).lower()


def test_corrupt_file_refuses_to_start(tmpdir_path):
    with open(os.path.join(tmpdir_path, "dump.rdb"), "wb") as f:
        f.write(b"REDIS0010\xfa\x09redis-ver\x067.0.15\x00\x03key")  # cut off mid key
    with pytest.raises(RuntimeError, match="exited"):
        Server(dir=tmpdir_path, args=["--save", ""])


def test_bad_checksum_refuses_to_start(tmpdir_path):
    s = Server(dir=tmpdir_path, args=["--save", ""])
    s.client().set("k", "v")
    assert s.client().save()
    s.stop()
    path = os.path.join(tmpdir_path, "dump.rdb")
    data = bytearray(open(path, "rb").read())
    data[-3] ^= 0xFF
    open(path, "wb").write(bytes(data))
    with pytest.raises(RuntimeError, match="exited"):
        Server(dir=tmpdir_path, args=["--save", ""])


def point_dir_at_a_removed_directory(r):
    """CONFIG SET dir to a directory, then remove it: the next snapshot cannot be written."""
    gone = tempfile.mkdtemp(prefix="df-gone-")
    r.config_set("dir", gone)
    os.rmdir(gone)


def test_failed_bgsave_refuses_writes(tmpdir_path):
    """A failed snapshot with save points set: INFO says err and writes (and PING) get
    MISCONF until a save succeeds or stop-writes-on-bgsave-error is off."""
    with served(tmpdir_path, "3600 1", ["--enable-protected-configs", "yes"]) as s:
        r = s.client()
        r.set("k", "v")
        point_dir_at_a_removed_directory(r)
        assert s.raw().cmd("BGSAVE") == "Background saving started"
        info = wait_saved(r)
        assert info["rdb_last_bgsave_status"] == "err"
        with pytest.raises(redis.exceptions.ResponseError, match="^MISCONF"):
            r.set("k2", "v")
        with pytest.raises(redis.exceptions.ResponseError, match="^MISCONF"):
            r.ping()
        assert r.get("k") == "v"
        r.config_set("stop-writes-on-bgsave-error", "no")
        assert r.set("k2", "v")
        r.config_set("stop-writes-on-bgsave-error", "yes")
        r.config_set("dir", tmpdir_path)
        assert r.save()
        assert r.info("persistence")["rdb_last_bgsave_status"] == "ok"
        assert r.set("k3", "v")


def test_dir_and_dbfilename_are_protected(r):
    for name in ("dir", "dbfilename"):
        with pytest.raises(redis.exceptions.ResponseError, match="can't set protected config"):
            r.config_set(name, "x")


def test_config_set_dir_must_exist(tmpdir_path):
    with served(tmpdir_path, extra=["--enable-protected-configs", "yes"]) as s:
        r = s.client()
        with pytest.raises(redis.exceptions.ResponseError, match="No such file or directory"):
            r.config_set("dir", "/nonexistent/df-test-dir")
        r.config_set("dbfilename", "other.rdb")
        assert r.save()
        assert os.path.exists(os.path.join(tmpdir_path, "other.rdb"))


def test_rdbchecksum_no_writes_a_zero_checksum(tmpdir_path):
    with served(tmpdir_path, extra=["--rdbchecksum", "no"]) as s:
        r = s.client()
        r.set("k", "v" * 100)
        assert r.save()
        path = os.path.join(tmpdir_path, "dump.rdb")
        assert open(path, "rb").read()[-8:] == b"\0" * 8
        check_rdb(path)
    with served(tmpdir_path) as s:
        assert s.client().get("k") == "v" * 100


def test_flushall_with_save_points_saves_the_empty_dataset(tmpdir_path):
    """Redis saves right after FLUSHALL when save points are set, so a restart (even after a
    crash) does not bring the flushed keys back."""
    with served(tmpdir_path, "3600 1") as s:
        r = s.client()
        r.set("old", 1)
        assert r.save()
        r.flushall()
        deadline = time.time() + 5
        while time.time() < deadline and r.info("persistence")["rdb_changes_since_last_save"]:
            time.sleep(0.05)
        wait_saved(r)
        s.proc.kill()  # no shutdown save: what is on disk is what FLUSHALL left
        s.proc.wait()
    with served(tmpdir_path) as s:
        assert s.client().dbsize() == 0


def test_start_up_load_answers_loading_then_serves(tmpdir_path):
    """While a big dump loads, commands get LOADING (PING too, as in Redis) and never a
    partial answer; afterwards every key is there."""
    with served(tmpdir_path) as s:
        populate(client(s), 300000, "k")
        assert client(s).save()
    port = free_port()
    if SERVER_KIND == "redis":
        cmd = ["/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--dir", tmpdir_path]
    else:
        cmd = [dragonfly_bin(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--dir", tmpdir_path, "--loglevel", "warning"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        seen_value = False
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
                v = c.get("k:299999")
                assert v == b"value:299999"  # never a missing key while loading
                seen_value = True
                break
            except redis.exceptions.BusyLoadingError:
                time.sleep(0.01)
            except redis.exceptions.ConnectionError:
                time.sleep(0.01)
        assert seen_value
        c = redis.Redis(host="127.0.0.1", port=port)
        assert c.dbsize() == 300000
        assert c.info("persistence")["loading"] == 0
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_shutdown_stays_up_when_the_final_save_fails(tmpdir_path):
    """As Redis: SHUTDOWN answers an error and the server keeps serving when the final save
    fails (here: its directory is gone); SHUTDOWN FORCE exits anyway."""
    with served(tmpdir_path, "3600 1", ["--enable-protected-configs", "yes"]) as s:
        r = s.client()
        r.set("k", "v")
        point_dir_at_a_removed_directory(r)
        assert s.raw().cmd("SHUTDOWN") == Error("ERR Errors trying to SHUTDOWN. Check logs.")
        assert r.get("k") == "v" and r.set("k2", "v")  # still up, writes allowed again
        s.raw().send(b"SHUTDOWN FORCE\r\n")
        assert s.proc.wait(timeout=15) == 0



# ------------------------------------------------------------------ big values, in slices

BIG = 300000
BIG_KEYS = ("bh", "bs", "bz", "bl", "bx")


def fill_big(c, n=BIG):
    """A hash, set, sorted set, list and stream of n elements each (element i is i)."""
    p = c.pipeline(transaction=False)
    for lo in range(0, n, 5000):
        hi = min(n, lo + 5000)
        p.hset("bh", mapping={f"f{i}": i for i in range(lo, hi)})
        p.sadd("bs", *range(lo, hi))
        p.zadd("bz", {f"m{i}": i for i in range(lo, hi)})
        p.rpush("bl", *range(lo, hi))
        for i in range(lo, hi):
            p.xadd("bx", {"i": i}, id=f"{i + 1}-1")
        p.execute()


def check_big(c, n=BIG, keys=BIG_KEYS):
    """keys hold exactly what fill_big wrote (nothing written after the cut)."""
    want = {
        "bh": {f"f{i}".encode(): str(i).encode() for i in range(n)},
        "bs": {str(i).encode() for i in range(n)},
        "bz": [(f"m{i}".encode(), float(i)) for i in range(n)],
        "bl": [str(i).encode() for i in range(n)],
    }
    got = {
        "bh": lambda: c.hgetall("bh"),
        "bs": lambda: c.smembers("bs"),
        "bz": lambda: c.zrange("bz", 0, -1, withscores=True),
        "bl": lambda: c.lrange("bl", 0, -1),
    }
    for k in keys:
        if k == "bx":
            xs = c.xrange("bx")
            assert len(xs) == n
            assert all(x == (f"{i + 1}-1".encode(), {b"i": str(i).encode()})
                       for i, x in enumerate(xs))
        else:
            assert got[k]() == want[k], k


def keep_writing(s, stop, errors, big=True):
    """Until stop: change the big keys (marked members in, originals out; one writer only,
    for the stream's explicit ids) or other keys."""
    c = client(s)
    i = 0
    try:
        while not stop.is_set():
            p = c.pipeline(transaction=False)
            for _ in range(50):
                i += 1
                if big:
                    p.hset("bh", f"late{i}", 1)
                    p.hdel("bh", f"f{i}")
                    p.sadd("bs", f"late{i}")
                    p.srem("bs", i)
                    p.zadd("bz", {f"late{i}": -i})
                    p.zrem("bz", f"m{i}")
                    p.rpush("bl", f"late{i}")
                    p.lpop("bl")
                    p.xadd("bx", {"late": i}, id=f"{BIG + i}-1")
                else:
                    p.set(f"other:{i % 1000}", f"late{i}")
            p.execute()
    except Exception as e:  # pragma: no cover - reported by the test
        errors.append(e)


def writers(s, stop, errors, big=True):
    """Started threads of keep_writing: one on the big keys (if big), one on others."""
    ts = [threading.Thread(target=keep_writing, args=(s, stop, errors, b))
          for b in ((True, False) if big else (False,))]
    for t in ts:
        t.start()
    return ts


def load_in_redis(path):
    """redis-server loads the file; returns it running (the caller stops it)."""
    check_rdb(os.path.join(path, "dump.rdb"))
    return Server(kind="redis", dir=path)


def test_bgsave_big_values_while_they_change(tmpdir_path):
    """BGSAVE of 300k-element values of every collection type while clients keep changing
    those very keys and others: the file is valid, loads in redis-server and holds exactly
    the values at the cut (no marked member written after BGSAVE's reply)."""
    s = Server(dir=tmpdir_path, args=["--save", ""])
    stop, errors = threading.Event(), []
    try:
        r = client(s)
        fill_big(r)
        r.mset({f"other:{i}": "before" for i in range(1000)})
        assert r.bgsave()
        threads = writers(s, stop, errors)
        wait_saved(r, timeout=120)
        stop.set()
        for t in threads:
            t.join()
        assert not errors
        assert r.info("persistence")["rdb_last_bgsave_status"] == "ok"
        assert r.hlen("bh") == BIG and r.sismember("bs", "late1")
    finally:
        stop.set()
        s.stop()
    red = load_in_redis(tmpdir_path)
    try:
        c = client(red)
        check_big(c)
        assert c.mget([f"other:{i}" for i in range(1000)]) == [b"before"] * 1000
    finally:
        red.stop()


def test_bgsave_big_values_deleted_expired_flushed(tmpdir_path):
    """Big values deleted, expired, overwritten or flushed right after BGSAVE's reply are in
    the file as they were at the cut."""
    with served(tmpdir_path, "") as s:
        r = client(s)
        fill_big(r, 100000)
        r5 = client(s, 5)
        r5.rpush("bl", *range(100000))
        assert r.bgsave()
        p = r.pipeline(transaction=False)
        p.delete("bh")
        p.unlink("bs")
        p.pexpire("bz", 1)
        p.set("bl", "now a string")
        p.rename("bx", "bx2")
        p.execute()
        r5.flushdb()
        wait_saved(r, timeout=120)
        assert r.exists("bh", "bs", "bz", "bx") == 0
    red = load_in_redis(tmpdir_path)
    try:
        check_big(client(red), 100000)
        assert client(red, 5).lrange("bl", 0, -1) == [str(i).encode() for i in range(100000)]
    finally:
        red.stop()


@pytest.mark.skipif(SERVER_KIND == "redis", reason="our INFO counters (Redis forks instead)")
def test_big_values_are_written_in_slices(tmpdir_path):
    """Each big value goes out in many slices (INFO rdb_big_value_slices), not in one step,
    and the file is the same keyspace. Writes to other keys go on meanwhile."""
    s = Server(dir=tmpdir_path, args=["--save", ""])
    stop, errors = threading.Event(), []
    try:
        r = client(s)
        fill_big(r)
        before = r.info("persistence")
        assert r.bgsave()
        threads = writers(s, stop, errors, big=False)
        after = wait_saved(r, timeout=120)
        stop.set()
        for t in threads:
            t.join()
        assert not errors
        sliced = after["rdb_big_values_sliced"] - before["rdb_big_values_sliced"]
        slices = after["rdb_big_value_slices"] - before["rdb_big_value_slices"]
        assert sliced == len(BIG_KEYS)
        assert slices >= len(BIG_KEYS) * 100  # 300k elements, a few hundred per slice
    finally:
        stop.set()
        s.stop()
    with served(tmpdir_path, "") as s2:
        check_big(client(s2))


# ---- DEBUG RELOAD ---------------------------------------------------------------------------

def debug_server():
    return Server(args=["--enable-debug-command", "yes"])


def test_debug_reload_keeps_the_dataset():
    s = debug_server()
    try:
        fill(s)
        c = s.client()
        c.execute_command("FUNCTION", "LOAD", "#!lua name=rl\nredis.register_function('f', function() return 1 end)")
        before = state(s)
        assert c.execute_command("DEBUG", "RELOAD") == "OK"
        assert state(s) == before
        assert c.execute_command("FCALL", "f", 0) == 1
        assert os.path.exists(os.path.join(s.dir, "dump.rdb"))
    finally:
        s.stop()


def test_debug_reload_nosave_replaces_with_the_file():
    s = debug_server()
    try:
        c = s.client()
        c.set("saved", "1")
        assert c.save()
        c.set("unsaved", "2")
        c.delete("saved")
        assert c.execute_command("DEBUG", "RELOAD", "NOSAVE") == "OK"
        assert (c.get("saved"), c.exists("unsaved")) == ("1", 0)
        c.set("kept", "3")
        assert c.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE") == "OK"
        assert (c.get("saved"), c.get("kept")) == ("1", "3")
        with pytest.raises(redis.ResponseError, match="only supports the MERGE, NOFLUSH and NOSAVE"):
            c.execute_command("DEBUG", "RELOAD", "BOGUS")
    finally:
        s.stop()


def test_debug_reload_other_clients_wait():
    s = debug_server()
    try:
        c = s.client()
        populate(c, 20000, "w")
        out = {}

        def writer():
            w = s.client()
            for i in range(200):
                w.incr("counter")
            out["n"] = w.get("counter")

        t = threading.Thread(target=writer)
        t.start()
        assert c.execute_command("DEBUG", "RELOAD") == "OK"
        t.join(30)
        assert out["n"] == "200"
        assert c.get("counter") == "200"
        assert c.dbsize() == 20001
    finally:
        s.stop()
