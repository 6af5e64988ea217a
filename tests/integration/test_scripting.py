"""Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT LOAD|EXISTS|FLUSH|KILL|HELP.

Differential: every expectation also holds against redis-server 7.0 (DF_TEST_SERVER=redis),
error texts included ("... script: <sha>, on @user_script:<line>."). The cross-shard tests are
dragonfly's own (a script runs on the shard of its declared keys) and need several threads.
"""
import hashlib
import threading

import pytest
import redis

from conftest import THREADS, is_redis
from resp import Error, Simple, encode


def sha1(body):
    return hashlib.sha1(body.encode()).hexdigest()


def where(body, line=1):
    """The suffix Redis 7.0 adds to an error raised inside a script."""
    return f" script: {sha1(body)}, on @user_script:{line}."


def ev(raw, body, *keys_and_args, numkeys=None):
    keys = keys_and_args if numkeys is None else keys_and_args[:numkeys]
    n = len(keys) if numkeys is None else numkeys
    return raw.cmd("EVAL", body, n, *keys_and_args)


# ---------------------------------------------------------------- Lua -> reply

def test_lua_to_reply_conversions(raw):
    assert raw.cmd("EVAL", "return 'x'", 0) == b"x"
    assert raw.cmd("EVAL", "return 3.99", 0) == 3
    assert raw.cmd("EVAL", "return -3.99", 0) == -3
    assert raw.cmd("EVAL", "return true", 0) == 1
    assert raw.cmd("EVAL", "return false", 0) is None
    assert raw.cmd("EVAL", "return nil", 0) is None
    assert raw.cmd("EVAL", "return {1, 2, 3, nil, 4}", 0) == [1, 2, 3]
    assert raw.cmd("EVAL", "return {false, true}", 0) == [None, 1]
    assert raw.cmd("EVAL", "return {1, 'a', {2, {err='E x'}}}", 0) == [1, b"a", [2, Error("E x")]]
    assert raw.cmd("EVAL", "return {ok='FINE'}", 0) == Simple("FINE")
    assert raw.cmd("EVAL", "return {err='MY problem'}", 0) == Error("MY problem")
    assert raw.cmd("EVAL", "return {err='a\\nb'}", 0) == Error("a b")
    assert raw.cmd("EVAL", "return {ok='a\\nb'}", 0) == Simple("a b")
    assert raw.cmd("EVAL", "return {}", 0) == []
    assert raw.cmd("EVAL", "return function() end", 0) is None


def test_status_and_error_reply_helpers(raw):
    assert raw.cmd("EVAL", "return redis.status_reply('FINE')", 0) == Simple("FINE")
    assert raw.cmd("EVAL", "return redis.error_reply('FOO bar')", 0) == Error("FOO bar")
    assert raw.cmd("EVAL", "return redis.error_reply('foo bar')", 0) == Error("foo bar")
    assert raw.cmd("EVAL", "return redis.error_reply('-X y')", 0) == Error("X y")
    assert raw.cmd("EVAL", "return redis.error_reply('E1')", 0) == Error("ERR E1")
    assert raw.cmd("EVAL", "return redis.error_reply('-E1')", 0) == Error("ERR E1")
    assert raw.cmd("EVAL", "return redis.error_reply()", 0) == Error(
        "ERR wrong number or type of arguments")
    assert raw.cmd("EVAL", "return redis.status_reply(1)", 0) == Error(
        "ERR wrong number or type of arguments")


# ---------------------------------------------------------------- reply -> Lua

def test_reply_to_lua_conversions(raw):
    raw.cmd("SET", "s", "abc")
    raw.cmd("RPUSH", "l", "a", "b")
    assert raw.cmd("EVAL", "return type(redis.call('incr', KEYS[1]))", 1, "n") == b"number"
    assert raw.cmd("EVAL", "return redis.call('get', KEYS[1])", 1, "s") == b"abc"
    assert raw.cmd("EVAL", "return redis.call('get', KEYS[1]) == false", 1, "nokey") == 1
    assert raw.cmd("EVAL", "return redis.call('lrange', KEYS[1], 0, -1)", 1, "l") == [b"a", b"b"]
    assert raw.cmd("EVAL", "local r = redis.call('set', KEYS[1], 'v'); return r.ok", 1, "s") == b"OK"
    assert raw.cmd("EVAL", "local r = redis.pcall('incr', KEYS[1]); return r.err", 1, "s") == \
        b"ERR value is not an integer or out of range"
    assert raw.cmd("EVAL", "local r = redis.pcall('lpush', KEYS[1], 'x'); return r.err", 1, "s") \
        == b"WRONGTYPE Operation against a key holding the wrong kind of value"
    assert raw.cmd("EVAL", "return redis.call('hgetall', KEYS[1])", 1, "nohash") == []
    assert raw.cmd("EVAL", "return redis.call('ping')", 0) == Simple("PONG")


def test_number_arguments_are_formatted_like_redis(raw):
    raw.cmd("EVAL", "redis.call('set', KEYS[1], 0.1 + 0.2)", 1, "f")
    assert raw.cmd("GET", "f") == b"0.30000000000000004"
    raw.cmd("EVAL", "redis.call('set', KEYS[1], 100)", 1, "f")
    assert raw.cmd("GET", "f") == b"100"
    raw.cmd("EVAL", "redis.call('set', KEYS[1], 1e21)", 1, "f")
    assert raw.cmd("GET", "f") == b"1e+21"


def test_resp3_conversions_after_setresp(raw):
    raw.cmd("HSET", "h", "f", "v")
    body = "redis.setresp(3); local m = redis.call('hgetall', KEYS[1]); return m.map.f"
    assert raw.cmd("EVAL", body, 1, "h") == b"v"
    body = "redis.setresp(3); return redis.call('get', KEYS[1]) == nil"
    assert raw.cmd("EVAL", body, 1, "nokey") == 1
    assert raw.cmd("EVAL", "redis.setresp(4)", 0) == Error(
        "ERR RESP version must be 2 or 3." + where("redis.setresp(4)"))


# ---------------------------------------------------------------- errors

def test_call_error_aborts_with_redis7_text(raw):
    raw.cmd("SET", "s", "abc")
    body = "return redis.call('incr', KEYS[1])"
    assert raw.cmd("EVAL", body, 1, "s") == Error(
        "ERR value is not an integer or out of range" + where(body))
    body = "local a = 1\nreturn redis.call('lpush', KEYS[1], 'x')"
    assert raw.cmd("EVAL", body, 1, "s") == Error(
        "WRONGTYPE Operation against a key holding the wrong kind of value" + where(body, 2))


def test_pcall_returns_the_error(raw):
    raw.cmd("SET", "s", "abc")
    assert raw.cmd("EVAL", "return redis.pcall('incr', KEYS[1])", 1, "s") == Error(
        "ERR value is not an integer or out of range")
    assert raw.cmd("EVAL", "return redis.pcall('nosuch')", 0) == Error(
        "ERR Unknown Redis command called from script")


@pytest.mark.parametrize("body,msg", [
    ("return redis.call('nosuch')", "ERR Unknown Redis command called from script"),
    ("return redis.call('get')", "ERR Wrong number of args calling Redis command from script"),
    ("return redis.call('config')",
     "ERR Wrong number of args calling Redis command from script"),
    ("return redis.call('config', 'nosuch')", "ERR Unknown Redis command called from script"),
    ("return redis.call('subscribe', 'x')", "ERR This Redis command is not allowed from script"),
    ("return redis.call('multi')", "ERR This Redis command is not allowed from script"),
    ("return redis.call('eval', 'return 1', 0)",
     "ERR This Redis command is not allowed from script"),
    ("return redis.call()", "ERR Please specify at least one argument for this redis lib call"),
    ("return redis.call('get', {})",
     "ERR Lua redis lib command arguments must be strings or integers"),
    ("return redis.call('select', 99)", "ERR DB index is out of range"),
    ("return redis.sha1hex()", "ERR wrong number of arguments"),
    ("return redis.log(redis.LOG_WARNING)", "ERR redis.log() requires two arguments or more."),
    ("return redis.log(99, 'x')", "ERR Invalid debug level."),
    ("return redis.set_repl(99)",
     "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."),
])
def test_call_refusals(raw, body, msg):
    assert raw.cmd("EVAL", body, 0) == Error(msg + where(body))


def test_runtime_and_compile_errors(raw):
    assert raw.cmd("EVAL", "error('boom')", 0) == Error(
        "ERR user_script:1: boom" + where("error('boom')"))
    assert raw.cmd("EVAL", "error({err='MY err'})", 0) == Error(
        "MY err" + where("error({err='MY err'})"))
    body = "local x = nil\nreturn x + 1"
    assert raw.cmd("EVAL", body, 0) == Error(
        "ERR user_script:2: attempt to perform arithmetic on local 'x' (a nil value)"
        + where(body, 2))
    assert raw.cmd("EVAL", "syntax error here", 0) == Error(
        "ERR Error compiling script (new function): user_script:1: '=' expected near 'error'")
    # a script that does not compile is not cached
    assert raw.cmd("SCRIPT", "EXISTS", sha1("syntax error here")) == [0]


def test_numkeys_errors(raw):
    assert raw.cmd("EVAL", "return 1", -1) == Error("ERR Number of keys can't be negative")
    assert raw.cmd("EVAL", "return 1", 5, "a") == Error(
        "ERR Number of keys can't be greater than number of args")
    assert raw.cmd("EVAL", "return 1", "abc") == Error(
        "ERR value is not an integer or out of range")
    assert raw.cmd("EVALSHA", sha1("return 1"), 2, "a") == Error(
        "ERR Number of keys can't be greater than number of args")
    assert raw.cmd("EVAL", "return 1") == Error("ERR wrong number of arguments for 'eval' command")


# ---------------------------------------------------------------- sandbox

def test_sandbox(raw):
    for body in ("x = 1", "redis = 1", "string.x = 1" if is_redis() else "_G.y = 2"):
        assert raw.cmd("EVAL", body, 0) == Error(
            "ERR user_script:1: Attempt to modify a readonly table" + where(body))
    for name in ("os", "io", "loadfile", "dofile", "a"):
        body = f"return {name}"
        assert raw.cmd("EVAL", body, 0) == Error(
            f"ERR user_script:1: Script attempted to access nonexistent global variable "
            f"'{name}'" + where(body))
    assert raw.cmd("EVAL", "local t = {}; t.x = 1; return t.x", 0) == 1
    assert raw.cmd("EVAL", "return rawget(_G, 'nothing')", 0) is None
    assert raw.cmd("EVAL", "return {type(string), type(table), type(math)}", 0) == \
        [b"table", b"table", b"table"]


@pytest.mark.parametrize("body, positioned", [
    ("redis.call = function() end", True),
    ("string.len = nil", True),
    ("local t = string t.x = 1", True),
    ("math.pi = 1", True),
    ("table.x = 1", True),
    ("coroutine.x = 1", True),
    ("getmetatable('').__index = 1", True),
    ("getmetatable('').__index.len = 1", True),
    ("getmetatable('').x = 1", True),
    ("rawset(redis, 'call', 1)", False),
    ("rawset(_G, 'x', 1)", False),
    ("rawset(string, 'x', 1)", False),
    ("table.insert(string, 1)", False),
    ("setmetatable(_G, nil)", False),
    ("setmetatable(redis, nil)", False),
])
def test_every_reachable_table_is_readonly(raw, body, positioned):
    prefix = "ERR user_script:1: " if positioned else "ERR "
    assert raw.cmd("EVAL", body, 0) == Error(
        prefix + "Attempt to modify a readonly table" + where(body))


def test_readonly_libraries_still_work(raw):
    assert raw.cmd("EVAL", "return ('abc'):upper() .. string.format('%d', 5)", 0) == b"ABC5"
    assert raw.cmd("EVAL", "local n = 0 for k in pairs(string) do n = n + 1 end return n", 0) == 15
    assert raw.cmd("EVAL", "local n = 0 for k, v in next, math do n = n + 1 end return n", 0) > 20
    assert raw.cmd("EVAL", "return type(getmetatable(''))", 0) == b"table"
    body = "local t = setmetatable({}, {}) table.insert(t, 1) rawset(t, 'a', 2) return {t.a, t[1]}"
    assert raw.cmd("EVAL", body, 0) == [2, 1]
    for name in ("debug", "getfenv", "setfenv", "newproxy"):
        body = f"return {name}"
        assert raw.cmd("EVAL", body, 0) == Error(
            f"ERR user_script:1: Script attempted to access nonexistent global variable "
            f"'{name}'" + where(body))


def test_low_privilege_script_cannot_plant_code(server):
    admin = server.raw()
    low = server.raw()
    try:
        assert admin.cmd("ACL", "SETUSER", "low", "on", ">pw", "~*", "+eval", "+get") == Simple("OK")
        assert low.cmd("AUTH", "low", "pw") == Simple("OK")
        plant = ("local o = redis.call; redis.call = function(...) pcall(o, 'set', 'planted', "
                 "'by-low') return o(...) end")
        assert low.cmd("EVAL", plant, 0) == Error(
            "ERR user_script:1: Attempt to modify a readonly table" + where(plant))
        plant2 = "string.rep = function() redis.pcall('set', 'planted', 'by-low') return '' end"
        assert low.cmd("EVAL", plant2, 0) == Error(
            "ERR user_script:1: Attempt to modify a readonly table" + where(plant2))
        # the reproducer's victim (at --threads 1 the plant and it share one Lua state)
        assert admin.cmd("EVAL", "return redis.call('get', KEYS[1])", 1, "x") is None
        assert admin.cmd("EVAL", "return string.rep('a', 2)", 0) == b"aa"
        assert admin.cmd("EXISTS", "planted") == 0
    finally:
        admin.cmd("ACL", "DELUSER", "low")
        admin.close()
        low.close()


def test_math_random_is_rand48(raw):
    assert raw.cmd("EVAL", "math.randomseed(1); return math.random(1000000)", 0) == 41631
    r = raw.cmd("EVAL", "math.randomseed(7); return {math.random(10), math.random(5, 6)}", 0)
    assert raw.cmd("EVAL", "math.randomseed(7); return {math.random(10), math.random(5, 6)}", 0) == r
    assert 1 <= r[0] <= 10 and 5 <= r[1] <= 6


def test_redis_table_constants_and_helpers(raw):
    body = ("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING,"
            " redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}")
    assert raw.cmd("EVAL", body, 0) == [0, 1, 2, 3, 0, 1, 2, 2, 3]
    assert raw.cmd("EVAL", "return redis.sha1hex('')", 0) == b"da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert raw.cmd("EVAL", "return redis.sha1hex('abc')", 0) == sha1("abc").encode()
    assert raw.cmd("EVAL", "return redis.replicate_commands()", 0) == 1
    assert raw.cmd("EVAL", "return redis.set_repl(redis.REPL_ALL)", 0) is None
    assert raw.cmd("EVAL", "redis.log(redis.LOG_DEBUG, 'from', 'a script'); return 1", 0) == 1


# ---------------------------------------------------------------- cache

def test_evalsha_noscript_and_script_load(raw):
    body = "return ARGV[1] .. KEYS[1]"
    assert raw.cmd("EVALSHA", sha1(body), 1, "k", "a") == Error(
        "NOSCRIPT No matching script. Please use EVAL.")
    assert raw.cmd("EVALSHA", "abc", 0) == Error("NOSCRIPT No matching script. Please use EVAL.")
    assert raw.cmd("SCRIPT", "LOAD", body) == sha1(body).encode()
    assert raw.cmd("EVALSHA", sha1(body), 1, "k", "a") == b"ak"
    assert raw.cmd("EVALSHA", sha1(body).upper(), 1, "k", "b") == b"bk"
    assert raw.cmd("SCRIPT", "EXISTS", sha1(body), sha1(body).upper(), "0" * 40, "x") == [1, 1, 0, 0]
    assert raw.cmd("SCRIPT", "LOAD", "syntax error here") == Error(
        "ERR Error compiling script (new function): user_script:1: '=' expected near 'error'")


def test_eval_caches_and_flush(raw):
    body = "return 42"
    assert raw.cmd("EVAL", body, 0) == 42
    assert raw.cmd("SCRIPT", "EXISTS", sha1(body)) == [1]
    assert raw.cmd("EVALSHA", sha1(body), 0) == 42
    assert raw.cmd("SCRIPT", "FLUSH") == Simple("OK")
    assert raw.cmd("SCRIPT", "EXISTS", sha1(body)) == [0]
    assert raw.cmd("EVALSHA", sha1(body), 0) == Error("NOSCRIPT No matching script. Please use EVAL.")
    raw.cmd("SCRIPT", "LOAD", body)
    assert raw.cmd("SCRIPT", "FLUSH", "ASYNC") == Simple("OK")
    assert raw.cmd("SCRIPT", "FLUSH", "sync") == Simple("OK")
    assert raw.cmd("SCRIPT", "FLUSH", "foo") == Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")


def test_script_kill_help_and_arity(raw):
    assert raw.cmd("SCRIPT", "KILL") == Error("NOTBUSY No scripts in execution right now.")
    help_lines = raw.cmd("SCRIPT", "HELP")
    assert help_lines[0] == "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert "LOAD <script>" in help_lines
    assert raw.cmd("SCRIPT", "LOAD") == Error("ERR wrong number of arguments for 'script|load' command")
    assert raw.cmd("SCRIPT", "EXISTS") == Error(
        "ERR wrong number of arguments for 'script|exists' command")


def test_script_loaded_on_one_connection_runs_on_another(server):
    a, b = server.raw(), server.raw()
    try:
        bodies = [f"return {{KEYS[1], {i}}}" for i in range(20)]
        for body in bodies:
            a.cmd("SCRIPT", "LOAD", body)
        for i, body in enumerate(bodies):
            assert b.cmd("EVALSHA", sha1(body), 1, f"key{i}") == [f"key{i}".encode(), i]
    finally:
        a.close()
        b.close()


def test_script_load_then_evalsha_in_one_pipeline(raw):
    cmds = []
    for i in range(10):
        body = f"return {{KEYS[1], 'p{i}'}}"
        cmds += [("SCRIPT", "LOAD", body), ("EVALSHA", sha1(body), 1, f"pk{i}")]
    out = raw.pipeline(cmds)
    for i in range(10):
        assert out[2 * i + 1] == [f"pk{i}".encode(), f"p{i}".encode()]


def test_redis_py_register_script_and_evalsha(r):
    incrby = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert incrby(keys=["c"], args=[5]) == 5
    assert incrby(keys=["c"], args=[2]) == 7
    r.script_flush()
    assert incrby(keys=["c"], args=[1]) == 8  # NOSCRIPT -> redis-py loads it again
    sha = r.script_load("return KEYS[1]")
    assert r.evalsha(sha, 1, "zz") == "zz"
    assert r.script_exists(sha) == [True]


def test_redis_py_lock(r):
    lock = r.lock("resource", timeout=10)
    assert lock.acquire(blocking=False)
    assert not r.lock("resource", timeout=10).acquire(blocking=False)
    assert lock.extend(5)
    lock.release()
    with pytest.raises(redis.exceptions.LockError):
        lock.release()
    with r.lock("resource", timeout=5, blocking_timeout=1):
        assert r.exists("resource") == 1
    assert r.exists("resource") == 0


# ---------------------------------------------------------------- read-only scripts

def test_eval_ro_refuses_writes(raw):
    raw.cmd("SET", "a", "1")
    body = "return redis.call('set', KEYS[1], 'b')"
    assert raw.cmd("EVAL_RO", body, 1, "a") == Error(
        "ERR Write commands are not allowed from read-only scripts." + where(body))
    assert raw.cmd("EVAL_RO", "return redis.call('get', KEYS[1])", 1, "a") == b"1"
    raw.cmd("SCRIPT", "LOAD", body)
    assert raw.cmd("EVALSHA_RO", sha1(body), 1, "a") == Error(
        "ERR Write commands are not allowed from read-only scripts." + where(body))
    assert raw.cmd("GET", "a") == b"1"


def test_shebang_no_writes(raw):
    body = "#!lua flags=no-writes\nreturn redis.call('set', KEYS[1], 'b')"
    assert raw.cmd("EVAL", body, 1, "a") == Error(
        "ERR Write commands are not allowed from read-only scripts." + where(body, 2))
    assert raw.cmd("EVAL", "#!lua\nreturn redis.call('get', KEYS[1])", 1, "a") is None
    assert raw.cmd("EVAL", "#!lua flags=bogus\nreturn 1", 0) == Error(
        "ERR Unexpected flag in script shebang: bogus")
    assert raw.cmd("EVAL", "#!luax\nreturn 1", 0) == Error(
        "ERR Unexpected engine in script shebang: #!luax")
    assert raw.cmd("EVAL", "#!lua name=x\nreturn 1", 0) == Error(
        "ERR Unknown lua shebang option: name=x")


# ---------------------------------------------------------------- semantics

def test_select_inside_script_is_local_to_the_script(raw):
    body = "redis.call('select', 1); redis.call('set', KEYS[1], 'in1'); return redis.call('get', KEYS[1])"
    assert raw.cmd("EVAL", body, 1, "sk") == b"in1"
    assert raw.cmd("GET", "sk") is None  # the client is still on db 0
    raw.cmd("SELECT", 1)
    assert raw.cmd("GET", "sk") == b"in1"
    raw.cmd("SELECT", 0)


def test_keys_and_argv(raw):
    assert raw.cmd("EVAL", "return {#KEYS, #ARGV, KEYS[2], ARGV[1]}", 2, "{k}1", "{k}2", "a1") == \
        [2, 1, b"{k}2", b"a1"]
    assert raw.cmd("EVAL", "return redis.call('mset', KEYS[1], ARGV[1], KEYS[2], ARGV[2])", 2,
                   "{t}1", "{t}2", "x", "y") == Simple("OK")
    assert raw.cmd("MGET", "{t}1", "{t}2") == [b"x", b"y"]


def test_eval_inside_multi(raw):
    assert raw.cmd("MULTI") == Simple("OK")
    assert raw.cmd("EVAL", "return redis.call('incr', KEYS[1])", 1, "m") == Simple("QUEUED")
    assert raw.cmd("INCR", "m") == Simple("QUEUED")
    assert raw.cmd("EXEC") == [1, 2]


def test_script_write_touches_watched_key(server):
    a, b = server.raw(), server.raw()
    try:
        a.cmd("SET", "w", "1")
        assert a.cmd("WATCH", "w") == Simple("OK")
        b.cmd("EVAL", "return redis.call('incr', KEYS[1])", 1, "w")
        a.cmd("MULTI")
        a.cmd("GET", "w")
        assert a.cmd("EXEC") is None
    finally:
        a.close()
        b.close()


def test_pipelined_scripts_keep_order(raw):
    body = "return redis.call('rpush', KEYS[1], ARGV[1])"
    cmds = [("EVAL", body, 1, f"pl{i % 7}", str(i)) for i in range(60)]
    cmds += [("EVAL", "return redis.call('lrange', KEYS[1], 0, -1)", 1, f"pl{k}") for k in range(7)]
    out = raw.pipeline(cmds)
    assert out[:60] == [i // 7 + 1 for i in range(60)]
    for k in range(7):
        assert out[60 + k] == [str(i).encode() for i in range(k, 60, 7)]


def test_atomic_under_concurrent_clients(server):
    body = ("local a = redis.call('incr', KEYS[1]); local b = redis.call('incr', KEYS[1]);"
            " return b - a")
    errors = []

    def worker():
        c = server.raw()
        try:
            for _ in range(200):
                if c.cmd("EVAL", body, 1, "atom") != 1:
                    errors.append("interleaved")
                c.cmd("INCR", "atom")
        finally:
            c.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    c = server.raw()
    assert c.cmd("GET", "atom") == b"2400"
    c.close()
    assert not errors


def test_hash_tagged_keys(raw):
    body = ("redis.call('set', KEYS[1], ARGV[1]); redis.call('rpush', KEYS[2], ARGV[1]);"
            " return {redis.call('get', KEYS[1]), redis.call('lrange', KEYS[2], 0, -1)}")
    for i in range(10):
        tag = f"{{user{i}}}"
        assert raw.cmd("EVAL", body, 2, tag + "name", tag + "list", f"v{i}") == \
            [f"v{i}".encode(), [f"v{i}".encode()]]
    # keys reached through ARGV but sharing the declared key's tag are local too
    assert raw.cmd("EVAL", "return redis.call('get', ARGV[1])", 1, "{user3}x", "{user3}name") \
        == b"v3"


def test_blocking_command_does_not_block(raw):
    # Redis flags most blocking commands noscript; the others answer at once, as in MULTI
    assert raw.cmd("EVAL", "return redis.call('blmpop', 0, 1, KEYS[1], 'left')", 1, "bl") is None
    assert raw.cmd("EVAL", "return redis.call('bzmpop', 0, 1, KEYS[1], 'min')", 1, "bz") is None
    body = "return redis.call('blpop', KEYS[1], 0)"
    assert raw.cmd("EVAL", body, 1, "bl") == Error(
        "ERR This Redis command is not allowed from script" + where(body))


# ---------------------------------------------------------------- cross-shard (dragonfly)

cross_shard = pytest.mark.skipif(is_redis() or THREADS == 1,
                                 reason="shards: dragonfly with several threads only")


def keys_on_two_shards(raw):
    """Two untagged keys that live on different shards, found with a script's refusal."""
    for i in range(1, 200):
        k = f"probe{i}"
        if isinstance(raw.cmd("EVAL", "return redis.call('get', ARGV[1])", 1, "probe0", k), Error):
            return "probe0", k
    pytest.fail("no two keys on different shards")


@cross_shard
def test_declared_keys_across_shards_crossslot(raw):
    a, b = keys_on_two_shards(raw)
    assert raw.cmd("EVAL", "return 1", 2, a, b) == Error(
        "CROSSSLOT Keys in request don't hash to the same slot")


@cross_shard
def test_undeclared_remote_key_refused(raw):
    a, b = keys_on_two_shards(raw)
    body = "return redis.call('get', ARGV[1])"
    assert raw.cmd("EVAL", body, 1, a, b) == Error(
        "ERR Script attempted to access a non local key in a cluster node" + where(body))
    assert raw.cmd("EVAL", "return redis.pcall('set', ARGV[1], 'x')", 1, a, b) == Error(
        "ERR Script attempted to access a non local key in a cluster node")
    assert raw.cmd("EXISTS", b) == 0


@pytest.mark.skipif(is_redis(), reason="our regression: reading the error object ran its metamethods outside pcall")
def test_error_object_with_a_metatable_does_not_escape(raw):
    reply = raw.cmd("EVAL", "error(setmetatable({}, {__index = function() error('x') end}))", "0")
    assert isinstance(reply, Error)
    assert raw.cmd("PING") == "PONG"


# ---------------------------------------------------------------- limits

@pytest.mark.skipif(is_redis(), reason="lua-memory-limit is dragonfly's (Redis's Lua has no cap)")
def test_lua_memory_limit(raw):
    assert raw.cmd("CONFIG", "GET", "lua-memory-limit") == [b"lua-memory-limit", b"536870912"]
    assert raw.cmd("CONFIG", "SET", "lua-memory-limit", "8mb") == Simple("OK")
    try:
        for body in ("local t = {} for i = 1, 1e8 do t[i] = i end return #t",
                     "return #string.rep('x', 1e9)"):
            assert raw.cmd("EVAL", body, 0) == Error(
                f"ERR Error running script f_{sha1(body)}, not enough memory")
        caught = "local ok, e = pcall(function() local t = {} for i = 1, 1e8 do t[i] = i end end) " \
                 "return {tostring(ok), e}"
        assert raw.cmd("EVAL", caught, 0) == [b"false", b"not enough memory"]
        fill = "for i = 1, 20000 do redis.call('rpush', KEYS[1], string.rep('x', 100) .. i) end"
        assert raw.cmd("EVAL", fill, 1, "{l}") is None
        many = "local n = 0 for i = 1, 20 do n = n + #redis.call('lrange', KEYS[1], 0, -1) end return n"
        assert raw.cmd("EVAL", many, 1, "{l}") == 400000  # garbage is collected on the way
        assert raw.cmd("CONFIG", "SET", "lua-memory-limit", "1mb") == Simple("OK")
        big = "return #redis.call('lrange', KEYS[1], 0, -1)"
        assert raw.cmd("EVAL", big, 1, "{l}") == Error(
            f"ERR Error running script f_{sha1(big)}, not enough memory")
        assert raw.cmd("CONFIG", "SET", "lua-memory-limit", "0") == Simple("OK")
        assert raw.cmd("EVAL", big, 1, "{l}") == 20000
    finally:
        raw.cmd("CONFIG", "SET", "lua-memory-limit", "512mb")
    assert raw.cmd("EVAL", "return 1", 0) == 1


@pytest.mark.skipif(is_redis(), reason="lua-memory-limit is dragonfly's (Redis's Lua has no cap)")
def test_reply_left_by_a_caught_conversion_error_is_freed(raw):
    """A redis.call reply whose conversion ran out of Lua memory (caught by pcall) is freed by
    the next redis.call, not leaked; and calls with over 16 arguments leak nothing."""
    fill = ("for i = 1, 2000 do redis.call('rpush', KEYS[1], string.rep('x', 500) .. i) end "
            "return redis.call('llen', KEYS[1])")
    body = ("local t = {} pcall(function() for i = 1, 1e8 do t[i] = string.rep('y', 1000) .. i end end) "
            "local ok = pcall(redis.call, 'lrange', KEYS[1], 0, -1) "
            "t = nil collectgarbage() redis.call('ping') return tostring(ok)")
    many = "return redis.call('del', unpack(KEYS))"
    keys = [f"{{m}}{i}" for i in range(40)]

    def used():
        info = raw.cmd("INFO", "memory").decode()
        return int(info.split("used_memory:")[1].split()[0])

    assert raw.cmd("CONFIG", "SET", "lua-memory-limit", "4mb") == Simple("OK")
    try:
        assert raw.cmd("EVAL", fill, 1, "{m}l") == 2000
        assert raw.cmd("EVAL", body, 1, "{m}l") == b"false"
        assert raw.cmd("EVAL", many, len(keys), *keys) == 0
        before = used()
        for _ in range(40):  # each leaked reply would be about 1 MB
            assert raw.cmd("EVAL", body, 1, "{m}l") == b"false"
            assert raw.cmd("EVAL", many, len(keys), *keys) == 0
        assert used() - before < 8 << 20
    finally:
        raw.cmd("CONFIG", "SET", "lua-memory-limit", "512mb")
        raw.cmd("DEL", "{m}l")


def acl_log_entry(raw):
    entry = raw.cmd("ACL", "LOG", "1")[0]
    fields = dict(zip(entry[::2], entry[1::2]))
    return {k: fields[k] for k in (b"reason", b"context", b"object", b"username")}


def test_redis_call_applies_the_callers_acl(server):
    admin = server.raw()
    c = server.raw()
    try:
        assert admin.cmd("ACL", "SETUSER", "scripter", "on", "nopass", "+eval", "+get", "+set",
                         "+publish", "~k*", "%R~r*", "resetchannels", "&ch*") == Simple("OK")
        assert admin.cmd("ACL", "LOG", "RESET") == Simple("OK")
        assert c.cmd("AUTH", "scripter", "x") == Simple("OK")
        body = "return redis.call('del', ARGV[1])"
        assert c.cmd("EVAL", body, 0, "k1") == Error(
            "ERR The user executing the script can't run this command or subcommand" + where(body))
        assert acl_log_entry(admin) == {b"reason": b"command", b"context": b"lua",
                                        b"object": b"del", b"username": b"scripter"}
        assert c.cmd("EVAL", "return redis.pcall('get', ARGV[1])", 0, "zz") == Error(
            "ERR The user executing the script can't access at least one of the keys mentioned "
            "in the command arguments")
        assert acl_log_entry(admin) == {b"reason": b"key", b"context": b"lua",
                                        b"object": b"zz", b"username": b"scripter"}
        assert c.cmd("EVAL", "return redis.pcall('set', ARGV[1], 'v')", 0, "r1") == Error(
            "ERR The user executing the script can't access at least one of the keys mentioned "
            "in the command arguments")
        assert c.cmd("EVAL", "return redis.pcall('publish', 'zz', 'm')", 0) == Error(
            "ERR The user executing the script can't publish to the channel mentioned in the "
            "command")
        assert acl_log_entry(admin) == {b"reason": b"channel", b"context": b"lua",
                                        b"object": b"zz", b"username": b"scripter"}
        assert c.cmd("EVAL", "return redis.call('publish', 'ch1', 'm')", 0) == 0
        assert c.cmd("EVAL", "return redis.call('set', KEYS[1], 'v')", 1, "k1") == Simple("OK")
        assert admin.cmd("EVAL", "return redis.call('del', KEYS[1])", 1, "k1") == 1
    finally:
        admin.cmd("ACL", "DELUSER", "scripter")
        admin.cmd("ACL", "LOG", "RESET")
        admin.close()
        c.close()


def test_getkeys_of_eval_names_only_declared_keys(raw):
    assert raw.cmd("COMMAND", "GETKEYS", "EVAL", "return 1", 0) == []
    assert raw.cmd("COMMAND", "GETKEYS", "EVAL", "return 1", 2, "a", "b", "c") == [b"a", b"b"]
    assert Simple("no_mandatory_keys") in raw.cmd("COMMAND", "INFO", "EVAL")[0][2]


def read_flat(raw):
    """One reply read without recursion (it may nest thousands deep): (depth, leaves), the
    leaves being the non-aggregate values in wire order, as raw lines or bulk payloads."""
    pending, depth, leaves = [1], 0, []
    while pending:
        pending[-1] -= 1
        line = raw.read_line_raw()
        if line[:1] in (b"*", b"%", b"~") and int(line[1:]) > 0:
            pending.append(int(line[1:]) * (2 if line[:1] == b"%" else 1))
            depth = max(depth, len(pending) - 1)
        elif line[:1] == b"$":
            leaves.append(raw._bytes(int(line[1:])))
        else:
            leaves.append(line)
        while pending and pending[-1] == 0:
            pending.pop()
    return depth, leaves


@pytest.mark.parametrize("ret", ["t", "{map = t}"], ids=["array", "map"])
def test_self_referencing_table_reply_stops_at_lua_stack_limit(raw, ret):
    raw.send(encode("EVAL", "local t = {} t[1] = t return " + ret, 0))
    depth, leaves = read_flat(raw)
    assert depth > 1000
    assert leaves[-1] == b"-ERR reached lua stack limit"
    assert raw.cmd("PING") == Simple("PONG")


def test_self_referencing_table_with_siblings(raw):
    raw.send(encode("EVAL", "local t = {} t[1] = t t[2] = 'x' return t", 0))
    depth, leaves = read_flat(raw)
    assert depth > 1000
    assert leaves[0] == b"-ERR reached lua stack limit"
    assert set(leaves) == {b"-ERR reached lua stack limit", b"x"}
    assert leaves.count(b"x") > 1000
    assert raw.cmd("EVAL", "local t = {} t[t] = t return {map = t}", 0) == [[], []]
