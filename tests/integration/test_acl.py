"""ACL (Redis 7.0): users, rules, GETUSER/LIST text, AUTH/HELLO, NOPERM for commands, keys and
channels, ACL LOG, DELUSER disconnecting, SAVE/LOAD, requirepass. Differential: passes against
redis-server 7.0 (DF_TEST_SERVER=redis) too."""
import os
import tempfile
import time

import pytest
import redis

from conftest import Server

WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NOPERM_KEYS = "this user has no permissions to access one of the keys used as arguments"
NOPERM_CHANS = "this user has no permissions to access one of the channels used as arguments"


def noperm_cmd(name):
    return f"this user has no permissions to run the '{name}' command"  # redis-py drops NOPERM


@pytest.fixture
def r(server):
    c = server.client()
    c.flushall()
    for u in c.acl_users():
        if u != "default":
            c.execute_command("ACL", "DELUSER", u)
    c.execute_command("ACL", "LOG", "RESET")
    yield c
    c.close()


def as_user(server, user, pw):
    return server.client(username=user, password=pw)


def err(fn, *a):
    with pytest.raises(redis.exceptions.ResponseError) as e:
        fn(*a)
    return str(e.value)


def test_default_user(r):
    assert r.execute_command("ACL", "LIST") == ["user default on nopass ~* &* +@all"]
    assert r.execute_command("ACL", "WHOAMI") == "default"
    assert r.execute_command("ACL", "USERS") == ["default"]
    u = r.execute_command("ACL", "GETUSER", "default")
    d = dict(zip(u[::2], u[1::2]))
    assert list(d["flags"]) == ["on", "nopass"]
    assert d["passwords"] == [] and d["commands"] == "+@all"
    assert d["keys"] == "~*" and d["channels"] == "&*" and d["selectors"] == []


def test_setuser_list_getuser(r):
    assert r.execute_command("ACL", "SETUSER", "alice") == "OK"
    assert "user alice off resetchannels -@all" in r.execute_command("ACL", "LIST")
    r.execute_command("ACL", "SETUSER", "alice", "on", ">secret", "~app:*", "+@read", "%R~r:*",
                      "%W~w:*", "%RW~rw:*", "&ch:*", "+config|get", "-get")
    line = [l for l in r.execute_command("ACL", "LIST") if l.startswith("user alice")][0]
    h = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
    assert line.startswith(f"user alice on #{h} ~app:* %R~r:* %W~w:* ~rw:* resetchannels &ch:* -@all +@read ")
    assert set(line.split()[-2:]) == {"+config|get", "-get"}
    u = r.execute_command("ACL", "GETUSER", "alice")
    d = dict(zip(u[::2], u[1::2]))
    assert list(d["flags"]) == ["on"] and d["passwords"] == [h]
    assert d["keys"] == "~app:* %R~r:* %W~w:* ~rw:*" and d["channels"] == "&ch:*"
    r.execute_command("ACL", "SETUSER", "alice", "reset")
    assert "user alice off sanitize-payload resetchannels -@all" in r.execute_command("ACL", "LIST")
    assert r.execute_command("ACL", "GETUSER", "nosuch") is None
    assert r.execute_command("ACL", "USERS") == ["alice", "default"]


def test_setuser_rules(r):
    r.execute_command("ACL", "SETUSER", "e", "on", "nopass", "resetpass", ">a", ">b", "<a",
                      "allkeys", "allchannels", "allcommands", "-@dangerous")
    h = "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"
    assert f"user e on #{h} ~* &* +@all -@dangerous" in r.execute_command("ACL", "LIST")
    r.execute_command("ACL", "SETUSER", "e", "resetkeys", "~x", "resetchannels", "nocommands",
                      "+@hash", "skip-sanitize-payload", "#" + h, "!" + h)
    u = r.execute_command("ACL", "GETUSER", "e")
    d = dict(zip(u[::2], u[1::2]))
    assert list(d["flags"]) == ["on", "skip-sanitize-payload"] and d["passwords"] == []
    assert d["commands"] == "-@all +@hash" and d["keys"] == "~x" and d["channels"] == ""
    r.execute_command("ACL", "SETUSER", "f", "+@all", "-get")
    assert "user f off resetchannels +@all -get" in r.execute_command("ACL", "LIST")


@pytest.mark.parametrize("rule,why", [
    ("badrule", "Syntax error"),
    ("+nosuchcmd", "Unknown command or category name in ACL"),
    ("+@nosuchcat", "Unknown command or category name in ACL"),
    ("+config|nosuch", "Unknown command or category name in ACL"),
    ("%X~a", "Syntax error"),
    ("#abc", "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"),
    ("<nothere", "The password you are trying to remove from the user does not exist"),
])
def test_setuser_errors(r, rule, why):
    e = err(r.execute_command, "ACL", "SETUSER", "bob", "on", rule)
    assert e == f"Error in ACL SETUSER modifier '{rule}': {why}"
    assert "bob" not in r.execute_command("ACL", "USERS")  # nothing applied


def test_setuser_after_star(r):
    assert err(r.execute_command, "ACL", "SETUSER", "t", "~*", "~b").startswith(
        "Error in ACL SETUSER modifier '~b': Adding a pattern after the * pattern (or the 'allkeys' flag)")
    assert err(r.execute_command, "ACL", "SETUSER", "t", "&*", "&x").startswith(
        "Error in ACL SETUSER modifier '&x': Adding a pattern after the * pattern (or the 'allchannels' flag)")
    assert r.execute_command("ACL", "SETUSER", "t", "allkeys", "~*") == "OK"


def test_deluser(r):
    assert err(r.execute_command, "ACL", "DELUSER", "default") == "The 'default' user cannot be removed"
    r.execute_command("ACL", "SETUSER", "a")
    assert r.execute_command("ACL", "DELUSER", "a", "nobody") == 1


def test_auth_and_hello(server, r):
    r.execute_command("ACL", "SETUSER", "bob", "on", ">pw", "~*", "+@all")
    c = server.client()
    assert c.execute_command("AUTH", "bob", "pw") is True
    assert c.execute_command("ACL", "WHOAMI") == "bob"
    assert err(c.execute_command, "AUTH", "bob", "bad") == WRONGPASS
    assert err(c.execute_command, "AUTH", "nouser", "bad") == WRONGPASS
    assert err(c.execute_command, "AUTH", "p").startswith(
        "AUTH <password> called without any password configured for the default user")
    assert c.execute_command("AUTH", "default", "x") is True  # default is nopass
    c.execute_command("AUTH", "default", "x")
    c.execute_command("HELLO", "2", "AUTH", "bob", "pw")
    assert c.execute_command("ACL", "WHOAMI") == "bob"
    assert err(c.execute_command, "HELLO", "2", "AUTH", "bob", "bad") == WRONGPASS
    r.execute_command("ACL", "SETUSER", "bob", "off")
    assert err(c.execute_command, "AUTH", "bob", "pw") == WRONGPASS
    c.close()


def test_command_permissions(server, r):
    r.execute_command("ACL", "SETUSER", "bob", "on", ">pw", "~*", "+@read", "+set",
                      "+config|get", "-get")
    c = as_user(server, "bob", "pw")
    assert c.set("k", "v") is True
    assert c.strlen("k") == 1
    assert err(c.get, "k") == noperm_cmd("get")
    assert err(c.execute_command, "INCR", "n") == noperm_cmd("incr")
    assert err(c.execute_command, "CONFIG", "SET", "x", "y") == noperm_cmd("config|set")
    assert c.execute_command("CONFIG", "GET", "maxmemory") == ["maxmemory", "0"]
    assert err(c.execute_command, "ACL", "WHOAMI") == noperm_cmd("acl|whoami")
    assert c.execute_command("AUTH", "bob", "pw") is True  # no_auth commands always run
    c.close()


def test_multi_checked_when_queued(server, r):
    r.execute_command("ACL", "SETUSER", "dan", "on", ">p", "~*", "+@all", "-set")
    c = as_user(server, "dan", "p")
    p = c.pipeline(transaction=True)
    p.set("a", "1")
    p.get("a")
    with pytest.raises(redis.exceptions.ResponseError):  # the queued SET's NOPERM, then EXECABORT
        p.execute()
    log = r.execute_command("ACL", "LOG")
    d = dict(zip(log[0][::2], log[0][1::2]))
    assert d["reason"] == "command" and d["object"] == "set" and d["context"] == "multi"
    c.close()


def test_key_patterns(server, r):
    r.execute_command("ACL", "SETUSER", "k", "on", ">p", "+@all", "~app:*", "%R~r:*", "%W~w:*")
    c = as_user(server, "k", "p")
    assert c.set("app:1", "x") and c.get("app:1") == "x"
    assert err(c.get, "other") == NOPERM_KEYS
    assert err(c.set, "r:1", "x") == NOPERM_KEYS
    assert c.get("r:1") is None
    assert c.set("w:1", "x") is True
    assert err(c.get, "w:1") == NOPERM_KEYS
    assert c.rpush("w:l", "a") == 1
    assert err(c.lrange, "w:l", 0, -1) == NOPERM_KEYS
    assert err(c.mset, {"app:2": "1", "x": "2"}) == NOPERM_KEYS
    assert c.mset({"app:2": "1", "app:{3}": "2"}) is True
    c.close()


def test_channels(server, r):
    r.execute_command("ACL", "SETUSER", "ps", "on", ">p", "+@all", "~*", "&news", "&ch:*")
    c = as_user(server, "ps", "p")
    assert c.publish("news", "m") == 0
    assert c.publish("ch:1", "m") == 0
    assert err(c.publish, "other", "m") == NOPERM_CHANS
    p = c.pubsub()
    with pytest.raises(redis.exceptions.ResponseError) as e:
        p.subscribe("nope")
        p.get_message(timeout=2)
    assert str(e.value) == NOPERM_CHANS
    p.close()
    c.close()


def test_acl_log(server, r):
    r.execute_command("ACL", "SETUSER", "bob", "on", ">pw", "~k:*", "+get", "&news", "+publish")
    c = as_user(server, "bob", "pw")
    err(c.get, "x")
    err(c.get, "x")
    err(c.execute_command, "INCR", "k:1")
    err(c.publish, "other", "m")
    err(c.execute_command, "AUTH", "bob", "bad")
    log = r.execute_command("ACL", "LOG")
    entries = [dict(zip(e[::2], e[1::2])) for e in log]
    got = [(e["reason"], e["object"], e["username"], e["count"], e["context"]) for e in entries]
    assert got == [("auth", "AUTH", "bob", 1, "toplevel"), ("channel", "other", "bob", 1, "toplevel"),
                   ("command", "incr", "bob", 1, "toplevel"), ("key", "x", "bob", 2, "toplevel")]
    assert float(entries[0]["age-seconds"]) >= 0
    assert "user=bob" in entries[1]["client-info"]
    assert len(r.execute_command("ACL", "LOG", "1")) == 1
    assert err(r.execute_command, "ACL", "LOG", "x") == "value is not an integer or out of range"
    assert r.execute_command("ACL", "LOG", "RESET") == "OK"
    assert r.execute_command("ACL", "LOG") == []
    c.close()


def test_dryrun_cat_genpass_help(r):
    r.execute_command("ACL", "SETUSER", "bob", "on", ">pw", "~k:*", "+get", "&news", "+publish")
    assert r.execute_command("ACL", "DRYRUN", "bob", "get", "k:1") == "OK"
    assert r.execute_command("ACL", "DRYRUN", "bob", "get", "x") == \
        "This user has no permissions to access the 'x' key"
    assert r.execute_command("ACL", "DRYRUN", "bob", "incr", "k:1") == \
        "This user has no permissions to run the 'incr' command"
    assert r.execute_command("ACL", "DRYRUN", "bob", "publish", "other", "m") == \
        "This user has no permissions to access the 'other' channel"
    assert err(r.execute_command, "ACL", "DRYRUN", "nob", "get", "x") == "User 'nob' not found"
    assert err(r.execute_command, "ACL", "DRYRUN", "bob", "nosuch", "x") == "Command 'nosuch' not found"
    cats = r.execute_command("ACL", "CAT")
    assert cats[:3] == ["keyspace", "read", "write"] and "scripting" in cats and len(cats) == 21
    geo = r.execute_command("ACL", "CAT", "geo")
    assert "geoadd" in geo and "get" not in geo
    assert "get" in r.execute_command("ACL", "CAT", "read")
    assert err(r.execute_command, "ACL", "CAT", "nosuch") == "Unknown category 'nosuch'"
    p = r.execute_command("ACL", "GENPASS")
    assert len(p) == 64 and int(p, 16) >= 0
    assert len(r.execute_command("ACL", "GENPASS", "5")) == 2
    assert err(r.execute_command, "ACL", "GENPASS", "0").startswith(
        "ACL GENPASS argument must be the number of bits")
    assert r.execute_command("ACL", "HELP")[0].startswith("ACL <subcommand>")


def test_client_list_and_kill_user(server, r):
    r.execute_command("ACL", "SETUSER", "carl", "on", ">p", "~*", "+@all")
    c = as_user(server, "carl", "p")
    c.ping()
    lines = r.execute_command("CLIENT", "LIST").splitlines()
    assert any("user=carl" in l for l in lines)
    assert err(r.execute_command, "CLIENT", "KILL", "USER", "nosuch") == "No such user 'nosuch'"
    assert r.execute_command("CLIENT", "KILL", "USER", "carl") == 1
    c.close()


def test_off_keeps_clients_deluser_kills(server, r):
    r.execute_command("ACL", "SETUSER", "carl", "on", ">p", "~*", "+@all")
    c = as_user(server, "carl", "p")
    assert c.ping() is True
    r.execute_command("ACL", "SETUSER", "carl", "off")
    assert c.ping() is True  # Redis 7.0: off only stops new authentications
    raw = server.raw()
    raw.cmd("AUTH", "carl", "p")
    r.execute_command("ACL", "SETUSER", "carl", "on")
    raw = server.raw()
    assert raw.cmd("AUTH", "carl", "p") == "OK" or raw.cmd("PING")
    assert r.execute_command("ACL", "DELUSER", "carl") == 1
    deadline = time.time() + 5
    while time.time() < deadline and any("user=carl" in l for l in
                                          r.execute_command("CLIENT", "LIST").splitlines()):
        time.sleep(0.05)
    assert not any("user=carl" in l for l in r.execute_command("CLIENT", "LIST").splitlines())
    with pytest.raises((redis.exceptions.ConnectionError, redis.exceptions.ResponseError)):
        c.ping()  # redis-py reconnects and its AUTH fails, or the socket is gone
    c.close()
    raw.close()


def test_save_and_load():
    d = tempfile.mkdtemp(prefix="df-acl-")
    path = os.path.join(d, "users.acl")
    open(path, "w").close()
    s = Server(args=["--aclfile", path])
    try:
        r = s.client()
        r.execute_command("ACL", "SETUSER", "alice", "on", ">secret", "~app:*", "+@read", "&ch")
        assert r.execute_command("ACL", "SAVE") == "OK"
        saved = open(path).read().splitlines()
        assert saved[0].startswith("user alice on #") and saved[1] == "user default on nopass ~* &* +@all"
        a = s.client(username="alice", password="secret")
        assert a.get("app:1") is None
        r.execute_command("ACL", "DELUSER", "alice")
        r.execute_command("ACL", "SETUSER", "tmp")
        assert r.execute_command("ACL", "LOAD") == "OK"
        assert r.execute_command("ACL", "USERS") == ["alice", "default"]
        assert [l for l in r.execute_command("ACL", "LIST")] == saved
        b = s.client(username="alice", password="secret")
        assert b.get("app:1") is None
        r.close()
    finally:
        s.stop()
    s = Server(args=["--aclfile", path])
    try:
        a = s.client(username="alice", password="secret")
        assert a.get("app:1") is None
        assert err(a.get, "x") == NOPERM_KEYS
    finally:
        s.stop()


def test_no_aclfile(r):
    e = err(r.execute_command, "ACL", "SAVE")
    assert e.startswith("This Redis instance is not configured to use an ACL file.")
    assert err(r.execute_command, "ACL", "LOAD") == e


def test_requirepass_sets_default_password():
    s = Server(args=["--requirepass", "s3cret"])
    try:
        c = s.client(password="s3cret")
        h = "8bf0e4c0ae4d1c0e7b2fe9d1a4b1a2f5c3a4f33b5f8f0b6a1b0b4a0d2c6d0f41"
        line = c.execute_command("ACL", "LIST")[0]
        assert line.startswith("user default on #") and line.endswith(" ~* &* +@all")
        assert s.client(username="default", password="s3cret").ping() is True
        c.config_set("requirepass", "other")
        assert err(s.client(username="default", password="s3cret").ping) == WRONGPASS
        assert s.client(password="other").ping() is True
        c.config_set("requirepass", "")
        assert s.client().execute_command("ACL", "LIST") == ["user default on nopass ~* &* +@all"]
        del h
    finally:
        s.stop()


def test_names_and_patterns_cannot_hold_line_breaks(r):
    """An ACL file line is one user: a newline in a name or pattern would inject another."""
    with pytest.raises(redis.exceptions.ResponseError):
        r.execute_command("ACL", "SETUSER", "a\nb", "on")
    with pytest.raises(redis.exceptions.ResponseError):
        r.execute_command("ACL", "SETUSER", "pat", "~a\nuser x on nopass +@all ~*")
    with pytest.raises(redis.exceptions.ResponseError):
        r.execute_command("ACL", "SETUSER", "chan", "&a\tb")
