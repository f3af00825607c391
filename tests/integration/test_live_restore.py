"""Live restore: isulad killed with SIGKILL (or stopped with SIGTERM) while containers run, then restarted on the
same dirs. Running containers keep their pid, logs go on, attach works, a container that exited meanwhile
shows its exit code. Each test uses a private Daemon in its own temp dir; the fixture kills what a failed test
leaves (shims, mounts) and removes the dir."""
import os
import shutil
import signal
import subprocess
import tempfile
import time


from conftest import Isula, bin_path, leftover_mounts, shim_pids

DOCKER = "/usr/local/bin/docker"


def wait_for(pred, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def counter_lines(isula, name):
    return [int(l.split()[1]) for l in isula.ok("logs", name).splitlines() if l.startswith("n ")]


def test_sigkill_and_restart_restores_containers(new_daemon):
    d = new_daemon()
    d.start()
    isula = Isula(d)
    sleeper = isula.ok("run", "-d", "--name", "lr-sleep", "busybox", "sleep", "600")
    isula.ok("run", "-d", "--name", "lr-count", "busybox", "sh", "-c",
             "i=0; while :; do echo n $i; i=$((i+1)); sleep 0.2; done")
    isula.ok("run", "-d", "--name", "lr-short", "busybox", "sh", "-c", "sleep 2; exit 7")
    sleep_pid = isula.inspect("lr-sleep")["State"]["Pid"]
    short_pid = isula.inspect("lr-short")["State"]["Pid"]
    wait_for(lambda: counter_lines(isula, "lr-count"), "the counter's first line")

    d.proc.kill()
    d.proc.wait()
    d.proc = None
    wait_for(lambda: not pid_alive(short_pid), "the short container to exit while isulad is down")
    assert pid_alive(sleep_pid)

    d.start()
    st = isula.inspect("lr-sleep")["State"]
    assert st["Running"] is True and st["Pid"] == sleep_pid
    assert isula.inspect(sleeper)["Id"] == sleeper
    short = isula.inspect("lr-short")["State"]
    assert short["Running"] is False and short["ExitCode"] == 7
    assert short["FinishedAt"] and not short["FinishedAt"].startswith("0001")
    seen = max(counter_lines(isula, "lr-count"))
    wait_for(lambda: max(counter_lines(isula, "lr-count")) > seen + 1, "new counter lines after the restart")
    lines = counter_lines(isula, "lr-count")
    assert lines == list(range(len(lines)))  # nothing lost or doubled across the restart

    # attach to the restored counter with isula, then with docker
    p = subprocess.Popen([bin_path("isula"), "-H", d.host, "attach", "lr-count"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        first = p.stdout.readline().decode()
    finally:
        p.kill()
        p.communicate()
    assert first.startswith("n "), first
    if os.path.exists(DOCKER):
        p = subprocess.Popen([DOCKER, "-H", d.host, "attach", "--sig-proxy=false", "lr-count"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            first = p.stdout.readline().decode()
        finally:
            p.kill()
            p.communicate()
        assert first.startswith("n "), first
    assert isula.ok("exec", "lr-sleep", "echo", "alive") == "alive"
    # a restored container can be stopped, waited for and removed
    isula.ok("stop", "-t", "0", "lr-sleep")
    assert isula.inspect("lr-sleep")["State"]["ExitCode"] == 137
    for name in ("lr-sleep", "lr-count", "lr-short"):
        isula.ok("rm", "-f", name)
    assert isula.ok("ps", "-a", "-q") == ""
    wait_for(lambda: not shim_pids(d.base), "the shims to exit")
    assert not leftover_mounts(d.base)


def test_sigterm_leaves_containers_and_exits_0(new_daemon):
    d = new_daemon()
    d.start()
    isula = Isula(d)
    isula.ok("run", "-d", "--name", "lr-term", "busybox", "sleep", "600")
    pid = isula.inspect("lr-term")["State"]["Pid"]
    assert d.stop(signal.SIGTERM) == 0
    assert pid_alive(pid)
    assert shim_pids(d.base)
    d.start()
    st = isula.inspect("lr-term")["State"]
    assert st["Running"] is True and st["Pid"] == pid
    isula.ok("rm", "-f", "lr-term")
    wait_for(lambda: not shim_pids(d.base), "the shim to exit")
    assert not leftover_mounts(d.base)


def test_second_daemon_on_same_pidfile_fails(new_daemon):
    d = new_daemon()
    d.start()
    other = tempfile.mkdtemp(prefix="isd-it-lr2-", dir="/tmp")
    try:
        args = [bin_path("isulad"), "--config-file", d.conf, "-H", "unix://" + other + "/s.sock", "-g",
                other + "/graph", "-S", other + "/state", "-p", d.pidfile, "--bip", d.bip, "--bridge", d.bridge,
                "--ip-masq=false"]  # the tests' network settings, though it stops at the pidfile
        r = subprocess.run(args, capture_output=True, text=True, timeout=30)
        assert r.returncode != 0
        msg = (r.stderr + r.stdout).lower()
        assert "pid" in msg and ("running" in msg or "lock" in msg or "already" in msg), msg
        with open(d.pidfile) as f:
            assert f.read().strip() == str(d.proc.pid)
        assert Isula(d).ok("version")
    finally:
        shutil.rmtree(other, ignore_errors=True)
