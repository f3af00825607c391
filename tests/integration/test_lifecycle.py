"""Lifecycle details (issue 9): OCI hooks with the guide's validations (HK-*, L7829-7849), restart policies with
their count and across a daemon kill -9, `stop -t -1`, `--log-opt disable-log=true`, paused in ps/inspect, and
label filters that AND like Docker's."""
import json
import os
import time

import docker
import pytest

from conftest import Isula

HOOK = """#!/bin/sh
out=%s/$1
echo "argv: $*" > $out.tmp
echo "env: $HOOK_ENV" >> $out.tmp
cat >> $out.tmp
sleep %s
mv $out.tmp $out
exit %s
"""


def wait_for(pred, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def make_hook(tmp_path, name="hook.sh", sleep=0, code=0, mode=0o755):
    path = tmp_path / name
    path.write_text(HOOK % (tmp_path, sleep, code))
    path.chmod(mode)
    return path


def hook_spec(tmp_path, hooks, name="hooks.json"):
    spec = tmp_path / name
    spec.write_text(json.dumps(hooks))
    return str(spec)


def test_hooks_get_argv_env_state_and_poststop_runs_before_stop_returns(isula, container, tmp_path):
    tmp_path.chmod(0o755)
    hook = str(make_hook(tmp_path))
    slow = str(make_hook(tmp_path, "slow.sh", sleep=2))
    spec = hook_spec(tmp_path, {
        "prestart": [{"path": hook, "args": ["prestart-hook", "pre", "x"], "env": ["HOOK_ENV=one"], "timeout": 10}],
        "poststart": [{"path": hook, "args": ["poststart-hook", "post"], "env": ["HOOK_ENV=two"]}],
        "poststop": [{"path": slow, "args": ["poststop-hook", "stop"], "env": ["HOOK_ENV=three"]}],
    })
    cid = container("run", "-d", "--hook-spec", spec, "busybox", "sleep", "600")
    pre = (tmp_path / "pre").read_text().splitlines()
    assert pre[0] == "argv: pre x"
    assert pre[1] == "env: one"
    state = json.loads("".join(pre[2:]))
    assert state["id"] == cid and state["status"] in ("creating", "created")
    wait_for(lambda: (tmp_path / "post").exists(), "the poststart hook")
    post = (tmp_path / "post").read_text().splitlines()
    assert post[0] == "argv: post" and post[1] == "env: two"
    assert json.loads("".join(post[2:]))["pid"] == isula.inspect(cid)["State"]["Pid"]
    assert not (tmp_path / "stop").exists()
    isula.ok("stop", "-t", "1", cid)
    # the poststop hook sleeps 2 s before it writes its file: stop returned after it
    stop = (tmp_path / "stop").read_text().splitlines()
    assert stop[0] == "argv: stop" and stop[1] == "env: three"
    assert json.loads("".join(stop[2:]))["id"] == cid


def test_poststop_runs_before_rm_f_returns(isula, tmp_path):
    tmp_path.chmod(0o755)
    slow = str(make_hook(tmp_path, "slow.sh", sleep=2))
    spec = hook_spec(tmp_path, {"poststop": [{"path": slow, "args": ["poststop-hook", "rm"]}]})
    cid = isula.ok("run", "-d", "--hook-spec", spec, "busybox", "sleep", "600")
    isula.ok("rm", "-f", cid)
    assert (tmp_path / "rm").read_text().startswith("argv: rm\n")


def test_failing_prestart_hook_aborts_the_start(isula, container, tmp_path):
    tmp_path.chmod(0o755)
    bad = str(make_hook(tmp_path, "bad.sh", code=3))
    spec = hook_spec(tmp_path, {"prestart": [{"path": bad, "args": ["bad", "pre"]}]})
    cid = container("create", "--hook-spec", spec, "busybox", "sleep", "600")
    r = isula("start", cid)
    assert r.returncode != 0
    assert (tmp_path / "pre").exists()  # it ran, failed, and the container did not start
    st = isula.inspect(cid)["State"]
    assert st["Running"] is False and st["Pid"] == 0


@pytest.mark.parametrize("case", ["relative", "missing", "directory", "not-executable", "not-root", "group-writable",
                                  "other-writable", "timeout-0", "timeout-negative"])
def test_each_hook_validation_has_its_own_error(isula, tmp_path, case):
    tmp_path.chmod(0o755)
    hook = make_hook(tmp_path)
    entry = {"path": str(hook)}
    expect = {
        "relative": "must be absolute", "missing": "does not exist", "directory": "is not a regular file",
        "not-executable": "is not executable", "not-root": "must be owned by root",
        "group-writable": "must be writable by root only", "other-writable": "must be writable by root only",
        "timeout-0": "timeout must be greater than 0", "timeout-negative": "timeout must be greater than 0",
    }[case]
    if case == "relative":
        entry["path"] = "hook.sh"
    elif case == "missing":
        entry["path"] = str(tmp_path / "nope.sh")
    elif case == "directory":
        (tmp_path / "d").mkdir()
        entry["path"] = str(tmp_path / "d")
    elif case == "not-executable":
        hook.chmod(0o644)
    elif case == "not-root":
        os.chown(hook, 65534, 65534)
    elif case == "group-writable":
        hook.chmod(0o775)
    elif case == "other-writable":
        hook.chmod(0o757)
    elif case == "timeout-0":
        entry["timeout"] = 0
    else:
        entry["timeout"] = -5
    spec = hook_spec(tmp_path, {"prestart": [entry]})
    r = isula("create", "--hook-spec", spec, "busybox", "true")
    assert r.returncode != 0, r.stdout
    assert expect in r.stderr, r.stderr
    assert "hook prestart[0]" in r.stderr


def test_hook_spec_file_validations(isula, tmp_path):
    r = isula("create", "--hook-spec", "hooks.json", "busybox", "true")
    assert r.returncode != 0 and "must be an absolute path" in r.stderr, r.stderr
    r = isula("create", "--hook-spec", str(tmp_path / "none.json"), "busybox", "true")
    assert r.returncode != 0 and "does not exist" in r.stderr, r.stderr
    r = isula("create", "--hook-spec", str(tmp_path), "busybox", "true")
    assert r.returncode != 0 and "is not a regular file" in r.stderr, r.stderr
    big = tmp_path / "big.json"
    with open(big, "w") as f:
        f.write("{}" + " " * (10 * 1024 * 1024))
    r = isula("create", "--hook-spec", str(big), "busybox", "true")
    assert r.returncode != 0 and "larger than 10 MB" in r.stderr, r.stderr


def test_stop_t_minus_1_waits_past_the_stop_timeout(isula, container):
    cid = container("run", "-d", "--stop-timeout", "1", "busybox", "sh", "-c",
                    "trap 'sleep 4; exit 3' TERM; while :; do sleep 0.1; done")
    time.sleep(0.5)  # the trap is set once sh runs
    isula.ok("stop", "-t", "-1", cid, timeout=120)
    st = isula.inspect(cid)["State"]
    assert st["Running"] is False
    assert st["ExitCode"] == 3  # the handler finished: no SIGKILL after the 1 s stop timeout


def test_disable_log_records_nothing_and_logs_says_so(isula, container):
    cid = container("run", "-d", "--log-opt", "disable-log=true", "busybox", "echo", "secret-line")
    isula.ok("wait", cid)
    log_path = isula.inspect(cid)["LogPath"]
    assert not os.path.exists(log_path) or "secret-line" not in open(log_path).read()
    r = isula("logs", cid)
    assert r.returncode != 0
    assert "disable-log=true" in r.stderr
    # the default (G-05) records
    cid2 = container("run", "-d", "--log-opt", "disable-log=false", "busybox", "echo", "kept-line")
    isula.ok("wait", cid2)
    assert isula.ok("logs", cid2) == "kept-line"
    cid3 = container("run", "-d", "busybox", "echo", "default-line")
    isula.ok("wait", cid3)
    assert isula.ok("logs", cid3) == "default-line"


def test_paused_in_ps_and_inspect(isula, container):
    cid = container("run", "-d", "busybox", "sleep", "600")
    isula.ok("pause", cid)
    try:
        st = isula.inspect(cid)["State"]
        assert st["Status"] == "paused" and st["Paused"] is True
        row = [l for l in isula.ok("ps", "-a").splitlines() if l.startswith(cid[:12])][0]
        assert row.split()[2] == "paused", row
        assert isula.ok("ps", "-a", "--format", "{{.State}}", "-f", "id=" + cid) == "paused"
    finally:
        isula.ok("unpause", cid)


def test_label_filters_and_across_several(isula, container, daemon):
    both = container("create", "--label", "lf-a=1", "--label", "lf-b=2", "busybox", "true")
    container("create", "--label", "lf-a=1", "busybox", "true")
    container("create", "--label", "lf-b=2", "busybox", "true")
    out = isula.ok("ps", "-a", "-q", "--no-trunc", "--filter", "label=lf-a=1", "--filter", "label=lf-b=2").split()
    assert out == [both]
    out = isula.ok("ps", "-a", "-q", "--no-trunc", "--filter", "label=lf-a", "--filter", "label=lf-b").split()
    assert out == [both]
    assert len(isula.ok("ps", "-a", "-q", "--filter", "label=lf-a=1").split()) == 2
    client = docker.DockerClient(base_url=daemon.host)
    got = [c.id for c in client.containers.list(all=True, filters={"label": ["lf-a=1", "lf-b=2"]})]
    assert got == [both]


def test_restart_on_failure_counts_and_stops_at_the_limit(isula, container):
    cid = container("run", "-d", "--restart", "on-failure:3", "busybox", "sh", "-c", "exit 4")
    wait_for(lambda: isula.inspect(cid)["RestartCount"] == 3 and isula.inspect(cid)["State"]["Status"] == "exited",
             "three restarts")
    time.sleep(1.5)  # no fourth run
    info = isula.inspect(cid)
    assert info["RestartCount"] == 3 and info["State"]["ExitCode"] == 4
    row = isula.ok("ps", "-a", "--format", "{{.RestartCount}}", "-f", "id=" + cid)
    assert row == "3"


def test_restart_always_restarts_until_stopped(isula, container):
    cid = container("run", "-d", "--restart", "always", "busybox", "sh", "-c", "sleep 0.2; exit 0")
    wait_for(lambda: isula.inspect(cid)["RestartCount"] >= 2, "two restarts of an always container")
    isula.ok("stop", "-t", "1", cid)
    n = isula.inspect(cid)["RestartCount"]
    time.sleep(1.5)
    info = isula.inspect(cid)
    assert info["State"]["Running"] is False and info["RestartCount"] == n


def pid_gone(pid):
    try:
        os.kill(pid, 0)
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (ProcessLookupError, FileNotFoundError):
        return True


def test_restart_policies_apply_after_daemon_kill_9(new_daemon):
    d = new_daemon()
    d.start()
    isula = Isula(d)
    exit_file = "sleep 3; exit 1"
    names = {"rp-always": "always", "rp-unless": "unless-stopped", "rp-onfail": "on-failure:5", "rp-no": "no"}
    for name, policy in names.items():
        isula.ok("run", "-d", "--name", name, "--restart", policy, "busybox", "sh", "-c", exit_file)
    isula.ok("run", "-d", "--name", "rp-stopped", "--restart", "always", "busybox", "sleep", "600")
    isula.ok("stop", "-t", "0", "rp-stopped")
    pids = {n: isula.inspect(n)["State"]["Pid"] for n in names}
    d.proc.kill()
    d.proc.wait()
    d.proc = None
    wait_for(lambda: all(pid_gone(p) for p in pids.values()), "the containers to exit while isulad is down")
    d.start()
    for name in ("rp-always", "rp-unless", "rp-onfail"):
        wait_for(lambda: isula.inspect(name)["RestartCount"] >= 1 and isula.inspect(name)["State"]["Pid"] not in
                 (0, pids[name]), name + " restarted after the daemon came back")
    assert isula.inspect("rp-no")["State"]["Status"] == "exited"
    assert isula.inspect("rp-no")["RestartCount"] == 0
    st = isula.inspect("rp-stopped")
    assert st["State"]["Status"] == "exited" and st["RestartCount"] == 0


def test_restart_back_off_grows(isula, container, daemon):
    client = docker.DockerClient(base_url=daemon.host)
    since = time.time() - 1
    cid = container("run", "-d", "--restart", "on-failure:4", "busybox", "sh", "-c", "exit 2")
    wait_for(lambda: isula.inspect(cid)["RestartCount"] == 4 and isula.inspect(cid)["State"]["Status"] == "exited",
             "four restarts")
    evs = list(client.events(since=int(since), until=int(time.time()) + 1, decode=True, filters={"container": cid}))
    die = [e["timeNano"] for e in evs if e["Action"] == "die"]
    start = [e["timeNano"] for e in evs if e["Action"] == "start"]
    assert len(start) == 5 and len(die) == 5, [e["Action"] for e in evs]
    # Docker's back-off: 100 ms before the first restart, doubled at each one (lower bounds only)
    gaps = [(start[i + 1] - die[i]) / 1e9 for i in range(4)]
    for i, g in enumerate(gaps):
        assert g >= 0.1 * (2 ** i) * 0.95, gaps


def test_event_label_filters_and(isula, container, daemon):
    client = docker.DockerClient(base_url=daemon.host)
    since = int(time.time()) - 1
    both = container("create", "--label", "ev-a=1", "--label", "ev-b=2", "busybox", "true")
    one = container("create", "--label", "ev-a=1", "busybox", "true")
    evs = list(client.events(since=since, until=int(time.time()) + 1, decode=True,
                             filters={"label": ["ev-a=1", "ev-b=2"], "event": "create"}))
    assert [e["id"] for e in evs] == [both], evs
    evs = list(client.events(since=since, until=int(time.time()) + 1, decode=True,
                             filters={"label": ["ev-a=1"], "event": "create"}))
    assert sorted(e["id"] for e in evs) == sorted([both, one])


def load_labelled_busybox(isula, tmp_path, name, labels):
    """busybox saved, its config given labels, loaded as `name`."""
    import hashlib
    import io
    import tarfile
    src = tmp_path / ("src-%s.tar" % name.replace(":", "_"))
    isula.ok("save", "-o", str(src), "busybox")
    out = tmp_path / ("lab-%s.tar" % name.replace(":", "_"))
    with tarfile.open(src) as t, tarfile.open(out, "w") as o:
        manifest = json.load(t.extractfile("manifest.json"))
        config = json.load(t.extractfile(manifest[0]["Config"]))
        config["config"]["Labels"] = labels
        config["config"]["Hostname"] = name  # a different config: a different image id
        data = json.dumps(config).encode()
        config_name = hashlib.sha256(data).hexdigest() + ".json"
        for m in t.getmembers():
            if m.name not in ("manifest.json", manifest[0]["Config"], "repositories"):
                o.addfile(m, t.extractfile(m) if m.isfile() else None)
        manifest[0]["Config"] = config_name
        manifest[0]["RepoTags"] = [name]
        for fname, blob in ((config_name, data), ("manifest.json", json.dumps(manifest).encode())):
            ti = tarfile.TarInfo(fname)
            ti.size = len(blob)
            o.addfile(ti, io.BytesIO(blob))
    isula.ok("load", "-i", str(out))


def test_image_label_filters_and(isula, tmp_path):
    load_labelled_busybox(isula, tmp_path, "lab-both:1", {"im-a": "1", "im-b": "2"})
    load_labelled_busybox(isula, tmp_path, "lab-one:1", {"im-a": "1"})
    try:
        out = isula.ok("images", "-f", "label=im-a=1", "-f", "label=im-b=2")
        assert "lab-both" in out and "lab-one" not in out, out
        out = isula.ok("images", "-f", "label=im-a")
        assert "lab-both" in out and "lab-one" in out, out
    finally:
        isula("rmi", "lab-both:1")
        isula("rmi", "lab-one:1")


def test_prestart_hook_past_its_timeout_fails_the_start(isula, container, tmp_path):
    tmp_path.chmod(0o755)
    slow = tmp_path / "slow.sh"
    slow.write_text("#!/bin/sh\nexec sleep 30\n")  # exec: the killed hook leaves no child holding its pipes
    slow.chmod(0o755)
    spec = hook_spec(tmp_path, {"prestart": [{"path": str(slow), "timeout": 1}]})
    cid = container("create", "--hook-spec", spec, "busybox", "sleep", "600")
    t0 = time.monotonic()
    r = isula("start", cid, timeout=120)
    assert r.returncode != 0
    assert time.monotonic() - t0 < 25  # the runtime killed the hook at its timeout instead of waiting 30 s
    assert not isula.inspect(cid)["State"]["Running"]


def test_update_restart_policy_applies_at_the_next_exit(isula, container):
    cid = container("run", "-d", "busybox", "sh", "-c", "while [ ! -f /tmp/go ]; do sleep 0.1; done; exit 3")
    isula.ok("update", "--restart", "on-failure:2", cid)
    assert isula.inspect(cid)["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    isula.ok("exec", cid, "touch", "/tmp/go")  # kept in the read-write layer: every later run exits at once
    wait_for(lambda: isula.inspect(cid)["RestartCount"] == 2 and isula.inspect(cid)["State"]["Status"] == "exited",
             "two restarts by the updated policy")
    assert isula.inspect(cid)["State"]["ExitCode"] == 3
