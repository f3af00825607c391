"""Named and anonymous volumes (local driver) from isula, the docker CLI and the SDK: `-v name:/dst` creates and
reuses a volume whose data outlives its containers, an empty volume gets the image's files (copy-up), the
image's VOLUME makes an anonymous volume that `rm -v` removes, `--volumes-from` shares another container's
volumes, `isula volume ls|inspect|rm|prune` with Docker's filters (dangling, label with AND)."""
import json
import os
import subprocess
import time
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


# --- the local driver's options (type, device, o), docs/design/volumes.md -------------------------------------

def _mounted(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


def _loops_of(image):
    """The loop devices backed by image (sysfs, no losetup parsing)."""
    out = []
    for dev in os.listdir("/sys/block"):
        bf = "/sys/block/%s/loop/backing_file" % dev
        if dev.startswith("loop") and os.path.exists(bf):
            with open(bf) as f:
                if f.read().strip() == str(image):
                    out.append(dev)
    return out


def test_volume_tmpfs_options_mounted_while_used(isula, container, vols):
    name = "isd-vt-%s" % uuid.uuid4().hex[:8]
    vols.append(name)
    assert isula.ok("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=10m", name) == name
    v = json.loads(isula.ok("volume", "inspect", name))[0]
    assert v["Options"] == {"type": "tmpfs", "device": "tmpfs", "o": "size=10m"}
    mp = v["Mountpoint"]
    assert not _mounted(mp)  # mounted when a container first uses it, not at create
    a = container("run", "-d", "-v", name + ":/t", "busybox", "sleep", "600")
    assert _mounted(mp)
    # df -k inside the container: a 10 MiB tmpfs (10240 1K-blocks)
    df = isula.ok("exec", a, "df", "-k", "/t").splitlines()[-1].split()
    assert df[0] == "tmpfs" and df[1] == "10240", df
    isula.ok("exec", a, "sh", "-c", "echo shared > /t/f")
    # a second container shares the same tmpfs while the first holds it
    assert isula.ok("run", "--rm", "-v", name + ":/u", "busybox", "cat", "/u/f") == "shared"
    assert _mounted(mp)  # the --rm container's exit did not unmount what a holds
    isula.ok("stop", "-t", "0", a)
    assert not _mounted(mp)  # the last user stopped: unmounted, its data gone (tmpfs)
    isula.ok("start", a)
    assert _mounted(mp) and isula("exec", a, "cat", "/t/f").returncode != 0
    isula.ok("rm", "-f", a)
    assert not _mounted(mp)


def test_volume_bind_option(isula, vols, tmp_path):
    host = tmp_path / "bound"
    host.mkdir()
    (host / "hello").write_text("from host\n")
    name = "isd-vb-%s" % uuid.uuid4().hex[:8]
    vols.append(name)
    isula.ok("volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", "device=%s" % host, name)
    out = isula.ok("run", "--rm", "-v", name + ":/b", "busybox", "sh", "-c", "cat /b/hello; echo back > /b/new")
    assert out == "from host"
    assert (host / "new").read_text() == "back\n"
    mp = json.loads(isula.ok("volume", "inspect", name))[0]["Mountpoint"]
    assert not _mounted(mp)
    isula.ok("volume", "rm", name)
    vols.remove(name)
    assert (host / "hello").exists() and (host / "new").exists()  # removing the volume keeps the host's files


def test_volume_ext4_loop_image(isula, container, vols, tmp_path):
    img = tmp_path / "vol.ext4"
    with open(img, "wb") as f:
        f.truncate(16 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(img)], check=True, capture_output=True)
    name = "isd-ve-%s" % uuid.uuid4().hex[:8]
    vols.append(name)
    try:
        isula.ok("volume", "create", "-o", "type=ext4", "-o", "device=%s" % img, name)
        mp = json.loads(isula.ok("volume", "inspect", name))[0]["Mountpoint"]
        cid = container("run", "-d", "-v", name + ":/e", "busybox", "sleep", "600")
        assert _mounted(mp) and len(_loops_of(img)) == 1
        assert isula.ok("exec", cid, "sh", "-c", "grep ' /e ' /proc/mounts | cut -d' ' -f3") == "ext4"
        assert "lost+found" in isula.ok("exec", cid, "ls", "/e").split()
        isula.ok("exec", cid, "sh", "-c", "echo persisted > /e/data")
        isula.ok("rm", "-f", cid)
        assert not _mounted(mp)  # unmounted at once
        # The loop device goes when the kernel drops the filesystem's last user: the dead container's mount
        # namespace, which the kernel frees a moment after its last process. Wait for that, bounded.
        deadline = time.monotonic() + 10
        while _loops_of(img) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _loops_of(img) == []  # the loop device released
        assert isula.ok("run", "--rm", "-v", name + ":/x:ro", "busybox", "cat", "/x/data") == "persisted"
        assert _loops_of(img) == []
    finally:
        for dev in _loops_of(img):  # only if the test failed half-way
            subprocess.run(["losetup", "-d", "/dev/" + dev])


def test_volume_options_validated(daemon, isula, vols):
    name = "isd-vx-%s" % uuid.uuid4().hex[:8]
    cases = [
        (["-o", "bogus=1"], 'invalid option: "bogus"'),
        (["-o", "type=tmpfs"], 'missing required option: "device"'),
        (["-o", "device=tmpfs"], 'missing required option: "type"'),
        (["-o", "o=size=1m"], 'missing required option: "device"'),
        (["-o", "type=none", "-o", "device=/tmp"], "type=none needs o=bind"),
        (["-o", "type=none", "-o", "o=bind", "-o", "device=rel/dir"], "must be an absolute path"),
    ]
    for args, msg in cases:
        r = isula("volume", "create", *args, name)
        assert r.returncode != 0 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
        assert isula("volume", "inspect", name).returncode != 0
    # a mount that cannot work fails the start with the reason, leaves nothing mounted, the daemon serves on
    vols.append(name)
    isula.ok("volume", "create", "-o", "type=ext4", "-o", "device=/nonexistent-%s.img" % name, name)
    r = isula("run", "--rm", "-v", name + ":/e", "busybox", "true")
    assert r.returncode != 0 and "mount volume %s" % name in r.stderr and "No such file" in r.stderr, r.stderr
    mp = json.loads(isula.ok("volume", "inspect", name))[0]["Mountpoint"]
    assert not _mounted(mp) and not os.listdir(os.path.join(os.path.dirname(mp), "holders"))
    assert isula.ok("version")


def test_volume_driver_opts_from_sdk_and_docker_cli(daemon, isula, vols):
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url="unix://" + daemon.sock, version="1.41", timeout=60)
    name = "isd-vs-%s" % uuid.uuid4().hex[:8]
    vols.append(name)
    try:
        v = client.volumes.create(name, driver="local", driver_opts={"type": "tmpfs", "device": "tmpfs",
                                                                     "o": "size=5m,uid=1000"})
        assert v.attrs["Options"] == {"type": "tmpfs", "device": "tmpfs", "o": "size=5m,uid=1000"}
        out = client.containers.run("busybox", ["sh", "-c", "df -k /m | tail -1; stat -c %u /m"], remove=True,
                                    volumes={name: {"bind": "/m", "mode": "rw"}})
        lines = out.decode().split("\n")
        assert lines[0].split()[1] == "5120" and lines[1] == "1000", out
        with pytest.raises(docker.errors.APIError) as e:
            client.volumes.create("isd-vs-bad", driver_opts={"nope": "1"})
        assert e.value.status_code == 400 and 'invalid option: "nope"' in str(e.value)
        if os.path.exists(DOCKER):
            env = dict(os.environ, DOCKER_HOST="unix://" + daemon.sock,
                       DOCKER_CONFIG=os.path.join(daemon.base, "dcfg"))
            n2 = name + "-cli"
            vols.append(n2)
            r = subprocess.run([DOCKER, "volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "--opt",
                                "o=size=3m", n2], env=env, capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            r = subprocess.run([DOCKER, "run", "--rm", "-v", n2 + ":/d", "busybox", "df", "-k", "/d"], env=env,
                               capture_output=True, text=True)
            assert r.returncode == 0 and r.stdout.splitlines()[-1].split()[1] == "3072", r.stdout + r.stderr
            r = subprocess.run([DOCKER, "volume", "inspect", "-f", "{{.Options.o}}", n2], env=env,
                               capture_output=True, text=True)
            assert r.stdout.strip() == "size=3m", r.stderr
    finally:
        client.close()


# --- --volumes-from chains --------------------------------------------------------------------------------------

def test_volumes_from_chain_modes_and_refusals(isula, container, vols, tmp_path):
    va, vb = "isd-vfa-%s" % uuid.uuid4().hex[:6], "isd-vfb-%s" % uuid.uuid4().hex[:6]
    vols.extend([va, vb])
    host = tmp_path / "h"
    host.mkdir()
    a = container("create", "-v", va + ":/a", "-v", "%s:/hb:ro" % host, "busybox", "true")
    b = container("create", "--volumes-from", a, "-v", vb + ":/b", "busybox", "true")
    # C takes B's volumes and, through B, A's (Docker's chains)
    out = isula.ok("run", "--rm", "--volumes-from", b, "busybox", "sh", "-c",
                   "echo ca > /a/f && echo cb > /b/f && cat /a/f /b/f; touch /hb/x 2>/dev/null || echo ro")
    assert out.split() == ["ca", "cb", "ro"]  # the host bind keeps A's :ro
    assert isula.ok("run", "--rm", "-v", va + ":/v", "busybox", "cat", "/v/f") == "ca"
    # :ro makes every inherited mount read-only, :rw keeps them writable (the bind of A's :ro stays ro)
    r = isula("run", "--rm", "--volumes-from", b + ":ro", "busybox", "touch", "/a/g")
    assert r.returncode != 0 and "Read-only file system" in r.stdout + r.stderr
    out = isula.ok("run", "--rm", "--volumes-from", b + ":rw", "busybox", "sh", "-c", "touch /a/g /b/g && echo ok")
    assert out == "ok"
    # the container's own mount of a destination wins over the inherited one
    assert isula.ok("run", "--rm", "--volumes-from", b, "-v", "%s:/a" % host, "busybox", "ls", "/a") == ""
    # inspect lists what the chain brings, as Docker's does: volumes by name, binds as binds
    d = container("create", "--volumes-from", b + ":ro", "-v", "%s:/b" % host, "busybox", "true")
    mounts = {m["Destination"]: m for m in isula.inspect(d)["Mounts"]}
    assert mounts["/a"]["Type"] == "volume" and mounts["/a"]["Name"] == va and mounts["/a"]["RW"] is False
    assert mounts["/b"]["Type"] == "bind" and mounts["/b"]["Source"] == str(host)  # its own, not vb
    assert mounts["/hb"]["Type"] == "bind" and mounts["/hb"]["RW"] is False and len(mounts) == 3
    # a container cannot take volumes from itself
    me = "isd-vfself-%s" % uuid.uuid4().hex[:6]
    r = isula("create", "--name", me, "--volumes-from", me, "busybox", "true")
    assert r.returncode != 0 and "cannot take volumes from itself" in r.stderr, r.stderr
    assert isula("inspect", me).returncode != 0
    r = isula("create", "--volumes-from", a + ":rx", "busybox", "true")
    assert r.returncode != 0 and "invalid mode for volumes-from: rx" in r.stderr


def test_volumes_from_resolved_at_create_so_no_cycle(isula, container):
    # Docker copies the source's mounts at create: renaming containers afterwards cannot make a chain circular
    n1 = "isd-vfc-%s" % uuid.uuid4().hex[:6]
    y = container("create", "--name", n1, "busybox", "true")
    x = container("create", "--volumes-from", n1, "busybox", "true")
    z = container("create", "--volumes-from", x, "busybox", "true")
    # make the name n1 point at z: x -> n1 (= z) -> x, had the chain been read again at start
    isula.ok("rm", y)
    isula.ok("rename", z, n1)
    isula.ok("start", x)
    assert isula.ok("wait", x) == "0"
    assert isula.inspect(x)["Mounts"] == []
    assert isula.ok("version")


def test_volumes_from_survives_removal_of_the_source(isula, vols, container):
    name = "isd-vfrm-%s" % uuid.uuid4().hex[:6]
    vols.append(name)
    a = container("create", "-v", name + ":/data", "busybox", "true")
    b = container("run", "-d", "--volumes-from", a, "busybox", "sh", "-c", "echo from-b >> /data/f; sleep 600")
    isula.ok("exec", b, "sh", "-c", "while [ ! -s /data/f ]; do sleep 0.1; done")
    c = container("create", "--volumes-from", b + ":ro", "busybox", "cat", "/data/f")
    isula.ok("rm", "-v", a)
    isula.ok("restart", "-t", "0", b)
    assert isula.ok("exec", b, "cat", "/data/f") == "from-b\nfrom-b"
    mounts = isula.inspect(b)["Mounts"]
    assert [(m["Type"], m["Name"], m["Destination"], m["RW"]) for m in mounts] == [("volume", name, "/data", True)]
    # the volume stays in use through b though a is gone
    r = isula("volume", "rm", name)
    assert r.returncode != 0 and "in use" in r.stderr, r.stderr
    # c took b's mounts (a's volume) at its create, read-only
    isula.ok("start", c)
    assert isula.ok("wait", c) == "0" and isula.ok("logs", c) == "from-b\nfrom-b"
    assert isula.inspect(c)["Mounts"][0]["RW"] is False


def test_volumes_from_keeps_source_anonymous_volume_on_rm_v(isula, vols, container):
    a = container("create", "-v", "/anon", "busybox", "true")
    anon = [m["Name"] for m in isula.inspect(a)["Mounts"] if m["Destination"] == "/anon"]
    assert len(anon) == 1
    b = container("create", "--volumes-from", a, "busybox", "sh", "-c", "echo kept > /anon/f && cat /anon/f")
    isula.ok("rm", "-v", a)  # b still uses the volume: kept, as Docker
    assert anon[0] in isula.ok("volume", "ls", "-q").split()
    vols.extend(anon)
    isula.ok("start", b)
    assert isula.ok("wait", b) == "0" and isula.ok("logs", b) == "kept"


# --- z / Z ------------------------------------------------------------------------------------------------------

def test_selinux_relabel_modes_accepted_as_noops(daemon, isula, tmp_path):
    d = tmp_path / "rel"
    d.mkdir()
    (d / "f").write_text("x\n")
    assert isula.ok("run", "--rm", "-v", "%s:/m:z" % d, "busybox", "cat", "/m/f") == "x"
    r = isula("run", "--rm", "-v", "%s:/m:Z,ro" % d, "busybox", "sh", "-c", "cat /m/f; touch /m/g")
    assert r.returncode != 0 and r.stdout.strip() == "x" and "Read-only file system" in r.stderr
    assert isula.ok("run", "--rm", "--mount", "type=bind,src=%s,dst=/m,z" % d, "busybox", "cat", "/m/f") == "x"
    assert isula.ok("run", "--rm", "--mount", "type=bind,src=%s,dst=/m,relabel=private,ro" % d, "busybox", "cat",
                    "/m/f") == "x"
    assert not (d / "g").exists()
    r = isula("run", "--rm", "-v", "%s:/m:z,Z" % d, "busybox", "true")
    assert r.returncode != 0 and "invalid mode" in r.stderr
    r = isula("run", "--rm", "--mount", "type=tmpfs,dst=/m,z", "busybox", "true")
    assert r.returncode != 0 and "apply to type=bind" in r.stderr
    assert "mount relabel `z` ignored: SELinux is not enabled" in daemon.read_log()
    assert "mount relabel `Z` ignored: SELinux is not enabled" in daemon.read_log()


def test_volumes_from_kept_across_daemon_restart(new_daemon):
    """The list --volumes-from resolved at create is part of the container's record: after the source is removed
    and the daemon restarted, the consumer still starts with the source's volume."""
    from conftest import Isula
    d = new_daemon()
    d.start()
    isula = Isula(d)
    name = "isd-vfd-%s" % uuid.uuid4().hex[:6]
    a = isula.ok("create", "-v", name + ":/data", "busybox", "true")
    b = isula.ok("create", "--volumes-from", a, "busybox", "cat", "/data/f")
    isula.ok("run", "--rm", "-v", name + ":/v", "busybox", "sh", "-c", "echo kept > /v/f")
    isula.ok("rm", a)
    d.stop()
    d.start()
    isula.ok("start", b)
    assert isula.ok("wait", b) == "0" and isula.ok("logs", b) == "kept"
    assert [m["Name"] for m in isula.inspect(b)["Mounts"]] == [name]
    isula.ok("rm", b)
    isula.ok("volume", "rm", name)


def test_volume_holds_survive_daemon_restart(new_daemon):
    """isulad killed while two containers hold a tmpfs volume; one of them dies while the daemon is down: after the
    restart the volume stays mounted for the other, and is unmounted when that one stops."""
    from conftest import Isula
    d = new_daemon()
    d.start()
    isula = Isula(d)
    name = "isd-vr-%s" % uuid.uuid4().hex[:6]
    isula.ok("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", name)
    mp = json.loads(isula.ok("volume", "inspect", name))[0]["Mountpoint"]
    a = isula.ok("run", "-d", "-v", name + ":/t", "busybox", "sleep", "600")
    b = isula.ok("run", "-d", "-v", name + ":/t", "busybox", "sleep", "600")
    pid_a = isula.inspect(a)["State"]["Pid"]
    d.proc.kill()
    d.proc.wait()
    d.proc = None
    os.kill(pid_a, 9)
    d.start()
    assert isula("wait", a).stdout.strip() == "137"  # its shim may report the exit only after the restore
    assert _mounted(mp)
    assert os.listdir(os.path.join(os.path.dirname(mp), "holders")) == [b]
    isula.ok("stop", "-t", "0", b)
    assert not _mounted(mp)
    isula.ok("rm", "-f", a, b)
    isula.ok("volume", "rm", name)


def test_mount_volume_opt_makes_a_volume_with_options(daemon, isula):
    """--mount type=volume,volume-opt=...: the volume the mount makes has those options (Docker's DriverConfig)."""
    before = set(isula.ok("volume", "ls", "-q").split())
    spec = "type=volume,dst=/x,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=2m,volume-label=k=v"
    out = isula.ok("run", "--rm", "--mount", spec, "busybox", "sh", "-c", "df -k /x | tail -1")
    assert out.split()[0] == "tmpfs" and out.split()[1] == "2048", out
    assert set(isula.ok("volume", "ls", "-q").split()) == before  # --rm removed the anonymous volume
    r = isula("create", "--mount", "type=volume,dst=/x,volume-opt=nope=1", "busybox", "true")
    assert r.returncode != 0 and 'invalid option: "nope"' in r.stderr, r.stderr
    if os.path.exists(DOCKER):
        env = dict(os.environ, DOCKER_HOST="unix://" + daemon.sock, DOCKER_CONFIG=os.path.join(daemon.base, "dcfg"))
        r = subprocess.run([DOCKER, "run", "--rm", "--mount",
                            "type=volume,dst=/y,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=1m",
                            "busybox", "df", "-k", "/y"], env=env, capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout.splitlines()[-1].split()[1] == "1024", r.stdout + r.stderr
        assert set(isula.ok("volume", "ls", "-q").split()) == before


def test_filter_without_equals_is_refused_by_every_list(isula):
    # the docker CLI refuses "-f key" without a value before asking the daemon; isula does the same everywhere
    for args in (("volume", "ls"), ("volume", "prune"), ("network", "ls"), ("network", "prune"), ("images",), ("ps",)):
        r = isula(*args, "--filter", "dangling")
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert r.stderr.strip() == "Error: bad format of filter (expected name=value)", (args, r.stderr)
