"""The Prometheus endpoint (metrics-addr, off by default): scraped over HTTP and parsed as the text format;
containers per state, container actions with latency histograms, the daemon's RSS, open fds and threads; bytes
pulled from a real registry; per-container running state and restarts (id and name labels), CPU, memory, block
I/O bytes and processes with ?containers=1; a scrape answers while a container's start is held up."""
import json
import os
import re
import subprocess
import threading
import time
import urllib.request

from conftest import Isula, bin_path
from registry import (Layer, busybox_layer, daemon_factory, free_port, push_image, registry,  # noqa: F401
                      registry_factory)

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$')


def scrape(addr, query=""):
    with urllib.request.urlopen("http://%s/metrics%s" % (addr, query), timeout=30) as r:
        assert r.headers["Content-Type"].startswith("text/plain")
        text = r.read().decode()
    samples, types = {}, {}
    for ln in text.splitlines():
        if ln.startswith("# TYPE "):
            _, _, name, typ = ln.split(" ", 3)
            types[name] = typ
            continue
        if ln.startswith("#") or not ln:
            continue
        m = LINE.match(ln)
        assert m, "not Prometheus text: %r" % ln
        labels = tuple(sorted(tuple(kv.split("=", 1)) for kv in m.group(3).split(","))) if m.group(3) else ()
        samples[(m.group(1), tuple((k, v.strip('"')) for k, v in labels))] = float(m.group(4))
    return samples, types


def test_scrape(new_daemon):
    addr = "127.0.0.1:%d" % free_port()
    d = new_daemon(extra_args=["--metrics-addr", addr])
    d.start()
    isula = [bin_path("isula"), "-H", d.host]
    cid = subprocess.run(isula + ["run", "-d", "busybox", "sleep", "60"], capture_output=True, text=True,
                         check=True).stdout.strip()
    subprocess.run(isula + ["create", "busybox", "true"], capture_output=True, check=True)
    try:
        s, types = scrape(addr)
        state = "engine_daemon_container_states_containers"
        assert types[state] == "gauge"
        assert s[(state, (("state", "running"),))] == 1
        assert s[(state, (("state", "created"),))] == 1
        hist = "engine_daemon_container_actions_seconds"
        assert types[hist] == "histogram"
        assert s[(hist + "_count", (("action", "create"),))] == 2
        assert s[(hist + "_count", (("action", "start"),))] == 1
        assert s[(hist + "_bucket", (("action", "create"), ("le", "+Inf")))] == 2
        assert s[(hist + "_sum", (("action", "create"),))] > 0
        with open("/proc/%d/status" % d.proc.pid) as f:
            threads = int([ln for ln in f if ln.startswith("Threads:")][0].split()[1])
        assert s[("process_resident_memory_bytes", ())] > 1 << 20
        assert s[("process_open_fds", ())] >= 3
        assert abs(s[("engine_daemon_threads", ())] - threads) <= 4
    finally:
        subprocess.run(isula + ["rm", "-f", cid], capture_output=True)


def series_of(samples, metric):
    """{container name: value} of a per-container metric, checking its id label too."""
    out = {}
    for (m, labels), v in samples.items():
        if m == metric:
            d = dict(labels)
            assert re.fullmatch(r"[0-9a-f]{64}", d["id"]), d
            out[d["name"]] = v
    return out


def test_pull_bytes_counts_a_real_pull(registry, daemon_factory):  # noqa: F811
    blob = Layer(random_size=300 * 1024, seed=12)
    res = push_image(registry.url, "acc2/metrics", layers=[busybox_layer(), blob])
    addr = "127.0.0.1:%d" % free_port()
    d = daemon_factory(insecure=[registry.host], args=["--metrics-addr", addr])
    s, types = scrape(addr)
    assert types["engine_daemon_image_pull_bytes_total"] == "counter"
    before = s[("engine_daemon_image_pull_bytes_total", ())]
    r = subprocess.run([bin_path("isula"), "-H", d.host, "pull", registry.host + "/acc2/metrics"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    s, _ = scrape(addr)
    pulled = s[("engine_daemon_image_pull_bytes_total", ())] - before
    layers = sum(size for _, size, _ in next(iter(res.layers.values())))
    assert layers > 300 * 1024
    assert layers <= pulled <= layers + 64 * 1024, (pulled, layers)  # plus the manifest and the config
    assert s[("engine_daemon_container_actions_seconds_count", (("action", "pull"),))] == 1


def test_per_container_figures(new_daemon):
    addr = "127.0.0.1:%d" % free_port()
    d = new_daemon(extra_args=["--metrics-addr", addr])
    d.start()
    isula = [bin_path("isula"), "-H", d.host]
    ok = Isula(d).ok
    ok("run", "-d", "--name", "acc2-busy", "busybox", "sh", "-c",
       "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; x=$(head -c 4000000 /dev/zero | tr '\\0' a); "
       "touch /tmp/ready; sleep 600")
    ok("run", "-d", "--name", "acc2-flaky", "--restart", "on-failure:2", "busybox", "false")
    ok("create", "--name", "acc2-idle", "busybox", "true")
    deadline = time.time() + 60
    while time.time() < deadline:
        if ok("inspect", "-f", "{{.RestartCount}} {{.State.Status}}", "acc2-flaky") == "2 exited" and \
                subprocess.run(isula + ["exec", "acc2-busy", "test", "-e", "/tmp/ready"]).returncode == 0:
            break
        time.sleep(0.1)
    s, types = scrape(addr)
    assert types["engine_container_running"] == "gauge"
    assert types["engine_container_restarts_total"] == "counter"
    assert series_of(s, "engine_container_running") == {"acc2-busy": 1, "acc2-flaky": 0, "acc2-idle": 0}
    assert series_of(s, "engine_container_restarts_total") == {"acc2-busy": 0, "acc2-flaky": 2, "acc2-idle": 0}
    assert not series_of(s, "engine_container_cpu_usage_seconds_total")  # cgroup figures only on request
    s, types = scrape(addr, "?containers=1")
    assert types["engine_container_cpu_usage_seconds_total"] == "counter"
    assert types["engine_container_memory_usage_bytes"] == "gauge"
    cpu = series_of(s, "engine_container_cpu_usage_seconds_total")
    mem = series_of(s, "engine_container_memory_usage_bytes")
    assert set(cpu) == set(mem) == {"acc2-busy"}  # running ones only
    assert cpu["acc2-busy"] > 0 and mem["acc2-busy"] > 0
    cid = ok("inspect", "-f", "{{.Id}}", "acc2-busy")
    assert ("engine_container_running", (("id", cid), ("name", "acc2-busy"))) in s
    ok("rm", "-f", "acc2-busy", "acc2-flaky", "acc2-idle")
    s, _ = scrape(addr)
    assert not series_of(s, "engine_container_running")


def test_per_container_block_io_and_pids(new_daemon):
    """With ?containers=1: the bytes a running container read and wrote on block devices (its rootfs on a
    disk, written and read back with O_DIRECT so that they are its own I/O, not the page cache's) and the
    processes in it, from its cgroup."""
    addr = "127.0.0.1:%d" % free_port()
    d = new_daemon(extra_args=["--metrics-addr", addr])
    # the daemon's storage on a disk of its own (a loop device over a file, freed when unmounted): since Linux 6.10
    # cgroup v1 counts a disk's I/O only once a limit was written for it, which no test may have done yet
    img = os.path.join(d.base, "disk.img")
    with open(img, "wb") as f:
        f.truncate(256 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", img], check=True, capture_output=True)
    os.makedirs(d.graph)
    subprocess.run(["mount", "-o", "loop", img, d.graph], check=True)  # the daemon's teardown unmounts it
    d.start()
    isula = [bin_path("isula"), "-H", d.host]
    ok = Isula(d).ok
    ok("run", "-d", "--name", "acc3-io", "busybox", "sh", "-c",
       "dd if=/dev/zero of=/io bs=64k count=64 oflag=direct 2>/dev/null && "
       "dd if=/io of=/dev/null bs=64k iflag=direct 2>/dev/null && touch /tmp/ready; "
       "sleep 600 & sleep 600 & sleep 600 & wait")
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if subprocess.run(isula + ["exec", "acc3-io", "test", "-e", "/tmp/ready"]).returncode == 0:
                break
            time.sleep(0.1)
        assert subprocess.run(isula + ["exec", "acc3-io", "test", "-e", "/tmp/ready"]).returncode == 0
        s, types = scrape(addr, "?containers=1")
        assert types["engine_container_io_read_bytes_total"] == "counter"
        assert types["engine_container_io_written_bytes_total"] == "counter"
        assert types["engine_container_pids"] == "gauge"
        assert series_of(s, "engine_container_io_written_bytes_total")["acc3-io"] >= 4 << 20
        assert series_of(s, "engine_container_io_read_bytes_total")["acc3-io"] >= 4 << 20
        # sh and its three sleeps (the exec's processes are gone)
        assert series_of(s, "engine_container_pids") == {"acc3-io": 4}
        s, _ = scrape(addr)
        assert not series_of(s, "engine_container_pids")  # cgroup figures only on request
    finally:
        ok("rm", "-f", "acc3-io")


def test_scrape_answers_while_a_start_is_held_up(new_daemon, tmp_path):
    """A prestart hook keeps the container's start (and its lock) until the test says so; the scrape in between
    answers, with the container's last known figures."""
    addr = "127.0.0.1:%d" % free_port()
    d = new_daemon(extra_args=["--metrics-addr", addr])
    d.start()
    flag, entered = tmp_path / "go", tmp_path / "entered"
    spec = tmp_path / "hooks.json"
    spec.write_text(json.dumps({"prestart": [{"path": "/bin/sh", "args": [
        "sh", "-c", "touch %s; while [ ! -e %s ]; do sleep 0.05; done" % (entered, flag)]}]}))
    isula = [bin_path("isula"), "-H", d.host]
    subprocess.run(isula + ["create", "--name", "acc2-held", "--hook-spec", str(spec), "busybox", "sleep", "600"],
                   check=True, capture_output=True)
    s, _ = scrape(addr)
    assert series_of(s, "engine_container_running") == {"acc2-held": 0}
    start = subprocess.Popen(isula + ["start", "acc2-held"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while not entered.exists() and time.time() < deadline:
            time.sleep(0.05)
        assert entered.exists()
        s, _ = scrape(addr, "?containers=1")
        assert start.poll() is None  # the start is still held up: the scrape did not wait for it
        assert s[("engine_daemon_container_states_containers", (("state", "created"),))] == 1
        assert series_of(s, "engine_container_running") == {"acc2-held": 0}
    finally:
        flag.touch()
        start.wait(timeout=60)
    assert start.returncode == 0, start.stderr.read()
    s, _ = scrape(addr)
    assert series_of(s, "engine_container_running") == {"acc2-held": 1}
    subprocess.run(isula + ["rm", "-f", "acc2-held"], capture_output=True)
