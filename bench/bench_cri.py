#!/usr/bin/python3
"""CRI pods side by side: isulad and Debian's containerd 1.6 (its CRI plugin), both on the same CNI network.

Both daemons run side by side, and measure:
  * pod up: RunPodSandbox + CreateContainer + StartContainer (busybox `sleep`), and pod down: StopPodSandbox +
    RemovePodSandbox, serial (median / p90 of n runs), a pod of each runtime in turn (the same load on both)
  * 50 pods up in parallel and down in parallel (wall time, 50 client threads), one runtime after the other
  * with the 50 pods running: the RSS of the per-pod monitor processes (isulad-shim, one per container and one
    for the pause container; containerd-shim-runc-v2, one per pod) summed and divided by the pods, and the
    daemon's RSS
  * with --runc-floor, also runc alone in the same alternation: two `runc run -d` of a trivial bundle per pod up,
    two `runc delete -f` per pod down (the runtime's share, the floor of an engine that runs two runc containers
    per pod)

Both runtimes get the same images (busybox and the pause image, saved from isulad's built-in ones and imported
into containerd with `ctr -n k8s.io images import`: nothing is pulled), the same CNI conf dir and plugins (a
bridge on a free 10.254.x.0/24 test subnet, no masquerade), runc and cgroupfs. containerd is started by this
script with its own config, root and state under /tmp/ctd-bench and its own socket, and stopped by its PID.
Needs root, containerd (scripts/install-deps.sh --bench), grpcio and grpc_tools. Not a test: just numbers.
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ROOT, Engine, cri_stubs, ms, rss_kib  # noqa: E402

CTD_DIR = "/tmp/ctd-bench"
BRIDGE = "isdbcri0"
PAUSE = "isulad/pause:builtin"


def free_subnet():
    used = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True).stdout
    for x in range(200, 250):
        net = "10.254.%d." % x
        if net not in used:
            return net + "0/24"
    raise RuntimeError("no free 10.254.x.0/24 subnet")


def write_cni(conf_dir, ipam_dir):
    os.makedirs(conf_dir)
    conf = {"cniVersion": "0.4.0", "name": "bench-cri", "plugins": [
        {"type": "bridge", "bridge": BRIDGE, "isGateway": True, "ipMasq": False,
         "ipam": {"type": "host-local", "subnet": free_subnet(), "routes": [{"dst": "0.0.0.0/0"}],
                  "dataDir": ipam_dir}},
        {"type": "portmap", "capabilities": {"portMappings": True}}]}
    with open(os.path.join(conf_dir, "10-bench.conflist"), "w") as f:
        json.dump(conf, f)


def shim_pids(pattern):
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


class Pods:
    """Pods of one runtime through its CRI socket."""

    def __init__(self, sock, base, node, shim_pattern, daemon_pid):
        import grpc
        self.pb, pbg = cri_stubs(base)
        self.ch = grpc.insecure_channel("unix://" + sock)
        self.rt = pbg.RuntimeServiceStub(self.ch)
        self.node = node
        self.shim_pattern = shim_pattern
        self.daemon_pid = daemon_pid
        self.tag = uuid.uuid4().hex[:6]

    def up(self, i):
        pb, rt = self.pb, self.rt
        meta = pb.PodSandboxMetadata(name="bench%d" % i, namespace="bench", uid="uid-%s-%d" % (self.tag, i))
        linux = pb.LinuxPodSandboxConfig()
        if self.node:  # hostNetwork: the runtime path alone, without CNI
            linux = pb.LinuxPodSandboxConfig(security_context=pb.LinuxSandboxSecurityContext(
                namespace_options=pb.NamespaceOption(network=pb.NODE)))
        scfg = pb.PodSandboxConfig(metadata=meta, hostname="" if self.node else "bench%d" % i, linux=linux)
        pid = rt.RunPodSandbox(pb.RunPodSandboxRequest(config=scfg), timeout=300).pod_sandbox_id
        cfg = pb.ContainerConfig(metadata=pb.ContainerMetadata(name="c"), image=pb.ImageSpec(image="busybox"),
                                 args=["sleep", "1000"])
        cid = rt.CreateContainer(pb.CreateContainerRequest(pod_sandbox_id=pid, config=cfg, sandbox_config=scfg),
                                 timeout=300).container_id
        rt.StartContainer(pb.StartContainerRequest(container_id=cid), timeout=300)
        return pid

    def down(self, pid):
        self.rt.StopPodSandbox(self.pb.StopPodSandboxRequest(pod_sandbox_id=pid), timeout=300)
        self.rt.RemovePodSandbox(self.pb.RemovePodSandboxRequest(pod_sandbox_id=pid), timeout=300)

    def parallel(self, count):
        with concurrent.futures.ThreadPoolExecutor(max_workers=count) as ex:
            t = time.perf_counter()
            pids = list(ex.map(self.up, range(1000, 1000 + count)))
            t_up = time.perf_counter() - t
            time.sleep(1)
            shims = shim_pids(self.shim_pattern)
            mem = {"shims": len(shims), "shim_per_pod": sum(rss_kib(p) for p in shims) / count,
                   "daemon": rss_kib(self.daemon_pid)}
            t = time.perf_counter()
            list(ex.map(self.down, pids))
            t_down = time.perf_counter() - t
        return {"up": t_up, "down": t_down}, mem


class RuncFloor:
    """The runtime's own share of a pod, without any engine: a pod up is two `runc run -d` of a trivial bundle (the
    static isulad-pause as the process: the pause container, then the container), a pod down two
    `runc delete -f`; no network, no shim. Measured alternately with the engines' pods, under the same load."""

    def __init__(self, build, base):
        self.bundle = os.path.join(base, "runc-floor")
        self.root = os.path.join(base, "runc-floor-root")
        os.makedirs(os.path.join(self.bundle, "rootfs"))
        shutil.copy(os.path.join(build, "isulad-pause"), os.path.join(self.bundle, "rootfs", "pause"))
        subprocess.run(["runc", "spec"], cwd=self.bundle, check=True)
        path = os.path.join(self.bundle, "config.json")
        with open(path) as f:
            spec = json.load(f)
        spec["process"].update(terminal=False, args=["/pause"])
        spec["root"]["readonly"] = True
        with open(path, "w") as f:
            json.dump(spec, f)
        self.tag = uuid.uuid4().hex[:6]
        self.ch = self  # pod_bench closes a runner's channel

    def close(self):
        for cid in os.listdir(self.root) if os.path.isdir(self.root) else []:
            subprocess.run(["runc", "--root", self.root, "delete", "-f", cid], capture_output=True)

    def runc(self, *args):
        subprocess.run(["runc", "--root", self.root] + list(args), check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def up(self, i):
        ids = ["floor-%s-%d-%s" % (self.tag, i, k) for k in ("pause", "c")]
        for cid in ids:
            self.runc("run", "-d", "--bundle", self.bundle, cid)
        return ids

    def down(self, ids):
        for cid in ids:
            self.runc("delete", "-f", cid)

    def parallel(self, count):
        with concurrent.futures.ThreadPoolExecutor(max_workers=count) as ex:
            t = time.perf_counter()
            pods = list(ex.map(self.up, range(1000, 1000 + count)))
            t_up = time.perf_counter() - t
            t = time.perf_counter()
            list(ex.map(self.down, pods))
            t_down = time.perf_counter() - t
        return {"up": t_up, "down": t_down}, None


def pod_bench(runners, n, count):
    """Serial pods of the runtimes alternately (one up and down of each in turn: the same load on both), then the
    parallel pods of one runtime after the other."""
    res = {k: {"pod up": [], "pod down": []} for k in runners}
    for r in runners.values():
        r.down(r.up(-1))  # warm-up (isulad builds its built-in pause image here when it is absent)
    for i in range(n):
        for k, r in runners.items():
            t = time.perf_counter()
            pid = r.up(i)
            res[k]["pod up"].append(time.perf_counter() - t)
            t = time.perf_counter()
            r.down(pid)
            res[k]["pod down"].append(time.perf_counter() - t)
    out = {}
    for k, r in runners.items():
        out[k] = (res[k],) + r.parallel(count)
        r.ch.close()
    return out


def ctd_config(conf_dir):
    return """version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd.sock.ttrpc"
[debug]
  level = "error"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/{pause}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  restrict_oom_score_adj = true  # no CAP_SYS_RESOURCE here: a negative oom_score_adj would fail every pod
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{conf}"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{d}/runc"
""".format(d=CTD_DIR, pause=PAUSE, conf=conf_dir)


class Containerd:
    def __init__(self, conf_dir, images):
        if os.path.exists(CTD_DIR):
            raise RuntimeError("%s exists: another bench running, or a leftover to clean" % CTD_DIR)
        os.makedirs(CTD_DIR)
        # containerd 1.6's shims keep their sockets in /run/containerd/s whatever the config says
        self.made_run = not os.path.exists("/run/containerd")
        self.sock = os.path.join(CTD_DIR, "containerd.sock")
        conf = os.path.join(CTD_DIR, "config.toml")
        with open(conf, "w") as f:
            f.write(ctd_config(conf_dir))
        self.log = open(os.path.join(CTD_DIR, "containerd.log"), "w")
        self.proc = subprocess.Popen(["containerd", "--config", conf], stdout=self.log, stderr=self.log,
                                     start_new_session=True)
        self.ctr = ["ctr", "--address", self.sock, "-n", "k8s.io"]
        for _ in range(200):
            if subprocess.run(self.ctr + ["version"], capture_output=True).returncode == 0:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("containerd did not start")
        for tar in images:
            subprocess.run(self.ctr + ["images", "import", tar], check=True, capture_output=True)

    def stop(self):
        # pods left by a failed run: their shims, then the daemon, then what they left on the host
        for pid in shim_pids("containerd-shim-runc-v2 .*-address " + self.sock):
            os.kill(pid, signal.SIGKILL)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        mounts = [line.split()[1] for line in open("/proc/self/mounts") if CTD_DIR in line.split()[1]]
        for m in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(CTD_DIR, ignore_errors=True)
        if self.made_run:
            for sub in ("s", "runc", ""):
                try:
                    os.rmdir(os.path.join("/run/containerd", sub))
                except OSError:
                    pass


def save_images(engine, base):
    out = []
    for ref, name in (("busybox:latest", "busybox.tar"), (PAUSE, "pause.tar")):
        path = os.path.join(base, name)
        engine.run("save", "-o", path, ref)
        out.append(path)
    return out


def netns_names():
    return set(os.listdir("/var/run/netns")) if os.path.isdir("/var/run/netns") else set()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--parallel", type=int, default=50)
    ap.add_argument("--node-network", action="store_true", help="hostNetwork pods (no CNI) instead of the bridge")
    ap.add_argument("--baseline", metavar="BUILD",
                    help="also an isulad of another build dir (a before/after comparison under the same load)")
    ap.add_argument("--no-containerd", action="store_true", help="isulad alone (quicker before/after comparisons)")
    ap.add_argument("--runc-floor", action="store_true",
                    help="also two bare `runc run -d` / `runc delete -f` of a trivial bundle per pod (the runtime's own "
                         "share), alternating with the pods")
    ap.add_argument("--out")
    a = ap.parse_args()
    base = tempfile.mkdtemp(prefix="isd-bench-cri-", dir="/tmp")
    conf_dir, ipam_dir = os.path.join(base, "cni-conf"), os.path.join(base, "cni-ipam")
    write_cni(conf_dir, ipam_dir)
    ns_before = netns_names()
    results = {}
    try:
        engine = Engine(a.build, base, ["--pod-sandbox-image", PAUSE, "--cni-conf-dir", conf_dir,
                                        "--cni-bin-dir", "/usr/lib/cni"])
        ctd = base_engine = floor = None
        try:
            runners = {"isulad": Pods(engine.sock, base, a.node_network, "isulad-shim.*" + engine.base,
                                      engine.proc.pid)}
            runners["isulad"].down(runners["isulad"].up(-2))  # the built-in pause image exists from here on
            if a.baseline:
                bdir = os.path.join(base, "baseline")
                os.makedirs(bdir)
                base_engine = Engine(a.baseline, bdir, ["--pod-sandbox-image", PAUSE, "--cni-conf-dir", conf_dir,
                                                        "--cni-bin-dir", "/usr/lib/cni"])
                runners["baseline"] = Pods(base_engine.sock, bdir, a.node_network, "isulad-shim.*" + bdir,
                                           base_engine.proc.pid)
                runners["baseline"].down(runners["baseline"].up(-2))
            if a.no_containerd:
                results["containerd"] = "skipped (--no-containerd)"
            elif shutil.which("containerd") is None:
                results["containerd"] = "not installed (scripts/install-deps.sh --bench)"
            else:
                ctd = Containerd(conf_dir, save_images(engine, base))
                runners["containerd"] = Pods(ctd.sock, base, a.node_network,
                                             "containerd-shim-runc-v2 .*-address " + ctd.sock, ctd.proc.pid)
            if a.runc_floor:
                floor = runners["runc"] = RuncFloor(a.build, base)
            results.update(pod_bench(runners, a.n, a.parallel))
        finally:
            if floor is not None:
                floor.close()
            if ctd is not None:
                ctd.stop()
            if base_engine is not None:
                base_engine.stop()
            engine.stop()
    finally:
        for ns in netns_names() - ns_before:
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)
        if os.path.exists("/sys/class/net/" + BRIDGE):
            subprocess.run(["ip", "link", "delete", BRIDGE])
        shutil.rmtree(base, ignore_errors=True)
    ver = subprocess.run(["containerd", "--version"], capture_output=True, text=True).stdout.split()
    keys = ["isulad"] + (["baseline"] if a.baseline else []) + ["containerd"] + (["runc"] if a.runc_floor else [])
    names = ["isulad"] + (["isulad (baseline: %s)" % a.baseline] if a.baseline else []) + [
        "containerd %s" % (ver[2] if len(ver) > 2 else "")] + (["runc alone (2 x run -d / delete -f)"]
                                                               if a.runc_floor else [])
    lines = ["# CRI pods: isulad vs containerd", "",
             "Machine: %s cores, kernel %s; n=%d serial pods; %d pods in parallel; %s, runc, cgroupfs. "
             "Times are median / p90 in ms." % (os.cpu_count(), os.uname().release, a.n, a.parallel,
                                                "node network" if a.node_network else "bridge CNI network"), "",
             "| CRI pods | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    rows = [("pod up (RunPodSandbox + CreateContainer + StartContainer)", lambda r: ms(r[0]["pod up"])),
            ("pod down (StopPodSandbox + RemovePodSandbox)", lambda r: ms(r[0]["pod down"])),
            ("%d pods up in parallel, wall time" % a.parallel, lambda r: "%.2f s" % r[1]["up"]),
            ("%d pods down in parallel, wall time" % a.parallel, lambda r: "%.2f s" % r[1]["down"]),
            ("monitor RSS per pod (isulad-shim x2 / containerd-shim-runc-v2)",
             lambda r: "%.2f MiB (%d shims)" % (r[2]["shim_per_pod"] / 1024, r[2]["shims"])),
            ("daemon RSS with %d pods" % a.parallel, lambda r: "%.1f MiB" % (r[2]["daemon"] / 1024))]
    for label, f in rows:
        cells = [results[k] if isinstance(results[k], str) else "–" if results[k][2] is None and "RSS" in label
                 else f(results[k]) for k in keys]
        lines.append("| %s | %s |" % (label, " | ".join(cells)))
    if a.baseline:
        i, b = results["isulad"], results["baseline"]
        lines += ["", "Ratio of medians, isulad / baseline: pod up %.2fx, pod down %.2fx." % (
            statistics.median(i[0]["pod up"]) / statistics.median(b[0]["pod up"]),
            statistics.median(i[0]["pod down"]) / statistics.median(b[0]["pod down"]))]
    if not isinstance(results.get("containerd"), str):
        i, c = results["isulad"], results["containerd"]
        lines += ["", "Ratio of medians, isulad / containerd: pod up %.2fx, pod down %.2fx." % (
            statistics.median(i[0]["pod up"]) / statistics.median(c[0]["pod up"]),
            statistics.median(i[0]["pod down"]) / statistics.median(c[0]["pod down"]))]
        if a.runc_floor:
            r = results["runc"]
            lines += ["", "runc alone / containerd: pod up %.2fx, pod down %.2fx." % (
                statistics.median(r[0]["pod up"]) / statistics.median(c[0]["pod up"]),
                statistics.median(r[0]["pod down"]) / statistics.median(c[0]["pod down"]))]
    report = "\n".join(lines) + "\n"
    print(report)
    if a.out:
        with open(a.out, "w") as f:
            f.write(report)


if __name__ == "__main__":
    sys.exit(main())
