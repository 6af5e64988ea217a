"""
A small raw RESP2/RESP3 client for tests that must see the exact wire reply (RESP3 types,
error strings, protocol errors), which redis-py 4.3 hides or does not speak.

Parsed values: simple string -> Simple("OK"), error -> Error("ERR ..."), integer -> int,
bulk -> bytes, null -> None, array -> list, map -> dict (keys bytes/str), set -> Set(list),
double -> float, boolean -> bool, verbatim -> Verbatim(bytes), push -> Push(list),
big number -> int.
"""
import socket


class Simple(str):
    pass


class Error(str):
    pass


class Verbatim(bytes):
    pass


class Set(list):
    pass


class Push(list):
    pass


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, (int, float)):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RawClient:
    def __init__(self, host, port, timeout=20):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, *args):
        self.send(encode(*args))
        return self.read()

    def pipeline(self, cmds):
        self.send(b"".join(encode(*c) for c in cmds))
        return [self.read() for _ in cmds]

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _bytes(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read_line_raw(self):
        """The next raw reply line, undecoded (for exact wire checks)."""
        return self._line()

    def read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return Simple(rest.decode())
        if t == b"-":
            return Error(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"(":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._bytes(n)
        if t == b"=":
            return Verbatim(self._bytes(int(rest)))
        if t == b"_":
            return None
        if t == b",":
            return float(rest.decode().replace("inf", "inf"))
        if t == b"#":
            return rest == b"t"
        if t in (b"*", b"~", b">"):
            n = int(rest)
            if n < 0:
                return None
            items = [self.read() for _ in range(n)]
            return Set(items) if t == b"~" else Push(items) if t == b">" else items
        if t == b"%":
            n = int(rest)
            d = {}
            for _ in range(n):
                k = self.read()
                d[k] = self.read()
            return d
        raise ValueError(f"bad reply type {line!r}")
