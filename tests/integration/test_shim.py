"""Integration tests of isulad-shim driven directly with runc (no daemon).

Run as root: /usr/bin/python3 -m pytest tests/integration/test_shim.py
The shim binary is $ISULAD_SHIM, or is compiled from src/cmd/isulad-shim/*.c and src/common/base/*.c into a
temp dir.
"""
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUSYBOX = "/bin/busybox"
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
APPLETS = ["sh", "echo", "cat", "sleep", "stty", "true", "false", "seq", "ls", "printf"]

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("runc") is None or not os.path.exists(BUSYBOX),
    reason="needs root, runc and a static busybox",
)


@pytest.fixture(scope="session")
def shim_bin():
    path = os.environ.get("ISULAD_SHIM")
    if path:
        yield path
        return
    out = tempfile.mkdtemp(prefix="shim-bin-")
    exe = os.path.join(out, "isulad-shim")
    # the shim's own sources and the libc-only base it shares with the daemon
    srcs = sorted(
        os.path.join(REPO, d, f)
        for d in ("src/cmd/isulad-shim", "src/common/base")
        for f in os.listdir(os.path.join(REPO, d))
        if f.endswith(".c")
    )
    subprocess.run(
        ["gcc", "-std=gnu11", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
         "-Wno-missing-field-initializers", "-I", os.path.join(REPO, "src"), "-o", exe] + srcs,
        check=True,
    )
    yield exe
    shutil.rmtree(out, ignore_errors=True)


class Env:
    """A temp dir holding the runc root, bundles and state dirs of one test."""

    def __init__(self, shim):
        self.shim = shim
        self.dir = tempfile.mkdtemp(prefix="shim-test-")
        self.root = os.path.join(self.dir, "runc-root")
        self.ids = []
        self.state_dirs = []
        self.n = 0

    def bundle(self, args, terminal=False):
        self.n += 1
        b = os.path.join(self.dir, "bundle%d" % self.n)
        os.makedirs(os.path.join(b, "rootfs/bin"))
        for d in ("proc", "dev", "sys", "tmp"):
            os.makedirs(os.path.join(b, "rootfs", d), exist_ok=True)
        shutil.copy(BUSYBOX, os.path.join(b, "rootfs/bin/busybox"))
        for a in APPLETS:
            os.symlink("busybox", os.path.join(b, "rootfs/bin", a))
        subprocess.run(["runc", "spec"], cwd=b, check=True)
        with open(os.path.join(b, "config.json")) as f:
            spec = json.load(f)
        spec["process"]["args"] = args
        spec["process"]["terminal"] = terminal
        spec["root"]["readonly"] = False
        with open(os.path.join(b, "config.json"), "w") as f:
            json.dump(spec, f)
        return b

    def state(self):
        self.n += 1
        d = os.path.join(self.dir, "state%d" % self.n)
        os.makedirs(d)
        self.state_dirs.append(d)
        return d

    def new_id(self):
        cid = "shimtest-%d-%d" % (os.getpid(), len(self.ids) + int(time.time() * 1000) % 100000)
        self.ids.append(cid)
        return cid

    def run_shim(self, cid, state, bundle=None, extra=(), sync=True, attach=False):
        """Starts the shim; returns the reader of its sync messages. With attach, the shim gets one end of a
        socketpair as an attach client from its start (--attach-fd) and (sync reader, Client) is returned."""
        argv = [self.shim, "--id", cid, "--bundle", bundle or state, "--runtime", "runc",
                "--runtime-root", self.root, "--state-dir", state] + list(extra)
        rfd = wfd = None
        fds = []
        if sync:
            rfd, wfd = os.pipe()
            argv += ["--sync-fd", str(wfd)]
            fds.append(wfd)
        if attach:
            mine, theirs = socket.socketpair()
            argv += ["--attach-fd", str(theirs.fileno())]
            fds.append(theirs.fileno())
        p = subprocess.run(argv, pass_fds=fds, timeout=10, capture_output=True)
        if attach:
            theirs.close()
        assert p.returncode == 0, p.stderr
        if wfd is not None:
            os.close(wfd)
        reader = SyncReader(rfd) if sync else []
        return (reader, Client(sock=mine)) if attach else reader

    def runc(self, *args, check=True):
        return subprocess.run(["runc", "--root", self.root] + list(args), check=check, capture_output=True,
                              timeout=20)

    def cleanup(self):
        for cid in self.ids:
            self.runc("delete", "-f", cid, check=False)
        for d in self.state_dirs:
            try:
                with open(os.path.join(d, "shim.pid")) as f:
                    pid = int(f.read())
                if os.path.exists(os.path.join(d, "attach")):
                    os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError):
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


class SyncReader:
    def __init__(self, fd):
        self.fd = fd
        self.buf = b""

    def line(self, timeout=15):
        end = time.time() + timeout
        while b"\n" not in self.buf:
            r, _, _ = select.select([self.fd], [], [], max(0, end - time.time()))
            assert r, "timeout waiting for the sync fd"
            chunk = os.read(self.fd, 4096)
            if not chunk:
                break
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line) if line else None

    def close(self):
        os.close(self.fd)


@pytest.fixture
def env(shim_bin):
    e = Env(shim_bin)
    yield e
    e.cleanup()


class Client:
    def __init__(self, state=None, sock=None):
        self.s = sock or socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(15)
        if sock is None:
            self.s.connect(os.path.join(state, "attach"))
        self.buf = b""

    def send(self, typ, payload=b""):
        self.s.sendall(struct.pack(">BxxxI", typ, len(payload)) + payload)

    def frame(self):
        while True:
            if len(self.buf) >= 8:
                typ, n = struct.unpack(">BxxxI", self.buf[:8])
                if len(self.buf) >= 8 + n:
                    payload = self.buf[8:8 + n]
                    self.buf = self.buf[8 + n:]
                    return typ, payload
            chunk = self.s.recv(65536)
            if not chunk:
                return None, None
            self.buf += chunk

    def read_until_exit(self):
        out = {1: b"", 2: b""}
        while True:
            typ, payload = self.frame()
            assert typ is not None, "connection closed before the exit frame"
            if typ == 5:
                return out, int(payload)
            out[typ] += payload


def wait_file(path, timeout=15):
    end = time.time() + timeout
    while not os.path.exists(path):
        assert time.time() < end, "timeout waiting for %s" % path
        time.sleep(0.02)
    with open(path) as f:
        return f.read()


def read_log(path):
    entries = []
    with open(path) as f:
        for line in f:
            e = json.loads(line)
            assert set(e) == {"log", "stream", "time"}
            assert TIME_RE.match(e["time"]), e["time"]
            entries.append(e)
    return entries


def test_log_and_exit_code(env):
    b = env.bundle(["sh", "-c", "echo hello; echo 'quote\" tab\t' >&2; exit 3"])
    st, cid = env.state(), env.new_id()
    log = os.path.join(st, "ctr.log")
    sync = env.run_shim(cid, st, b, ["--log-file", log])
    msg = sync.line()
    assert msg["pid"] > 0
    assert sync.line() is None  # closed after the pid
    assert os.path.exists(os.path.join(st, "shim.pid"))
    assert oct(os.stat(os.path.join(st, "attach")).st_mode & 0o777) == "0o600"
    env.runc("start", cid)
    ex = json.loads(wait_file(os.path.join(st, "exit")))
    assert ex["exit_code"] == 3
    assert TIME_RE.match(ex["exited_at"])
    entries = read_log(log)
    assert {"log": "hello\n", "stream": "stdout"} in [{k: e[k] for k in ("log", "stream")} for e in entries]
    assert any(e["stream"] == "stderr" and e["log"] == 'quote" tab\t\n' for e in entries)
    assert oct(os.stat(log).st_mode & 0o777) == "0o600"
    end = time.time() + 5
    while os.path.exists(os.path.join(st, "attach")) and time.time() < end:
        time.sleep(0.02)
    assert not os.path.exists(os.path.join(st, "attach"))
    sync.close()


def test_attach_frames_two_clients(env):
    b = env.bundle(["sh", "-c", "sleep 0.3; echo out; echo err >&2; exit 7"])
    st, cid = env.state(), env.new_id()
    sync = env.run_shim(cid, st, b)
    assert sync.line()["pid"] > 0
    c1, c2 = Client(st), Client(st)
    time.sleep(0.1)
    env.runc("start", cid)
    for c in (c1, c2):
        out, code = c.read_until_exit()
        assert out[1] == b"out\n" and out[2] == b"err\n" and code == 7
    assert json.loads(wait_file(os.path.join(st, "exit")))["exit_code"] == 7


def test_stdin_to_cat(env):
    b = env.bundle(["cat"])
    st, cid = env.state(), env.new_id()
    sync = env.run_shim(cid, st, b, ["--stdin"])
    assert sync.line()["pid"] > 0
    c = Client(st)
    env.runc("start", cid)
    c.send(0, b"hello ")
    c.send(0, b"world\n")
    got = b""
    while got != b"hello world\n":
        typ, payload = c.frame()
        assert typ == 1
        got += payload
    c.send(3)
    out, code = c.read_until_exit()
    assert code == 0


def test_tty_resize(env):
    b = env.bundle(["sh", "-c", "read x; stty size; exit 4"], terminal=True)
    st, cid = env.state(), env.new_id()
    log = os.path.join(st, "ctr.log")
    sync = env.run_shim(cid, st, b, ["--terminal", "--stdin", "--log-file", log])
    assert sync.line()["pid"] > 0
    c = Client(st)
    env.runc("start", cid)
    c.send(4, struct.pack(">HH", 33, 101))
    c.send(0, b"go\n")
    out, code = c.read_until_exit()
    assert code == 4
    assert out[2] == b""
    assert b"33 101" in out[1]
    entries = read_log(log)
    assert all(e["stream"] == "stdout" for e in entries)
    assert "33 101" in "".join(e["log"] for e in entries)


def test_tty_end_of_input_is_the_terminals_eof(env):
    # type 7 with a tty: the terminal's ^D after the queued stdin, twice after a line not ended; the pty stays open
    b = env.bundle(["sh", "-c", "cat; echo done"], terminal=True)
    st, cid = env.state(), env.new_id()
    sync = env.run_shim(cid, st, b, ["--terminal", "--stdin"])
    assert sync.line()["pid"] > 0
    c = Client(st)
    env.runc("start", cid)
    c.send(0, b"ab")
    c.send(3)  # close stdin: ignored with a tty (Docker's rule)
    c.send(7)
    out, code = c.read_until_exit()
    assert out[1] == b"ababdone\r\n" and code == 0  # the echo of "ab", cat's copy, then cat saw EOF


def test_tty_end_of_input_in_non_canonical_mode(env):
    # without ICANON the ^D is only a byte, typed once after the stdin before it
    b = env.bundle(["sh", "-c", "stty -icanon -echo; echo raw; dd bs=1 count=2 2>/dev/null | od -An -tx1"],
                   terminal=True)
    st, cid = env.state(), env.new_id()
    sync = env.run_shim(cid, st, b, ["--terminal", "--stdin"])
    assert sync.line()["pid"] > 0
    c = Client(st)
    env.runc("start", cid)
    got = b""
    while b"raw\r\n" not in got:
        typ, payload = c.frame()
        assert typ == 1, got
        got += payload
    c.send(0, b"x")
    c.send(7)
    out, code = c.read_until_exit()
    assert code == 0 and out[1].split() == [b"78", b"04"]


def write_process(path, args, terminal=False):
    with open(path, "w") as f:
        json.dump({"args": args, "cwd": "/", "terminal": terminal, "user": {"uid": 0, "gid": 0},
                   "env": ["PATH=/bin", "TERM=xterm"]}, f)


def test_exec_with_attach_fd(env):
    b = env.bundle(["sleep", "100"])
    st, cid = env.state(), env.new_id()
    sync = env.run_shim(cid, st, b)
    assert sync.line()["pid"] > 0
    env.runc("start", cid)
    est = env.state()
    proc = os.path.join(est, "process.json")
    write_process(proc, ["sh", "-c", "echo fromexec; echo e2 >&2; exit 5"])
    esync, c = env.run_shim(cid, est, None, ["--exec", proc], attach=True)
    assert esync.line()["pid"] > 0
    out, code = c.read_until_exit()
    assert (out[1], out[2], code) == (b"fromexec\n", b"e2\n", 5)
    assert json.loads(wait_file(os.path.join(est, "exit")))["exit_code"] == 5
    # the container itself is still served; killing it gives 128+9
    env.runc("kill", cid, "KILL")
    assert json.loads(wait_file(os.path.join(st, "exit")))["exit_code"] == 137


def test_exec_tty(env):
    b = env.bundle(["sleep", "100"])
    st, cid = env.state(), env.new_id()
    sync = env.run_shim(cid, st, b)
    assert sync.line()["pid"] > 0
    env.runc("start", cid)
    est = env.state()
    proc = os.path.join(est, "process.json")
    write_process(proc, ["sh", "-c", "stty size; exit 2"], terminal=True)
    esync, c = env.run_shim(cid, est, None, ["--exec", proc, "--terminal"], attach=True)
    assert esync.line()["pid"] > 0
    out, code = c.read_until_exit()
    assert code == 2 and out[1].strip()
    env.runc("kill", cid, "KILL")
    wait_file(os.path.join(st, "exit"))


def test_rotation(env):
    b = env.bundle(["sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line$i; i=$((i+1)); done"])
    st, cid = env.state(), env.new_id()
    log = os.path.join(st, "ctr.log")
    sync = env.run_shim(cid, st, b, ["--log-file", log, "--log-max-size", "2000", "--log-max-file", "3"])
    assert sync.line()["pid"] > 0
    env.runc("start", cid)
    wait_file(os.path.join(st, "exit"))
    assert os.path.exists(log + ".1") and os.path.exists(log + ".2")
    assert not os.path.exists(log + ".3")
    for p in (log, log + ".1", log + ".2"):
        assert os.path.getsize(p) < 2000 + 200
        read_log(p)
    last = read_log(log)[-1]["log"]
    assert last == "line299\n"
    # files are in order: .2 older than .1 older than current
    first_of = [int(read_log(p)[0]["log"][4:]) for p in (log + ".2", log + ".1", log)]
    assert first_of == sorted(first_of)


def test_rotation_single_file_truncates(env):
    b = env.bundle(["sh", "-c", "i=0; while [ $i -lt 100 ]; do echo line$i; i=$((i+1)); done"])
    st, cid = env.state(), env.new_id()
    log = os.path.join(st, "ctr.log")
    sync = env.run_shim(cid, st, b, ["--log-file", log, "--log-max-size", "1000", "--log-max-file", "1"])
    assert sync.line()["pid"] > 0
    env.runc("start", cid)
    wait_file(os.path.join(st, "exit"))
    assert not os.path.exists(log + ".1")
    assert read_log(log)[-1]["log"] == "line99\n"
    assert os.path.getsize(log) < 1200


def test_bad_runtime_args(env):
    b = env.bundle(["true"])
    st, cid = env.state(), env.new_id()
    sync = env.run_shim(cid, st, b, ["--runtime-arg", "--bogus-flag"])
    msg = sync.line()
    print("failure message:", msg)
    assert msg["pid"] == -1 and msg["message"], msg
    assert "\n" not in msg["message"]
    time.sleep(0.2)
    assert not os.path.exists(os.path.join(st, "attach"))


def test_missing_bundle_reports_runtime_error(env):
    st, cid = env.state(), env.new_id()
    sync = env.run_shim(cid, st, os.path.join(env.dir, "no-such-bundle"))
    msg = sync.line()
    print("failure message:", msg)
    assert msg["pid"] == -1 and msg["message"], msg


def test_bad_arguments_exit_2(env):
    p = subprocess.run([env.shim, "--bundle", "/x"], capture_output=True, timeout=5)
    assert p.returncode == 2
    assert p.stderr.count(b"\n") == 1
    p = subprocess.run([env.shim, "--nope"], capture_output=True, timeout=5)
    assert p.returncode == 2
    st = env.state()
    p = subprocess.run([env.shim, "--id", "x", "--bundle", st, "--runtime", "runc", "--runtime-root", env.root,
                        "--state-dir", st, "--attach-fd", "99"], capture_output=True, timeout=5)
    assert p.returncode == 2 and b"--attach-fd must be an open file descriptor" in p.stderr


def test_output_without_clients_is_logged_and_rss_small(env):
    b = env.bundle(["sh", "-c", "seq 1 20000; sleep 1"])
    st, cid = env.state(), env.new_id()
    log = os.path.join(st, "ctr.log")
    sync = env.run_shim(cid, st, b, ["--log-file", log])
    assert sync.line()["pid"] > 0
    env.runc("start", cid)
    time.sleep(0.5)
    with open(os.path.join(st, "shim.pid")) as f:
        shim_pid = int(f.read())
    with open("/proc/%d/status" % shim_pid) as f:
        status = f.read()
    rss = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
    anon = int(re.search(r"RssAnon:\s+(\d+) kB", status).group(1))
    print("shim VmRSS: %d kB (RssAnon %d kB; the rest is libc text shared with other processes)" % (rss, anon))
    # VmRSS counts shared libc pages mapped by fault-around, which varies from run to run.
    assert anon < 512, anon
    assert rss < 2048, rss
    os.kill(shim_pid, signal.SIGTERM)  # ignored by the shim
    assert json.loads(wait_file(os.path.join(st, "exit")))["exit_code"] == 0
    text = "".join(e["log"] for e in read_log(log))
    assert text == "".join("%d\n" % i for i in range(1, 20001))


def count_log_lines(log):
    n = 0
    with open(log) as f:
        for line in f:
            n += json.loads(line)["log"].count("\n")
    return n


def shim_pid_of(state):
    with open(os.path.join(state, "shim.pid")) as f:
        return int(f.read())


def test_slow_client_gets_every_byte_and_the_exit(env):
    """A client that reads late and slowly holds the container's output back instead of losing it."""
    b = env.bundle(["sh", "-c", "seq 1 1000000; exit 3"])
    st, cid = env.state(), env.new_id()
    log = os.path.join(st, "ctr.log")
    sync, client = env.run_shim(cid, st, b, ["--log-file", log], attach=True)
    assert sync.line()["pid"] > 0
    env.runc("start", cid)
    time.sleep(3)
    assert not os.path.exists(os.path.join(st, "exit")), "the container did not wait for its reader"
    client.s.settimeout(60)
    out, code = client.read_until_exit()
    assert code == 3
    assert out[1] == "".join("%d\n" % i for i in range(1, 1000001)).encode()
    assert count_log_lines(log) == 1000000


def test_client_that_goes_away_releases_the_container(env):
    b = env.bundle(["sh", "-c", "seq 1 1000000"])
    st, cid = env.state(), env.new_id()
    log = os.path.join(st, "ctr.log")
    sync, client = env.run_shim(cid, st, b, ["--log-file", log], attach=True)
    assert sync.line()["pid"] > 0
    env.runc("start", cid)
    time.sleep(2)
    assert count_log_lines(log) < 1000000  # held back by the client that reads nothing
    client.s.close()
    assert json.loads(wait_file(os.path.join(st, "exit"), timeout=60))["exit_code"] == 0
    assert count_log_lines(log) == 1000000


def test_client_stalled_after_exit_is_dropped(env):
    """Output queued for a client that takes nothing after the exit: the shim waits --client-stall-ms, then
    drops it and ends, so the exit is recorded and reported."""
    b = env.bundle(["sh", "-c", "seq 1 50000"])  # more than the socket holds, less than holds the writer back
    st, cid = env.state(), env.new_id()
    sync, client = env.run_shim(cid, st, b, ["--client-stall-ms", "1500"], attach=True)
    client.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    assert sync.line()["pid"] > 0
    shim_pid = shim_pid_of(st)
    env.runc("start", cid)
    assert json.loads(wait_file(os.path.join(st, "exit"), timeout=30))["exit_code"] == 0
    assert os.path.exists("/proc/%d" % shim_pid)  # still waiting for the client
    end = time.time() + 30
    while os.path.exists("/proc/%d" % shim_pid) and open("/proc/%d/stat" % shim_pid).read().split()[2] != "Z":
        assert time.time() < end, "the shim kept waiting for a stalled client"
        time.sleep(0.1)
    client.s.settimeout(5)
    got = b""
    while True:
        chunk = client.s.recv(1 << 20)
        if not chunk:
            break
        got += chunk
    assert b"\x05\x00\x00\x00" not in got[-16:]  # cut off before its exit frame


def test_survives_closed_sync_fd(env):
    """The daemon may die (sync pipe closed) while the shim runs the runtime."""
    b = env.bundle(["sh", "-c", "echo alive"])
    st, cid = env.state(), env.new_id()
    log = os.path.join(st, "ctr.log")
    sync = env.run_shim(cid, st, b, ["--log-file", log])
    sync.close()
    end = time.time() + 10
    while not os.path.exists(os.path.join(st, "pid")) and time.time() < end:
        time.sleep(0.02)
    time.sleep(0.1)
    env.runc("start", cid)
    assert json.loads(wait_file(os.path.join(st, "exit")))["exit_code"] == 0
    assert read_log(log)[0]["log"] == "alive\n"
