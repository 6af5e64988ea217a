"""The Prometheus endpoint (--metrics-port): GET /metrics in the text exposition format 0.0.4,
with the counters INFO reports. redis-server has no metrics port, so this file runs against
dragonfly only."""
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import THREADS, Server, dragonfly_bin, free_port, is_redis

pytestmark = pytest.mark.skipif(is_redis(), reason="redis-server has no metrics port")

# No proxy from the environment: the server is on 127.0.0.1.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"(,|$)')

REQUIRED = {
    "dragonfly_uptime_seconds": "gauge",
    "dragonfly_used_memory_bytes": "gauge",
    "dragonfly_used_memory_rss_bytes": "gauge",
    "dragonfly_max_memory_bytes": "gauge",
    "dragonfly_connected_clients": "gauge",
    "dragonfly_blocked_clients": "gauge",
    "dragonfly_commands_processed_total": "counter",
    "dragonfly_connections_received_total": "counter",
    "dragonfly_keyspace_hits_total": "counter",
    "dragonfly_keyspace_misses_total": "counter",
    "dragonfly_expired_keys_total": "counter",
    "dragonfly_evicted_keys_total": "counter",
    "dragonfly_net_input_bytes_total": "counter",
    "dragonfly_net_output_bytes_total": "counter",
    "dragonfly_db_keys": "gauge",
    "dragonfly_db_keys_expiring": "gauge",
    "dragonfly_commands_total": "counter",
    "dragonfly_commands_duration_seconds_total": "counter",
}


class Metrics:
    """One parsed scrape: family name -> type, and (name, labels) -> value."""

    def __init__(self, types, samples):
        self.types = types
        self.samples = samples

    def get(self, name, **labels):
        return self.samples.get((name, frozenset(labels.items())))

    def labelled(self, name, label):
        """{label value: sample value} of family name."""
        return {dict(k[1])[label]: v for k, v in self.samples.items() if k[0] == name}


def parse_labels(text):
    labels, pos = {}, 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        assert m, f"bad labels: {text!r}"
        assert m.group(1) not in labels, f"label twice: {text!r}"
        labels[m.group(1)] = re.sub(r'\\(.)', lambda e: "\n" if e.group(1) == "n" else e.group(1),
                                    m.group(2))
        pos = m.end()
    return labels


def parse(text):
    """Parse the exposition text strictly: one HELP and one TYPE per family, before its
    samples; every sample `name{labels} value` with a float value and a declared family;
    no sample twice."""
    assert text.endswith("\n")
    helps, types, samples = set(), {}, {}
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            assert name not in helps, f"HELP twice for {name}"
            helps.add(name)
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name not in types, f"TYPE twice for {name}"
            assert kind in ("counter", "gauge", "untyped", "histogram", "summary")
            types[name] = kind
        else:
            assert not line.startswith("#") and line, f"unexpected line {line!r}"
            m = SAMPLE.match(line)
            assert m, f"bad sample line {line!r}"
            name = m.group(1)
            assert name in helps and name in types, f"sample of undeclared family: {line!r}"
            key = (name, frozenset(parse_labels(m.group(2) or "").items()))
            assert key not in samples, f"sample twice: {line!r}"
            samples[key] = float(m.group(3))
    assert helps == set(types), helps ^ set(types)
    return Metrics(types, samples)


def fetch(port, path="/metrics"):
    """(status, content type, body) of GET path."""
    try:
        with OPENER.open(f"http://127.0.0.1:{port}{path}", timeout=20) as resp:
            return resp.status, resp.headers.get("Content-Type"), resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode(errors="replace")


def scrape(port):
    status, ctype, body = fetch(port)
    assert status == 200
    assert ctype.startswith("text/plain; version=0.0.4")
    return parse(body)


@pytest.fixture(scope="module")
def server():
    """The module's server, with a metrics port (conftest's `r` fixture uses it)."""
    mport = free_port()
    s = Server(args=["--metrics-port", str(mport)])
    s.metrics_port = mport
    yield s
    s.stop()


def info_stats(r):
    return r.info("stats")


# ---------------------------------------------------------------- format

def test_format_and_required_families(server, r):
    m = scrape(server.metrics_port)
    for name, kind in REQUIRED.items():
        assert m.types.get(name) == kind, name
    for name in REQUIRED:
        if name.startswith(("dragonfly_db_", "dragonfly_commands_total", "dragonfly_commands_dur")):
            continue
        assert m.get(name) is not None, name
    assert m.get("dragonfly_used_memory_bytes") > 0
    assert m.get("dragonfly_used_memory_rss_bytes") > 0
    assert m.get("dragonfly_uptime_seconds") >= 0
    assert m.get("dragonfly_connected_clients") >= 1


def test_other_paths_are_404(server):
    for path in ("/", "/metric", "/metrics/x", "/foo"):
        status, _, _ = fetch(server.metrics_port, path)
        assert status == 404, path


def test_query_string_is_ignored(server):
    status, _, body = fetch(server.metrics_port, "/metrics?x=1")
    assert status == 200
    parse(body)


def test_head_has_no_body(server):
    with socket.create_connection(("127.0.0.1", server.metrics_port), timeout=10) as s:
        s.sendall(b"HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert body == b""


def test_other_methods_refused(server):
    req = urllib.request.Request(f"http://127.0.0.1:{server.metrics_port}/metrics", data=b"x",
                                 method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        OPENER.open(req, timeout=10)
    assert e.value.code >= 400


# ---------------------------------------------------------------- counters

def test_commands_processed_moves(server, r):
    before = scrape(server.metrics_port).get("dragonfly_commands_processed_total")
    n = 57
    for i in range(n):
        r.set(f"k{i}", i)
    after = scrape(server.metrics_port).get("dragonfly_commands_processed_total")
    assert after - before >= n
    total = int(r.info("stats")["total_commands_processed"])
    assert total >= after


def test_keyspace_hits_and_misses(server, r):
    keys = [f"hit:{i}" for i in range(6)]
    for k in keys:
        r.set(k, "v")
    m0 = scrape(server.metrics_port)
    for k in keys:
        assert r.get(k) == "v"
    for i in range(4):
        assert r.get(f"miss:{i}") is None
    m1 = scrape(server.metrics_port)
    stats = info_stats(r)
    hits = m1.get("dragonfly_keyspace_hits_total")
    misses = m1.get("dragonfly_keyspace_misses_total")
    assert hits - m0.get("dragonfly_keyspace_hits_total") == len(keys)
    assert misses - m0.get("dragonfly_keyspace_misses_total") == 4
    assert hits == stats["keyspace_hits"]
    assert misses == stats["keyspace_misses"]


def test_network_and_connection_counters(server, r):
    m0 = scrape(server.metrics_port)
    c = server.client()
    c.set("big", "x" * 10000)
    assert len(c.get("big")) == 10000
    c.close()
    m1 = scrape(server.metrics_port)
    assert m1.get("dragonfly_connections_received_total") >= m0.get("dragonfly_connections_received_total") + 1
    assert m1.get("dragonfly_net_input_bytes_total") >= m0.get("dragonfly_net_input_bytes_total") + 10000
    assert m1.get("dragonfly_net_output_bytes_total") >= m0.get("dragonfly_net_output_bytes_total") + 10000
    stats = info_stats(r)
    assert stats["total_connections_received"] >= m1.get("dragonfly_connections_received_total")


def test_expired_keys(server, r):
    before = scrape(server.metrics_port).get("dragonfly_expired_keys_total")
    r.set("gone", "v", px=1)
    time.sleep(0.05)
    assert r.get("gone") is None  # lazy expiry on access at the latest
    after = scrape(server.metrics_port).get("dragonfly_expired_keys_total")
    assert after >= before + 1
    assert after == info_stats(r)["expired_keys"]


def test_per_command_counters_match_commandstats(server, r):
    for i in range(5):
        r.set(f"c{i}", i)
        r.get(f"c{i}")
    r.config_get("maxmemory")
    m = scrape(server.metrics_port)
    calls = m.labelled("dragonfly_commands_total", "cmd")
    secs = m.labelled("dragonfly_commands_duration_seconds_total", "cmd")
    stats = r.info("commandstats")
    for cmd in ("get", "set", "config|get"):
        assert calls[cmd] >= 5 if cmd != "config|get" else calls[cmd] >= 1
        assert calls[cmd] == stats[f"cmdstat_{cmd}"]["calls"]
        assert secs[cmd] >= 0
    assert set(calls) == set(secs)


# ---------------------------------------------------------------- gauges

def test_db_keys_match_dbsize(server, r):
    assert scrape(server.metrics_port).labelled("dragonfly_db_keys", "db") == {}
    for i in range(100):
        r.set(f"key:{i}", i)
    for i in range(30):
        r.set(f"ttl:{i}", i, ex=1000)
    r2 = server.client(db=2)
    for i in range(7):
        r2.set(f"other:{i}", i)
    m = scrape(server.metrics_port)
    keys = m.labelled("dragonfly_db_keys", "db")
    expiring = m.labelled("dragonfly_db_keys_expiring", "db")
    assert keys == {"0": r.dbsize(), "2": r2.dbsize()}
    assert keys["0"] == 130 and keys["2"] == 7
    assert expiring == {"0": 30, "2": 0}
    r2.close()


def test_max_memory_follows_config(server, r):
    try:
        r.config_set("maxmemory", "100mb")
        assert scrape(server.metrics_port).get("dragonfly_max_memory_bytes") == 100 * 1024 * 1024
    finally:
        r.config_set("maxmemory", "0")
    assert scrape(server.metrics_port).get("dragonfly_max_memory_bytes") == 0


def test_connected_and_blocked_clients(server, r):
    base = scrape(server.metrics_port)
    blocker = server.client()
    t = threading.Thread(target=lambda: blocker.blpop("q:block", timeout=20))
    t.start()
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            m = scrape(server.metrics_port)
            if m.get("dragonfly_blocked_clients") == 1:
                break
            time.sleep(0.02)
        assert m.get("dragonfly_blocked_clients") == 1
        assert m.get("dragonfly_connected_clients") >= base.get("dragonfly_connected_clients") + 1
    finally:
        r.rpush("q:block", "x")
        t.join()
        blocker.close()
    assert scrape(server.metrics_port).get("dragonfly_blocked_clients") == 0


# ---------------------------------------------------------------- concurrency

def test_concurrent_scrapes_while_pipelining(server, r):
    errors = []
    done = threading.Event()

    def writer():
        try:
            c = server.client()
            for batch in range(25):
                p = c.pipeline(transaction=False)
                for i in range(200):
                    p.set(f"pipe:{batch}:{i}", i)
                    p.incr("pipe:counter")
                p.execute()
            c.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            done.set()

    def scraper():
        try:
            last = 0
            while not done.is_set():
                m = scrape(server.metrics_port)
                now = m.get("dragonfly_commands_processed_total")
                assert now >= last
                last = now
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=scraper) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert r.get("pipe:counter") == "5000"
    assert scrape(server.metrics_port).labelled("dragonfly_db_keys", "db") == {"0": r.dbsize()}
    assert r.dbsize() == 5001


def test_many_connections_at_once(server):
    """Parallel scrapers, each on its own connection, all answered."""
    results = []

    def one():
        results.append(fetch(server.metrics_port)[0])

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 20


def test_clients_that_leave_before_the_answer(server):
    """A scrape whose client has gone by the time the workers are done is dropped; the
    server goes on answering (ASan builds: nothing leaks or is used after free)."""
    for _ in range(50):
        s = socket.create_connection(("127.0.0.1", server.metrics_port), timeout=10)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        s.close()
    assert scrape(server.metrics_port).get("dragonfly_uptime_seconds") is not None


# ---------------------------------------------------------------- configuration

def test_config_set_is_refused(server, r):
    import redis
    assert r.config_get("metrics-port") == {"metrics-port": str(server.metrics_port)}
    with pytest.raises(redis.ResponseError) as e:
        r.config_set("metrics-port", str(free_port()))
    assert str(e.value) == ("CONFIG SET failed (possibly related to argument 'metrics-port') - "
                            "can't set immutable config")


def test_metrics_port_from_config_file():
    mport = free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write(f"metrics-port {mport}\n")
    try:
        s = Server(args=["--flagfile", f.name], threads=1)
        try:
            assert scrape(mport).get("dragonfly_uptime_seconds") is not None
        finally:
            assert s.stop() == 0
    finally:
        os.unlink(f.name)


def test_no_metrics_listener_by_default():
    s = Server(threads=1)
    try:
        assert s.client().config_get("metrics-port") == {"metrics-port": "0"}
    finally:
        assert s.stop() == 0


def test_busy_metrics_port_fails_startup():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        mport = busy.getsockname()[1]
        cmd = [dragonfly_bin(), "--port", str(free_port()), "--bind", "127.0.0.1", "--threads", "1",
               "--metrics-port", str(mport)]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    out = p.stdout.decode(errors="replace")
    assert p.returncode != 0
    assert f"metrics HTTP listening socket 127.0.0.1:{mport}" in out, out


# ---------------------------------------------------------------- shutdown

def test_shutdown_with_scrapes_and_idle_http_clients():
    """SIGTERM while scrapes are in flight and an HTTP client sits on half a request: the
    server still exits cleanly (and, in ASan builds, without a report)."""
    mport = free_port()
    s = Server(args=["--metrics-port", str(mport)], threads=max(THREADS, 2))
    idle = socket.create_connection(("127.0.0.1", mport), timeout=10)
    idle.sendall(b"GET /metr")
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            try:
                fetch(mport)
            except OSError:
                return

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    try:
        assert s.stop() == 0
    finally:
        stop.set()
        for t in threads:
            t.join()
        idle.close()
