#!/usr/bin/python3
"""The cost of CNI networking in isulad: a private isulad, one bridge network on a private subnet
(10.254.x.0/24, checked against the host's routes) with a bridge of its own, and

  * serial `run --rm busybox true` and `run -d` + `rm -f`, without a network (the guide's loopback-only
    default), on the network, and on the network with one published port (-p 127.0.0.1:<free>:80):
    median / p90 of N runs, measured alternately so that load on the machine hits all alike
  * the CNI ADD + DEL cost on its own: the differences of those medians
  * 100 containers `run -d` in parallel on the network (20 clients), then `rm -f` of them all

With `--docker unix:///path/docker.sock`, the same against that dockerd through the docker CLI, side by side
(`--start-dockerd` starts one of its own for the run: its own bridge on a private subnet, `--ip-masq=false`,
everything under /tmp/dk-net, stopped by its PID afterwards, its bridge and the iptables rules and chains it made
removed):
its "no network" is `--net none` (loopback only, as isula's default), plus its default bridge (no `--net`,
with the userland proxy as that dockerd is configured); busybox is copied from isulad (`save` / `docker load`)
when the dockerd lacks it.

With `--podman`, the same with Debian's podman (rootful, netavark, everything of its own under /tmp/pd-net; see
PodmanCli): its "no network" is `--net none`; its network is made by the bench on a private subnet with DNS off.
netavark masquerades that subnet's outgoing traffic (podman 4.3 cannot turn it off): the containers send nothing,
and netavark's chains and rules, the bridge and any netns it left are removed at the end.

Everything it made is removed at the end (network, bridge, containers, daemon). Traffic: none leaves the
host; containers only get addresses. Prints a Markdown report. Not a test: no pass/fail.
"""
import argparse
import concurrent.futures
import os
import resource
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Engine, end_process, ms, timed  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "integration"))
from subnets import free_subnet  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def argv(engine, *args):
    return engine.argv(*args) if hasattr(engine, "argv") else engine.isula + list(args)


def serial(engine, n, modes):
    res = {(m, op): [] for m in modes for op in ("run --rm true", "run -d + rm -f")}
    for _ in range(n):
        for m, args in modes.items():
            extra = [a if a != "{port}" else "127.0.0.1:%d:80" % free_port() for a in args]
            res[(m, "run --rm true")].append(timed(argv(engine, "run", "--rm", *extra, "busybox", "true")))
            extra = [a if a != "{port}" else "127.0.0.1:%d:80" % free_port() for a in args]
            t = time.perf_counter()
            cid = engine.run("run", "-d", *extra, "busybox", "sleep", "1000")
            engine.run("rm", "-f", cid)
            res[(m, "run -d + rm -f")].append(time.perf_counter() - t)
    return res


def parallel(engine, net, count, clients):
    pool = concurrent.futures.ThreadPoolExecutor(clients)
    t = time.perf_counter()
    ids = list(pool.map(lambda _: engine.run("run", "-d", "--net", net, "busybox", "sleep", "1000"), range(count)))
    run_s = time.perf_counter() - t
    t = time.perf_counter()
    list(pool.map(lambda c: engine.run("rm", "-f", c), ids))
    rm_s = time.perf_counter() - t
    pool.shutdown()
    return run_s, rm_s


class DockerCli:
    """A dockerd driven by the docker CLI, with Engine's run/isula interface."""

    def __init__(self, host):
        self.isula = [os.environ.get("DOCKER_CLI", "docker"), "-H", host]

    def argv(self, *args):
        return self.isula + list(args)

    def run(self, *args):
        r = subprocess.run(self.argv(*args), capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("docker %s: %s" % (" ".join(args), r.stderr.strip()))
        return r.stdout.strip()


def docker_busybox(docker, engine, base):
    if subprocess.run(docker.isula + ["image", "inspect", "busybox"], capture_output=True).returncode == 0:
        return
    tar = os.path.join(base, "busybox.tar")
    engine.run("save", "-o", tar, "busybox")
    docker.run("load", "-i", tar)


def iptables_state():
    """{(table, chain)} declared and {(table, rule argv)} of the host's iptables."""
    chains, rules, table = set(), [], None
    for line in subprocess.run(["iptables-save"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(":"):
            chains.add((table, line[1:].split()[0]))
        elif line.startswith("-A "):
            rules.append((table, tuple(shlex.split(line)[1:])))
    return chains, rules


def undo_iptables(chains0, rules0, mine=lambda words: True):
    """Removes the rules and chains the host's iptables has now and had not before (those mine() accepts)."""
    chains, rules = iptables_state()
    for table, argv in rules:
        if (table, argv) not in rules0 and mine(argv):
            subprocess.run(["iptables", "-w", "-t", table, "-D"] + list(argv), capture_output=True)
    made = [c for c in chains if c not in chains0 and mine(c[1:])]
    for table, chain in made:
        subprocess.run(["iptables", "-w", "-t", table, "-F", chain], capture_output=True)
    for table, chain in made:
        subprocess.run(["iptables", "-w", "-t", table, "-X", chain], capture_output=True)


DK_DIR = "/tmp/dk-net"


def start_dockerd():
    """A dockerd of the bench's own (see the module's doc); returns what stop_dockerd needs."""
    before = iptables_state()
    bridge = "dkn" + uuid.uuid4().hex[:8]
    subnet = free_subnet()
    subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True)
    subprocess.run(["ip", "addr", "add", "%s/%d" % (subnet.network_address + 1, subnet.prefixlen), "dev", bridge],
                   check=True)
    subprocess.run(["ip", "link", "set", bridge, "up"], check=True)
    os.makedirs(DK_DIR, exist_ok=True)
    log = open(os.path.join(DK_DIR, "dockerd.log"), "ab")
    proc = subprocess.Popen(["dockerd", "--bridge", bridge, "--ip-masq=false", "--ip6tables=false",
                             "--data-root", DK_DIR + "/root", "--exec-root", DK_DIR + "/exec", "--pidfile",
                             DK_DIR + "/pid", "-H", "unix://" + DK_DIR + "/docker.sock"],
                            stdout=log, stderr=log, start_new_session=True)
    log.close()
    host = "unix://" + DK_DIR + "/docker.sock"
    for _ in range(600):
        if subprocess.run([os.environ.get("DOCKER_CLI", "docker"), "-H", host, "version"],
                          capture_output=True).returncode == 0:
            return proc, bridge, before, host
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    stop_dockerd((proc, bridge, before, host))
    raise RuntimeError("dockerd did not start (see %s/dockerd.log)" % DK_DIR)


def stop_dockerd(state):
    proc, bridge, (chains0, rules0), _ = state
    end_process(proc)
    undo_iptables(chains0, rules0)
    if os.path.exists("/sys/class/net/" + bridge):
        subprocess.run(["ip", "link", "delete", bridge])
    with open("/proc/mounts") as f:
        mounts = [line.split()[1] for line in f if DK_DIR in line]
    for m in reversed(mounts):
        subprocess.run(["umount", "-l", m])
    shutil.rmtree(DK_DIR, ignore_errors=True)


def docker_style_network(engine, net, subnet):
    """isulad's and Docker's: a bridge named by the bench, no masquerading; returns the bridge's name."""
    bridge = "isdb" + uuid.uuid4().hex[:8]
    engine.run("network", "create", "--subnet", str(subnet), "-o", "com.docker.network.bridge.name=" + bridge,
               "-o", "com.docker.network.bridge.enable_ip_masquerade=false", net)
    return bridge


PD_DIR = "/tmp/pd-net"


class PodmanCli(DockerCli):
    """Rootful podman with everything of its own under PD_DIR: storage, run state, the network backend's
    (netavark's) configuration; cgroupfs, runc (crun 1.8 refuses hybrid cgroups), no events log."""

    def __init__(self):
        self.isula = [os.environ.get("PODMAN", "podman"), "--root", PD_DIR + "/root", "--runroot", PD_DIR + "/run",
                      "--tmpdir", PD_DIR + "/tmp", "--network-config-dir", PD_DIR + "/net",
                      "--network-backend", "netavark", "--cgroup-manager", "cgroupfs", "--events-backend", "none",
                      "--runtime", "runc", "--storage-driver", "overlay"]

    def argv(self, *args):
        # podman raises the container's RLIMIT_NOFILE to 1048576, which a host without CAP_SYS_RESOURCE (this
        # machine's sandbox) refuses: the bench's own instead, and podman's default nproc said explicitly (runc
        # refused it otherwise); rm -f without the 10 s stop timeout (docker's rm -f kills at once)
        if args and args[0] == "run":
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            args = ("run", "--ulimit", "nofile=%d:%d" % (soft, hard), "--ulimit", "nproc=32768:32768") + args[1:]
        elif args[:2] == ("rm", "-f"):
            args = ("rm", "-f", "-t", "0") + args[2:]
        return self.isula + list(args)


def netns_names():
    try:
        return set(os.listdir("/run/netns"))
    except OSError:
        return set()


def start_podman():
    """Returns what stop_podman needs; the host's iptables and /run/netns as they were before."""
    os.makedirs(PD_DIR + "/net", exist_ok=True)
    return PodmanCli(), iptables_state(), netns_names()


def podman_network(engine, net, subnet):
    """podman 4.3 names the bridge itself (podmanN) and cannot turn masquerading off (see docs/benchmarks.md);
    DNS (aardvark) off. Returns the bridge's name."""
    engine.run("network", "create", "--disable-dns", "--subnet", str(subnet), net)
    return engine.run("network", "inspect", "--format", "{{.NetworkInterface}}", net)


def stop_podman(state):
    pd, (chains0, rules0), ns0 = state
    for args in (["rm", "-a", "-f", "-t", "0"], ["network", "prune", "-f"], ["rmi", "-a", "-f"]):
        subprocess.run(pd.isula + args, capture_output=True)
    # netavark's: its chains (NETAVARK-*, NETAVARK_*) and the rules naming them or it; not another test's
    undo_iptables(chains0, rules0, lambda words: any("netavark" in w.lower() for w in words))
    for ns in netns_names() - ns0:  # podman's netns-<uuid>, left only if a container's cleanup failed
        if ns.startswith("netns-"):
            subprocess.run(["umount", "/run/netns/" + ns], capture_output=True)
            try:
                os.unlink("/run/netns/" + ns)
            except OSError:
                pass
    with open("/proc/mounts") as f:
        mounts = [line.split()[1] for line in f if PD_DIR in line]
    for m in reversed(mounts):
        subprocess.run(["umount", "-l", m])
    shutil.rmtree(PD_DIR, ignore_errors=True)


def measure(engine, a, no_net, extra_modes, make_network=docker_style_network):
    """Makes a network with its own bridge, measures, removes what it made (containers, network, bridge)."""
    net = "bench-" + uuid.uuid4().hex[:6]
    bridge = None
    mine = set(engine.run("ps", "-a", "-q", "--no-trunc").split())
    try:
        subnet = free_subnet()
        bridge = make_network(engine, net, subnet)
        modes = {"no network": no_net, **extra_modes, "network": ["--net", net],
                 "network + 1 port": ["--net", net, "-p", "{port}"]}
        engine.run("run", "--rm", "--net", net, "busybox", "true")  # the bridge exists from here on
        res = serial(engine, a.n, modes)
        run_s, rm_s = parallel(engine, net, a.parallel, a.clients)
    finally:
        for cid in set(engine.run("ps", "-a", "-q", "--no-trunc").split()) - mine:
            subprocess.run(engine.isula + ["rm", "-f", cid], capture_output=True)
        subprocess.run(engine.isula + ["network", "rm", net], capture_output=True)  # its bridge and rules
        if bridge and os.path.exists("/sys/class/net/" + bridge):
            subprocess.run(["ip", "link", "delete", bridge])
    return modes, res, run_s, rm_s


def report(name, a, modes, res, run_s, rm_s):
    lines = ["### %s" % name, "", "| operation | " + " | ".join(modes) + " |", "| --- |" + " --- |" * len(modes)]
    for op in ("run --rm true", "run -d + rm -f"):
        lines.append("| %s | %s |" % (op, " | ".join(ms(res[(m, op)]) for m in modes)))
    lines.append("")
    lines.append("Network cost (difference of medians against no network):")
    for op in ("run --rm true", "run -d + rm -f"):
        base_med = statistics.median(res[("no network", op)])
        lines.append("- %s: %s" % (op, ", ".join("%s %+.1f ms" % (m, (statistics.median(res[(m, op)]) - base_med)
                                                                    * 1000) for m in modes if m != "no network")))
    lines.append("")
    lines.append("%d × `run -d --net` in parallel (%d clients): %.2f s; `rm -f` of them: %.2f s" %
                 (a.parallel, a.clients, run_s, rm_s))
    lines.append("")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--parallel", type=int, default=100)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--docker", help="a dockerd to compare with, e.g. unix:///run/docker.sock")
    ap.add_argument("--start-dockerd", action="store_true",
                    help="start a dockerd of its own for the comparison (under %s)" % DK_DIR)
    ap.add_argument("--podman", action="store_true",
                    help="also podman (rootful, netavark), everything of its own under %s" % PD_DIR)
    ap.add_argument("--out")
    a = ap.parse_args()
    base = tempfile.mkdtemp(prefix="isd-bench-net-")
    engine = Engine(a.build, base)
    results = []
    dk = pd = None
    try:
        results.append(("isulad (CNI: bridge, host-local; ports: isulad's own DNAT chains)",) +
                       measure(engine, a, [], {}))
        if a.start_dockerd:
            dk = start_dockerd()
            a.docker = dk[3]
        if a.docker:
            docker = DockerCli(a.docker)
            docker_busybox(docker, engine, base)
            results.append(("Docker (%s)" % a.docker,) +
                           measure(docker, a, ["--net", "none"], {"default bridge": []}))
        if a.podman:
            pd = start_podman()
            docker_busybox(pd[0], engine, base)
            results.append(("Podman %s (netavark; rootful, runc)" % pd[0].run("version", "--format", "{{.Client.Version}}"),)
                           + measure(pd[0], a, ["--net", "none"], {}, podman_network))
    finally:
        if pd is not None:
            stop_podman(pd)
        if dk is not None:
            stop_dockerd(dk)
        engine.stop()
        shutil.rmtree(base, ignore_errors=True)
    lines = ["Machine: %d cores, kernel %s; n=%d serial runs (modes alternated); median / p90 in ms." %
             (os.cpu_count(), os.uname().release, a.n), ""]
    for r in results:
        lines += report(r[0], a, *r[1:])
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
