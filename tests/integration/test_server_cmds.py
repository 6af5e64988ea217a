"""Server commands: DBSIZE, FLUSHDB/FLUSHALL, TIME, COMMAND *, FUNCTION FLUSH, MODULE LIST,
SHUTDOWN, and the core INFO sections (issue #4)."""
import os
import time

import pytest
import redis

from conftest import Server
from resp import Error, Simple


# ---------------------------------------------------------------- DBSIZE / FLUSH*

def test_dbsize(r):
    assert r.dbsize() == 0
    for i in range(100):
        r.set(f"k{i}", i)
    assert r.dbsize() == 100
    r.delete("k0", "k1")
    assert r.dbsize() == 98


def test_dbsize_per_db(raw):
    raw.cmd("SET", "a", "1")
    raw.cmd("SELECT", "1")
    assert raw.cmd("DBSIZE") == 0
    raw.cmd("SET", "a", "1")
    raw.cmd("SET", "b", "1")
    assert raw.cmd("DBSIZE") == 2
    raw.cmd("SELECT", "0")
    assert raw.cmd("DBSIZE") == 1


@pytest.mark.parametrize("mode", [None, "ASYNC", "SYNC"])
def test_flushdb(raw, mode):
    for i in range(50):
        raw.cmd("SET", f"k{i}", "v")
    raw.cmd("SELECT", "1")
    raw.cmd("SET", "other", "v")
    raw.cmd("SELECT", "0")
    args = ["FLUSHDB"] + ([mode] if mode else [])
    assert raw.cmd(*args) == "OK"
    assert raw.cmd("DBSIZE") == 0
    assert raw.cmd("GET", "k1") is None
    raw.cmd("SELECT", "1")
    assert raw.cmd("DBSIZE") == 1


@pytest.mark.parametrize("mode", [None, "ASYNC", "SYNC"])
def test_flushall(raw, mode):
    for db in range(3):
        raw.cmd("SELECT", str(db))
        for i in range(20):
            raw.cmd("SET", f"k{i}", "v")
    args = ["FLUSHALL"] + ([mode] if mode else [])
    assert raw.cmd(*args) == "OK"
    for db in range(3):
        raw.cmd("SELECT", str(db))
        assert raw.cmd("DBSIZE") == 0


def test_flush_bad_arg(raw):
    assert raw.cmd("FLUSHDB", "NOW") == "ERR syntax error"
    assert raw.cmd("FLUSHALL", "NOW") == "ERR syntax error"


def test_flushall_big(r):
    pipe = r.pipeline(transaction=False)
    for i in range(20000):
        pipe.set(f"key:{i}", "x" * 20)
    pipe.execute()
    assert r.dbsize() == 20000
    assert r.flushall()
    assert r.dbsize() == 0
    assert r.set("after", "1")
    assert r.get("after") == "1"


# ---------------------------------------------------------------- TIME

def test_time(raw):
    rep = raw.cmd("TIME")
    assert isinstance(rep, list) and len(rep) == 2
    secs, usecs = int(rep[0]), int(rep[1])
    assert abs(secs - time.time()) < 5
    assert 0 <= usecs < 1_000_000
    assert raw.cmd("TIME", "x") == "ERR wrong number of arguments for 'time' command"


# ---------------------------------------------------------------- COMMAND

def test_command_count(raw):
    n = raw.cmd("COMMAND", "COUNT")
    assert isinstance(n, int) and n > 0


def test_command_list(raw):
    names = raw.cmd("COMMAND", "LIST")
    assert isinstance(names, list)
    names = {x.decode() for x in names}
    for c in ("get", "set", "ping", "del", "multi", "exec", "info", "command"):
        assert c in names
    # COMMAND LIST also names subcommands ("client|list"); COMMAND COUNT counts top-level ones
    assert len({n for n in names if "|" not in n}) == raw.cmd("COMMAND", "COUNT")


def test_command_info_get(raw):
    rep = raw.cmd("COMMAND", "INFO", "get")
    assert isinstance(rep, list) and len(rep) == 1
    info = rep[0]
    assert info[0] == b"get"
    assert info[1] == 2                      # arity
    assert "readonly" in info[2] and "fast" in info[2]
    assert all(isinstance(f, Simple) for f in info[2])
    assert info[3:6] == [1, 1, 1]            # first key, last key, step
    assert "@read" in info[6] and "@string" in info[6]


def test_command_info_set_and_mset(raw):
    rep = raw.cmd("COMMAND", "INFO", "set", "mset", "nosuchcommand")
    assert len(rep) == 3
    s, m, none = rep
    assert s[0] == b"set" and s[1] == -3
    assert "write" in s[2] and "denyoom" in s[2]
    assert s[3:6] == [1, 1, 1]
    assert m[0] == b"mset" and m[1] == -3
    assert m[3:6] == [1, -1, 2]
    assert none is None


def test_command_info_key_triple_of_numkeys_commands(raw):
    """Redis 7 reports only keys at fixed positions in the legacy triple: a numkeys command
    shows its destination (ZUNIONSTORE) or nothing (ZUNION, SINTERCARD)."""
    rep = raw.cmd("COMMAND", "INFO", "zunionstore", "zunion", "sintercard")
    assert [c[3:6] for c in rep] == [[1, 1, 1], [0, 0, 0], [0, 0, 0]]
    assert all("movablekeys" in c[2] for c in rep)


def test_command_info_case_insensitive(raw):
    assert raw.cmd("COMMAND", "INFO", "GET")[0][0] == b"get"


def test_command_docs_get(raw):
    rep = raw.cmd("COMMAND", "DOCS", "get")
    assert isinstance(rep, list) and len(rep) == 2
    assert rep[0] == b"get"
    doc = dict(zip(rep[1][0::2], rep[1][1::2]))
    assert isinstance(doc[b"summary"], bytes) and doc[b"summary"]
    assert doc[b"since"] == b"1.0.0"
    assert doc[b"group"] == b"string"


def test_command_docs_resp3_map(raw):
    raw.cmd("HELLO", "3")
    rep = raw.cmd("COMMAND", "DOCS", "get")
    assert isinstance(rep, dict)
    doc = rep[b"get"]
    assert isinstance(doc, dict)
    assert doc[b"group"] == b"string"


def test_command_getkeys(raw):
    assert raw.cmd("COMMAND", "GETKEYS", "set", "a", "b") == [b"a"]
    assert raw.cmd("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2") == [b"a", b"b"]
    assert raw.cmd("COMMAND", "GETKEYS", "del", "x", "y", "z") == [b"x", b"y", b"z"]
    assert raw.cmd("COMMAND", "GETKEYS", "get", "k") == [b"k"]


def test_command_getkeys_errors(raw):
    assert isinstance(raw.cmd("COMMAND", "GETKEYS", "nosuchcmd", "a"), Error)
    assert isinstance(raw.cmd("COMMAND", "GETKEYS", "get"), Error)
    assert isinstance(raw.cmd("COMMAND", "GETKEYS", "ping"), Error)


def test_command_no_args(raw):
    rep = raw.cmd("COMMAND")
    assert isinstance(rep, list)
    assert len(rep) == raw.cmd("COMMAND", "COUNT")
    names = {c[0] for c in rep}
    assert b"get" in names and b"set" in names


# ---------------------------------------------------------------- FUNCTION / MODULE

def test_function_flush(raw):
    assert raw.cmd("FUNCTION", "FLUSH") == "OK"


def test_module_list(raw):
    rep = raw.cmd("MODULE", "LIST")
    assert isinstance(rep, list)


# ---------------------------------------------------------------- SHUTDOWN

def test_shutdown_nosave():
    s = Server()
    c = s.client()
    c.set("x", "1")
    try:
        c.shutdown(nosave=True)
    except redis.ConnectionError:
        pass
    assert s.proc.wait(timeout=15) == 0
    s.stop()


def test_shutdown_raw_closes_connection():
    s = Server()
    c = s.raw()
    c.send(b"*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n")
    with pytest.raises((ConnectionError, OSError)):
        c.read()
    c.close()
    assert s.proc.wait(timeout=15) == 0
    s.stop()


# ---------------------------------------------------------------- INFO

def test_info_server(r):
    info = r.info("server")
    assert str(info["redis_version"]).startswith("7.")
    assert info["process_id"] > 0
    assert info["tcp_port"] == r.connection_pool.connection_kwargs["port"]
    assert isinstance(info["uptime_in_seconds"], int) and info["uptime_in_seconds"] >= 0
    assert "redis_mode" in info and "run_id" in info


def test_info_keyspace(r):
    assert r.info("keyspace") == {}
    for i in range(5):
        r.set(f"k{i}", "v")
    r.set("e1", "v", ex=1000)
    r.set("e2", "v", px=500000)
    ks = r.info("keyspace")
    assert ks["db0"]["keys"] == 7
    assert ks["db0"]["expires"] == 2
    assert "avg_ttl" in ks["db0"]
    r.execute_command("SELECT", "3")
    r.set("x", "1")
    ks = r.info("keyspace")
    assert ks["db3"]["keys"] == 1 and ks["db3"]["expires"] == 0
    r.execute_command("SELECT", "0")


def test_info_keyspace_raw_format(raw):
    raw.cmd("SET", "a", "1")
    raw.cmd("SET", "b", "1", "EX", "100")
    text = raw.cmd("INFO", "keyspace").decode()
    lines = text.split("\r\n")
    assert lines[0] == "# Keyspace"
    db0 = [l for l in lines if l.startswith("db0:")][0]
    assert db0.startswith("db0:keys=2,expires=1,avg_ttl=")


def test_info_commandstats(r):
    before = r.info("commandstats").get("cmdstat_get", {}).get("calls", 0)
    for _ in range(7):
        r.get("nokey")
    st = r.info("commandstats")["cmdstat_get"]
    assert st["calls"] == before + 7
    assert "usec" in st and "usec_per_call" in st


def test_info_clients(server, r):
    extra = [server.raw() for _ in range(2)]
    eids = {e.cmd("CLIENT", "ID") for e in extra}
    deadline = time.time() + 5
    while True:
        lines = [l for l in r.execute_command("CLIENT", "LIST").split("\n") if l]
        ids = {int(l.split(" ")[0][3:]) for l in lines}
        n = r.info("clients")["connected_clients"]
        if n == len(lines) and eids <= ids:
            break
        assert time.time() < deadline, (n, len(lines))
        time.sleep(0.02)
    assert n >= 3
    for e in extra:
        e.close()


def test_info_stats(r):
    s0 = r.info("stats")
    for k in ("total_commands_processed", "keyspace_hits", "keyspace_misses", "expired_keys",
              "total_connections_received"):
        assert k in s0
    r.set("hit", "1")
    for _ in range(3):
        r.get("hit")
    for _ in range(4):
        r.get("miss")
    s1 = r.info("stats")
    assert s1["keyspace_hits"] - s0["keyspace_hits"] == 3
    assert s1["keyspace_misses"] - s0["keyspace_misses"] == 4
    assert s1["total_commands_processed"] - s0["total_commands_processed"] >= 8


def test_info_sections_format(raw):
    text = raw.cmd("INFO").decode()
    assert "# Server\r\n" in text
    assert "# Clients\r\n" in text
    assert "# Memory\r\n" in text
    assert "# Stats\r\n" in text
    assert "# Keyspace" in text
    for line in text.split("\r\n"):
        if line and not line.startswith("#"):
            assert ":" in line, line


def test_info_multiple_sections(raw):
    text = raw.cmd("INFO", "server", "clients").decode()
    assert "# Server" in text and "# Clients" in text
    assert "# Stats" not in text


def test_info_unknown_section_empty(raw):
    assert raw.cmd("INFO", "nosuchsection") == b""


def test_lolwut_module_help_and_restore_asking(server):
    rb = server.client(decode_responses=False)
    rb.flushall()
    art = rb.execute_command("LOLWUT")
    assert b"Redis ver. 7.0" in art
    assert b"Redis ver. 7.0" in rb.execute_command("LOLWUT", "VERSION", "5")
    lines = rb.execute_command("MODULE", "HELP")
    assert lines[0].startswith(b"MODULE <subcommand>") and lines[-1] == b"    Prints this help."
    rb.set("src", "value")
    payload = rb.dump("src")
    assert rb.execute_command("RESTORE-ASKING", "dst", 0, payload) == b"OK"
    assert rb.get("dst") == b"value"
    rb.close()
