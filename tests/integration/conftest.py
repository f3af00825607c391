"""Integration test fixtures: a private isulad per session, driven by the real `isula` (and docker CLI/SDK).

Everything lives under one short temp dir (unix socket paths are limited to 108 bytes): graph, state,
socket, pidfile, daemon log. At the end of the session every container is removed, isulad is stopped, and
the session fails if mounts or shim processes of ours are left behind.
"""
import json
import os
import shlex
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time

import pytest

from subnets import free_bip

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("ISD_BUILD_DIR", os.path.join(ROOT, "build"))


def bin_path(name):
    return os.path.join(BUILD, name)


def import_testinit(isula, tmpdir, ref):
    """Imports a one-file image as ref: the tree's static `testinit` with the few empty dirs a rootfs needs."""
    path = os.path.join(str(tmpdir), "rootfs.tar")
    with tarfile.open(path, "w") as tar:
        tar.add(bin_path("testinit"), arcname="testinit")
        for d in ("proc", "sys", "dev", "etc", "tmp"):
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
    isula.ok("import", path, ref)
    return ref







def iptables_rules(save="iptables-save"):
    """[(table, rule argv after "-A")] of the host's iptables (ip6tables with save="ip6tables-save")."""
    table, rules = None, []
    for line in subprocess.run([save], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith("-A ") and table is not None:
            rules.append((table, shlex.split(line)[1:]))
    return rules


def drop_rules(pred):
    """Deletes every rule pred(table, argv) selects, each by its own argv (no shell); IPv6 ones too (the rules of
    IPv6 networks)."""
    for cmd in ("iptables", "ip6tables"):
        for table, argv in iptables_rules(cmd + "-save"):
            if pred(table, argv):
                subprocess.run([cmd, "-w", "-t", table, "-D"] + argv, capture_output=True)


def rule_comment(argv):
    return argv[argv.index("--comment") + 1] if "--comment" in argv[:-1] else None


def default_bridge_rules(bridge):
    """The rules of a daemon's default network (comment isulad:bridge) on device `bridge`."""
    return [(t, a) for t, a in iptables_rules() + iptables_rules("ip6tables-save")
            if rule_comment(a) == "isulad:bridge" and bridge in a]


def drop_default_bridge(d):
    """The default bridge network outlives its daemon (as docker0 does): a test daemon's bridge and the rules
    naming it go with the daemon's directory."""
    drop_rules(lambda t, a: rule_comment(a) == "isulad:bridge" and d.bridge in a)
    if os.path.exists("/sys/class/net/" + d.bridge):
        subprocess.run(["ip", "link", "delete", d.bridge])


ALL_DAEMONS = []


class _DefaultBridge:
    bridge = "isula0"  # what a daemon started without --bridge makes


# The default-named bridge's rules the host had before the session: any other one a daemon of the session made is
# removed at its end (every test daemon should get --bridge/--bip/--ip-masq=false from Daemon.args(), and a
# daemon makes a network's rules only when a container joins it; this is the safety net for one that did not).
_DEFAULT_BRIDGE_RULES_BEFORE = default_bridge_rules(_DefaultBridge.bridge)


def pytest_sessionfinish(session, exitstatus):
    for d in ALL_DAEMONS:  # those torn down by a test's own code too
        drop_default_bridge(d)
    drop_rules(lambda t, a: (t, a) not in _DEFAULT_BRIDGE_RULES_BEFORE and rule_comment(a) == "isulad:bridge"
               and _DefaultBridge.bridge in a)


class Daemon:
    def __init__(self, base, extra_args=()):
        self.base = base
        self.graph = os.path.join(base, "graph")
        self.state = os.path.join(base, "state")
        self.sock = os.path.join(base, "isulad.sock")
        self.pidfile = os.path.join(base, "isulad.pid")
        self.conf = os.path.join(base, "daemon.json")
        self.log = os.path.join(base, "isulad.log")
        self.extra_args = list(extra_args)
        self.bip = free_bip()
        self.bridge = "isdb" + os.path.basename(base)[-8:].replace("_", "0").lower()
        self.proc = None
        ALL_DAEMONS.append(self)
        if not os.path.exists(self.conf):
            with open(self.conf, "w") as f:
                json.dump({}, f)

    @property
    def host(self):
        return "unix://" + self.sock

    def args(self):
        return [bin_path("isulad"), "--config-file", self.conf, "-H", self.host, "-g", self.graph,
                "-S", self.state, "-p", self.pidfile, "--log-driver", "stdout", "-l", "DEBUG", "--bip", self.bip,
                "--bridge", self.bridge, "--ip-masq=false"] + self.cni_conf_args() + self.extra_args

    def cni_conf_args(self):
        """A cni-conf-dir of the test's own unless the test passes one: the host's /etc/cni/net.d may hold
        other engines' networks (Debian's podman installs 87-podman-bridge.conflist, masquerading)."""
        if any(a == "--cni-conf-dir" or a.startswith("--cni-conf-dir=") for a in self.extra_args):
            return []
        own = os.path.join(self.base, "net.d")
        os.makedirs(own, exist_ok=True)
        return ["--cni-conf-dir", own]

    def start(self, timeout=20):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(self.args(), stdout=logf, stderr=logf, start_new_session=True)
        logf.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("isulad exited with %s:\n%s" % (self.proc.returncode, self.read_log()[-3000:]))
            if os.path.exists(self.sock):
                r = subprocess.run([bin_path("isula"), "-H", self.host, "version"], capture_output=True)
                if r.returncode == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("isulad did not come up:\n" + self.read_log()[-3000:])

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        return rc

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


class Isula:
    def __init__(self, daemon):
        self.daemon = daemon

    def __call__(self, *args, input=None, timeout=60, check=False):
        cmd = [bin_path("isula")] + [str(a) for a in args]
        env = dict(os.environ, ISULAD_HOST=self.daemon.host)
        r = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout, env=env,
                           text=isinstance(input, str) or input is None)
        if check and r.returncode != 0:
            raise AssertionError("%s failed (%d): %s %s" % (cmd, r.returncode, r.stdout, r.stderr))
        return r

    def ok(self, *args, **kw):
        return self(*args, check=True, **kw).stdout.strip()

    def inspect(self, ref):
        return json.loads(self.ok("inspect", ref))[0]


def leftover_mounts(base):
    with open("/proc/mounts") as f:
        return [line for line in f if base in line]


def shim_pids(base):
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "isulad-shim" in cmd and base in cmd:
            pids.append(int(pid))
    return pids


def cleanup_all(isula):
    r = isula("ps", "-a", "-q", "--no-trunc")
    for cid in r.stdout.split():
        isula("rm", "-f", cid, timeout=60)


@pytest.fixture(scope="session")
def daemon():
    base = tempfile.mkdtemp(prefix="isd-it-", dir="/tmp")
    d = Daemon(base)
    d.start()
    yield d
    try:
        if d.proc is None:
            d.start()
        cleanup_all(Isula(d))
    finally:
        d.stop()
        mounts = leftover_mounts(base)
        shims = shim_pids(base)
        for pid in shims:
            os.kill(pid, signal.SIGKILL)
        for m in reversed(mounts):
            subprocess.run(["umount", "-l", m.split()[1]])
        drop_default_bridge(d)
        # a runc state dir or cgroup may remain if a test crashed; the graph is ours to remove
        shutil.rmtree(base, ignore_errors=True)
        assert not mounts, "mounts left behind: %s" % mounts
        assert not shims, "shims left behind: %s" % shims


@pytest.fixture
def isula(daemon):
    return Isula(daemon)


@pytest.fixture
def container(isula):
    """Creates containers through the fixture and removes them after the test, also when it fails."""
    made = []

    def make(*args):
        out = isula.ok(*args)
        cid = out.splitlines()[-1].strip() if out else ""
        made.append(cid)
        return cid

    yield make
    for cid in made:
        if cid:
            isula("rm", "-f", cid)


def teardown_daemon(d):
    """Leaves nothing of a test's own daemon: its containers removed (restarting it first when it was stopped
    with shims still alive), then the daemon stopped, stray shims killed, mounts detached, its dir deleted."""
    try:
        if d.proc is None and os.path.isdir(d.graph) and shim_pids(d.base):
            d.start()
        if d.proc is not None:
            cleanup_all(Isula(d))
    finally:
        d.stop()
        for pid in shim_pids(d.base):
            os.kill(pid, signal.SIGKILL)
        for m in reversed(leftover_mounts(d.base)):
            subprocess.run(["umount", "-l", m.split()[1]])
        drop_default_bridge(d)
        shutil.rmtree(d.base, ignore_errors=True)


@pytest.fixture
def new_daemon():
    """Factory of private daemons in their own temp dirs, never the session one:
    new_daemon(extra_args=(), config=None) -> Daemon, not started. Torn down after the test, also on failure."""
    made = []

    def make(extra_args=(), config=None):
        base = tempfile.mkdtemp(prefix="isd-it-d-", dir="/tmp")
        if config is not None:
            with open(os.path.join(base, "daemon.json"), "w") as f:
                json.dump(config, f)
        d = Daemon(base, extra_args)
        made.append(d)
        return d

    yield make
    for d in made:
        teardown_daemon(d)
