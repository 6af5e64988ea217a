"""CONFIG GET/SET and the command line / config file (issue #4)."""
import os
import signal
import subprocess
import tempfile

import pytest

from conftest import SERVER_KIND, Server, dragonfly_bin, free_port, is_redis
from resp import Error


_TMPDIR = tempfile.mkdtemp(prefix="df-cli-")  # snapshots at shutdown land here, not in cwd


def base_cmd(port, conffile=None):
    """The server command line with an optional config file as first argument."""
    if SERVER_KIND == "redis":
        cmd = [os.environ.get("REDIS_BIN", "/usr/bin/redis-server")]
        if conffile:
            cmd.append(conffile)
        return cmd + ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    cmd = [dragonfly_bin()]
    if conffile:
        cmd.append(conffile)
    return cmd + ["--port", str(port), "--bind", "127.0.0.1", "--threads", "1", "--dir", _TMPDIR]


def run_expect_exit(cmd, timeout=10):
    """Run a server that must refuse to start; return (returncode, output)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        pytest.fail(f"server started although it should have refused: {cmd}")
    return p.returncode, out.decode(errors="replace")


# ---------------------------------------------------------------- CONFIG GET / SET

def test_config_get_single(raw):
    rep = raw.cmd("CONFIG", "GET", "maxmemory")
    assert rep == [b"maxmemory", b"0"]


def test_config_get_star_pairs(raw):
    rep = raw.cmd("CONFIG", "GET", "*")
    assert isinstance(rep, list) and len(rep) > 10 and len(rep) % 2 == 0
    d = dict(zip(rep[0::2], rep[1::2]))
    assert len(d) == len(rep) // 2           # no duplicate names
    for name in (b"maxmemory", b"maxmemory-policy", b"port", b"databases", b"requirepass"):
        assert name in d, name


def test_config_get_glob(raw):
    rep = raw.cmd("CONFIG", "GET", "max*")
    d = dict(zip(rep[0::2], rep[1::2]))
    assert b"maxmemory" in d and b"maxmemory-policy" in d and b"maxclients" in d
    assert all(k.startswith(b"max") for k in d)
    assert raw.cmd("CONFIG", "GET", "nosuchparam") == []


def test_config_get_multiple_args(raw):
    rep = raw.cmd("CONFIG", "GET", "maxmemory", "databases")
    d = dict(zip(rep[0::2], rep[1::2]))
    assert d == {b"maxmemory": b"0", b"databases": b"16"}


def test_config_get_port(server, raw):
    assert raw.cmd("CONFIG", "GET", "port") == [b"port", str(server.port).encode()]


def test_config_get_resp3_map(raw):
    raw.cmd("HELLO", "3")
    assert raw.cmd("CONFIG", "GET", "maxmemory") == {b"maxmemory": b"0"}


@pytest.fixture
def restore_maxmemory(raw):
    yield
    c = raw
    c.cmd("CONFIG", "SET", "maxmemory", "0")
    c.cmd("CONFIG", "SET", "maxmemory-policy", "noeviction")


@pytest.mark.parametrize("value,expected", [("4gb", "4294967296"), ("4GB", "4294967296"),
                                            ("512mb", "536870912"), ("100", "100"),
                                            ("1k", "1000"), ("1kb", "1024")])
def test_config_set_maxmemory_units(r, restore_maxmemory, value, expected):
    assert r.config_set("maxmemory", value)
    assert r.config_get("maxmemory") == {"maxmemory": expected}


def test_config_set_memory_in_info(r, restore_maxmemory):
    r.config_set("maxmemory", "4gb")
    assert r.info("memory")["maxmemory"] == 4294967296


def test_config_set_policy(r, restore_maxmemory):
    assert r.config_set("maxmemory-policy", "allkeys-lru")
    assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}


def test_config_set_multiple(raw, restore_maxmemory):
    assert raw.cmd("CONFIG", "SET", "maxmemory", "1mb", "maxmemory-policy", "allkeys-lru") == "OK"
    rep = raw.cmd("CONFIG", "GET", "maxmemory", "maxmemory-policy")
    d = dict(zip(rep[0::2], rep[1::2]))
    assert d == {b"maxmemory": b"1048576", b"maxmemory-policy": b"allkeys-lru"}


def test_config_set_unknown(raw):
    assert raw.cmd("CONFIG", "SET", "nosuch", "1") == \
        "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"


def test_config_set_bad_values(raw):
    rep = raw.cmd("CONFIG", "SET", "maxmemory", "abc")
    assert rep == ("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - "
                   "argument must be a memory value")
    rep = raw.cmd("CONFIG", "SET", "maxmemory-policy", "bogus")
    assert isinstance(rep, Error)
    assert rep.startswith("ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy')")
    assert raw.cmd("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"0"]
    assert raw.cmd("CONFIG", "GET", "maxmemory-policy") == [b"maxmemory-policy", b"noeviction"]


def test_config_set_immutable(raw):
    rep = raw.cmd("CONFIG", "SET", "databases", "5")
    assert rep == ("ERR CONFIG SET failed (possibly related to argument 'databases') - "
                   "can't set immutable config")


def test_config_arity_and_subcommands(raw):
    assert raw.cmd("CONFIG", "GET") == "ERR wrong number of arguments for 'config|get' command"
    assert raw.cmd("CONFIG", "SET", "maxmemory") == \
        "ERR wrong number of arguments for 'config|set' command"
    assert raw.cmd("CONFIG", "NOSUCH") == "ERR unknown subcommand 'NOSUCH'. Try CONFIG HELP."


def test_config_resetstat(r):
    r.get("x")
    assert r.config_resetstat()
    st = r.info("stats")
    assert st["keyspace_misses"] == 0
    assert "cmdstat_get" not in r.info("commandstats")


# ---------------------------------------------------------------- command line

def test_cli_flags_applied():
    s = Server(args=["--maxmemory", "4gb", "--maxmemory-policy", "allkeys-lru", "--databases", "4"])
    try:
        c = s.client()
        assert c.config_get("maxmemory") == {"maxmemory": "4294967296"}
        assert c.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
        assert c.config_get("databases") == {"databases": "4"}
        c.close()
    finally:
        s.stop()


@pytest.mark.skipif(is_redis(), reason="redis-server does not accept --flag=value or '_' in names")
def test_cli_flag_syntax_variants():
    s = Server(args=["--maxmemory=512mb", "--maxmemory_policy", "allkeys-lru"])
    try:
        c = s.client()
        assert c.config_get("maxmemory") == {"maxmemory": "536870912"}
        assert c.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
        c.close()
    finally:
        s.stop()


def test_bogus_flag_fails():
    rc, out = run_expect_exit(base_cmd(free_port()) + ["--bogus-flag", "1"])
    assert rc == 1
    assert "bogus" in out.lower()


@pytest.mark.parametrize("flag,value", [("maxmemory", "abc"), ("port", "notanumber"),
                                        ("maxmemory-policy", "bogus")])
def test_bad_flag_value_fails(flag, value):
    cmd = base_cmd(free_port())
    if flag == "port":
        i = cmd.index("--port")
        del cmd[i:i + 2]
    rc, out = run_expect_exit(cmd + [f"--{flag}", value])
    assert rc == 1
    assert flag in out.replace("_", "-")


def test_sigterm_exits_zero():
    s = Server()
    c = s.client()
    c.set("x", "1")
    c.close()
    assert s.stop(signal.SIGTERM) == 0


def test_sigint_exits_zero():
    s = Server()
    assert s.stop(signal.SIGINT) == 0


def test_busy_port_fails():
    s = Server()
    try:
        cmd = base_cmd(s.port)
        rc, out = run_expect_exit(cmd)
        assert rc == 1
        # the first server is unaffected
        c = s.client()
        assert c.ping()
        c.close()
    finally:
        s.stop()


def test_config_file():
    port = free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("# a comment\n\nmaxmemory 512mb\nmaxmemory-policy allkeys-lru\n"
                "requirepass filepass\n")
        path = f.name
    p = subprocess.Popen(base_cmd(port, conffile=path), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    try:
        s = Server.__new__(Server)
        s.kind, s.port, s.host, s.proc, s.cmd = SERVER_KIND, port, "127.0.0.1", p, None
        s.wait_ready()
        c = s.client(password="filepass")
        assert c.config_get("maxmemory") == {"maxmemory": "536870912"}
        assert c.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
        # the command line overrides nothing here, but the port came from the command line
        assert c.config_get("port") == {"port": str(port)}
        c.close()
        assert s.stop() == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.unlink(path)


def test_config_file_bad_directive_fails():
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("maxmemory 1mb\nnosuchdirective 5\n")
        path = f.name
    try:
        rc, out = run_expect_exit(base_cmd(free_port(), conffile=path))
        assert rc == 1
        assert "nosuchdirective" in out
    finally:
        os.unlink(path)


def stock_redis_conf(port, dirpath):
    """Debian's own /etc/redis/redis.conf, with only what would clash here changed: port,
    dir, pid and log files, daemonize, bind."""
    out = []
    with open("/etc/redis/redis.conf") as f:
        for line in f:
            word = line.split(" ", 1)[0].strip()
            repl = {"port": f"port {port}", "daemonize": "daemonize no", "bind": "bind 127.0.0.1",
                    "logfile": 'logfile ""', "dir": f"dir {dirpath}",
                    "pidfile": f"pidfile {dirpath}/server.pid"}
            out.append(repl.get(word, line.rstrip("\n")) if not line.startswith("#") else line.rstrip("\n"))
    path = os.path.join(dirpath, "redis.conf")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return path


@pytest.mark.skipif(not os.path.exists("/etc/redis/redis.conf"), reason="needs redis-server's config")
def test_debian_stock_redis_conf_starts_us():
    # A drop-in replacement starts from the user's redis.conf unchanged.
    d = tempfile.mkdtemp(prefix="df-conf-")
    port = free_port()
    path = stock_redis_conf(port, d)
    binary = os.environ.get("REDIS_BIN", "/usr/bin/redis-server") if is_redis() else dragonfly_bin()
    p = subprocess.Popen([binary, path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        s = Server.__new__(Server)
        s.kind, s.port, s.host, s.proc, s.cmd = SERVER_KIND, port, "127.0.0.1", p, None
        s.wait_ready()
        c = s.client()
        got = {k: c.config_get(k)[k] for k in
               ("protected-mode", "tcp-backlog", "appendfsync", "supervised", "hz",
                "lazyfree-lazy-eviction", "repl-diskless-sync", "slave-read-only",
                "hash-max-ziplist-entries", "client-output-buffer-limit", "save")}
        assert got == {"protected-mode": "yes", "tcp-backlog": "511", "appendfsync": "everysec",
                       "supervised": "no", "hz": "10", "lazyfree-lazy-eviction": "no",
                       "repl-diskless-sync": "yes", "slave-read-only": "yes",
                       "hash-max-ziplist-entries": "512",
                       "client-output-buffer-limit":
                           "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
                       "save": "3600 1 300 100 60 10000"}
        assert c.set("k", "v") and c.get("k") == "v"
        c.close()
        s.stop()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        subprocess.run(["rm", "-rf", d])


REDIS7_DEFAULTS = {
    "activerehashing": "yes", "active-defrag-ignore-bytes": "104857600", "appendfsync": "everysec",
    "appendfilename": "appendonly.aof", "auto-aof-rewrite-min-size": "67108864", "io-threads": "1",
    "lfu-log-factor": "10", "list-max-listpack-size": "-2", "list-max-ziplist-size": "-2",
    "maxmemory-samples": "5", "min-replicas-to-write": "0", "min-slaves-max-lag": "10",
    "oom-score-adj-values": "0 200 800", "repl-diskless-load": "disabled", "repl-timeout": "60",
    "replica-priority": "100", "slave-priority": "100", "stream-node-max-entries": "100",
    "syslog-facility": "local0", "tcp-backlog": "511", "tls-session-cache-size": "20480",
    "cluster-config-file": "nodes.conf", "acl-pubsub-default": "resetchannels",
    "shutdown-on-sigterm": "default", "zset-max-ziplist-entries": "128",
}


def test_redis_parameters_and_their_defaults(raw):
    for name, value in REDIS7_DEFAULTS.items():
        assert raw.cmd("CONFIG", "GET", name) == [name.encode(), value.encode()], name


def test_redis_parameters_set_validate_and_aliases(raw):
    assert raw.cmd("CONFIG", "SET", "appendfsync", "always") == "OK"
    assert raw.cmd("CONFIG", "GET", "appendfsync") == [b"appendfsync", b"always"]
    assert raw.cmd("CONFIG", "SET", "appendfsync", "everysec") == "OK"
    assert isinstance(raw.cmd("CONFIG", "SET", "appendfsync", "sometimes"), Error)
    assert isinstance(raw.cmd("CONFIG", "SET", "maxmemory-samples", "abc"), Error)
    assert raw.cmd("CONFIG", "SET", "slave-priority", "7") == "OK"
    assert raw.cmd("CONFIG", "GET", "replica-priority") == [b"replica-priority", b"7"]
    assert raw.cmd("CONFIG", "SET", "replica-priority", "100") == "OK"
    names = raw.cmd("CONFIG", "GET", "slave-*")[::2]
    assert b"slave-read-only" in names and b"slave-priority" in names


@pytest.mark.skipif(is_redis(), reason="our refusals of what we do not do")
def test_unsupported_redis_values_are_refused(raw):
    for name, value in (("syslog-enabled", "yes"), ("maxmemory-clients", "1mb")):
        err = raw.cmd("CONFIG", "SET", name, value)
        assert isinstance(err, Error) and "not supported" in err, (name, err)
    assert raw.cmd("CONFIG", "SET", "syslog-enabled", "no") == "OK"  # the default is fine
