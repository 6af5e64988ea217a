"""Functions: FUNCTION LOAD|DELETE|FLUSH|LIST|STATS|DUMP|RESTORE|HELP, FCALL, FCALL_RO, and
functions in RDB files.

Differential: every expectation also holds against redis-server 7.0 (DF_TEST_SERVER=redis),
error texts included. Libraries are listed in no promised order (Redis lists them in hash
order), so lists are compared sorted. The interop tests (DUMP payloads and RDB files between
our server and redis-server) need both servers and are skipped when the suite runs against
Redis. FUNCTION KILL is in test_script_kill.py (it needs a busy thread).
"""
import contextlib

import pytest

from conftest import SERVER_KIND, Server
from resp import Error, Simple

BAD_NAME = ("Library names can only contain letters, numbers, or underscores(_) and must be "
            "at least one character long")


def lib(name, *body):
    return f"#!lua name={name}\n" + "\n".join(body)


def reg(fn, body="return 1"):
    return f"redis.register_function('{fn}', function(keys, args) {body} end)"


@pytest.fixture
def raw(server):
    c = server.raw()
    c.cmd("FLUSHALL")
    c.cmd("FUNCTION", "FLUSH")
    yield c
    c.close()


def listing(raw, *args):
    """FUNCTION LIST as {library: (functions sorted by name, code or None)}."""
    out = {}
    for entry in raw.cmd("FUNCTION", "LIST", *args):
        fields = dict(zip(entry[::2], entry[1::2]))
        fns = sorted((dict(zip(f[::2], f[1::2])) for f in fields[b"functions"]),
                     key=lambda f: f[b"name"])
        fns = [(f[b"name"], f[b"description"], list(f[b"flags"])) for f in fns]
        assert fields[b"engine"] == b"LUA"
        out[fields[b"library_name"]] = (fns, fields.get(b"library_code"))
    return out


# ---------------------------------------------------------------- LOAD and FCALL

def test_load_and_call(raw):
    code = lib("mylib",
               reg("echo", "return {keys, args}"),
               "redis.register_function{function_name='ro', callback=function(keys, args) "
               "return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}",
               reg("put", "return redis.call('set', keys[1], args[1])"))
    assert raw.cmd("FUNCTION", "LOAD", code) == b"mylib"
    assert raw.cmd("FCALL", "echo", 2, "{k}1", "{k}2", "a", "b") == [[b"{k}1", b"{k}2"], [b"a", b"b"]]
    assert raw.cmd("FCALL", "ECHO", 0) == [[], []]
    assert raw.cmd("FCALL", "put", 1, "k", "v") == Simple("OK")
    assert raw.cmd("FCALL_RO", "ro", 1, "k") == b"v"
    assert raw.cmd("FCALL", "ro", 1, "k") == b"v"
    assert raw.cmd("FCALL_RO", "put", 1, "k", "v") == Error(
        "ERR Can not execute a script with write flag using *_ro command.")


@pytest.mark.parametrize("code, err", [
    ("redis.register_function('f', function() return 1 end)", "ERR Missing library metadata"),
    ("#!lua name=a", "ERR Invalid library metadata"),
    ("#!lua\n" + reg("f"), "ERR Library name was not given"),
    ("#!lua name=a name=b\n" + reg("f"),
     "ERR Invalid metadata value, name argument was given multiple times"),
    ("#!lua name=a foo=bar\n" + reg("f"), "ERR Invalid metadata value given: foo=bar"),
    ("#!lua name=a-b\n" + reg("f"), "ERR " + BAD_NAME),
    ("#!luax name=a\n" + reg("f"), "ERR Engine 'luax' not found"),
    ("#! name=a\n" + reg("f"), "ERR Engine '' not found"),
    ("#!lua name=a\n", "ERR No functions registered"),
    ("#!lua name=a\nlocal x = ", "ERR Error compiling function: user_function:2: unexpected symbol near '<eof>'"),
])
def test_load_metadata_and_compile_errors(raw, code, err):
    assert raw.cmd("FUNCTION", "LOAD", code) == Error(err)
    assert raw.cmd("FUNCTION", "LIST") == []


@pytest.mark.parametrize("body, err", [
    ("error('boom')", "ERR user_function:2: Script attempted to access nonexistent global variable 'error'"),
    ("local s = string", "ERR user_function:2: Script attempted to access nonexistent global variable 'string'"),
    ("redis.call('ping')", "ERR user_function:2: Script attempted to access nonexistent global variable 'call'"),
    ("x = 1", "ERR user_function:2: Attempt to modify a readonly table"),
    ("redis.log = 1", "ERR user_function:2: Attempt to modify a readonly table"),
    ("rawset(redis, 'log', 1)", "ERR user_function:2: Script attempted to access nonexistent global variable 'rawset'"),
    ("redis.register_function()", "ERR wrong number of arguments to redis.register_function"),
    ("redis.register_function('f', function() end, 3)",
     "ERR wrong number of arguments to redis.register_function"),
    ("redis.register_function('f')", "ERR calling redis.register_function with a single argument "
     "is only applicable to Lua table (representing named arguments)."),
    ("redis.register_function('f', 1)", "ERR second argument to redis.register_function must be a function"),
    ("redis.register_function('f-g', function() end)", "ERR " + BAD_NAME),
    ("redis.register_function('f', function() end) redis.register_function('f', function() end)",
     "ERR Function already exists in the library"),
    ("redis.register_function({function_name='f'})", "ERR redis.register_function must get a callback argument"),
    ("redis.register_function({callback=function() end})",
     "ERR redis.register_function must get a function name argument"),
    ("redis.register_function({function_name='f', callback=1})",
     "ERR callback argument given to redis.register_function must be a function"),
    ("redis.register_function({function_name='f', callback=function() end, flags={'bad'}})",
     "ERR unknown flag given"),
    ("redis.register_function({function_name='f', callback=function() end, flags='no-writes'})",
     "ERR flags argument to redis.register_function must be a table representing function flags"),
    ("redis.register_function({function_name='f', callback=function() end, foo=1})",
     "ERR unknown argument given to redis.register_function"),
    ("local t = {} for i = 1, 1e9 do t[1] = i end", "ERR FUNCTION LOAD timeout"),
])
def test_load_run_errors(raw, body, err):
    assert raw.cmd("FUNCTION", "LOAD", lib("a", body)) == Error("ERR Error registering functions: " + err)
    assert raw.cmd("FUNCTION", "LIST") == []


def test_load_time_api(raw):
    code = lib("a", "redis.log(redis.LOG_NOTICE, 'loading') local v = redis.REDIS_VERSION",
               reg("f", "return type(redis.register_function)"),
               reg("g", "return redis.register_function('x', function() end)"))
    assert raw.cmd("FUNCTION", "LOAD", code) == b"a"
    assert raw.cmd("FCALL", "f", 0) == b"nil"  # not there at run time
    assert raw.cmd("FCALL", "g", 0) == Error(
        "ERR user_function:4: attempt to call field 'register_function' (a nil value) "
        "script: g, on @user_function:4.")
    assert raw.cmd("EVAL", "return type(redis.register_function)", 0) == b"nil"


def test_load_replace_and_conflicts(raw):
    assert raw.cmd("FUNCTION", "LOAD", lib("lib1", reg("f1"), reg("f2"))) == b"lib1"
    assert raw.cmd("FUNCTION", "LOAD", lib("lib1", "syntax error here")) == Error(
        "ERR Library 'lib1' already exists")
    assert raw.cmd("FUNCTION", "LOAD", lib("lib2", reg("F1"))) == Error("ERR Function F1 already exists")
    assert raw.cmd("FUNCTION", "LOAD", "REPLACE", lib("lib2", reg("f1"))) == Error(
        "ERR Function f1 already exists")
    assert raw.cmd("FUNCTION", "LOAD", "foo", lib("lib2", reg("g"))) == Error("ERR Unknown option given: foo")
    assert raw.cmd("FUNCTION", "LOAD", "REPLACE", lib("lib1", reg("f1", "return 2"))) == b"lib1"
    assert raw.cmd("FCALL", "f1", 0) == 2
    assert raw.cmd("FCALL", "f2", 0) == Error("ERR Function not found")
    assert raw.cmd("FUNCTION", "LOAD", lib("lib2", reg("f2"))) == b"lib2"
    assert sorted(listing(raw)) == [b"lib1", b"lib2"]


# ---------------------------------------------------------------- FCALL errors

def test_fcall_errors(raw):
    code = lib("lib",
               reg("err1", "error('boom')"),
               reg("err2", "return redis.call('nocmd')"),
               reg("err3", "return redis.call('incr', keys[1])"),
               reg("err4", "return redis.error_reply('MY err')"),
               reg("err5", "KEYS = 1"),
               reg("pc", "return redis.pcall('nocmd')"),
               reg("nested", "return redis.call('fcall', 'pc', 0)"),
               "redis.register_function{function_name='ro', callback=function(keys) "
               "return redis.call('set', keys[1], 'v') end, flags={'no-writes'}}")
    assert raw.cmd("FUNCTION", "LOAD", code) == b"lib"
    assert raw.cmd("FCALL", "nope", 0) == Error("ERR Function not found")
    assert raw.cmd("FCALL", "err1", 5) == Error("ERR Number of keys can't be greater than number of args")
    assert raw.cmd("FCALL", "err1", -1) == Error("ERR Number of keys can't be negative")
    assert raw.cmd("FCALL", "err1", "x") == Error("ERR Bad number of keys provided")
    assert raw.cmd("FCALL", "err1") == Error("ERR wrong number of arguments for 'fcall' command")
    assert raw.cmd("FCALL", "err1", 0) == Error("ERR user_function:2: boom script: err1, on @user_function:2.")
    assert raw.cmd("FCALL", "err2", 0) == Error(
        "ERR Unknown Redis command called from script script: err2, on @user_function:3.")
    raw.cmd("SET", "s", "x")
    assert raw.cmd("FCALL", "err3", 1, "s") == Error(
        "ERR value is not an integer or out of range script: err3, on @user_function:4.")
    assert raw.cmd("FCALL", "err4", 0) == Error("MY err")
    assert raw.cmd("FCALL", "err5", 0) == Error(
        "ERR user_function:6: Attempt to modify a readonly table script: err5, on @user_function:6.")
    assert raw.cmd("FCALL", "pc", 0) == Error("ERR Unknown Redis command called from script")
    assert raw.cmd("FCALL", "nested", 0) == Error(
        "ERR This Redis command is not allowed from script script: nested, on @user_function:8.")
    assert raw.cmd("FCALL", "ro", 1, "s") == Error(
        "ERR Write commands are not allowed from read-only scripts. script: ro, on @user_function:9.")
    assert raw.cmd("EVAL", "return redis.call('fcall', 'pc', 0)", 0).startswith(
        "ERR This Redis command is not allowed from script script: ")


def test_library_locals_persist_between_calls(raw):
    code = lib("c", "local n = 0", reg("cnt", "n = n + 1 return n"))
    assert raw.cmd("FUNCTION", "LOAD", code) == b"c"
    assert [raw.cmd("FCALL", "cnt", 0) for _ in range(3)] == [1, 2, 3]


def test_fcall_and_function_load_in_multi(raw):
    assert raw.cmd("FUNCTION", "LOAD", lib("a", reg("f", "return 'a'"))) == b"a"
    assert raw.cmd("MULTI") == Simple("OK")
    assert raw.cmd("FCALL", "f", 0) == Simple("QUEUED")
    assert raw.cmd("FUNCTION", "LOAD", lib("b", reg("g", "return 'b'"))) == Simple("QUEUED")
    assert raw.cmd("EXEC") == [b"a", b"b"]
    assert raw.cmd("FCALL", "g", 0) == b"b"


def test_functions_are_global(server):
    """A library loaded on one connection serves every connection and every key's shard (at
    several threads: loaded on one thread, run on the others)."""
    clients = [server.raw() for _ in range(8)]
    try:
        clients[0].cmd("FUNCTION", "FLUSH")
        assert clients[0].cmd("FUNCTION", "LOAD", lib("g", reg("who", "return keys[1]"))) == b"g"
        for i, c in enumerate(clients):
            assert c.cmd("FCALL", "who", 1, f"key{i}") == f"key{i}".encode()
        assert clients[3].cmd("FUNCTION", "LOAD", "REPLACE", lib("g", reg("who", "return 'new'"))) == b"g"
        for i, c in enumerate(clients):
            assert c.cmd("FCALL", "who", 1, f"key{i}") == b"new"
        assert clients[5].cmd("FUNCTION", "DELETE", "g") == Simple("OK")
        for i, c in enumerate(clients):
            assert c.cmd("FCALL", "who", 1, f"key{i}") == Error("ERR Function not found")
    finally:
        for c in clients:
            c.close()


def test_fcall_applies_the_callers_acl(server, raw):
    assert raw.cmd("FUNCTION", "LOAD", lib("acl", reg("del", "return redis.call('del', keys[1])"))) == b"acl"
    assert raw.cmd("ACL", "SETUSER", "fcaller", "on", "nopass", "+fcall", "~*") == Simple("OK")
    c = server.raw()
    try:
        assert c.cmd("AUTH", "fcaller", "x") == Simple("OK")
        assert c.cmd("FCALL", "del", 1, "k") == Error(
            "ERR The user executing the script can't run this command or subcommand "
            "script: del, on @user_function:2.")
    finally:
        c.close()
        raw.cmd("ACL", "DELUSER", "fcaller")


# ---------------------------------------------------------------- LIST, STATS, DELETE, FLUSH

def test_function_list(raw):
    code1 = lib("lib1",
                "redis.register_function{function_name='f1', callback=function() return 1 end, "
                "flags={'NO-WRITES', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}, "
                "description='desc1'}",
                reg("f2"))
    code2 = lib("other", reg("g"))
    assert raw.cmd("FUNCTION", "LOAD", code1) == b"lib1"
    assert raw.cmd("FUNCTION", "LOAD", code2) == b"other"
    flags = [Simple(f) for f in ("no-writes", "allow-oom", "allow-stale", "no-cluster",
                                 "allow-cross-slot-keys")]
    assert listing(raw) == {
        b"lib1": ([(b"f1", b"desc1", flags), (b"f2", None, [])], None),
        b"other": ([(b"g", None, [])], None)}
    assert listing(raw, "WITHCODE")[b"lib1"][1] == code1.encode()
    assert list(listing(raw, "LIBRARYNAME", "LIB*")) == [b"lib1"]
    assert list(listing(raw, "WITHCODE", "LIBRARYNAME", "oth?r")) == [b"other"]
    assert raw.cmd("FUNCTION", "LIST", "LIBRARYNAME") == Error("ERR library name argument was not given")
    assert raw.cmd("FUNCTION", "LIST", "LIBRARYNAME", "x", "LIBRARYNAME", "y") == Error(
        "ERR Unknown argument LIBRARYNAME")
    assert raw.cmd("FUNCTION", "LIST", "WITHCODE", "WITHCODE") == Error("ERR Unknown argument WITHCODE")
    assert raw.cmd("FUNCTION", "LIST", "foo") == Error("ERR Unknown argument foo")


def test_function_stats_delete_flush(raw):
    assert raw.cmd("FUNCTION", "STATS") == [
        b"running_script", None, b"engines", [b"LUA", [b"libraries_count", 0, b"functions_count", 0]]]
    raw.cmd("FUNCTION", "LOAD", lib("a", reg("f1"), reg("f2")))
    raw.cmd("FUNCTION", "LOAD", lib("b", reg("g")))
    assert raw.cmd("FUNCTION", "STATS")[3] == [b"LUA", [b"libraries_count", 2, b"functions_count", 3]]
    assert raw.cmd("FUNCTION", "DELETE", "nope") == Error("ERR Library not found")
    assert raw.cmd("FUNCTION", "DELETE", "A") == Error("ERR Library not found")
    assert raw.cmd("FUNCTION", "DELETE", "a") == Simple("OK")
    assert raw.cmd("FUNCTION", "DELETE") == Error("ERR wrong number of arguments for 'function|delete' command")
    assert list(listing(raw)) == [b"b"]
    assert raw.cmd("FUNCTION", "FLUSH", "foo") == Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
    assert raw.cmd("FUNCTION", "FLUSH", "sync", "x") == Error(
        "ERR unknown subcommand or wrong number of arguments for 'FLUSH'. Try FUNCTION HELP.")
    assert raw.cmd("FUNCTION", "FLUSH", "ASYNC") == Simple("OK")
    assert raw.cmd("FUNCTION", "LIST") == []
    assert raw.cmd("FCALL", "g", 0) == Error("ERR Function not found")


def test_function_help_and_kill_without_script(raw):
    help_ = raw.cmd("FUNCTION", "HELP")
    assert help_[0] == "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]" in help_
    assert raw.cmd("FUNCTION", "KILL") == Error("NOTBUSY No scripts in execution right now.")


# ---------------------------------------------------------------- DUMP and RESTORE

def test_dump_and_restore(raw):
    raw.cmd("FUNCTION", "LOAD", lib("lib1", reg("f1", "return 'one'")))
    raw.cmd("FUNCTION", "LOAD", lib("lib2", reg("f2", "return 'two'"), "-- " + "padding " * 20))
    payload = raw.cmd("FUNCTION", "DUMP")
    before = listing(raw, "WITHCODE")
    assert raw.cmd("FUNCTION", "RESTORE", payload) in (Error("ERR Library lib1 already exists"),
                                                       Error("ERR Library lib2 already exists"))
    assert raw.cmd("FUNCTION", "RESTORE", payload, "REPLACE") == Simple("OK")
    assert raw.cmd("FUNCTION", "FLUSH") == Simple("OK")
    assert raw.cmd("FUNCTION", "RESTORE", payload) == Simple("OK")
    assert listing(raw, "WITHCODE") == before
    assert raw.cmd("FCALL", "f2", 0) == b"two"
    raw.cmd("FUNCTION", "DELETE", "lib1")
    raw.cmd("FUNCTION", "LOAD", lib("other", reg("f1", "return 'other'")))
    assert raw.cmd("FUNCTION", "RESTORE", payload, "REPLACE") == Error("ERR Function f1 already exists")
    assert raw.cmd("FUNCTION", "RESTORE", payload, "FLUSH") == Simple("OK")
    assert listing(raw, "WITHCODE") == before
    assert raw.cmd("FCALL", "f1", 0) == b"one"


def test_restore_errors(raw):
    raw.cmd("FUNCTION", "LOAD", lib("a", reg("f")))
    payload = raw.cmd("FUNCTION", "DUMP")
    assert raw.cmd("FUNCTION", "RESTORE", payload, "foo") == Error(
        "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
    assert raw.cmd("FUNCTION", "RESTORE", payload, "replace", "x") == Error(
        "ERR unknown subcommand or wrong number of arguments for 'RESTORE'. Try FUNCTION HELP.")
    assert raw.cmd("FUNCTION", "RESTORE", b"garbage") == Error("ERR DUMP payload version or checksum are wrong")
    bad = payload[:-1] + bytes([payload[-1] ^ 1])
    assert raw.cmd("FUNCTION", "RESTORE", bad) == Error("ERR DUMP payload version or checksum are wrong")
    assert raw.cmd("FUNCTION", "FLUSH") == Simple("OK")
    empty = raw.cmd("FUNCTION", "DUMP")
    raw.cmd("FUNCTION", "LOAD", lib("a", reg("f")))
    assert raw.cmd("FUNCTION", "RESTORE", empty) == Simple("OK")
    assert list(listing(raw)) == [b"a"]
    assert raw.cmd("FUNCTION", "RESTORE", empty, "FLUSH") == Simple("OK")
    assert raw.cmd("FUNCTION", "LIST") == []


# ---------------------------------------------------------------- interop and persistence

interop = pytest.mark.skipif(SERVER_KIND == "redis", reason="needs our server and redis-server")


@pytest.fixture(scope="module")
def redis_server():
    s = Server(kind="redis")
    yield s
    s.stop()


@interop
def test_dump_payloads_move_between_redis_and_us(raw, redis_server):
    theirs = redis_server.raw()
    try:
        theirs.cmd("FUNCTION", "FLUSH")
        code = lib("x", reg("fx", "return 'made by us'"), "-- " + "compressible " * 10)
        raw.cmd("FUNCTION", "LOAD", code)
        assert theirs.cmd("FUNCTION", "RESTORE", raw.cmd("FUNCTION", "DUMP")) == Simple("OK")
        assert theirs.cmd("FCALL", "fx", 0) == b"made by us"
        theirs.cmd("FUNCTION", "LOAD", lib("y", reg("fy", "return 'made by redis'"), "-- " + "x" * 100))
        assert raw.cmd("FUNCTION", "RESTORE", theirs.cmd("FUNCTION", "DUMP"), "FLUSH") == Simple("OK")
        assert raw.cmd("FCALL", "fy", 0) == b"made by redis"
        assert listing(raw, "WITHCODE") == listing(theirs, "WITHCODE")
    finally:
        theirs.cmd("FUNCTION", "FLUSH")
        theirs.close()


@contextlib.contextmanager
def client_of(d, kind=SERVER_KIND):
    """A raw client of a server (ours, or redis-server) on snapshot dir d, stopped after."""
    s = Server(kind=kind, dir=d, args=["--save", ""] if kind != "redis" else [])
    try:
        yield s.raw()
    finally:
        s.stop()


def test_functions_survive_a_restart(tmp_path):
    with client_of(str(tmp_path)) as c:
        assert c.cmd("FUNCTION", "LOAD", lib("kept", reg("fk", "return 'kept'"))) == b"kept"
        c.cmd("SET", "k", "v")
        assert c.cmd("SAVE") == Simple("OK")
    with client_of(str(tmp_path)) as c:
        assert c.cmd("FCALL", "fk", 0) == b"kept"
        assert c.cmd("GET", "k") == b"v"


@interop
def test_rdb_files_carry_functions_both_ways(tmp_path):
    with client_of(str(tmp_path)) as c:
        c.cmd("FUNCTION", "LOAD", lib("ourlib", reg("of", "return 'ours'")))
        assert c.cmd("SAVE") == Simple("OK")
    with client_of(str(tmp_path), "redis") as c:
        assert c.cmd("FCALL", "of", 0) == b"ours"
        c.cmd("FUNCTION", "LOAD", lib("redislib", reg("rf", "return 'redis'")))
        assert c.cmd("SAVE") == Simple("OK")
    with client_of(str(tmp_path)) as c:
        assert c.cmd("FCALL", "rf", 0) == b"redis"
        assert c.cmd("FCALL", "of", 0) == b"ours"
        assert sorted(listing(c)) == [b"ourlib", b"redislib"]


def test_replica_gets_the_masters_functions():
    """A redis-server master's libraries reach the replica (ours; redis-server with
    DF_TEST_SERVER=redis) by the full sync's RDB, and later changes by the stream."""
    from helpers import wait_for
    from test_replica import caught_up, master, replica_of

    def ro(name, value):
        return (f"redis.register_function{{function_name='{name}', flags={{'no-writes'}}, "
                f"callback=function() return '{value}' end}}")

    m = master()
    rep = None
    try:
        mc = m.raw()
        assert mc.cmd("FUNCTION", "LOAD", lib("before", ro("fb", "b"))) == b"before"
        rep = replica_of(m)
        wait_for(lambda: caught_up(m, rep), "the full sync")
        rc = rep.raw()
        assert rc.cmd("FCALL_RO", "fb", 0) == b"b"
        assert mc.cmd("FUNCTION", "LOAD", lib("after", ro("fa", "a"))) == b"after"
        assert mc.cmd("FUNCTION", "DELETE", "before") == Simple("OK")
        wait_for(lambda: caught_up(m, rep), "the stream")
        assert rc.cmd("FCALL_RO", "fa", 0) == b"a"
        assert rc.cmd("FCALL_RO", "fb", 0) == Error("ERR Function not found")
    finally:
        if rep:
            rep.stop()
        m.stop()


def test_function_state_tables_are_readonly(raw):
    code = lib("ro",
               reg("p1", "redis.call = function() end"),
               reg("p2", "string.len = nil"),
               reg("p3", "rawset(redis, 'call', 1)"),
               reg("p4", "getmetatable('').__index.rep = 1"),
               reg("ok", "return string.rep(redis.call('ping')['ok'], 2)"))
    assert raw.cmd("FUNCTION", "LOAD", "REPLACE", code) == b"ro"
    try:
        assert raw.cmd("FCALL", "p1", 0) == Error(
            "ERR user_function:2: Attempt to modify a readonly table script: p1, on @user_function:2.")
        assert raw.cmd("FCALL", "p2", 0) == Error(
            "ERR user_function:3: Attempt to modify a readonly table script: p2, on @user_function:3.")
        assert raw.cmd("FCALL", "p3", 0) == Error(
            "ERR Attempt to modify a readonly table script: p3, on @user_function:4.")
        assert raw.cmd("FCALL", "p4", 0) == Error(
            "ERR user_function:5: Attempt to modify a readonly table script: p4, on @user_function:5.")
        assert raw.cmd("FCALL", "ok", 0) == b"PONGPONG"
    finally:
        raw.cmd("FUNCTION", "DELETE", "ro")
