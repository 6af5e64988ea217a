"""Failover under Redis Sentinel: redis-sentinel (redis-server --sentinel, 7.0.15) monitors our
master and its replica and promotes the replica when the master dies (SENTINEL
GET-MASTER-ADDR-BY-NAME names it, it takes writes, it kept the data). Sentinel then also
turns a returning old master into a replica (REPLICAOF), which works here too but takes 10+
seconds of Sentinel's timers, so it is not part of the suite. With DF_TEST_SERVER=redis
every server is redis-server, which proves the expectations."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import redis

from conftest import SERVER_KIND, Server, free_port
from helpers import wait_for


def sentinel(master_port):
    """A sentinel monitoring 127.0.0.1:master_port as `mymaster` (quorum 1)."""
    d = tempfile.mkdtemp(prefix="df-sentinel-")
    port = free_port()
    conf = os.path.join(d, "sentinel.conf")
    with open(conf, "w") as f:
        f.write(f"port {port}\nbind 127.0.0.1\ndir {d}\n"
                f"sentinel monitor mymaster 127.0.0.1 {master_port} 1\n"
                "sentinel down-after-milliseconds mymaster 2000\n"
                "sentinel failover-timeout mymaster 5000\n")
    proc = subprocess.Popen(["/usr/bin/redis-server", conf, "--sentinel"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s = redis.Redis(host="127.0.0.1", port=port, decode_responses=True, socket_timeout=5)
    wait_for(lambda: up(s), "the sentinel", timeout=10)
    return proc, s, d


def up(c):
    try:
        return c.ping()
    except redis.exceptions.ConnectionError:
        return False


def master_port(s):
    return int(s.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")[1])


def test_sentinel_fails_over():
    m = Server(args=["--save", ""])
    mport = m.port
    rep = Server(args=["--save", "", "--replicaof", f"127.0.0.1 {mport}"])
    proc, s, d = sentinel(mport)
    try:
        m.client().set("before", "1")
        wait_for(lambda: rep.client().get("before") == "1", "the replica's sync")
        # Sentinel learns about replicas from the master's INFO, every 10 s
        wait_for(lambda: len(s.execute_command("SENTINEL", "REPLICAS", "mymaster")) == 1,
                 "the sentinel to see the replica", timeout=30)
        m.stop(signal.SIGKILL)
        wait_for(lambda: master_port(s) == rep.port, "the failover", timeout=30)
        r = rep.client()
        wait_for(lambda: r.info("replication")["role"] == "master", "the promotion")
        assert r.get("before") == "1"
        assert r.set("after", "2")
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        shutil.rmtree(d, ignore_errors=True)
        for srv in (rep, m):
            srv.stop()
