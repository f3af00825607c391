"""isula events (guide C-events-01: -n, -S) and GET /events (Docker's event JSON, since/until/filters), read
with isula, the docker CLI and the Docker SDK: container and image lifecycle events as they happen."""
import json
import os
import re
import shutil
import subprocess
import time
import uuid

import pytest

from conftest import bin_path

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}[+-]\d\d:\d\d (container|image) (\S+) (\S+)(?: \((.*)\))?$")


def window(isula, *cmd):
    """Runs the commands; returns (since, until) unix seconds around them."""
    t0 = int(time.time())
    for c in cmd:
        isula.ok(*c)
    time.sleep(1.1)  # so that `until` (whole seconds here) is after the last event
    return str(t0), str(int(time.time()))


def test_isula_events_of_one_container(isula):
    name, other = "ev-" + uuid.uuid4().hex[:8], "ev-" + uuid.uuid4().hex[:8]
    since, until = window(isula, ("run", "--name", other, "--rm", "busybox", "true"))
    r = isula("run", "--rm", "--name", name, "busybox", "sh", "-c", "exit 3")
    assert r.returncode == 3
    time.sleep(1.1)
    until = str(int(time.time()))
    out = isula.ok("events", "-S", since, "--until", until, "-n", name)
    events = [LINE.match(line) for line in out.splitlines()]
    assert all(events), out
    assert [m.group(2) for m in events] == ["create", "start", "die", "destroy"], out
    assert all(m.group(1) == "container" and "name=%s" % name in m.group(4) for m in events), out
    assert "exitCode=3" in events[2].group(4) and "image=busybox" in events[0].group(4), out
    # all containers: the other one too
    everything = isula.ok("events", "--since", since, "--until", until)
    assert "name=%s" % other in everything and "name=%s" % name in everything


def test_isula_events_follow(daemon, isula):
    name = "ev-" + uuid.uuid4().hex[:8]
    p = subprocess.Popen([bin_path("isula"), "events", "-n", name], stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, ISULAD_HOST=daemon.host))
    try:
        time.sleep(0.5)
        isula.ok("run", "--rm", "--name", name, "busybox", "true")
        lines = []
        deadline = time.time() + 20
        while len(lines) < 4 and time.time() < deadline:
            lines.append(p.stdout.readline().strip())
        assert [LINE.match(x).group(2) for x in lines] == ["create", "start", "die", "destroy"], lines
    finally:
        p.kill()
        p.wait()


def test_api_events_filters_and_errors(daemon, isula):
    docker = pytest.importorskip("docker")
    name = "ev-" + uuid.uuid4().hex[:8]
    tag = "ev-tag-%s:1" % uuid.uuid4().hex[:6]
    cid = isula.ok("run", "-d", "--name", name, "--label", "team=red", "busybox", "sleep", "100")
    since, until = window(isula, ("pause", name), ("unpause", name), ("rename", name, name + "-b"),
                          ("kill", "-s", "USR1", name + "-b"), ("stop", "-t", "0", name + "-b"),
                          ("rm", name + "-b"), ("tag", "busybox", tag), ("rmi", tag))
    client = docker.DockerClient(base_url="unix://" + daemon.sock, version="1.41", timeout=60)
    try:
        evs = list(client.events(since=int(since), until=int(until), decode=True))
        mine = [e for e in evs if e["Type"] == "container" and e["Actor"]["ID"] == cid]
        mine = mine[[e["Action"] for e in mine].index("pause"):]  # since is whole seconds: create/start may show
        # stop -t 0 (sleep ignores SIGTERM as pid 1): kill 15, then kill 9, die, stop, as Docker's
        assert [e["Action"] for e in mine] == ["pause", "unpause", "rename", "kill", "kill", "kill", "die", "stop",
                                               "destroy"], mine
        assert mine[2]["Actor"]["Attributes"]["oldName"] == "/" + name
        assert mine[3]["Actor"]["Attributes"]["signal"] == "10" and mine[3]["status"] == "kill"
        assert [e["Actor"]["Attributes"]["signal"] for e in mine[4:6]] == ["15", "9"]
        assert all(e["Actor"]["Attributes"]["team"] == "red" and e["from"] == "busybox" for e in mine)
        images = [(e["Action"], e["Actor"]["Attributes"]["name"]) for e in evs if e["Type"] == "image"]
        assert ("tag", tag) in images and ("untag", tag) in images, images
        only = list(client.events(since=int(since), until=int(until), decode=True,
                                  filters={"type": "container", "event": "kill", "label": "team=red"}))
        assert [(e["Action"], e["Actor"]["Attributes"]["signal"]) for e in only] == [
            ("kill", "10"), ("kill", "15"), ("kill", "9")], only
    finally:
        client.close()
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", daemon.sock,
                        "http://x/events?filters=not-json"], capture_output=True, text=True, timeout=30)
    assert r.stdout == "400"


@pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI")
def test_docker_cli_events(daemon, isula):
    name = "ev-" + uuid.uuid4().hex[:8]
    since, until = window(isula, ("run", "--rm", "--name", name, "busybox", "true"))
    r = subprocess.run(["docker", "-H", "unix://" + daemon.sock, "events", "--since", since, "--until", until,
                        "--filter", "container=" + name, "--format", "{{json .}}"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert [json.loads(x)["Action"] for x in r.stdout.splitlines()] == ["create", "start", "die", "destroy"]
