"""The Prometheus endpoint (metrics-addr, off by default): scraped over HTTP and parsed as the text format;
containers per state, container actions with latency histograms, the daemon's RSS, open fds and threads."""
import re
import subprocess
import urllib.request

from conftest import bin_path
from registry import free_port

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$')


def scrape(addr):
    with urllib.request.urlopen("http://%s/metrics" % addr, timeout=30) as r:
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
