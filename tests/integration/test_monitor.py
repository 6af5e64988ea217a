"""
MONITOR, SLOWLOG and LATENCY: the server's own account of the commands it runs.
Differential: DF_TEST_SERVER=redis runs the same tests against redis-server 7.0.
"""
import re
import time

import pytest

from conftest import Server, THREADS, is_redis
from resp import Error

LINE = re.compile(r'^(\d+)\.(\d{6}) \[(\d+) ([^\]]*)\] (.*)$')
BUSY = "local i = 0 while i < 3000000 do i = i + 1 end return i"  # tens of ms of CPU


@pytest.fixture(scope="module")
def server():
    s = Server(threads=max(THREADS, 3) if not is_redis() else 1)
    yield s
    s.stop()


def start_monitor(server):
    m = server.raw()
    assert m.cmd("MONITOR") == "OK"
    return m


def next_lines(m, n):
    """The next n MONITOR lines as (db, who, args) tuples."""
    out = []
    for _ in range(n):
        line = m.read()
        match = LINE.match(line)
        assert match, line
        args = match.group(5)
        name, _, rest = args.partition(" ")
        out.append((int(match.group(3)), match.group(4), (name.lower() + " " + rest).strip()))
    return out


def test_monitor_shows_commands_of_every_thread(server):
    m = start_monitor(server)
    try:
        r = server.client()
        keys = [f"key:{i}" for i in range(12)]  # spread over the shards
        for k in keys:
            r.set(k, "v")
        lines = next_lines(m, len(keys))
        assert sorted(a for _, _, a in lines) == sorted(f'"set" "{k}" "v"' for k in keys)
        assert all(db == 0 and re.match(r"127\.0\.0\.1:\d+$", who) for db, who, _ in lines)
    finally:
        m.close()


def test_monitor_line_format(server):
    m = start_monitor(server)
    try:
        r = server.client()
        r.set("q", 'a b"\n\x01\\')
        c2 = server.client(db=3)
        c2.get("x")
        r.mset({"a": 1, "b": 2})
        db, who, args = next_lines(m, 1)[0]
        assert args == r'"set" "q" "a b\"\n\x01\\"'
        lines = next_lines(m, 3)
        assert lines[0][0] == 3 and lines[0][2] == '"select" "3"'
        assert lines[1][0] == 3 and lines[1][2] == '"get" "x"'
        assert lines[2][0] == 0 and lines[2][2] == '"mset" "a" "1" "b" "2"'
    finally:
        m.close()


def test_monitor_scripts_and_transactions(server):
    m = start_monitor(server)
    try:
        r = server.client()
        r.eval("return redis.call('set', KEYS[1], 'v')", 1, "sk")
        p = r.pipeline(transaction=True)
        p.incr("cnt")
        p.execute()
        lines = next_lines(m, 5)
        assert lines[0][2] == '"eval" "return redis.call(\'set\', KEYS[1], \'v\')" "1" "sk"'
        assert lines[1][1] == "lua" and lines[1][2] == '"set" "sk" "v"'
        assert [a for _, _, a in lines[2:]] == ['"multi"', '"incrby" "cnt" "1"', '"exec"']
    finally:
        m.close()


def test_monitor_redacts_secrets_and_hides_admin(server):
    m = start_monitor(server)
    try:
        raw = server.raw()
        assert isinstance(raw.cmd("AUTH", "secret"), Error)
        raw.cmd("CONFIG", "GET", "maxmemory")  # admin: not shown
        raw.cmd("HELLO", "2", "AUTH", "default", "pw")
        raw.cmd("PING")
        lines = next_lines(m, 3)
        assert [a for _, _, a in lines] == [
            '"auth" "(redacted)"',
            '"hello" "2" "AUTH" "(redacted)" "(redacted)"',
            '"ping"',
        ]
        raw.close()
    finally:
        m.close()


def test_monitor_ends_with_reset_and_is_listed(server):
    m = start_monitor(server)
    r = server.client()
    flags = [c["flags"] for c in r.client_list() if "O" in c["flags"]]
    assert flags == ["O"]
    assert m.cmd("RESET") == "RESET"
    r.set("after", "1")
    assert m.cmd("PING") == "PONG"  # no MONITOR line came before the reply
    assert not [c for c in r.client_list() if "O" in c["flags"]]
    m.close()


def test_monitor_inside_multi_is_refused(server):
    raw = server.raw()
    assert raw.cmd("MULTI") == "OK"
    assert raw.cmd("MONITOR") == "QUEUED"
    reply = raw.cmd("EXEC")
    assert isinstance(reply[0], Error) and "MONITOR isn't allowed" in reply[0]
    raw.close()


def test_redis_py_monitor_parses_our_lines(server):
    r = server.client()
    with r.monitor() as mon:
        server.client().set("pyk", "pyv")
        cmd = mon.next_command()
        assert cmd["command"] == "SET pyk pyv" and cmd["db"] == 0
        assert cmd["client_type"] == "tcp" and cmd["client_address"] == "127.0.0.1"


# ---------------------------------------------------------------------------------------
# SLOWLOG


@pytest.fixture
def slow(server):
    r = server.client()
    r.config_set("slowlog-log-slower-than", 0)
    r.slowlog_reset()
    yield r
    r.config_set("slowlog-log-slower-than", 10000)
    r.config_set("slowlog-max-len", 128)
    r.execute_command("CLIENT", "SETNAME", "")


def raw_slowlog(r, *args):
    out = r.slowlog_get(*args)
    for e in out:
        if isinstance(e["command"], bytes):
            e["command"] = e["command"].decode()
    return out


def test_slowlog_records_entries_newest_first(slow):
    slow.execute_command("CLIENT", "SETNAME", "slowpoke")
    slow.set("a", "1")
    slow.rpush("x" * 200, *range(40))
    entries = raw_slowlog(slow, 2)
    assert len(entries) == 2
    newest, older = entries
    assert newest["id"] > older["id"]
    assert older["command"] == "SET a 1"
    args = newest["command"].split(" ")
    assert args[0] == "RPUSH" or args[0] == "rpush"
    assert args[1] == "x" * 128 + "..."
    assert newest["command"].endswith("... (11 more arguments)")
    assert len(args) < 40
    assert slow.slowlog_len() >= 3  # SLOWLOG RESET / CLIENT SETNAME / SET / RPUSH


def test_slowlog_entry_fields(server, slow):
    raw = server.raw()
    raw.cmd("CLIENT", "SETNAME", "fieldy")
    raw.cmd("GET", "k")
    entries = raw.cmd("SLOWLOG", "GET", "5")
    e = [x for x in entries if x[3] == [b"GET", b"k"]][0]
    ident, start, duration, args, addr, name = e
    assert name == b"fieldy" and re.match(rb"127\.0\.0\.1:\d+$", addr)
    assert abs(start - time.time()) < 60 and duration >= 0 and ident >= 0
    raw.close()


def test_slowlog_len_reset_and_max_len(slow):
    slow.config_set("slowlog-max-len", 5)
    for i in range(20):
        slow.set(f"k{i}", i)
    assert slow.slowlog_len() == 5
    assert len(raw_slowlog(slow, -1)) == 5
    assert len(raw_slowlog(slow)) == 5
    assert slow.slowlog_reset()
    assert slow.slowlog_len() in (0, 1)  # SLOWLOG RESET itself may be logged after it ran


def test_slowlog_count_errors_and_help(server):
    raw = server.raw()
    err = raw.cmd("SLOWLOG", "GET", "-2")
    assert isinstance(err, Error) and err == "ERR count should be greater than or equal to -1"
    assert isinstance(raw.cmd("SLOWLOG", "GET", "abc"), Error)
    help_lines = raw.cmd("SLOWLOG", "HELP")
    assert help_lines[0].startswith("SLOWLOG <subcommand>") and "RESET" in help_lines
    assert isinstance(raw.cmd("SLOWLOG", "NOPE"), Error)
    raw.close()


def test_slowlog_threshold_and_off(slow):
    slow.config_set("slowlog-log-slower-than", -1)
    slow.slowlog_reset()
    slow.eval(BUSY, 0)
    assert slow.slowlog_len() == 0
    slow.config_set("slowlog-log-slower-than", 5000)
    slow.set("quick", 1)
    slow.eval(BUSY, 0)
    cmds = [e["command"] for e in raw_slowlog(slow, -1)]
    assert any(c.startswith("EVAL") or c.startswith("eval") for c in cmds)
    assert "SET quick 1" not in cmds


def test_slowlog_redacts_auth(slow):
    raw_client = slow.connection_pool.get_connection("_")
    try:
        raw_client.send_command("AUTH", "hunter2")
        try:
            raw_client.read_response()
        except Exception:
            pass
    finally:
        slow.connection_pool.release(raw_client)
    cmds = [e["command"] for e in raw_slowlog(slow, 5)]
    assert any("(redacted)" in c for c in cmds)
    assert not any("hunter2" in c for c in cmds)


# ---------------------------------------------------------------------------------------
# LATENCY


@pytest.fixture
def lat(server):
    r = server.client()
    r.execute_command("LATENCY", "RESET")
    r.config_set("latency-monitor-threshold", 5)
    yield r
    r.config_set("latency-monitor-threshold", 0)
    r.execute_command("LATENCY", "RESET")


def test_latency_latest_history_reset(lat):
    lat.eval(BUSY, 0)
    latest = lat.execute_command("LATENCY", "LATEST")
    ev = [e for e in latest if e[0] == "command"]
    assert len(ev) == 1
    name, when, last, worst = ev[0]
    assert abs(when - time.time()) < 60 and last >= 5 and worst >= last
    hist = lat.execute_command("LATENCY", "HISTORY", "command")
    assert len(hist) >= 1 and hist[-1][1] >= 5
    assert lat.execute_command("LATENCY", "HISTORY", "no-such-event") == []
    assert lat.execute_command("LATENCY", "RESET", "command", "nope") == 1
    assert [e for e in lat.execute_command("LATENCY", "LATEST") if e[0] == "command"] == []


def test_latency_graph_and_doctor(lat):
    raw_err = lat.execute_command
    with pytest.raises(Exception, match="No samples available for event 'command'"):
        raw_err("LATENCY", "GRAPH", "command")
    doc = lat.execute_command("LATENCY", "DOCTOR")
    assert "no latency spike was observed" in doc
    lat.eval(BUSY, 0)
    graph = lat.execute_command("LATENCY", "GRAPH", "command")
    assert graph.startswith("command - high ") and "all time high" in graph
    assert "latency spikes" in lat.execute_command("LATENCY", "DOCTOR")
    lat.config_set("latency-monitor-threshold", 0)
    assert "latency spikes" in lat.execute_command("LATENCY", "DOCTOR")  # events remain
    lat.execute_command("LATENCY", "RESET")
    assert "Latency monitoring is disabled" in lat.execute_command("LATENCY", "DOCTOR")


def test_latency_histogram_and_latencystats(server):
    r = server.client()
    r.config_resetstat()
    for i in range(50):
        r.set(f"h{i}", i)
    r.get("h1")
    raw = server.raw()
    reply = raw.cmd("LATENCY", "HISTOGRAM", "set", "get", "nosuchcommand")
    hist = {k.decode() if isinstance(k, bytes) else k: v for k, v in
            (zip(reply[::2], reply[1::2]) if isinstance(reply, list) else reply.items())}
    assert set(hist) == {"set", "get"}
    fields = dict(zip(hist["set"][::2], hist["set"][1::2]))
    fields = {k.decode() if isinstance(k, bytes) else k: v for k, v in fields.items()}
    assert fields["calls"] == 50
    buckets = fields["histogram_usec"]
    counts = buckets[1::2]
    assert counts == sorted(counts) and counts[-1] == 50  # cumulative
    info = r.info("latencystats")
    assert "p50" in str(info["latency_percentiles_usec_set"])
    raw.close()


def test_latency_help(server):
    raw = server.raw()
    lines = raw.cmd("LATENCY", "HELP")
    assert lines[0].startswith("LATENCY <subcommand>") and "HISTOGRAM [COMMAND ...]" in lines
    raw.close()
