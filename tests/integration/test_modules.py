"""
Module loading (issue #3): the out-of-tree example module built with pkg-config against a
`make install DESTDIR=...` of the build tree, the loader's refusals (each must stop start-up
with exit code 1, a precise message on stderr, and no listening socket), and module selection
(--modules, --module_dir, modules.d manifests, MODULE LOAD/UNLOAD).

Dragonfly only: Redis modules are a different ABI, so the whole file is skipped when
DF_TEST_SERVER=redis. The build directory is the directory of DRAGONFLY_BIN; the source top
is found from this file's location. Test modules are compiled here with gcc into temp dirs,
never inside the source tree.
"""
import os
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest
import redis

from conftest import SERVER_KIND, dragonfly_bin, fail_on_sanitizer_report, free_port

pytestmark = pytest.mark.skipif(SERVER_KIND == "redis",
                                reason="dragonfly's module ABI; redis-server has its own")

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.abspath(dragonfly_bin())
BUILD = os.path.dirname(BIN)
TEST_MODULES = os.path.join(TOP, "tests", "modules")
EXAMPLE = os.path.join(TOP, "examples", "hello-module")


def core_abi():
    text = open(os.path.join(TOP, "include", "dragonfly", "module.h")).read()
    major = int(re.search(r"#define DFM_ABI_MAJOR (\d+)", text).group(1))
    minor = int(re.search(r"#define DFM_ABI_MINOR (\d+)", text).group(1))
    return major, minor


def compile_module(src, out):
    subprocess.run(["gcc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
                    "-I" + os.path.join(TOP, "include"), "-o", out, src],
                   check=True, capture_output=True)
    return out


class ModServer:
    """A dragonfly we started with module flags (stopped by PID only)."""

    def __init__(self, args, binary=BIN, threads=1):
        self.port = free_port()
        self.cmd = [binary, "--port", str(self.port), "--bind", "127.0.0.1",
                    "--threads", str(threads), "--loglevel", "warning", "--save", ""] + list(args)
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode(errors="replace")
                raise RuntimeError(f"server exited with {self.proc.returncode}: {out}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("server did not start listening")

    def client(self):
        return redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True,
                           socket_timeout=20)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            out = self.proc.stdout.read()
            self.proc.stdout.close()
            self.proc.stdout = None
            fail_on_sanitizer_report(out)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def module_names(c):
    return [m["name"] for m in modules(c)]


def modules(c):
    out = []
    for entry in c.execute_command("MODULE", "LIST"):
        out.append(dict(zip(entry[::2], entry[1::2])))
    return out


# ---------------------------------------------------------------------------------------------
# a. The example module, built out of tree against an installed tree via pkg-config


def build_tree_prefix():
    """The prefix configure baked into the build tree's Makefile, or None."""
    mk = os.path.join(BUILD, "Makefile")
    if not os.path.exists(mk):
        return None
    m = re.search(r"^prefix = (.*)$", open(mk).read(), re.M)
    return m.group(1).strip() if m else None


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """`make install DESTDIR=stage`, then the example built with its own Makefile."""
    prefix = build_tree_prefix()
    if prefix is None or shutil.which("make") is None or shutil.which("pkg-config") is None:
        pytest.skip("needs an automake build tree, make and pkg-config")
    tmp = tmp_path_factory.mktemp("install")
    stage = str(tmp / "stage")
    r = subprocess.run(["make", "-C", BUILD, "install", "DESTDIR=" + stage],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    pcs = [os.path.join(d, f) for d, _, fs in os.walk(stage) for f in fs
           if f == "dragonfly-module.pc"]
    assert len(pcs) == 1, pcs
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0]), PKG_CONFIG_SYSROOT_DIR=stage)
    env.pop("PKG_CONFIG_LIBDIR", None)
    cflags = subprocess.run(["pkg-config", "--cflags", "dragonfly-module"], env=env,
                            capture_output=True, text=True, check=True).stdout
    assert "-I" + stage in cflags, cflags  # resolves into the staged include dir
    moduledir = subprocess.run(["pkg-config", "--variable=moduledir", "dragonfly-module"],
                               env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert moduledir.endswith("/dragonfly/modules"), moduledir
    # The staged module dir, whether or not this pkg-config prefixes variables with the sysroot.
    staged_moddir = moduledir if moduledir.startswith(stage) else stage + moduledir
    assert os.path.exists(os.path.join(staged_moddir, "strings.so"))

    ex = str(tmp / "hello-module")
    shutil.copytree(EXAMPLE, ex, ignore=shutil.ignore_patterns("*.so", "*.o"))
    r = subprocess.run(["make", "-C", ex, "CFLAGS=-O2 -Werror"], env=env, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    dest = str(tmp / "dest")
    r = subprocess.run(["make", "-C", ex, "install", "DESTDIR=" + dest], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    inst = [os.path.join(d, f) for d, _, fs in os.walk(dest) for f in fs if f == "hello.so"]
    assert len(inst) == 1 and inst[0].endswith("/dragonfly/modules/hello.so"), inst

    binary = os.path.join(stage + prefix, "bin", "dragonfly")
    assert os.access(binary, os.X_OK), binary
    return {"bin": binary, "moddir": staged_moddir, "hello": os.path.join(ex, "hello.so"),
            "stage": stage, "prefix": prefix, "pc": pcs[0]}


@pytest.fixture(scope="module")
def hello_server(installed):
    with ModServer(["--module_dir", installed["moddir"], "--loadmodule",
                    installed["hello"] + " first second", "--hello-greeting", "Howdy"],
                   binary=installed["bin"], threads=3) as s:
        yield s


def test_install_ships_header_and_pc(installed):
    root = installed["stage"] + installed["prefix"]
    assert os.path.exists(os.path.join(root, "include", "dragonfly", "module.h"))
    pc = open(installed["pc"]).read()
    assert re.search(r"^moduledir=", pc, re.M) and "Cflags:" in pc
    assert "@" not in pc  # every configure substitution done


def test_hello_module_list(hello_server):
    c = hello_server.client()
    mods = {m["name"]: m for m in modules(c)}
    assert set(mods) >= {"hello", "strings"}
    assert mods["hello"]["ver"] == 10000
    assert mods["hello"]["path"].endswith("/hello.so")
    assert mods["hello"]["args"] == ["first", "second"]


def test_hello_command_and_config(hello_server):
    c = hello_server.client()
    assert c.execute_command("HELLO.GREET", "world") == "Howdy, world!"
    assert c.config_get("hello-greeting") == {"hello-greeting": "Howdy"}
    with pytest.raises(redis.ResponseError):
        c.config_set("hello-greeting", "Hi")  # start-up only
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        c.execute_command("HELLO.GREET")


def test_hello_type(hello_server):
    c = hello_server.client()
    c.delete("cnt", "str")
    assert c.execute_command("HELLO.COUNTER", "cnt") == 1
    assert c.execute_command("HELLO.COUNTER", "cnt") == 2
    assert c.type("cnt") == "hellotype"
    assert c.object("encoding", "cnt") == "counter"
    assert c.copy("cnt", "cnt2", replace=True)  # the type's copy()
    assert c.execute_command("HELLO.COUNTER", "cnt2") == 3
    assert c.execute_command("HELLO.COUNTER", "cnt") == 3
    c.set("str", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        c.execute_command("HELLO.COUNTER", "str")
    assert c.delete("cnt", "cnt2", "str") == 3  # the type's free()


def test_hello_cross_shard_sum(hello_server):
    c = hello_server.client()
    keys = [f"sum:{i}" for i in range(20)]  # spread over the 3 shards
    c.delete(*keys)
    for i, k in enumerate(keys):
        for _ in range(i % 3 + 1):
            c.execute_command("HELLO.COUNTER", k)
    expect = sum(i % 3 + 1 for i in range(20))
    assert c.execute_command("HELLO.SUM", *keys, "sum:missing") == expect
    c.set("sum:str", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        c.execute_command("HELLO.SUM", *keys, "sum:str")
    c.delete(*keys, "sum:str")


def test_hello_blocking_wait(hello_server):
    c = hello_server.client()
    c.delete("waitkey")
    assert c.execute_command("HELLO.WAIT", "waitkey", "1") is None  # timeout: null array
    got = []
    t = threading.Thread(
        target=lambda: got.append(hello_server.client().execute_command("HELLO.WAIT", "waitkey", "0")))
    t.start()
    # Wait until the client is parked (if it is not yet, WAIT is served at once: same reply).
    deadline = time.time() + 5
    while time.time() < deadline and c.info("clients").get("blocked_clients", 0) < 1:
        time.sleep(0.02)
    c.execute_command("HELLO.COUNTER", "waitkey")
    t.join(10)
    assert got == [1]
    c.delete("waitkey")


@pytest.mark.xfail(reason="core block.c: after a timed-out wait and another client's served "
                          "wait on the key, a non-blocking HELLO.WAIT on the first connection "
                          "sometimes never replies (about 1 run in 10 with 3 threads)",
                   raises=redis.TimeoutError, strict=False)
def test_hello_wait_after_timeout_and_wakeup(hello_server):
    for _ in range(20):
        c = hello_server.client()
        c.connection_pool.connection_kwargs["socket_timeout"] = 5
        c.delete("wk")
        assert c.execute_command("HELLO.WAIT", "wk", "1") is None
        other = hello_server.client()
        got = []
        t = threading.Thread(target=lambda: got.append(other.execute_command("HELLO.WAIT", "wk", "0")))
        t.start()
        deadline = time.time() + 5
        while time.time() < deadline and c.info("clients").get("blocked_clients", 0) < 1:
            time.sleep(0.01)
        c.execute_command("HELLO.COUNTER", "wk")
        t.join(10)
        assert got == [1]
        assert c.execute_command("HELLO.WAIT", "wk", "0") == 1  # the key exists: served at once
        other.close()
        c.close()


def test_hello_info_section(hello_server):
    c = hello_server.client()
    c.execute_command("HELLO.GREET", "x")
    info = c.info("hello")
    assert info["hello_greeting"] == "Howdy"
    assert info["hello_greets"] >= 1
    assert info["hello_shards"] == 3  # one shard hook call per shard
    assert info["hello_args"] == 2
    assert "hello_greets" in c.execute_command("INFO", "everything")


# ---------------------------------------------------------------------------------------------
# b. Refusals: exit code 1, a precise message, never listening


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    """Every tests/modules/*.c compiled into a temp dir: {name: path}."""
    d = tmp_path_factory.mktemp("badmods")
    out = {}
    for f in sorted(os.listdir(TEST_MODULES)):
        if f.endswith(".c"):
            out[f[:-2]] = compile_module(os.path.join(TEST_MODULES, f), str(d / (f[:-2] + ".so")))
    return out


def refused(args):
    """Run the server expecting a refusal; returns its stderr (stdout is checked too)."""
    port = free_port()
    cmd = [BIN, "--port", str(port), "--bind", "127.0.0.1", "--threads", "1",
           "--loglevel", "warning"] + list(args)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail(f"server started despite a bad module: {cmd}")
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    lines = [line for line in p.stderr.splitlines() if line.startswith("dragonfly: ")]
    assert len(lines) == 1, p.stderr
    return lines[0]


def test_refuse_wrong_abi_major(bad):
    major, minor = core_abi()
    msg = refused(["--loadmodule", bad["bad_abi_major"]])
    assert bad["bad_abi_major"] in msg
    assert "ABI major mismatch" in msg
    assert f"core has {major}.{minor}" in msg and "module needs 99.0" in msg


def test_refuse_newer_minor(bad):
    major, minor = core_abi()
    msg = refused(["--loadmodule", bad["newer_minor"]])
    assert bad["newer_minor"] in msg
    assert f"needs ABI {major}.{minor + 1}" in msg and f"core has {major}.{minor}" in msg


def test_refuse_missing_entry_point(bad):
    msg = refused(["--loadmodule", bad["no_init"]])
    assert bad["no_init"] in msg and "missing entry point dfm_module_init" in msg


def test_refuse_not_a_module(bad):
    msg = refused(["--loadmodule", bad["not_module"]])
    assert bad["not_module"] in msg and "no dfm_module_descriptor symbol" in msg


def test_refuse_unloadable_file(tmp_path):
    path = str(tmp_path / "nothing.so")
    msg = refused(["--loadmodule", path])
    assert path in msg and "cannot load" in msg


def test_refuse_duplicate_command(bad):
    msg = refused(["--loadmodule", bad["dup_command"]])
    assert "'get'" in msg and "already registered" in msg
    assert "dupget" in msg and "strings" in msg  # both modules named


def test_refuse_unknown_flag(bad):
    msg = refused(["--loadmodule", bad["bad_flag"]])
    assert "badflag" in msg and bad["bad_flag"] in msg
    assert "unknown flag 'bogusflag'" in msg


def test_refuse_missing_dependency(bad):
    msg = refused(["--loadmodule", bad["missing_dep"]])
    assert "needy" in msg and bad["missing_dep"] in msg
    assert "requires module 'nosuchmodule'" in msg and "not loaded" in msg


def test_refuse_duplicate_module_name(bad, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    shutil.copy(bad["good"], a / "good.so")
    shutil.copy(bad["good"], b / "good.so")
    msg = refused(["--loadmodule", str(a / "good.so"), "--loadmodule", str(b / "good.so")])
    assert "good" in msg and "loaded twice" in msg
    assert str(a / "good.so") in msg and str(b / "good.so") in msg


def test_refuse_bad_manifest(tmp_path):
    (tmp_path / "broken.ini").write_text("[module]\nname = broken\n")  # no path=
    msg = refused(["--modules_conf_dir", str(tmp_path)])
    assert str(tmp_path / "broken.ini") in msg and "path=" in msg


def test_good_module_loads(bad):
    with ModServer(["--loadmodule", bad["good"]]) as s:
        c = s.client()
        assert c.execute_command("GOOD.PING") == "GOOD"
        good = [m for m in modules(c) if m["name"] == "good"]
        assert good and good[0]["ver"] == 10203 and good[0]["path"] == bad["good"]


# ---------------------------------------------------------------------------------------------
# c. Selecting modules


@pytest.fixture(scope="module")
def hello_so(tmp_path_factory):
    d = tmp_path_factory.mktemp("hello")
    return compile_module(os.path.join(EXAMPLE, "hello.c"), str(d / "hello.so"))


def test_modules_flag_selects(tmp_path):
    with ModServer(["--modules=strings"]) as s:
        c = s.client()
        assert module_names(c) == ["strings"]
        c.set("k", "v")
        assert c.get("k") == "v"


def test_empty_module_dir_loads_none(tmp_path):
    with ModServer(["--module_dir", str(tmp_path)]) as s:
        c = s.client()
        assert module_names(c) == []
        with pytest.raises(redis.ResponseError, match="unknown command 'GET'"):
            c.execute_command("GET", "k")
        assert c.ping()  # core commands stay


def write_manifest(d, name, path, args=None, enabled=None):
    lines = ["; test manifest", "[module]", f"name = {name}", f"path = {path}"]
    if args is not None:
        lines.append(f"args = {args}")
    if enabled is not None:
        lines.append(f"enabled = {enabled}")
    (d / f"{name}.ini").write_text("\n".join(lines) + "\n")


def test_manifest_loads_with_args(tmp_path, hello_so):
    write_manifest(tmp_path, "hello", hello_so, args="alpha beta gamma", enabled="yes")
    with ModServer(["--modules_conf_dir", str(tmp_path)]) as s:
        c = s.client()
        mods = {m["name"]: m for m in modules(c)}
        assert "hello" in mods and "strings" in mods
        assert mods["hello"]["args"] == ["alpha", "beta", "gamma"]
        assert mods["hello"]["path"] == hello_so
        assert c.execute_command("HELLO.GREET", "ini") == "Hello, ini!"  # default greeting
        assert c.info("hello")["hello_args"] == 3


def test_manifest_disabled_is_skipped(tmp_path, hello_so):
    write_manifest(tmp_path, "hello", hello_so, enabled="no")
    with ModServer(["--modules_conf_dir", str(tmp_path)]) as s:
        c = s.client()
        assert "hello" not in module_names(c)
        with pytest.raises(redis.ResponseError, match="unknown command"):
            c.execute_command("HELLO.GREET", "x")


@pytest.mark.parametrize("enabled", ["yes", "no"])
def test_manifest_overrides_module_dir(tmp_path, hello_so, enabled):
    """A distro package ships x.so in the module dir and modules.d/x.ini: the manifest rules."""
    moddir, confdir = tmp_path / "modules", tmp_path / "modules.d"
    moddir.mkdir()
    confdir.mkdir()
    shutil.copy(hello_so, moddir / "hello.so")
    write_manifest(confdir, "hello", str(moddir / "hello.so"), args="from manifest",
                   enabled=enabled)
    with ModServer(["--module_dir", str(moddir), "--modules_conf_dir", str(confdir)]) as s:
        mods = {m["name"]: m for m in modules(s.client())}
        if enabled == "no":
            assert "hello" not in mods
        else:
            assert mods["hello"]["args"] == ["from", "manifest"]


def test_module_load_unload_refused():
    with ModServer([]) as s:
        c = s.client()
        with pytest.raises(redis.ResponseError, match="not supported at runtime"):
            c.execute_command("MODULE", "LOAD", "/tmp/x.so")
        with pytest.raises(redis.ResponseError, match="not supported at runtime"):
            c.execute_command("MODULE", "UNLOAD", "strings")


def test_refuse_example_built_for_another_abi(tmp_path):
    """The example module itself, built against a header from a different ABI major."""
    major, minor = core_abi()
    inc = tmp_path / "include" / "dragonfly"
    inc.mkdir(parents=True)
    text = open(os.path.join(TOP, "include", "dragonfly", "module.h")).read()
    text = re.sub(r"#define DFM_ABI_MAJOR \d+", f"#define DFM_ABI_MAJOR {major + 1}", text)
    (inc / "module.h").write_text(text)
    out = str(tmp_path / "hello.so")
    subprocess.run(["gcc", "-std=gnu11", "-shared", "-fPIC", "-I" + str(tmp_path / "include"),
                    "-o", out, os.path.join(EXAMPLE, "hello.c")], check=True, capture_output=True)
    msg = refused(["--loadmodule", out])
    assert out in msg and "ABI major mismatch" in msg
    assert f"core has {major}.{minor}" in msg and f"module needs {major + 1}." in msg
