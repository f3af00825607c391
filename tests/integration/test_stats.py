"""isula stats (guide C-stats-01..03) and GET /containers/{id}/stats in Docker's stats JSON, read by the docker
CLI and the Docker SDK: the container's real cgroup values (memory limit, processes, CPU use)."""
import json
import os
import re
import shutil
import subprocess

import pytest

HEADER = ["CONTAINER", "CPU %", "MEM USAGE / LIMIT", "MEM %", "BLOCK I / O", "PIDS"]
SIZE = r"\d+\.\d\d (B|KiB|MiB|GiB)"


def parse_table(out):
    """Columns are separated by spaces and some titles and cells contain spaces: split on the header's
    column starts."""
    lines = out.rstrip("\n").splitlines()
    starts = [lines[0].index(h) for h in HEADER]
    rows = []
    for line in lines:
        cells = [line[s:e].strip() for s, e in zip(starts, starts[1:] + [len(line)])]
        rows.append(cells)
    return rows


def test_no_stream_shows_the_cgroup_values(isula, container):
    busy = container("run", "-d", "-m", "64m", "busybox", "sh", "-c", "while :; do :; done")
    three = container("run", "-d", "busybox", "sh", "-c", "sleep 100 & sleep 100 & wait")
    created = container("create", "busybox", "true")
    rows = parse_table(isula.ok("stats", "--no-stream", busy, three))
    assert rows[0] == HEADER
    by_id = {r[0]: r for r in rows[1:]}
    b, t = by_id[busy[:12]], by_id[three[:12]]
    assert re.fullmatch(r"\d+\.\d\d", b[1]) and float(b[1]) > 1.0, b  # a busy loop uses CPU
    assert re.fullmatch(SIZE + " / 64.00 MiB", b[2]), b
    assert re.fullmatch(r"\d+\.\d\d", b[3]) and 0 < float(b[3]) < 100, b
    assert re.fullmatch(SIZE + " / " + SIZE, b[4]), b
    assert b[5] == "1" and t[5] == "3", (b, t)
    # without names: the running containers, with -a the others too (all zero)
    listed = [r[0] for r in parse_table(isula.ok("stats", "--no-stream"))[1:]]
    assert busy[:12] in listed and three[:12] in listed and created[:12] not in listed
    rows = parse_table(isula.ok("stats", "--no-stream", "-a"))
    zero = [r for r in rows if r[0] == created[:12]]
    assert zero == [[created[:12], "0.00", "0.00 B / 0.00 B", "0.00", "0.00 B / 0.00 B", "0"]], rows


def test_unknown_container(isula):
    r = isula("stats", "--no-stream", "no-such-container")
    assert r.returncode == 1 and r.stderr.strip() == "Error response from daemon: No such container: no-such-container"


@pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI")
def test_docker_cli_stats(daemon, isula, container):
    cid = container("run", "-d", "-m", "32m", "busybox", "sleep", "100")
    r = subprocess.run(["docker", "-H", "unix://" + daemon.sock, "stats", "--no-stream", "--format",
                        "{{.ID}}|{{.MemUsage}}|{{.PIDs}}", cid], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    short, mem, pids = r.stdout.strip().split("|")
    assert short == cid[:12] and mem.endswith(" / 32MiB") and pids == "1", r.stdout


def test_api_stream_and_sdk(daemon, isula, container):
    docker = pytest.importorskip("docker")
    cid = container("run", "-d", "-m", "48m", "busybox", "sleep", "100")
    client = docker.DockerClient(base_url="unix://" + daemon.sock, version="1.41", timeout=60)
    try:
        c = client.containers.get(cid)
        s = c.stats(stream=False)
        assert s["id"] == cid and s["memory_stats"]["limit"] == 48 << 20
        assert s["pids_stats"]["current"] == 1 and s["cpu_stats"]["online_cpus"] == os.cpu_count()
        assert s["precpu_stats"]["system_cpu_usage"] < s["cpu_stats"]["system_cpu_usage"]
        stream = c.stats(stream=True, decode=True)
        first, second = next(stream), next(stream)  # one document a second
        assert first["read"] < second["read"] and second["memory_stats"]["usage"] > 0
        assert second["precpu_stats"] == first["cpu_stats"]
        stream.close()
    finally:
        client.close()
    # a stopped container: one zero document, and the stream ends
    isula.ok("stop", "-t", "0", cid)
    r = subprocess.run(["curl", "-s", "--unix-socket", daemon.sock, "http://x/containers/%s/stats" % cid],
                       capture_output=True, text=True, timeout=30)
    docs = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(docs) == 1 and docs[0]["read"] == "0001-01-01T00:00:00Z" and docs[0]["memory_stats"] == {}, r.stdout
