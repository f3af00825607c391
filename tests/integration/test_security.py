"""Security options seen from inside the container: capabilities (CapEff/CapBnd of /proc/1/status), seccomp
(the Seccomp line, syscalls denied with EPERM), no-new-privileges, devices and their cgroup rules, read-only
rootfs, tmpfs, sysctls, privileged mode, SecurityOpt errors; from isula, the docker CLI and the Docker SDK."""
import json
import os
import subprocess
import uuid

import pytest


DOCKER = "/usr/local/bin/docker"

CAPS = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
        "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
        "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
        "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
        "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
        "CHECKPOINT_RESTORE"]
DEFAULT_CAPS = ["CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP",
                "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"]

DENY_CHMOD = {"defaultAction": "SCMP_ACT_ALLOW",
              "syscalls": [{"names": ["chmod", "fchmod", "fchmodat"], "action": "SCMP_ACT_ERRNO"}]}


def mask(names):
    m = 0
    for n in names:
        m |= 1 << CAPS.index(n)
    return m


def status(isula, *args):
    """The /proc/1/status lines of a container run with args, as a dict."""
    out = isula.ok("run", "--rm", *args, "busybox", "cat", "/proc/1/status")
    return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)


def daemon_bounding(daemon):
    with open("/proc/%d/status" % daemon.proc.pid) as f:
        for line in f:
            if line.startswith("CapBnd:"):
                return int(line.split()[1], 16)
    raise AssertionError("no CapBnd")


@pytest.fixture
def profile(tmp_path):
    def make(p, name="profile.json"):
        path = tmp_path / name
        path.write_text(json.dumps(p))
        return str(path)
    return make


@pytest.fixture(scope="module")
def testinit_sec(daemon, tmp_path_factory):
    from conftest import Isula, import_testinit
    isula = Isula(daemon)
    import_testinit(isula, tmp_path_factory.mktemp("testinit-sec"), "testinit-sec:latest")
    yield "testinit-sec:latest"
    isula("rmi", "-f", "testinit-sec:latest")


# ---- capabilities ----------------------------------------------------------------------------------------

def test_default_capabilities(isula):
    st = status(isula)
    assert int(st["CapEff"], 16) == mask(DEFAULT_CAPS)
    assert int(st["CapBnd"], 16) == mask(DEFAULT_CAPS)
    assert int(st["CapPrm"], 16) == mask(DEFAULT_CAPS)


def test_cap_add_drop(isula):
    st = status(isula, "--cap-add", "net_admin", "--cap-add", "CAP_SYS_TIME", "--cap-drop", "CHOWN",
                "--cap-drop", "cap_kill")
    want = mask(DEFAULT_CAPS) | mask(["NET_ADMIN", "SYS_TIME"])
    want &= ~mask(["CHOWN", "KILL"])
    assert int(st["CapEff"], 16) == want


def test_cap_add_all_drop_one(isula, daemon):
    st = status(isula, "--cap-add", "all", "--cap-drop", "SYS_ADMIN")
    assert int(st["CapEff"], 16) == daemon_bounding(daemon) & ~mask(["SYS_ADMIN"])


def test_cap_drop_all_add_one(isula):
    st = status(isula, "--cap-drop", "ALL", "--cap-add", "NET_RAW")
    assert int(st["CapEff"], 16) == mask(["NET_RAW"])


def test_unknown_capability_refused(isula):
    r = isula("run", "--rm", "--cap-add", "NOT_A_CAP", "busybox", "true")
    assert r.returncode != 0
    assert "unknown capability" in r.stderr and "NOT_A_CAP" in r.stderr


def test_privileged(isula, daemon):
    st = status(isula, "--privileged")
    assert int(st["CapEff"], 16) == daemon_bounding(daemon)
    assert st["Seccomp"].strip() == "0"
    out = isula.ok("run", "--rm", "--privileged", "busybox", "sh", "-c",
                   "ls /dev; grep -E ' /sys(/fs/cgroup)? ' /proc/mounts; cat /proc/1/mountinfo | grep -c kcore || true")
    assert "loop0" in out.split() and "loop-control" in out.split()
    for line in out.splitlines():
        if line.startswith("sysfs /sys ") or line.startswith("cgroup /sys/fs/cgroup "):
            assert line.split()[3].startswith("rw"), line
    # no masked paths: /proc/kcore is not a bind of /dev/null
    assert out.splitlines()[-1].strip() == "0"


# ---- seccomp ---------------------------------------------------------------------------------------------

def test_default_seccomp_filter(isula):
    st = status(isula)
    assert st["Seccomp"].strip() == "2"
    assert st["NoNewPrivs"].strip() == "0"


def test_seccomp_unconfined(isula):
    assert status(isula, "--security-opt", "seccomp=unconfined")["Seccomp"].strip() == "0"


def test_default_profile_denies_unshare_user(isula):
    r = isula("run", "--rm", "busybox", "unshare", "-U", "true")
    assert r.returncode != 0
    assert "Operation not permitted" in r.stdout + r.stderr
    r = isula("run", "--rm", "busybox", "unshare", "-m", "true")
    assert r.returncode != 0 and "Operation not permitted" in r.stdout + r.stderr


def test_unconfined_allows_unshare_user(isula):
    with open("/proc/sys/user/max_user_namespaces") as f:
        if int(f.read()) == 0:
            pytest.skip("user namespaces disabled on this host")
    r = isula("run", "--rm", "--security-opt", "seccomp=unconfined", "busybox", "unshare", "-U", "true")
    assert r.returncode == 0, r.stderr


def test_default_profile_denies_keyctl(isula, testinit_sec):
    r = isula("run", "--rm", testinit_sec, "/testinit", "keyctl")
    assert r.returncode == 1 and r.stdout.strip() == "Operation not permitted"
    r = isula("run", "--rm", "--security-opt", "seccomp=unconfined", testinit_sec, "/testinit", "keyctl")
    assert r.stdout.strip() == "ok", r.stdout + r.stderr


def test_profile_denying_chmod(isula, profile):
    p = profile(DENY_CHMOD)
    r = isula("run", "--rm", "--security-opt", "seccomp=" + p, "busybox", "chmod", "700", "/tmp")
    assert r.returncode != 0
    assert "Operation not permitted" in r.stdout + r.stderr
    # the guide's spelling (seccomp:<path>) and its template ("name", "args": null)
    p2 = profile({"defaultAction": "SCMP_ACT_ALLOW",
                  "syscalls": [{"name": n, "action": "SCMP_ACT_ERRNO", "args": None}
                               for n in ("chmod", "fchmod", "fchmodat")]}, "guide.json")
    r = isula("run", "--rm", "--security-opt", "seccomp:" + p2, "busybox", "chmod", "700", "/tmp")
    assert r.returncode != 0 and "Operation not permitted" in r.stdout + r.stderr
    assert isula("run", "--rm", "busybox", "chmod", "700", "/tmp").returncode == 0


def test_profile_args_caps_and_errno(isula, profile):
    # chmod denied only for mode 0700 (args), with ENOENT instead of EPERM (errnoRet); a rule for a cap the
    # container lacks is left out (includes.caps), one excluded by a cap it holds too (excludes.caps)
    p = profile({"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1,
                 "syscalls": [
                     {"names": ["chmod", "fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 2,
                      "args": [{"index": 1, "value": 0o700, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
                     {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                      "includes": {"caps": ["CAP_SYS_ADMIN"]}},
                     {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "excludes": {"caps": ["CAP_CHOWN"]}},
                     {"names": ["symlink", "symlinkat"], "action": "SCMP_ACT_ERRNO",
                      "includes": {"arches": ["amd64", "arm64", "ppc64le", "s390x", "riscv64"]}}]})
    out = isula("run", "--rm", "--security-opt", "seccomp=" + p, "busybox", "sh", "-c",
                "chmod 755 /tmp && echo a; chmod 700 /tmp || echo b; mkdir /tmp/d && echo c; rmdir /tmp/d && echo d;"
                " ln -s x /tmp/l || echo e")
    lines = out.stdout.split()
    assert lines == ["a", "b", "c", "d", "e"], out.stdout + out.stderr
    assert "No such file or directory" in out.stderr
    out = isula("run", "--rm", "--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=" + p, "busybox", "sh", "-c",
                "mkdir /tmp/d || echo denied")
    assert out.stdout.strip() == "denied" and "Operation not permitted" in out.stderr


def test_privileged_ignores_profile(isula, profile):
    p = profile(DENY_CHMOD)
    assert isula("run", "--rm", "--privileged", "--security-opt", "seccomp=" + p, "busybox", "chmod", "700",
                 "/tmp").returncode == 0


def test_bad_profiles_refused(isula, profile):
    r = isula("create", "--security-opt", "seccomp=relative.json", "busybox", "true")
    assert r.returncode != 0 and "absolute" in r.stderr
    r = isula("create", "--security-opt", "seccomp=/nonexistent/p.json", "busybox", "true")
    assert r.returncode != 0 and "seccomp" in r.stderr
    bad = profile({"defaultAction": "SCMP_ACT_BOGUS", "syscalls": []}, "bad.json")
    r = isula("create", "--security-opt", "seccomp=" + bad, "busybox", "true")
    assert r.returncode != 0 and "SCMP_ACT_BOGUS" in r.stderr
    bad = profile({"defaultAction": "SCMP_ACT_ALLOW",
                   "syscalls": [{"names": ["chmod"], "action": "SCMP_ACT_ERRNO",
                                 "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_NOPE"}]}]}, "bad2.json")
    r = isula("create", "--security-opt", "seccomp=" + bad, "busybox", "true")
    assert r.returncode != 0 and "SCMP_CMP_NOPE" in r.stderr


def test_seccomp_enable_false_and_profile_file(new_daemon, tmp_path):
    from conftest import Isula
    d = new_daemon(extra_args=["--seccomp-enable=false"])
    d.start()
    isula = Isula(d)
    assert status(isula)["Seccomp"].strip() == "0"
    p = tmp_path / "prof.json"
    p.write_text(json.dumps(DENY_CHMOD))
    r = isula("run", "--rm", "--security-opt", "seccomp=" + str(p), "busybox", "chmod", "700", "/tmp")
    assert r.returncode != 0 and "Operation not permitted" in r.stderr
    d.stop()
    # the daemon's default profile from a file (seccomp-profile in daemon.json)
    d2 = new_daemon(config={"seccomp-profile": str(p)})
    d2.start()
    isula2 = Isula(d2)
    r = isula2("run", "--rm", "busybox", "chmod", "700", "/tmp")
    assert r.returncode != 0 and "Operation not permitted" in r.stderr


def test_bad_default_profile_stops_the_daemon(new_daemon, tmp_path):
    p = tmp_path / "broken.json"
    p.write_text("{not json")
    d = new_daemon(config={"seccomp-profile": str(p)})
    with pytest.raises(RuntimeError) as e:
        d.start(timeout=20)
    assert "default seccomp profile" in str(e.value) and str(p) in str(e.value)


def test_exec_runs_under_the_filter(isula):
    cid = isula.ok("run", "-d", "busybox", "sleep", "300")
    try:
        assert isula.ok("exec", cid, "grep", "Seccomp:", "/proc/self/status").split() == ["Seccomp:", "2"]
        r = isula("exec", cid, "unshare", "-U", "true")
        assert r.returncode != 0 and "Operation not permitted" in r.stdout + r.stderr
    finally:
        isula("rm", "-f", cid)


def test_default_profile_denies_what_docker_denies():
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "contrib",
                       "seccomp_default.json")
    with open(src) as f:
        prof = json.load(f)
    assert prof["defaultAction"] == "SCMP_ACT_ERRNO" and prof["defaultErrnoRet"] == 1
    allowed = set()
    for r in prof["syscalls"]:
        if r["action"] == "SCMP_ACT_ALLOW" and not r.get("includes") and not r.get("excludes") and not r.get("args"):
            allowed.update(r["names"])
    for denied in ("keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load", "open_by_handle_at",
                   "init_module", "finit_module", "delete_module", "mount", "umount2", "pivot_root", "unshare",
                   "bpf", "perf_event_open", "ptrace", "reboot", "swapon", "swapoff", "acct", "settimeofday",
                   "clock_settime", "personality", "userfaultfd", "setns", "clone"):
        assert denied not in allowed, denied
    for needed in ("read", "write", "execve", "openat", "mmap", "exit_group", "chmod", "wait4"):
        assert needed in allowed


# ---- other security options ------------------------------------------------------------------------------

def test_no_new_privileges(isula):
    assert status(isula, "--security-opt", "no-new-privileges")["NoNewPrivs"].strip() == "1"
    assert status(isula, "--security-opt", "no-new-privileges=true")["NoNewPrivs"].strip() == "1"


def test_label_and_apparmor_errors(isula):
    r = isula("create", "--security-opt", "label=type:container_t", "busybox", "true")
    assert r.returncode != 0 and "selinux" in r.stderr.lower()
    # label=disable needs nothing
    cid = isula.ok("create", "--security-opt", "label=disable", "busybox", "true")
    isula("rm", "-f", cid)
    if not os.path.exists("/sys/module/apparmor/parameters/enabled"):
        r = isula("create", "--security-opt", "apparmor=docker-default", "busybox", "true")
        assert r.returncode != 0 and "AppArmor is not enabled on this host" in r.stderr
    r = isula("create", "--security-opt", "bogus=1", "busybox", "true")
    assert r.returncode != 0 and "Invalid --security-opt" in r.stderr


def test_label_disable_and_apparmor_unconfined_run(isula):
    """Docker accepts both on any host: they ask for no confinement, which a host without SELinux or AppArmor gives."""
    out = isula.ok("run", "--rm", "--security-opt", "label=disable", "--security-opt", "apparmor=unconfined",
                   "busybox", "sh", "-c", "echo ran; cat /proc/1/attr/current 2>/dev/null; true")
    assert out.splitlines()[0] == "ran"
    if not os.path.exists("/sys/module/apparmor/parameters/enabled"):
        r = isula("run", "--rm", "--security-opt", "apparmor=my-profile", "busybox", "true")
        assert r.returncode == 125 and r.stderr.strip() == \
            "Error response from daemon: apparmor=my-profile: AppArmor is not enabled on this host", r.stderr
    r = isula("run", "--rm", "--security-opt", "label=role:bogus_r", "busybox", "true")
    assert r.returncode == 125 and len(r.stderr.strip().splitlines()) == 1 and "SELinux" in r.stderr, r.stderr
    r = isula("run", "--rm", "--security-opt", "label=nonsense", "busybox", "true")
    assert r.returncode == 125 and 'Invalid --security-opt: "label=nonsense"' in r.stderr, r.stderr


def test_selinux_label_on_host_without_selinux(new_daemon):
    if os.path.exists("/sys/fs/selinux/enforce"):
        pytest.skip("host has SELinux")
    from conftest import Isula
    d = new_daemon(extra_args=["--selinux-enabled"])
    d.start()
    r = Isula(d)("create", "--security-opt", "label=level:s0:c1,c2", "busybox", "true")
    assert r.returncode != 0 and "SELinux is not enabled on this host" in r.stderr


def test_masked_and_readonly_paths(isula):
    # /proc/keys and /sys/firmware have content on the host; masked, they read as empty
    with open("/proc/keys") as f:
        assert f.read() and os.listdir("/sys/firmware")
    out = isula.ok("run", "--rm", "busybox", "sh", "-c",
                   "wc -c < /proc/keys; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/domainname && echo w;"
                   " grep ' /proc/sys ' /proc/mounts")
    lines = out.splitlines()
    assert lines[0].strip() == "0" and lines[1].strip() == "0"
    assert "w" not in lines and lines[-1].split()[3].startswith("ro,")
    out = isula.ok("run", "--rm", "--security-opt", "systempaths=unconfined", "busybox", "sh", "-c",
                   "ls /sys/firmware | wc -l; grep -c ' /proc/sys ' /proc/mounts || true")
    assert out.split() == [str(len(os.listdir("/sys/firmware"))), "0"]


def test_device_with_permissions(isula):
    # /dev/loop0 is not in the default allow list: read-only access, then the node with its cgroup rule
    out = isula("run", "--rm", "--device", "/dev/loop0:/dev/xloop:r", "busybox", "sh", "-c",
                "ls -l /dev/xloop; dd if=/dev/xloop of=/dev/null count=1 && echo read-ok;"
                " echo x > /dev/xloop || echo write-denied")
    assert "read-ok" in out.stdout and "write-denied" in out.stdout, out.stdout + out.stderr
    assert "Operation not permitted" in out.stderr
    assert out.stdout.startswith("b") and "7,   0" in out.stdout.splitlines()[0]
    out = isula.ok("run", "--rm", "busybox", "ls", "/dev")
    assert "loop0" not in out.split() and "xloop" not in out.split()
    cid = isula.ok("run", "-d", "--device", "/dev/loop0:/dev/xloop:rw", "busybox", "sleep", "300")
    try:
        assert "b 7:0 rw" in devices_list(cid)
        assert isula.ok("exec", cid, "sh", "-c", "test -b /dev/xloop && echo yes") == "yes"
    finally:
        isula("rm", "-f", cid)


def devices_list(cid):
    with open("/sys/fs/cgroup/devices/isulad/%s/devices.list" % cid) as f:
        return f.read()


@pytest.mark.skipif(not os.path.exists("/sys/fs/cgroup/devices"), reason="no cgroup v1 devices controller")
def test_device_cgroup_rule(isula):
    script = "mknod /tmp/l b 7 0 && dd if=/tmp/l of=/dev/null bs=512 count=1 && echo opened"
    r = isula("run", "--rm", "busybox", "sh", "-c", script)
    assert "opened" not in r.stdout and "Operation not permitted" in r.stderr
    r = isula("run", "--rm", "--device-cgroup-rule", "b 7:* rmw", "busybox", "sh", "-c", script)
    assert "opened" in r.stdout, r.stderr
    cid = isula.ok("run", "-d", "--device-cgroup-rule", "b 7:* rwm", "busybox", "sleep", "300")
    try:
        assert "b 7:* rwm" in devices_list(cid)
    finally:
        isula("rm", "-f", cid)
    r = isula("create", "--device-cgroup-rule", "x 1:2 rwm", "busybox", "true")
    assert r.returncode != 0 and "invalid device cgroup rule" in r.stderr


def test_read_only_rootfs(isula):
    r = isula("run", "--rm", "--read-only", "busybox", "sh", "-c", "touch /x")
    assert r.returncode != 0 and "Read-only file system" in r.stderr
    out = isula.ok("run", "--rm", "--read-only", "--tmpfs", "/scratch:rw,size=1m,mode=1770", "busybox", "sh", "-c",
                   "touch /scratch/x && echo ok; grep ' /scratch ' /proc/mounts; stat -c %a /scratch")
    lines = out.splitlines()
    assert lines[0] == "ok"
    opts = lines[1].split()[3].split(",")
    assert lines[1].split()[2] == "tmpfs" and "size=1024k" in opts and "nosuid" in opts and "nodev" in opts
    assert lines[2] == "1770"


def test_sysctls(isula):
    out = isula.ok("run", "--rm", "--sysctl", "kernel.shmmax=123456789", "--sysctl", "net.ipv4.ip_forward=1",
                   "busybox", "sh", "-c", "cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward")
    assert out.split() == ["123456789", "1"]
    r = isula("create", "--sysctl", "kernel.panic=1", "busybox", "true")
    assert r.returncode != 0 and "not allowed" in r.stderr
    r = isula("create", "--net", "host", "--sysctl", "net.ipv4.ip_forward=1", "busybox", "true")
    assert r.returncode != 0 and "host network" in r.stderr


def test_cgroup_readable_by_nobody(isula):
    out = isula("run", "--rm", "-u", "nobody", "-m", "64m", "busybox", "sh", "-c",
                "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>&1 || cat /sys/fs/cgroup/memory.max")
    assert out.stdout.strip() == str(64 * 1024 * 1024), out.stdout + out.stderr


# ---- docker CLI and SDK ----------------------------------------------------------------------------------

def docker(daemon, *args):
    env = dict(os.environ)
    for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
        env.pop(k, None)
    env["DOCKER_CONFIG"] = os.path.join(daemon.base, "docker-config")
    return subprocess.run([DOCKER, "-H", daemon.host] + [str(a) for a in args], capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.mark.skipif(not os.path.exists(DOCKER), reason="docker CLI not installed")
def test_docker_cli_seccomp_inline_profile(daemon, profile):
    p = profile(DENY_CHMOD)
    r = docker(daemon, "run", "--rm", "--security-opt", "seccomp=" + p, "busybox", "chmod", "700", "/tmp")
    assert r.returncode != 0 and "Operation not permitted" in r.stderr
    r = docker(daemon, "run", "--rm", "busybox", "grep", "Seccomp:", "/proc/1/status")
    assert r.stdout.split() == ["Seccomp:", "2"]
    r = docker(daemon, "run", "--rm", "--security-opt", "seccomp=unconfined", "--cap-drop", "ALL",
               "--security-opt", "no-new-privileges", "busybox", "grep", "-E", "^(Seccomp|CapEff|NoNewPrivs):",
               "/proc/1/status")
    assert sorted(r.stdout.split()) == sorted(["NoNewPrivs:", "1", "Seccomp:", "0", "CapEff:", "0000000000000000"])


@pytest.mark.skipif(not os.path.exists(DOCKER), reason="docker CLI not installed")
def test_docker_cli_label_and_apparmor(daemon):
    r = docker(daemon, "run", "--rm", "--security-opt", "label=disable", "--security-opt", "apparmor=unconfined",
               "busybox", "echo", "ran")
    assert r.returncode == 0 and r.stdout.strip() == "ran", r.stderr
    r = docker(daemon, "run", "--rm", "--security-opt", "label=type:container_t", "busybox", "true")
    assert r.returncode == 125 and "SELinux" in r.stderr, r.stderr
    if not os.path.exists("/sys/module/apparmor/parameters/enabled"):
        r = docker(daemon, "run", "--rm", "--security-opt", "apparmor=docker-default", "busybox", "true")
        assert r.returncode == 125 and "AppArmor is not enabled on this host" in r.stderr, r.stderr


@pytest.mark.skipif(not os.path.exists(DOCKER), reason="docker CLI not installed")
def test_docker_cli_devices_sysctl_tmpfs(daemon):
    r = docker(daemon, "run", "--rm", "--read-only", "--tmpfs", "/scratch:size=2m,dev", "--sysctl", "kernel.msgmax=9999",
               "--device", "/dev/loop0:/dev/xloop:r", "--device-cgroup-rule", "b 7:1 r", "busybox", "sh", "-c",
               "cat /proc/sys/kernel/msgmax; grep ' /scratch ' /proc/mounts | cut -d' ' -f3,4; touch /x || echo ro;"
               " mknod /scratch/l1 b 7 1 && dd if=/scratch/l1 of=/dev/null count=1 2>/dev/null && echo rule-ok;"
               " echo x > /dev/xloop || echo write-denied")
    lines = r.stdout.splitlines()
    assert lines[0] == "9999", r.stdout + r.stderr
    assert lines[1].startswith("tmpfs ") and "size=2048k" in lines[1]
    assert lines[2:] == ["ro", "rule-ok", "write-denied"], r.stdout + r.stderr
    r = docker(daemon, "run", "--rm", "--privileged", "busybox", "sh", "-c", "ls /dev/loop0 && grep Seccomp: /proc/1/status")
    assert r.stdout.split() == ["/dev/loop0", "Seccomp:", "0"]
    r = docker(daemon, "run", "--rm", "--sysctl", "kernel.hostname=x", "busybox", "true")
    assert r.returncode != 0 and "not allowed" in r.stderr


def test_sdk_security_options(daemon):
    docker_sdk = pytest.importorskip("docker")
    client = docker_sdk.DockerClient(base_url="unix://" + daemon.sock, version="1.41", timeout=60)
    try:
        want = "name=seccomp,profile=" + ("/etc/isulad/seccomp_default.json"
                                          if os.path.exists("/etc/isulad/seccomp_default.json") else "builtin")
        assert want in client.info()["SecurityOptions"]
        out = client.containers.run("busybox", ["cat", "/proc/1/status"], remove=True, cap_add=["SYS_TIME"],
                                    security_opt=["no-new-privileges", "seccomp=" + json.dumps(DENY_CHMOD)],
                                    device_cgroup_rules=["c 1:11 r"], read_only=True, mem_limit="32m",
                                    user="nobody").decode()
        st = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        assert st["NoNewPrivs"].strip() == "1" and st["Seccomp"].strip() == "2"
        # a non-root user has no effective caps; the bounding set holds the added one
        assert int(st["CapBnd"], 16) == mask(DEFAULT_CAPS + ["SYS_TIME"])
        out = client.containers.run("busybox", ["cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"], remove=True,
                                    mem_limit="32m", user="nobody").decode()
        assert out.strip() == str(32 * 1024 * 1024)
        with pytest.raises(docker_sdk.errors.ContainerError):
            client.containers.run("busybox", ["chmod", "700", "/tmp"], remove=True,
                                  security_opt=["seccomp=" + json.dumps(DENY_CHMOD)])
        name = "sec-sdk-" + uuid.uuid4().hex[:8]
        c = client.containers.create("busybox", ["true"], name=name, privileged=True,
                                     security_opt=["seccomp=unconfined"])
        try:
            hc = client.api.inspect_container(c.id)["HostConfig"]
            assert hc["Privileged"] is True and hc["SecurityOpt"] == ["seccomp=unconfined"]
        finally:
            c.remove(force=True)
    finally:
        client.close()
