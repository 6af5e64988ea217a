"""Atomicity torture tests (issue #6): many concurrent clients, multi-key commands and
transactions spanning shards must never expose half of a command. Each test runs a few seconds.
Ours runs with 4 worker threads so that keys really live on different shards."""
import itertools
import threading
import time

import pytest
import redis

from conftest import Server

DURATION = 2.0


@pytest.fixture(scope="module")
def tserver():
    s = Server(threads=4)     # threads is ignored for redis-server
    yield s
    s.stop()


@pytest.fixture
def tr(tserver):
    c = tserver.client()
    c.flushall()
    yield c
    c.close()


def run_threads(targets, duration=DURATION):
    """Run callables(stop_event) in threads for `duration` seconds; re-raise the first error."""
    stop = threading.Event()
    errors = []

    def wrap(fn):
        try:
            fn(stop)
        except Exception as e:   # noqa: BLE001 - reported below
            errors.append(e)
            stop.set()

    threads = [threading.Thread(target=wrap, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    deadline = time.time() + duration
    while time.time() < deadline and not stop.is_set():
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    if errors:
        raise errors[0]


def test_mset_mget_never_mixed(tserver, tr):
    """Writers MSET one value into all keys of a group; readers MGET the group and must always
    see a single value (never a mix of two MSETs)."""
    ngroups = 5
    nkeys = 16
    groups = [[f"pairA:{g}:{i}" if i % 2 == 0 else f"pairB:{g}:{i}" for i in range(nkeys)]
              for g in range(ngroups)]
    for keys in groups:
        tr.mset({k: "init" for k in keys})
    reads = [0]
    writes = [0]

    def writer(wid):
        def run(stop):
            c = tserver.client()
            seq = 0
            while not stop.is_set():
                keys = groups[seq % ngroups]
                val = f"w{wid}:{seq}"
                c.mset({k: val for k in keys})
                seq += 1
                writes[0] += 1
            c.close()
        return run

    def reader(stop):
        c = tserver.client()
        n = 0
        while not stop.is_set():
            keys = groups[n % ngroups]
            vals = c.mget(keys)
            assert len(set(vals)) == 1, f"mixed MSET observed: {vals}"
            n += 1
            reads[0] += 1
        c.close()

    run_threads([writer(i) for i in range(40)] + [reader] * 10)
    assert reads[0] > 50 and writes[0] > 50
    for keys in groups:
        assert len(set(tr.mget(keys))) == 1


def test_rename_ping_pong(tserver, tr):
    """Clients keep renaming a<->b; observers must always see exactly one of the two names and
    the value never changes."""
    pairs = [(f"ping:{i}", f"pong:{i}") for i in range(4)]
    for a, _ in pairs:
        tr.set(a, f"value-of-{a}")
    observed = [0]

    def renamer(stop):
        c = tserver.client()
        i = 0
        while not stop.is_set():
            a, b = pairs[i % len(pairs)]
            for src, dst in ((a, b), (b, a)):
                try:
                    c.rename(src, dst)
                except redis.ResponseError as e:
                    assert str(e) == "no such key", str(e)
            i += 1
        c.close()

    def observer(stop):
        c = tserver.client()
        i = 0
        while not stop.is_set():
            a, b = pairs[i % len(pairs)]
            n = c.exists(a, b)
            assert n == 1, f"EXISTS {a} {b} == {n}"
            i += 1
            observed[0] += 1
        c.close()

    run_threads([renamer] * 8 + [observer] * 4)
    assert observed[0] > 50
    for a, b in pairs:
        assert tr.exists(a, b) == 1
        assert (tr.get(a) or tr.get(b)) == f"value-of-{a}"
    assert tr.dbsize() == len(pairs)


def test_multi_incr_totals_exact(tserver, tr):
    """20 clients each run transactions incrementing 100 counters; a reader's MGET always sees
    all counters equal, and the totals are exact."""
    ncounters = 100
    nclients = 20
    rounds = 40
    counters = [f"counter:{i}" for i in range(ncounters)]
    checks = [0]
    done = threading.Event()

    def worker():
        c = tserver.client()
        for _ in range(rounds):
            p = c.pipeline(transaction=True)
            for k in counters:
                p.incr(k)
            res = p.execute()
            assert all(isinstance(x, int) for x in res)
        c.close()

    def reader(stop):
        c = tserver.client()
        while not done.is_set():
            vals = c.mget(counters)
            vals = [int(v) if v is not None else 0 for v in vals]
            assert len(set(vals)) == 1, f"partial transaction observed: {sorted(set(vals))}"
            checks[0] += 1
        c.close()

    errors = []

    def guarded_reader():
        try:
            reader(None)
        except Exception as e:   # noqa: BLE001
            errors.append(e)

    rt = threading.Thread(target=guarded_reader)
    rt.start()
    try:
        run_workers([worker] * nclients)
    finally:
        done.set()
        rt.join(timeout=30)
    if errors:
        raise errors[0]
    vals = tr.mget(counters)
    assert vals == [str(nclients * rounds)] * ncounters
    assert checks[0] > 0


def run_workers(targets, timeout=60):
    errors = []

    def wrap(fn):
        try:
            fn()
        except Exception as e:   # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    if errors:
        raise errors[0]


def test_watch_optimistic_increment_exact(tserver, tr):
    """10 clients do GET / MULTI / SET / EXEC with WATCH and retry on abort: the final count is
    exact, so WATCH caught every conflicting write."""
    nclients = 10
    per_client = 30
    tr.set("optimistic", 0)
    aborts = [0]

    def worker():
        c = tserver.client()
        done = 0
        while done < per_client:
            with c.pipeline() as p:
                try:
                    p.watch("optimistic")
                    cur = int(p.get("optimistic"))
                    p.multi()
                    p.set("optimistic", cur + 1)
                    p.execute()
                    done += 1
                except redis.WatchError:
                    aborts[0] += 1
        c.close()

    run_workers([worker] * nclients)
    assert int(tr.get("optimistic")) == nclients * per_client


def test_watch_cross_key_invariant(tserver, tr):
    """Transfers between two accounts (on different shards) guarded by WATCH keep the sum."""
    tr.mset({"acct:alice": 1000, "acct:bob": 1000})
    sums_ok = [0]
    stop = threading.Event()

    def transfer(direction):
        def run():
            c = tserver.client()
            src, dst = ("acct:alice", "acct:bob") if direction else ("acct:bob", "acct:alice")
            for _ in range(40):
                while True:
                    with c.pipeline() as p:
                        try:
                            p.watch(src, dst)
                            a, b = int(p.get(src)), int(p.get(dst))
                            p.multi()
                            p.set(src, a - 1)
                            p.set(dst, b + 1)
                            p.execute()
                            break
                        except redis.WatchError:
                            continue
            c.close()
        return run

    def auditor():
        c = tserver.client()
        while not stop.is_set():
            a, b = c.mget("acct:alice", "acct:bob")
            assert int(a) + int(b) == 2000, (a, b)
            sums_ok[0] += 1
        c.close()

    errors = []

    def guarded():
        try:
            auditor()
        except Exception as e:   # noqa: BLE001
            errors.append(e)

    at = threading.Thread(target=guarded)
    at.start()
    try:
        run_workers([transfer(True)] * 4 + [transfer(False)] * 4)
    finally:
        stop.set()
        at.join(timeout=30)
    if errors:
        raise errors[0]
    a, b = tr.mget("acct:alice", "acct:bob")
    assert int(a) == 1000 and int(b) == 1000       # 160 each way
    assert sums_ok[0] > 0


def pipeline_writer(server, fill, done=None):
    """A run_threads target: sends pipelines built by fill(pipeline) until stopped; appends
    one entry to `done` per pipeline executed (list.append is safe across threads)."""
    def run(stop):
        c = server.client()
        while not stop.is_set():
            p = c.pipeline(transaction=False)
            fill(p)
            p.execute()
            if done is not None:
                done.append(1)
        c.close()
    return run


def test_pipelined_job_and_queue_seen_in_order(tserver, tr):
    """Writers pipeline `SET job:N data; LPUSH queue job:N` for batches of jobs whose keys are in
    different shards; a consumer that pops a job name always finds its data (Redis's order
    of a client's writes holds even when the pipeline's writes span shards)."""
    seq = itertools.count()
    popped = [0]

    def jobs(p):
        for _ in range(20):
            n = next(seq)
            p.set(f"job:{n}", f"data:{n}")
            p.lpush(f"queue:{n % 3}", f"job:{n}")

    def consumer(stop):
        c = tserver.client()
        while not stop.is_set():
            item = c.brpop(["queue:0", "queue:1", "queue:2"], timeout=0.2)
            if item is None:
                continue
            name = item[1]
            assert c.get(name) == "data:" + name.split(":")[1], f"{name} popped before its data"
            popped[0] += 1
        c.close()

    run_threads([pipeline_writer(tserver, jobs)] * 4 + [consumer] * 4)
    assert popped[0] > 100


@pytest.fixture(scope="module")
def tserver2():
    s = Server(threads=2)     # one remote thread: locked groups take the one-round-trip path
    yield s
    s.stop()


@pytest.mark.parametrize("writers", [1, 3])
def test_pipelined_increments_never_seen_out_of_order(tserver, tr, tserver2, writers):
    """Writers pipeline `INCR a:i` then `INCR b:i` for 8 pairs of keys spread over shards, so
    in Redis a:i >= b:i at every instant; readers' MGETs (atomic snapshots) never see b:i
    ahead of a:i, whichever shard each key lives in. With 3 writers on the same keys (and 2
    threads) their groups collide and must fall back to waiting for each other's locks; the
    final counts are exact."""
    server = tserver if writers == 1 else tserver2
    fc = server.client()
    fc.flushall()
    fc.close()
    pairs = [(f"a:{i}", f"b:{i}") for i in range(8)]
    flat = [k for p in pairs for k in p]
    checks = [0]
    done = []

    def increments(p):
        for _ in range(10):
            for a, b in pairs:
                p.incr(a)
            for a, b in pairs:
                p.incr(b)

    def reader(stop):
        c = server.client()
        while not stop.is_set():
            vals = [int(v or 0) for v in c.mget(flat)]
            for i in range(len(pairs)):
                assert vals[2 * i] >= vals[2 * i + 1], f"{pairs[i]} seen as {vals[2*i:2*i+2]}"
            checks[0] += 1
        c.close()

    run_threads([pipeline_writer(server, increments, done)] * writers + [reader, reader])
    assert checks[0] > 50
    c = server.client()
    assert [int(v) for v in c.mget(flat)] == [10 * len(done)] * len(flat)
    c.close()
