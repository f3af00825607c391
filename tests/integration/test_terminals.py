"""What a user sees on a real terminal (a pty), byte for byte: `isula run -it`/`-t`/`exec -it` put the local
terminal in raw mode (no `\\r\\r\\n`), no NUL byte reaches the container's stdin, the detach keys (ctrl-p ctrl-q,
or --detach-keys) leave the container running with its shell alive, a resize reaches the container."""
import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time
import uuid

import pytest

from conftest import bin_path


class Pty:
    """`isula ...` with a pty of 31x101 as its terminal."""

    def __init__(self, isula, *args):
        import pty
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 31, 101, 0, 0))
        env = dict(os.environ, ISULAD_HOST=isula.daemon.host)
        self.p = subprocess.Popen([bin_path("isula")] + [str(a) for a in args], stdin=slave, stdout=slave,
                                  stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        self.out = b""

    def read_some(self, timeout):
        r, _, _ = select.select([self.master], [], [], timeout)
        if not r:
            return False
        try:
            chunk = os.read(self.master, 4096)
        except OSError:
            chunk = b""
        self.out += chunk
        return bool(chunk)

    def expect(self, data, timeout=30):
        deadline = time.time() + timeout
        while data not in self.out:
            assert time.time() < deadline, "no %r in %r" % (data, self.out)
            assert self.read_some(max(0.0, deadline - time.time())) or data in self.out, \
                "EOF before %r in %r" % (data, self.out)

    def wait(self, timeout=30):
        deadline = time.time() + timeout
        while self.p.poll() is None and time.time() < deadline:
            self.read_some(0.2)
        while self.read_some(0.05):
            pass
        return self.p.wait(timeout=1)

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        os.close(self.master)


@pytest.fixture
def names(isula):
    made = []

    def make():
        n = "term-" + uuid.uuid4().hex[:10]
        made.append(n)
        return n

    yield make
    for n in made:
        isula("rm", "-f", n)


def session(isula, *args):
    s = Pty(isula, *args)
    try:
        rc = s.wait()
    finally:
        s.close()
    return rc, s.out


@pytest.mark.parametrize("flags", ["-it", "-t"])
def test_run_tty_output_byte_for_byte(isula, flags):
    rc, out = session(isula, "run", flags, "--rm", "busybox", "echo", "hi")
    assert rc == 0 and out == b"hi\r\n"


def test_exec_tty_output_byte_for_byte(isula, names):
    n = names()
    isula.ok("run", "-d", "--name", n, "busybox", "sleep", "600")
    for flags in ("-it", "-t"):
        rc, out = session(isula, "exec", flags, n, "echo", "hi")
        assert rc == 0 and out == b"hi\r\n", (flags, out)


def test_no_nul_byte_reaches_stdin(isula, names):
    # the first byte the container reads is the first byte typed: nothing before it
    n = names()
    s = Pty(isula, "run", "-it", "--name", n, "busybox", "sh", "-c",
            "stty -echo -icanon; echo ready; head -c 1 | od -An -tx1; exit 0")
    try:
        s.expect(b"ready\r\n")
        os.write(s.master, b"A")
        assert s.wait() == 0
    finally:
        s.close()
    assert s.out.replace(b"ready\r\n", b"").split() == [b"41"], s.out
    assert b"^@" not in s.out


def detach_and_check(isula, n, s, keys):
    s.expect(b"# ")
    os.write(s.master, b"echo in-$((40+2))\r")
    s.expect(b"in-42")
    os.write(s.master, keys)
    assert s.wait() == 0, s.out
    state = isula.inspect(n)["State"]
    assert state["Running"] is True  # detached: the shell still runs, its stdin still open
    r = isula("exec", n, "sh", "-c", "ps -o comm | grep -c '^sh$'")
    assert int(r.stdout) >= 1


def test_detach_keys_ctrl_p_ctrl_q(isula, names):
    n = names()
    s = Pty(isula, "run", "-it", "--name", n, "busybox", "sh")
    try:
        detach_and_check(isula, n, s, b"\x10\x11")
    finally:
        s.close()
    # attach again: the same shell answers, and the custom keys detach
    s = Pty(isula, "attach", "--detach-keys", "ctrl-a,x", n)
    try:
        os.write(s.master, b"echo back-$((1+1))\r")
        s.expect(b"back-2")
        os.write(s.master, b"\x10q")  # ctrl-p alone no longer detaches: it is typed into the shell
        os.write(s.master, b"\x01x")
        assert s.wait() == 0, s.out
    finally:
        s.close()
    assert isula.inspect(n)["State"]["Running"] is True


def test_detach_keys_of_exec(isula, names):
    n = names()
    isula.ok("run", "-d", "--name", n, "busybox", "sleep", "600")
    s = Pty(isula, "exec", "-it", "--detach-keys", "ctrl-x,ctrl-y", n, "sh")
    try:
        s.expect(b"# ")
        os.write(s.master, b"echo ex-$((3*3))\r")
        s.expect(b"ex-9")
        os.write(s.master, b"\x18\x19")
        assert s.wait() == 0, s.out
    finally:
        s.close()
    assert isula.inspect(n)["State"]["Running"] is True


def test_bad_detach_keys(isula):
    r = isula("run", "--rm", "--detach-keys", "ctrl-", "busybox", "true")
    assert r.returncode == 125 and "detach keys" in r.stderr


def test_resize_reaches_the_container(isula, names):
    n = names()
    s = Pty(isula, "run", "-it", "--name", n, "busybox", "sh")
    try:
        s.expect(b"# ")
        os.write(s.master, b"stty size\r")
        s.expect(b"31 101")
        fcntl.ioctl(s.master, termios.TIOCSWINSZ, struct.pack("HHHH", 44, 120, 0, 0))
        os.kill(s.p.pid, signal.SIGWINCH)  # the pty is not the session's controlling terminal here
        time.sleep(0.5)
        os.write(s.master, b"stty size; exit 2\r")
        s.expect(b"44 120")
        assert s.wait() == 2
    finally:
        s.close()
