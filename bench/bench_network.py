#!/usr/bin/python3
"""The cost of CNI networking in isulad: a private isulad, one bridge network on a private subnet
(10.254.x.0/24, checked against the host's routes) with a bridge of its own, and

  * serial `run --rm busybox true` and `run -d` + `rm -f`, without a network (the guide's loopback-only
    default), on the network, and on the network with one published port (-p 127.0.0.1:<free>:80):
    median / p90 of N runs, measured alternately so that load on the machine hits all alike
  * the CNI ADD + DEL cost on its own: the differences of those medians
  * 100 containers `run -d` in parallel on the network (20 clients), then `rm -f` of them all

Everything it made is removed at the end (network, bridge, containers, daemon). Traffic: none leaves the
host; containers only get addresses. Prints a Markdown report. Not a test: no pass/fail.
"""
import argparse
import concurrent.futures
import ipaddress
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Engine, ms, timed  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_subnet():
    out = subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True).stdout
    taken = []
    for line in out.splitlines():
        w = line.split()
        dst = w[1] if w[0] in ("broadcast", "local", "unreachable") else w[0]
        try:
            n = ipaddress.ip_network(dst, strict=False)
            if n.prefixlen > 0:
                taken.append(n)
        except ValueError:
            pass
    for _ in range(200):
        cand = ipaddress.ip_network("10.254.%d.0/24" % random.randint(100, 249))
        if not any(cand.overlaps(t) for t in taken):
            return cand
    raise RuntimeError("no free subnet")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def serial(engine, n, modes):
    res = {(m, op): [] for m in modes for op in ("run --rm true", "run -d + rm -f")}
    for _ in range(n):
        for m, args in modes.items():
            extra = [a if a != "{port}" else "127.0.0.1:%d:80" % free_port() for a in args]
            res[(m, "run --rm true")].append(timed(engine.isula + ["run", "--rm", *extra, "busybox", "true"]))
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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--parallel", type=int, default=100)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out")
    a = ap.parse_args()
    base = tempfile.mkdtemp(prefix="isd-bench-net-")
    engine = Engine(a.build, base)
    net = "bench-" + uuid.uuid4().hex[:6]
    bridge = "isdb" + uuid.uuid4().hex[:8]
    try:
        subnet = free_subnet()
        engine.run("network", "create", "--subnet", str(subnet), "-o", "com.docker.network.bridge.name=" + bridge, net)
        modes = {"no network": [], "network": ["--net", net], "network + 1 port": ["--net", net, "-p", "{port}"]}
        engine.run("run", "--rm", "--net", net, "busybox", "true")  # the bridge exists from here on
        res = serial(engine, a.n, modes)
        run_s, rm_s = parallel(engine, net, a.parallel, a.clients)
    finally:
        for cid in engine.run("ps", "-a", "-q", "--no-trunc").split():
            subprocess.run(engine.isula + ["rm", "-f", cid], capture_output=True)
        subprocess.run(engine.isula + ["network", "rm", net], capture_output=True)  # its bridge and rules
        engine.stop()
        if os.path.exists("/sys/class/net/" + bridge):
            subprocess.run(["ip", "link", "delete", bridge])
        shutil.rmtree(base, ignore_errors=True)
    lines = ["Machine: %d cores, kernel %s; n=%d serial runs (modes alternated); median / p90 in ms." %
             (os.cpu_count(), os.uname().release, a.n), "",
             "| operation | " + " | ".join(modes) + " |", "| --- |" + " --- |" * len(modes)]
    for op in ("run --rm true", "run -d + rm -f"):
        lines.append("| %s | %s |" % (op, " | ".join(ms(res[(m, op)]) for m in modes)))
    lines.append("")
    lines.append("CNI cost (difference of medians against no network):")
    for op in ("run --rm true", "run -d + rm -f"):
        base_med = statistics.median(res[("no network", op)])
        lines.append("- %s: network %+.1f ms, network + 1 port %+.1f ms" % (
            op, (statistics.median(res[("network", op)]) - base_med) * 1000,
            (statistics.median(res[("network + 1 port", op)]) - base_med) * 1000))
    lines.append("")
    lines.append("%d × `run -d --net` in parallel (%d clients): %.2f s; `rm -f` of them: %.2f s" %
                 (a.parallel, a.clients, run_s, rm_s))
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
