"""TLS on --tls-port (Redis's tls-* settings), next to the plain port: redis-py over TLS with
and without client certificates, pipelines and big values spanning many TLS records,
transactions and keys on several shards (hops), pub/sub pushes, refusals. Also runs against
redis-server 7.0.15 (DF_TEST_SERVER=redis)."""
import os
import shutil
import socket
import ssl
import subprocess
import tempfile

import pytest
import redis

from conftest import Server, free_port


def run(*args):
    subprocess.run(args, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs():
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all from it."""
    d = tempfile.mkdtemp(prefix="df-tls-")
    p = lambda name: os.path.join(d, name)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("ca.key"),
        "-out", p("ca.crt"), "-days", "2", "-subj", "/CN=df-test-ca")
    with open(p("ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    for who, cn in (("server", "127.0.0.1"), ("client", "df-client")):
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", p(who + ".key"),
            "-out", p(who + ".csr"), "-subj", "/CN=" + cn)
        extra = ["-extfile", p("ext.cnf")] if who == "server" else []
        run("openssl", "x509", "-req", "-in", p(who + ".csr"), "-CA", p("ca.crt"), "-CAkey",
            p("ca.key"), "-CAcreateserial", "-out", p(who + ".crt"), "-days", "2", *extra)
    yield p
    shutil.rmtree(d, ignore_errors=True)


def tls_server(certs, *extra):
    port = free_port()
    s = Server(args=["--tls-port", str(port), "--tls-cert-file", certs("server.crt"),
                     "--tls-key-file", certs("server.key"), "--tls-ca-cert-file",
                     certs("ca.crt"), *extra])
    s.tls_port = port
    return s


def tls_client(s, certs, with_cert=True, **kw):
    args = dict(host="127.0.0.1", port=s.tls_port, ssl=True, ssl_ca_certs=certs("ca.crt"),
                socket_timeout=10, **kw)
    if with_cert:
        args.update(ssl_certfile=certs("client.crt"), ssl_keyfile=certs("client.key"))
    return redis.Redis(**args)


@pytest.fixture(scope="module")
def srv(certs):
    s = tls_server(certs)
    yield s
    s.stop()


def test_commands_over_tls(srv, certs):
    c = tls_client(srv, certs)
    assert c.set("k", "v") and c.get("k") == b"v"
    assert srv.client().get("k") == "v"  # the plain port sees the same data
    big = os.urandom(3 << 20)
    assert c.set("big", big) and c.get("big") == big
    p = c.pipeline(transaction=False)
    for i in range(5000):
        p.set(f"p:{i}", i)
        p.get(f"p:{i}")
    out = p.execute()
    assert out[1::2] == [str(i).encode() for i in range(5000)]
    assert c.mget([f"p:{i}" for i in range(0, 5000, 7)]) == [str(i).encode() for i in range(0, 5000, 7)]
    t = c.pipeline(transaction=True)
    t.incr("ctr")
    t.incr("ctr")
    assert t.execute() == [1, 2]
    c.close()


def test_pubsub_over_tls(srv, certs):
    sub = tls_client(srv, certs).pubsub()
    sub.subscribe("news")
    assert sub.get_message(timeout=5)["type"] == "subscribe"
    assert tls_client(srv, certs).publish("news", "hello") == 1
    m = sub.get_message(timeout=5)
    assert m["type"] == "message" and m["data"] == b"hello"
    sub.close()


def test_client_certificate_required_by_default(srv, certs):
    c = tls_client(srv, certs, with_cert=False)
    with pytest.raises((redis.exceptions.ConnectionError, ssl.SSLError, OSError)):
        c.ping()


def test_tls_auth_clients_no(certs):
    s = tls_server(certs, "--tls-auth-clients", "no")
    try:
        assert tls_client(s, certs, with_cert=False).ping()
    finally:
        s.stop()


def test_plain_text_on_the_tls_port_is_refused(srv):
    c = redis.Redis(host="127.0.0.1", port=srv.tls_port, socket_timeout=5)
    with pytest.raises((redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
        c.ping()


def test_missing_certificate_refuses_to_start(certs):
    with pytest.raises(RuntimeError, match="exited"):
        Server(args=["--tls-port", str(free_port()), "--tls-cert-file", "/nonexistent.crt",
                     "--tls-key-file", certs("server.key")])


# ---- tls-key-file-pass, tls-protocols, tls-ciphers, tls-ciphersuites --------------------------


def handshake(s, certs, max_version=None, ciphers=None):
    """One TLS handshake with the server's TLS port: (version, cipher) or the SSL error."""
    ctx = ssl.create_default_context(cafile=certs("ca.crt"))
    ctx.load_cert_chain(certs("client.crt"), certs("client.key"))
    if max_version:
        ctx.maximum_version = max_version
    if ciphers:
        ctx.set_ciphers(ciphers)
    with socket.create_connection(("127.0.0.1", s.tls_port), timeout=10) as raw:
        try:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as t:
                t.sendall(b"PING\r\n")
                assert t.recv(16) == b"+PONG\r\n"
                return t.version(), t.cipher()[0]
        except (ssl.SSLError, ConnectionError) as e:
            return e


def test_encrypted_key_with_its_passphrase(certs):
    enc = certs("server-enc.key")
    run("openssl", "pkey", "-in", certs("server.key"), "-aes256", "-passout", "pass:s3cret", "-out", enc)
    port = free_port()
    s = Server(args=["--tls-port", str(port), "--tls-cert-file", certs("server.crt"),
                     "--tls-key-file", enc, "--tls-key-file-pass", "s3cret",
                     "--tls-ca-cert-file", certs("ca.crt")])
    s.tls_port = port
    try:
        assert tls_client(s, certs).ping()
    finally:
        s.stop()
    with pytest.raises(RuntimeError):  # the wrong passphrase: no start
        Server(args=["--tls-port", str(free_port()), "--tls-cert-file", certs("server.crt"),
                     "--tls-key-file", enc, "--tls-key-file-pass", "wrong",
                     "--tls-ca-cert-file", certs("ca.crt")])


def test_tls_protocols(certs):
    s = tls_server(certs, "--tls-protocols", "TLSv1.3")
    try:
        assert handshake(s, certs)[0] == "TLSv1.3"
        assert isinstance(handshake(s, certs, max_version=ssl.TLSVersion.TLSv1_2), Exception)
    finally:
        s.stop()
    s = tls_server(certs, "--tls-protocols", "TLSv1.2")
    try:
        assert handshake(s, certs)[0] == "TLSv1.2"
    finally:
        s.stop()
    with pytest.raises(RuntimeError):
        tls_server(certs, "--tls-protocols", "TLSv9")


def test_tls_ciphers_and_ciphersuites(certs):
    s = tls_server(certs, "--tls-ciphersuites", "TLS_AES_128_GCM_SHA256")
    try:
        assert handshake(s, certs) == ("TLSv1.3", "TLS_AES_128_GCM_SHA256")
    finally:
        s.stop()
    s = tls_server(certs, "--tls-protocols", "TLSv1.2", "--tls-ciphers", "ECDHE-RSA-AES256-GCM-SHA384")
    try:
        assert handshake(s, certs) == ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384")
        assert isinstance(handshake(s, certs, ciphers="ECDHE-RSA-AES128-GCM-SHA256"), Exception)
    finally:
        s.stop()


# ---- CONFIG SET of tls-* settings rebuilds the context --------------------------------------

def peer_cn(s, certs):
    """The CN of the certificate the server shows a new connection."""
    ctx = ssl.create_default_context(cafile=certs("ca.crt"))
    ctx.load_cert_chain(certs("client.crt"), certs("client.key"))
    with socket.create_connection(("127.0.0.1", s.tls_port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as t:
            subject = dict(x[0] for x in t.getpeercert()["subject"])
            t.sendall(b"PING\r\n")
            assert t.recv(16) == b"+PONG\r\n"
            return subject["commonName"]


@pytest.fixture(scope="module")
def second_cert(certs):
    """Another server certificate from the same CA (CN 'second', SAN 127.0.0.1)."""
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", certs("second.key"),
        "-out", certs("second.csr"), "-subj", "/CN=second")
    run("openssl", "x509", "-req", "-in", certs("second.csr"), "-CA", certs("ca.crt"), "-CAkey",
        certs("ca.key"), "-CAcreateserial", "-out", certs("second.crt"), "-days", "2",
        "-extfile", certs("ext.cnf"))
    return certs


def test_config_set_certificate_applies_to_new_connections(certs, second_cert):
    s = tls_server(certs)
    try:
        old = tls_client(s, certs)
        assert old.set("k", "v")
        assert peer_cn(s, certs) == "127.0.0.1"
        r = s.client()
        # a certificate without its key does not load: refused, and undone
        with pytest.raises(redis.ResponseError, match="tls-cert-file.*Unable to update TLS configuration"):
            r.config_set("tls-cert-file", certs("second.crt"))
        assert r.config_get("tls-cert-file")["tls-cert-file"] == certs("server.crt")
        assert peer_cn(s, certs) == "127.0.0.1"
        # both in one CONFIG SET: the next connections get the new one
        r.execute_command("CONFIG", "SET", "tls-cert-file", certs("second.crt"),
                          "tls-key-file", certs("second.key"))
        assert peer_cn(s, certs) == "second"
        assert old.get("k") == b"v"  # sessions made before keep going
        assert tls_client(s, certs).get("k") == b"v"
        with pytest.raises(redis.ResponseError, match="tls-ca-cert-file"):
            r.config_set("tls-ca-cert-file", certs("nonexistent.crt"))
        assert r.config_get("tls-ca-cert-file")["tls-ca-cert-file"] == certs("ca.crt")
        assert peer_cn(s, certs) == "second"
    finally:
        s.stop()


def test_config_set_protocols_and_auth_clients(certs):
    s = tls_server(certs)
    try:
        r = s.client()
        assert handshake(s, certs, max_version=ssl.TLSVersion.TLSv1_2)[0] == "TLSv1.2"
        assert r.config_set("tls-protocols", "TLSv1.3")
        assert isinstance(handshake(s, certs, max_version=ssl.TLSVersion.TLSv1_2), Exception)
        assert handshake(s, certs)[0] == "TLSv1.3"
        with pytest.raises(redis.ResponseError):
            r.config_set("tls-protocols", "TLSv9")
        assert handshake(s, certs)[0] == "TLSv1.3"
        with pytest.raises(redis.ConnectionError):  # no client certificate: refused
            tls_client(s, certs, with_cert=False).ping()
        assert r.config_set("tls-auth-clients", "no")
        assert tls_client(s, certs, with_cert=False).ping()
    finally:
        s.stop()
