"""Health checks (guide 3.6, HC-*): --health-* options, Docker's Healthcheck create field, the states starting ->
healthy/unhealthy over time, the log of the last 5 probes in inspect, `(healthy)` in ps, health_status events,
probes killed at their timeout, checks that stop while paused, --health-exit-on-unhealthy, and checks that come
back after a daemon kill -9 and restart."""
import datetime
import subprocess
import time

import docker

from conftest import Isula

DOCKER = "/usr/local/bin/docker"


def wait_for(pred, what, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def health(isula, cid):
    return isula.inspect(cid)["State"].get("Health")


def status_is(isula, cid, want):
    return lambda: (health(isula, cid) or {}).get("Status") == want


def ts(s):
    """RFC 3339 with nanoseconds -> unix seconds (float)."""
    main, frac = s.rstrip("Z").split(".") if "." in s else (s.rstrip("Z"), "0")
    tz = datetime.timezone.utc
    for sign in "+-":
        if sign in frac:
            frac, off = frac.split(sign)
            h, m = off.split(":")
            tz = datetime.timezone((1 if sign == "+" else -1) * datetime.timedelta(hours=int(h), minutes=int(m)))
    d = datetime.datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=tz)
    return d.timestamp() + float("0." + frac)


def test_health_states_log_ps_and_events(isula, container, daemon):
    since = int(time.time())
    cid = container("run", "-d", "--health-cmd", "echo probe-out; test -f /tmp/ok", "--health-interval", "1s",
                    "--health-retries", "3", "busybox", "sleep", "600")
    # HC-10: right after the start
    assert health(isula, cid)["Status"] == "starting"
    assert "(health: starting)" in isula.ok("ps", "--format", "{{.Status}}", "-f", "id=" + cid) or \
        health(isula, cid)["Status"] != "starting"
    # HC-20, HC-13: failing from the first check, it becomes unhealthy after 3 consecutive failures
    wait_for(status_is(isula, cid, "unhealthy"), "unhealthy")
    h = health(isula, cid)
    assert h["FailingStreak"] >= 3
    assert h["Log"][-1]["ExitCode"] == 1 and h["Log"][-1]["Output"] == "probe-out\n"
    # HC-14: one success makes it healthy
    isula.ok("exec", cid, "touch", "/tmp/ok")
    wait_for(status_is(isula, cid, "healthy"), "healthy")
    h = health(isula, cid)
    assert h["FailingStreak"] == 0 and h["Log"][-1]["ExitCode"] == 0
    row = [l for l in isula.ok("ps").splitlines() if l.startswith(cid[:12])][0]
    assert "running (healthy)" in row, row
    r = subprocess.run([DOCKER, "-H", daemon.host, "ps", "--filter", "id=" + cid, "--format", "{{.Status}}"],
                       capture_output=True, text=True, timeout=60)
    assert r.stdout.strip().endswith("(healthy)"), r.stdout + r.stderr
    # HC-16: at most the last 5 results are kept
    wait_for(lambda: len(health(isula, cid)["Log"]) == 5, "five log entries")
    time.sleep(2.5)
    log = health(isula, cid)["Log"]
    assert len(log) == 5
    assert all(ts(e["Start"]) <= ts(e["End"]) for e in log)
    assert [ts(e["Start"]) for e in log] == sorted(ts(e["Start"]) for e in log)
    isula.ok("exec", cid, "rm", "/tmp/ok")
    wait_for(status_is(isula, cid, "unhealthy"), "unhealthy again")
    client = docker.DockerClient(base_url=daemon.host)
    evs = list(client.events(since=since, until=int(time.time()) + 1, decode=True,
                             filters={"container": cid}))
    actions = [e["Action"] for e in evs]
    assert "health_status: unhealthy" in actions and "health_status: healthy" in actions, actions
    i = actions.index("health_status: healthy")
    assert "health_status: unhealthy" in actions[i + 1:], actions


def test_probe_past_its_timeout_is_killed(isula, container):
    cid = container("run", "-d", "--health-cmd", "sleep 77", "--health-interval", "1s", "--health-timeout", "1s",
                    "--health-retries", "2", "busybox", "sleep", "600")
    wait_for(status_is(isula, cid, "unhealthy"), "unhealthy after two timeouts")
    h = health(isula, cid)
    entry = h["Log"][-1]
    assert entry["ExitCode"] == -1 and "exceeded timeout" in entry["Output"], entry
    assert ts(entry["End"]) - ts(entry["Start"]) < 20
    # the killed probes do not linger in the container (a probe may be running right now: at most that one)
    procs = [l for l in isula.ok("exec", cid, "ps").splitlines() if "sleep 77" in l]
    assert len(procs) <= 1, procs


def test_checks_stop_while_paused_and_resume(isula, container):
    cid = container("run", "-d", "--health-cmd", "true", "--health-interval", "1s", "--health-timeout", "2s",
                    "--health-retries", "1", "busybox", "sleep", "600")
    wait_for(status_is(isula, cid, "healthy"), "healthy")
    isula.ok("pause", cid)
    paused_at = time.time()
    try:
        time.sleep(4)
        h = health(isula, cid)
        assert h["Status"] == "healthy", h  # a probe stuck in the frozen container is not a failure
        assert all(ts(e["Start"]) < paused_at for e in h["Log"]), h["Log"]
    finally:
        isula.ok("unpause", cid)
    resumed_at = time.time()
    wait_for(lambda: any(ts(e["Start"]) > resumed_at for e in health(isula, cid)["Log"]), "a check after unpause")
    h = health(isula, cid)
    assert h["Status"] == "healthy", (paused_at, resumed_at, h)


def test_exit_on_unhealthy_kills_the_container(isula, container):
    cid = container("run", "-d", "--health-cmd", "exit 1", "--health-interval", "1s", "--health-retries", "1",
                    "--health-exit-on-unhealthy", "busybox", "sleep", "600")
    wait_for(lambda: not isula.inspect(cid)["State"]["Running"], "the unhealthy container to be killed")
    st = isula.inspect(cid)["State"]
    assert st["ExitCode"] == 137 and st["Health"]["Status"] == "unhealthy"


def test_no_healthcheck_and_docker_healthcheck_field(isula, container, daemon):
    cid = container("run", "-d", "--no-healthcheck", "busybox", "sleep", "600")
    assert "Health" not in isula.inspect(cid)["State"]
    client = docker.DockerClient(base_url=daemon.host)
    c = client.containers.run("busybox", "sleep 600", detach=True,
                              healthcheck={"test": ["CMD", "true"], "interval": 1000000000, "retries": 2})
    try:
        wait_for(lambda: (client.api.inspect_container(c.id)["State"].get("Health") or {}).get("Status") ==
                 "healthy", "the SDK's container to be healthy")
        assert client.api.inspect_container(c.id)["Config"]["Healthcheck"]["Test"] == ["CMD", "true"]
    finally:
        c.remove(force=True)


def test_checks_come_back_after_daemon_kill_9(new_daemon):
    d = new_daemon()
    d.start()
    isula = Isula(d)
    cid = isula.ok("run", "-d", "--health-cmd", "test -f /tmp/ok", "--health-interval", "1s", "busybox", "sh", "-c",
                   "touch /tmp/ok; sleep 600")
    wait_for(status_is(isula, cid, "healthy"), "healthy")
    d.proc.kill()
    d.proc.wait()
    d.proc = None
    d.start()
    restarted = time.time()
    # HC-19: back to starting, then the checks run again
    wait_for(lambda: any(ts(e["Start"]) > restarted for e in (health(isula, cid) or {}).get("Log", [])),
             "a check after the daemon restart")
    wait_for(status_is(isula, cid, "healthy"), "healthy after the restart")
    isula.ok("exec", cid, "rm", "/tmp/ok")
    wait_for(status_is(isula, cid, "unhealthy"), "unhealthy after the restart")


def test_no_daemon_thread_per_checked_container(isula, container, daemon):
    def threads():
        return len(__import__("os").listdir("/proc/%d/task" % daemon.proc.pid))

    base = threads()
    cids = [container("run", "-d", "--health-cmd", "true", "--health-interval", "1s", "busybox", "sleep", "600")
            for _ in range(6)]
    for cid in cids:
        wait_for(status_is(isula, cid, "healthy"), "healthy")
    time.sleep(1)
    # one scheduler thread serves them all (transient request threads may come and go: allow a few)
    assert threads() - base < 6, (base, threads())


def image_with_healthcheck(isula, tmp_path, name, healthcheck):
    """busybox saved, its config given a Healthcheck (as a Dockerfile HEALTHCHECK does), loaded as `name`."""
    import hashlib
    import io
    import json
    import tarfile
    src = tmp_path / "busybox.tar"
    isula.ok("save", "-o", str(src), "busybox")
    out = tmp_path / "hc.tar"
    with tarfile.open(src) as t, tarfile.open(out, "w") as o:
        manifest = json.load(t.extractfile("manifest.json"))
        config = json.load(t.extractfile(manifest[0]["Config"]))
        config["config"]["Healthcheck"] = healthcheck
        data = json.dumps(config).encode()
        config_name = hashlib.sha256(data).hexdigest() + ".json"
        for m in t.getmembers():
            if m.name in ("manifest.json", manifest[0]["Config"], "repositories"):
                continue
            o.addfile(m, t.extractfile(m) if m.isfile() else None)
        manifest[0]["Config"] = config_name
        manifest[0]["RepoTags"] = [name]
        for fname, blob in ((config_name, data), ("manifest.json", json.dumps(manifest).encode())):
            ti = tarfile.TarInfo(fname)
            ti.size = len(blob)
            o.addfile(ti, io.BytesIO(blob))
    isula.ok("load", "-i", str(out))


def test_image_healthcheck_runs_unless_no_healthcheck(isula, container, tmp_path):
    name = "hc-image-%d:latest" % int(time.time())
    image_with_healthcheck(isula, tmp_path, name, {"Test": ["CMD-SHELL", "echo from-image"], "Interval": 1000000000,
                                                   "Retries": 1})
    try:
        cid = container("run", "-d", name, "sleep", "600")
        wait_for(status_is(isula, cid, "healthy"), "the image's check to pass")
        assert health(isula, cid)["Log"][-1]["Output"] == "from-image\n"
        assert isula.inspect(cid)["Config"]["Healthcheck"]["Test"] == ["CMD-SHELL", "echo from-image"]
        off = container("run", "-d", "--no-healthcheck", name, "sleep", "600")
        time.sleep(2)
        assert "Health" not in isula.inspect(off)["State"]
    finally:
        for cid in isula.ok("ps", "-a", "-q", "--no-trunc", "-f", "ancestor=" + name).split():
            isula("rm", "-f", cid)
        isula("rmi", name)


def test_health_option_limits(isula):
    for opt in ("--health-interval", "--health-timeout", "--health-start-period"):
        r = isula("create", "--health-cmd", "true", opt, "500ms", "busybox", "true")
        assert r.returncode != 0 and "cannot be less than 1s" in r.stderr, (opt, r.stderr)
    r = isula("create", "--health-cmd", "true", "--health-retries", "-1", "busybox", "true")
    assert r.returncode != 0 and "cannot be negative" in r.stderr, r.stderr


def test_docker_cli_health_options(container, daemon, isula):
    r = subprocess.run([DOCKER, "-H", daemon.host, "run", "-d", "--health-cmd", "true", "--health-interval", "1s",
                        "busybox", "sleep", "600"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    cid = r.stdout.strip()
    try:
        wait_for(lambda: subprocess.run([DOCKER, "-H", daemon.host, "inspect", "--format",
                                         "{{.State.Health.Status}}", cid], capture_output=True, text=True,
                                        timeout=60).stdout.strip() == "healthy", "docker inspect: healthy")
    finally:
        isula("rm", "-f", cid)
