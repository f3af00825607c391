"""Files in and out of containers: `isula cp` both ways (file, directory, `-`, -a, -L), docker cp and the SDK's
get_archive/put_archive against /containers/{id}/archive, on running and stopped containers; symlinks inside the
container that point at /, .. or a host directory never let a copy read or write outside the rootfs."""
import io
import os
import subprocess
import tarfile
import tempfile
import time

import pytest

DOCKER = "/usr/local/bin/docker"


def sh(isula, cid, script):
    return isula.ok("exec", cid, "sh", "-c", script)


@pytest.fixture
def running(container):
    return container("run", "-d", "busybox", "sleep", "600")


@pytest.fixture
def hostdir():
    d = tempfile.mkdtemp(prefix="isd-cp-", dir="/tmp")
    yield d
    subprocess.run(["rm", "-rf", d])


def test_cp_file_in_keeps_mode_owner_root_unless_archive(isula, running, hostdir):
    src = os.path.join(hostdir, "f.txt")
    with open(src, "w") as f:
        f.write("payload\n")
    os.chmod(src, 0o750)
    os.chown(src, 1234, 2345)
    isula.ok("cp", src, running + ":/tmp/")
    assert sh(isula, running, "cat /tmp/f.txt; stat -c '%a %u %g' /tmp/f.txt") == "payload\n750 0 0"
    isula.ok("cp", "-a", src, running + ":/tmp/renamed")
    assert sh(isula, running, "stat -c '%a %u %g' /tmp/renamed") == "750 1234 2345"


def test_cp_directory_both_ways(isula, running, hostdir):
    tree = os.path.join(hostdir, "tree")
    os.makedirs(os.path.join(tree, "sub"))
    with open(os.path.join(tree, "sub", "a"), "w") as f:
        f.write("A")
    os.symlink("sub/a", os.path.join(tree, "link"))
    sh(isula, running, "mkdir -p /opt")
    isula.ok("cp", tree, running + ":/opt")           # existing dir: lands as /opt/tree
    isula.ok("cp", tree, running + ":/newdir")        # missing: the tree becomes /newdir
    assert sh(isula, running, "cat /opt/tree/sub/a /newdir/link; echo; readlink /newdir/link") == "AA\nsub/a"
    sh(isula, running, "mkdir -p /data/x && echo hi > /data/x/f && chmod 604 /data/x/f")
    isula.ok("cp", running + ":/data", hostdir)
    out = os.path.join(hostdir, "copied")
    isula.ok("cp", running + ":/data/x", out)
    assert open(os.path.join(hostdir, "data", "x", "f")).read() == "hi\n"
    assert open(os.path.join(out, "f")).read() == "hi\n"
    assert os.stat(os.path.join(out, "f")).st_mode & 0o777 == 0o604


def test_cp_directory_contents_forms(isula, running, hostdir):
    sh(isula, running, "mkdir -p /src/sub /dst && echo a > /src/a && echo b > /src/sub/b")
    isula.ok("cp", running + ":/src/.", os.path.join(hostdir, "contents"))  # missing: becomes the contents
    assert sorted(os.listdir(os.path.join(hostdir, "contents"))) == ["a", "sub"]
    exists = os.path.join(hostdir, "exists")
    os.makedirs(exists)
    isula.ok("cp", running + ":/src/.", exists)  # existing: the contents go in
    isula.ok("cp", running + ":/src/", exists)  # a trailing slash names the directory itself
    assert sorted(os.listdir(exists)) == ["a", "src", "sub"]
    isula.ok("cp", os.path.join(hostdir, "contents") + "/.", running + ":/dst")
    assert sh(isula, running, "ls /dst") == "a\nsub"



def test_cp_replaces_file_and_directory(isula, running, hostdir):
    """The guide's C-cp-03: no type check, a directory replaces a file of its name and a file a directory."""
    sh(isula, running, "mkdir -p /t/asdir && touch /t/asdir/inner /t/asfile")
    d = os.path.join(hostdir, "asfile")
    os.makedirs(os.path.join(d, "sub"))
    isula.ok("cp", d, running + ":/t/asfile")  # a directory over a file
    f = os.path.join(hostdir, "asdir")
    open(f, "w").close()
    isula.ok("cp", f, running + ":/t/")  # a file over a directory of its name
    assert sh(isula, running, "test -d /t/asfile/sub && test -f /t/asdir && echo ok") == "ok"
    out = os.path.join(hostdir, "out")
    os.makedirs(os.path.join(out, "asdir", "deep"))
    open(os.path.join(out, "asfile"), "w").close()
    isula.ok("cp", running + ":/t/asdir", out)  # out/asdir (a directory) becomes the file
    isula.ok("cp", running + ":/t/asfile", out)  # out/asfile (a file) becomes the directory
    assert os.path.isfile(os.path.join(out, "asdir")) and os.path.isdir(os.path.join(out, "asfile", "sub"))


def test_cp_stream_out_and_in(isula, running):
    r = isula("cp", running + ":/etc/passwd", "-", input=None)
    assert r.returncode == 0
    out = subprocess.run([os.path.join(os.environ["ISD_BUILD_DIR"], "isula"), "cp", running + ":/etc/passwd", "-"],
                         capture_output=True, env=dict(os.environ, ISULAD_HOST=isula.daemon.host), check=True)
    with tarfile.open(fileobj=io.BytesIO(out.stdout)) as t:
        assert t.getnames() == ["passwd"]
        assert b"root" in t.extractfile("passwd").read()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = b"from stdin\n"
        info = tarfile.TarInfo("streamed")
        info.size, info.mode = len(data), 0o640
        t.addfile(info, io.BytesIO(data))
    subprocess.run([os.path.join(os.environ["ISD_BUILD_DIR"], "isula"), "cp", "-", running + ":/tmp"],
                   input=buf.getvalue(), env=dict(os.environ, ISULAD_HOST=isula.daemon.host), check=True)
    assert sh(isula, running, "cat /tmp/streamed; stat -c %a /tmp/streamed") == "from stdin\n640"


def test_cp_stopped_container(isula, container, hostdir):
    cid = container("create", "busybox", "cat", "/tmp/in")
    src = os.path.join(hostdir, "in")
    with open(src, "w") as f:
        f.write("stopped copy\n")
    isula.ok("cp", src, cid + ":/tmp/in")
    isula.ok("cp", cid + ":/tmp/in", os.path.join(hostdir, "back"))
    assert open(os.path.join(hostdir, "back")).read() == "stopped copy\n"
    isula.ok("start", "-a", cid) if False else None
    isula.ok("start", cid)
    isula.ok("wait", cid)
    assert isula.ok("logs", cid) == "stopped copy"
    with open("/proc/mounts") as f:
        assert cid not in f.read()  # the copy's mount of the stopped rootfs is gone


def test_cp_freezes_the_container(isula, container):
    """The guide's C-cp-04: the container is frozen while isula copies, and runs on afterwards."""
    cid = container("run", "-d", "busybox", "sh", "-c",
                    "head -c 64m /dev/zero > /big; i=0; while :; do i=$((i+1)); echo $i > /tmp/c.new; "
                    "mv /tmp/c.new /tmp/c; done")
    isula.ok("exec", cid, "sh", "-c", "while [ ! -e /tmp/c ]; do sleep 0.1; done")
    counter = os.path.join(isula.inspect(cid)["GraphDriver"]["Data"]["MergedDir"], "tmp", "c")
    proc = subprocess.Popen([os.path.join(os.environ["ISD_BUILD_DIR"], "isula"), "cp", cid + ":/big", "-"],
                            stdout=subprocess.PIPE, env=dict(os.environ, ISULAD_HOST=isula.daemon.host))
    try:
        proc.stdout.read(65536)  # the copy is under way; it waits for this reader, frozen
        first = open(counter).read()
        time.sleep(0.5)
        assert open(counter).read() == first
        while proc.stdout.read(1 << 20):
            pass
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert isula.inspect(cid)["State"]["Status"] == "running"
    before = open(counter).read()
    isula.ok("exec", cid, "sh", "-c", "c=$(cat /tmp/c); while [ \"$(cat /tmp/c)\" = \"$c\" ]; do sleep 0.1; done")
    assert open(counter).read() != before


def test_cp_follow_link(isula, running, hostdir):
    sh(isula, running, "echo target > /tmp/real && ln -s /tmp/real /tmp/lnk")
    isula.ok("cp", running + ":/tmp/lnk", os.path.join(hostdir, "nofollow"))
    assert os.readlink(os.path.join(hostdir, "nofollow")) == "/tmp/real"
    isula.ok("cp", "-L", running + ":/tmp/lnk", os.path.join(hostdir, "follow"))
    assert open(os.path.join(hostdir, "follow")).read() == "target\n"


def test_cp_symlinks_never_leave_the_rootfs(isula, running, hostdir):
    marker = "isd-cp-escape-%d" % os.getpid()
    # links inside the container aimed at /, .. and a host directory (the same path exists on the host)
    sh(isula, running, "ln -s / /rootlink; ln -s ../../../../.. /tmp/up; mkdir -p /etc; ln -s /etc /hostetc;"
                       "ln -s %s /tmp/hostdir" % hostdir)
    src = os.path.join(tempfile.mkdtemp(dir=hostdir), marker)
    with open(src, "w") as f:
        f.write("x")
    for dst in ("/rootlink/", "/tmp/up/", "/hostetc/"):
        isula.ok("cp", src, running + ":" + dst)
    # the host directory does not exist inside the container: the copy fails, writes nothing
    assert isula("cp", src, running + ":/tmp/hostdir/").returncode != 0
    assert not os.path.exists("/" + marker) and not os.path.exists("/etc/" + marker)
    assert sorted(os.listdir(hostdir)) == [os.path.basename(os.path.dirname(src))]  # nothing written to the host
    # what the links resolve to inside the container received the files
    assert sh(isula, running, "ls /%s /etc/%s" % (marker, marker)).count(marker) == 2
    # reading through a link to the host's /etc reads the container's /etc
    sh(isula, running, "echo container-hostname > /etc/hostname-copy")
    out = os.path.join(hostdir, "read")
    isula.ok("cp", running + ":/hostetc/hostname-copy", out)
    assert open(out).read() == "container-hostname\n"


def hostile_tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, kind, arg in entries:
            info = tarfile.TarInfo(name)
            if kind == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, arg
                t.addfile(info)
            else:
                info.size = len(arg)
                t.addfile(info, io.BytesIO(arg))
    return buf.getvalue()


def test_hostile_tars_are_refused(isula, running, hostdir):
    run = lambda data: subprocess.run(  # noqa: E731
        [os.path.join(os.environ["ISD_BUILD_DIR"], "isula"), "cp", "-", running + ":/tmp"], input=data,
        capture_output=True, env=dict(os.environ, ISULAD_HOST=isula.daemon.host))
    r = run(hostile_tar([("../../../../../../%s/dotdot" % hostdir.lstrip("/"), "file", b"x")]))
    assert r.returncode != 0
    r = run(hostile_tar([("esc", "sym", hostdir), ("esc/through", "file", b"x")]))
    assert r.returncode != 0 and b"not a directory" in r.stderr
    assert os.listdir(hostdir) == []


@pytest.mark.skipif(not os.path.exists(DOCKER), reason="docker CLI not installed")
def test_docker_cp_both_ways(isula, running, daemon, hostdir):
    env = dict(os.environ, DOCKER_HOST="unix://" + daemon.sock, DOCKER_CONFIG=os.path.join(daemon.base, "dcfg"))
    for k in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
        env.pop(k, None)
    src = os.path.join(hostdir, "d")
    os.makedirs(src)
    with open(os.path.join(src, "f"), "w") as f:
        f.write("docker\n")
    subprocess.run([DOCKER, "cp", src, running + ":/tmp/dd"], env=env, check=True, capture_output=True)
    assert sh(isula, running, "cat /tmp/dd/f") == "docker"
    subprocess.run([DOCKER, "cp", running + ":/tmp/dd", os.path.join(hostdir, "back")], env=env, check=True,
                   capture_output=True)
    assert open(os.path.join(hostdir, "back", "f")).read() == "docker\n"
    r = subprocess.run([DOCKER, "cp", running + ":/nonexistent", hostdir], env=env, capture_output=True, text=True)
    assert r.returncode != 0 and "Could not find the file /nonexistent" in r.stderr


def test_sdk_get_put_archive(daemon, running, isula):
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url="unix://" + daemon.sock, version="1.41", timeout=60)
    try:
        c = client.containers.get(running)
        data = hostile_tar([("sdk.txt", "file", b"sdk\n")])
        assert c.put_archive("/tmp", data) is True
        assert sh(isula, running, "cat /tmp/sdk.txt") == "sdk"
        stream, st = c.get_archive("/tmp/sdk.txt")
        assert st["name"] == "sdk.txt" and st["size"] == 4 and st["mode"] & 0o777 == 0o644
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as t:
            assert t.extractfile("sdk.txt").read() == b"sdk\n"
        _, st = c.get_archive("/tmp")
        assert st["mode"] & (1 << 31)
        with pytest.raises(docker.errors.NotFound):
            c.get_archive("/does/not/exist")
        with pytest.raises(docker.errors.APIError):
            c.put_archive("/tmp/sdk.txt", data)  # not a directory
    finally:
        client.close()


def test_cp_errors(isula, running, hostdir):
    r = isula("cp", "isd-no-such-ctr:/etc/passwd", hostdir)
    assert r.returncode == 1 and "No such container" in r.stderr
    r = isula("cp", os.path.join(hostdir, "missing"), running + ":/tmp")
    assert r.returncode == 1 and "no such file or directory" in r.stderr.lower()
    r = isula("cp", running + ":/etc/passwd", running + ":/tmp")
    assert r.returncode == 1 and "copying between containers is not supported" in r.stderr
    r = isula("cp", hostdir, os.path.join(hostdir, "x"))
    assert r.returncode == 1 and "must specify at least one container" in r.stderr
