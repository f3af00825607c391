"""`isula exec`, `logs` and `attach` against the session isulad: output, stdin, ptys and exit codes."""
import datetime
import os
import re
import select
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import bin_path
from test_isula_containers import names, run_in_pty, tmpdir_host, wait_until  # noqa: F401 (fixtures)

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) ")


def popen_isula(isula, *args, stdin=subprocess.DEVNULL):
    env = dict(os.environ, ISULAD_HOST=isula.daemon.host)
    return subprocess.Popen([bin_path("isula")] + list(args), stdin=stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)


def read_line(p, timeout=30):
    """Reads one line of p's stdout, failing instead of hanging if none comes."""
    r, _, _ = select.select([p.stdout], [], [], timeout)
    assert r, "no output from %s" % p.args
    return p.stdout.readline().decode()


@pytest.fixture
def sleeper(isula, names):
    n = names()
    isula.ok("run", "-d", "--name", n, "busybox", "sleep", "300")
    return n


# ---- exec ---------------------------------------------------------------------------------------------


def test_exec_output_and_exit_code(isula, sleeper):
    assert isula.ok("exec", sleeper, "echo", "hi") == "hi"
    r = isula("exec", sleeper, "sh", "-c", "echo out; echo err >&2; exit 7")
    assert (r.returncode, r.stdout, r.stderr) == (7, "out\n", "err\n")


def test_exec_env_user_workdir(isula, sleeper):
    out = isula.ok("exec", "-e", "FOO=bar", "-u", "1000", "-w", "/tmp", sleeper, "sh", "-c",
                   'echo "$FOO"; id -u; pwd')
    assert out.splitlines() == ["bar", "1000", "/tmp"]


def test_exec_inherits_container_settings(isula, names):
    n = names()
    isula.ok("run", "-d", "--name", n, "-w", "/tmp", "-e", "CE=fromrun", "-u", "1000", "busybox", "sleep", "300")
    assert isula.ok("exec", n, "sh", "-c", "pwd; echo $CE; id -u").splitlines() == ["/tmp", "fromrun", "1000"]
    assert isula.ok("exec", "-u", "0", n, "id", "-u") == "0"


def test_exec_ends_when_the_container_dies(isula, sleeper):
    p = popen_isula(isula, "exec", sleeper, "sh", "-c", "echo started; sleep 300")
    try:
        assert read_line(p) == "started\n"
        isula.ok("kill", sleeper)
        p.communicate(timeout=30)
        assert p.returncode == 137
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_exec_interactive_stdin(isula, sleeper):
    r = isula("exec", "-i", sleeper, "sh", "-c", "tr a-z A-Z; exit 2", input="piped in\n")
    assert (r.returncode, r.stdout) == (2, "PIPED IN\n")


def test_exec_tty(isula, sleeper):
    env = dict(os.environ, ISULAD_HOST=isula.daemon.host)
    rc, out = run_in_pty([bin_path("isula"), "exec", "-it", sleeper, "sh", "-c", "tty; exit 4"], env=env)
    assert rc == 4, out
    assert re.search(r"/dev/pts/\d+", out), out


def test_exec_on_a_terminal_defaults_to_it(isula, sleeper):
    """Guide C-exec-03: without -i/-t, on a terminal, exec behaves as -it."""
    env = dict(os.environ, ISULAD_HOST=isula.daemon.host)
    rc, out = run_in_pty([bin_path("isula"), "exec", sleeper, "sh", "-c", "tty; exit 3"], env=env)
    assert rc == 3, out
    assert re.search(r"/dev/pts/\d+", out), out
    r = isula("exec", sleeper, "sh", "-c", "tty; exit 0")  # no terminal: no pty
    assert r.stdout.strip() == "not a tty"


def test_exec_detached(isula, sleeper):
    out = isula.ok("exec", "-d", sleeper, "sh", "-c", "echo detached > /tmp/exec-d")
    assert "detached" not in out
    wait_until(lambda: isula("exec", sleeper, "cat", "/tmp/exec-d").stdout == "detached\n", "the detached exec")


def test_exec_in_stopped_container_fails(isula, names):
    n = names()
    isula.ok("create", "--name", n, "busybox", "true")
    r = isula("exec", n, "true")
    assert r.returncode != 0
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


# ---- logs ---------------------------------------------------------------------------------------------


@pytest.fixture
def five_lines(isula, names):
    n = names()
    isula.ok("run", "--name", n, "busybox", "sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; echo err >&2")
    return n


def test_logs_all_and_tail(isula, five_lines):
    r = isula("logs", five_lines)
    assert r.returncode == 0
    assert r.stdout.splitlines() == ["line1", "line2", "line3", "line4", "line5"]
    assert r.stderr == "err\n"
    r = isula("logs", "--tail", "2", five_lines)
    assert r.stdout == "line5\n" and r.stderr == "err\n"
    r = isula("logs", "--tail", "3", five_lines)
    assert r.stdout.splitlines() == ["line4", "line5"] and r.stderr == "err\n"
    assert isula.ok("logs", "--tail", "0", five_lines) == ""


def test_logs_timestamps(isula, five_lines):
    lines = isula.ok("logs", "-t", five_lines).splitlines()
    assert len(lines) == 5
    for line in lines:
        assert TS.match(line), line
    assert [line.split(" ", 1)[1] for line in lines] == ["line%d" % i for i in range(1, 6)]


def test_logs_since(isula, five_lines):
    assert isula.ok("logs", "--since", "1h", five_lines).splitlines()[-1] == "line5"
    future = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    r = isula("logs", "--since", future, five_lines)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""


def logs_bytes(isula, *args):
    r = subprocess.run([bin_path("isula"), "-H", isula.daemon.host, "logs"] + list(args), capture_output=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout, r.stderr


def test_logs_bytes_kept_exactly(isula, names):
    # escapes, a NUL, raw control bytes and UTF-8 come back as written; a byte that is not UTF-8 becomes U+FFFD
    # as in Docker's json-file (the log reader decodes the shim's lines without a JSON parser)
    n = names()
    isula.ok("run", "-d", "--name", n, "busybox", "printf",
             r'tab\there "q" back\\slash \001 nul\000end \303\251 \342\202\254 \360\237\230\200 bad\377x\n')
    isula.ok("wait", n)
    want = b'tab\there "q" back\\slash \x01 nul\x00end \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 bad\xef\xbf\xbdx\n'
    assert logs_bytes(isula, n) == (want, b"")
    assert logs_bytes(isula, "--tail", "1", n) == (want, b"")
    out, _ = logs_bytes(isula, "-t", n)
    assert TS.match(out.decode(errors="replace")) and out.split(b" ", 1)[1] == want


def test_logs_of_many_lines_complete_and_client_can_stop(isula, names):
    n = names()
    isula.ok("run", "--name", n, "busybox", "sh", "-c", "seq 1 300000; seq 1 1000 >&2")
    out, err = logs_bytes(isula, n)
    assert out == b"".join(b"%d\n" % i for i in range(1, 300001))
    assert err == b"".join(b"%d\n" % i for i in range(1, 1001))
    # a reader that stops early ends the stream: isula exits instead of writing the rest
    p = subprocess.run("%s -H %s logs %s | head -n 2" % (bin_path("isula"), isula.daemon.host, n), shell=True,
                       capture_output=True, timeout=60)
    assert p.stdout == b"1\n2\n"


def test_logs_follow(isula, tmpdir_host, names):
    n = names()
    isula.ok("run", "-d", "--name", n, "-v", tmpdir_host + ":/data", "busybox", "sh", "-c",
             "echo first; while [ ! -e /data/go ]; do sleep 0.05; done; echo second")
    p = popen_isula(isula, "logs", "-f", n)
    try:
        assert read_line(p) == "first\n"
        open(os.path.join(tmpdir_host, "go"), "w").close()
        assert read_line(p) == "second\n"
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0 and out == b"", err
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


# ---- attach -------------------------------------------------------------------------------------------


def test_attach_receives_output(isula, names):
    n = names()
    isula.ok("run", "-d", "--name", n, "busybox", "sh", "-c", "while :; do echo tick; sleep 0.1; done")
    p = popen_isula(isula, "attach", n)
    try:
        assert read_line(p) == "tick\n"
        isula.ok("kill", n)
        p.communicate(timeout=30)
        assert p.returncode == 137
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_attach_stdin(isula, names):
    n = names()
    isula.ok("run", "-d", "-i", "--name", n, "busybox", "sh", "-c", "read x; echo got:$x; exit 4")
    r = isula("attach", n, input="hello\n")
    assert r.stdout == "got:hello\n"
    assert r.returncode == 4
    assert isula.inspect(n)["State"]["ExitCode"] == 4


def test_start_attach(isula, names):
    n = names()
    isula.ok("create", "--name", n, "busybox", "sh", "-c", "echo started; exit 6")
    r = isula("start", "-a", n)
    assert r.stdout == "started\n" and r.returncode == 6
    r = isula("start", "-a", n)  # again, now that it has exited
    assert r.stdout == "started\n" and r.returncode == 6, r.stderr
    assert isula.ok("logs", n).splitlines() == ["started", "started"]


def test_start_attach_interactive_exited(isula, names):
    n = names()
    assert isula("run", "-i", "--name", n, "busybox", "sh", "-c", "read x; echo got-$x", input="one\n").stdout \
        == "got-one\n"
    r = isula("start", "-a", "-i", n, input="two\n")
    assert r.stdout == "got-two\n" and r.returncode == 0, r.stderr


def test_attach_refuses_stopped_and_paused(isula, names):
    n = names()
    isula.ok("run", "--name", n, "busybox", "true")
    r = isula("attach", n)
    assert r.returncode == 1 and "stopped container" in r.stderr
    p = names()
    isula.ok("run", "-d", "--name", p, "busybox", "sleep", "300")
    isula.ok("pause", p)
    r = isula("attach", p)
    assert r.returncode == 1 and "paused" in r.stderr
    isula.ok("unpause", p)


# ---- interactive sessions on a pseudo-terminal --------------------------------------------------------


class PtySession:
    """`isula ...` with a pty as its terminal; expect() reads until a text appears."""

    def __init__(self, isula, *args):
        import pty

        import fcntl
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 31, 101, 0, 0))
        env = dict(os.environ, ISULAD_HOST=isula.daemon.host)
        self.p = subprocess.Popen([bin_path("isula")] + list(args), stdin=slave, stdout=slave, stderr=slave,
                                  env=env, start_new_session=True)
        os.close(slave)
        self.out = b""

    def send(self, text):
        os.write(self.master, text.encode())

    def expect(self, text, timeout=30):
        deadline = time.time() + timeout
        while text.encode() not in self.out:
            r, _, _ = select.select([self.master], [], [], max(0.0, deadline - time.time()))
            assert r, "no %r in %r" % (text, self.out)
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                chunk = b""
            assert chunk, "EOF before %r in %r" % (text, self.out)
            self.out += chunk

    def wait(self, timeout=30):
        deadline = time.time() + timeout
        while self.p.poll() is None and time.time() < deadline:
            r, _, _ = select.select([self.master], [], [], 0.2)
            if r:
                try:
                    self.out += os.read(self.master, 4096)
                except OSError:
                    pass
        return self.p.wait(timeout=1)

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        os.close(self.master)


def test_run_it_interactive_shell(isula, names):
    n = names()
    s = PtySession(isula, "run", "-it", "--name", n, "busybox", "sh")
    try:
        s.send("echo $((6*7))\r")
        s.expect("42")
        s.send("stty size; exit 3\r")
        s.expect("31 101")
        assert s.wait() == 3, s.out
    finally:
        s.close()
    assert isula.inspect(n)["State"]["ExitCode"] == 3


def test_exec_it_interactive_shell(isula, sleeper):
    s = PtySession(isula, "exec", "-it", sleeper, "sh")
    try:
        s.send("echo in-$((1+1))-exec\r")
        s.expect("in-2-exec")
        s.send("stty size\r")
        s.expect("31 101")
        s.send("exit 9\r")
        assert s.wait() == 9, s.out
    finally:
        s.close()


def test_attach_tty_container(isula, names):
    n = names()
    isula.ok("run", "-dit", "--name", n, "busybox", "sh")
    s = PtySession(isula, "attach", n)
    try:
        s.send("echo attached-$((2+3))\r")
        s.expect("attached-5")
        s.send("exit 4\r")
        assert s.wait() == 4, s.out
    finally:
        s.close()
    assert isula.inspect(n)["State"]["ExitCode"] == 4


def test_logs_of_tty_container(isula, names):
    n = names()
    isula.ok("run", "-t", "--name", n, "busybox", "sh", "-c", "echo one; echo two >&2")
    r = isula("logs", n)
    assert r.stdout.replace("\r\n", "\n") == "one\ntwo\n" and r.stderr == ""


def test_run_proxies_signals_to_the_container(isula, tmpdir_host, names):
    import signal

    n = names()
    p = popen_isula(isula, "run", "--name", n, "-v", tmpdir_host + ":/data", "busybox", "sh", "-c",
                    "trap 'echo got-usr1; exit 3' USR1; touch /data/ready; while :; do sleep 0.1; done")
    try:
        wait_until(lambda: os.path.exists(os.path.join(tmpdir_host, "ready")), "the trap to be set")
        p.send_signal(signal.SIGUSR1)
        out, err = p.communicate(timeout=30)
        assert (p.returncode, out) == (3, b"got-usr1\n"), err
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
