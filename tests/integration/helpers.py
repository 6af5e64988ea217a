"""Shared bits of the data-type tests: Redis's error texts, a helper for failing commands,
and waiting for clients to block."""
import time

import pytest
import redis

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "value is not an integer or out of range"
SYNTAX = "syntax error"


def err(r, *args):
    """Run a command that must fail; return the error text (redis-py strips the ERR prefix)."""
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


def plain(r):
    """The shared client without redis-py's reply callbacks: tests see Redis's own replies."""
    r.response_callbacks.clear()
    return r


def blocked_clients(c):
    """INFO's blocked_clients, from a redis-py client or a raw one (resp.RawClient)."""
    info = c.cmd("INFO", "clients") if hasattr(c, "cmd") else c.execute_command("INFO", "clients")
    if isinstance(info, bytes):
        info = info.decode()
    for line in info.splitlines():
        if line.startswith("blocked_clients:"):
            return int(line.split(":")[1])
    raise AssertionError("INFO clients has no blocked_clients field")


def wait_blocked(c, n, timeout=10.0):
    """Wait until n clients are blocked (an ordering barrier, not a timing check)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if blocked_clients(c) >= n:
            return
        time.sleep(0.01)
    raise AssertionError(f"expected {n} blocked clients, have {blocked_clients(c)}")


def wait_for(pred, what, timeout=30):
    """Poll pred until it holds; a server still loading its dataset (a replica's full sync)
    counts as not yet. Raises AssertionError naming what after timeout seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if pred():
                return
        except redis.exceptions.BusyLoadingError:
            pass
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)
