"""The real docker CLI (client only) against the session isulad: run, ps, logs, inspect, exec (also with a pty),
attach, stop, rm, images, load, tag, rmi, version, info, rename, pause/unpause, wait, kill, top, export.
Every container a test makes is named `dk-...` and removed by the `dk` fixture, also when the test fails."""
import fcntl
import hashlib
import io
import json
import os
import pty
import select
import signal
import struct
import subprocess
import tarfile
import termios
import time
import uuid

import pytest

DOCKER = "/usr/local/bin/docker"

pytestmark = pytest.mark.skipif(not os.path.exists(DOCKER), reason="docker CLI not installed")


class DockerCli:
    def __init__(self, daemon):
        self.host = daemon.host
        self.config_dir = os.path.join(daemon.base, "docker-config")  # removed with the session's dir
        self.names = []

    def argv(self, *args):
        return [DOCKER, "-H", self.host] + [str(a) for a in args]

    def env(self):
        env = dict(os.environ)
        for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
            env.pop(k, None)
        env["DOCKER_CONFIG"] = self.config_dir
        return env

    def __call__(self, *args, input=None, timeout=60):
        return subprocess.run(self.argv(*args), input=input, capture_output=True, text=True, timeout=timeout,
                              env=self.env())

    def ok(self, *args, **kw):
        r = self(*args, **kw)
        assert r.returncode == 0, "docker %s failed (%d): %s %s" % (args, r.returncode, r.stdout, r.stderr)
        return r.stdout.strip()

    def name(self):
        n = "dk-" + uuid.uuid4().hex[:10]
        self.names.append(n)
        return n

    def inspect(self, ref):
        return json.loads(self.ok("inspect", ref))[0]


@pytest.fixture
def dk(daemon):
    cli = DockerCli(daemon)
    yield cli
    for n in cli.names:
        cli("rm", "-f", n)


def run_in_pty(argv, env, data, timeout=30, rows=33, cols=111, after=None):
    """Runs argv on a new pty of rows x cols, writes data to it (once `after` was printed, if given), returns
    (output bytes, exit code)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    out = b""
    try:
        if after is None:
            os.write(fd, data)
        while True:
            r, _, _ = select.select([fd], [], [], timeout)
            if not r:
                os.kill(pid, signal.SIGKILL)
                break
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if after is not None and after in out:
                os.write(fd, data)
                after = None
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return out, os.waitstatus_to_exitcode(status)


def freezer_state(pid):
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if "freezer" in ctrls.split(","):
                with open("/sys/fs/cgroup/freezer%s/freezer.state" % path) as st:
                    return st.read().strip()
    pytest.skip("no freezer cgroup for the container")


def test_run_rm_output_and_exit_codes(dk):
    r = dk("run", "--rm", "busybox", "echo", "hi")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hi\n"
    r = dk("run", "--rm", "busybox", "sh", "-c", "echo bad >&2; exit 3")
    assert r.returncode == 3
    assert "bad" in r.stderr
    n = dk.name()
    r = dk("run", "--rm", "--name", n, "busybox", "no-such-binary")
    assert r.returncode == 127
    # --rm: nothing is left behind
    assert dk.ok("ps", "-a", "-q", "--filter", "name=" + n) == ""


def test_run_cannot_start_exit_codes_and_state(dk):
    # the docker CLI decides 127/126 from the daemon's message; the container's ExitCode comes from the code
    for cmd, code in (("no-such-binary", 127), ("/etc/passwd", 126)):
        n = dk.name()
        r = dk("run", "--name", n, "busybox", cmd)
        assert r.returncode == code, r.stderr
        assert dk.inspect(n)["State"]["ExitCode"] == code


def test_run_detached_ps_logs_inspect_pid(dk, tmp_path):
    n = dk.name()
    cid = dk.ok("run", "-d", "--name", n, "busybox", "sh", "-c", "echo started; exec sleep 600")
    assert len(cid) == 64
    ps = dk.ok("ps", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.Status}}")
    line = [l for l in ps.splitlines() if l.startswith(cid)]
    assert line and line[0].split()[1] == n and " Up " in " " + line[0] + " "
    dk.ok("exec", n, "touch", "/marker-" + n)
    assert dk.ok("logs", n) == "started"
    pid = int(dk.ok("inspect", "-f", "{{.State.Pid}}", n))
    assert pid > 0
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        assert f.read().split(b"\0")[0] == b"sleep"
    root = "/proc/%d/root" % pid
    assert os.path.exists(root + "/marker-" + n)
    assert not os.path.exists("/marker-" + n)
    assert os.path.exists(root + "/bin/busybox")
    merged = dk.inspect(n)["GraphDriver"]["Data"]["MergedDir"]
    assert os.path.exists(os.path.join(merged, "marker-" + n))


def test_exec_plain_and_exit_code(dk):
    n = dk.name()
    dk.ok("run", "-d", "--name", n, "busybox", "sleep", "600")
    assert dk.ok("exec", n, "sh", "-c", "echo out; echo err >&2") == "out"
    r = dk("exec", n, "sh", "-c", "echo err >&2; exit 6")
    assert r.returncode == 6 and r.stderr.strip() == "err"
    r = dk("exec", "-i", n, "cat", input="from stdin\n")
    assert r.returncode == 0 and r.stdout == "from stdin\n"
    assert dk.ok("exec", "-e", "FOO=bar", "-w", "/tmp", n, "sh", "-c", "echo $FOO $(pwd)") == "bar /tmp"


def test_exec_interactive_tty(dk):
    n = dk.name()
    dk.ok("run", "-d", "--name", n, "busybox", "sleep", "600")
    out, code = run_in_pty(dk.argv("exec", "-it", n, "sh"), dk.env(), b"tty; echo $((6*7))\nexit 3\n")
    text = out.decode(errors="replace")
    assert "/dev/pts/" in text
    assert "42" in text
    assert code == 3


def test_run_interactive_tty(dk):
    n = dk.name()
    out, code = run_in_pty(dk.argv("run", "--rm", "-it", "--name", n, "busybox", "sh"), dk.env(),
                           b"stty size; echo $((6*7))\nexit 5\n", after=b"/ # ")
    text = out.decode(errors="replace")
    assert "33 111" in text  # the client's window size reached the container's pty
    assert "42" in text
    assert code == 5
    assert dk("inspect", n).returncode != 0


def test_attach_and_detach_by_closing(dk):
    n = dk.name()
    dk.ok("run", "-d", "--name", n, "busybox", "sh", "-c",
          "i=0; while :; do echo line $i; i=$((i+1)); sleep 0.1; done")
    p = subprocess.Popen(dk.argv("attach", "--sig-proxy=false", n), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=dk.env())
    try:
        first = p.stdout.readline().decode()
        second = p.stdout.readline().decode()
    finally:
        p.kill()
        p.wait()
        p.stdout.close()
        p.stderr.close()
    assert first.startswith("line ") and second.startswith("line ")
    assert int(second.split()[1]) == int(first.split()[1]) + 1
    # the client going away does not stop the container; attaching again works
    assert dk.inspect(n)["State"]["Running"] is True
    p = subprocess.Popen(dk.argv("attach", "--sig-proxy=false", n), stdout=subprocess.PIPE, env=dk.env())
    try:
        assert p.stdout.readline().decode().startswith("line ")
    finally:
        p.kill()
        p.wait()
        p.stdout.close()
    assert dk.inspect(n)["State"]["Running"] is True


def test_start_attach_stdin_and_exit_code(dk):
    n2 = dk.name()
    dk.ok("create", "-i", "--name", n2, "busybox", "sh", "-c", "read x; echo got $x; exit 4")
    r = dk("start", "-a", "-i", n2, input="abc\n")
    assert r.stdout == "got abc\n"
    assert r.returncode == 4
    assert dk.inspect(n2)["State"]["ExitCode"] == 4


def wait_log(dk, name, text, timeout=20):
    end = time.time() + timeout
    while text not in dk("logs", name).stdout:
        assert time.time() < end, "%s never logged %r" % (name, text)
        time.sleep(0.05)


def test_stop_kill_wait_rm(dk):
    n = dk.name()
    dk.ok("run", "-d", "--name", n, "busybox", "sh", "-c", "trap 'exit 143' TERM; while :; do sleep 0.1; done")
    dk.ok("stop", "-t", "10", n)
    st = dk.inspect(n)["State"]
    assert st["Running"] is False and st["ExitCode"] in (143, 137)
    assert st["FinishedAt"] > st["StartedAt"]
    assert dk.ok("wait", n) == str(st["ExitCode"])
    r = dk("rm", n)
    assert r.returncode == 0
    assert dk("inspect", n).returncode != 0

    n = dk.name()
    dk.ok("run", "-d", "--name", n, "busybox", "sh", "-c",
          "trap 'exit 42' USR1; echo trapped; while :; do sleep 0.1; done")
    wait_log(dk, n, "trapped")  # a shell that is PID 1 ignores USR1 until its trap is set
    dk.ok("kill", "-s", "USR1", n)
    assert dk.ok("wait", n) == "42"
    n = dk.name()
    dk.ok("run", "-d", "--name", n, "busybox", "sleep", "600")
    dk.ok("kill", "-s", "KILL", n)
    assert dk.ok("wait", n) == "137"
    r = dk("kill", "-s", "NOSUCHSIG", n)
    assert r.returncode != 0


def test_rm_running_needs_force(dk):
    n = dk.name()
    dk.ok("run", "-d", "--name", n, "busybox", "sleep", "600")
    r = dk("rm", n)
    assert r.returncode != 0 and "force" in r.stderr.lower()
    dk.ok("rm", "-f", n)
    assert dk("inspect", n).returncode != 0


def test_rename(dk):
    a, b = dk.name(), dk.name()
    cid = dk.ok("create", "--name", a, "busybox", "true")
    dk.ok("rename", a, b)
    assert dk.inspect(b)["Id"] == cid and dk.inspect(b)["Name"] == "/" + b
    assert dk("inspect", a).returncode != 0
    c = dk.name()
    dk.ok("create", "--name", c, "busybox", "true")
    r = dk("rename", b, c)
    assert r.returncode != 0


def test_pause_unpause_freezer(dk):
    n = dk.name()
    dk.ok("run", "-d", "--name", n, "busybox", "sleep", "600")
    pid = int(dk.ok("inspect", "-f", "{{.State.Pid}}", n))
    dk.ok("pause", n)
    st = dk.inspect(n)["State"]
    assert st["Paused"] is True and st["Status"] == "paused"
    assert freezer_state(pid) == "FROZEN"
    assert "(Paused)" in dk.ok("ps", "--filter", "name=" + n, "--format", "{{.Status}}")
    dk.ok("unpause", n)
    assert dk.inspect(n)["State"]["Paused"] is False
    assert freezer_state(pid) == "THAWED"
    assert dk.ok("exec", n, "echo", "alive") == "alive"


def test_top_and_export(dk, tmp_path):
    n = dk.name()
    dk.ok("run", "-d", "--name", n, "busybox", "sleep", "600")
    pid = dk.ok("inspect", "-f", "{{.State.Pid}}", n)
    top = dk.ok("top", n)
    head, rows = top.splitlines()[0].split(), top.splitlines()[1:]
    assert "PID" in head and "CMD" in head
    assert any(pid in r.split() and "sleep 600" in r for r in rows)
    out = tmp_path / "rootfs.tar"
    dk.ok("export", "-o", out, n)
    with tarfile.open(out) as t:
        names = t.getnames()
    assert "bin/busybox" in names or "./bin/busybox" in names


def test_version_and_info(dk):
    v = json.loads(dk.ok("version", "--format", "{{json .}}"))
    assert v["Server"]["ApiVersion"] == "1.41"
    assert v["Server"]["Os"] == "linux"
    info = json.loads(dk.ok("info", "--format", "{{json .}}"))
    assert info["Driver"] == "overlay2"
    assert "runc" in info["Runtimes"]
    assert not info.get("ServerErrors")
    assert isinstance(info["Containers"], int)


def make_archive(path, repo_tag, layer_files):
    """A docker-archive made by hand: one layer of layer_files {name: (bytes, mode) or symlink target}."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as t:
        for name, entry in layer_files.items():
            ti = tarfile.TarInfo(name)
            if isinstance(entry, str):
                ti.type, ti.linkname = tarfile.SYMTYPE, entry
                t.addfile(ti)
            else:
                ti.size, ti.mode = len(entry[0]), entry[1]
                t.addfile(ti, io.BytesIO(entry[0]))
    layer_bytes = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"], "Labels": {"made": "by-hand"}},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}, "history": [{"created_by": "test"}]
                         }).encode()
    config_id = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": config_id + ".json", "RepoTags": [repo_tag],
                            "Layers": ["layer0/layer.tar"]}]).encode()
    with tarfile.open(path, "w") as t:
        for name, data in ((config_id + ".json", config), ("layer0/layer.tar", layer_bytes),
                           ("manifest.json", manifest)):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return config_id


@pytest.fixture
def image_names(dk):
    made = []
    yield made
    for n in made:
        dk("rmi", "-f", n)


def test_images_load_tag_rmi(dk, tmp_path, image_names):
    with open("/bin/busybox", "rb") as f:
        bb = f.read()
    tag = "dk-hand-" + uuid.uuid4().hex[:8]
    image_names.append(tag + ":v1")
    archive = tmp_path / "img.tar"
    image_id = make_archive(archive, tag + ":v1", {"bin/busybox": (bb, 0o755), "bin/sh": "busybox",
                                                    "hello.txt": (b"hand made\n", 0o644)})
    out = dk.ok("load", "-i", archive)
    assert "Loaded image: %s:v1" % tag in out
    images = dk.ok("images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
    assert "%s:v1 sha256:%s" % (tag, image_id) in images.splitlines()
    assert dk.ok("run", "--rm", tag + ":v1", "busybox", "cat", "/hello.txt") == "hand made"
    assert dk.inspect(tag + ":v1")["Config"]["Labels"] == {"made": "by-hand"}

    image_names.append(tag + ":v2")
    dk.ok("tag", tag + ":v1", tag + ":v2")
    assert dk.inspect(tag + ":v2")["Id"] == "sha256:" + image_id
    out = dk.ok("rmi", tag + ":v2")
    assert "Untagged: %s:v2" % tag in out
    assert dk.inspect(tag + ":v1")["Id"] == "sha256:" + image_id

    # an image in use by a container cannot be removed without force
    n = dk.name()
    dk.ok("create", "--name", n, tag + ":v1", "true")
    r = dk("rmi", tag + ":v1")
    assert r.returncode != 0 and "conflict" in r.stderr.lower()
    dk.ok("rm", n)
    dk.ok("rmi", tag + ":v1")
    assert dk("inspect", "--type", "image", tag + ":v1").returncode != 0
    assert "busybox:latest" in dk.ok("images", "--format", "{{.Repository}}:{{.Tag}}").splitlines()


def test_save_and_load_roundtrip(dk, tmp_path, image_names):
    tag = "dk-save-" + uuid.uuid4().hex[:8] + ":t"
    image_names.append(tag)
    dk.ok("tag", "busybox:latest", tag)
    archive = tmp_path / "saved.tar"
    dk.ok("save", "-o", archive, tag)
    with tarfile.open(archive) as t:
        assert "manifest.json" in t.getnames()
    dk.ok("rmi", tag)
    assert "Loaded image: " + tag in dk.ok("load", "-i", archive)
    assert dk.inspect(tag)["Id"] == dk.inspect("busybox:latest")["Id"]
