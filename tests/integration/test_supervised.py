"""`supervised`: under systemd (a unit with Type=notify sets NOTIFY_SOCKET) the server says
READY=1 once it accepts clients with its data loaded, and STOPPING=1 when it shuts down, with
Redis's STATUS lines, so a unit written for redis-server works unchanged. Differential: also
runs against redis-server (DF_TEST_SERVER=redis)."""
import os
import shutil
import socket
import tempfile

import pytest

from conftest import Server


@pytest.fixture
def notify():
    """A datagram socket standing in for systemd's; yields (path, messages received)."""
    d = tempfile.mkdtemp(prefix="df-notify-")
    path = os.path.join(d, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)

    def received(until):
        got = []
        while not any(until in m for m in got):
            got.append(sock.recv(4096).decode())
        return "".join(got)
    yield path, received, sock
    sock.close()
    os.unlink(path)
    os.rmdir(d)


@pytest.mark.parametrize("mode", ["systemd", "auto"])
def test_ready_and_stopping_reach_systemd(notify, mode):
    path, received, _ = notify
    s = Server(args=["--supervised", mode], env={"NOTIFY_SOCKET": path})
    try:
        got = received("READY=1")
        assert "STATUS=Ready to accept connections" in got
        assert s.client().ping()
    finally:
        s.stop()
    assert "STOPPING=1" in received("STOPPING=1")


def test_ready_with_data_to_load(notify):
    """With a dump to load, READY=1 comes (ours: when the loader is done) and the data is
    there."""
    path, received, _ = notify
    d = tempfile.mkdtemp(prefix="df-notify-data-")
    s = Server(dir=d)
    try:
        r = s.client()
        r.set("k", "v")
        r.save()
    finally:
        s.stop()
    s = Server(dir=d, args=["--supervised", "systemd"], env={"NOTIFY_SOCKET": path})
    try:
        received("READY=1")
        assert s.client().get("k") == "v"
    finally:
        s.stop()
        shutil.rmtree(d, ignore_errors=True)


def test_not_supervised_says_nothing(notify):
    path, _, sock = notify
    s = Server(env={"NOTIFY_SOCKET": path})  # supervised no (the default)
    try:
        assert s.client().ping()
    finally:
        s.stop()
    sock.settimeout(0.5)
    with pytest.raises(socket.timeout):
        sock.recv(4096)
