"""
Integration test harness: starts a real server per test module on a free port and hands tests
a real client. Differential by design: DF_TEST_SERVER=redis runs the same tests against
Debian's redis-server, to prove an expectation is Redis's and not a guess.

Environment:
  DRAGONFLY_BIN     path of the dragonfly binary (default: <build dir>/dragonfly, found from
                    DF_BUILD_DIR or the current directory)
  DF_TEST_SERVER    "dragonfly" (default) or "redis"
  DF_TEST_THREADS   worker threads for dragonfly (default 1)
  REDIS_BIN         redis-server binary (default /usr/bin/redis-server)
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis

from resp import RawClient

SERVER_KIND = os.environ.get("DF_TEST_SERVER", "dragonfly")
THREADS = int(os.environ.get("DF_TEST_THREADS", "1"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dragonfly_bin():
    if os.environ.get("DRAGONFLY_BIN"):
        return os.environ["DRAGONFLY_BIN"]
    build = os.environ.get("DF_BUILD_DIR", os.getcwd())
    return os.path.join(build, "dragonfly")


def fail_on_sanitizer_report(out):
    """A sanitizer report in a server's output (ASan/UBSan builds), even one written while
    shutting down, fails the test."""
    for marker in (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer", b"runtime error:"):
        if marker in out:
            raise AssertionError("server reported a sanitizer error:\n"
                                 + out.decode(errors="replace")[-4000:])


class Server:
    """A running server process we started (stopped by PID only)."""

    def __init__(self, args=(), kind=SERVER_KIND, threads=THREADS, port=None, dir=None, env=None):
        """dir: the server's snapshot directory (--dir); a fresh temporary one, removed at
        stop(), when not given, so no server sees another's dump.rdb. env: variables added
        to the server's environment."""
        self.kind = kind
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.own_dir = dir is None
        self.dir = dir or tempfile.mkdtemp(prefix="df-test-")
        if kind == "redis":
            cmd = [os.environ.get("REDIS_BIN", "/usr/bin/redis-server"), "--port", str(self.port),
                   "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", self.dir]
        else:
            cmd = [dragonfly_bin(), "--port", str(self.port), "--bind", "127.0.0.1",
                   "--threads", str(threads), "--loglevel", "warning", "--dir", self.dir]
        self.cmd = cmd + list(args)
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, **env) if env else None)
        self.wait_ready()

    def wait_ready(self, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode(errors="replace")
                raise RuntimeError(f"server exited with {self.proc.returncode}: {out}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")  # -LOADING while redis-server loads a dump
                    reply = sock.recv(64)
                    if reply and not reply.startswith(b"-LOADING"):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("server did not start listening")

    def client(self, **kw):
        kw.setdefault("decode_responses", True)
        return redis.Redis(host=self.host, port=self.port, socket_timeout=20, **kw)

    def raw(self):
        return RawClient(self.host, self.port)

    def stop(self, sig=None):
        if self.proc.poll() is None:
            if sig is None:
                self.proc.terminate()
            else:
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        out = b""
        if self.proc.stdout:
            out = self.proc.stdout.read()
            self.proc.stdout.close()
            self.proc.stdout = None
        if getattr(self, "own_dir", False):
            shutil.rmtree(self.dir, ignore_errors=True)
        fail_on_sanitizer_report(out)
        return self.proc.returncode


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def r(server):
    c = server.client()
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def rb(server):
    c = server.client(decode_responses=False)
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def raw(server):
    c = server.raw()
    c.cmd("FLUSHALL")
    yield c
    c.close()


def is_redis():
    return SERVER_KIND == "redis"


def per_thread_count_server():
    """A module-scoped `server` fixture for a test module that must see both one shard and
    cross-shard paths in one run: parametrized over 1 and max(DF_TEST_THREADS, 3) threads
    (one redis-server when REDIS=1). Use as `server = per_thread_count_server()`."""
    @pytest.fixture(scope="module", ids=lambda n: f"{n}threads",
                    params=[1] if is_redis() else sorted({THREADS, max(THREADS, 3)}))
    def server(request):
        s = Server(threads=request.param)
        yield s
        s.stop()
    return server


def callbackless_client():
    """An `r` fixture whose client has no redis-py reply callbacks (raw replies as parsed
    RESP), on an empty server. Use as `r = callbackless_client()`."""
    @pytest.fixture
    def r(server):
        c = server.client()
        c.flushall()
        c.response_callbacks.clear()
        yield c
        c.close()
    return r
