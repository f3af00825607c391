"""Image history (GET /images/{name}/history) and the filters of GET /images/json and `isula images -f`:
reference, dangling, before, since, label; `isula images --digests`."""
import http.client
import json
import os
import shutil
import socket
import tempfile
import urllib.parse

import pytest

from test_isula_images import rootfs_tar


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix_path)


def api(daemon, method, path, body=None):
    c = UnixHTTPConnection(daemon.sock)
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, (json.loads(data) if data else None)


def api_get(daemon, path):
    status, j = api(daemon, "GET", path)
    assert status == 200, j
    return j


def list_images(daemon, filters):
    q = urllib.parse.quote(json.dumps(filters))
    return api(daemon, "GET", "/images/json?filters=" + q)


@pytest.fixture
def images(isula):
    """Images imported one after the other: hfa:1, hfb:1 (also tagged hfb:2), and one made dangling."""
    d = tempfile.mkdtemp(prefix="isd-hist-", dir="/tmp")
    made = []
    try:
        for name, marker in (("hfa:1", "a"), ("hfb:1", "b"), ("hfdangle:x", "c")):
            p = os.path.join(d, marker + ".tar")
            with open(p, "wb") as f:
                f.write(rootfs_tar(marker))
            r = isula("import", p, name)
            assert r.returncode == 0, r.stderr
            made.append(name)
        isula.ok("tag", "hfb:1", "hfb:2")
        made.append("hfb:2")
        # make hfdangle:x dangling by moving its only tag away
        made.append(isula.inspect("hfdangle:x")["Id"])
        isula.ok("tag", "hfa:1", "hfdangle:x")
        yield made
    finally:
        for n in made:
            isula("rmi", "-f", n)
        shutil.rmtree(d, ignore_errors=True)


def tags_of(listing):
    return sorted(t for i in listing for t in i["RepoTags"])


def test_history_shape(isula, images):
    hist = api_get(isula.daemon, "/images/hfa:1/history")
    assert len(hist) >= 1
    top = hist[0]
    assert set(top) == {"Id", "Created", "CreatedBy", "Tags", "Size", "Comment"}
    assert top["Id"] == isula.inspect("hfa:1")["Id"]
    assert "hfa:1" in top["Tags"]
    assert top["Comment"] == "Imported from tarball"
    assert top["Size"] > 100000
    status, j = api(isula.daemon, "GET", "/images/nosuchimage:1/history")
    assert status == 404


def test_reference_filter(isula, images):
    status, j = list_images(isula.daemon, {"reference": ["hfb"]})
    assert status == 200 and tags_of(j) == ["hfb:1", "hfb:2"]  # a pattern without tag matches the name
    status, j = list_images(isula.daemon, {"reference": ["hf*:1"]})
    assert status == 200 and tags_of(j) == ["hfa:1", "hfb:1"]
    status, j = list_images(isula.daemon, {"reference": ["hfb:*"]})
    assert tags_of(j) == ["hfb:1", "hfb:2"]
    status, j = list_images(isula.daemon, {"reference": {"hfa:1": True}})
    assert tags_of(j) == ["hfa:1"]
    out = isula.ok("images", "-f", "reference=hfb:*")
    assert sorted(l.split()[0] for l in out.splitlines()[1:]) == ["hfb:1", "hfb:2"]


def test_dangling_before_since_label(isula, images):
    status, j = list_images(isula.daemon, {"dangling": ["true"]})
    assert status == 200 and all(i["RepoTags"] == [] for i in j) and len(j) >= 1
    status, j = list_images(isula.daemon, {"dangling": ["false"]})
    assert all(i["RepoTags"] for i in j)
    status, j = list_images(isula.daemon, {"since": ["hfa:1"], "reference": ["hf*"]})
    assert "hfa:1" not in tags_of(j) and "hfb:1" in tags_of(j)
    status, j = list_images(isula.daemon, {"before": ["hfb:1"], "reference": ["hf*"]})
    assert "hfb:1" not in tags_of(j) and "hfa:1" in tags_of(j)
    status, j = list_images(isula.daemon, {"bogus": ["1"]})
    assert status == 400 and "bogus" in j["message"]
    status, j = list_images(isula.daemon, {"dangling": ["maybe"]})
    assert status == 400
    status, j = list_images(isula.daemon, {"before": ["nosuch:image"]})
    assert status == 404
    status, j = list_images(isula.daemon, {"label": ["made.by"], "reference": ["hf*"]})
    assert status == 200 and j == []
    r = isula("images", "-f", "bogus=1")
    assert r.returncode != 0 and "bogus" in r.stderr
    out = isula.ok("images", "-f", "dangling=true", "-q")
    assert out and all(":" not in l for l in out.splitlines())


def test_images_digests_column(isula, images):
    out = isula.ok("images", "--digests", "-f", "reference=hfa:1")
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["REF", "DIGEST"]
    assert lines[1].split()[:2] == ["hfa:1", "<none>"]
