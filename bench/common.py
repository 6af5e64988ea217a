#!/usr/bin/python3
"""Shared helpers for the bench/ scripts (Python 3 standard library only).

Every benchmark runs our server ("ours") and redis-server side by side in the
same run and reports ratios ours/redis, because the machines are small and
noisy (DESIGN.md section 7).

Run as a script it is also a bulk loader, used when a load has to run in a
separate process concurrently with a measurement:

    common.py load --port P [--keys N] [--start S] [--prefix key:] [--vsize 32]
"""

import argparse
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REDIS_DEFAULT = "/usr/bin/redis-server"
CLK_TCK = os.sysconf("SC_CLK_TCK")
HOST = "127.0.0.1"


# ---------------------------------------------------------------- arguments

def default_server():
    return os.environ.get("DRAGONFLY_BIN") or "./dragonfly"


def add_server_args(ap):
    ap.add_argument("--server", default=default_server(),
                    help="our server binary (default: $DRAGONFLY_BIN or ./dragonfly)")
    ap.add_argument("--redis", default=REDIS_DEFAULT,
                    help="redis-server binary (default: %(default)s)")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny run that finishes quickly (checks the script works)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--both-args", default="", metavar="ARGS",
                    help="extra flags for both servers, e.g. \"--appendonly yes\" (each runs in "
                         "its own temporary directory)")


def check_binaries(args):
    for name in ("server", "redis"):
        path = getattr(args, name)
        resolved = path if os.sep in path else shutil.which(path)
        if not resolved or not os.access(resolved, os.X_OK):
            die("--%s %s: not an executable file (set DRAGONFLY_BIN or pass --%s)"
                % (name, path, name))
        setattr(args, name, os.path.abspath(resolved))


def die(msg):
    print("error: " + msg, file=sys.stderr)
    sys.exit(2)


def write_json(path, obj):
    if path:
        with open(path, "w") as f:
            json.dump(obj, f, indent=1)
        log("wrote %s" % path)


# ---------------------------------------------------------------- servers

def free_port():
    s = socket.socket()
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ours_argv(binary, port, threads=1):
    # no save points, as redis_argv: a snapshot must not run in the middle of a measurement
    return [binary, "--port", str(port), "--bind", HOST, "--threads", str(threads), "--save", ""]


def redis_argv(binary, port):
    return [binary, "--port", str(port), "--bind", HOST, "--save", "",
            "--appendonly", "no"]


class Server:
    """A server process we started; stopped by its PID only."""

    def __init__(self, name, argv, port, wrapper=None, timeout=20.0):
        self.name = name
        self.port = port
        self.workdir = tempfile.mkdtemp(prefix="dfbench-%s-" % name)
        self.logpath = os.path.join(self.workdir, "server.log")
        self.argv = (wrapper or []) + argv
        self.log = open(self.logpath, "w")
        self.proc = subprocess.Popen(self.argv, cwd=self.workdir, stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        try:
            wait_ping(port, timeout, self.proc)
        except Exception:
            sys.stderr.write(self.tail_log())
            self.stop()
            raise

    def tail_log(self, n=20):
        try:
            with open(self.logpath) as f:
                lines = f.readlines()[-n:]
            return "--- %s log (%s) ---\n%s" % (self.name, self.logpath, "".join(lines))
        except OSError:
            return ""

    def cpu(self):
        return proc_cpu_seconds(self.pid)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=30.0):
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait()
        if not self.log.closed:
            self.log.close()
            if not os.environ.get("DFBENCH_KEEP"):
                shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def both_args(args):
    return shlex.split(getattr(args, "both_args", "") or "")


def start_ours(args, threads=1, wrapper=None):
    port = free_port()
    return Server("ours", ours_argv(args.server, port, threads) + both_args(args), port, wrapper)


def start_redis(args, wrapper=None):
    port = free_port()
    return Server("redis", redis_argv(args.redis, port) + both_args(args), port, wrapper)


def wait_ping(port, timeout=20.0, proc=None):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited with status %s before answering PING"
                               % proc.returncode)
        try:
            c = Conn(port, timeout=2.0)
            r = c.call("PING")
            c.close()
            if r == "PONG":
                return
            last = r
        except (OSError, RespError) as e:
            last = e
        time.sleep(0.05)
    raise RuntimeError("server on port %d did not answer PING: %r" % (port, last))


def proc_cpu_seconds(pid):
    """utime+stime of the whole process (all threads) from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        data = f.read()
    fields = data[data.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime is field 14, stime field 15
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


# ---------------------------------------------------------------- RESP client

class RespError(Exception):
    pass


class ErrorReply(str):
    """An error reply (-ERR ...) returned as a value, not raised."""


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if not isinstance(a, bytes):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def parse_reply(buf, pos):
    """Parse one reply at buf[pos:]; return (value, newpos) or (None, -1) if
    incomplete. Errors come back as ErrorReply values."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        return None, -1
    t = buf[pos:pos + 1]
    line = buf[pos + 1:end]
    nxt = end + 2
    if t == b"+":
        return line.decode(), nxt
    if t == b"-":
        return ErrorReply(line.decode()), nxt
    if t == b":":
        return int(line), nxt
    if t == b"$":
        n = int(line)
        if n < 0:
            return None, nxt
        if len(buf) < nxt + n + 2:
            return None, -1
        return buf[nxt:nxt + n], nxt + n + 2
    if t == b"*":
        n = int(line)
        if n < 0:
            return None, nxt
        items = []
        for _ in range(n):
            v, nxt = parse_reply(buf, nxt)
            if nxt < 0:
                return None, -1
            items.append(v)
        return items, nxt
    raise RespError("bad reply type %r" % t)


class Conn:
    def __init__(self, port, host=HOST, timeout=60.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.pos = 0

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def read_replies(self, n):
        """Read n replies; returns them as a list."""
        out = []
        while len(out) < n:
            v, p = parse_reply(self.buf, self.pos) if self.pos < len(self.buf) else (None, -1)
            if p < 0:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    raise RespError("connection closed by server")
                self.buf = self.buf[self.pos:] + chunk
                self.pos = 0
                continue
            self.pos = p
            out.append(v)
        return out

    def count_replies(self, n):
        """Read n replies, return the list of error replies among them (cheaper
        than read_replies for bulk loads)."""
        errors = []
        got = 0
        while got < n:
            v, p = parse_reply(self.buf, self.pos) if self.pos < len(self.buf) else (None, -1)
            if p < 0:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    raise RespError("connection closed by server")
                self.buf = self.buf[self.pos:] + chunk
                self.pos = 0
                continue
            self.pos = p
            got += 1
            if isinstance(v, ErrorReply):
                errors.append(v)
        return errors

    def call(self, *args):
        self.send(encode(*args))
        return self.read_replies(1)[0]

    def pipeline(self, cmds):
        self.send(b"".join(encode(*c) for c in cmds))
        return self.read_replies(len(cmds))


def bulk_load(port, commands, batch=2000):
    """Send an iterable of already-encoded commands (bytes) pipelined in
    batches; returns (count, first_error or None)."""
    c = Conn(port, timeout=300.0)
    n = 0
    first_err = None
    chunk = []
    try:
        for cmd in commands:
            chunk.append(cmd)
            if len(chunk) >= batch:
                c.send(b"".join(chunk))
                errs = c.count_replies(len(chunk))
                n += len(chunk)
                chunk = []
                if errs and first_err is None:
                    first_err = errs[0]
                    return n, first_err
        if chunk:
            c.send(b"".join(chunk))
            errs = c.count_replies(len(chunk))
            n += len(chunk)
            if errs and first_err is None:
                first_err = errs[0]
    finally:
        c.close()
    return n, first_err


def fast_set_load(port, n, start=0, prefix="key:", vsize=32, extra=(), chunk=10000):
    """Pipelined SETs of sequential keys, as fast as Python allows: a reader
    thread only counts reply bytes (every reply must be +OK) while the
    writer streams commands.  Returns (count, error or None)."""
    import threading
    sock = socket.create_connection((HOST, port), timeout=300.0)
    expected = 5 * n  # len(b"+OK\r\n")
    state = {"got": 0, "err": None}

    def reader():
        got = 0
        try:
            while got < expected:
                data = sock.recv(1 << 20)
                if not data:
                    state["err"] = "connection closed by server"
                    break
                if got == 0 and not data.startswith(b"+"):
                    state["err"] = data.split(b"\r\n", 1)[0].decode(errors="replace")
                    break
                if b"-" in data:
                    i = data.index(b"-")
                    state["err"] = data[i:].split(b"\r\n", 1)[0].decode(errors="replace")
                    break
                got += len(data)
        except OSError as e:
            state["err"] = str(e)
        state["got"] = got

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    gen = set_commands(n, start, prefix, vsize, extra)
    try:
        while t.is_alive():
            part = b"".join(x for _, x in zip(range(chunk), gen))
            if not part:
                break
            sock.sendall(part)
    except OSError as e:
        state["err"] = state["err"] or str(e)
    t.join()
    sock.close()
    if state["err"] is not None:
        return state["got"] // 5, ErrorReply(state["err"])
    return n, None


def key_name(prefix, i, width=16):
    """Fixed width keys: key_name('key:', 1) == 'key:000000000001' (16 bytes)."""
    return ("%s%0*d" % (prefix, width - len(prefix), i)).encode()


def set_commands(n, start=0, prefix="key:", vsize=32, extra=()):
    """Encoded SET commands for keys key_name(prefix, start..start+n-1)."""
    value = b"v" * vsize
    tail = b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in extra)
    p = prefix.encode().replace(b"%", b"%%")
    width = 16 - len(prefix)
    template = (b"*%d\r\n$3\r\nSET\r\n" % (3 + len(extra)) +
                b"$%d\r\n" % (len(prefix) + width) + p + b"%0" + b"%d" % width +
                b"d\r\n" + b"$%d\r\n" % len(value) + value.replace(b"%", b"%%") +
                b"\r\n" + tail.replace(b"%", b"%%"))
    for i in range(start, start + n):
        yield template % i


# ---------------------------------------------------------------- INFO

def info(port, section=None):
    c = Conn(port)
    try:
        raw = c.call("INFO", section) if section else c.call("INFO")
    finally:
        c.close()
    if isinstance(raw, ErrorReply):
        raise RespError(raw)
    out = {}
    for line in raw.decode(errors="replace").splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def info_int(port, field, section="memory"):
    d = info(port, section)
    if field not in d:
        d = info(port)
    try:
        return int(d[field])
    except (KeyError, ValueError):
        return None


def dbsize(port):
    c = Conn(port)
    try:
        return c.call("DBSIZE")
    finally:
        c.close()


# ---------------------------------------------------------------- stats / output

def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def percentile(sorted_xs, q):
    """q in [0, 100]; nearest-rank percentile of an already sorted list."""
    if not sorted_xs:
        return None
    k = max(0, min(len(sorted_xs) - 1, int(-(-q * len(sorted_xs) // 100)) - 1))
    return sorted_xs[k]


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt(x, spec="%.0f"):
    if x is None:
        return "n/a"
    if isinstance(x, str):
        return x
    return spec % x


def fmt_ratio(x):
    return "n/a" if x is None else "%.2fx" % x


def print_table(headers, rows):
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, r in enumerate(cells):
        print("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])
                        for i, c in enumerate(r)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    sys.stdout.flush()


def headline(text):
    print("HEADLINE " + text)
    sys.stdout.flush()


def log(msg):
    print("# " + msg, file=sys.stderr)
    sys.stderr.flush()


# ---------------------------------------------------------------- loader entry

def _main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    ld = sub.add_parser("load", help="pipelined SET of sequential keys")
    ld.add_argument("--port", type=int, required=True)
    ld.add_argument("--keys", type=int, default=1000000)
    ld.add_argument("--start", type=int, default=0)
    ld.add_argument("--prefix", default="key:")
    ld.add_argument("--vsize", type=int, default=32)
    a = ap.parse_args()
    t0 = time.time()
    n, err = fast_set_load(a.port, a.keys, a.start, a.prefix, a.vsize)
    if err:
        print("load: error reply: %s" % err, file=sys.stderr)
        sys.exit(1)
    print("loaded %d keys in %.2fs" % (n, time.time() - t0))


if __name__ == "__main__":
    _main()
