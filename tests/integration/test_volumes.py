"""Named and anonymous volumes (local driver) from isula, the docker CLI and the SDK: `-v name:/dst` creates and
reuses a volume whose data outlives its containers, an empty volume gets the image's files (copy-up), the
image's VOLUME makes an anonymous volume that `rm -v` removes, `--volumes-from` shares another container's
volumes, `isula volume ls|inspect|rm|prune` with Docker's filters (dangling, label with AND)."""
import json
import os
import subprocess
import uuid

import pytest

DOCKER = "/usr/local/bin/docker"


@pytest.fixture
def vols(isula):
    made = []
    yield made
    for v in made:
        isula("volume", "rm", "-f", v)


@pytest.fixture
def volimage(isula, container):
    """An image with VOLUME /data holding /data/seed (made with commit --change)."""
    cid = container("run", "-d", "busybox", "sh", "-c", "mkdir /data && echo seed > /data/seed && sleep 600")
    isula.ok("exec", cid, "sh", "-c", "while [ ! -e /data/seed ]; do sleep 0.1; done")
    name = "isd-volimg-%s" % uuid.uuid4().hex[:8]
    isula.ok("commit", "-c", "VOLUME /data", cid, name)
    yield name
    isula("rmi", "-f", name)


def test_named_volume_persists_across_containers(isula, vols):
    name = "isd-v-%s" % uuid.uuid4().hex[:8]
    vols.append(name)
    isula.ok("run", "--rm", "-v", name + ":/vol", "busybox", "sh", "-c", "echo kept > /vol/f")
    assert isula.ok("run", "--rm", "-v", name + ":/other:ro", "busybox", "cat", "/other/f") == "kept"
    v = json.loads(isula.ok("volume", "inspect", name))[0]
    assert v["Name"] == name and v["Driver"] == "local" and v["Scope"] == "local"
    assert open(os.path.join(v["Mountpoint"], "f")).read() == "kept\n"
    assert name in isula.ok("volume", "ls", "-q").split()


def test_inspect_mounts_and_rm_removes_anonymous(isula, container, vols):
    name = "isd-v-%s" % uuid.uuid4().hex[:8]
    vols.append(name)
    cid = container("create", "-v", name + ":/named:ro", "-v", "/anon", "--mount", "type=volume,dst=/anonm",
                    "--mount", "type=volume,src=%s,dst=/m2,volume-nocopy" % name, "busybox", "true")
    mounts = {m["Destination"]: m for m in isula.inspect(cid)["Mounts"]}
    assert mounts["/m2"]["Name"] == name and len(mounts["/anonm"]["Name"]) == 64
    assert mounts["/named"]["Type"] == "volume" and mounts["/named"]["Name"] == name
    assert mounts["/named"]["RW"] is False and mounts["/named"]["Driver"] == "local"
    anon = mounts["/anon"]["Name"]
    assert mounts["/anon"]["Type"] == "volume" and len(anon) == 64
    assert os.path.isdir(mounts["/anon"]["Source"])
    # --rm removes the anonymous volumes of the container, as docker does; named ones stay
    before = set(isula.ok("volume", "ls", "-q").split())
    isula.ok("run", "--rm", "-v", "/anon2", "-v", name + ":/n", "busybox", "touch", "/anon2/x")
    assert set(isula.ok("volume", "ls", "-q").split()) == before


def test_volume_in_use_cannot_be_removed(isula, container, vols):
    name = "isd-v-%s" % uuid.uuid4().hex[:8]
    vols.append(name)
    cid = container("create", "-v", name + ":/vol", "busybox", "true")
    r = isula("volume", "rm", name)
    assert r.returncode != 0 and "volume is in use" in r.stderr and cid in r.stderr
    isula.ok("rm", cid)
    assert isula.ok("volume", "rm", name) == name
    assert isula("volume", "inspect", name).returncode != 0


def test_anonymous_volume_from_image_copy_up_and_rm_v(isula, volimage, container):
    cid = container("run", "-d", volimage, "sleep", "600")
    assert isula.ok("exec", cid, "cat", "/data/seed") == "seed"  # copied up from the image
    isula.ok("exec", cid, "sh", "-c", "echo more > /data/new")
    anon = [v for v in isula.ok("volume", "ls", "-q").split() if len(v) == 64]
    mine = [v for v in anon
            if os.path.exists(os.path.join(json.loads(isula.ok("volume", "inspect", v))[0]["Mountpoint"], "new"))]
    assert len(mine) == 1
    # restart keeps the same anonymous volume
    isula.ok("restart", "-t", "0", cid)
    assert isula.ok("exec", cid, "cat", "/data/new") == "more"
    isula.ok("rm", "-f", "-v", cid)
    assert isula("volume", "inspect", mine[0]).returncode != 0


def test_rm_without_v_keeps_anonymous_volume_dangling(isula, volimage, vols):
    cid = isula.ok("create", volimage, "true")
    before = set(isula.ok("volume", "ls", "-q", "-f", "dangling=true").split())
    isula.ok("rm", cid)
    after = set(isula.ok("volume", "ls", "-q", "-f", "dangling=true").split())
    new = after - before
    assert len(new) == 1
    vols.extend(new)


def test_volumes_from_shares_volumes(isula, container, vols, tmp_path):
    name = "isd-v-%s" % uuid.uuid4().hex[:8]
    vols.append(name)
    host = tmp_path / "hostdir"
    host.mkdir()
    src = container("create", "-v", name + ":/shared", "-v", "%s:/hostbind" % host, "busybox", "true")
    isula.ok("run", "--rm", "--volumes-from", src, "busybox", "sh", "-c", "echo via-from > /shared/x; touch /hostbind/y")
    assert isula.ok("run", "--rm", "-v", name + ":/v", "busybox", "cat", "/v/x") == "via-from"
    assert (host / "y").exists()
    r = isula("run", "--rm", "--volumes-from", src + ":ro", "busybox", "touch", "/shared/z")
    assert r.returncode != 0


def test_volume_ls_filters_and_prune(isula, vols):
    a, b = "isd-va-%s" % uuid.uuid4().hex[:6], "isd-vb-%s" % uuid.uuid4().hex[:6]
    vols.extend([a, b])
    isula.ok("volume", "create", "--label", "team=x", "--label", "env=prod", a)
    isula.ok("volume", "create", "--label", "team=x", b)
    both = isula.ok("volume", "ls", "-q", "-f", "label=team=x", "-f", "label=env=prod").split()
    assert a in both and b not in both  # label filters AND
    assert set(isula.ok("volume", "ls", "-q", "-f", "label=team").split()) >= {a, b}
    assert isula.ok("volume", "ls").splitlines()[0].split() == ["DRIVER", "VOLUME", "NAME"]
    out = isula.ok("volume", "prune", "-f", "--filter", "label=env=prod")
    assert a in out and b not in out
    assert isula("volume", "inspect", a).returncode != 0 and isula("volume", "inspect", b).returncode == 0


def test_sdk_and_docker_cli_volumes(daemon, isula, vols):
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url="unix://" + daemon.sock, version="1.41", timeout=60)
    name = "isd-sdk-%s" % uuid.uuid4().hex[:6]
    vols.append(name)
    try:
        v = client.volumes.create(name, labels={"k": "v"})
        assert v.name == name and v.attrs["Labels"] == {"k": "v"}
        assert name in [x.name for x in client.volumes.list(filters={"label": "k=v"})]
        out = client.containers.run("busybox", ["sh", "-c", "echo sdk > /m/f; cat /m/f"], remove=True,
                                    volumes={name: {"bind": "/m", "mode": "rw"}})
        assert out == b"sdk\n"
        with pytest.raises(docker.errors.NotFound):
            client.volumes.get("isd-no-such-volume")
        if os.path.exists(DOCKER):
            env = dict(os.environ, DOCKER_HOST="unix://" + daemon.sock,
                       DOCKER_CONFIG=os.path.join(daemon.base, "dcfg"))
            r = subprocess.run([DOCKER, "volume", "inspect", "-f", "{{.Name}} {{.Driver}}", name], env=env,
                               capture_output=True, text=True)
            assert r.returncode == 0 and r.stdout.strip() == name + " local", r.stderr
            r = subprocess.run([DOCKER, "run", "--rm", "--mount", "type=volume,src=%s,dst=/mm" % name, "busybox",
                                "cat", "/mm/f"], env=env, capture_output=True, text=True)
            assert r.stdout == "sdk\n", r.stderr
            r = subprocess.run([DOCKER, "volume", "ls", "-q", "--filter", "label=k=v"], env=env, capture_output=True,
                               text=True)
            assert name in r.stdout.split(), r.stderr
            r = subprocess.run([DOCKER, "volume", "prune", "-f", "--filter", "label=k=v"], env=env,
                               capture_output=True, text=True)
            assert r.returncode == 0 and name in r.stdout, r.stderr
            assert name not in [x.name for x in client.volumes.list()]
            return
        client.volumes.get(name).remove()
    finally:
        client.close()
