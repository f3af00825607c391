"""Embedded images (docs/embedded-images.md): `isula load --type embedded -i <manifest>`, then list, inspect,
history, run and rmi; bad manifests, wrong digests, missing files and symlink escapes are refused and leave
nothing registered."""
import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile

import pytest

from test_isula_images import rootfs_tar


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def app_layer():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = b"from the app layer\n"
        ti = tarfile.TarInfo("etc/app")
        ti.size, ti.mode = len(data), 0o644
        t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def bundle():
    d = tempfile.mkdtemp(prefix="isd-emb-", dir="/tmp")
    base = gzip.compress(rootfs_tar("embedded"))
    app = app_layer()
    os.makedirs(os.path.join(d, "layers"))
    with open(os.path.join(d, "base.tar.gz"), "wb") as f:
        f.write(base)
    with open(os.path.join(d, "layers", "app.tar"), "wb") as f:
        f.write(app)
    manifest = {
        "schemaVersion": 1, "name": "embtest:v1", "created": "2018-03-01T15:55:44.322987811Z",
        "layers": [{"path": "base.tar.gz", "digest": "sha256:" + sha256(base)},
                   {"path": "layers/app.tar", "digest": "sha256:" + sha256(app)}],
        "config": {"Cmd": ["cat", "/etc/app", "/etc/marker"], "Env": ["PATH=/bin", "EMB=1"],
                   "WorkingDir": "/etc", "Labels": {"kind": "embedded"}},
    }
    yield d, manifest
    shutil.rmtree(d, ignore_errors=True)


def write_manifest(d, m, name="test.manifest"):
    p = os.path.join(d, name)
    with open(p, "w") as f:
        json.dump(m, f)
    return p


def image_names(isula):
    return isula.ok("images").splitlines()[1:]


def test_load_list_inspect_run_rmi(isula, bundle):
    d, m = bundle
    path = write_manifest(d, m)
    cwd = os.getcwd()
    os.chdir(d)
    try:
        r = isula("load", "--type", "embedded", "-i", "test.manifest")
    finally:
        os.chdir(cwd)
    try:
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == 'Load image from "%s" success' % path
        rows = [l for l in image_names(isula) if l.startswith("embtest:v1 ")]
        assert len(rows) == 1 and "2018-03-01" in rows[0]
        info = isula.inspect("embtest:v1")
        assert json.loads(isula.ok("inspect", "-f", "{{json .Created}}", "embtest:v1")).startswith(
            "2018-03-01T15:55:44")
        assert info["Config"]["WorkingDir"] == "/etc"
        assert info["Config"]["Labels"] == {"kind": "embedded"}
        assert len(info["RootFS"]["Layers"]) == 2
        assert info["RootFS"]["Layers"][1] == "sha256:" + sha256(app_layer())
        out = isula.ok("run", "--rm", "embtest:v1")
        assert out.splitlines() == ["from the app layer", "embedded"]
        assert isula.ok("run", "--rm", "embtest:v1", "sh", "-c", "echo $EMB; pwd") == "1\n/etc"
        # the same manifest again: same image, no error
        assert isula("load", "-t", "embedded", "-i", path).returncode == 0
    finally:
        r = isula("rmi", "embtest:v1")
    assert r.returncode == 0 and r.stdout.strip() == 'Image "embtest:v1" removed'
    assert not [l for l in image_names(isula) if l.startswith("embtest:")]


def load_fails(isula, d, m, *expect):
    path = write_manifest(d, m)
    before = image_names(isula)
    r = isula("load", "--type", "embedded", "-i", path)
    assert r.returncode != 0
    for e in expect:
        assert e in r.stderr, r.stderr
    assert image_names(isula) == before
    assert isula("inspect", m.get("name", "x")).returncode != 0


def test_wrong_digest_is_refused(isula, bundle):
    d, m = bundle
    m["layers"][1]["digest"] = "sha256:" + "0" * 64
    load_fails(isula, d, m, "digest mismatch", "layers/app.tar")


def test_missing_file_and_bad_manifests(isula, bundle):
    d, m = bundle
    bad = json.loads(json.dumps(m))
    bad["layers"][0]["path"] = "nope.tar"
    load_fails(isula, d, bad, "nope.tar")
    bad = dict(m, layers=[])
    load_fails(isula, d, bad, "layers")
    bad = dict(m, name="UPPER:case")
    load_fails(isula, d, bad)
    bad = dict(m, config={"Cmd": "not an array"})
    load_fails(isula, d, bad, "Cmd")
    bad = json.loads(json.dumps(m))
    del bad["layers"][0]["digest"]
    load_fails(isula, d, bad, "digest")
    p = os.path.join(d, "garbage.manifest")
    with open(p, "w") as f:
        f.write("{not json")
    r = isula("load", "--type", "embedded", "-i", p)
    assert r.returncode != 0 and "manifest" in r.stderr
    r = isula("load", "--type", "embedded", "--tag", "x:y", "-i", p)
    assert r.returncode != 0 and "docker" in r.stderr
    r = isula("load", "--type", "squash", "-i", p)
    assert r.returncode != 0


def test_paths_outside_the_manifest_dir_are_refused(isula, bundle):
    d, m = bundle
    outside = tempfile.mkdtemp(prefix="isd-emb-out-", dir="/tmp")
    try:
        data = rootfs_tar("outside")
        with open(os.path.join(outside, "evil.tar"), "wb") as f:
            f.write(data)
        os.symlink(os.path.join(outside, "evil.tar"), os.path.join(d, "link.tar"))
        for p in ("link.tar", "../" + os.path.basename(outside) + "/evil.tar", os.path.join(outside, "evil.tar")):
            bad = json.loads(json.dumps(m))
            bad["layers"] = [{"path": p, "digest": "sha256:" + sha256(data)}]
            load_fails(isula, d, bad)
    finally:
        shutil.rmtree(outside)


def test_history_of_embedded_image(isula, bundle):
    d, m = bundle
    isula.ok("load", "--type", "embedded", "-i", write_manifest(d, m))
    try:
        from test_images_history import api_get
        hist = api_get(isula.daemon, "/images/embtest:v1/history")
        assert [h["CreatedBy"] for h in hist] == ["embedded layer layers/app.tar", "embedded layer base.tar.gz"]
        assert hist[0]["Tags"] == ["embtest:v1"] and hist[1]["Id"] == "<missing>"
        assert hist[0]["Id"] == isula.inspect("embtest:v1")["Id"]
        assert hist[1]["Size"] > 100000
    finally:
        isula("rmi", "embtest:v1")
