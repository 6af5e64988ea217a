"""INFO (issue #4): Redis's section names, field names and formats, and counters that move."""
import re
import time

import pytest

from resp import Verbatim


def sections(text):
    return [l[2:] for l in text.split("\r\n") if l.startswith("# ")]


def fields(text):
    out = {}
    for line in text.split("\r\n"):
        if line and not line.startswith("#"):
            k, sep, v = line.partition(":")
            assert sep, f"bad INFO line {line!r}"
            out[k] = v
    return out


def info(raw, *sect):
    return raw.cmd("INFO", *sect).decode()


# ---------------------------------------------------------------- format

def test_info_default_sections(raw):
    s = sections(info(raw))
    for name in ("Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU",
                 "Keyspace"):
        assert name in s, name
    assert s[0] == "Server"
    assert s[-1] == "Keyspace"
    assert "Commandstats" not in s         # not part of the default set


@pytest.mark.parametrize("arg", ["all", "everything"])
def test_info_all(raw, arg):
    s = sections(info(raw, arg))
    for name in ("Server", "Clients", "Memory", "Stats", "Replication", "Commandstats", "Keyspace"):
        assert name in s, name


def test_info_line_format(raw):
    text = info(raw, "everything")
    assert text.endswith("\r\n")
    for block in text.strip("\r\n").split("\r\n\r\n"):
        lines = block.split("\r\n")
        assert lines[0].startswith("# ")
        for line in lines[1:]:
            assert re.fullmatch(r"[a-z0-9_|.-]+:.*", line, flags=re.I), line


def test_info_section_case_insensitive(raw):
    assert sections(info(raw, "SERVER")) == ["Server"]
    assert sections(info(raw, "Clients")) == ["Clients"]


def test_info_multiple_sections_order(raw):
    s = sections(info(raw, "stats", "server"))
    assert set(s) == {"Server", "Stats"}


def test_info_resp3_verbatim(raw):
    raw.cmd("HELLO", "3")
    rep = raw.cmd("INFO", "server")
    assert isinstance(rep, Verbatim)
    assert rep.startswith(b"txt:# Server\r\n")


# ---------------------------------------------------------------- sections

def test_info_server_fields(server, raw):
    f = fields(info(raw, "server"))
    assert re.fullmatch(r"7\.\d+\.\d+", f["redis_version"])
    assert f["redis_mode"] == "standalone"
    assert f["arch_bits"] == "64"
    assert int(f["process_id"]) == server.proc.pid
    assert int(f["tcp_port"]) == server.port
    assert re.fullmatch(r"[0-9a-f]{40}", f["run_id"])
    assert int(f["uptime_in_seconds"]) >= 0
    assert int(f["uptime_in_days"]) == 0
    assert abs(int(f["server_time_usec"]) / 1e6 - time.time()) < 5
    assert "os" in f and "hz" in f and "executable" in f and "config_file" in f


def test_info_clients_fields(raw):
    f = fields(info(raw, "clients"))
    assert int(f["connected_clients"]) >= 1
    assert int(f["blocked_clients"]) == 0
    assert int(f["maxclients"]) > 0


def test_info_memory_fields(raw):
    f = fields(info(raw, "memory"))
    for k in ("used_memory", "used_memory_human", "used_memory_rss", "used_memory_peak",
              "used_memory_peak_human", "maxmemory", "maxmemory_human", "maxmemory_policy",
              "mem_fragmentation_ratio"):
        assert k in f, k
    assert int(f["used_memory"]) > 0
    assert int(f["maxmemory"]) == 0
    assert f["maxmemory_policy"] == "noeviction"
    assert re.fullmatch(r"[0-9.]+[BKMGT]?", f["used_memory_human"])


def settled_used_memory(r):
    """used_memory once it stops moving: the FLUSHALL of the fixture frees big tables a
    slice at a time, and our overhead estimate is refreshed by the cron (10 Hz)."""
    now = r.info("memory")["used_memory"]
    for _ in range(20):
        time.sleep(0.15)
        prev, now = now, r.info("memory")["used_memory"]
        if abs(now - prev) < 32 * 1024:
            break
    return now


def test_info_used_memory_tracks_data(r):
    base = settled_used_memory(r)
    pipe = r.pipeline(transaction=False)
    for i in range(1000):
        pipe.set(f"big:{i}", "x" * 10000)
    pipe.execute()
    grown = r.info("memory")["used_memory"]
    # 10 MB of values; the base may still hold a little the previous test's FLUSHALL frees
    assert grown - base >= 9_000_000
    r.flushall()
    deadline = time.time() + 30  # freed a slice at a time; a loaded machine is slow
    while time.time() < deadline and r.info("memory")["used_memory"] - base > 5_000_000:
        time.sleep(0.05)
    assert r.info("memory")["used_memory"] - base < 5_000_000


def test_info_persistence_fields(raw):
    f = fields(info(raw, "persistence"))
    assert f["loading"] == "0"
    assert "rdb_changes_since_last_save" in f
    assert "rdb_bgsave_in_progress" in f
    assert "rdb_last_save_time" in f


def test_info_replication_fields(raw):
    f = fields(info(raw, "replication"))
    assert f["role"] == "master"
    assert f["connected_slaves"] == "0"
    assert re.fullmatch(r"[0-9a-f]{40}", f["master_replid"])
    assert int(f["master_repl_offset"]) >= 0


def test_info_cpu_fields(raw):
    f = fields(info(raw, "cpu"))
    for k in ("used_cpu_sys", "used_cpu_user"):
        assert float(f[k]) >= 0


def test_info_stats_fields(raw):
    f = fields(info(raw, "stats"))
    for k in ("total_connections_received", "total_commands_processed", "instantaneous_ops_per_sec",
              "total_net_input_bytes", "total_net_output_bytes", "rejected_connections",
              "expired_keys", "evicted_keys", "keyspace_hits", "keyspace_misses",
              "total_error_replies"):
        assert re.fullmatch(r"\d+", f[k]), k


def test_info_stats_connections_counter(server, r):
    before = r.info("stats")["total_connections_received"]
    for _ in range(3):
        c = server.raw()
        c.cmd("PING")
        c.close()
    assert r.info("stats")["total_connections_received"] == before + 3


def test_info_stats_net_bytes(r):
    before = r.info("stats")
    r.set("netbytes", "x" * 100_000)
    r.get("netbytes")
    after = r.info("stats")
    assert after["total_net_input_bytes"] - before["total_net_input_bytes"] >= 100_000
    assert after["total_net_output_bytes"] - before["total_net_output_bytes"] >= 100_000


def test_info_error_replies(raw):
    before = int(fields(info(raw, "stats"))["total_error_replies"])
    raw.cmd("NOSUCHCOMMAND")
    raw.cmd("GET")
    raw.cmd("SET", "s", "x")
    raw.cmd("INCR", "s")
    after = int(fields(info(raw, "stats"))["total_error_replies"])
    assert after - before == 3


def test_info_errorstats(raw):
    raw.cmd("CONFIG", "RESETSTAT")
    raw.cmd("SET", "s", "x")
    raw.cmd("LPUSH", "s", "a")
    raw.cmd("INCR", "s")
    raw.cmd("INCR", "s")
    f = fields(info(raw, "errorstats"))
    assert f["errorstat_WRONGTYPE"] == "count=1"
    assert f["errorstat_ERR"] == "count=2"


def test_info_commandstats_format(raw):
    raw.cmd("CONFIG", "RESETSTAT")
    raw.cmd("SET", "a", "1")
    raw.cmd("SET", "a", "2")
    raw.cmd("GET", "a")
    f = fields(info(raw, "commandstats"))
    m = re.fullmatch(r"calls=(\d+),usec=(\d+),usec_per_call=([\d.]+),rejected_calls=(\d+),"
                     r"failed_calls=(\d+)", f["cmdstat_set"])
    assert m, f["cmdstat_set"]
    assert m.group(1) == "2"
    assert f["cmdstat_get"].startswith("calls=1,")


def test_info_commandstats_subcommands(raw):
    raw.cmd("CONFIG", "RESETSTAT")
    raw.cmd("CLIENT", "ID")
    f = fields(info(raw, "commandstats"))
    assert f["cmdstat_client|id"].startswith("calls=1,")


def test_info_commandstats_failed_and_rejected(raw):
    raw.cmd("CONFIG", "RESETSTAT")
    raw.cmd("SET", "s", "x")
    raw.cmd("INCR", "s")                     # runs and fails
    raw.cmd("INCR", "s", "extra")            # rejected: wrong arity
    f = fields(info(raw, "commandstats"))
    st = dict(kv.split("=") for kv in f["cmdstat_incr"].split(","))
    assert st["calls"] == "1"
    assert st["failed_calls"] == "1"
    assert st["rejected_calls"] == "1"


def test_info_keyspace_format(raw):
    raw.cmd("SET", "a", "1")
    raw.cmd("SET", "b", "1", "EX", "1000")
    raw.cmd("SELECT", "2")
    raw.cmd("SET", "c", "1")
    f = fields(info(raw, "keyspace"))
    assert set(f) == {"db0", "db2"}
    assert re.fullmatch(r"keys=2,expires=1,avg_ttl=\d+", f["db0"])
    assert f["db2"] == "keys=1,expires=0,avg_ttl=0"


def test_info_keyspace_empty(raw):
    assert info(raw, "keyspace") == "# Keyspace\r\n"


def test_instantaneous_rates_and_io_counters(server):
    # instantaneous_ops_per_sec follows the load (Redis samples every 100 ms over 1.6 s);
    # total_reads/writes_processed count the server's reads and writes.
    import threading
    import time
    r = server.client()
    before = r.info("stats")
    stop = threading.Event()

    def load():
        c = server.client()
        while not stop.is_set():
            p = c.pipeline(transaction=False)
            for i in range(50):
                p.get(f"k{i}")
            p.execute()
        c.close()

    t = threading.Thread(target=load)
    t.start()
    try:
        seen = 0
        deadline = time.time() + 10
        while time.time() < deadline and seen == 0:
            time.sleep(0.3)
            st = r.info("stats")
            seen = st["instantaneous_ops_per_sec"]
        assert seen > 0 and st["instantaneous_input_kbps"] > 0
    finally:
        stop.set()
        t.join()
    after = r.info("stats")
    assert after["total_reads_processed"] > before["total_reads_processed"]
    assert after["total_writes_processed"] > before["total_writes_processed"]
    mem = r.info("memory")
    assert mem["allocator_allocated"] > 0 and mem["allocator_resident"] >= mem["allocator_active"] > 0


def test_info_scripting_memory_fields(r):
    """INFO memory's scripting fields (Redis 7.0): cached scripts, functions, libraries."""
    r.script_flush()
    r.function_flush()
    m = r.info("memory")
    assert m["number_of_cached_scripts"] == 0
    assert m["number_of_functions"] == 0 and m["number_of_libraries"] == 0
    for k in ("used_memory_lua", "used_memory_vm_eval", "used_memory_scripts_eval",
              "used_memory_vm_functions", "used_memory_vm_total", "used_memory_functions",
              "used_memory_scripts"):
        assert isinstance(m[k], int) and m[k] >= 0, k
    r.eval("return 1", 0)
    r.eval("return 2", 0)
    r.function_load("#!lua name=infolib\nredis.register_function('a', function() return 1 end)\n"
                    "redis.register_function('b', function() return 2 end)")
    m = r.info("memory")
    assert m["number_of_cached_scripts"] == 2
    assert m["number_of_functions"] == 2 and m["number_of_libraries"] == 1
    assert m["used_memory_functions"] > 0 and m["used_memory_scripts_eval"] > 0
    assert m["used_memory_scripts"] >= m["used_memory_functions"]
    r.script_flush()
    r.function_flush()
    assert r.info("memory")["number_of_cached_scripts"] == 0


def test_info_replication_traffic_fields(r):
    s = r.info("stats")
    for k in ("total_net_repl_input_bytes", "total_net_repl_output_bytes",
              "migrate_cached_sockets", "dump_payload_sanitizations"):
        assert isinstance(s[k], int) and s[k] >= 0, k
    for k in ("instantaneous_input_repl_kbps", "instantaneous_output_repl_kbps"):
        assert float(s[k]) >= 0, k
