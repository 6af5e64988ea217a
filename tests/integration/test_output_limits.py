"""client-output-buffer-limit, as Redis applies it: a client whose unsent replies (or pub/sub
messages) pass its class's hard limit, or stay above the soft limit longer than its seconds,
is disconnected; the rest of the server goes on. Classes: pubsub while subscribed, normal
otherwise. Differential: also runs against redis-server (DF_TEST_SERVER=redis)."""
import socket
import time

import pytest

from conftest import Server
from helpers import wait_for


@pytest.fixture
def srv():
    s = Server()
    yield s
    s.stop()


def client_names(r):
    return {c["name"] for c in r.client_list()}


def lazy_subscriber(s, channel, name):
    """A raw connection that subscribes and then never reads."""
    sock = socket.create_connection((s.host, s.port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(b"CLIENT SETNAME %s\r\nSUBSCRIBE %s\r\n" % (name.encode(), channel.encode()))
    return sock


def test_pubsub_hard_limit_disconnects_a_slow_subscriber(srv):
    r = srv.client()
    assert r.config_set("client-output-buffer-limit", "pubsub 1mb 0 0")
    assert r.config_get("client-output-buffer-limit")["client-output-buffer-limit"].endswith(
        "pubsub 1048576 0 0")
    slow = lazy_subscriber(srv, "news", "slow")
    wait_for(lambda: r.pubsub_numsub("news") == [("news", 1)], "the subscription")
    payload = "x" * 65536
    for _ in range(200):  # 12.5 MiB to a client that reads nothing
        r.publish("news", payload)
        if r.pubsub_numsub("news") == [("news", 0)]:
            break
    wait_for(lambda: r.pubsub_numsub("news") == [("news", 0)], "the slow subscriber to go")
    assert "slow" not in client_names(r)
    assert r.ping()
    slow.close()


def test_pubsub_soft_limit_needs_its_seconds(srv):
    r = srv.client()
    assert r.config_set("client-output-buffer-limit", "pubsub 0 512kb 1")
    slow = lazy_subscriber(srv, "news", "slow")
    wait_for(lambda: r.pubsub_numsub("news") == [("news", 1)], "the subscription")
    payload = "x" * 65536
    for _ in range(100):  # well above the soft limit, at once
        r.publish("news", payload)
    assert r.pubsub_numsub("news") == [("news", 1)]  # not yet: the soft limit allows 1 s
    deadline = time.time() + 10
    while r.pubsub_numsub("news") != [("news", 0)] and time.time() < deadline:
        r.publish("news", "more")  # limits are checked as output is added
        time.sleep(0.1)
    assert r.pubsub_numsub("news") == [("news", 0)]
    slow.close()


def test_normal_hard_limit_disconnects_a_client_that_does_not_read(srv):
    r = srv.client()
    r.set("big", "v" * (512 * 1024))
    assert r.config_set("client-output-buffer-limit", "normal 2mb 0 0")
    sock = socket.create_connection((srv.host, srv.port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(b"CLIENT SETNAME greedy\r\n" + b"GET big\r\n" * 100)  # 50 MiB of replies
    wait_for(lambda: "greedy" not in client_names(r), "the client to be disconnected")
    assert r.strlen("big") == 512 * 1024
    sock.close()


def test_limits_off_by_default_for_normal_clients(srv):
    r = srv.client()
    r.set("big", "v" * (256 * 1024))
    sock = socket.create_connection((srv.host, srv.port), timeout=10)
    sock.sendall(b"CLIENT SETNAME patient\r\n" + b"GET big\r\n" * 40)  # 10 MiB, read late
    time.sleep(0.5)
    assert "patient" in client_names(r)
    got = 0
    while got < 40 * 256 * 1024:
        data = sock.recv(1 << 20)
        assert data
        got += len(data)
    sock.close()
