"""The append-only file (Redis 7.0's multi-part AOF): writes survive a kill, BGREWRITEAOF
compacts, CONFIG SET appendonly turns it on and off, damaged files are handled as Redis
handles them, and redis-server and we load each other's AOF directories.

Differential: every test that needs no second kind of server also runs against redis-server
(DF_TEST_SERVER=redis), which proves the expectation is Redis's."""
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import SERVER_KIND, Server, dragonfly_bin, free_port
from helpers import wait_for

AOF_DIR = "appendonlydir"
MANIFEST = "appendonly.aof.manifest"


def aof_server(dir, *extra):
    return Server(args=["--appendonly", "yes", *extra], dir=dir)


def manifest(dir):
    with open(os.path.join(dir, AOF_DIR, MANIFEST)) as f:
        return [line.split() for line in f.read().splitlines() if line.strip()]


def files_of(dir, kind):
    return [m[1] for m in manifest(dir) if m[5] == kind]


def last_incr(dir):
    return os.path.join(dir, AOF_DIR, files_of(dir, "i")[-1])


def wait_in_file(dir, marker):
    """A file of the manifest holds marker (written, not yet necessarily fsynced: a kill
    keeps it); a rewrite may have moved it into the base."""
    def there():
        try:
            for m in manifest(dir):
                with open(os.path.join(dir, AOF_DIR, m[1]), "rb") as f:
                    if marker.encode() in f.read():
                        return True
        except FileNotFoundError:  # not made yet, or replaced under us: look again
            pass
        return False
    wait_for(there, "the AOF to hold " + marker, timeout=20)


def rewrite_done(r):
    return r.info("persistence")["aof_rewrite_in_progress"] == 0 and \
        r.info("persistence")["aof_rewrite_scheduled"] == 0


def db3(r):
    kw = r.connection_pool.connection_kwargs
    return redis.Redis(host=kw["host"], port=kw["port"], db=3, decode_responses=True)


def fill(r):
    r.set("s", "v")
    r.set("ttl", "v", ex=1000)
    r.rpush("l", "a", "b", "c")
    r.hset("h", mapping={"f1": "1", "f2": "2"})
    r.sadd("set", "x", "y")
    r.zadd("z", {"m1": 1.5, "m2": 2})
    for _ in range(5):
        r.incr("n")
    r.delete("s")
    r.set("s", "again")
    p = r.pipeline(transaction=True)
    p.set("tx1", "1")
    p.lpush("l", "front")
    p.execute()
    r3 = db3(r)
    r3.set("in3", "three")
    r3.set("gone", "x")
    r3.delete("gone")


def state(r):
    r3 = db3(r)
    return {
        "s": r.get("s"), "ttl": r.get("ttl"), "ttl_set": 900 < r.ttl("ttl") <= 1000,
        "l": r.lrange("l", 0, -1), "h": r.hgetall("h"), "set": sorted(r.smembers("set")),
        "z": r.zrange("z", 0, -1, withscores=True), "n": r.get("n"), "tx1": r.get("tx1"),
        "in3": r3.get("in3"), "gone": r3.exists("gone"), "dbsize": r.dbsize(), "dbsize3": r3.dbsize(),
    }


EXPECTED = {
    "s": "again", "ttl": "v", "ttl_set": True, "l": ["front", "a", "b", "c"],
    "h": {"f1": "1", "f2": "2"}, "set": ["x", "y"], "z": [("m1", 1.5), ("m2", 2.0)], "n": "5",
    "tx1": "1", "in3": "three", "gone": 0, "dbsize": 8, "dbsize3": 1,
}


@pytest.fixture
def tmpdir_():
    d = tempfile.mkdtemp(prefix="df-aof-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_starts_with_a_base_and_an_incr_file(tmpdir_):
    s = aof_server(tmpdir_)
    try:
        r = s.client()
        wait_for(lambda: rewrite_done(r), "the first base")
        m = manifest(tmpdir_)
        assert [x[5] for x in m] == ["b", "i"]
        assert m[0][1] == "appendonly.aof.1.base.rdb" and m[1][1] == "appendonly.aof.1.incr.aof"
        info = r.info("persistence")
        assert info["aof_enabled"] == 1
        assert info["aof_last_write_status"] == "ok"
    finally:
        s.stop()


def test_writes_survive_a_kill(tmpdir_):
    s = aof_server(tmpdir_)
    try:
        r = s.client()
        fill(r)
        r.set("marker-kill", "1")
        wait_in_file(tmpdir_, "marker-kill")
    finally:
        s.stop(signal.SIGKILL)
    s = aof_server(tmpdir_)
    try:
        r = s.client()
        got = state(r)
        assert got == dict(EXPECTED, dbsize=EXPECTED["dbsize"] + 1)
    finally:
        s.stop()


def test_bgrewriteaof_compacts_and_keeps_everything(tmpdir_):
    s = aof_server(tmpdir_)
    try:
        r = s.client()
        wait_for(lambda: rewrite_done(r), "the first base")
        fill(r)
        for i in range(300):
            r.incr("counter")
        before = r.info("persistence")["aof_rewrites"]
        assert r.bgrewriteaof() in (True, "Background append only file rewriting started")
        wait_for(lambda: rewrite_done(r) and r.info("persistence")["aof_rewrites"] > before, "the rewrite")
        assert files_of(tmpdir_, "b") == ["appendonly.aof.2.base.rdb"]
        assert files_of(tmpdir_, "i") == ["appendonly.aof.2.incr.aof"]
        left = sorted(os.listdir(os.path.join(tmpdir_, AOF_DIR)))
        assert left == ["appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof", MANIFEST]
        r.set("after", "rewrite")
        wait_in_file(tmpdir_, "after")
    finally:
        s.stop(signal.SIGKILL)
    s = aof_server(tmpdir_)
    try:
        r = s.client()
        assert r.get("counter") == "300"
        assert r.get("after") == "rewrite"
        assert state(r) == dict(EXPECTED, dbsize=EXPECTED["dbsize"] + 2)
    finally:
        s.stop()


def test_config_set_appendonly_at_run_time(tmpdir_):
    s = Server(dir=tmpdir_)
    try:
        r = s.client()
        fill(r)
        assert r.config_get("appendonly") == {"appendonly": "no"}
        assert r.config_set("appendonly", "yes")
        wait_for(lambda: rewrite_done(r) and os.path.exists(os.path.join(tmpdir_, AOF_DIR, MANIFEST)),
                 "the AOF's first rewrite")
        assert r.info("persistence")["aof_enabled"] == 1
        r.set("later", "1")
        wait_in_file(tmpdir_, "later")
    finally:
        s.stop(signal.SIGKILL)
    s = aof_server(tmpdir_)
    try:
        r = s.client()
        assert r.get("later") == "1"
        assert state(r) == dict(EXPECTED, dbsize=EXPECTED["dbsize"] + 1)
        # turned off: later writes are not appended; the files stay
        assert r.config_set("appendonly", "no")
        r.set("not-in-aof", "1")
        time.sleep(0.3)
        with open(last_incr(tmpdir_), "rb") as f:
            assert b"not-in-aof" not in f.read()
        assert r.info("persistence")["aof_enabled"] == 0
    finally:
        s.stop()


def test_bgrewriteaof_with_the_aof_off_writes_a_base(tmpdir_):
    s = Server(dir=tmpdir_)
    try:
        r = s.client()
        r.set("k", "v")
        r.bgrewriteaof()
        wait_for(lambda: rewrite_done(r) and os.path.exists(os.path.join(tmpdir_, AOF_DIR, MANIFEST)),
                 "the rewrite")
        assert [x[5] for x in manifest(tmpdir_)] == ["b"]
    finally:
        s.stop()
    s = aof_server(tmpdir_)
    try:
        assert s.client().get("k") == "v"
    finally:
        s.stop()


def killed_with(tmpdir_, tail):
    """An AOF whose last incr file ends with tail (a crash mid-write)."""
    s = aof_server(tmpdir_)
    try:
        r = s.client()
        wait_for(lambda: rewrite_done(r), "the first base")  # else a and b may land in it
        r.set("a", "1")
        r.set("b", "2")
        wait_in_file(tmpdir_, "$1\r\nb\r\n")
    finally:
        s.stop(signal.SIGKILL)
    path = last_incr(tmpdir_)
    size = os.path.getsize(path)
    with open(path, "ab") as f:
        f.write(tail)
    return path, size


def test_truncated_last_command_is_dropped(tmpdir_):
    path, size = killed_with(tmpdir_, b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$10\r\nabc")
    s = aof_server(tmpdir_)
    try:
        r = s.client()
        assert (r.get("a"), r.get("b"), r.exists("c")) == ("1", "2", 0)
        assert os.path.getsize(path) >= size  # cut back to the last whole command, then appended to
        r.set("d", "4")
        wait_in_file(tmpdir_, "$1\r\nd\r\n")
        with open(path, "rb") as f:
            assert b"abc" not in f.read()
    finally:
        s.stop()


def test_unfinished_multi_is_dropped(tmpdir_):
    killed_with(tmpdir_, b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n3\r\n")
    s = aof_server(tmpdir_)
    try:
        r = s.client()
        assert (r.get("a"), r.exists("c")) == ("1", 0)
    finally:
        s.stop()


def start_fails(tmpdir_, *extra):
    kind_bin = dragonfly_bin() if SERVER_KIND != "redis" else os.environ.get("REDIS_BIN", "/usr/bin/redis-server")
    cmd = [kind_bin, "--port", str(free_port()), "--bind", "127.0.0.1", "--dir", tmpdir_,
           "--appendonly", "yes", *extra]
    if SERVER_KIND != "redis":
        cmd += ["--threads", "1"]
    p = subprocess.run(cmd, capture_output=True, timeout=30)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


def test_truncated_file_refused_without_aof_load_truncated(tmpdir_):
    killed_with(tmpdir_, b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$10\r\nabc")
    code, out = start_fails(tmpdir_, "--aof-load-truncated", "no")
    assert code != 0
    assert "Unexpected end of file reading the append only file" in out


def test_garbage_refuses_to_start(tmpdir_):
    killed_with(tmpdir_, b"this is not RESP\r\n*1\r\n$4\r\nPING\r\n")
    code, out = start_fails(tmpdir_)
    assert code != 0
    assert "Bad file format reading the append only file" in out


def test_config_parameters(tmpdir_):
    s = aof_server(tmpdir_, "--appendfsync", "always")
    try:
        r = s.client()
        assert r.config_get("appendfsync") == {"appendfsync": "always"}
        assert r.config_set("appendfsync", "no")
        assert r.config_get("appendfilename") == {"appendfilename": "appendonly.aof"}
        assert r.config_get("appenddirname") == {"appenddirname": "appendonlydir"}
        with pytest.raises(redis.ResponseError):
            r.config_set("appendfsync", "sometimes")
        wait_for(lambda: rewrite_done(r), "the first base")  # else k may land in it
        r.set("k", "v")
        wait_in_file(tmpdir_, "$1\r\nk\r\n")
    finally:
        s.stop()
    code, out = start_fails(tmpdir_, "--appendfilename", "a/b")
    assert code != 0


def test_shutdown_writes_everything(tmpdir_):
    s = aof_server(tmpdir_, "--appendfsync", "no")
    try:
        r = s.client()
        p = r.pipeline(transaction=False)
        for i in range(2000):
            p.set(f"k{i}", i)
        p.execute()
    finally:
        s.stop()  # SIGTERM: a clean shutdown writes and syncs what the AOF thread still had
    s = aof_server(tmpdir_)
    try:
        assert s.client().dbsize() == 2000
    finally:
        s.stop()


# ---- across kinds ---------------------------------------------------------------------------

def _both():
    return os.path.exists(os.environ.get("REDIS_BIN", "/usr/bin/redis-server")) and \
        os.path.exists(dragonfly_bin())


@pytest.mark.parametrize("writer,reader", [("dragonfly", "redis"), ("redis", "dragonfly")])
def test_each_loads_the_others_aof(tmpdir_, writer, reader):
    if not _both():
        pytest.skip("needs redis-server and our binary")
    w = Server(kind=writer, args=["--appendonly", "yes"], dir=tmpdir_)
    try:
        r = w.client()
        wait_for(lambda: rewrite_done(r), "the first base")
        fill(r)
        assert r.info("persistence")["aof_rewrites"] == 0  # the first base is no rewrite
        r.bgrewriteaof()
        wait_for(lambda: rewrite_done(r) and r.info("persistence")["aof_rewrites"] == 1, "the rewrite")
        r.set("after-rewrite", "yes")
        r.incrby("n", 10)
    finally:
        w.stop()
    rd = Server(kind=reader, args=["--appendonly", "yes"], dir=tmpdir_)
    try:
        r = rd.client()
        got = state(r)
        assert got == dict(EXPECTED, n="15", dbsize=EXPECTED["dbsize"] + 1)
        assert r.get("after-rewrite") == "yes"
    finally:
        rd.stop()
    check = subprocess.run(["redis-check-aof", os.path.join(tmpdir_, AOF_DIR, MANIFEST)],
                           capture_output=True, timeout=30)
    assert b"All AOF files and manifest are valid" in check.stdout + check.stderr


@pytest.mark.skipif(SERVER_KIND == "redis", reason="uses two of our servers' start-up flags only")
def test_a_replica_keeps_an_aof_of_what_it_follows(tmpdir_):
    m = Server()
    rep = None
    try:
        mc = m.client()
        mc.set("before-sync", "1")
        rep = Server(args=["--appendonly", "yes", "--replicaof", f"127.0.0.1 {m.port}"], dir=tmpdir_)
        rc = rep.client()
        wait_for(lambda: rc.get("before-sync") == "1", "the full sync")
        mc.set("streamed", "2")
        mc.rpush("list", "x", "y")
        wait_for(lambda: rc.get("streamed") == "2" and rc.llen("list") == 2, "the stream")
        wait_for(lambda: rewrite_done(rc), "the AOF's rewrite after the sync")
        mc.set("marker-rep", "3")
        wait_in_file(tmpdir_, "marker-rep")
    finally:
        if rep:
            rep.stop(signal.SIGKILL)
        m.stop()
    s = aof_server(tmpdir_)
    try:
        r = s.client()
        assert (r.get("before-sync"), r.get("streamed"), r.lrange("list", 0, -1), r.get("marker-rep")) == \
            ("1", "2", ["x", "y"], "3")
    finally:
        s.stop()


@pytest.mark.parametrize("preamble", [True, False])
def test_a_single_file_aof_of_redis_6_is_upgraded(tmpdir_, preamble):
    """dir/appendonly.aof (an RDB preamble and commands, or commands alone) moves into the
    AOF directory as the base of a new manifest, and loads, as in Redis 7.0."""
    tail = b"*3\r\n$3\r\nSET\r\n$4\r\ntail\r\n$1\r\n1\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n" \
           b"*3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\nx\r\n"
    head = b""
    if preamble:
        src = Server(dir=tempfile.mkdtemp(prefix="df-aof-src-"))
        try:
            c = src.client()
            c.set("from-rdb", "yes")
            c.hset("h", "f", "v")
            assert c.save()
            with open(os.path.join(src.dir, "dump.rdb"), "rb") as f:
                head = f.read()
        finally:
            src.stop()
    with open(os.path.join(tmpdir_, "appendonly.aof"), "wb") as f:
        f.write(head + tail)
    s = aof_server(tmpdir_)
    try:
        r = s.client()
        assert r.get("tail") == "1"
        r2 = redis.Redis(host=s.host, port=s.port, db=2, decode_responses=True)
        assert r2.lrange("l", 0, -1) == ["x"]
        if preamble:
            assert (r.get("from-rdb"), r.hgetall("h")) == ("yes", {"f": "v"})
        assert not os.path.exists(os.path.join(tmpdir_, "appendonly.aof"))
        assert files_of(tmpdir_, "b") == ["appendonly.aof"]
        r.set("after-upgrade", "1")
        wait_in_file(tmpdir_, "after-upgrade")
    finally:
        s.stop()
    s = aof_server(tmpdir_)
    try:
        r = s.client()
        assert (r.get("tail"), r.get("after-upgrade")) == ("1", "1")
    finally:
        s.stop()


def test_bgrewriteaof_with_the_aof_off_replaces_an_earlier_aof(tmpdir_):
    s = aof_server(tmpdir_)
    try:
        r = s.client()
        r.set("old", "1")
        wait_in_file(tmpdir_, "old")
    finally:
        s.stop()
    with contextlib.suppress(FileNotFoundError):  # our final save's: this start is empty
        os.unlink(os.path.join(tmpdir_, "dump.rdb"))
    s = Server(dir=tmpdir_)
    try:
        r = s.client()
        r.set("new", "2")
        r.bgrewriteaof()
        wait_for(lambda: rewrite_done(r) and files_of(tmpdir_, "b") == ["appendonly.aof.2.base.rdb"],
                 "the rewrite")
        assert [x[5] for x in manifest(tmpdir_)] == ["b"]
        assert sorted(os.listdir(os.path.join(tmpdir_, AOF_DIR))) == ["appendonly.aof.2.base.rdb", MANIFEST]
    finally:
        s.stop()
    s = aof_server(tmpdir_)
    try:
        assert (s.client().get("new"), s.client().exists("old")) == ("2", 0)
    finally:
        s.stop()


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


@pytest.mark.parametrize("tail", [
    resp("QUIT") + resp("SET", "c", "3"),   # the loader's client is no client: nothing closes it
    resp("BLPOP", "nolist", "0") + resp("SET", "c", "3"),  # never blocks (Redis: deny-blocking)
    resp("SET", "c", "3") + resp("QUIT"),
], ids=["quit", "blpop", "quit-last"])
def test_connection_and_blocking_commands_in_the_aof(tmpdir_, tail):
    killed_with(tmpdir_, tail)
    s = aof_server(tmpdir_)
    try:
        r = s.client()
        assert (r.get("a"), r.get("b"), r.get("c")) == ("1", "2", "3")
    finally:
        s.stop()


@pytest.mark.skipif(SERVER_KIND == "redis", reason="ours: Redis reads $04 as 4")
def test_a_command_the_loading_client_refuses_fails_the_load(tmpdir_):
    # a length with a leading zero passes the loader's walk but not the client's parser: the
    # client closes and the load fails (it once used the freed client)
    killed_with(tmpdir_, resp("SET", "c", "3") + b"*1\r\n$04\r\nPING\r\n")
    code, out = start_fails(tmpdir_)
    assert code != 0
    assert "the loading client closed" in out
    assert "AddressSanitizer" not in out


def test_an_unknown_command_refuses_to_start(tmpdir_):
    killed_with(tmpdir_, b"*2\r\n$9\r\nNOSUCHCMD\r\n$1\r\nx\r\n")
    code, out = start_fails(tmpdir_)
    assert code != 0
    assert "Unknown command 'NOSUCHCMD' reading the append only file" in out


def test_the_loader_is_not_bound_by_proto_max_bulk_len(tmpdir_):
    """As Redis's AOF client (and master link), the loader takes values above the limit."""
    s = aof_server(tmpdir_)
    try:
        r = s.client()
        r.set("big", "x" * (2 << 20))
        r.set("marker-big", "1")
        wait_in_file(tmpdir_, "marker-big")
    finally:
        s.stop(signal.SIGKILL)
    s = aof_server(tmpdir_, "--proto-max-bulk-len", "1mb")
    try:
        assert s.client().strlen("big") == 2 << 20
    finally:
        s.stop()


def test_rewrites_under_writes_lose_nothing(tmpdir_):
    """Writers on every shard while BGREWRITEAOF runs three times: after a kill, every write
    is there exactly once (the cut splits the stream between base and incr files)."""
    import threading
    s = aof_server(tmpdir_)
    stop = threading.Event()
    counts, errors = {}, []

    def writer(n):
        c = s.client()
        i = 0
        try:
            while not stop.is_set() or i < 200:
                c.incr(f"ctr:{n}")
                c.rpush(f"list:{n % 3}", f"{n}:{i}")
                i += 1
        except Exception as e:  # noqa: BLE001
            errors.append(e)
        counts[n] = i

    try:
        r = s.client()
        wait_for(lambda: rewrite_done(r), "the first base")
        p = r.pipeline(transaction=False)
        for lo in range(0, 100000, 1000):  # enough data that a rewrite takes a while
            p.mset({f"fill:{i}": "v" * 50 for i in range(lo, lo + 1000)})
        p.execute()
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for k in range(3):
            before = r.info("persistence")["aof_rewrites"]
            r.bgrewriteaof()
            wait_for(lambda: rewrite_done(r) and r.info("persistence")["aof_rewrites"] > before,
                     "rewrite %d" % k)
        stop.set()
        for t in threads:
            t.join()
        assert not errors
        r.set("marker-stress", "1")
        wait_in_file(tmpdir_, "marker-stress")
    finally:
        s.stop(signal.SIGKILL)
    s = aof_server(tmpdir_)
    try:
        r = s.client()
        assert r.dbsize() == 100000 + 6 + 3 + 1
        for n, i in counts.items():
            assert r.get(f"ctr:{n}") == str(i)
        for m in range(3):
            items = r.lrange(f"list:{m}", 0, -1)
            assert len(items) == len(set(items)) == sum(i for n, i in counts.items() if n % 3 == m)
    finally:
        s.stop()


def test_bgsave_during_a_rewrite(tmpdir_):
    s = aof_server(tmpdir_, "--save", "")
    try:
        r = s.client()
        wait_for(lambda: rewrite_done(r), "the first base")
        p = r.pipeline(transaction=False)
        for lo in range(0, 300000, 1000):
            p.mset({f"k:{i}": "v" * 20 for i in range(lo, lo + 1000)})
        p.execute()
        r.bgrewriteaof()
        try:
            got = r.execute_command("BGSAVE")
        except redis.ResponseError as e:
            got = str(e)
        assert got in (True, "Background saving started", b"Background saving started",
                       "Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE "
                       "SCHEDULE in order to schedule a BGSAVE whenever possible."), got
        wait_for(lambda: rewrite_done(r), "the rewrite")
    finally:
        s.stop()


def test_the_streams_acks_stay_out_of_the_aof(tmpdir_):
    s = aof_server(tmpdir_)
    try:
        r = s.client()
        wait_for(lambda: rewrite_done(r), "the first base")  # then the writes stay in the incr
        r.set("a", "1")
        r.execute_command("WAIT", 0, 0)  # ours asks replicas (none) for an ack in the stream
        r.set("marker-wait", "1")
        wait_in_file(tmpdir_, "marker-wait")
        with open(last_incr(tmpdir_), "rb") as f:
            data = f.read()
        assert b"REPLCONF" not in data and b"PING" not in data
        assert data.count(b"$3\r\nset\r\n") + data.count(b"$3\r\nSET\r\n") == 2
    finally:
        s.stop()


# ---- appendfsync always: a reply means the write is on disk -------------------------------

def incr_bytes(dir):
    """Everything the incr files hold now (what a kill would keep)."""
    data = b""
    for name in files_of(dir, "i"):
        with open(os.path.join(dir, AOF_DIR, name), "rb") as f:
            data += f.read()
    return data


def always_writes(r, dir):
    """Writes of each kind; after each reply its bytes are in the file already (Redis writes
    and fsyncs before it replies)."""
    for i in range(40):
        r.set(f"al:{i}", f"mk-set-{i}")
        assert f"mk-set-{i}".encode() in incr_bytes(dir), i
    p = r.pipeline(transaction=False)
    for i in range(50):  # keys on every shard, one round trip
        p.set(f"pl:{i}", f"mk-pipe-{i}")
    p.execute()
    data = incr_bytes(dir)
    assert all(f"mk-pipe-{i}".encode() in data for i in range(50))
    p = r.pipeline(transaction=True)
    p.set("tx:a", "mk-tx-a")
    p.set("tx:b", "mk-tx-b")
    p.execute()
    data = incr_bytes(dir)
    assert b"mk-tx-a" in data and b"mk-tx-b" in data
    r.eval("return redis.call('set', KEYS[1], ARGV[1])", 1, "ev", "mk-eval")
    assert b"mk-eval" in incr_bytes(dir)
    r.hset("h", "f", "mk-hset")
    assert b"mk-hset" in incr_bytes(dir)


@pytest.mark.parametrize("how", ["flag", "config-set"])
def test_appendfsync_always_replies_after_the_write_is_in_the_file(tmpdir_, how):
    s = aof_server(tmpdir_, *(["--appendfsync", "always"] if how == "flag" else []))
    try:
        r = s.client()
        wait_for(lambda: rewrite_done(r), "the first base")
        if how == "config-set":
            assert r.config_set("appendfsync", "always")
            r.ping()
        always_writes(r, tmpdir_)
        r.get("al:0")  # reads need not wait, but answer as ever
        assert r.dbsize() == 40 + 50 + 2 + 2
    finally:
        s.stop(signal.SIGKILL)  # right after the last reply: nothing acknowledged may be lost
    s = aof_server(tmpdir_)
    try:
        r = s.client()
        assert r.dbsize() == 94
        assert r.get("al:39") == "mk-set-39" and r.get("pl:49") == "mk-pipe-49"
        assert r.get("ev") == "mk-eval" and r.hget("h", "f") == "mk-hset"
    finally:
        s.stop()


def test_appendfsync_always_many_clients_lose_nothing(tmpdir_):
    """Concurrent writers (keys on every shard) under appendfsync always: every reply comes
    (no client is left parked), and a kill right after the last keeps every acknowledged
    write."""
    import threading
    s = aof_server(tmpdir_, "--appendfsync", "always")
    errors = []
    try:
        r = s.client()
        wait_for(lambda: rewrite_done(r), "the first base")

        def writer(n):
            try:
                c = s.client()
                for i in range(100):
                    c.incr(f"ctr:{n}")
                    if i % 10 == 0:
                        p = c.pipeline(transaction=False)
                        for j in range(10):
                            p.rpush(f"list:{n}", j)
                        p.execute()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
        ts = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        assert not errors
        assert not any(t.is_alive() for t in ts)
    finally:
        s.stop(signal.SIGKILL)
    s = aof_server(tmpdir_)
    try:
        r = s.client()
        for n in range(8):
            assert r.get(f"ctr:{n}") == "100"
            assert r.llen(f"list:{n}") == 100
    finally:
        s.stop()


def test_aof_timestamp_annotations(tmpdir_):
    """aof-timestamp-enabled writes #TS:<seconds> ahead of each new second's commands; the
    AOF still loads, and redis-check-aof --truncate-to-timestamp keeps what came up to a
    second (here: before the last one)."""
    s = aof_server(tmpdir_, "--aof-timestamp-enabled", "yes")
    try:
        r = s.client()
        wait_for(lambda: rewrite_done(r), "the first base")
        r.set("early", "1")
        wait_in_file(tmpdir_, "early")
        time.sleep(1.1)
        r.set("late", "2")
        wait_in_file(tmpdir_, "late")
    finally:
        s.stop()
    with open(last_incr(tmpdir_), "rb") as f:
        data = f.read()
    stamps = [int(line[4:]) for line in data.split(b"\r\n") if line.startswith(b"#TS:")]
    assert len(stamps) >= 2 and stamps == sorted(stamps)
    assert data.index(b"#TS:%d" % stamps[-1]) < data.index(b"late")
    s = aof_server(tmpdir_)
    try:
        assert s.client().mget("early", "late") == ["1", "2"]
    finally:
        s.stop()
    check = subprocess.run(["redis-check-aof", "--truncate-to-timestamp", str(stamps[-1] - 1),
                            os.path.join(tmpdir_, AOF_DIR, MANIFEST)],
                           input="y\n", capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    s = aof_server(tmpdir_)
    try:
        assert s.client().mget("early", "late") == ["1", None]
    finally:
        s.stop()
