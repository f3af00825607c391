"""Issue 13's small semantics, as Docker has them, seen through isula, the docker CLI, the Docker SDK and the
raw API: the name filter is a regular expression, references are normalised for the ancestor and image
filters, ps -n includes stopped containers, rename to the same name and logs --since bogus are errors,
events reject unknown filters and keep nanoseconds, stop/restart emit kill/die/stop, Env without `=` kept,
kill -9 waits for the exit, /version and /info fields, 501 for Docker endpoints not served, prunes and
system df, SizeRw/SizeRootFs. Every container is named `du-...` and removed after the test."""
import http.client
import json
import os
import socket
import subprocess
import time
import urllib.parse
import uuid

import pytest

DOCKER = "/usr/local/bin/docker"
docker_sdk = pytest.importorskip("docker")


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def call(daemon, method, path, body=None):
    conn = UnixHTTPConnection(daemon.sock)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, "/v1.41" + path, body=data, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        text = r.read()
        try:
            return r.status, json.loads(text)
        except ValueError:
            return r.status, text
    finally:
        conn.close()


def docker(daemon, *args, timeout=60):
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    env["DOCKER_CONFIG"] = os.path.join(daemon.base, "docker-config")
    return subprocess.run([DOCKER, "-H", daemon.host] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture
def names(isula):
    made = []

    def make():
        n = "du-" + uuid.uuid4().hex[:10]
        made.append(n)
        return n

    yield make
    for n in made:
        isula("rm", "-f", n)


@pytest.fixture
def sdk(daemon):
    client = docker_sdk.DockerClient(base_url="unix://" + daemon.sock, version="1.41", timeout=60)
    yield client
    client.close()


def ps_names(isula, *args):
    return isula.ok("ps", "-a", "--format", "{{.Names}}", *args).split()


def test_name_filter_is_a_regular_expression(isula, names):
    a, b = names(), names()
    isula.ok("create", "--name", a, "busybox", "true")
    isula.ok("create", "--name", b, "busybox", "true")
    assert ps_names(isula, "-f", "name=^%s$" % a) == [a]
    assert sorted(ps_names(isula, "-f", "name=^(%s|%s)$" % (a, b))) == sorted([a, b])
    assert ps_names(isula, "-f", "name=^/%s$" % b) == [b]  # Docker's names carry a leading slash
    assert ps_names(isula, "-f", "name=%s" % a[3:9]) == [a]  # a plain word still matches as a substring
    r = isula("ps", "-a", "-f", "name=[")
    assert r.returncode != 0 and "regular expression" in r.stderr


def test_ancestor_filter_normalises_references(isula, names, daemon):
    a = names()
    isula.ok("create", "--name", a, "busybox", "true")
    image_id = isula.inspect(a)["Image"]
    for ref in ("busybox", "busybox:latest", "docker.io/library/busybox:latest", image_id, image_id[7:19]):
        assert a in ps_names(isula, "-f", "ancestor=" + ref), ref
    assert a not in ps_names(isula, "-f", "ancestor=busybox:other")
    r = docker(daemon, "ps", "-a", "--format", "{{.Names}}", "-f", "ancestor=busybox:latest")
    assert r.returncode == 0 and a in r.stdout.split()


def test_limit_includes_every_state(daemon, isula, names):
    a = names()
    isula.ok("run", "--name", a, "busybox", "true")  # exited, the newest
    r = docker(daemon, "ps", "-n", "1", "--format", "{{.Names}}")
    assert r.returncode == 0 and r.stdout.split() == [a], r.stdout + r.stderr
    r = docker(daemon, "ps", "-l", "--format", "{{.Names}} {{.Status}}")
    assert r.returncode == 0 and r.stdout.startswith(a + " Exited (0)"), r.stdout + r.stderr
    status, body = call(daemon, "GET", "/containers/json?limit=1")
    assert status == 200 and body[0]["Names"] == ["/" + a]


def test_rename_to_its_own_name_is_an_error(daemon, isula, names):
    a = names()
    isula.ok("create", "--name", a, "busybox", "true")
    r = isula("rename", a, a)
    assert r.returncode != 0 and "same name" in r.stderr
    r = docker(daemon, "rename", a, a)
    assert r.returncode != 0 and "same name" in r.stderr
    assert isula.inspect(a)["Name"].lstrip("/") == a


def test_logs_since_bogus_is_an_error(daemon, isula, names):
    a = names()
    isula.ok("run", "--name", a, "busybox", "echo", "hi")
    r = isula("logs", "--since", "bogus", a)
    assert r.returncode != 0 and r.stdout == "" and "since" in r.stderr, r
    status, body = call(daemon, "GET", "/containers/%s/logs?stdout=1&since=bogus" % a)
    assert status == 400 and "since" in body["message"]
    status, body = call(daemon, "GET", "/events?until=soon")
    assert status == 400 and "until" in body["message"]
    assert isula.ok("logs", "--since", "1h", a) == "hi"


def test_events_unknown_filter_is_an_error(daemon, isula):
    status, body = call(daemon, "GET", "/events?until=1&filters=" + urllib.parse.quote('{"bogus":["1"]}'))
    assert status == 400 and "bogus" in body["message"]
    r = docker(daemon, "events", "--until", "0s", "-f", "bogus=1")
    assert r.returncode != 0 and "bogus" in r.stderr


def test_events_until_keeps_nanoseconds_and_image_filter_normalised(daemon, isula, names):
    a = names()
    t0 = time.time()
    isula.ok("run", "--name", a, "busybox", "true")
    # right after the run, with no sleep: until=now must include its events (whole seconds would drop them)
    until = "%.9f" % time.time()
    since = "%.9f" % t0
    for image in ("busybox", "busybox:latest", "docker.io/library/busybox"):
        q = urllib.parse.urlencode({"since": since, "until": until,
                                    "filters": json.dumps({"container": [a], "image": [image]})})
        status, body = call(daemon, "GET", "/events?" + q)
        assert status == 200, body
        lines = [json.loads(x) for x in (body if isinstance(body, bytes) else json.dumps(body).encode()).splitlines()]
        assert [e["Action"] for e in lines] == ["create", "start", "die"], (image, lines)
    # isula sends a relative --until with its nanoseconds (the docker CLI itself rounds durations to seconds)
    out = isula.ok("events", "--since", since, "--until", "0s", "-n", a)
    assert [x.split()[2] for x in out.splitlines()] == ["create", "start", "die"], out


def actions(daemon, name, since):
    q = urllib.parse.urlencode({"since": since, "until": "%.9f" % time.time(),
                                "filters": json.dumps({"container": [name]})})
    status, body = call(daemon, "GET", "/events?" + q)
    assert status == 200
    text = body if isinstance(body, bytes) else json.dumps(body).encode()
    return [(e["Action"], e["Actor"]["Attributes"].get("signal")) for e in map(json.loads, text.splitlines())]


def wait_ready(isula, name, runs):
    """Until the container's trap is set in its runs-th run."""
    deadline = time.time() + 30
    while isula("exec", name, "sh", "-c", "test $(wc -l < /ready) = %d" % runs).returncode != 0:
        assert time.time() < deadline
        time.sleep(0.05)


def test_stop_and_restart_events(daemon, isula, names):
    a = names()
    isula.ok("run", "-d", "--name", a, "busybox", "sh", "-c",
             "trap 'exit 0' TERM; echo x >> /ready; while :; do sleep 0.1; done")
    wait_ready(isula, a, 1)
    since = "%.9f" % time.time()
    isula.ok("stop", "-t", "5", a)
    assert [x for x in actions(daemon, a, since)] == [("kill", "15"), ("die", None), ("stop", None)]
    isula.ok("start", a)
    wait_ready(isula, a, 2)
    since = "%.9f" % time.time()
    isula.ok("restart", "-t", "5", a)
    assert actions(daemon, a, since) == [("kill", "15"), ("die", None), ("stop", None), ("start", None),
                                         ("restart", None)]


def test_env_without_equals_is_kept(daemon, isula, names):
    a = names()
    status, body = call(daemon, "POST", "/containers/create?name=" + a,
                        {"Image": "busybox", "Cmd": ["env"], "Env": ["Foo", "BAR=1"]})
    assert status == 201, body
    env = isula.inspect(a)["Config"]["Env"]
    assert "Foo" in env and "BAR=1" in env
    isula.ok("start", "-a", a)
    out = isula.ok("logs", a).split("\n")
    assert "BAR=1" in out and not any(x.startswith("Foo") for x in out)


def test_kill_sigkill_waits_for_the_exit(isula, sdk, names):
    a = names()
    c = sdk.containers.run("busybox", ["sleep", "600"], detach=True, name=a)
    c.kill(signal="SIGKILL")
    c.reload()
    assert c.status == "exited" and c.attrs["State"]["ExitCode"] == 137


def test_version_and_info_fields(daemon):
    status, v = call(daemon, "GET", "/version")
    assert status == 200
    for k in ("Platform", "Components", "Version", "ApiVersion", "MinAPIVersion", "GitCommit", "GoVersion", "Os",
              "Arch", "KernelVersion", "Experimental", "BuildTime"):
        assert k in v, k
    assert v["Experimental"] is False and v["Platform"]["Name"]
    assert v["Components"][0]["Name"] == "Engine" and v["Components"][0]["Details"]["ApiVersion"] == "1.41"
    status, info = call(daemon, "GET", "/info")
    assert info["ExperimentalBuild"] is False


def test_endpoints_not_served_are_501_naming_them(daemon):
    for method, path in (("GET", "/containers/x/attach/ws"), ("POST", "/images/x/push"),
                         ("GET", "/swarm"), ("POST", "/build"), ("GET", "/plugins"), ("POST", "/session")):
        status, body = call(daemon, method, path)
        assert status == 501, (method, path, body)
        assert path.split("?")[0] in body["message"] and body["code"] == "not_implemented"
    status, body = call(daemon, "GET", "/no/such/thing")
    assert status == 404


def test_container_prune(daemon, isula, names):
    keep, old, labelled, running = names(), names(), names(), names()
    isula.ok("create", "--name", old, "busybox", "true")
    isula.ok("create", "--name", labelled, "--label", "du=1", "busybox", "true")
    isula.ok("run", "-d", "--name", running, "busybox", "sleep", "600")
    r = docker(daemon, "container", "prune", "-f", "--filter", "label=du=1")
    assert r.returncode == 0, r.stderr
    left = ps_names(isula)
    assert labelled not in left and old in left and running in left
    time.sleep(1.1)
    isula.ok("create", "--name", keep, "busybox", "true")
    status, body = call(daemon, "POST", "/containers/prune?filters=" + urllib.parse.quote('{"until":["1s"]}'))
    assert status == 200 and isula.inspect(running)["Id"] not in body["ContainersDeleted"]
    left = ps_names(isula)
    assert old not in left and keep in left and running in left
    status, body = call(daemon, "POST", "/containers/prune?filters=" + urllib.parse.quote('{"bogus":["1"]}'))
    assert status == 400


def rootfs_tar():
    import io
    import tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = uuid.uuid4().hex.encode()
        info = tarfile.TarInfo("f")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def import_image(daemon, repo, *changes):
    """A one-file image of its own (docker import of a tar, with --change), tagged repo; returns its ID."""
    args = ["import"] + [x for c in changes for x in ("-c", c)] + ["-", repo]
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    r = subprocess.run([DOCKER, "-H", daemon.host] + args, input=rootfs_tar(), capture_output=True, env=env,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode().strip()


def test_import_with_changes(daemon, isula):
    tag = "du-imp-" + uuid.uuid4().hex[:8]
    import_image(daemon, tag, "LABEL du=1", "ENV A=b", "CMD [\"/f\"]")
    cfg = json.loads(isula.ok("inspect", tag))[0]["Config"]
    assert cfg["Labels"] == {"du": "1"} and "A=b" in cfg["Env"] and cfg["Cmd"] == ["/f"]
    isula.ok("rmi", tag)


def test_image_prune(daemon, isula, sdk):
    tag = "du-img-" + uuid.uuid4().hex[:8]
    label = "du-prune=" + tag
    import_image(daemon, tag + ":a", "LABEL " + label)
    dangling = import_image(daemon, tag + ":b", "LABEL " + label)
    import_image(daemon, tag + ":b", "LABEL " + label)  # takes the tag: the first :b is dangling now
    r = docker(daemon, "image", "prune", "-f", "--filter", "label=" + label)
    assert r.returncode == 0, r.stderr
    assert isula("inspect", dangling).returncode != 0
    assert isula("inspect", tag + ":a").returncode == 0
    sdk.images.prune(filters={"dangling": False, "until": "1h", "label": label})  # nothing is an hour old
    assert isula("inspect", tag + ":a").returncode == 0
    res = sdk.images.prune(filters={"dangling": False, "label": label})
    assert {"Untagged": tag + ":a"} in res["ImagesDeleted"] and res["SpaceReclaimed"] > 0
    assert isula("inspect", tag + ":a").returncode != 0 and isula("inspect", tag + ":b").returncode != 0
    assert isula("inspect", "busybox").returncode == 0  # another label: kept


def test_system_df_and_sizes(daemon, isula, names):
    a = names()
    isula.ok("run", "--name", a, "busybox", "sh", "-c", "head -c 300000 /dev/zero > /big")
    r = docker(daemon, "system", "df")
    assert r.returncode == 0 and "Images" in r.stdout and "Containers" in r.stdout, r.stderr
    r = docker(daemon, "ps", "-a", "-s", "-f", "name=^" + a + "$", "--format", "{{.Size}}")
    assert r.returncode == 0 and r.stdout.startswith("30"), r.stdout + r.stderr
    status, body = call(daemon, "GET", "/containers/json?all=1&size=1&filters=" +
                        urllib.parse.quote(json.dumps({"name": ["^" + a + "$"]})))
    assert 300000 <= body[0]["SizeRw"] < 400000 and body[0]["SizeRootFs"] > body[0]["SizeRw"]
    status, body = call(daemon, "GET", "/containers/json?all=1")
    assert all("SizeRw" not in c for c in body)  # only when asked for: a plain ps stays fast
    status, body = call(daemon, "GET", "/containers/%s/json?size=1" % a)
    assert 300000 <= body["SizeRw"] < 400000
    r = docker(daemon, "inspect", "-s", "--format", "{{.SizeRw}}", a)
    assert r.returncode == 0 and 300000 <= int(r.stdout) < 400000
    status, body = call(daemon, "GET", "/system/df")
    assert status == 200 and body["LayersSize"] > 0
    # volumes with their sizes and users, as Docker's
    v, b = a + "-vol", names()
    try:
        isula.ok("run", "--name", b, "-v", v + ":/data", "busybox", "sh", "-c", "head -c 70000 /dev/zero > /data/f")
        status, body = call(daemon, "GET", "/system/df")
        mine = [x for x in body["Volumes"] if x["Name"] == v]
        assert mine and mine[0]["UsageData"] == {"Size": 70000, "RefCount": 1} and mine[0]["Driver"] == "local"
        r = docker(daemon, "system", "df", "-v")
        assert r.returncode == 0 and any(line.split()[:3] == [v, "1", "70kB"] for line in r.stdout.splitlines()), r
    finally:
        isula("rm", "-f", b)
        isula("volume", "rm", v)


def test_ps_format_table_tabs_and_go_template_functions(isula, names):
    a = names()
    isula.ok("create", "--name", a, "--label", "k1=v1", "--label", "k2=v2", "busybox", "true")
    out = isula.ok("ps", "-a", "-f", "name=^%s$" % a, "--format", r"table {{.ID}}\t{{.Names}}")
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "NAMES"] and "\\t" not in out
    assert lines[1].split() == [isula.inspect(a)["Id"][:12], a]
    out = isula.ok("ps", "-a", "-f", "name=^%s$" % a, "--format",
                   r'{{printf "%-20s|" .Names}}{{range $k, $v := .Labels}}{{$k}}={{$v}},{{end}}{{println}}')
    assert out == "%-20s|k1=v1,k2=v2," % a
    out = isula.ok("inspect", "-f", '{{range $k, $v := .Config.Labels}}{{println $k $v}}{{end}}', a)
    assert out == "k1 v1\nk2 v2"


def test_guide_output_formats(daemon, isula, names):
    a, b = names(), names()
    # inspect (L2894): the name without Docker's slash; the Docker API keeps it
    isula.ok("create", "--name", a, "busybox", "true")
    assert isula.inspect(a)["Name"] == a
    assert isula.ok("inspect", "-f", "{{.Name}}", a) == a
    status, body = call(daemon, "GET", "/containers/%s/json" % a)
    assert body["Name"] == "/" + a
    # L2265: without --net (nor -h) the hostname is localhost; docker's clients keep Docker's (the short ID)
    assert isula.ok("run", "--rm", "busybox", "hostname") == "localhost"
    assert isula.ok("run", "--rm", "-h", "box", "busybox", "hostname") == "box"
    r = docker(daemon, "run", "--name", b, "busybox", "hostname")
    assert r.stdout.strip() == isula.inspect(b)["Id"][:12]
    # version: a Git commit line for client and server; info: OSType Linux (L7332)
    out = isula.ok("version")
    commits = [x.split(":", 1)[1].strip() for x in out.splitlines() if x.strip().startswith("Git commit:")]
    assert len(commits) == 2 and commits[0] == commits[1] and commits[0] not in ("", "unknown"), out
    status, body = call(daemon, "GET", "/version")
    assert body["GitCommit"] == commits[0]
    assert "\nOSType: Linux\n" in isula.ok("info") + "\n"
    # ps (L3131-3143): the ps section's column order (the create example's older order is not followed)
    assert isula.ok("ps", "-a").splitlines()[0].split() == [
        "ID", "IMAGE", "STATUS", "PID", "COMMAND", "EXIT_CODE", "RESTART_COUNT", "STARTAT", "FINISHAT", "RUNTIME",
        "NAMES"]


def test_load_and_import_events_and_broken_load(daemon, isula, sdk):
    tag = "du-ev-" + uuid.uuid4().hex[:8]
    since = "%.9f" % time.time()
    image_id = import_image(daemon, tag + ":imp")
    data = b"".join(sdk.images.get(tag + ":imp").save(named=True))
    isula.ok("rmi", tag + ":imp")
    sdk.images.load(data)
    q = urllib.parse.urlencode({"since": since, "until": "%.9f" % time.time(),
                                "filters": json.dumps({"type": ["image"], "image": [tag + ":imp"]})})
    status, body = call(daemon, "GET", "/events?" + q)
    text = body if isinstance(body, bytes) else json.dumps(body).encode()
    events = [json.loads(x) for x in text.splitlines()]
    assert [e["Action"] for e in events if e["Action"] in ("import", "load")] == ["import", "load"], events
    assert all(e["Actor"]["ID"] == image_id for e in events if e["Action"] in ("import", "load"))
    with pytest.raises(docker_sdk.errors.ImageLoadError):
        sdk.images.load(b"this is not an archive" * 100)
    r = isula("load", "-i", "/dev/null")
    assert r.returncode != 0 and r.stderr.startswith("Error")
    isula.ok("rmi", tag + ":imp")


def test_log_driver_none(daemon, isula, sdk, names):
    a, b = names(), names()
    assert isula.ok("run", "--name", a, "--log-driver", "none", "busybox", "echo", "hi") == "hi"  # attached: seen
    r = isula("logs", a)
    assert r.returncode != 0 and "does not support reading" in r.stderr
    log_path = isula.inspect(a)["LogPath"]
    assert not log_path or not os.path.exists(log_path) or os.path.getsize(log_path) == 0
    c = sdk.containers.run("busybox", ["echo", "x"], detach=True, name=b, log_config={"Type": "none"})
    c.wait()
    assert c.attrs["HostConfig"]["LogConfig"]["Type"] == "none"
    with pytest.raises(docker_sdk.errors.APIError) as e:
        c.logs()
    assert e.value.status_code == 501
    r = isula("run", "--rm", "--log-driver", "none", "--log-opt", "max-size=1m", "busybox", "true")
    assert r.returncode == 125 and "none" in r.stderr


def log_entries(isula, name):
    """The container's json-file log, oldest entry first (rotated files .9 .. .1, then the current one)."""
    path = isula.inspect(name)["LogPath"]
    out = []
    for p in ["%s.%d" % (path, i) for i in range(9, 0, -1)] + [path]:
        if os.path.exists(p):
            with open(p) as f:
                out += [json.loads(line) for line in f if line.endswith("\n")]
    return out


def test_logs_tail_read_backwards(daemon, isula, names):
    a, b = names(), names()
    # 200000 lines, a long one (longer than a read block), stdout and stderr
    isula.ok("run", "--name", a, "busybox", "sh", "-c",
             "seq 1 200000; head -c 100000 /dev/zero | tr '\\0' x; echo; echo e1 >&2; sleep 0.5; echo last")
    entries = log_entries(isula, a)
    assert isula.ok("logs", "--tail", "1", a) == "last"
    for n in (1, 2, 3, 5, 50, 1000):
        want = entries[-n:]
        r = isula("logs", "--tail", str(n), a)
        assert r.stdout == "".join(e["log"] for e in want if e["stream"] == "stdout"), n
        assert r.stderr == "".join(e["log"] for e in want if e["stream"] == "stderr"), n
    full = isula("logs", a).stdout.splitlines()
    assert full[:2] == ["1", "2"] and full[199999] == "200000" and full[-1] == "last"
    r = docker(daemon, "logs", "--tail", "3", a)
    assert r.stdout == "".join(e["log"] for e in entries[-3:] if e["stream"] == "stdout")
    assert isula("logs", "--tail", str(len(entries) + 5), a).stdout.splitlines() == full
    # rotated files: the tail crosses from the newest file into the older ones
    isula.ok("run", "--name", b, "--log-opt", "max-size=64k", "--log-opt", "max-file=3", "busybox", "sh", "-c",
             "seq 1 20000")
    entries = log_entries(isula, b)
    assert os.path.exists(isula.inspect(b)["LogPath"] + ".1")
    for n in (1, 1500, len(entries)):
        assert isula.ok("logs", "--tail", str(n), b).splitlines() == [e["log"].strip() for e in entries[-n:]]
    # with since: nothing older than it even when the tail asks for more
    r = isula("logs", "--tail", "10", "--since", "%.9f" % (time.time() + 3600), a)
    assert r.returncode == 0 and r.stdout == ""


def test_logs_tail_follow_goes_on_after_the_tail(daemon, isula, names):
    a = names()
    isula.ok("run", "-d", "--name", a, "busybox", "sh", "-c",
             "seq 1 5; while [ ! -e /go ]; do sleep 0.05; done; echo after")
    time.sleep(0.5)
    p = subprocess.Popen([os.path.join(os.environ.get("ISD_BUILD_DIR", ""), "isula"), "logs", "-f", "--tail", "2", a],
                         stdout=subprocess.PIPE, text=True, env=dict(os.environ, ISULAD_HOST=daemon.host))
    try:
        assert p.stdout.readline() == "4\n" and p.stdout.readline() == "5\n"
        isula.ok("exec", a, "touch", "/go")
        assert p.stdout.readline() == "after\n"
        assert p.wait(timeout=30) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_legacy_links_are_refused_clearly(daemon, isula, names):
    a, b = names(), names()
    isula.ok("run", "-d", "--name", a, "busybox", "sleep", "600")
    r = docker(daemon, "run", "--rm", "--name", b, "--link", a + ":db", "busybox", "true")
    assert r.returncode == 125 and "links" in r.stderr and "network" in r.stderr, r.stderr
    assert isula("inspect", b).returncode != 0
    status, body = call(daemon, "POST", "/containers/create",
                        {"Image": "busybox", "HostConfig": {"Links": []}})  # an empty list is no link
    assert status == 201
    isula("rm", "-f", body["Id"])


def exec_start_head(daemon, version, cid, tty):
    status, body = call(daemon, "POST", "/containers/%s/exec" % cid,
                        {"Cmd": ["sh", "-c", "echo out; echo err >&2; exit 3"], "AttachStdout": True,
                         "AttachStderr": True, "Tty": tty})
    exec_id = body["Id"]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(daemon.sock)
    body = json.dumps({"Detach": False, "Tty": tty}).encode()
    s.sendall(b"POST /v%s/exec/%s/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (version.encode(), exec_id.encode(),
                                                                                len(body)) + body)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, stream = data.partition(b"\r\n\r\n")
    return head.decode().lower(), stream, exec_id


def test_exec_stream_content_types_and_frames(daemon, isula, sdk, names):
    a = names()
    isula.ok("run", "-d", "--name", a, "busybox", "sleep", "600")
    head, stream, eid = exec_start_head(daemon, "1.43", a, False)
    assert "content-type: application/vnd.docker.multiplexed-stream" in head
    assert stream == b"\x01\x00\x00\x00\x00\x00\x00\x04out\n\x02\x00\x00\x00\x00\x00\x00\x04err\n"
    head, stream, eid = exec_start_head(daemon, "1.43", a, True)
    assert "content-type: application/vnd.docker.raw-stream" in head and stream == b"out\r\nerr\r\n"
    head, stream, eid = exec_start_head(daemon, "1.41", a, False)
    assert "content-type: application/vnd.docker.raw-stream" in head  # 1.41 said raw for both
    assert sdk.api.exec_inspect(eid)["ExitCode"] == 3
    c = sdk.containers.get(a)
    r = c.exec_run(["sh", "-c", "echo out; echo err >&2; exit 1"], demux=True)
    assert r.exit_code == 1 and r.output == (b"out\n", b"err\n")
    r = c.exec_run(["sh", "-c", "echo out; echo err >&2"], tty=True, demux=True)
    assert r.exit_code == 0 and r.output == (b"out\r\nerr\r\n", None)


def test_exec_that_cannot_start_records_126_as_docker(daemon, isula, sdk, names):
    # Docker 20.10 records ExitCode 126 for every exec whose process could not start (a missing command too),
    # reports the runtime's message on the stream, and answers a detached start with the error; isula keeps
    # 127 for a missing command (docs/cli.md) through the StartError extension
    a = names()
    isula.ok("run", "-d", "--name", a, "busybox", "sleep", "600")
    for cmd, text in (("du-no-such-command", "executable file not found"), ("/etc/passwd", "permission denied")):
        r = docker(daemon, "exec", a, cmd)
        assert r.returncode == 126 and text in r.stdout + r.stderr, r
        r = docker(daemon, "exec", "-t", a, cmd)
        assert r.returncode == 126 and text in r.stdout + r.stderr, r
        r = sdk.containers.get(a).exec_run([cmd])
        assert r.exit_code == 126 and text.encode() in r.output, r
        status, body = call(daemon, "POST", "/containers/%s/exec" % a, {"Cmd": [cmd, "x"]})
        eid = body["Id"]
        status, body = call(daemon, "POST", "/exec/%s/start" % eid, {"Detach": True})
        assert status == 400 and text in body["message"]
        info = sdk.api.exec_inspect(eid)
        assert info["ExitCode"] == 126 and info["Running"] is False and info["Pid"] == 0
        assert info["ProcessConfig"]["entrypoint"] == cmd and info["ProcessConfig"]["arguments"] == ["x"]
    r = isula("exec", a, "du-no-such-command")
    assert r.returncode == 127 and "executable file not found" in r.stdout + r.stderr
    r = isula("exec", a, "/etc/passwd")
    assert r.returncode == 126 and "permission denied" in r.stdout + r.stderr
    # a command that runs and exits 126 or 127 keeps its own code everywhere
    for code in (126, 127):
        assert isula("exec", a, "sh", "-c", "exit %d" % code).returncode == code
        assert docker(daemon, "exec", a, "sh", "-c", "exit %d" % code).returncode == code
        assert sdk.containers.get(a).exec_run(["sh", "-c", "exit %d" % code]).exit_code == code


def docker_human_size(n):
    # go-units HumanSizeWithPrecision(n, 3), what docker ps -s prints
    units = ["B", "kB", "MB", "GB", "TB"]
    v, u = float(n), 0
    while v >= 1000 and u + 1 < len(units):
        v, u = v / 1000, u + 1
    return "%.3g%s" % (v, units[u])


def test_isula_ps_size_last_latest_and_inspect_size(daemon, isula, sdk, names, tmp_path):
    a, b = names(), names()
    isula.ok("run", "--name", a, "busybox", "sh", "-c", "head -c 123456 /dev/zero > /known")
    isula.ok("create", "--name", b, "busybox", "true")  # the newest, never started
    info = json.loads(isula.ok("inspect", "-s", a))[0]
    assert 123456 <= info["SizeRw"] < 130000 and info["SizeRootFs"] > info["SizeRw"]
    assert "SizeRw" not in isula.inspect(a)
    want = "%s (virtual %s)" % (docker_human_size(info["SizeRw"]), docker_human_size(info["SizeRootFs"]))
    out = isula.ok("ps", "-a", "-s", "-f", "name=^%s$" % a)
    head, row = out.splitlines()
    assert head.split()[-1] == "SIZE" and row.endswith(" " + want), out
    assert "SIZE" not in isula.ok("ps", "-a", "-f", "name=^%s$" % a)
    assert isula.ok("ps", "-a", "-f", "name=^%s$" % a, "--format", "{{.Names}}|{{.Size}}") == "%s|%s" % (a, want)
    r = docker(daemon, "ps", "-a", "-s", "-f", "name=^%s$" % a, "--format", "{{.Size}}")
    assert r.returncode == 0 and r.stdout.strip() == want, r
    listed = sdk.api.containers(all=True, size=True, filters={"name": "^%s$" % a})
    assert listed[0]["SizeRw"] == info["SizeRw"] and listed[0]["SizeRootFs"] == info["SizeRootFs"]
    # -n N and -l: the last created, whatever their state, without -a (as docker ps)
    assert isula.ok("ps", "-l", "--format", "{{.Names}}") == b
    assert isula.ok("ps", "-n", "2", "--format", "{{.Names}}").split() == [b, a]
    assert isula.ok("ps", "--last", "1", "-q") == isula.inspect(b)["Id"][:12]
    assert isula("ps", "-n", "x").returncode != 0


def test_size_rw_cache_follows_copies_and_runs(daemon, isula, names, tmp_path):
    a = names()
    isula.ok("run", "--name", a, "busybox", "sh", "-c", "head -c 10000 /dev/zero > /f1")
    size = lambda: json.loads(isula.ok("inspect", "-s", a))[0]["SizeRw"]
    first = size()
    assert 10000 <= first < 20000
    # a stopped container's size is measured once and kept: a file slipped into its upper directory behind the
    # daemon's back does not show until the container changes
    cid = isula.inspect(a)["Id"]
    upper = os.path.join(daemon.graph, "storage", "overlay", cid, "diff")
    with open(os.path.join(upper, "behind"), "wb") as f:
        f.write(b"x" * 50000)
    assert size() == first
    # a copy into the container is seen at once
    src = tmp_path / "in"
    src.write_bytes(b"y" * 30000)
    isula.ok("cp", str(src), a + ":/in")
    assert size() == first + 50000 + 30000
    # and so is what a run of the container writes
    isula.ok("start", "-a", a)  # writes /f1 again: same size
    assert size() == first + 80000
    r = docker(daemon, "cp", str(src), a + ":/in2")
    assert r.returncode == 0, r
    assert size() == first + 110000


# GET /info of Docker 20.10 (dockerd 20.10.24, API 1.41): every top-level field, so that clients and scripts
# reading one (docker info, {{.Swarm.LocalNodeState}}, the SDK) find it
DOCKER_INFO_FIELDS = (
    "Architecture BridgeNfIp6tables BridgeNfIptables CPUSet CPUShares CgroupDriver CgroupVersion ContainerdCommit "
    "Containers ContainersPaused ContainersRunning ContainersStopped CpuCfsPeriod CpuCfsQuota Debug DefaultRuntime "
    "DockerRootDir Driver DriverStatus ExperimentalBuild GenericResources HttpProxy HttpsProxy ID IPv4Forwarding "
    "Images IndexServerAddress InitBinary InitCommit Isolation KernelMemory KernelMemoryTCP KernelVersion Labels "
    "LiveRestoreEnabled LoggingDriver MemTotal MemoryLimit NCPU NEventsListener NFd NGoroutines Name NoProxy OSType "
    "OSVersion OomKillDisable OperatingSystem PidsLimit Plugins RegistryConfig RuncCommit Runtimes SecurityOptions "
    "ServerVersion SwapLimit Swarm SystemTime Warnings").split()


def test_info_has_every_docker_field(daemon, sdk):
    status, info = call(daemon, "GET", "/info")
    assert status == 200 and [k for k in DOCKER_INFO_FIELDS if k not in info] == []
    assert info["Swarm"]["LocalNodeState"] == "inactive" and info["NFd"] > 0 and info["NGoroutines"] > 0
    assert "local" in info["Plugins"]["Volume"] and "json-file" in info["Plugins"]["Log"]
    assert "docker.io" in info["RegistryConfig"]["IndexConfigs"]
    r = docker(daemon, "info", "--format", "{{.Swarm.LocalNodeState}} {{.MemoryLimit}} {{.Plugins.Volume}}")
    assert r.returncode == 0 and r.stdout.strip() == "inactive true [local]", r
    assert sdk.info()["Swarm"]["LocalNodeState"] == "inactive"
