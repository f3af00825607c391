"""Container lifecycle commands of the real `isula` against the session isulad.

Each test asserts what a user sees: the process runs, the file is there, the cgroup holds the value, the exit
code is right. Containers are named `it-<test>-<n>` and removed (rm -f) after each test, also on failure.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import bin_path

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def wait_until(pred, what, timeout=30):
    """Polls pred() until it is true; the timeout only bounds a hang, the test never depends on it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.fixture
def names(isula, request):
    """Hands out container names unique to the test and removes the containers afterwards."""
    made = []

    def make():
        n = "it-%s-%d" % (re.sub(r"[^a-zA-Z0-9]", "", request.node.name)[-30:], len(made))
        made.append(n)
        return n

    yield make
    for n in made:
        isula("rm", "-f", n)


@pytest.fixture
def tmpdir_host():
    d = tempfile.mkdtemp(prefix="isd-it-vol-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def state(isula, ref):
    return isula.inspect(ref)["State"]


def cgroup_file(subsys, cid, name):
    return os.path.join("/sys/fs/cgroup", subsys, "isulad", cid, name)


def read(path):
    with open(path) as f:
        return f.read().strip()


# ---- create / start / run basics ----------------------------------------------------------------------


def test_create_prints_full_id_and_ps_shows_inited(isula, names):
    n = names()
    out = isula.ok("create", "--name", n, "busybox", "sleep", "300")
    assert HEX64.match(out), out
    rows = isula.ok("ps", "-a", "--no-trunc").splitlines()
    row = [r for r in rows if r.startswith(out)]
    assert len(row) == 1, rows
    assert row[0].split()[2] == "inited"
    assert state(isula, n)["Running"] is False


def test_start_runs_the_process(isula, names):
    n = names()
    cid = isula.ok("create", "--name", n, "busybox", "sleep", "300")
    isula.ok("start", n)
    pid = int(isula.ok("inspect", "-f", "{{.State.Pid}}", n))
    assert pid > 0 and pid_alive(pid)
    # start returns once the runtime started the process; its exec of `sleep` may still be a moment away (the
    # runtime's init is that pid until then), as with Docker
    deadline = time.time() + 10
    while True:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")[:2]
        if argv == [b"sleep", b"300"] or time.time() > deadline:
            break
        time.sleep(0.02)
    assert argv == [b"sleep", b"300"]
    assert cid[:12] in isula.ok("ps", "-q")


def test_run_detached_prints_id_and_runs(isula, names):
    n = names()
    cid = isula.ok("run", "-d", "--name", n, "busybox", "sleep", "300")
    assert HEX64.match(cid)
    st = state(isula, cid)
    assert st["Running"] and pid_alive(st["Pid"])
    assert isula.inspect(n)["Name"] == n  # the guide's inspect: no leading slash (the Docker API keeps it)


def test_run_foreground_env_user_workdir_hostname(isula, tmpdir_host, names):
    envf = os.path.join(tmpdir_host, "env")
    with open(envf, "w") as f:
        f.write("# comment\nFROMFILE=yes\n\nB=2\n")
    n = names()
    r = isula("run", "--name", n, "-e", "A=1", "--env-file", envf, "-u", "1000:1001", "-w", "/tmp", "-h",
              "myhost", "busybox", "sh", "-c", 'echo "$A $B $FROMFILE"; id -u; id -g; pwd; hostname')
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:5] == ["1 2 yes", "1000", "1001", "/tmp", "myhost"]
    assert state(isula, n)["ExitCode"] == 0


def test_run_dns_and_add_host(isula, names):
    out = isula.ok("run", "--name", names(), "--dns", "192.0.2.53", "--dns", "192.0.2.54", "--dns-search",
                   "it.example", "--dns-opt", "ndots:2", "--add-host", "it-host:192.0.2.7", "--add-host",
                   "it-six:2001:db8::7", "busybox", "sh", "-c", "cat /etc/resolv.conf /etc/hosts")
    ns = [line for line in out.splitlines() if line.startswith("nameserver")]
    assert ns == ["nameserver 192.0.2.53", "nameserver 192.0.2.54"]
    assert "search it.example" in out.splitlines() and "options ndots:2" in out.splitlines()
    assert "192.0.2.7\tit-host" in out.splitlines() and "2001:db8::7\tit-six" in out.splitlines()


def test_run_entrypoint(isula, names):
    n = names()
    out = isula.ok("run", "--name", n, "--entrypoint", "/bin/echo", "busybox", "hello", "world")
    assert out == "hello world"
    assert isula.inspect(n)["Config"]["Entrypoint"] == ["/bin/echo"]


def test_run_interactive_stdin(isula, names):
    n = names()
    r = isula("run", "--name", n, "-i", "busybox", "sh", "-c", "tr a-z A-Z; exit 3", input="hello stdin\n")
    assert r.stdout == "HELLO STDIN\n"
    assert r.returncode == 3


def run_in_pty(args, env=None, timeout=30):
    """Runs args with a pseudo-terminal as stdin/stdout/stderr; returns (exit code, output)."""
    import pty
    import select

    master, slave = pty.openpty()
    p = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    out = b""
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            r, _, _ = select.select([master], [], [], 0.5)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: every slave fd is closed
                    break
                if not chunk:
                    break
                out += chunk
            elif p.poll() is not None:
                break
        return p.wait(timeout=timeout), out.decode(errors="replace")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)


def test_run_tty(isula, names):
    n = names()
    env = dict(os.environ, ISULAD_HOST=isula.daemon.host)
    rc, out = run_in_pty([bin_path("isula"), "run", "--name", n, "-t", "busybox", "sh", "-c",
                          "tty; test -t 0 && echo stdin-is-tty; exit 5"], env=env)
    assert rc == 5, out
    assert re.search(r"/dev/pts/\d+", out), out
    assert "stdin-is-tty" in out
    assert isula.inspect(n)["Config"]["Tty"] is True


def test_run_rm_removes_container(isula, names):
    n = names()
    out = isula.ok("run", "--rm", "--name", n, "busybox", "echo", "bye")
    assert out == "bye"
    assert n not in isula.ok("ps", "-a", "--format", "{{.Names}}").split()
    assert isula("inspect", n).returncode != 0


def test_labels_and_annotations_in_inspect_and_oci_config(isula, tmpdir_host, names):
    lf = os.path.join(tmpdir_host, "labels")
    with open(lf, "w") as f:
        f.write("fromfile=1\n# comment\nother=two\n")
    n = names()
    cid = isula.ok("create", "--name", n, "-l", "k=v", "--label-file", lf, "--annotation", "anno.key=anno-val",
                   "busybox", "true")
    insp = isula.inspect(n)
    assert insp["Config"]["Labels"] == {"k": "v", "fromfile": "1", "other": "two"}
    assert insp["Config"]["Annotations"] == {"anno.key": "anno-val"}  # guide C-inspect-05
    assert insp["HostConfig"]["Annotations"] == {"anno.key": "anno-val"}
    assert isula.ok("inspect", "-f", '{{index .Config.Labels "k"}}', n) == "v"
    isula.ok("start", n)
    assert isula.ok("wait", n) == "0"
    cfg_path = os.path.join(isula.daemon.state, "containers", cid, "config.json")
    with open(cfg_path) as f:
        spec = json.load(f)
    assert spec["annotations"].get("anno.key") == "anno-val"
    assert spec["process"]["args"] == ["true"]


# ---- mounts and rootfs --------------------------------------------------------------------------------


def test_bind_mount_rw_and_ro(isula, tmpdir_host, names):
    isula.ok("run", "--name", names(), "-v", tmpdir_host + ":/data", "busybox", "sh", "-c",
             "echo from-container > /data/f")
    assert read(os.path.join(tmpdir_host, "f")) == "from-container"
    ro = names()
    with open(os.path.join(tmpdir_host, "host"), "w") as f:
        f.write("from-host\n")
    r = isula("run", "--name", ro, "-v", tmpdir_host + ":/data:ro", "busybox", "sh", "-c",
              "cat /data/host; echo x > /data/g")
    assert isula.inspect(ro)["Mounts"] == [{"Type": "bind", "Source": tmpdir_host, "Destination": "/data",
                                            "Mode": "ro", "RW": False, "Propagation": "rprivate"}]
    assert r.stdout == "from-host\n"
    assert r.returncode != 0
    assert "Read-only file system" in r.stderr
    assert not os.path.exists(os.path.join(tmpdir_host, "g"))


def test_mount_type_bind(isula, tmpdir_host, names):
    isula.ok("run", "--name", names(), "--mount", "type=bind,src=%s,dst=/mnt/x" % tmpdir_host, "busybox", "sh",
             "-c", "echo m > /mnt/x/f")
    assert read(os.path.join(tmpdir_host, "f")) == "m"
    r = isula("run", "--name", names(), "--mount", "type=bind,source=%s,target=/mnt/x,readonly" % tmpdir_host,
              "busybox", "sh", "-c", "echo y > /mnt/x/f")
    assert r.returncode != 0
    assert read(os.path.join(tmpdir_host, "f")) == "m"


def test_read_only_rootfs(isula, names):
    n = names()
    r = isula("run", "--name", n, "--read-only", "busybox", "sh", "-c", "touch /newfile")
    assert r.returncode != 0
    assert "Read-only file system" in r.stderr
    assert isula.inspect(n)["HostConfig"]["ReadonlyRootfs"] is True
    assert isula.ok("run", "--name", names(), "busybox", "sh", "-c", "touch /newfile && echo ok") == "ok"


def test_privileged(isula, names):
    script = "test -c /dev/kmsg && echo kmsg; mount -t tmpfs it /tmp 2>/dev/null && echo mounted; " \
             "grep CapEff /proc/self/status"
    out = isula.ok("run", "--name", names(), "--privileged", "busybox", "sh", "-c", script).splitlines()
    assert out[:2] == ["kmsg", "mounted"]
    assert int(out[2].split()[1], 16) & (1 << 21)  # CAP_SYS_ADMIN
    out = isula.ok("run", "--name", names(), "busybox", "sh", "-c", script).splitlines()
    assert len(out) == 1 and not int(out[0].split()[1], 16) & (1 << 21)
    assert isula.ok("run", "--name", names(), "--privileged", "-t", "busybox", "tty").startswith("/dev/pts/")


def test_runtime_runc(isula, names):
    n = names()
    assert isula.ok("run", "--name", n, "--runtime", "runc", "busybox", "echo", "ok") == "ok"
    assert isula.inspect(n)["HostConfig"]["Runtime"] == "runc"
    assert isula.ok("run", "--name", names(), "-R", "runc", "busybox", "echo", "ok") == "ok"


def make_rootfs(d):
    os.makedirs(os.path.join(d, "bin"))
    shutil.copy("/bin/busybox", os.path.join(d, "bin", "busybox"))
    for applet in ("sh", "echo", "cat", "ls", "sleep"):
        os.symlink("busybox", os.path.join(d, "bin", applet))
    for sub in ("proc", "sys", "dev", "etc", "tmp"):
        os.makedirs(os.path.join(d, sub))


def test_external_rootfs(isula, tmpdir_host, names):
    rootfs = os.path.join(tmpdir_host, "rootfs")
    make_rootfs(rootfs)
    n = names()
    out = isula.ok("run", "--name", n, "--external-rootfs", rootfs, "none", "/bin/sh", "-c",
                   "echo ext > /tmp/marker; ls /bin/busybox")
    assert out == "/bin/busybox"
    assert read(os.path.join(rootfs, "tmp", "marker")) == "ext"
    # guide C-create-03: the user of an external rootfs is looked up in the host's passwd (the rootfs has none)
    import pwd

    nobody = pwd.getpwnam("nobody")
    os.symlink("busybox", os.path.join(rootfs, "bin", "id"))
    m = names()
    isula.ok("run", "-d", "--name", m, "--external-rootfs", rootfs, "-u", "nobody", "none", "/bin/sleep", "300")
    assert isula.ok("exec", m, "/bin/id", "-u") == str(nobody.pw_uid)
    assert isula.ok("exec", "-u", "nobody", m, "/bin/id", "-g") == str(nobody.pw_gid)


def test_log_opt_rotation(isula, names):
    n = names()
    isula.ok("run", "--name", n, "--log-opt", "max-size=1k", "--log-opt", "max-file=3", "busybox", "sh", "-c",
             "i=0; while [ $i -lt 200 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done")
    logpath = isula.inspect(n)["LogPath"]
    d, base = os.path.split(logpath)
    files = sorted(f for f in os.listdir(d) if f.startswith(base))
    assert files == [base, base + ".1", base + ".2"], files
    for f in files:
        assert os.path.getsize(os.path.join(d, f)) <= 1024 + 200
    assert isula.ok("logs", "--tail", "1", n) == "line-199-xxxxxxxxxxxxxxxxxxxxxxxx"


# ---- stop / kill / rm / restart / wait / rename / pause ------------------------------------------------


def test_stop_kills_after_timeout_137(isula, names):
    n = names()
    isula.ok("run", "-d", "--name", n, "busybox", "sleep", "300")
    assert isula.ok("stop", "-t", "1", n) == n
    st = state(isula, n)
    assert st["Running"] is False and st["ExitCode"] == 137
    assert isula.ok("ps", "-a", "-f", "name=" + n, "--format", "{{.Status}}") == "exited"


def test_stop_force_kills_at_once(isula, names):
    n = names()
    isula.ok("run", "-d", "--name", n, "--stop-timeout", "600", "busybox", "sleep", "300")
    assert isula.ok("stop", "-f", n) == n
    assert state(isula, n)["ExitCode"] == 137


def test_stop_sigterm_trapped_143(isula, tmpdir_host, names):
    n = names()
    isula.ok("run", "-d", "--name", n, "-v", tmpdir_host + ":/data", "busybox", "sh", "-c",
             "trap 'exit 143' TERM; touch /data/ready; while :; do sleep 0.1; done")
    wait_until(lambda: os.path.exists(os.path.join(tmpdir_host, "ready")), "the trap to be set")
    isula.ok("stop", "-t", "30", n)
    assert state(isula, n)["ExitCode"] == 143


def test_kill_signal_reaches_process(isula, tmpdir_host, names):
    n = names()
    isula.ok("run", "-d", "--name", n, "-v", tmpdir_host + ":/data", "busybox", "sh", "-c",
             "trap 'echo got-usr1 > /data/sig' USR1; touch /data/ready; while :; do sleep 0.1; done")
    wait_until(lambda: os.path.exists(os.path.join(tmpdir_host, "ready")), "the trap to be set")
    assert isula.ok("kill", "-s", "USR1", n) == n
    wait_until(lambda: os.path.exists(os.path.join(tmpdir_host, "sig")), "the signal file")
    assert read(os.path.join(tmpdir_host, "sig")) == "got-usr1"
    assert state(isula, n)["Running"] is True
    isula.ok("kill", n)
    r = isula("wait", n)
    assert r.stdout.strip() == "137" and r.returncode == 137


def test_rm_refuses_running_and_force_removes(isula, names):
    n = names()
    isula.ok("run", "-d", "--name", n, "busybox", "sleep", "300")
    r = isula("rm", n)
    assert r.returncode != 0
    assert len(r.stderr.strip().splitlines()) == 1 and "running" in r.stderr
    assert state(isula, n)["Running"] is True
    assert isula.ok("rm", "-f", n) == n
    assert isula("inspect", n).returncode != 0
    n2 = names()
    isula.ok("create", "--name", n2, "busybox", "true")
    assert isula.ok("rm", n2) == n2


def test_restart_new_start_same_id(isula, names):
    n = names()
    cid = isula.ok("run", "-d", "--name", n, "busybox", "sleep", "300")
    before = state(isula, n)
    assert isula.ok("restart", "-t", "1", n) == n
    after = isula.inspect(n)
    assert after["Id"] == cid
    assert after["State"]["Running"] is True
    assert after["State"]["StartedAt"] != before["StartedAt"]
    assert after["State"]["Pid"] != before["Pid"] and pid_alive(after["State"]["Pid"])


def test_restart_policy_on_failure(isula, names):
    n = names()
    isula.ok("run", "-d", "--name", n, "--restart", "on-failure:2", "busybox", "sh", "-c", "echo run; exit 1")
    wait_until(lambda: isula.ok("inspect", "-f", "{{.RestartCount}} {{.State.Status}}", n) == "2 exited",
               "two restarts, then exited")
    assert isula.ok("logs", n).splitlines() == ["run"] * 3
    assert isula.inspect(n)["State"]["ExitCode"] == 1


def test_stop_and_rm_while_restarting(isula, names):
    n = names()
    isula.ok("run", "-d", "--name", n, "--restart", "always", "busybox", "sh", "-c", "exit 3")
    wait_until(lambda: isula.inspect(n)["RestartCount"] >= 1, "a restart")
    assert isula.ok("stop", n) == n
    st = state(isula, n)
    assert st["Status"] == "exited" and st["Restarting"] is False
    isula.ok("start", n)
    wait_until(lambda: isula.inspect(n)["RestartCount"] >= 2, "another restart")
    assert isula.ok("rm", "-f", n) == n
    assert isula("inspect", n).returncode != 0


def test_wait_prints_exit_code(isula, names):
    a, b = names(), names()
    isula.ok("run", "-d", "--name", a, "busybox", "sh", "-c", "exit 3")
    isula.ok("run", "-d", "--name", b, "busybox", "sh", "-c", "exit 7")
    r = isula("wait", a, b)
    assert r.stdout.split() == ["3", "7"]
    assert r.returncode == 7


def test_rename(isula, names):
    old, new = names(), names()
    cid = isula.ok("run", "-d", "--name", old, "busybox", "sleep", "300")
    isula.ok("rename", old, new)
    assert isula.inspect(new)["Id"] == cid
    assert isula.inspect(new)["Name"] == new
    assert isula("inspect", old).returncode != 0
    assert isula.ok("exec", new, "echo", "renamed") == "renamed"
    assert isula.ok("ps", "-f", "id=" + cid, "--format", "{{.Names}}") == new
    other = isula.ok("create", "--name", old, "busybox", "true")  # the old name is free again
    assert other != cid


def test_pause_unpause_freezer(isula, names):
    n = names()
    cid = isula.ok("run", "-d", "--name", n, "busybox", "sleep", "300")
    freezer = cgroup_file("freezer", cid, "freezer.state")
    assert isula.ok("pause", n) == n
    assert read(freezer) == "FROZEN"
    st = state(isula, n)
    assert st["Paused"] is True and st["Status"] == "paused"
    assert isula.ok("ps", "-f", "name=" + n, "--format", "{{.Status}}") == "paused"
    assert isula.ok("unpause", n) == n
    assert read(freezer) == "THAWED"
    assert state(isula, n)["Status"] == "running"


# ---- ps / inspect / top -------------------------------------------------------------------------------


def test_ps_options(isula, names):
    run_n, exit_n = names(), names()
    run_id = isula.ok("run", "-d", "--name", run_n, "busybox", "sleep", "300")
    exit_id = isula.ok("run", "-d", "--name", exit_n, "busybox", "true")
    isula.ok("wait", exit_n)
    q = isula.ok("ps", "-q").split()
    assert run_id[:12] in q and exit_id[:12] not in q
    qa = isula.ok("ps", "-a", "-q").split()
    assert run_id[:12] in qa and exit_id[:12] in qa
    assert all(len(x) == 12 for x in qa)
    qn = isula.ok("ps", "-a", "-q", "--no-trunc").split()
    assert run_id in qn and exit_id in qn
    exited = isula.ok("ps", "-a", "-q", "--no-trunc", "-f", "status=exited").split()
    assert exit_id in exited and run_id not in exited
    assert isula.ok("ps", "-a", "-q", "--no-trunc", "-f", "name=" + run_n).split() == [run_id]
    table = isula.ok("ps", "-a", "-f", "name=" + exit_n, "--format", "table {{.ID}} {{.Image}}").splitlines()
    assert table[0].split() == ["ID", "IMAGE"]
    assert table[1].split() == [exit_id[:12], "busybox"]
    table = isula.ok("ps", "-a", "-f", "name=" + exit_n, "--format", "table {{.ID}} {{.Image}}",
                     "--no-trunc").splitlines()
    assert [line.split() for line in table] == [["ID", "IMAGE"], [exit_id, "busybox"]]
    full = isula.ok("ps", "-f", "name=" + run_n).splitlines()
    assert full[0].split()[:3] == ["ID", "IMAGE", "STATUS"]
    assert full[1].split()[:3] == [run_id[:12], "busybox", "running"]


def test_inspect_templates_and_arrays(isula, names):
    a, b = names(), names()
    ida = isula.ok("run", "-d", "--name", a, "-l", "k=val", "busybox", "sleep", "300")
    idb = isula.ok("create", "--name", b, "busybox", "true")
    pid = int(isula.ok("inspect", "-f", "{{.State.Pid}}", a))
    assert pid_alive(pid)
    cfg = json.loads(isula.ok("inspect", "-f", "{{json .Config}}", a))
    assert cfg["Cmd"] == ["sleep", "300"] and cfg["Labels"] == {"k": "val"}
    assert isula.ok("inspect", "-f", '{{index .Config.Labels "k"}}', a) == "val"
    arr = json.loads(isula.ok("inspect", a, b))
    assert [x["Id"] for x in arr] == [ida, idb]
    both = json.loads(isula.ok("inspect", a, "busybox"))
    assert len(both) == 2 and both[0]["Id"] == ida and "busybox:latest" in both[1]["RepoTags"]
    assert isula.ok("inspect", "-f", "{{.Name}}", a, b).splitlines() == [a, b]


def test_top(isula, names):
    n = names()
    isula.ok("run", "-d", "--name", n, "busybox", "sleep", "321")
    lines = isula.ok("top", n).splitlines()
    assert lines[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]  # guide C-top-01
    row = [line.split() for line in lines[1:] if line.endswith("sleep 321")]
    assert len(row) == 1 and row[0][1] == str(state(isula, n)["Pid"])  # host pids
    lines = isula.ok("top", n, "-o", "pid,comm").splitlines()
    assert lines[0].split() == ["PID", "COMMAND"] and lines[1].split()[1] == "sleep"


# ---- cgroups ------------------------------------------------------------------------------------------


def test_cgroup_limits(isula, names):
    n = names()
    cid = isula.ok("run", "-d", "--name", n, "-m", "64m", "--cpu-shares", "512", "--pids-limit", "50",
                   "--cpu-period", "50000", "--cpu-quota", "25000", "--memory-swappiness", "10", "busybox",
                   "sleep", "300")
    assert read(cgroup_file("memory", cid, "memory.limit_in_bytes")) == str(64 * 1024 * 1024)
    assert read(cgroup_file("memory", cid, "memory.swappiness")) == "10"
    assert read(cgroup_file("cpu", cid, "cpu.shares")) == "512"
    assert read(cgroup_file("cpu", cid, "cpu.cfs_period_us")) == "50000"
    assert read(cgroup_file("cpu", cid, "cpu.cfs_quota_us")) == "25000"
    assert read(cgroup_file("pids", cid, "pids.max")) == "50"
    hc = isula.inspect(n)["HostConfig"]
    assert hc["Memory"] == 64 * 1024 * 1024 and hc["CPUShares"] == 512 and hc["PidsLimit"] == 50
    pid = state(isula, n)["Pid"]
    assert str(pid) in read(cgroup_file("memory", cid, "cgroup.procs")).split()


def test_cgroup_cpuset(isula, names):
    last_cpu = read("/sys/devices/system/cpu/online").split(",")[-1].split("-")[-1]
    n = names()
    cid = isula.ok("run", "-d", "--name", n, "--cpuset-cpus", last_cpu, "busybox", "sleep", "300")
    assert read(cgroup_file("cpuset", cid, "cpuset.cpus")) == last_cpu
    assert isula.inspect(n)["HostConfig"]["CpusetCpus"] == last_cpu


def test_version_and_info(isula):
    v = isula.ok("version")
    assert "Client:" in v and "Server:" in v and re.search(r"Version:\s+\S+", v)
    lines = isula.ok("info").splitlines()
    keys = [line.split(":", 1)[0] for line in lines]
    assert keys[:6] == ["Containers", " Running", " Paused", " Stopped", "Images", "Server Version"], keys
    info = {k.strip(): line.split(":", 1)[1].strip() for k, line in zip(keys, lines)}
    assert int(info["Containers"]) == len(isula.ok("ps", "-a", "-q").split())
    assert int(info["Containers"]) == sum(int(info[k]) for k in ("Running", "Paused", "Stopped"))
    assert int(info["Images"]) == len({line.split()[1] for line in isula.ok("images").splitlines()[1:]})
    assert info["iSulad Root Dir"] == isula.daemon.graph
    with open("/etc/os-release") as f:
        pretty = [line.split("=", 1)[1].strip().strip('"') for line in f if line.startswith("PRETTY_NAME=")]
    assert info["Operating System"] == (pretty[0] if pretty else "Linux")


def test_concurrent_runs_and_name_race(isula, names):
    from concurrent.futures import ThreadPoolExecutor

    ns = [names() for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: isula("run", "--name", ns[i], "busybox", "sh", "-c",
                                                "echo out%d; exit %d" % (i, i + 1)), range(8)))
    assert [(r.stdout, r.returncode) for r in results] == [("out%d\n" % i, i + 1) for i in range(8)]
    same = names()
    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(lambda _: isula("create", "--name", same, "busybox", "true").returncode, range(6)))
    assert sorted(codes) == [0] + [125] * 5
    assert isula.ok("ps", "-a", "-f", "name=" + same, "--format", "{{.Names}}") == same
