"""Replication over TLS (tls-replication yes): a replica connects to its master's TLS port,
verifies the master's certificate against its CA and shows its own certificate (the master
asks for one: tls-auth-clients yes). Full sync (length-prefixed and diskless EOF-marked RDB),
the command stream, partial resync after the link drops, FAILOVER's hand-over, an untrusted
master, and interop both ways with redis-server 7.0.15. With DF_TEST_SERVER=redis every test
runs with redis-server in place of ours, which proves the expectations are Redis's."""
import os
import time

import pytest
import redis

from conftest import SERVER_KIND, Server, free_port
from helpers import wait_for
from test_replica import caught_up, info, link_up, stop_all
from test_snapshot import client, fill, state
from test_tls import certs, run  # noqa: F401  (certs: the CA and certificates fixture)


def tls_args(certs, port=None, ca=None, replication=False):
    """A server's TLS settings: its certificate (also shown to a master), the CA it trusts,
    and a TLS port when port is given."""
    out = ["--tls-cert-file", certs("server.crt"), "--tls-key-file", certs("server.key"),
           "--tls-ca-cert-file", ca or certs("ca.crt")]
    if port:
        out += ["--tls-port", str(port)]
    if replication:
        out += ["--tls-replication", "yes"]
    return out


def tls_server(certs, kind=SERVER_KIND, extra=(), replication=False, ca=None):
    port = free_port()
    s = Server(kind=kind, args=tls_args(certs, port, ca, replication) + list(extra))
    s.tls_port = port
    return s


def tls_replica(certs, m, kind=SERVER_KIND, ca=None, with_port=False, extra=()):
    """A replica of m that reaches m's TLS port."""
    port = free_port() if with_port else None
    s = Server(kind=kind, args=tls_args(certs, port, ca, replication=True) +
               ["--replicaof", f"127.0.0.1 {m.tls_port}"] + list(extra))
    s.tls_port = port
    return s


def tls_client(s, certs):
    return redis.Redis(host="127.0.0.1", port=s.tls_port, ssl=True, ssl_ca_certs=certs("ca.crt"),
                       ssl_certfile=certs("client.crt"), ssl_keyfile=certs("client.key"),
                       socket_timeout=20)


class TlsOnlyRedis(Server):
    """redis-server with no plain port (--port 0), reached only over TLS."""

    def __init__(self, certs, args):
        self.certs = certs
        self.tls_port = free_port()
        super().__init__(kind="redis", args=tls_args(certs, self.tls_port) + list(args) +
                         ["--port", "0"])

    def wait_ready(self, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited: " + self.proc.stdout.read().decode())
            try:
                if tls_client(self, self.certs).ping():
                    return
            except (redis.exceptions.ConnectionError, redis.exceptions.BusyLoadingError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start listening on its TLS port")

    def client(self, **kw):
        return tls_client(self, self.certs)


def writes(m):
    c = client(m)
    c.set("int", 99)
    c.incrby("int", 2)
    c.lpush("lsmall", "new")
    c.hset("hsmall", "f3", "v3")
    c.delete("raw")
    c.set("big2", os.urandom(300 << 10))  # spans many TLS records
    p = c.pipeline(transaction=True)
    p.set("tx1", 1)
    p.set("tx2", 2)
    p.execute()
    client(m, 5).set("five", "5")


def test_full_sync_and_stream_over_tls(certs):
    """Ours -> ours: the replica is a plain one until CONFIG SET tls-replication yes and a
    REPLICAOF to the master's TLS port."""
    m = tls_server(certs)
    rep = None
    try:
        fill(m)
        rep = Server(args=tls_args(certs))
        c = rep.client()
        assert c.config_get("tls-replication") == {"tls-replication": "no"}
        assert c.config_set("tls-replication", "yes")
        assert c.config_get("tls-replication") == {"tls-replication": "yes"}
        c.replicaof("127.0.0.1", m.tls_port)
        wait_for(lambda: caught_up(m, rep), "the full sync over TLS")
        assert state(rep) == state(m)
        writes(m)
        wait_for(lambda: caught_up(m, rep), "the stream over TLS")
        assert state(rep) == state(m)
        assert client(rep).get("int") == b"101"
        # the master counts the replica's acks, which also travel over TLS
        assert m.client().wait(1, 5000) == 1
        slaves = [v for k, v in info(m).items() if k.startswith("slave")]
        assert slaves and slaves[0]["state"] == "online"
    finally:
        stop_all(rep, m)


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_replica_of_a_redis_tls_master(certs, diskless):
    """Our replica of redis-server over TLS: an EOF-marked (diskless) or length-prefixed RDB."""
    m = tls_server(certs, kind="redis", extra=["--repl-diskless-sync", diskless,
                                               "--repl-diskless-sync-delay", "0"])
    rep = None
    try:
        fill(m)
        rep = tls_replica(certs, m)
        wait_for(lambda: caught_up(m, rep), "the full sync from redis-server")
        assert state(rep) == state(m)
        writes(m)
        wait_for(lambda: caught_up(m, rep), "the stream from redis-server")
        assert state(rep) == state(m)
        assert m.client().wait(1, 5000) == 1
    finally:
        stop_all(rep, m)


def test_redis_tls_replica_of_ours(certs):
    """redis-server with no plain port (--port 0) follows our TLS port."""
    m = tls_server(certs)
    rep = None
    try:
        fill(m)
        rep = TlsOnlyRedis(certs, ["--tls-replication", "yes",
                                   "--replicaof", f"127.0.0.1 {m.tls_port}"])
        rc = rep.client()
        wait_for(lambda: rc.info("replication")["master_link_status"] == "up", "redis-server's link")
        want = info(m)["master_repl_offset"]
        wait_for(lambda: rc.info("replication")["slave_repl_offset"] >= want, "the full sync")
        writes(m)
        want = info(m)["master_repl_offset"]
        wait_for(lambda: rc.info("replication")["slave_repl_offset"] >= want, "the stream")
        assert rc.get("int") == b"101" and rc.get("big2") == client(m).get("big2")
        assert rc.dbsize() == client(m).dbsize()
        assert m.client().wait(1, 5000) == 1
    finally:
        stop_all(rep, m)


@pytest.fixture(scope="module")
def other_ca(certs):
    """A CA that signed none of the certificates."""
    path = certs("other-ca.crt")
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", certs("other-ca.key"),
        "-out", path, "-days", "2", "-subj", "/CN=df-other-ca")
    return path


def test_untrusted_master_never_links(certs, other_ca):
    m = tls_server(certs)
    rep = None
    try:
        client(m).set("k", "v")
        rep = tls_replica(certs, m, ca=other_ca)
        deadline = time.time() + 3
        while time.time() < deadline:
            assert not link_up(rep)
            time.sleep(0.2)
        assert client(rep).get("k") is None
        assert info(rep)["master_link_status"] == "down"
        # the master keeps serving, over both ports
        assert client(m).set("k2", "v2") and tls_client(m, certs).get("k2") == b"v2"
        assert info(m)["connected_slaves"] == 0
    finally:
        stop_all(rep, m)


def test_partial_resync_over_tls(certs):
    m = tls_server(certs)
    rep = None
    try:
        fill(m)
        rep = tls_replica(certs, m)
        wait_for(lambda: caught_up(m, rep), "the full sync")
        stats = info(m, "stats")
        full, partial = stats["sync_full"], stats["sync_partial_ok"]
        assert rep.client().client_kill_filter(_type="master") == 1
        writes(m)  # while the link is down, or just back
        wait_for(lambda: caught_up(m, rep), "the link back")
        assert state(rep) == state(m)
        stats = info(m, "stats")
        assert stats["sync_full"] == full
        assert stats["sync_partial_ok"] == partial + 1
    finally:
        stop_all(rep, m)


def test_failover_over_tls(certs):
    """FAILOVER: the master hands over to its replica, then follows it over TLS (PSYNC ...
    FAILOVER on the replica's TLS port, which the replica announced)."""
    m = tls_server(certs, replication=True)
    rep = None
    try:
        client(m).set("before", "1")
        rep = tls_replica(certs, m, with_port=True)
        wait_for(lambda: caught_up(m, rep), "the full sync")
        slaves = [v for k, v in info(m).items() if k.startswith("slave")]
        assert slaves[0]["port"] == rep.tls_port  # REPLCONF listening-port: the TLS one
        assert m.client().execute_command("FAILOVER") == "OK"
        wait_for(lambda: info(rep)["role"] == "master" and link_up(m), "the failover")
        assert info(m)["master_port"] == rep.tls_port
        client(rep).set("after", "2")
        wait_for(lambda: client(m).get("after") == b"2", "the stream from the new master")
        assert client(m).get("before") == b"1"
        assert info(rep, "stats")["sync_partial_ok"] >= 1  # the old master continued
    finally:
        stop_all(rep, m)


@pytest.mark.skipif(SERVER_KIND == "redis", reason="redis-server needs tls-cert-file for tls-replication")
def test_replica_without_a_certificate_is_refused(certs):
    """The master asks for a client certificate (tls-auth-clients yes): a replica with none
    never links; one with tls-client-cert-file does."""
    m = tls_server(certs)
    rep = None
    try:
        rep = Server(args=["--tls-replication", "yes", "--tls-ca-cert-file", certs("ca.crt"),
                           "--replicaof", f"127.0.0.1 {m.tls_port}"])
        time.sleep(2)
        assert not link_up(rep) and info(m)["connected_slaves"] == 0
        c = rep.client()
        c.config_set("tls-client-cert-file", certs("client.crt"))
        c.config_set("tls-client-key-file", certs("client.key"))
        wait_for(lambda: link_up(rep), "the link with a client certificate")
    finally:
        stop_all(rep, m)


def test_ca_directory(certs):
    """tls-ca-cert-dir (OpenSSL's hashed directory) in place of tls-ca-cert-file."""
    d = certs("cadir")
    os.makedirs(d, exist_ok=True)
    with open(certs("ca.crt"), "rb") as src, open(os.path.join(d, "ca.pem"), "wb") as dst:
        dst.write(src.read())
    run("openssl", "rehash", d)
    m = tls_server(certs)
    rep = None
    try:
        client(m).set("k", "v")
        rep = Server(args=["--tls-replication", "yes", "--tls-ca-cert-dir", d,
                           "--tls-cert-file", certs("server.crt"), "--tls-key-file", certs("server.key"),
                           "--replicaof", f"127.0.0.1 {m.tls_port}"])
        wait_for(lambda: caught_up(m, rep), "the sync with a CA directory")
        assert client(rep).get("k") == b"v"
    finally:
        stop_all(rep, m)
