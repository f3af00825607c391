"""Image commands of the real `isula`: load (docker-archive and OCI layout archives built here), import,
export, images, tag, rmi and image inspect. Images made by a test are removed after it, also on failure."""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile

import pytest

from conftest import bin_path
from test_isula_containers import names  # noqa: F401 (fixture)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def rootfs_tar(marker="layer"):
    """A small rootfs as an uncompressed tar: bin/busybox, bin/sh -> busybox, /etc/marker, /tmp."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for d in ("bin", "etc", "tmp"):
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            t.addfile(ti)
        t.add("/bin/busybox", arcname="bin/busybox")
        for applet in ("sh", "cat", "echo"):
            ti = tarfile.TarInfo("bin/" + applet)
            ti.type, ti.linkname = tarfile.SYMTYPE, "busybox"
            t.addfile(ti)
        data = (marker + "\n").encode()
        ti = tarfile.TarInfo("etc/marker")
        ti.size, ti.mode = len(data), 0o644
        t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def image_config(layer, cmd):
    return json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2024-01-02T03:04:05Z",
        "config": {"Cmd": cmd, "Env": ["PATH=/bin"], "Labels": {"made.by": "test"}},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha256(layer)]},
        "history": [{"created": "2024-01-02T03:04:05Z", "created_by": "test"}],
    }).encode()


def add_bytes(t, name, data):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode = len(data), 0o644
    t.addfile(ti, io.BytesIO(data))


def docker_archive(path, tag, cmd, manifest_first=False):
    layer = rootfs_tar("docker")
    cfg = image_config(layer, cmd)
    cfg_name = sha256(cfg) + ".json"
    layer_name = sha256(layer) + "/layer.tar"
    manifest = json.dumps([{"Config": cfg_name, "RepoTags": [tag], "Layers": [layer_name]}]).encode()
    with tarfile.open(path, "w") as t:
        if manifest_first:
            add_bytes(t, "manifest.json", manifest)
        add_bytes(t, cfg_name, cfg)
        add_bytes(t, layer_name, layer)
        if not manifest_first:
            add_bytes(t, "manifest.json", manifest)
    return sha256(cfg)


def oci_archive(path, ref, cmd):
    layer = rootfs_tar("oci")
    gz = gzip.compress(layer)
    cfg = image_config(layer, cmd)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + sha256(cfg),
                   "size": len(cfg)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + sha256(gz),
                    "size": len(gz)}],
    }).encode()
    index = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + sha256(manifest),
        "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": ref}}]}).encode()
    with tarfile.open(path, "w") as t:
        add_bytes(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add_bytes(t, "index.json", index)
        for blob in (cfg, gz, manifest):
            add_bytes(t, "blobs/sha256/" + sha256(blob), blob)
    return sha256(cfg)


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="isd-it-img-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def images(isula):
    """Image references the test creates; removed (rmi -f) afterwards."""
    refs = []
    yield refs
    for r in refs:
        isula("rmi", "-f", r)


def image_refs(isula):
    return isula.ok("images", "-q").split()


def test_load_docker_archive_and_run(isula, workdir, images, names):
    path = os.path.join(workdir, "dock.tar")
    images.append("it-dock:v1")
    cfg_hex = docker_archive(path, "it-dock:v1", ["/bin/sh", "-c", "cat /etc/marker"])
    out = isula.ok("load", "-i", path)
    assert out == 'Load image from "%s" success' % path
    assert "it-dock:v1" in image_refs(isula)
    img = isula.inspect("it-dock:v1")
    assert img["Id"] == "sha256:" + cfg_hex
    assert img["Config"]["Cmd"] == ["/bin/sh", "-c", "cat /etc/marker"]
    assert isula.ok("run", "--name", names(), "it-dock:v1") == "docker"


def test_load_oci_archive_and_run(isula, workdir, images, names):
    path = os.path.join(workdir, "oci.tar")
    images.append("it-oci:v2")
    cfg_hex = oci_archive(path, "it-oci:v2", ["cat", "/etc/marker"])
    out = isula.ok("load", "-i", path)
    assert out == 'Load image from "%s" success' % path
    assert "it-oci:v2" in image_refs(isula)
    assert isula.ok("inspect", "-f", "{{.Id}}", "it-oci:v2") == "sha256:" + cfg_hex
    assert isula.ok("run", "--name", names(), "it-oci:v2") == "oci"


def test_save_rmi_load_roundtrip(isula, workdir, images, names):
    src = os.path.join(workdir, "rootfs.tar")
    with open(src, "wb") as f:
        f.write(rootfs_tar("saved"))
    images.append("it-save:1")
    isula.ok("import", src, "it-save:1")
    iid = isula.inspect("it-save:1")["Id"]
    out = os.path.join(workdir, "saved.tar")
    isula.ok("save", "-o", out, "it-save:1")
    with tarfile.open(out) as t:
        assert "manifest.json" in t.getnames()
    isula.ok("rmi", "it-save:1")
    assert isula("inspect", iid).returncode != 0
    isula.ok("load", "-i", out)
    assert isula.inspect("it-save:1")["Id"] == iid
    assert isula.ok("run", "--name", names(), "it-save:1", "cat", "/etc/marker") == "saved"


def test_load_with_tag(isula, workdir, images):
    path = os.path.join(workdir, "dock.tar")
    images.extend(["it-dock:tagsrc", "it-renamed:1"])
    docker_archive(path, "it-dock:tagsrc", ["true"])
    isula.ok("load", "-i", path, "--tag", "it-renamed:1")
    assert "it-renamed:1" in image_refs(isula)


@pytest.mark.parametrize("damage", ["truncated", "truncated-in-layer", "garbage", "empty"])
def test_load_corrupt_archive_fails_cleanly(isula, workdir, damage):
    good = os.path.join(workdir, "good.tar")
    docker_archive(good, "it-corrupt:1", ["true"], manifest_first=damage == "truncated-in-layer")
    bad = os.path.join(workdir, "bad.tar")
    with open(good, "rb") as f:
        data = f.read()
    with open(bad, "wb") as f:
        if damage.startswith("truncated"):
            f.write(data[:len(data) // 2])
        elif damage == "garbage":
            f.write(b"this is not a tar archive\n" * 100)
    before = isula.ok("images")
    layers = os.path.join(isula.daemon.graph, "storage", "layers")
    layers_before = sorted(os.listdir(layers))
    r = isula("load", "-i", bad)
    assert r.returncode != 0
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert isula.ok("images") == before
    assert sorted(os.listdir(layers)) == layers_before  # no half-imported layer left behind
    assert isula.ok("version")


def test_load_missing_file(isula, workdir):
    r = isula("load", "-i", os.path.join(workdir, "nope.tar"))
    assert r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_import_and_run(isula, workdir, images, names):
    path = os.path.join(workdir, "rootfs.tar")
    with open(path, "wb") as f:
        f.write(rootfs_tar("imported"))
    images.append("it-imp:v1")
    out = isula.ok("import", path, "it-imp:v1")
    img = isula.inspect("it-imp:v1")
    assert out.splitlines()[-1] in (img["Id"], img["Id"].split(":", 1)[1])
    assert isula.ok("run", "--name", names(), "it-imp:v1", "cat", "/etc/marker") == "imported"


def test_export(isula, workdir, names):
    n = names()
    isula.ok("run", "--name", n, "busybox", "sh", "-c", "echo exported > /marker")
    out = os.path.join(workdir, "c.tar")
    isula.ok("export", "-o", out, n)
    with tarfile.open(out) as t:
        members = {m.name.lstrip("./"): m for m in t.getmembers()}
        assert members["bin/busybox"].isfile() and members["bin/busybox"].mode & 0o111
        assert t.extractfile(members["marker"]).read() == b"exported\n"
    env = dict(os.environ, ISULAD_HOST=isula.daemon.host)
    r = subprocess.run([bin_path("isula"), "export", n], capture_output=True, env=env, timeout=60)
    assert r.returncode == 0
    with tarfile.open(fileobj=io.BytesIO(r.stdout)) as t:
        assert "bin/busybox" in [m.name.lstrip("./") for m in t.getmembers()]


def test_images_quiet_and_table(isula):
    assert "busybox:latest" in image_refs(isula)
    lines = isula.ok("images").splitlines()
    assert lines[0].split() == ["REF", "IMAGE", "ID", "CREATED", "SIZE"]
    row = [line for line in lines if line.startswith("busybox:latest ")]
    assert len(row) == 1
    img_id = isula.inspect("busybox")["Id"]
    assert row[0].split()[1] == img_id.split(":", 1)[1][:12]


def test_tag_and_rmi_untag(isula, images):
    images.append("it-tag:1")
    bid = isula.inspect("busybox")["Id"]
    isula.ok("tag", "busybox", "it-tag:1")
    assert isula.inspect("it-tag:1")["Id"] == bid
    assert "it-tag:1" in image_refs(isula)
    out = isula.ok("rmi", "it-tag:1")
    assert "it-tag:1" in out
    assert "it-tag:1" not in image_refs(isula)
    assert isula.inspect("busybox")["Id"] == bid


def test_rmi_deletes_and_refuses_image_in_use(isula, workdir, images, names):
    path = os.path.join(workdir, "rootfs.tar")
    with open(path, "wb") as f:
        f.write(rootfs_tar("inuse"))
    images.append("it-inuse:1")
    isula.ok("import", path, "it-inuse:1")
    iid = isula.inspect("it-inuse:1")["Id"]
    n = names()
    isula.ok("create", "--name", n, "it-inuse:1", "true")
    r = isula("rmi", "it-inuse:1")
    assert r.returncode != 0
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "it-inuse:1" in image_refs(isula)
    isula.ok("rm", n)
    isula.ok("rmi", "it-inuse:1")
    assert "it-inuse:1" not in image_refs(isula)
    assert isula("inspect", iid).returncode != 0


def test_inspect_image(isula):
    img = isula.inspect("busybox")
    assert img["Id"].startswith("sha256:") and "busybox:latest" in img["RepoTags"]
    assert isula.ok("inspect", "-f", "{{.Id}}", "busybox:latest") == img["Id"]
    arr = json.loads(isula.ok("inspect", "busybox", "busybox:latest"))
    assert len(arr) == 2 and arr[0]["Id"] == arr[1]["Id"] == img["Id"]
    r = isula("inspect", "it-no-such-image:1")
    assert r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1


def test_retag_leaves_dangling_image(isula, workdir, images):
    paths = []
    for marker in ("first", "second"):
        paths.append(os.path.join(workdir, marker + ".tar"))
        with open(paths[-1], "wb") as f:
            f.write(rootfs_tar(marker))
    images.append("it-dangle:1")
    isula.ok("import", paths[0], "it-dangle:1")
    old = isula.inspect("it-dangle:1")["Id"]
    isula.ok("import", paths[1], "it-dangle:1")
    assert isula.inspect("it-dangle:1")["Id"] != old
    short = old.split(":", 1)[1][:12]
    dangling = isula.ok("images", "-f", "dangling=true").splitlines()[1:]
    assert ["-", short] in [line.split()[:2] for line in dangling]
    assert short in isula.ok("images", "-q").split()
    assert isula.inspect(old)["RepoTags"] == []
    isula.ok("rmi", short)
    assert isula("inspect", old).returncode != 0
