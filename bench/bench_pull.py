#!/usr/bin/python3
"""Pull benchmark: a multi-layer image of incompressible layers from a local registry (Debian's
docker-registry on 127.0.0.1), pulled cold and with half of its layers already present, by isula and by
`skopeo copy` to a directory (and docker/podman when a daemon is there). Reports wall time and isulad's
peak resident memory during the pulls (it must not grow with layer size: layers are streamed to disk).

Uses the integration-test helpers (tests/integration/registry.py) to run the registry and push images.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("ISD_BUILD_DIR", os.path.join(ROOT, "build"))

import registry as R  # noqa: E402
from conftest import Isula  # noqa: E402


def hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def start_dockerd(registry_host):
    """A private dockerd (Debian's docker.io) that trusts the local registry; no iptables, no bridge."""
    base = tempfile.mkdtemp(prefix="isd-bench-dockerd-", dir="/tmp")
    sock = os.path.join(base, "docker.sock")
    log = open(os.path.join(base, "log"), "wb")
    proc = subprocess.Popen(["dockerd", "--iptables=false", "--ip6tables=false", "--bridge=none",
                             "--data-root", os.path.join(base, "root"), "--exec-root", os.path.join(base, "exec"),
                             "--pidfile", os.path.join(base, "pid"), "-H", "unix://" + sock,
                             "--insecure-registry", registry_host], stdout=log, stderr=log, start_new_session=True)
    log.close()
    for _ in range(300):
        if subprocess.run(["docker", "-H", "unix://" + sock, "info"], capture_output=True).returncode == 0:
            return proc, base, sock
        time.sleep(0.1)
    proc.terminate()
    proc.wait()
    shutil.rmtree(base, ignore_errors=True)
    raise RuntimeError("dockerd did not start")


def stop_dockerd(proc, base):
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    subprocess.run(["umount", "-R", os.path.join(base, "root")], capture_output=True)
    shutil.rmtree(base, ignore_errors=True)


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--layer-mb", type=int, default=64)
    ap.add_argument("--dockerd", action="store_true", help="also start a private dockerd and time docker pull")
    ap.add_argument("--repeat", type=int, default=3, help="pulls of each kind per tool; the median is reported")
    ap.add_argument("--out")
    a = ap.parse_args()
    reg = R.Registry("http")  # started by its constructor
    layers = [R.Layer(random_size=a.layer_mb << 20, seed=i) for i in range(a.layers)]
    half = a.layers // 2
    R.push_image(reg.url, "bench/half", layers=layers[:half])
    R.push_image(reg.url, "bench/full", layers=layers)
    full = "%s/bench/full:latest" % reg.host
    lines = ["# Pull benchmark", "",
             "Image: %d layers of %d MiB of random (incompressible) data, gzip, from Debian's docker-registry "
             "on 127.0.0.1 (plain HTTP). Wall time in seconds, median of %d pulls of each kind per tool." %
             (a.layers, a.layer_mb, a.repeat), "",
             "| tool | cold | half the layers present |", "| --- | --- | --- |"]
    d = R.start_daemon(insecure=[reg.host])
    try:
        isula = Isula(d)
        base_hwm = hwm_kib(d.proc.pid)
        colds, warms = [], []
        for _ in range(a.repeat):
            colds.append(timed(lambda: isula.ok("pull", full, timeout=900)))
            isula.ok("rmi", full)
            isula.ok("pull", "%s/bench/half:latest" % reg.host, timeout=900)
            warms.append(timed(lambda: isula.ok("pull", full, timeout=900)))
            isula.ok("rmi", full, "%s/bench/half:latest" % reg.host)
        peak = hwm_kib(d.proc.pid)
        lines.append("| isula | %.2f | %.2f |" % (statistics.median(colds), statistics.median(warms)))
    finally:
        R.stop_daemon(d)
    if shutil.which("skopeo"):
        src = "docker://" + full
        colds, warms = [], []
        for i in range(a.repeat):
            tmp = tempfile.mkdtemp(prefix="isd-bench-skopeo-", dir="/tmp")
            colds.append(timed(lambda: subprocess.run(["skopeo", "copy", "--src-tls-verify=false", src,
                                                       "dir:" + tmp + "/a"], check=True, capture_output=True)))
            # skopeo's dir: target keeps no layer cache between copies; an OCI layout does (shared blobs)
            subprocess.run(["skopeo", "copy", "--src-tls-verify=false", "docker://%s/bench/half:latest" % reg.host,
                            "oci:" + tmp + "/oci:half"], check=True, capture_output=True)
            warms.append(timed(lambda: subprocess.run(["skopeo", "copy", "--src-tls-verify=false", src,
                                                       "oci:" + tmp + "/oci:full"], check=True, capture_output=True)))
            shutil.rmtree(tmp, ignore_errors=True)
        lines.append("| skopeo copy (dir: cold, oci: with half present) | %.2f | %.2f |" %
                     (statistics.median(colds), statistics.median(warms)))
    if a.dockerd and shutil.which("dockerd"):
        proc, dbase, sock = start_dockerd(reg.host)
        try:
            dk = ["docker", "-H", "unix://" + sock]
            half_ref = "%s/bench/half:latest" % reg.host
            colds, warms = [], []
            for _ in range(a.repeat):
                colds.append(timed(lambda: subprocess.run(dk + ["pull", "-q", full], check=True, capture_output=True)))
                subprocess.run(dk + ["rmi", full], check=True, capture_output=True)
                subprocess.run(dk + ["pull", "-q", half_ref], check=True, capture_output=True)
                warms.append(timed(lambda: subprocess.run(dk + ["pull", "-q", full], check=True, capture_output=True)))
                subprocess.run(dk + ["rmi", full, half_ref], check=True, capture_output=True)
            cold_d, warm_d = statistics.median(colds), statistics.median(warms)
            version = subprocess.run(dk + ["version", "--format", "{{.Server.Version}}"], capture_output=True,
                                     text=True).stdout.strip()
            lines.append("| docker %s (private dockerd) | %.2f | %.2f |" % (version, cold_d, warm_d))
        finally:
            stop_dockerd(proc, dbase)
    else:
        lines.append("| docker | not measured (no --dockerd) | |")
    if shutil.which("podman") is None:
        lines.append("| podman | not installed | |")
    lines += ["", "isulad peak resident memory (VmHWM): %.1f MiB before the pulls, %.1f MiB after them "
              "(layers of %d MiB each)." % (base_hwm / 1024, peak / 1024, a.layer_mb)]
    reg.stop()
    for layer in layers:
        layer.cleanup()
    report = "\n".join(lines) + "\n"
    print(report)
    if a.out:
        with open(a.out, "w") as f:
            f.write(report)


if __name__ == "__main__":
    main()
