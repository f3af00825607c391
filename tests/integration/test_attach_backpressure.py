"""Attached output is never lost to a slow reader (issue 13): while an attached client is behind, the container's
writes wait, as with Docker. Each path (run, attach, exec, start -a, the docker CLI) is read by a reader that
sleeps first and then reads at its own pace; the bytes are compared by length and md5 with what the container
wrote, and the exit code is kept. A client that goes away never blocks the container."""
import hashlib
import os
import re
import signal
import subprocess
import threading
import time
import uuid

import pytest

from conftest import bin_path

DOCKER = "/usr/local/bin/docker"
SIZE = 24 * 1000 * 1000
# Writes SIZE random bytes to stdout and their md5 to stderr, then exits with the code given as $1.
PAYLOAD = "head -c %d /dev/urandom > /tmp/d; cat /tmp/d; md5sum /tmp/d >&2; rm /tmp/d; exit ${1:-0}" % SIZE
# Prints `wait` lines until /tmp/go exists, so a test knows its client is attached before the payload starts.
GATED = "while [ ! -e /tmp/go ]; do echo wait; sleep 0.1; done; " + PAYLOAD


def slow_read(stream, first_sleep=3.0, chunk=65536, pause=0.002):
    """Reads everything from stream, slowly: nothing for first_sleep seconds, then chunk by chunk."""
    time.sleep(first_sleep)
    parts = []
    while True:
        b = stream.read(chunk)
        if not b:
            return b"".join(parts)
        parts.append(b)
        time.sleep(pause)


def check_payload(out, err):
    md5 = re.search(r"^([0-9a-f]{32})\s", err, re.M)
    assert md5, "no md5 line on stderr: %r" % err[-500:]
    assert len(out) == SIZE, "got %d bytes of %d" % (len(out), SIZE)
    assert hashlib.md5(out).hexdigest() == md5.group(1)


def popen(argv, daemon, **kw):
    env = dict(os.environ, ISULAD_HOST=daemon.host)
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, **kw)


def finish(p, timeout=120):
    out = slow_read(p.stdout)
    err = p.stderr.read().decode(errors="replace")
    return out, err, p.wait(timeout=timeout)


def isula_argv(*args):
    return [bin_path("isula")] + list(args)


def test_run_slow_reader_gets_every_byte(daemon):
    p = popen(isula_argv("run", "--rm", "busybox", "sh", "-c", PAYLOAD, "sh", "3"), daemon)
    out, err, rc = finish(p)
    check_payload(out, err)
    assert rc == 3


def test_run_slow_pipeline_counts_every_line(daemon):
    """The issue's own reproduction: `seq` through a reader that starts 4 s late."""
    cmd = "%s run --rm busybox sh -c 'seq 1 2000000; sleep 1' | (sleep 4; wc -l)" % bin_path("isula")
    r = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=180,
                       env=dict(os.environ, ISULAD_HOST=daemon.host))
    assert r.stdout.strip() == "2000000", r.stderr


def test_start_attach_slow_reader(isula, daemon, container):
    cid = container("create", "busybox", "sh", "-c", PAYLOAD, "sh", "5")
    p = popen(isula_argv("start", "-a", cid), daemon)
    out, err, rc = finish(p)
    check_payload(out, err)
    assert rc == 5
    assert isula.inspect(cid)["State"]["ExitCode"] == 5


def wait_for_line(stream, line=b"wait\n"):
    got = b""
    while line not in got:
        b = os.read(stream.fileno(), 4096)
        assert b, "stream ended before %r: %r" % (line, got[-200:])
        got += b
    return got


def strip_wait_lines(prefix, rest):
    data = prefix + rest
    head = data[: len(data) - SIZE]
    assert re.fullmatch(rb"(wait\n)*", head), head[-100:]
    return data[len(data) - SIZE:]


def test_attach_slow_reader(isula, daemon, container):
    cid = container("run", "-d", "busybox", "sh", "-c", GATED)
    p = popen(isula_argv("attach", cid), daemon)
    prefix = wait_for_line(p.stdout)
    isula.ok("exec", cid, "touch", "/tmp/go")
    out, err, rc = finish(p)
    check_payload(strip_wait_lines(prefix, out), err)
    assert rc == 0


def test_exec_slow_reader(isula, daemon, container):
    cid = container("run", "-d", "busybox", "sleep", "1000")
    p = popen(isula_argv("exec", cid, "sh", "-c", PAYLOAD, "sh", "7"), daemon)
    out, err, rc = finish(p)
    check_payload(out, err)
    assert rc == 7


def test_logs_complete_while_reader_is_slow(isula, daemon, container):
    name = "bp-" + uuid.uuid4().hex[:8]
    container("create", "--name", name, "busybox", "sh", "-c", "seq 1 300000")
    p = popen(isula_argv("start", "-a", name), daemon)
    out = slow_read(p.stdout)
    assert p.wait(timeout=60) == 0
    assert out.count(b"\n") == 300000
    logs = isula("logs", name, timeout=60)
    assert logs.stdout.count("\n") == 300000


def test_gone_client_does_not_block_the_container(isula, daemon, container):
    """A client that stops reading holds the container's output back; once it goes away the container goes on,
    finishes, and its log has every line."""
    cid = container("run", "-d", "busybox", "sh", "-c",
                    "while [ ! -e /tmp/go ]; do echo wait; sleep 0.1; done; seq 1 2000000")
    p = popen(isula_argv("attach", cid), daemon)
    wait_for_line(p.stdout)
    isula.ok("exec", cid, "touch", "/tmp/go")
    time.sleep(3)  # the reader takes nothing: the container waits on its writes
    assert isula.inspect(cid)["State"]["Running"], "the container did not wait for its attached reader"
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=10)
    p.stdout.close()
    p.stderr.close()
    assert isula.ok("wait", cid, timeout=120) == "0"
    logs = isula("logs", cid, timeout=60).stdout
    assert logs.endswith("1999999\n2000000\n")
    assert logs.count("\n") - logs.count("wait\n") == 2000000


@pytest.mark.skipif(not os.path.exists(DOCKER), reason="docker CLI not installed")
def test_docker_run_slow_reader(daemon):
    env = dict(os.environ, DOCKER_CONFIG=os.path.join(daemon.base, "docker-config"))
    for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
        env.pop(k, None)
    p = subprocess.Popen([DOCKER, "-H", daemon.host, "run", "--rm", "busybox", "sh", "-c", PAYLOAD, "sh", "4"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err, rc = finish(p)
    check_payload(out, err)
    assert rc == 4


@pytest.mark.skipif(not os.path.exists(DOCKER), reason="docker CLI not installed")
def test_docker_exec_slow_reader(daemon, isula, container):
    cid = container("run", "-d", "busybox", "sleep", "1000")
    env = dict(os.environ, DOCKER_CONFIG=os.path.join(daemon.base, "docker-config"))
    for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
        env.pop(k, None)
    p = subprocess.Popen([DOCKER, "-H", daemon.host, "exec", cid, "sh", "-c", PAYLOAD, "sh", "6"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err, rc = finish(p)
    check_payload(out, err)
    assert rc == 6


def test_stdin_and_slow_output_do_not_deadlock(daemon):
    """cat with a large stdin and a slow reader: stdin and output wait on each other without a deadlock."""
    data = os.urandom(16 << 20)
    p = subprocess.Popen(isula_argv("run", "--rm", "-i", "busybox", "cat"), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, ISULAD_HOST=daemon.host))
    def feed():
        p.stdin.write(data)
        p.stdin.close()

    t = threading.Thread(target=feed)
    t.start()
    out = slow_read(p.stdout)
    t.join(timeout=60)
    assert p.wait(timeout=60) == 0, p.stderr.read()
    assert len(out) == len(data)
    assert hashlib.md5(out).digest() == hashlib.md5(data).digest()


def test_tty_slow_reader_counts_every_line(daemon):
    """With a pty the container's writes wait on the pty as well."""
    p = popen(isula_argv("run", "--rm", "-t", "busybox", "sh", "-c", "seq 1 1000000; exit 2"), daemon,
              stdin=subprocess.DEVNULL)
    out, err, rc = finish(p)
    assert rc == 2, err
    lines = out.replace(b"\r\n", b"\n").split(b"\n")
    assert lines[:3] == [b"1", b"2", b"3"] and lines[-2:] == [b"1000000", b""], lines[-3:]
    assert len(lines) == 1000001
