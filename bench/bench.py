#!/usr/bin/python3
"""ptcr-style benchmark of isulad against the raw OCI runtime (and docker/podman when a daemon is there).

Starts a private isulad (temp graph/state/socket), then measures in one run:
  * serial create / start / stop / rm / run -d / run --rm true (median and p90 of N runs)
  * 100 containers in parallel, 20 clients: wall time of each phase (create, start, stop, rm)
  * isulad RSS idle and with 100 running containers, isulad-shim RSS per container
  * the floor: `runc run` / `crun run` of the same busybox bundle, and the shim-less `runc create+start+delete`
  * the target ratio: `isula run --rm busybox true` and `runc run` of that bundle measured alternately
  * the same ratio with seccomp on both sides: isula applies its default profile to every container, the
    runtime's bundle gets the very linux.seccomp isula generated (issue 8's target: within 1.5x)
  * attached output: 1 GiB from `run --rm busybox` through `| wc -c` (every byte must arrive)
  * `update -m ... --cpus ...` of a running container (memory and cpu limits rewritten each time)
  * 100 containers with a 1 s health check: the daemon's CPU over a minute, RSS and threads
  * `cp` of a 100 MiB directory (100 files of 1 MiB in 10 subdirectories) into and out of a running container
  * CRI pods over gRPC on isulad's socket: RunPodSandbox + CreateContainer + StartContainer, then StopPodSandbox +
    RemovePodSandbox, serial and 50 pods in parallel (node-network pods: the runtime path without CNI)
  * `logs` and `logs --tail 1` of a container that printed 1M lines
Prints a Markdown report (and writes it with --out). Not a test: no pass/fail, just numbers.
"""
import argparse
import concurrent.futures
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ms(samples):
    s = sorted(samples)
    p90 = s[min(len(s) - 1, int(round(0.9 * (len(s) - 1))))]
    return "%.1f / %.1f" % (statistics.median(s) * 1000, p90 * 1000)


def timed(cmd, **kw):
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.decode(errors="replace").strip()))
    return dt


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


BENCH_BRIDGE = "isdbench0"  # the bench daemon's default network: never the default isula0 of a real daemon


def drop_bench_bridge():
    """The default network's bridge and rules outlive the daemon (as docker0's do): the bench removes its own."""
    table = None
    for line in subprocess.run(["iptables-save"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith("-A ") and BENCH_BRIDGE in shlex.split(line):
            subprocess.run(["iptables", "-w", "-t", table, "-D"] + shlex.split(line)[1:], capture_output=True)
    if os.path.exists("/sys/class/net/" + BENCH_BRIDGE):
        subprocess.run(["ip", "link", "delete", BENCH_BRIDGE])


class Engine:
    def __init__(self, build, base, extra_args=()):
        self.base = base
        self.sock = os.path.join(base, "isulad.sock")
        conf = os.path.join(base, "daemon.json")
        with open(conf, "w") as f:
            f.write("{}")
        self.isula = [os.path.join(build, "isula"), "-H", "unix://" + self.sock]
        os.makedirs(os.path.join(base, "net.d"), exist_ok=True)  # not the host's (other engines' networks)
        args = [os.path.join(build, "isulad"), "--config-file", conf, "-H", "unix://" + self.sock,
                "-g", os.path.join(base, "graph"), "-S", os.path.join(base, "state"),
                "-p", os.path.join(base, "isulad.pid"), "--log-driver", "stdout", "-l", "ERROR", "--ip-masq=false",
                "--bridge", BENCH_BRIDGE, "--cni-conf-dir", os.path.join(base, "net.d")] + list(extra_args)
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        for _ in range(200):
            if subprocess.run(self.isula + ["version"], capture_output=True).returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError("isulad did not start")

    def run(self, *args):
        r = subprocess.run(self.isula + list(args), capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("isula %s: %s" % (" ".join(args), r.stderr.strip()))
        return r.stdout.strip()

    def stop(self):
        for cid in self.run("ps", "-a", "-q", "--no-trunc").split():
            subprocess.run(self.isula + ["rm", "-f", cid], capture_output=True)
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        drop_bench_bridge()


class OtherEngine:
    """Another engine driven by its docker-compatible CLI (docker, podman); containers get no network, like
    isula's default (a private namespace with loopback only)."""

    def __init__(self, name, cli, pid, shim_pattern):
        self.name = name
        self.isula = cli
        self.pid = pid
        self.shim_pattern = shim_pattern
        self.run_args = ["--network", "none"]

    def run(self, *args):
        r = subprocess.run(self.isula + list(args), capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("%s %s: %s" % (self.name, " ".join(args), r.stderr.strip()))
        return r.stdout.strip()


def serial(engine, n):
    res = {k: [] for k in ("create", "start", "stop", "rm", "run -d", "run --rm true")}
    extra = getattr(engine, "run_args", [])
    for _ in range(n):
        t = time.perf_counter()
        cid = engine.run("create", *extra, "busybox", "sleep", "1000")
        res["create"].append(time.perf_counter() - t)
        res["start"].append(timed(engine.isula + ["start", cid]))
        res["stop"].append(timed(engine.isula + ["stop", "-t", "0", cid]))
        res["rm"].append(timed(engine.isula + ["rm", cid]))
        t = time.perf_counter()
        cid = engine.run("run", "-d", *extra, "busybox", "sleep", "1000")
        res["run -d"].append(time.perf_counter() - t)
        subprocess.run(engine.isula + ["rm", "-f", cid], capture_output=True)
        res["run --rm true"].append(timed(engine.isula + ["run", "--rm", *extra, "busybox", "true"]))
    return res


def update_limits(engine, n):
    """`update` of a running container's memory and cpu limits (alternating two settings, so each call changes
    the cgroup files): the time from the CLI's start to its exit."""
    extra = getattr(engine, "run_args", [])
    cid = engine.run("run", "-d", *extra, "-m", "64m", "--cpus", "0.5", "busybox", "sleep", "1000")
    samples = []
    try:
        for i in range(n):
            mem, cpus = ("96m", "1.5") if i % 2 == 0 else ("64m", "0.5")
            samples.append(timed(engine.isula + ["update", "-m", mem, "--memory-swap", "-1", "--cpus", cpus, cid]))
    finally:
        subprocess.run(engine.isula + ["rm", "-f", cid], capture_output=True)
    return samples


STREAM_BYTES = 1 << 30


def stream_output(engine, n=3):
    """Wall time of `run --rm busybox sh -c "head -c 1G /dev/zero | tr '\\0' a" | wc -c`; checks that every byte
    arrived."""
    extra = getattr(engine, "run_args", [])
    payload = "head -c %d /dev/zero | tr '\\0' a" % STREAM_BYTES  # printable: the json-file log stays 1 GiB
    cmd = " ".join(shlex.quote(a) for a in engine.isula + ["run", "--rm"] + extra + ["busybox", "sh", "-c",
                                                                                      payload]) + " | wc -c"
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        out = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, check=True).stdout.strip()
        samples.append(time.perf_counter() - t)
        if out != str(STREAM_BYTES):
            raise RuntimeError("%s: %s bytes arrived of %d" % (cmd, out, STREAM_BYTES))
    return samples


CP_FILES, CP_FILE_BYTES = 100, 1 << 20


def copy_tree(engine, base, n=3):
    """Wall time of `cp DIR CTR:/tmp/in-i` and `cp CTR:/tmp/in-i OUT` for a 100 MiB directory; checks that every
    byte came back."""
    src = os.path.join(base, "cp-src")
    if not os.path.isdir(src):
        for i in range(CP_FILES):
            d = os.path.join(src, "d%d" % (i % 10))
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "f%d" % i), "wb") as f:
                f.write(os.urandom(CP_FILE_BYTES))
    extra = getattr(engine, "run_args", [])
    cid = engine.run("run", "-d", *extra, "busybox", "sleep", "1000")
    res = {"cp in (100 MiB dir)": [], "cp out (100 MiB dir)": []}
    try:
        for i in range(n):
            out = os.path.join(base, "cp-out-%d" % i)
            res["cp in (100 MiB dir)"].append(timed(engine.isula + ["cp", src, "%s:/tmp/in-%d" % (cid, i)]))
            res["cp out (100 MiB dir)"].append(timed(engine.isula + ["cp", "%s:/tmp/in-%d" % (cid, i), out]))
            got = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(out) for f in fs)
            shutil.rmtree(out, ignore_errors=True)
            engine.run("exec", cid, "rm", "-rf", "/tmp/in-%d" % i)
            if got != CP_FILES * CP_FILE_BYTES:
                raise RuntimeError("cp: %d bytes came back of %d" % (got, CP_FILES * CP_FILE_BYTES))
    finally:
        subprocess.run(engine.isula + ["rm", "-f", cid], capture_output=True)
    return res


LOG_LINES = 1000000


def logs_read(engine, n=3):
    """`logs` (every line) and `logs --tail 1` of a container that printed 1M lines (`seq 1 1000000`): wall
    time of the CLI, output to /dev/null; checks the line count and the last line."""
    extra = getattr(engine, "run_args", [])
    cid = engine.run("run", "-d", *extra, "busybox", "seq", "1", str(LOG_LINES))
    res = {"logs (1M lines)": [], "logs --tail 1 (1M lines)": []}
    try:
        subprocess.run(engine.isula + ["wait", cid], capture_output=True, check=True)
        for _ in range(n):
            t = time.perf_counter()
            out = subprocess.run(engine.isula + ["logs", cid], capture_output=True, check=True).stdout
            res["logs (1M lines)"].append(time.perf_counter() - t)
            if out.count(b"\n") != LOG_LINES:
                raise RuntimeError("logs: %d lines of %d" % (out.count(b"\n"), LOG_LINES))
            t = time.perf_counter()
            out = subprocess.run(engine.isula + ["logs", "--tail", "1", cid], capture_output=True, check=True).stdout
            res["logs --tail 1 (1M lines)"].append(time.perf_counter() - t)
            if out.strip() != str(LOG_LINES).encode():
                raise RuntimeError("logs --tail 1: %r" % out[:100])
    finally:
        subprocess.run(engine.isula + ["rm", "-f", cid], capture_output=True)
    return res


def parallel(engine, count, clients):
    phases = {}
    pool = concurrent.futures.ThreadPoolExecutor(clients)
    extra = getattr(engine, "run_args", [])
    t = time.perf_counter()
    ids = list(pool.map(lambda _: engine.run("create", *extra, "busybox", "sleep", "1000"), range(count)))
    phases["create"] = time.perf_counter() - t
    t = time.perf_counter()
    list(pool.map(lambda c: engine.run("start", c), ids))
    phases["start"] = time.perf_counter() - t
    pattern = getattr(engine, "shim_pattern", None) or "isulad-shim.*" + engine.base
    shims = [int(p) for p in subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()]
    daemon_pid = engine.pid if hasattr(engine, "pid") else engine.proc.pid
    mem = {"isulad_running": rss_kib(daemon_pid),
           "shim_avg": statistics.mean(rss_kib(p) for p in shims) if shims else 0, "shims": len(shims)}
    t = time.perf_counter()
    list(pool.map(lambda c: engine.run("stop", "-t", "0", c), ids))
    phases["stop"] = time.perf_counter() - t
    t = time.perf_counter()
    list(pool.map(lambda c: engine.run("rm", c), ids))
    phases["rm"] = time.perf_counter() - t
    pool.shutdown()
    return phases, mem


def make_bundle(base, args, seccomp=None):
    bundle = os.path.join(base, "bundle")
    rootfs = os.path.join(bundle, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"))
    for d in ("proc", "sys", "dev", "tmp", "etc"):
        os.makedirs(os.path.join(rootfs, d), exist_ok=True)
    shutil.copy("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
    for applet in ("sh", "true", "sleep"):
        os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    subprocess.run(["runc", "spec"], cwd=bundle, check=True)
    with open(os.path.join(bundle, "config.json")) as f:
        spec = json.load(f)
    spec["process"]["terminal"] = False
    spec["process"]["args"] = args
    if seccomp is not None:
        spec["linux"]["seccomp"] = seccomp
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(spec, f)
    return bundle


def raw_runtime(base, runtime, n):
    bundle = make_bundle(os.path.join(base, runtime), ["true"])
    root = os.path.join(base, runtime, "root")
    out = {"run": [], "create+start+delete": []}
    for i in range(n):
        out["run"].append(timed([runtime, "--root", root, "run", "--bundle", bundle, "b%d" % i]))
    for i in range(n):
        t = time.perf_counter()
        subprocess.run([runtime, "--root", root, "create", "--bundle", bundle, "c%d" % i], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([runtime, "--root", root, "start", "c%d" % i], check=True)
        while json.loads(subprocess.run([runtime, "--root", root, "state", "c%d" % i], capture_output=True,
                                        text=True).stdout)["status"] != "stopped":
            time.sleep(0.001)
        subprocess.run([runtime, "--root", root, "delete", "c%d" % i], check=True)
        out["create+start+delete"].append(time.perf_counter() - t)
    return out


def interleaved(engine, base, runtime, n):
    """`isula run --rm busybox true` and `<runtime> run` of the bundle, alternating, each after a pause that lets
    the background work of the previous sample finish (isulad deletes the runtime state and the rootfs tree after
    answering), so both start from the same quiet machine; the target is a ratio of them."""
    bundle = make_bundle(os.path.join(base, "ilv-" + runtime), ["true"])
    root = os.path.join(base, "ilv-" + runtime, "root")
    out = {"isula": [], runtime: []}
    for i in range(n):
        time.sleep(0.2)
        out["isula"].append(timed(engine.isula + ["run", "--rm", "busybox", "true"]))
        time.sleep(0.2)
        out[runtime].append(timed([runtime, "--root", root, "run", "--bundle", bundle, "i%d" % i]))
    return out


def proc_cpu_s(pid):
    """utime + stime of the process itself (its threads, not its children), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def health_load(engine, pid, count=100, seconds=60):
    """`count` containers with a 1 s health check (`true`): once all are healthy, the daemon's own CPU over
    `seconds` (from /proc/<pid>/stat: the probes' runtime and shim processes are not the daemon's), its RSS and
    its threads. Target: at most 0.1 % CPU per container and no thread per container."""
    extra = getattr(engine, "run_args", [])
    cids = [engine.run("run", "-d", *extra, "--health-cmd", "true", "--health-interval", "1s", "busybox", "sleep",
                       "100000") for _ in range(count)]
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            states = engine.run("inspect", "--format", "{{.State.Health.Status}}", *cids).split()
            if states.count("healthy") == count:
                break
            time.sleep(1)
        healthy = engine.run("inspect", "--format", "{{.State.Health.Status}}", *cids).split().count("healthy")
        c0, t0 = proc_cpu_s(pid), time.monotonic()
        time.sleep(seconds)
        cpu = (proc_cpu_s(pid) - c0) / (time.monotonic() - t0) * 100
        threads = len(os.listdir("/proc/%d/task" % pid))
        return {"count": count, "healthy": healthy, "cpu_pct": cpu, "cpu_pct_per": cpu / count,
                "rss_kib": rss_kib(pid), "threads": threads, "seconds": seconds}
    finally:
        for cid in cids:
            subprocess.run(engine.isula + ["rm", "-f", cid], capture_output=True)


def health_lines(results):
    """Markdown rows of health_load's results, one column per engine."""
    names = list(results)
    lines = ["", "| %d containers, 1 s health check, daemon over %d s | " % (results[names[0]]["count"],
                                                                        results[names[0]]["seconds"]) +
             " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    rows = (("healthy", "%d"), ("cpu_pct", "%.2f %%"), ("cpu_pct_per", "%.4f %%"), ("rss_kib", "%d KiB"),
            ("threads", "%d"))
    titles = {"healthy": "containers healthy", "cpu_pct": "daemon CPU", "cpu_pct_per": "daemon CPU per container",
              "rss_kib": "daemon RSS", "threads": "daemon threads"}
    for key, fmt in rows:
        lines.append("| %s | %s |" % (titles[key], " | ".join(fmt % results[n][key] for n in names)))
    return lines


def isula_seccomp(engine):
    """The linux.seccomp isula writes into a busybox container's bundle (its default profile, converted for this
    host and the default capabilities)."""
    cid = engine.run("run", "-d", "busybox", "sleep", "1000")
    try:
        with open(os.path.join(engine.base, "state", "containers", cid, "config.json")) as f:
            return json.load(f)["linux"]["seccomp"]
    finally:
        engine.run("rm", "-f", cid)


def interleaved_seccomp(engine, base, runtime, n):
    """As interleaved(), with the runtime's bundle carrying the seccomp filter isula applies by default, so both
    sides pay for the same filter."""
    bundle = make_bundle(os.path.join(base, "ilvsc-" + runtime), ["true"], isula_seccomp(engine))
    root = os.path.join(base, "ilvsc-" + runtime, "root")
    out = {"isula": [], runtime: []}
    for i in range(n):
        time.sleep(0.2)
        out["isula"].append(timed(engine.isula + ["run", "--rm", "busybox", "true"]))
        time.sleep(0.2)
        out[runtime].append(timed([runtime, "--root", root, "run", "--bundle", bundle, "s%d" % i]))
    return out


def docker_pid(host):
    out = subprocess.run(["docker", "-H", host, "info", "--format", "{{.ID}}"], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("docker at %s does not answer" % host)
    path = host[len("unix://"):]
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        if os.path.basename(cmd[0]) == b"dockerd" and any(path.encode() in c for c in cmd):
            return int(pid)
    raise RuntimeError("no dockerd process serving %s" % host)


def load_busybox(engine, other):
    """The same busybox image in the other engine: saved from isula's built-in one."""
    save = subprocess.run(engine.isula + ["save", "busybox:latest"], capture_output=True, check=True)
    subprocess.run(other.isula + ["load"], input=save.stdout, capture_output=True, check=True)


def make_tls_pki(d, ec=False):
    """A CA, a server certificate for 127.0.0.1 and a client one, with the openssl CLI (RSA 2048, or ECDSA P-256)."""
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"] if ec else ["-newkey", "rsa:2048"]

    def sh(*args):
        subprocess.run(list(args), check=True, capture_output=True)
    sh("openssl", "req", "-x509", *newkey, "-nodes", "-keyout", d + "/ca.key", "-out", d + "/ca.pem",
       "-days", "2", "-subj", "/CN=bench CA")
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
                      ("client", "extendedKeyUsage=clientAuth\n")):
        with open("%s/%s.ext" % (d, name), "w") as f:
            f.write(ext)
        sh("openssl", "req", *newkey, "-nodes", "-keyout", "%s/%s-key.pem" % (d, name), "-out",
           "%s/%s.csr" % (d, name), "-subj", "/CN=" + name)
        sh("openssl", "x509", "-req", "-in", "%s/%s.csr" % (d, name), "-CA", d + "/ca.pem", "-CAkey", d + "/ca.key",
           "-CAcreateserial", "-out", "%s/%s-cert.pem" % (d, name), "-days", "2", "-extfile", "%s/%s.ext" % (d, name))
    shutil.copy(d + "/client-cert.pem", d + "/cert.pem")
    shutil.copy(d + "/client-key.pem", d + "/key.pem")


def start_tls_dockerd(d, port, engine):
    """A dockerd of the bench's own on tcp://127.0.0.1:port with --tlsverify (the bench's RSA certificates), its
    own dirs under d (data, exec root with its managed containerd, pid file, an empty daemon.json), no bridge and
    no iptables; busybox loaded from isula's built-in one. Returns (proc, docker CLI argv over TLS)."""
    dd = os.path.join(d, "dockerd")
    os.makedirs(dd)
    with open(os.path.join(dd, "daemon.json"), "w") as f:
        f.write("{}")
    log = open(os.path.join(dd, "dockerd.log"), "ab")
    proc = subprocess.Popen(["dockerd", "--config-file", dd + "/daemon.json", "-H", "tcp://127.0.0.1:%d" % port,
                             "--tlsverify", "--tlscacert", d + "/ca.pem", "--tlscert", d + "/server-cert.pem",
                             "--tlskey", d + "/server-key.pem", "--data-root", dd + "/root", "--exec-root",
                             dd + "/exec", "--pidfile", dd + "/pid", "--bridge=none", "--iptables=false",
                             "--ip6tables=false"], stdout=log, stderr=log, start_new_session=True)
    log.close()
    cli = ["docker", "-H", "tcp://127.0.0.1:%d" % port, "--tlsverify", "--tlscacert", d + "/ca.pem", "--tlscert",
           d + "/cert.pem", "--tlskey", d + "/key.pem"]
    for _ in range(600):
        if subprocess.run(cli + ["version"], capture_output=True, env=dict(os.environ, DOCKER_CONFIG=dd)) \
                .returncode == 0:
            save = subprocess.run(engine.isula + ["save", "busybox:latest"], capture_output=True, check=True)
            subprocess.run(cli + ["load"], input=save.stdout, capture_output=True, check=True,
                           env=dict(os.environ, DOCKER_CONFIG=dd))
            return proc, cli
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    stop_tls_dockerd(proc, d)
    raise RuntimeError("dockerd did not start (see %s/dockerd.log)" % dd)


def end_process(proc, timeout=60):
    """Ends a process the bench started, by its PID: SIGTERM, then SIGKILL after timeout seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def stop_tls_dockerd(proc, d):
    """Stops it by its PID (it stops its containerd) and removes what it left mounted under its dirs."""
    end_process(proc)
    dd = os.path.join(d, "dockerd")
    with open("/proc/mounts") as f:
        mounts = [line.split()[1] for line in f if line.split()[1].startswith(dd + "/")]
    for m in reversed(mounts):
        subprocess.run(["umount", "-l", m])


def tls_transport(build, base, n):
    """`isula run --rm busybox true` and `isula ps` over the unix socket and over TLS on tcp (--tlsverify, client
    certificate), interleaved, against one isulad of its own; plus the docker CLI over TLS (DOCKER_TLS_VERIFY, which
    reuses its connection) to the same daemon, and to a real dockerd over TLS of the bench's own
    (start_tls_dockerd, same certificates, its containers with --network none as isula's are loopback-only). isula resumes its TLS session from $HOME/.iSulad/tls-sessions (HOME is
    a directory of the bench); "first contact" runs with an unusable HOME, so each command makes a full handshake
    (its later connections still resume in memory). The ECDSA rows: a second isulad with ECDSA P-256 certificates."""
    d = os.path.join(base, "tls")
    os.makedirs(d)
    make_tls_pki(d)
    port = 23000 + os.getpid() % 2000
    eng = Engine(build, d, ["-H", "tcp://127.0.0.1:%d" % port, "--tlsverify", "--tlscacert", d + "/ca.pem",
                            "--tlscert", d + "/server-cert.pem", "--tlskey", d + "/server-key.pem"])
    tls = [os.path.join(build, "isula"), "-H", "tcp://127.0.0.1:%d" % port, "--tlsverify", "--tlscacert",
           d + "/ca.pem", "--tlscert", d + "/cert.pem", "--tlskey", d + "/key.pem"]
    home = os.path.join(d, "home")
    os.makedirs(home)
    henv, fenv = dict(os.environ, HOME=home), dict(os.environ, HOME="/nonexistent")
    denv = dict(os.environ, DOCKER_HOST="tcp://127.0.0.1:%d" % port, DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH=d,
                DOCKER_CONFIG=d)
    ed = os.path.join(base, "tls-ecdsa")
    os.makedirs(ed)
    make_tls_pki(ed, ec=True)
    eport = port + 1
    try:
        eeng = Engine(build, ed, ["-H", "tcp://127.0.0.1:%d" % eport, "--tlsverify", "--tlscacert",
                                  ed + "/ca.pem", "--tlscert", ed + "/server-cert.pem", "--tlskey",
                                  ed + "/server-key.pem"])
    except BaseException:
        eng.stop()
        raise
    etls = [os.path.join(build, "isula"), "-H", "tcp://127.0.0.1:%d" % eport, "--tlsverify", "--tlscacert",
            ed + "/ca.pem", "--tlscert", ed + "/cert.pem", "--tlskey", ed + "/key.pem"]
    run = ["run", "--rm", "busybox", "true"]
    has_docker = shutil.which("docker") is not None
    dockerd = None
    if has_docker and shutil.which("dockerd") is not None:
        try:
            dockerd = start_tls_dockerd(d, eport + 1, eng)
        except BaseException:
            eng.stop()
            eeng.stop()
            raise
    res = {k: [] for k in ("unix socket", "tcp + TLS (isula)", "tcp + TLS (isula), first contact",
                           "tcp + TLS (docker CLI)", "tcp + TLS (docker CLI against dockerd)", "ps, unix socket", "ps, tcp + TLS (isula)",
                           "ps, tcp + TLS (isula), first contact", "ps, tcp + TLS (isula), ECDSA",
                           "ps, tcp + TLS (isula), ECDSA, first contact", "ps, tcp + TLS (docker CLI)",
                           "ps, tcp + TLS (docker CLI against dockerd)")}
    denv_own = dict(os.environ, DOCKER_CONFIG=os.path.join(d, "dockerd"))
    try:
        for _ in range(n):
            res["unix socket"].append(timed(eng.isula + run))
            res["tcp + TLS (isula)"].append(timed(tls + run, env=henv))
            res["tcp + TLS (isula), first contact"].append(timed(tls + run, env=fenv))
            if has_docker:
                res["tcp + TLS (docker CLI)"].append(timed(["docker"] + run, env=denv))
            if dockerd is not None:
                res["tcp + TLS (docker CLI against dockerd)"].append(
                    timed(dockerd[1] + ["run", "--rm", "--network", "none", "busybox", "true"], env=denv_own))
            res["ps, unix socket"].append(timed(eng.isula + ["ps"]))
            res["ps, tcp + TLS (isula)"].append(timed(tls + ["ps"], env=henv))
            res["ps, tcp + TLS (isula), first contact"].append(timed(tls + ["ps"], env=fenv))
            res["ps, tcp + TLS (isula), ECDSA"].append(timed(etls + ["ps"], env=henv))
            res["ps, tcp + TLS (isula), ECDSA, first contact"].append(timed(etls + ["ps"], env=fenv))
            if has_docker:
                res["ps, tcp + TLS (docker CLI)"].append(timed(["docker", "ps"], env=denv))
            if dockerd is not None:
                res["ps, tcp + TLS (docker CLI against dockerd)"].append(timed(dockerd[1] + ["ps"], env=denv_own))
    finally:
        eng.stop()
        eeng.stop()
        if dockerd is not None:
            stop_tls_dockerd(dockerd[0], d)
    return {k: v for k, v in res.items() if v}


def authz_cost(build, base, n):
    """What an authorization plugin costs per request: `isula ps` against an isulad without a plugin and one
    with --authorization-plugin (a Python plugin on /run/docker/plugins/<name>.sock allowing everything),
    interleaved. The difference of medians is the plugin round trips, AuthZReq and AuthZRes (connect, JSON both
    ways, the plugin). A third isulad asks the same plugin on 127.0.0.1 over TLS (a .json spec with TLSConfig: the
    bench's CA and client certificate; the plugin asks for it), a full handshake per call."""
    import http.server
    import socketserver
    import ssl
    import threading
    name = "isd-bench-authz-%d" % os.getpid()
    path = "/run/docker/plugins/%s.sock" % name

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            data = b'{"Implements": ["authz"]}' if self.path == "/Plugin.Activate" else b'{"Allow": true}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        daemon_threads = True

        def get_request(self):
            return self.socket.accept()[0], ("plugin", 0)

    class TcpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
        daemon_threads = True

    os.makedirs("/run/docker/plugins", exist_ok=True)
    srv = Server(path, Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    pki, specs = os.path.join(base, "authz-pki"), os.path.join(base, "authz-specs")
    os.makedirs(pki)
    os.makedirs(specs)
    make_tls_pki(pki)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki + "/server-cert.pem", pki + "/server-key.pem")
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(pki + "/ca.pem")
    tsrv = TcpServer(("127.0.0.1", 0), Handler)
    tsrv.socket = ctx.wrap_socket(tsrv.socket, server_side=True)
    threading.Thread(target=tsrv.serve_forever, daemon=True).start()
    with open(os.path.join(specs, name + "-tls.json"), "w") as f:
        json.dump({"Name": name + "-tls", "Addr": "tcp://127.0.0.1:%d" % tsrv.server_address[1],
                   "TLSConfig": {"CAFile": pki + "/ca.pem", "CertFile": pki + "/cert.pem",
                                 "KeyFile": pki + "/key.pem"}}, f)
    dirs = [os.path.join(base, "authz%d" % i) for i in range(3)]
    for x in dirs:
        os.makedirs(x)
    engines = []
    res = {"isula ps, no plugin": [], "isula ps, authz plugin": [], "isula ps, authz plugin over tcp + TLS": []}
    try:
        engines.append(Engine(build, dirs[0]))
        engines.append(Engine(build, dirs[1], ["--authorization-plugin", name]))
        engines.append(Engine(build, dirs[2], ["--plugin-dir", specs, "--authorization-plugin", name + "-tls"]))
        for _ in range(n):
            for k, e in zip(res, engines):
                res[k].append(timed(e.isula + ["ps"]))
    finally:
        for e in engines:
            e.stop()
        for x in (srv, tsrv):
            x.shutdown()
            x.server_close()
        os.unlink(path)
    return res
def cri_stubs(base):
    """The CRI stubs of api/cri/api.proto compiled by grpc_tools (python3-grpc-tools) into base."""
    out = os.path.join(base, "cri-py")
    os.makedirs(out, exist_ok=True)
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", os.path.join(ROOT, "api", "cri"),
                    "--python_out", out, "--grpc_python_out", out, "api.proto"], check=True, capture_output=True)
    sys.path.insert(0, out)
    import api_pb2
    import api_pb2_grpc
    return api_pb2, api_pb2_grpc


def cri_pods(engine, base, n, count=50):
    """Pod up (RunPodSandbox + CreateContainer + StartContainer) and down (StopPodSandbox + RemovePodSandbox)
    through the CRI on isulad's own socket: serial samples, and the wall time of count pods in parallel."""
    import grpc
    pb, pbg = cri_stubs(base)
    ch = grpc.insecure_channel("unix://" + engine.sock)
    rt = pbg.RuntimeServiceStub(ch)
    node = pb.LinuxPodSandboxConfig(security_context=pb.LinuxSandboxSecurityContext(
        namespace_options=pb.NamespaceOption(network=pb.NODE)))

    def up(i):
        meta = pb.PodSandboxMetadata(name="bench%d" % i, namespace="bench", uid="uid%d" % i)
        pid = rt.RunPodSandbox(pb.RunPodSandboxRequest(config=pb.PodSandboxConfig(metadata=meta, linux=node)),
                               timeout=120).pod_sandbox_id
        cfg = pb.ContainerConfig(metadata=pb.ContainerMetadata(name="c"), image=pb.ImageSpec(image="busybox"),
                                 args=["sleep", "1000"])
        cid = rt.CreateContainer(pb.CreateContainerRequest(pod_sandbox_id=pid, config=cfg), timeout=120).container_id
        rt.StartContainer(pb.StartContainerRequest(container_id=cid), timeout=120)
        return pid

    def down(pid):
        rt.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pid), timeout=120)
        rt.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pid), timeout=120)

    res = {"CRI pod up (run sandbox + create + start)": [], "CRI pod down (stop + remove sandbox)": []}
    down(up(-1))  # the first pod builds the built-in pause image when pod-sandbox-image is absent
    for i in range(n):
        t = time.perf_counter()
        pid = up(i)
        res["CRI pod up (run sandbox + create + start)"].append(time.perf_counter() - t)
        t = time.perf_counter()
        down(pid)
        res["CRI pod down (stop + remove sandbox)"].append(time.perf_counter() - t)
    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as ex:
        t = time.perf_counter()
        pids = list(ex.map(up, range(1000, 1000 + count)))
        t_up = time.perf_counter() - t
        t = time.perf_counter()
        list(ex.map(down, pids))
        t_down = time.perf_counter() - t
    ch.close()
    return res, {"%d pods up in parallel" % count: t_up, "%d pods down in parallel" % count: t_down}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--parallel", type=int, default=100)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--docker", help="docker daemon socket to measure side by side (unix:///...); it needs a "
                    "busybox:latest image, which the script loads from isula's built-in one")
    ap.add_argument("--out")
    ap.add_argument("--health-seconds", type=int, default=60, help="how long the health-check load is measured")
    ap.add_argument("--only", choices=["transport"], help="transport: only the TLS / authz table (tls_transport, "
                    "authz_cost)")
    a = ap.parse_args()
    base = tempfile.mkdtemp(prefix="isd-bench-", dir="/tmp")
    if a.only == "transport":
        transports = tls_transport(a.build, base, a.n)
        transports.update(authz_cost(a.build, base, a.n))
        out = ["| transport / access control, n=%d | median / p90 (ms) |" % a.n, "| --- | --- |"]
        out += ["| %s | %s |" % (k, ms(v)) for k, v in transports.items()]
        text = "\n".join(out) + "\n"
        if a.out:
            with open(a.out, "w") as f:
                f.write(text)
        print(text)
        shutil.rmtree(base, ignore_errors=True)
        return
    lines = ["# Benchmark run", "", "Machine: %s cores, kernel %s; n=%d serial runs; %d containers in parallel "
             "with %d clients. Times are median / p90 in ms." % (os.cpu_count(), os.uname().release, a.n,
                                                                 a.parallel, a.clients), ""]
    floors = {}
    for rt in ("runc", "crun"):
        if shutil.which(rt) is None:
            continue
        try:
            floors[rt] = raw_runtime(base, rt, a.n)
        except (RuntimeError, subprocess.CalledProcessError) as e:
            floors[rt] = str(e).splitlines()[-1] if str(e) else "failed"
    # pods use the built-in pause image: no registry is asked (nothing leaves the machine)
    engine = Engine(a.build, base, ["--pod-sandbox-image", "isulad/pause:builtin"])
    others = {}
    try:
        time.sleep(0.5)
        idle = rss_kib(engine.proc.pid)
        res = serial(engine, a.n)
        res["update -m --cpus (running)"] = update_limits(engine, a.n)
        versus = {rt: interleaved(engine, base, rt, a.n) for rt, v in floors.items() if not isinstance(v, str)}
        versus_sc = {rt: interleaved_seccomp(engine, base, rt, a.n) for rt in versus}
        res["run --rm | wc -c (1 GiB)"] = stream_output(engine)
        res.update(copy_tree(engine, base))
        res.update(logs_read(engine))
        phases, mem = parallel(engine, a.parallel, a.clients)
        health = {"isula": health_load(engine, engine.proc.pid, seconds=a.health_seconds)}
        try:
            cri_serial, cri_parallel = cri_pods(engine, base, a.n)
        except Exception as e:  # noqa: BLE001 (a report line, not a crash, when grpcio/grpc_tools are missing)
            cri_serial, cri_parallel = None, "unavailable: %s" % str(e).splitlines()[0]
        if a.docker:
            docker = OtherEngine("docker", ["docker", "-H", a.docker], docker_pid(a.docker), "containerd-shim")
            load_busybox(engine, docker)
            didle = rss_kib(docker.pid)
            dres = serial(docker, a.n)
            dres["update -m --cpus (running)"] = update_limits(docker, a.n)
            dres["run --rm | wc -c (1 GiB)"] = stream_output(docker)
            dres.update(copy_tree(docker, base))
            dres.update(logs_read(docker))
            others["docker"] = (dres,) + parallel(docker, a.parallel, a.clients) + (didle,)
            health["docker"] = health_load(docker, docker.pid, seconds=a.health_seconds)
    finally:
        engine.stop()
    transports = tls_transport(a.build, base, a.n)
    transports.update(authz_cost(a.build, base, a.n))
    names = ["isula (runc)"] + ["%s (runc)" % k for k in others]
    lines += ["| operation | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    for k, v in res.items():
        lines.append("| %s | %s |" % (k, " | ".join([ms(v)] + [ms(o[0][k]) for o in others.values()])))
    lines += ["", "| raw runtime, same busybox bundle | run | create+start+delete |", "| --- | --- | --- |"]
    for rt, v in floors.items():
        if isinstance(v, str):
            lines.append("| %s | unavailable: %s | |" % (rt, v))
        else:
            lines.append("| %s | %s | %s |" % (rt, ms(v["run"]), ms(v["create+start+delete"])))
    lines += ["", "| interleaved: `isula run --rm busybox true` vs raw `run` | isula | raw | ratio of medians |",
              "| --- | --- | --- | --- |"]
    for rt, v in versus.items():
        lines.append("| %s | %s | %s | %.2fx |" % (rt, ms(v["isula"]), ms(v[rt]),
                                                   statistics.median(v["isula"]) / statistics.median(v[rt])))
    lines += ["", "| interleaved, seccomp on both sides (isula's default profile) | isula | raw | ratio of medians |",
              "| --- | --- | --- | --- |"]
    for rt, v in versus_sc.items():
        lines.append("| %s | %s | %s | %.2fx |" % (rt, ms(v["isula"]), ms(v[rt]),
                                                   statistics.median(v["isula"]) / statistics.median(v[rt])))
    lines += ["", "| transport / access control (own isulads): `run --rm busybox true` over unix, TLS; `ps` without "
              "and with an authz plugin | time |", "| --- | --- |"]
    for k, v in transports.items():
        lines.append("| %s | %s |" % (k, ms(v)))
    lines += ["", "| %d in parallel, %d clients, wall time (s) | " % (a.parallel, a.clients) + " | ".join(names) + " |",
              "| --- |" + " --- |" * len(names)]
    for k, v in phases.items():
        lines.append("| %s | %s |" % (k, " | ".join(["%.2f" % v] + ["%.2f" % o[1][k] for o in others.values()])))
    lines.append("| total | %s |" % " | ".join(["%.2f" % sum(phases.values())] +
                                                ["%.2f" % sum(o[1].values()) for o in others.values()]))
    lines += ["", "| memory (RSS) | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names),
              "| daemon idle | %s |" % " | ".join(["%.1f MiB" % (idle / 1024)] +
                                                 ["%.1f MiB" % (o[3] / 1024) for o in others.values()]),
              "| daemon with %d running | %s |" % (mem["shims"], " | ".join(
                  ["%.1f MiB" % (mem["isulad_running"] / 1024)] +
                  ["%.1f MiB" % (o[2]["isulad_running"] / 1024) for o in others.values()])),
              "| per-container monitor (isulad-shim / containerd-shim) | %s |" % " | ".join(
                  ["%.2f MiB" % (mem["shim_avg"] / 1024)] + ["%.2f MiB" % (o[2]["shim_avg"] / 1024)
                                                           for o in others.values()])]
    lines += health_lines(health)
    lines += ["", "| CRI (gRPC on isulad's socket), node-network pods | isula (runc) |", "| --- | --- |"]
    if cri_serial is None:
        lines.append("| pods | %s |" % cri_parallel)
    else:
        lines += ["| %s | %s |" % (k, ms(v)) for k, v in cri_serial.items()]
        lines += ["| %s, wall time | %.2f s |" % (k, v) for k, v in cri_parallel.items()]
        lines.append("| containerd 1.6 CRI side by side | bench/bench_cri.py |")
    for other in ("docker", "podman"):
        if other in others:
            continue
        lines.append("")
        if shutil.which(other) is None:
            state = "not installed, not measured"
        else:
            state = "no daemon given (--docker) or reachable, not measured"
        lines.append("%s: %s" % (other, state))
    report = "\n".join(lines) + "\n"
    print(report)
    if a.out:
        with open(a.out, "w") as f:
            f.write(report)
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
