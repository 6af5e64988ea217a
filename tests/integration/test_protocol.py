"""RESP2/RESP3 wire protocol: inline commands, pipelining, binary safety, protocol errors,
generic command errors and HELLO (issue #2). Differential: every expectation holds on Redis 7.0."""
import socket
import time

import pytest

from resp import Error, RawClient, Simple, encode


def sock(server):
    s = socket.create_connection((server.host, server.port), timeout=10)
    return s


def recv_until_closed(s, timeout=5.0):
    """Everything the server sends until it closes the connection; fails if it stays open."""
    s.settimeout(timeout)
    out = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            return out
        if not chunk:
            return out
        out += chunk
    pytest.fail(f"connection not closed; got {out!r}")


def recv_exact(s, n, timeout=10.0):
    s.settimeout(timeout)
    out = b""
    while len(out) < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    return out


# ---------------------------------------------------------------- inline commands

def test_inline_ping(server):
    s = sock(server)
    s.sendall(b"PING\r\n")
    assert recv_exact(s, 7) == b"+PONG\r\n"
    s.close()


def test_inline_ping_lf_only(server):
    s = sock(server)
    s.sendall(b"PING\n")
    assert recv_exact(s, 7) == b"+PONG\r\n"
    s.close()


def test_inline_set_with_quotes(server, r):
    s = sock(server)
    s.sendall(b'SET k "hello world"\r\nGET k\r\n')
    expected = b"+OK\r\n$11\r\nhello world\r\n"
    assert recv_exact(s, len(expected)) == expected
    s.close()
    assert r.get("k") == "hello world"


def test_inline_quote_escapes(server, r):
    s = sock(server)
    s.sendall(b'SET k "a\\x41\\n"\r\n' + b"SET k2 'single quoted'\r\n")
    assert recv_exact(s, 10) == b"+OK\r\n+OK\r\n"
    s.close()
    assert r.get("k") == "aA\n"
    assert r.get("k2") == "single quoted"


def test_inline_extra_spaces(server, r):
    s = sock(server)
    s.sendall(b"SET   k    v  \r\n")
    assert recv_exact(s, 5) == b"+OK\r\n"
    s.close()
    assert r.get("k") == "v"


def test_inline_empty_lines_ignored(server):
    s = sock(server)
    s.sendall(b"\r\n\r\nPING\r\n")
    assert recv_exact(s, 7) == b"+PONG\r\n"
    s.close()


def test_inline_unknown_command(server):
    s = sock(server)
    s.sendall(b"foo a b\r\n")
    expected = b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
    assert recv_exact(s, len(expected)) == expected
    s.close()


def test_inline_unbalanced_quotes_closes(server):
    s = sock(server)
    s.sendall(b'SET k "abc\r\n')
    out = recv_until_closed(s)
    assert out == b"-ERR Protocol error: unbalanced quotes in request\r\n"
    s.close()


# ---------------------------------------------------------------- pipelining

def test_pipeline_1000_in_one_write(raw):
    cmds = []
    for i in range(1000):
        if i % 3 == 0:
            cmds.append(("SET", f"k{i}", f"v{i}"))
        elif i % 3 == 1:
            cmds.append(("GET", f"k{i - 1}"))
        else:
            cmds.append(("INCR", "counter"))
    replies = raw.pipeline(cmds)
    n = 0
    for i, rep in enumerate(replies):
        if i % 3 == 0:
            assert rep == "OK" and isinstance(rep, Simple)
        elif i % 3 == 1:
            assert rep == f"v{i - 1}".encode()
        else:
            n += 1
            assert rep == n


def test_pipeline_mixed_errors_keep_order(raw):
    replies = raw.pipeline([("SET", "a", "1"), ("NOSUCHCMD",), ("GET", "a"), ("GET",),
                            ("INCR", "a"), ("LPUSH", "a", "x"), ("PING",)])
    assert replies[0] == "OK"
    assert isinstance(replies[1], Error) and replies[1].startswith("ERR unknown command")
    assert replies[2] == b"1"
    assert replies[3] == "ERR wrong number of arguments for 'get' command"
    assert replies[4] == 2
    assert replies[5].startswith("WRONGTYPE")
    assert replies[6] == "PONG"


def test_pipeline_inline_and_multibulk_mixed(server):
    s = sock(server)
    s.sendall(b"PING\r\n" + encode("ECHO", "x") + b"PING hi\r\n" + encode("PING"))
    expected = b"+PONG\r\n$1\r\nx\r\n$2\r\nhi\r\n+PONG\r\n"
    assert recv_exact(s, len(expected)) == expected
    s.close()


def test_pipeline_split_across_writes(server):
    """A command split at every byte boundary is still parsed correctly."""
    s = sock(server)
    data = encode("SET", "split", "value") + encode("GET", "split")
    for b in data:
        s.sendall(bytes([b]))
    expected = b"+OK\r\n$5\r\nvalue\r\n"
    assert recv_exact(s, len(expected)) == expected
    s.close()


def test_many_pipelined_replies_large(raw):
    """Replies bigger than the socket buffer are delivered fully and in order."""
    val = "x" * 10000
    raw.cmd("SET", "big", val)
    replies = raw.pipeline([("GET", "big")] * 500)
    assert all(rep == val.encode() for rep in replies)


# ---------------------------------------------------------------- binary safety

def test_binary_safe_keys_and_values(rb):
    key = b"k\x00ey\r\nwith\xffbytes"
    val = b"\x00\r\n\x01\x02$3\r\nabc\r\n\xff" * 10
    assert rb.set(key, val)
    assert rb.get(key) == val
    assert rb.exists(key) == 1
    assert rb.strlen(key) == len(val)
    assert rb.get(b"k") is None
    assert key in rb.keys("*")


def test_empty_key_and_value(rb):
    assert rb.set(b"", b"")
    assert rb.get(b"") == b""
    assert rb.exists(b"") == 1


def test_big_value_round_trip(rb):
    val = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    assert len(val) == 10 * 1024 * 1024
    assert rb.set("big", val)
    assert rb.strlen("big") == len(val)
    assert rb.get("big") == val


def test_many_arguments(rb):
    args = []
    for i in range(10000):
        args += [f"f{i}", f"v{i}"]
    assert rb.execute_command("MSET", *args)
    assert rb.get("f9999") == b"v9999"
    assert rb.dbsize() == 10000


# ---------------------------------------------------------------- protocol errors

@pytest.mark.parametrize("data,err", [
    (b"*abc\r\n", "invalid multibulk length"),
    (b"*1\r\n$abc\r\n", "invalid bulk length"),
    (b"*1\r\n$-1\r\n", "invalid bulk length"),
    (b"*1\r\nxfoo\r\n", "expected '$', got 'x'"),
    (b"*2\r\n$3\r\nGET\r\n:1\r\n", "expected '$', got ':'"),
])
def test_protocol_errors_close_connection(server, data, err):
    s = sock(server)
    s.sendall(data)
    out = recv_until_closed(s)
    assert out == f"-ERR Protocol error: {err}\r\n".encode()
    s.close()


def test_protocol_error_after_valid_command(server):
    s = sock(server)
    s.sendall(b"PING\r\n*1\r\n$x\r\n")
    out = recv_until_closed(s)
    assert out == b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"
    s.close()


def test_protocol_error_does_not_affect_others(server, r):
    s = sock(server)
    s.sendall(b"*abc\r\n")
    recv_until_closed(s)
    s.close()
    assert r.ping()


def test_empty_multibulk_is_ignored(server):
    s = sock(server)
    s.sendall(b"*0\r\n*-1\r\n" + encode("PING"))
    assert recv_exact(s, 7) == b"+PONG\r\n"
    s.close()


# ---------------------------------------------------------------- command errors

def test_unknown_command_exact(raw):
    assert raw.cmd("foo", "a", "b") == "ERR unknown command 'foo', with args beginning with: 'a' 'b' "
    assert raw.cmd("foo") == "ERR unknown command 'foo', with args beginning with: "
    raw.send(encode("nosuch", "x"))
    assert raw.read_line_raw() == b"-ERR unknown command 'nosuch', with args beginning with: 'x' "


def test_wrong_arity_exact(raw):
    assert raw.cmd("GET") == "ERR wrong number of arguments for 'get' command"
    assert raw.cmd("get", "a", "b") == "ERR wrong number of arguments for 'get' command"
    assert raw.cmd("SET", "a") == "ERR wrong number of arguments for 'set' command"
    assert raw.cmd("PING", "a", "b") == "ERR wrong number of arguments for 'ping' command"


def test_command_names_case_insensitive(raw):
    assert raw.cmd("sEt", "k", "v") == "OK"
    assert raw.cmd("get", "k") == b"v"
    assert raw.cmd("GeT", "k") == b"v"
    assert raw.cmd("pInG") == "PONG"


def test_error_replies_are_errors(raw):
    raw.cmd("SET", "s", "x")
    rep = raw.cmd("INCR", "s")
    assert isinstance(rep, Error)
    assert rep == "ERR value is not an integer or out of range"


# ---------------------------------------------------------------- HELLO / RESP3

def test_hello_default_resp2(raw):
    rep = raw.cmd("HELLO")
    assert isinstance(rep, list) and len(rep) == 14
    d = dict(zip(rep[0::2], rep[1::2]))
    assert d[b"proto"] == 2
    assert d[b"server"] == b"redis"


def test_hello_3_map(raw):
    rep = raw.cmd("HELLO", "3")
    assert isinstance(rep, dict)
    assert list(rep.keys()) == [b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"]
    assert rep[b"server"] == b"redis"
    assert isinstance(rep[b"version"], bytes) and rep[b"version"].startswith(b"7.")
    assert rep[b"proto"] == 3
    assert isinstance(rep[b"id"], int) and rep[b"id"] > 0
    assert rep[b"mode"] == b"standalone"
    assert rep[b"role"] == b"master"
    assert isinstance(rep[b"modules"], list)


def test_hello_id_matches_client_id(raw):
    rep = raw.cmd("HELLO", "3")
    assert rep[b"id"] == raw.cmd("CLIENT", "ID")


def test_resp3_null_and_types(server):
    c = server.raw()
    c.cmd("HELLO", "3")
    c.send(encode("GET", "nokey-resp3"))
    assert c.read_line_raw() == b"_"
    c.send(encode("SET", "x", "1"))
    assert c.read_line_raw() == b"+OK"
    c.send(encode("INCR", "x"))
    assert c.read_line_raw() == b":2"
    c.send(encode("CONFIG", "GET", "maxmemory"))
    assert c.read_line_raw() == b"%1"
    assert c.read() == b"maxmemory"
    assert isinstance(c.read(), bytes)
    c.send(encode("HGETALL", "nokey-resp3"))
    assert c.read_line_raw() == b"%0"
    c.cmd("HSET", "h", "f", "v")
    assert c.cmd("HGETALL", "h") == {b"f": b"v"}
    c.cmd("DEL", "x", "h")
    c.close()


def test_resp2_null_is_dollar_minus_one(raw):
    raw.send(encode("GET", "nokey"))
    assert raw.read_line_raw() == b"$-1"
    raw.send(encode("MGET", "nokey"))
    assert raw.read_line_raw() == b"*1"
    assert raw.read_line_raw() == b"$-1"


def test_hello_back_to_2(raw):
    raw.cmd("HELLO", "3")
    rep = raw.cmd("HELLO", "2")
    assert isinstance(rep, list)
    raw.send(encode("GET", "nokey"))
    assert raw.read_line_raw() == b"$-1"


def test_hello_unsupported_version(raw):
    assert raw.cmd("HELLO", "4") == "NOPROTO unsupported protocol version"
    assert raw.cmd("HELLO", "1") == "NOPROTO unsupported protocol version"
    assert raw.cmd("HELLO", "x") == "ERR Protocol version is not an integer or out of range"
    # the connection stays usable and in RESP2
    raw.send(encode("GET", "nokey"))
    assert raw.read_line_raw() == b"$-1"


def test_hello_setname(raw):
    rep = raw.cmd("HELLO", "3", "SETNAME", "myconn")
    assert rep[b"proto"] == 3
    assert raw.cmd("CLIENT", "GETNAME") == b"myconn"


def test_hello_auth_without_password_configured(raw):
    # "default" user with nopass accepts any password in HELLO AUTH
    rep = raw.cmd("HELLO", "3", "AUTH", "default", "whatever")
    assert isinstance(rep, dict) and rep[b"proto"] == 3


def test_hello_auth_with_requirepass():
    from conftest import Server
    s = Server(args=["--requirepass", "s3cret"])
    try:
        c = s.raw()
        rep = c.cmd("HELLO", "3")
        assert isinstance(rep, Error)
        assert rep.startswith("NOAUTH HELLO must be called with the client already authenticated")
        rep = c.cmd("HELLO", "3", "AUTH", "default", "wrong")
        assert rep == "WRONGPASS invalid username-password pair or user is disabled."
        assert c.cmd("GET", "x") == "NOAUTH Authentication required."
        rep = c.cmd("HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "n1")
        assert isinstance(rep, dict) and rep[b"proto"] == 3
        assert c.cmd("GET", "x") is None
        assert c.cmd("CLIENT", "GETNAME") == b"n1"
        c.close()
    finally:
        s.stop()
