"""
Pipelines mixing single-shard and multi-shard commands: replies keep their order and every
command sees the effects of the commands before it (dragonfly squashes reads across shards
and groups consecutive multi-shard commands into one transaction; Redis runs them one by one).
"""


import pytest
from conftest import THREADS, is_redis
from resp import encode


def keys(n, prefix="k"):
    return [f"{prefix}:{i}" for i in range(n)]


def test_grouped_mset_mget_in_order(raw):
    ks = keys(8)
    cmds = []
    for v in range(5):
        cmds.append(["MSET"] + [x for k in ks for x in (k, str(v))])
        cmds.append(["MGET"] + ks)
    cmds.append(["DEL"] + ks)
    cmds.append(["MGET"] + ks)
    out = raw.pipeline(cmds)
    for v in range(5):
        assert out[2 * v] == "OK"
        assert out[2 * v + 1] == [str(v).encode()] * 8
    assert out[10] == 8
    assert out[11] == [None] * 8


def test_group_with_errors_and_single_key_commands(raw):
    ks = keys(6, "e")
    out = raw.pipeline([
        ["MSET"] + [x for k in ks for x in (k, "a")],
        ["MSET", ks[0], "b", ks[1]],            # wrong number of arguments
        ["GET", ks[0]],
        ["MSET"] + [x for k in ks for x in (k, "c")],
        ["INCR", ks[2]],                          # not an integer
        ["EXISTS"] + ks + ["nokey"],
        ["MGET", ks[0], ks[5]],
    ])
    assert out[0] == "OK"
    assert out[1].startswith("ERR wrong number of arguments")
    assert out[2] == b"a"
    assert out[3] == "OK"
    assert out[4].startswith("ERR value is not an integer")
    assert out[5] == 6
    assert out[6] == [b"c", b"c"]


def test_reads_and_writes_interleaved_across_shards(raw):
    ks = keys(16, "rw")
    cmds = []
    for i, k in enumerate(ks):
        cmds.append(["SET", k, str(i)])
        cmds.append(["GET", ks[(i * 7) % len(ks)]])
        cmds.append(["INCR", k])
    out = raw.pipeline(cmds)
    seen = {}
    for i, k in enumerate(ks):
        seen[k] = i
        assert out[3 * i] == "OK"
        other = ks[(i * 7) % len(ks)]
        expect = seen.get(other)
        got = out[3 * i + 1]
        assert got == (None if expect is None else str(expect).encode()), (i, other)
        assert out[3 * i + 2] == i + 1
        seen[k] = i + 1


def test_long_pipeline_of_msets(raw):
    ks = keys(4, "long")
    cmds = [["MSET"] + [x for k in ks for x in (k, str(v))] for v in range(300)]
    cmds.append(["MGET"] + ks)
    out = raw.pipeline(cmds)
    assert out[:300] == ["OK"] * 300
    assert out[300] == [b"299"] * 4


def test_writes_across_shards_keep_pipeline_semantics(raw):
    """Writes to many shards in one pipeline (dragonfly runs such groups as one locked
    transaction after the first one): every reply is what running the commands one by one
    gives. Repeated so the later pipelines take the locked path."""
    model = {}
    for rnd in range(4):
        cmds, expect = [], []
        for i in range(40):
            k, c = f"w:{i}", f"cnt:{i % 7}"
            cmds.append(["SET", k, f"{rnd}-{i}"])
            expect.append("OK")
            model[k] = f"{rnd}-{i}".encode()
            cmds.append(["INCR", c])
            model[c] = int(model.get(c, 0)) + 1
            expect.append(model[c])
            prev = f"w:{(i * 13) % 40}"
            cmds.append(["GET", prev])
            expect.append(model.get(prev))
            if i % 10 == 5:  # a wrong-type error in the middle of the group
                cmds.append(["LPUSH", k, "x"])
                expect.append("WRONGTYPE")
        cmds.append(["DEL", "w:0", "w:1"])
        expect.append(2)
        model.pop("w:0")
        model.pop("w:1")
        out = raw.pipeline(cmds)
        assert len(out) == len(expect)
        for i, (got, want) in enumerate(zip(out, expect)):
            if want == "WRONGTYPE":
                assert str(got).startswith("WRONGTYPE"), (rnd, i, got)
            else:
                assert got == want, (rnd, i, cmds[i], got, want)


def test_blocking_command_inside_write_pipeline(raw):
    """A blocking pop with data ready, between writes to several shards, sees the writes
    before it and not the ones after it."""
    for rnd in range(3):
        cmds = [["SET", f"b:{i}", "v"] for i in range(10)]
        cmds += [["RPUSH", "bq", f"job{rnd}"], ["BLPOP", "bq", "1"]]
        cmds += [["SET", f"b:{i}", "w"] for i in range(10)] + [["LLEN", "bq"]]
        out = raw.pipeline(cmds)
        assert out[:10] == ["OK"] * 10
        assert out[10] == 1
        assert out[11] == [b"bq", f"job{rnd}".encode()]
        assert out[12:22] == ["OK"] * 10
        assert out[22] == 0


def test_big_replies_across_shards_arrive_whole(raw):
    """Pipelined GETs of big values in several shards, read by a client that waits before
    reading (the socket fills up, so replies go out in several writes): every byte arrives, in
    order."""
    import time
    vals = {f"big:{i}": bytes([65 + i]) * (512 * 1024 + i) for i in range(12)}
    for k, v in vals.items():
        assert raw.cmd("SET", k, v) == "OK"
    names = list(vals)
    for rot in range(6):  # each key in turn goes first (a remote one, in some of them)
        order = names[rot:] + names[:rot]
        cmds = [["GET", k] for k in order] + [["STRLEN", "big:0"]]
        raw.send(b"".join(encode(*c) for c in cmds))
        time.sleep(0.2)
        out = [raw.read() for _ in cmds]
        assert out[:-1] == [vals[k] for k in order]
        assert out[-1] == 512 * 1024


@pytest.mark.parametrize("writes", [False, True])
def test_clients_closing_mid_reply(server, raw, writes):
    """Clients that send pipelines of big GETs and close without reading (replies still being
    written, by the client's thread or by another one): the server frees them and keeps
    serving. With writes, SETs across shards go first and between the GETs, so the pipelines
    run as locked groups (whose replies another thread may write too)."""
    import random
    import socket
    import threading
    for i in range(16):
        assert raw.cmd("SET", f"cm:{i}", b"v" * 100000) == "OK"

    def closer(seed):
        rnd = random.Random(seed)
        for _ in range(50):
            s = socket.create_connection((server.host, server.port))
            n = rnd.randrange(1, 12)
            cmds = []
            if writes:  # a first group across shards marks the client: the next are locked
                cmds += [encode("SET", f"cw:{j}", "x") for j in range(8)]
            for _ in range(n):
                cmds.append(encode("GET", f"cm:{rnd.randrange(16)}"))
                if writes:
                    cmds.append(encode("SET", f"cw:{rnd.randrange(8)}", "y"))
            s.sendall(b"".join(cmds))
            if rnd.random() < 0.5:
                s.recv(rnd.randrange(1, 65536))
            s.close()

    threads = [threading.Thread(target=closer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert raw.cmd("PING") == "PONG"
    assert raw.cmd("STRLEN", "cm:3") == 100000
    # Let the server finish the closed clients' commands before the module's server stops:
    # wait until only our own INFO calls are being counted.
    import time

    def processed():
        info = raw.cmd("INFO", "stats").decode()
        return int(info.split("total_commands_processed:")[1].split("\r\n")[0])
    deadline = time.time() + 10
    last = processed()
    while time.time() < deadline:
        time.sleep(0.2)
        now = processed()
        if now - last <= 1:
            break
        last = now


def info_field(raw, name):
    for line in raw.cmd("INFO", "stats").decode().splitlines():
        if line.startswith(name + ":"):
            return int(line.split(":", 1)[1])
    return None


@pytest.mark.skipif(is_redis() or THREADS < 2, reason="dragonfly's hop counter, several threads")
def test_write_pipelines_across_shards_take_one_pass(raw):
    """After its first write pipeline across shards, a client's next ones each run as one
    locked group: a pass over the shards (a hop to each, unlock messages, the reply), not a
    round trip per change of shard. 64 SETs on keys spread over every shard would otherwise
    change shard dozens of times."""
    shards = int(raw.cmd("CONFIG", "GET", "num_shards")[1])
    if shards not in (0, THREADS):
        pytest.skip("assumes one shard per thread")
    cmds = [["SET", f"hop:{i}", "v"] for i in range(64)]
    assert raw.pipeline(cmds) == ["OK"] * 64
    for _ in range(3):
        before = info_field(raw, "total_hops")
        assert raw.pipeline(cmds) == ["OK"] * 64
        hops = info_field(raw, "total_hops") - before
        assert hops <= 4 * THREADS + 2, hops  # INFO itself may ask every thread
