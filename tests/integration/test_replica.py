"""Replication, replica side: our server follows a redis-server 7.0 master (REPLICAOF,
--replicaof): full sync (diskless EOF-marked and length-prefixed), the command stream,
READONLY, REPLICAOF NO ONE, re-sync after the master restarts. With DF_TEST_SERVER=redis the
replica is redis-server too, which proves each expectation is Redis's."""
import signal
import socket
import subprocess
import threading
import time

import pytest
import redis

from conftest import SERVER_KIND, Server, free_port
from helpers import wait_for
from resp import RawClient, encode
from test_snapshot import (BIG_KEYS, DBS, client, fill, fill_big, state, value_of,
                           writers)



def master(diskless="yes", extra=()):
    return Server(kind="redis", args=["--repl-diskless-sync", diskless,
                                      "--repl-diskless-sync-delay", "0"] + list(extra))


def info(s, section="replication"):
    return client(s).info(section)


def link_up(rep):
    return info(rep).get("master_link_status") == "up"


def caught_up(m, rep):
    """The replica has processed everything the master has sent so far."""
    want = info(m)["master_repl_offset"]
    return link_up(rep) and info(rep)["slave_repl_offset"] >= want


def replica_of(m, extra=()):
    return Server(args=["--replicaof", f"127.0.0.1 {m.port}"] + list(extra))


def stop_all(*servers):
    for s in servers:
        if s:
            s.stop()


def replica_kind_of(m, replica_kind):
    """A replica of m: redis-server ("redis"), or the server under test ("same")."""
    kind = "redis" if replica_kind == "redis" else SERVER_KIND
    return Server(kind=kind, args=["--replicaof", f"127.0.0.1 {m.port}"])


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


@pytest.mark.parametrize("side", ["master", "replica"])
def test_partial_resync_after_a_lost_link(side):
    """A dropped link is resumed with PSYNC <replid> <offset+1>: the master answers +CONTINUE
    and sends only what the replica missed, which lands in the db the stream had selected."""
    m = master()
    rep = None
    try:
        fill(m)
        rep = replica_of(m)
        wait_for(lambda: caught_up(m, rep), "the full sync")
        c, c5 = client(m), client(m, 5)
        c.set("counter", 1)
        c5.set("in-db5", 1)  # the stream has db 5 selected when the link drops
        wait_for(lambda: caught_up(m, rep), "the stream")
        if side == "master":
            assert c.execute_command("CLIENT", "KILL", "TYPE", "replica") == 1
        else:
            assert client(rep).execute_command("CLIENT", "KILL", "TYPE", "master") == 1
        c5.incr("in-db5")  # no SELECT before it in the stream: db 5 is still selected
        c.incr("counter")
        c.rpush("missed", *range(100))
        wait_for(lambda: caught_up(m, rep) and client(rep).llen("missed") == 100, "the resync")
        assert state(rep) == state(m)
        assert client(rep, 5).get("in-db5") == b"2"
        stats = info(m, "stats")
        assert stats["sync_full"] == 1 and stats["sync_partial_ok"] == 1
        ours, theirs = info(rep), info(m)
        assert ours["master_replid"] == theirs["master_replid"]
        assert ours["master_repl_offset"] == theirs["master_repl_offset"]
    finally:
        stop_all(rep, m)


def test_links_lost_under_a_write_load_resume_exactly():
    """Links dropped while pipelines of INCR, MULTI/EXEC and multi-key writes stream in: each
    resync continues at the exact byte applied (a command applied twice or lost would show in
    the counters). The backlog is big enough for how far the replica may lag."""
    m = master(extra=["--repl-backlog-size", "64mb"])
    rep = None
    try:
        rep = replica_of(m)
        wait_for(lambda: caught_up(m, rep), "the full sync")
        stop = threading.Event()

        def load():
            c = client(m)
            while not stop.is_set():
                p = c.pipeline(transaction=False)
                for i in range(50):
                    p.incr(f"n{i % 7}")
                    p.mset({f"a{i % 5}": i, f"b{i % 3}": i})
                p.execute()
                p = c.pipeline(transaction=True)
                p.incr("tx")
                p.rpush("tx-list", 1)
                p.execute()

        t = threading.Thread(target=load)
        t.start()
        try:
            for _ in range(5):
                wait_for(lambda: link_up(rep), "the link")
                time.sleep(0.1)
                client(m).execute_command("CLIENT", "KILL", "TYPE", "replica")
        finally:
            stop.set()
            t.join()
        wait_for(lambda: caught_up(m, rep), "the last resync")
        wait_for(lambda: state(rep) == state(m), "the last commands to apply")
        assert info(m, "stats")["sync_full"] == 1
        assert info(m, "stats")["sync_partial_ok"] >= 1
    finally:
        stop_all(rep, m)


def test_a_new_master_with_another_history_means_a_full_sync():
    """PSYNC with the cached id to a master that does not know it: +FULLRESYNC, data replaced."""
    m1, m2 = master(), master()
    rep = None
    try:
        client(m1).set("from", "m1")
        client(m2).set("from", "m2")
        rep = replica_of(m1)
        wait_for(lambda: caught_up(m1, rep), "the first sync")
        r = client(rep)
        assert r.execute_command("REPLICAOF", "127.0.0.1", m2.port) in (True, b"OK")
        wait_for(lambda: caught_up(m2, rep) and r.get("from") == b"m2", "the second sync")
        assert info(rep)["master_replid"] == info(m2)["master_replid"]
        assert info(m2, "stats")["sync_partial_err"] == 1
    finally:
        stop_all(rep, m1, m2)


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
        rep = replica_kind_of(m, replica_kind)
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
        reps = [replica_kind_of(m, replica_kind) for _ in range(2)]
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


def away_and_back(rep, m, write):
    """The replica follows a port nobody listens on (keeping its cached master), `write` runs
    on m meanwhile, then the replica follows m again: a PSYNC for what it missed."""
    r = client(rep)
    assert r.execute_command("REPLICAOF", "127.0.0.1", free_port()) in (True, b"OK")
    wait_for(lambda: not link_up(rep), "the link to go down")
    write(client(m))
    assert r.execute_command("REPLICAOF", "127.0.0.1", m.port) in (True, b"OK")


@pytest.fixture(params=["redis", "same"])
def synced(request):
    """Our master with data, and a replica of it (redis-server, or ours) that has synced."""
    m = Server()
    rep = None
    try:
        fill(m)
        rep = replica_kind_of(m, request.param)
        wait_for(lambda: caught_up(m, rep), "the full sync")
        yield m, rep
    finally:
        stop_all(rep, m)


def test_our_master_continues_a_replica_from_its_backlog(synced):
    m, rep = synced
    client(m, 5).set("db5", 1)
    wait_for(lambda: caught_up(m, rep), "the stream")

    def write(c):
        client(m, 5).incr("db5")
        for i in range(300):
            c.set(f"missed{i}", i)
        c.mset({"x{1}": 1, "y{2}": 2})

    away_and_back(rep, m, write)
    wait_for(lambda: caught_up(m, rep) and state(rep) == state(m), "the partial resync")
    stats = info(m, "stats")
    assert stats["sync_full"] == 1 and stats["sync_partial_ok"] == 1
    ours = info(m)
    assert ours["repl_backlog_active"] == 1
    assert ours["repl_backlog_histlen"] == ours["master_repl_offset"] - ours["repl_backlog_first_byte_offset"] + 1
    assert ours["repl_backlog_histlen"] > 0
    assert info(rep)["master_replid"] == ours["master_replid"]
    # a partial lost link: the replica's side is dropped, it comes back by itself
    client(m).set("after", 1)
    client(m).execute_command("CLIENT", "KILL", "TYPE", "replica")
    client(m).set("after", 2)
    wait_for(lambda: caught_up(m, rep) and client(rep).get("after") == b"2", "the second resync")
    assert info(m, "stats")["sync_full"] == 1


def test_a_replica_beyond_the_backlog_gets_a_full_sync():
    m = Server(args=["--repl-backlog-size", "16kb"])
    rep = None
    try:
        client(m).set("k", "v")
        rep = Server(kind="redis", args=["--replicaof", f"127.0.0.1 {m.port}"])
        wait_for(lambda: caught_up(m, rep), "the full sync")

        def write(c):
            for i in range(200):
                c.set(f"big{i}", "x" * 500)  # 100 kB: more than the backlog holds

        away_and_back(rep, m, write)
        wait_for(lambda: caught_up(m, rep) and state(rep) == state(m), "the resync")
        stats = info(m, "stats")
        assert stats["sync_full"] == 2 and stats["sync_partial_err"] == 1
        assert info(m)["repl_backlog_histlen"] < 100000
    finally:
        stop_all(rep, m)


@pytest.mark.parametrize("replica_kind", ["redis", "same"])
def test_full_syncs_while_writes_run_on_every_shard(replica_kind):
    """The snapshot's cut runs shard by shard while writes go on: every write is either in the
    snapshot or in the stream after it, never both, never neither. Replicas attach one after
    the other under a load of clients writing to every shard."""
    m = Server()
    reps = []
    stop = threading.Event()

    def load(n):
        c = client(m)
        i = 0
        while not stop.is_set():
            p = c.pipeline(transaction=False)
            for k in range(20):
                p.incr(f"n{n}-{k}")
                p.rpush(f"l{n}-{k % 5}", i)
            p.mset({f"a{n}{{{k}}}": i for k in range(4)})
            p.execute()
            i += 1

    loaders = [threading.Thread(target=load, args=(n,)) for n in range(3)]
    try:
        fill(m)
        for t in loaders:
            t.start()
        for _ in range(3):
            reps.append(replica_kind_of(m, replica_kind))
            wait_for(lambda: link_up(reps[-1]), "the link")
        stop.set()
        for t in loaders:
            t.join()
        for rep in reps:
            wait_for(lambda: state(rep) == state(m), "the replicas to match")
        assert info(m, "stats")["sync_full"] == 3
    finally:
        stop.set()
        for t in loaders:
            if t.is_alive():
                t.join()
        for rep in reps:
            rep.stop()
        m.stop()


def test_full_syncs_under_cross_shard_pipelines_apply_each_write_once():
    """Pipelines of INCRs over two keys of two shards run as locked groups (one transaction
    per pipeline), some of whose shards hold no lock (the remote part of the short plan):
    the group's journal record must fall on the same side of the snapshot's cut as its
    effects. Fresh replicas full-sync one after the other under that load; each must end
    with the master's counters exactly (a group applied twice shows as a counter ahead)."""
    m = Server(args=["--repl-diskless-sync-delay", "0"])
    stop, errors = threading.Event(), []

    def load(n):
        c = client(m)
        i = 0
        try:
            while not stop.is_set():
                p = c.pipeline(transaction=False)
                for j in range(16):  # two keys: often two shards, one the client's own
                    p.incr(f"ctr:{n}:{i % 5}:{j % 2}")
                p.execute()
                i += 1
        except Exception as e:  # noqa: BLE001 - reported by the test
            errors.append(e)

    try:
        for round_ in range(10):
            stop.clear()
            loaders = [threading.Thread(target=load, args=(n,)) for n in range(6)]
            for t in loaders:
                t.start()
            time.sleep(0.1)
            rep = replica_of(m)
            try:
                wait_for(lambda: link_up(rep), "the link")
                time.sleep(0.1)  # the stream carries the load for a while
                stop.set()
                for t in loaders:
                    t.join()
                assert not errors
                c = client(m)
                c.set("sync-done", round_)
                wait_for(lambda: client(rep).get("sync-done") == str(round_).encode(), "the stream")
                keys = sorted(c.keys("ctr:*"))
                assert client(rep).mget(keys) == c.mget(keys), round_
            finally:
                stop.set()
                for t in loaders:
                    t.join()
                rep.stop()
    finally:
        m.stop()


@pytest.mark.parametrize("master_kind", ["redis", "same"])
def test_a_silent_master_times_out_and_stale_data_is_refused(master_kind):
    """repl-timeout: a master that sends nothing (stopped with SIGSTOP: no FIN, no PING) is
    dropped after that many seconds; with replica-serve-stale-data no the replica then
    answers MASTERDOWN to commands without Redis's "stale" flag (GET, and PING too; not INFO).
    When the master runs again the link comes back."""
    kind = "redis" if master_kind == "redis" else SERVER_KIND
    m = Server(kind=kind, args=["--repl-ping-replica-period", "1"] +
               (["--repl-diskless-sync-delay", "0"] if kind == "redis" else []))
    rep = None
    try:
        client(m).set("k", "v")
        rep = replica_of(m, ["--repl-timeout", "2", "--replica-serve-stale-data", "no"])
        wait_for(lambda: link_up(rep), "the link")
        wait_for(lambda: client(rep).get("k") == b"v", "the data")
        m.proc.send_signal(signal.SIGSTOP)
        try:
            wait_for(lambda: not link_up(rep), "the timeout", timeout=20)
            with pytest.raises(redis.ResponseError, match="MASTERDOWN Link with MASTER is down"):
                client(rep).get("k")
            with pytest.raises(redis.ResponseError, match="MASTERDOWN"):
                client(rep).ping()
            assert info(rep)["master_link_status"] == "down"
        finally:
            m.proc.send_signal(signal.SIGCONT)
        wait_for(lambda: link_up(rep), "the link again", timeout=30)
        assert client(rep).get("k") == b"v"
    finally:
        stop_all(rep, m)


def test_min_replicas_to_write():
    """min-replicas-to-write / min-replicas-max-lag: without enough replicas acknowledging in
    time, writes (a queued one aborting its EXEC, a script's) get NOREPLICAS and reads go on;
    with the replica online and acknowledging they are accepted; once it is gone, refused
    again."""
    extra = ["--repl-diskless-sync-delay", "0"] if SERVER_KIND == "redis" else []
    m = Server(args=["--min-replicas-to-write", "1", "--min-replicas-max-lag", "10"] + extra)
    rep = None
    try:
        c = client(m)
        with pytest.raises(redis.ResponseError, match="^NOREPLICAS Not enough good replicas to write.$"):
            c.set("k", "v")
        assert c.get("k") is None
        assert info(m)["min_slaves_good_slaves"] == 0
        with pytest.raises(redis.ResponseError, match="NOREPLICAS"):
            c.eval("return redis.call('set', KEYS[1], 'x')", 1, "k")
        assert c.eval("return redis.call('get', KEYS[1])", 1, "k") is None
        raw = m.raw()
        assert raw.cmd("MULTI") == "OK"
        assert raw.cmd("SET", "k", "v") == "NOREPLICAS Not enough good replicas to write."
        assert raw.cmd("EXEC").startswith("EXECABORT")
        raw.close()
        rep = replica_of(m)
        wait_for(lambda: link_up(rep), "the link")
        wait_for(lambda: info(m)["min_slaves_good_slaves"] == 1, "the replica's ack")
        assert c.set("k", "v")
        wait_for(lambda: client(rep).get("k") == b"v", "the write on the replica")
        rep.stop()
        rep = None
        wait_for(lambda: info(m)["connected_slaves"] == 0, "the replica to go")
        with pytest.raises(redis.ResponseError, match="NOREPLICAS"):
            c.set("k", "w")
        assert c.get("k") == b"v"
    finally:
        stop_all(rep, m)


def test_role_lists_replicas_with_what_they_announce():
    """ROLE of a master lists its online replicas as [ip, port, offset] (bulk strings); a
    replica with replica-announce-ip / -port is shown (ROLE, INFO) at those."""
    extra = ["--repl-diskless-sync-delay", "0"] if SERVER_KIND == "redis" else []
    m = Server(args=extra)
    reps = []
    try:
        reps.append(replica_of(m))
        reps.append(replica_of(m, ["--replica-announce-ip", "10.1.2.3",
                                   "--replica-announce-port", "7777"]))
        c = client(m)
        c.set("k", "v")
        for rep in reps:
            wait_for(lambda: link_up(rep) and client(rep).get("k") == b"v", "the sync")
        wait_for(lambda: len(c.execute_command("ROLE")[2]) == 2, "both replicas online")
        role = c.execute_command("ROLE")
        assert role[0] == b"master" and isinstance(role[1], int)
        got = sorted((ip, port) for ip, port, _ in role[2])
        assert got == sorted([(b"127.0.0.1", str(reps[0].port).encode()), (b"10.1.2.3", b"7777")])
        assert all(int(off) >= 0 for _, _, off in role[2])
        slaves = [v for k, v in info(m).items() if k.startswith("slave")]
        assert sorted((s["ip"], s["port"]) for s in slaves) == sorted([("127.0.0.1", reps[0].port),
                                                                        ("10.1.2.3", 7777)])
        assert info(m, "stats")["total_net_repl_output_bytes"] > 0
        assert all(info(rep, "stats")["total_net_repl_input_bytes"] > 0 for rep in reps)
    finally:
        stop_all(*reps, m)


def test_shutdown_waits_for_a_lagging_replica():
    """shutdown-timeout (10 s by default): a master shutting down with a replica that has not
    acknowledged everything waits for it (writes paused), so the replica ends with every
    write; SHUTDOWN ABORT stops such a wait and the master stays up."""
    extra = ["--repl-diskless-sync-delay", "0"] if SERVER_KIND == "redis" else []
    m = Server(args=extra)
    rep = replica_of(m)
    try:
        c = client(m)
        wait_for(lambda: link_up(rep), "the link")
        with pytest.raises(redis.ResponseError, match="No shutdown in progress"):
            c.execute_command("SHUTDOWN", "ABORT")
        rep.proc.send_signal(signal.SIGSTOP)  # it acknowledges nothing from here
        try:
            value = "v" * 1024
            for base in range(0, 30000, 1000):  # 30 MB: more than sockets buffer
                p = c.pipeline(transaction=False)
                for i in range(base, base + 1000):
                    p.set(f"k{i}", value)
                p.execute()
            # SHUTDOWN waits for the replica; ABORT from another client stops the wait
            result = []
            t = threading.Thread(target=lambda: result.append(
                errors_of(client(m), ("SHUTDOWN", "NOSAVE"))))
            t.start()
            wait_for(lambda: errors_of(client(m), ("SHUTDOWN", "ABORT"))[0] in (True, b"OK"),
                     "a shutdown waiting for the replica", timeout=20)
            t.join(20)
            assert result and "Errors trying to SHUTDOWN" in result[0][0]
            assert c.ping() and c.set("after-abort", "1")
        finally:
            rep.proc.send_signal(signal.SIGCONT)
        rep.proc.send_signal(signal.SIGSTOP)
        try:
            c.set("last", "1")
            m.proc.terminate()  # SIGTERM: waits for the replica (it resumes below)
            time.sleep(0.5)
            assert m.proc.poll() is None  # still waiting
        finally:
            rep.proc.send_signal(signal.SIGCONT)
        m.proc.wait(30)
        r = client(rep)
        assert r.get("last") == b"1" and r.get("after-abort") == b"1" and r.dbsize() == 30002
    finally:
        stop_all(rep, m)


@pytest.mark.parametrize("replica_kind", ["redis", "same"])
def test_transactions_replicate_their_effects(replica_kind):
    """Inside MULTI/EXEC (one shard or several), in a pipeline of writes over several shards
    and in a script queued in MULTI, a replica gets what the commands did, as Redis
    propagates them: SPOP as SREM of the members it popped, a relative TTL pinned, the
    script's writes; so random picks and clocks cannot make it diverge."""
    m = Server()
    rep = None
    try:
        mc = client(m)
        mc.sadd("{t}s", *range(300))
        mc.sadd("pool", *range(300))
        rep = replica_kind_of(m, replica_kind)
        wait_for(lambda: link_up(rep), "the link")
        wait_for(lambda: caught_up(m, rep), "the full sync")
        p = mc.pipeline(transaction=True)  # one shard
        p.spop("{t}s", 5)
        p.set("{t}k", "v", ex=100)
        p.execute()
        p = mc.pipeline(transaction=True)  # several shards
        p.spop("pool", 3)
        p.spop("{t}s")
        p.set("x", "1", ex=50)
        p.incr("n")
        p.execute()
        p = mc.pipeline(transaction=True)
        p.eval("return redis.call('spop', KEYS[1], 2)", 1, "pool")
        p.execute()
        p = mc.pipeline(transaction=False)  # writes over several shards: locked groups
        for i in range(30):
            p.spop("pool")
            p.incr(f"c{i}")
            p.spop("{t}s")
        p.execute()
        wait_for(lambda: caught_up(m, rep), "the stream")
        rc = client(rep)
        for k in ("{t}s", "pool"):
            assert rc.smembers(k) == mc.smembers(k), k
        assert rc.scard("pool") == 300 - 3 - 2 - 30
        assert 90 <= rc.ttl("{t}k") <= 100 and 40 <= rc.ttl("x") <= 50
        assert rc.get("n") == b"1" and rc.get("c29") == b"1"
    finally:
        stop_all(rep, m)


def test_the_backlog_is_freed_after_its_ttl_without_replicas():
    m = Server()
    rep = None
    try:
        assert info(m)["repl_backlog_active"] == 0
        rep = replica_kind_of(m, "redis")
        wait_for(lambda: caught_up(m, rep), "the full sync")
        first = info(m)
        assert first["repl_backlog_active"] == 1
        assert client(m).config_set("repl-backlog-ttl", 1)
        rep.stop()
        wait_for(lambda: info(m)["repl_backlog_active"] == 0, "the backlog to be freed")
        assert info(m)["master_replid"] != first["master_replid"]  # that history is gone
    finally:
        stop_all(rep, m)


def test_roles_swap_with_a_partial_resync(synced):
    """A replica promoted (REPLICAOF NO ONE) keeps the old history as its second id; the old
    master, pointed at it, offers its own history (id and offset) and gets +CONTINUE."""
    m, rep = synced
    client(m, 5).set("db5", 1)
    client(m).incr("counter")
    wait_for(lambda: caught_up(m, rep) and state(rep) == state(m), "the stream")
    old = info(m)
    r = client(rep)
    assert r.execute_command("REPLICAOF", "NO", "ONE") in (True, b"OK")
    promoted = info(rep)
    assert promoted["role"] == "master"
    assert promoted["master_replid2"] == old["master_replid"]
    assert promoted["second_repl_offset"] == old["master_repl_offset"] + 1
    assert promoted["master_replid"] != old["master_replid"]
    assert client(m).execute_command("REPLICAOF", "127.0.0.1", rep.port) in (True, b"OK")
    r.incr("counter")
    client(rep, 5).incr("db5")
    wait_for(lambda: caught_up(rep, m) and state(m) == state(rep), "the old master to follow")
    stats = info(rep, "stats")
    assert stats["sync_partial_ok"] == 1 and stats["sync_full"] == 0
    demoted = info(m)
    assert demoted["master_replid"] == promoted["master_replid"]
    assert demoted["master_replid2"] == old["master_replid"]


# ------------------------------------------------------------------ FAILOVER

class FakeReplica:
    """A replica that syncs, acknowledges offset 0 once and never more (so it never catches
    up), and listens on the port it announces, where a FAILOVER's old master connects to it:
    the handshake is recorded and the PSYNC refused."""

    def __init__(self, m):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.link = RawClient(m.host, m.port, timeout=60)
        assert self.link.cmd("REPLCONF", "listening-port", self.port) == "OK"
        self.link.send(encode("PSYNC", "?", "-1"))
        while not self.link.read_line_raw().strip().startswith(b"+FULLRESYNC"):
            pass  # bare newlines are the master's keep-alives
        head = self.link.read_line_raw().strip()
        while not head.startswith(b"$"):
            head = self.link.read_line_raw().strip()
        if head.startswith(b"$EOF:"):
            while not self.link.buf.endswith(head[5:]):
                self.link._fill()
        else:
            while len(self.link.buf) < int(head[1:]):
                self.link._fill()
        self.link.send(encode("REPLCONF", "ACK", 0))  # a diskless Redis master waits for it

    def handover(self):
        """The commands the old master sends until its PSYNC, which is refused."""
        self.listener.settimeout(30)
        conn, _ = self.listener.accept()
        peer = RawClient.__new__(RawClient)
        peer.sock, peer.buf = conn, b""
        seen = []
        while not seen or seen[-1][0].upper() != b"PSYNC":
            seen.append(peer.read())
            conn.sendall(b"+PONG\r\n" if seen[-1][0].upper() == b"PING" else b"+OK\r\n")
        conn.sendall(b"-ERR not today\r\n")
        conn.close()
        return seen

    def close(self):
        self.link.close()
        self.listener.close()


def failover_state(s):
    return info(s)["master_failover_state"]


def errors_of(c, *cmds):
    out = []
    for cmd in cmds:
        try:
            out.append(c.execute_command(*cmd))
        except redis.exceptions.ResponseError as e:
            out.append(str(e))
    return out


def test_failover_errors_without_replicas(r):
    assert errors_of(r, ("FAILOVER",), ("FAILOVER", "ABORT"), ("FAILOVER", "TIMEOUT", 0),
                     ("FAILOVER", "TIMEOUT", "x"), ("FAILOVER", "TO", "127.0.0.1"),
                     ("FAILOVER", "ABORT", "TIMEOUT", 10), ("FAILOVER", "FORCE")) == [
        "FAILOVER requires connected replicas.", "No failover in progress.",
        "FAILOVER timeout must be greater than 0", "value is not an integer or out of range",
        "syntax error", "syntax error", "FAILOVER requires connected replicas."]


def test_failover_abort_and_timeout_leave_the_master_as_it_was():
    m = Server()
    fake = None
    try:
        fake = FakeReplica(m)
        c = client(m)
        c.set("k", 1)  # the fake replica never acknowledges this
        wait_for(lambda: info(m)["slave0"]["state"] == "online", "the replica online")
        before = info(m)
        assert errors_of(c, ("FAILOVER", "TO", "127.0.0.1", fake.port + 1),
                         ("FAILOVER", "TO", "127.0.0.1", fake.port, "FORCE")) == [
            "FAILOVER target HOST and PORT is not a replica.",
            "FAILOVER with force option requires both a timeout and target HOST and IP."]
        assert c.execute_command("FAILOVER") in (True, b"OK")
        assert failover_state(m) == "waiting-for-sync"
        assert errors_of(c, ("FAILOVER",), ("REPLICAOF", "NO", "ONE")) == [
            "FAILOVER already in progress.", "REPLICAOF not allowed while failing over."]
        writer = threading.Thread(target=lambda: client(m).set("paused", 1))
        writer.start()
        time.sleep(0.2)
        assert c.get("paused") is None  # writes wait while the failover does
        assert c.execute_command("FAILOVER", "ABORT") in (True, b"OK")
        writer.join()
        assert c.get("paused") == b"1" and failover_state(m) == "no-failover"
        assert c.execute_command("FAILOVER", "TIMEOUT", 100) in (True, b"OK")
        wait_for(lambda: failover_state(m) == "no-failover", "the timeout")
        after = info(m)
        assert after["role"] == "master" and after["master_replid"] == before["master_replid"]
    finally:
        if fake:
            fake.close()
        m.stop()


def test_failover_rolls_back_when_the_target_refuses():
    """FORCE hands over at the timeout even so; the old master's PSYNC carries its own history
    and FAILOVER; refused, it is a master again, under a new id."""
    m = Server()
    fake = None
    try:
        fake = FakeReplica(m)
        c = client(m)
        c.set("k", 1)
        wait_for(lambda: info(m)["slave0"]["state"] == "online", "the replica online")
        before = info(m)
        assert c.execute_command("FAILOVER", "TO", "127.0.0.1", fake.port, "TIMEOUT", 200,
                                 "FORCE") in (True, b"OK")
        seen = fake.handover()
        assert [x.upper() for x in seen[-1][:1] + seen[-1][3:]] == [b"PSYNC", b"FAILOVER"]
        assert seen[-1][1:3] == [before["master_replid"].encode(),
                                 str(before["master_repl_offset"] + 1).encode()]
        assert [b"REPLCONF", b"listening-port", str(m.port).encode()] in seen
        wait_for(lambda: failover_state(m) == "no-failover", "the rollback")
        after = info(m)
        assert after["role"] == "master" and after["master_replid2"] == before["master_replid"]
        assert c.set("k", 2)
    finally:
        if fake:
            fake.close()
        m.stop()


@pytest.mark.parametrize("kinds", [("same", "same"), ("same", "redis"), ("redis", "same")])
def test_failover_hands_over_to_the_replica(kinds):
    """FAILOVER TO: the replica catches up, becomes the master (PSYNC ... FAILOVER, answered
    +CONTINUE), and the old master follows it with the data as it was."""
    master_kind, replica_kind = kinds
    m = Server(kind="redis" if master_kind == "redis" else SERVER_KIND)
    rep = None
    try:
        fill(m)
        rep = replica_kind_of(m, replica_kind)
        wait_for(lambda: caught_up(m, rep), "the full sync")
        wait_for(lambda: info(m)["slave0"]["state"] == "online", "the master to see it online")
        client(m, 5).incr("db5")
        old = info(m)["master_replid"]
        assert client(m).execute_command("FAILOVER", "TO", "127.0.0.1", rep.port) in (True, b"OK")
        wait_for(lambda: info(rep)["role"] == "master" and link_up(m) and
                 failover_state(m) == "no-failover", "the hand-over")
        assert info(rep, "stats")["sync_partial_ok"] == 1 and info(rep, "stats")["sync_full"] == 0
        assert info(rep)["master_replid2"] == old and info(m)["master_replid2"] == old
        client(rep, 5).incr("db5")
        wait_for(lambda: caught_up(rep, m) and state(m) == state(rep), "the old master to follow")
        with pytest.raises(redis.exceptions.ReadOnlyError):
            client(m).set("k", 1)
    finally:
        stop_all(rep, m)


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


@pytest.mark.parametrize("replica_kind", ["redis", "same"])
def test_full_sync_of_big_values_under_writes(replica_kind):
    """A replica's full sync of 300k-element values of every collection type while clients
    keep changing those keys and others: the replica ends equal to the master."""
    m = Server()
    rep = None
    stop, errors = threading.Event(), []
    threads = []
    try:
        c = client(m)
        fill_big(c)
        threads = writers(m, stop, errors)
        kind = "redis" if replica_kind == "redis" else SERVER_KIND
        rep = Server(kind=kind, args=["--replicaof", f"127.0.0.1 {m.port}"])
        wait_for(lambda: link_up(rep), "the link", timeout=120)
        time.sleep(0.3)  # writes go on through the stream for a while
        stop.set()
        for t in threads:
            t.join()
        assert not errors
        c.set("sync-done", 1)  # after every write: once it is there, they all are
        wait_for(lambda: client(rep).get("sync-done") == b"1", "the stream", timeout=120)
        keys = sorted(c.keys())
        assert sorted(client(rep).keys()) == keys
        assert set(BIG_KEYS) <= {k.decode() for k in keys}
        for k in keys:
            assert value_of(client(rep), k) == value_of(c, k), k
    finally:
        stop.set()
        for t in threads:
            t.join()
        if rep:
            rep.stop()
        m.stop()


@pytest.mark.parametrize("replica_kind", ["redis", "same"])
def test_scripts_are_replicated_by_their_effects(replica_kind):
    # Redis 7.0 replicates what a script did, not the script: a script reading the clock or
    # picking at random must leave the replica with the master's result, and a replica never
    # runs its master's scripts.
    m = Server()
    rep = None
    try:
        mc = client(m)
        mc.sadd("{s}pool", *range(50))
        rep = replica_kind_of(m, replica_kind)
        wait_for(lambda: link_up(rep), "the link")
        wait_for(lambda: caught_up(m, rep), "the full sync")
        clock = "local t = redis.call('time') return redis.call('set', KEYS[1], t[1] .. '.' .. t[2])"
        mc.eval(clock, 1, "{s}clock")
        mc.eval("redis.call('set', KEYS[1], 'a') redis.call('expire', KEYS[1], 100) "
                "return redis.call('spop', KEYS[2], 3)", 2, "{s}two", "{s}pool")
        mc.eval("return redis.call('get', KEYS[1])", 1, "{s}clock")  # reads: nothing sent
        mc.function_load("#!lua name=fx\nredis.register_function('stamp', function(keys) "
                         "local t = redis.call('time') return redis.call('set', keys[1], t[2]) end)")
        mc.fcall("stamp", 1, "{s}fn")
        wait_for(lambda: caught_up(m, rep), "the stream")
        rc = client(rep)
        for k in ("{s}clock", "{s}two", "{s}fn"):
            assert rc.get(k) == mc.get(k), k
        assert rc.smembers("{s}pool") == mc.smembers("{s}pool") and rc.scard("{s}pool") == 47
        assert abs(rc.ttl("{s}two") - mc.ttl("{s}two")) <= 1
        assert info(rep, "commandstats").get("cmdstat_eval") is None  # never ran it
    finally:
        stop_all(rep, m)


def test_psync_with_an_impossible_offset_gets_a_full_sync():
    # Our own id with an offset below 1 continues nothing: +FULLRESYNC (and no overflow).
    m = Server()
    try:
        raw = RawClient(m.host, m.port)
        raw.cmd("SET", "k", "v")
        replid = info(m)["master_replid"]
        raw.send(encode("PSYNC", replid, "-9223372036854775808"))
        assert raw.read_line_raw().lstrip(b"\n").startswith(b"+FULLRESYNC")  # newlines: keepalives
        raw.close()
    finally:
        m.stop()
