"""`isula diff`/docker diff (GET /containers/{id}/changes) and `isula commit`/docker commit (POST /commit): the
read-write layer's additions, changes and deletions, and a committed image that runs with the container's files,
the --change instructions, author and message."""
import json
import os
import subprocess
import tarfile

import pytest

DOCKER = "/usr/local/bin/docker"


@pytest.fixture
def images(isula):
    made = []
    yield made
    for ref in made:
        isula("rmi", "-f", ref)


def test_diff_lists_added_changed_deleted(isula, container):
    cid = container("run", "-d", "busybox", "sh", "-c",
                    "mkdir -p /new/sub && echo x > /new/sub/f && echo y >> /etc/passwd && rm /bin/ls && sleep 600")
    isula.ok("exec", cid, "sh", "-c", "while [ -e /bin/ls ]; do sleep 0.1; done")
    lines = isula.ok("diff", cid).splitlines()
    assert "A /new" in lines and "A /new/sub" in lines and "A /new/sub/f" in lines
    assert "C /etc" in lines and "C /etc/passwd" in lines
    assert "C /bin" in lines and "D /bin/ls" in lines
    assert lines == sorted(lines, key=lambda line: line[2:])


def test_commit_runs_with_file_and_changes(isula, container, images):
    cid = container("run", "-d", "busybox", "sh", "-c",
                    "echo committed > /hello && chmod 640 /hello && rm /bin/ls && sleep 600")
    isula.ok("exec", cid, "sh", "-c", "while [ -e /bin/ls ]; do sleep 0.1; done")
    images.append("isd-commit:v1")
    out = isula.ok("commit", "-a", "Ann <ann@example.com>", "-m", "first", "-c", "ENV COLOR=blue",
                   "-c", 'CMD ["cat", "/hello"]', "-c", "LABEL team=a", "-c", "WORKDIR /tmp", "-c", "EXPOSE 8080",
                   cid, "isd-commit:v1")
    assert out.startswith("sha256:")
    assert isula.inspect(cid)["State"]["Running"]  # paused for the commit, running again
    img = json.loads(isula.ok("inspect", "isd-commit:v1"))[0]
    assert img["Author"] == "Ann <ann@example.com>" and img["Config"]["Labels"]["team"] == "a"
    assert "COLOR=blue" in img["Config"]["Env"] and img["Config"]["WorkingDir"] == "/tmp"
    assert "8080/tcp" in img["Config"]["ExposedPorts"]
    assert isula.ok("run", "--rm", "isd-commit:v1") == "committed"
    assert isula.ok("run", "--rm", "isd-commit:v1", "sh", "-c",
                    "stat -c %a /hello; pwd; echo $COLOR; test -e /bin/ls || echo gone") == "640\n/tmp\nblue\ngone"
    hist = isula.ok("history", "isd-commit:v1")
    assert "first" in hist


def test_commit_keeps_deletions_and_opaque_dirs(isula, container, images):
    base = container("run", "-d", "busybox", "sh", "-c", "mkdir /d && touch /d/x /d/y /gone && sleep 600")
    isula.ok("exec", base, "sh", "-c", "while [ ! -e /gone ]; do sleep 0.1; done")
    images.append("isd-commit-base:1")
    isula.ok("commit", base, "isd-commit-base:1")
    # a directory removed and made again is opaque in the upper dir; a removed file is a whiteout
    cid = container("run", "-d", "isd-commit-base:1", "sh", "-c",
                    "rm -rf /d /gone && mkdir /d && touch /d/z && sleep 600")
    isula.ok("exec", cid, "sh", "-c", "while [ ! -e /d/z ]; do sleep 0.1; done")
    assert "D /gone" in isula.ok("diff", cid).splitlines()
    images.append("isd-commit-opq:1")
    isula.ok("commit", cid, "isd-commit-opq:1")
    assert isula.ok("run", "--rm", "isd-commit-opq:1", "sh", "-c", "ls /d; test -e /gone || echo no-gone") == \
        "z\nno-gone"


@pytest.mark.skipif(not os.path.exists(DOCKER), reason="docker CLI not installed")
def test_docker_diff_and_commit(isula, container, images, daemon):
    env = dict(os.environ, DOCKER_HOST="unix://" + daemon.sock, DOCKER_CONFIG=os.path.join(daemon.base, "dcfg"))
    for k in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
        env.pop(k, None)
    cid = container("run", "-d", "busybox", "sh", "-c", "echo d > /dfile && sleep 600")
    isula.ok("exec", cid, "sh", "-c", "while [ ! -e /dfile ]; do sleep 0.1; done")
    r = subprocess.run([DOCKER, "diff", cid], env=env, capture_output=True, text=True, check=True)
    assert "A /dfile" in r.stdout.splitlines()
    images.append("isd-dcommit:latest")
    r = subprocess.run([DOCKER, "commit", "--change", "CMD cat /dfile", cid, "isd-dcommit"], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert isula.ok("run", "--rm", "isd-dcommit") == "d"


def test_sdk_commit(daemon, container, isula, images):
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url="unix://" + daemon.sock, version="1.41", timeout=60)
    try:
        cid = container("run", "-d", "busybox", "sh", "-c", "echo s > /sfile && sleep 600")
        isula.ok("exec", cid, "sh", "-c", "while [ ! -e /sfile ]; do sleep 0.1; done")
        images.append("isd-scommit:t")
        img = client.containers.get(cid).commit("isd-scommit", "t", message="m", author="a",
                                                changes=["ENTRYPOINT [\"cat\"]", "CMD [\"/sfile\"]"])
        assert img.attrs["Author"] == "a"
        assert {"Path": "/sfile", "Kind": 1} in client.api.diff(cid)
        assert isula.ok("run", "--rm", "isd-scommit:t") == "s"
    finally:
        client.close()


LINKED = "dd if=/dev/zero of=/a bs=1024 count=64 2>/dev/null && ln /a /b && sleep 600"


def docker_env(daemon):
    env = dict(os.environ, DOCKER_HOST="unix://" + daemon.sock, DOCKER_CONFIG=os.path.join(daemon.base, "dcfg"))
    for k in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
        env.pop(k, None)
    return env


def linked_container(isula, container):
    cid = container("run", "-d", "busybox", "sh", "-c", LINKED)
    isula.ok("exec", cid, "sh", "-c", "while [ ! -e /b ]; do sleep 0.1; done")
    return cid


def assert_image_keeps_link(isula, ref):
    out = isula.ok("run", "--rm", ref, "stat", "-c", "%h %i %s", "/a", "/b").splitlines()
    assert len(out) == 2 and out[0] == out[1] and out[0].split()[0] == "2" and out[0].split()[2] == "65536"


def assert_tar_keeps_link(path):
    listing = subprocess.run(["tar", "-tvf", path], capture_output=True, text=True, check=True).stdout
    with tarfile.open(path) as t:
        members = {m.name.lstrip("./"): m for m in t.getmembers()}
    a, b = members["a"], members["b"]
    assert a.isfile() and a.size == 65536, listing
    assert b.islnk() and b.linkname.lstrip("./") == "a" and b.size == 0, listing
    assert any(line.endswith("b link to a") for line in listing.splitlines()), listing


def test_commit_and_export_keep_hard_links(isula, container, images, tmp_path):
    cid = linked_container(isula, container)
    images.append("isd-commit-link:1")
    isula.ok("commit", cid, "isd-commit-link:1")
    assert_image_keeps_link(isula, "isd-commit-link:1")
    out = str(tmp_path / "c.tar")
    isula.ok("export", "-o", out, cid)
    assert_tar_keeps_link(out)


@pytest.mark.skipif(not os.path.exists(DOCKER), reason="docker CLI not installed")
def test_docker_commit_and_export_keep_hard_links(isula, container, images, daemon, tmp_path):
    env = docker_env(daemon)
    cid = linked_container(isula, container)
    images.append("isd-dcommit-link:latest")
    r = subprocess.run([DOCKER, "commit", cid, "isd-dcommit-link"], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert_image_keeps_link(isula, "isd-dcommit-link")
    out = str(tmp_path / "d.tar")
    r = subprocess.run([DOCKER, "export", "-o", out, cid], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert_tar_keeps_link(out)
