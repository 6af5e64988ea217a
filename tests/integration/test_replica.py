"""Replication, replica side: our server follows a redis-server 7.0 master (REPLICAOF,
--replicaof): full sync (diskless EOF-marked and length-prefixed), the command stream,
READONLY, REPLICAOF NO ONE, re-sync after the master restarts. With DF_TEST_SERVER=redis the
replica is redis-server too, which proves each expectation is Redis's."""
import subprocess
import threading
import time

import pytest
import redis

from conftest import SERVER_KIND, Server
from test_snapshot import DBS, client, fill, state



def master(diskless="yes"):
    return Server(kind="redis", args=["--repl-diskless-sync", diskless,
                                      "--repl-diskless-sync-delay", "0"])


def info(s, section="replication"):
    return client(s).info(section)


def wait_for(pred, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if pred():
                return
        except redis.exceptions.BusyLoadingError:
            pass
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def link_up(rep):
    return info(rep).get("master_link_status") == "up"


def caught_up(m, rep):
    """The replica has processed everything the master has sent so far."""
    want = info(m)["master_repl_offset"]
    return link_up(rep) and info(rep)["slave_repl_offset"] >= want


def replica_of(m, extra=()):
    return Server(args=["--replicaof", f"127.0.0.1 {m.port}"] + list(extra))


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_full_sync_and_stream(diskless):
    m = master(diskless)
    rep = None
    try:
        fill(m)
        rep = replica_of(m)
        wait_for(lambda: link_up(rep), "the link")
        wait_for(lambda: caught_up(m, rep), "the full sync")
        assert state(rep) == state(m)
        c = client(m)
        c.set("int", 99)
        c.incrby("int", 2)
        c.lpush("lsmall", "new")
        c.hset("hsmall", "f3", "v3")
        c.delete("raw")
        c.expire("emb", 1000)
        c.zincrby("zsmall", 10, "a")
        p = c.pipeline(transaction=True)
        p.set("tx1", 1)
        p.set("tx2", 2)
        p.execute()
        client(m, 5).set("five", "5")
        client(m, 5).flushdb()
        client(m, 5).set("after-flush", "x")
        wait_for(lambda: caught_up(m, rep), "the stream")
        assert state(rep) == state(m)
        assert client(rep).ttl("emb") > 900
    finally:
        if rep:
            rep.stop()
        m.stop()


def test_replica_is_read_only_and_promotes():
    m = master()
    rep = None
    try:
        client(m).set("k", "v")
        rep = replica_of(m)
        wait_for(lambda: caught_up(m, rep), "the sync")
        r = rep.client()
        assert r.get("k") == "v"
        with pytest.raises(redis.exceptions.ReadOnlyError):
            r.set("k", "mine")
        role = r.execute_command("ROLE")
        assert role[0] == "slave" and role[1] == "127.0.0.1" and int(role[2]) == m.port
        assert info(rep)["role"] == "slave"
        assert r.execute_command("REPLICAOF", "NO", "ONE") in (True, "OK")
        assert info(rep)["role"] == "master"
        assert r.set("k", "mine")
        client(m).set("k", "master's")
        time.sleep(0.3)
        assert r.get("k") == "mine"  # no longer following
    finally:
        if rep:
            rep.stop()
        m.stop()


def test_replicaof_at_runtime_replaces_the_data():
    m = master()
    rep = Server()
    try:
        client(m).set("from-master", 1)
        r = rep.client()
        r.set("only-here", 1)
        assert r.execute_command("REPLICAOF", "127.0.0.1", m.port) in (True, "OK")
        wait_for(lambda: caught_up(m, rep), "the sync")
        assert r.exists("only-here") == 0
        assert r.get("from-master") == "1"
        assert r.execute_command("REPLICAOF", "127.0.0.1", m.port) in (
            "OK Already connected to specified master", b"OK Already connected to specified master")
    finally:
        rep.stop()
        m.stop()


def test_resync_after_the_master_restarts():
    m = master()
    port = m.port
    rep = None
    try:
        client(m).set("gen", 1)
        rep = replica_of(m)
        wait_for(lambda: caught_up(m, rep), "the first sync")
        m.stop()
        wait_for(lambda: not link_up(rep), "the link to go down")
        m = Server(kind="redis", port=port, args=["--repl-diskless-sync-delay", "0"])
        client(m).set("gen", 2)
        wait_for(lambda: caught_up(m, rep) and client(rep).get("gen") == b"2", "the re-sync")
    finally:
        if rep:
            rep.stop()
        m.stop()


def test_role_of_a_master(r):
    assert r.execute_command("REPLCONF") in (True, "OK")  # no option: nothing to do
    role = r.execute_command("ROLE")
    assert role[0] == "master" and int(role[1]) >= 0 and list(role[2]) == []


# ------------------------------------------------------------------ our server as the master

def drive(m):
    """Writes of every kind the stream must carry, on a master with data."""
    c = client(m)
    c.set("int", 99)
    c.incrby("int", 2)
    c.lpush("lsmall", "new")
    c.mset({"a{1}": 1, "b{2}": 2, "c{3}": 3})
    c.delete("raw", "missing")
    c.set("short", "v", px=200)
    c.expire("emb", 1000)
    c.zincrby("zsmall", 10, "a")
    c.sadd("sint", 1000)
    c.sadd("pop", *range(40))
    c.spop("pop", 5)  # random: replicas must remove the same members
    c.spop("pop")
    c.setex("ttl-rel", 1000, "v")  # relative: replicas must end at the same deadline
    p = c.pipeline(transaction=True)
    p.set("tx1", 1)
    p.incr("tx1")
    p.rpush("tx-list", "x")
    p.execute()
    c5 = client(m, 5)
    c5.set("five", "5")
    c5.flushdb()
    c5.set("after-flush", "x")
    blocker = client(m)
    got = []
    t = threading.Thread(target=lambda: got.append(blocker.blpop("queue", timeout=10)))
    t.start()
    time.sleep(0.2)
    c.rpush("queue", "job1", "job2")
    t.join()
    assert got and got[0] == (b"queue", b"job1")
    time.sleep(0.4)  # "short" expires: the master's DEL reaches the replica
    c.get("short")


@pytest.mark.parametrize("replica_kind", ["redis", "same"])
def test_replicas_follow_our_master(replica_kind):
    m = Server()
    rep = None
    try:
        fill(m)
        kind = "redis" if replica_kind == "redis" else SERVER_KIND
        rep = Server(kind=kind, args=["--replicaof", f"127.0.0.1 {m.port}"])
        wait_for(lambda: link_up(rep), "the link")
        wait_for(lambda: state(rep) == state(m), "the full sync")
        drive(m)
        wait_for(lambda: state(rep) == state(m), "the stream")
        assert client(rep).exists("short") == 0
        assert abs(client(rep).pttl("ttl-rel") - client(m).pttl("ttl-rel")) < 100
        roles = info(m)
        assert roles["connected_slaves"] == 1
        assert roles["slave0"]["state"] == "online"
    finally:
        if rep:
            rep.stop()
        m.stop()


def test_our_master_survives_a_replica_going_away():
    m = Server()
    try:
        client(m).set("k", 1)
        rep = Server(kind="redis", args=["--replicaof", f"127.0.0.1 {m.port}"])
        wait_for(lambda: link_up(rep), "the link")
        rep.stop()
        for i in range(200):
            client(m).set(f"k{i}", i)  # writes after the replica left
        wait_for(lambda: info(m)["connected_slaves"] == 0, "the replica to be dropped")
        rep2 = Server(kind="redis", args=["--replicaof", f"127.0.0.1 {m.port}"])
        try:
            wait_for(lambda: state(rep2) == state(m), "a second replica's sync")
        finally:
            rep2.stop()
    finally:
        m.stop()


@pytest.mark.parametrize("replica_kind", ["redis", "same"])
def test_wait_counts_replicas_that_have_the_writes(replica_kind):
    m = Server()
    reps = []
    try:
        c = m.client()
        assert c.execute_command("WAIT", 0, 0) == 0
        assert c.execute_command("WAIT", 1, 50) == 0  # no replica: times out with 0
        kind = "redis" if replica_kind == "redis" else SERVER_KIND
        reps = [Server(kind=kind, args=["--replicaof", f"127.0.0.1 {m.port}"]) for _ in range(2)]
        wait_for(lambda: all(link_up(r) for r in reps), "the links")
        wait_for(lambda: info(m)["connected_slaves"] == 2, "the master to see both")
        for i in range(100):
            c.set(f"w{i}", i)
        assert c.execute_command("WAIT", 2, 5000) == 2
        assert all(r.client().get("w99") == "99" for r in reps)  # WAIT said they have it
        assert c.execute_command("WAIT", 3, 200) == 2  # a third one does not exist
        with pytest.raises(redis.exceptions.ResponseError, match="replica instances"):
            reps[0].client().execute_command("WAIT", 1, 10)
    finally:
        for r in reps:
            r.stop()
        m.stop()


def test_redis_cli_rdb_backup(tmp_path):
    """`redis-cli --rdb` (SYNC) takes a backup of a running server."""
    m = Server()
    try:
        c = m.client()
        for i in range(500):
            c.set(f"b{i}", i)
        out = tmp_path / "backup.rdb"
        res = subprocess.run(["redis-cli", "-p", str(m.port), "--rdb", str(out)],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stdout + res.stderr
        check = subprocess.run(["redis-check-rdb", str(out)], capture_output=True, text=True)
        assert "RDB looks OK" in check.stdout and "500 keys read" in check.stdout
    finally:
        m.stop()
