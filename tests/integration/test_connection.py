"""Connection commands: PING, ECHO, QUIT, RESET, SELECT, AUTH, CLIENT * (issue #2)."""
import re
import socket
import time

import pytest

from conftest import Server
from resp import Error, Simple, encode


def wait_closed(c, timeout=5.0):
    """True when the raw client's connection gets closed by the server."""
    c.sock.settimeout(timeout)
    try:
        while True:
            data = c.sock.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


# ---------------------------------------------------------------- PING / ECHO

def test_ping(raw):
    rep = raw.cmd("PING")
    assert rep == "PONG" and isinstance(rep, Simple)
    rep = raw.cmd("PING", "hello")
    assert rep == b"hello"
    assert raw.cmd("PING", "a", "b") == "ERR wrong number of arguments for 'ping' command"


def test_echo(raw):
    assert raw.cmd("ECHO", "hello world") == b"hello world"
    assert raw.cmd("ECHO", "") == b""
    assert raw.cmd("ECHO", "a\x00b") == b"a\x00b"
    assert raw.cmd("ECHO") == "ERR wrong number of arguments for 'echo' command"
    assert raw.cmd("ECHO", "a", "b") == "ERR wrong number of arguments for 'echo' command"


def test_redis_py_ping_echo(r):
    assert r.ping() is True
    assert r.echo("x") == "x"


# ---------------------------------------------------------------- QUIT

def test_quit(server):
    c = server.raw()
    c.send(encode("QUIT"))
    assert c.read() == "OK"
    assert wait_closed(c)
    c.close()


def test_quit_after_pipeline(server):
    c = server.raw()
    c.send(encode("SET", "q", "1") + encode("QUIT") + encode("SET", "q", "2"))
    assert c.read() == "OK"
    assert c.read() == "OK"
    assert wait_closed(c)
    c.close()
    rc = server.client()
    assert rc.get("q") == "1"
    rc.delete("q")
    rc.close()


# ---------------------------------------------------------------- RESET

def test_reset(raw):
    raw.cmd("SELECT", "3")
    raw.cmd("SET", "indb3", "x")
    assert raw.cmd("HELLO", "3")[b"proto"] == 3
    raw.cmd("MULTI")
    rep = raw.cmd("RESET")
    assert rep == "RESET" and isinstance(rep, Simple)
    # back to RESP2
    raw.send(encode("GET", "nokey"))
    assert raw.read_line_raw() == b"$-1"
    # back to db 0
    assert raw.cmd("GET", "indb3") is None
    # no longer in MULTI
    assert raw.cmd("EXEC") == "ERR EXEC without MULTI"
    info = raw.cmd("CLIENT", "INFO").decode()
    assert " db=0 " in info and " resp=2" in info
    raw.cmd("SELECT", "3")
    assert raw.cmd("GET", "indb3") == b"x"
    raw.cmd("FLUSHALL")


def test_reset_unwatches(server, raw):
    raw.cmd("WATCH", "w")
    assert raw.cmd("RESET") == "RESET"
    other = server.client()
    other.set("w", "changed")
    assert raw.cmd("MULTI") == "OK"
    raw.cmd("GET", "w")
    assert raw.cmd("EXEC") == [b"changed"]
    other.close()


def test_reset_clears_name(raw):
    raw.cmd("CLIENT", "SETNAME", "before")
    raw.cmd("RESET")
    assert raw.cmd("CLIENT", "GETNAME") is None


# ---------------------------------------------------------------- SELECT

def test_select_range(raw):
    for db in range(16):
        assert raw.cmd("SELECT", str(db)) == "OK"
    assert raw.cmd("SELECT", "16") == "ERR DB index is out of range"
    assert raw.cmd("SELECT", "-1") == "ERR DB index is out of range"
    assert raw.cmd("SELECT", "x") == "ERR value is not an integer or out of range"
    assert raw.cmd("SELECT", "1.5") == "ERR value is not an integer or out of range"
    assert raw.cmd("SELECT") == "ERR wrong number of arguments for 'select' command"


def test_select_isolates_keyspaces(raw):
    raw.cmd("SET", "k", "db0")
    raw.cmd("SELECT", "1")
    assert raw.cmd("GET", "k") is None
    raw.cmd("SET", "k", "db1")
    assert raw.cmd("DBSIZE") == 1
    raw.cmd("SELECT", "0")
    assert raw.cmd("GET", "k") == b"db0"
    raw.cmd("SELECT", "15")
    assert raw.cmd("EXISTS", "k") == 0


def test_select_is_per_connection(server, raw):
    raw.cmd("SELECT", "5")
    raw.cmd("SET", "k", "v5")
    other = server.raw()
    assert other.cmd("GET", "k") is None
    other.cmd("SELECT", "5")
    assert other.cmd("GET", "k") == b"v5"
    other.close()


def test_databases_flag():
    s = Server(args=["--databases", "4"])
    try:
        c = s.raw()
        assert c.cmd("SELECT", "3") == "OK"
        assert c.cmd("SELECT", "4") == "ERR DB index is out of range"
        c.close()
    finally:
        s.stop()


# ---------------------------------------------------------------- AUTH

def test_auth_without_password_configured(raw):
    assert raw.cmd("AUTH", "x") == ("ERR AUTH <password> called without any password configured "
                                    "for the default user. Are you sure your configuration is correct?")
    assert raw.cmd("AUTH") == "ERR wrong number of arguments for 'auth' command"


def test_auth_default_user_nopass_accepts_any(raw):
    assert raw.cmd("AUTH", "default", "anything") == "OK"
    assert raw.cmd("AUTH", "nosuchuser", "x") == "WRONGPASS invalid username-password pair or user is disabled."


@pytest.fixture(scope="module")
def authserver():
    s = Server(args=["--requirepass", "s3cret"])
    yield s
    s.stop()


def test_requirepass_noauth(authserver):
    c = authserver.raw()
    assert c.cmd("GET", "x") == "NOAUTH Authentication required."
    assert c.cmd("SET", "x", "1") == "NOAUTH Authentication required."
    c.send(encode("PING"))
    assert c.read_line_raw() == b"-NOAUTH Authentication required."
    c.close()


def test_requirepass_wrong_password(authserver):
    c = authserver.raw()
    c.send(encode("AUTH", "wrong"))
    assert c.read_line_raw() == b"-WRONGPASS invalid username-password pair or user is disabled."
    assert c.cmd("AUTH", "default", "wrong") == "WRONGPASS invalid username-password pair or user is disabled."
    assert c.cmd("GET", "x") == "NOAUTH Authentication required."
    c.close()


def test_requirepass_ok(authserver):
    c = authserver.raw()
    assert c.cmd("AUTH", "s3cret") == "OK"
    assert c.cmd("SET", "x", "1") == "OK"
    assert c.cmd("GET", "x") == b"1"
    c.close()
    c = authserver.raw()
    assert c.cmd("AUTH", "default", "s3cret") == "OK"
    assert c.cmd("GET", "x") == b"1"
    assert c.cmd("DEL", "x") == 1
    c.close()


def test_requirepass_redis_py(authserver):
    c = authserver.client(password="s3cret")
    assert c.ping()
    c.close()


def test_requirepass_quit_and_hello_allowed(authserver):
    c = authserver.raw()
    rep = c.cmd("HELLO", "2", "AUTH", "default", "s3cret")
    assert isinstance(rep, list)
    assert c.cmd("PING") == "PONG"
    c.close()


def test_reset_deauthenticates(authserver):
    c = authserver.raw()
    assert c.cmd("AUTH", "s3cret") == "OK"
    assert c.cmd("RESET") == "RESET"
    assert c.cmd("GET", "x") == "NOAUTH Authentication required."
    c.close()


# ---------------------------------------------------------------- CLIENT

def test_client_id(server):
    a = server.raw()
    b = server.raw()
    ida = a.cmd("CLIENT", "ID")
    idb = b.cmd("CLIENT", "ID")
    assert isinstance(ida, int) and isinstance(idb, int)
    assert ida > 0 and idb > 0 and ida != idb
    assert a.cmd("CLIENT", "ID") == ida
    c = server.raw()
    assert c.cmd("CLIENT", "ID") > max(ida, idb)
    for x in (a, b, c):
        x.close()


def test_client_setname_getname(raw):
    assert raw.cmd("CLIENT", "GETNAME") is None
    assert raw.cmd("CLIENT", "SETNAME", "worker-1") == "OK"
    assert raw.cmd("CLIENT", "GETNAME") == b"worker-1"
    assert raw.cmd("CLIENT", "SETNAME", "a b") == \
        "ERR Client names cannot contain spaces, newlines or special characters."
    assert raw.cmd("CLIENT", "GETNAME") == b"worker-1"
    assert raw.cmd("CLIENT", "SETNAME", "") == "OK"
    assert raw.cmd("CLIENT", "GETNAME") is None


def test_client_unknown_subcommand(raw):
    rep = raw.cmd("CLIENT", "NOSUCH")
    assert rep == "ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP."


def test_client_setinfo_not_asserted(raw):
    # CLIENT SETINFO exists from Redis 7.2; 7.0 rejects it. Either a success or an error is fine,
    # but the connection must stay usable.
    rep = raw.cmd("CLIENT", "SETINFO", "lib-name", "pytest")
    assert rep == "OK" or isinstance(rep, Error)
    assert raw.cmd("PING") == "PONG"


CLIENT_FIELDS = ["id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub",
                 "multi", "qbuf", "obl", "oll", "omem", "events", "cmd", "user", "resp"]


def parse_client_line(line):
    out = {}
    for tok in line.split(" "):
        k, _, v = tok.partition("=")
        out[k] = v
    return out


def test_client_info_fields(raw):
    raw.cmd("CLIENT", "SETNAME", "infotest")
    raw.cmd("SELECT", "2")
    text = raw.cmd("CLIENT", "INFO").decode()
    assert text.endswith("\n")
    f = parse_client_line(text.strip())
    for name in CLIENT_FIELDS:
        assert name in f, name
    assert list(f)[0] == "id"
    assert int(f["id"]) == raw.cmd("CLIENT", "ID")
    assert f["name"] == "infotest"
    assert f["db"] == "2"
    assert f["cmd"] == "client|info"
    assert f["resp"] == "2"
    assert f["user"] == "default"
    local = raw.sock.getsockname()
    assert f["addr"] == f"{local[0]}:{local[1]}"
    peer = raw.sock.getpeername()
    assert f["laddr"] == f"{peer[0]}:{peer[1]}"
    assert re.fullmatch(r"\d+", f["age"]) and re.fullmatch(r"\d+", f["idle"])


def test_client_list(server, raw):
    other = server.raw()
    oid = other.cmd("CLIENT", "ID")
    other.cmd("CLIENT", "SETNAME", "other")
    text = raw.cmd("CLIENT", "LIST").decode()
    lines = [l for l in text.split("\n") if l]
    clients = [parse_client_line(l) for l in lines]
    ids = {int(c["id"]) for c in clients}
    assert oid in ids
    assert raw.cmd("CLIENT", "ID") in ids
    mine = [c for c in clients if int(c["id"]) == raw.cmd("CLIENT", "ID")][0]
    assert mine["cmd"] == "client|list"
    theirs = [c for c in clients if int(c["id"]) == oid][0]
    assert theirs["name"] == "other"
    assert theirs["cmd"] == "client|setname"
    for c in clients:
        for name in CLIENT_FIELDS:
            assert name in c
    other.close()


def test_client_list_by_id(server, raw):
    other = server.raw()
    oid = other.cmd("CLIENT", "ID")
    text = raw.cmd("CLIENT", "LIST", "ID", str(oid)).decode()
    lines = [l for l in text.split("\n") if l]
    assert len(lines) == 1
    assert parse_client_line(lines[0])["id"] == str(oid)
    other.close()


def test_client_kill_id(server, raw):
    victim = server.raw()
    vid = victim.cmd("CLIENT", "ID")
    assert raw.cmd("CLIENT", "KILL", "ID", str(vid)) == 1
    assert wait_closed(victim)
    victim.close()
    assert raw.cmd("CLIENT", "KILL", "ID", str(vid)) == 0
    assert raw.cmd("CLIENT", "KILL", "ID", "999999") == 0
    assert raw.cmd("PING") == "PONG"


def test_client_kill_addr(server, raw):
    victim = server.raw()
    assert victim.cmd("PING") == "PONG"  # make sure the server has accepted it
    vaddr = victim.sock.getsockname()
    addr = f"{vaddr[0]}:{vaddr[1]}"
    assert raw.cmd("CLIENT", "KILL", "ADDR", addr) == 1
    assert wait_closed(victim)
    victim.close()
    assert raw.cmd("CLIENT", "KILL", "ADDR", addr) == 0


def test_client_kill_old_style(server, raw):
    victim = server.raw()
    assert victim.cmd("PING") == "PONG"  # make sure the server has accepted it
    vaddr = victim.sock.getsockname()
    assert raw.cmd("CLIENT", "KILL", f"{vaddr[0]}:{vaddr[1]}") == "OK"
    assert wait_closed(victim)
    victim.close()
    assert raw.cmd("CLIENT", "KILL", "1.2.3.4:5") == "ERR No such client"


def client_ids(r):
    return {int(parse_client_line(l)["id"])
            for l in r.execute_command("CLIENT", "LIST").split("\n") if l}


def wait_consistent(r, pred, timeout=5.0):
    """Poll until connected_clients matches CLIENT LIST and pred(ids) holds (closing connections
    are reaped asynchronously)."""
    deadline = time.time() + timeout
    while True:
        ids = client_ids(r)
        n = r.info("clients")["connected_clients"]
        if n == len(ids) and pred(ids):
            return ids, n
        if time.time() > deadline:
            pytest.fail(f"connected_clients={n}, CLIENT LIST ids={sorted(ids)}")
        time.sleep(0.02)


def test_client_kill_connection_count(server, r):
    extra = [server.raw() for _ in range(3)]
    eids = [e.cmd("CLIENT", "ID") for e in extra]
    ids, n = wait_consistent(r, lambda ids: set(eids) <= ids)
    assert n >= 4
    for eid in eids:
        assert r.execute_command("CLIENT", "KILL", "ID", eid) == 1
    ids, n2 = wait_consistent(r, lambda ids: not (set(eids) & ids))
    assert n2 <= n - 3
    for e in extra:
        e.close()
