"""Shared bits of the data-type tests: Redis's error texts and a helper for failing commands."""
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
