"""Raw HTTP against the session isulad's unix socket: error statuses and bodies of the Docker API, bounded
request bodies, bad image archives (corrupt, truncated, path traversal through `..`, absolute names and
symlinks), and the daemon still serving, with its containers unharmed, after all of it."""
import hashlib
import http.client
import io
import json
import os
import shutil
import socket
import tarfile
import tempfile
import uuid

import pytest


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class Api:
    def __init__(self, daemon):
        self.sock = daemon.sock

    def call(self, method, path, body=None, raw=None, headers=None):
        conn = UnixHTTPConnection(self.sock)
        try:
            data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
            h = {"Content-Type": "application/json" if raw is None else "application/x-tar"}
            h.update(headers or {})
            conn.request(method, "/v1.41" + path, body=data, headers=h)
            r = conn.getresponse()
            text = r.read()
            ctype = r.getheader("Content-Type") or ""
            return r.status, json.loads(text) if text and "json" in ctype and b"\n{" not in text.strip() else text
        finally:
            conn.close()


@pytest.fixture
def api(daemon, isula):
    a = Api(daemon)
    a.made = []
    yield a
    for cid in a.made:
        isula("rm", "-f", cid)


def create(api, name=None, cmd=("sleep", "600")):
    path = "/containers/create" + ("?name=" + name if name else "")
    status, body = api.call("POST", path, {"Image": "busybox", "Cmd": list(cmd)})
    assert status == 201, body
    api.made.append(body["Id"])
    return body["Id"]


def image_ids(api):
    status, body = api.call("GET", "/images/json")
    assert status == 200
    return sorted(i["Id"] for i in body)


def error_message(body):
    assert isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"], body
    return body["message"]


def test_malformed_json_is_400(api):
    status, body = api.call("POST", "/containers/create", raw=b'{"Image": "busybox", "Cmd": [',
                            headers={"Content-Type": "application/json"})
    assert status == 400
    error_message(body)
    status, body = api.call("POST", "/containers/create", raw=b"[1, 2]", headers={"Content-Type": "application/json"})
    assert status == 400
    error_message(body)


def test_body_over_1mib_is_413(api):
    big = json.dumps({"Image": "busybox", "Labels": {"x": "y" * (1 << 20)}}).encode()
    status, body = api.call("POST", "/containers/create", raw=big, headers={"Content-Type": "application/json"})
    assert status == 413
    error_message(body)


def test_unknown_route_is_404(api):
    status, _ = api.call("GET", "/no/such/route")
    assert status == 404
    status, _ = api.call("PATCH", "/containers/json")
    assert status in (404, 405)


def test_unknown_container_and_image_are_404(api):
    missing = "nosuch" + uuid.uuid4().hex[:8]
    for method, path in (("GET", "/containers/%s/json"), ("POST", "/containers/%s/start"),
                         ("POST", "/containers/%s/stop"), ("DELETE", "/containers/%s"),
                         ("GET", "/containers/%s/logs?stdout=1"), ("POST", "/containers/%s/wait")):
        status, body = api.call(method, path % missing)
        assert status == 404, (method, path)
        assert "No such container" in error_message(body)
    for method, path in (("GET", "/images/%s/json"), ("DELETE", "/images/%s"), ("POST", "/images/%s/tag?repo=x")):
        status, body = api.call(method, path % (missing + ":v1"))
        assert status == 404, (method, path)
        assert "No such image" in error_message(body)
    status, body = api.call("POST", "/containers/create", {"Image": missing + ":v1", "Cmd": ["true"]})
    assert status == 404
    assert "No such image" in error_message(body)


def test_conflicts_are_409(api):
    name = "api-" + uuid.uuid4().hex[:10]
    cid = create(api, name)
    status, body = api.call("POST", "/containers/create?name=" + name, {"Image": "busybox", "Cmd": ["true"]})
    assert status == 409
    assert name in error_message(body)
    status, _ = api.call("POST", "/containers/%s/start" % cid)
    assert status == 204
    status, body = api.call("DELETE", "/containers/" + cid)
    assert status == 409
    error_message(body)
    status, body = api.call("GET", "/containers/%s/json" % cid)
    assert status == 200 and body["State"]["Running"] is True


def test_invalid_container_name_is_400(api):
    for bad in ("bad name", "-dash", "a%2Fb", ".dot"):
        status, body = api.call("POST", "/containers/create?name=" + bad.replace(" ", "%20"),
                                {"Image": "busybox", "Cmd": ["true"]})
        if status == 201:
            api.made.append(body["Id"])
        assert status == 400, bad
        error_message(body)


def layer_tar(entries):
    """entries: list of (name, kind, data), kind 'file' (data bytes), 'symlink'/'hardlink' (data target), 'dir'."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            if kind == "file":
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            elif kind in ("symlink", "hardlink"):
                ti.type, ti.linkname = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE, data
                t.addfile(ti)
            else:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
    return out.getvalue()


def docker_archive(tag, layer):
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    cid = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": cid + ".json", "RepoTags": [tag], "Layers": ["l0/layer.tar"]}]).encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as t:
        for name, data in ((cid + ".json", config), ("l0/layer.tar", layer), ("manifest.json", manifest)):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return out.getvalue()


@pytest.fixture
def host_target():
    d = tempfile.mkdtemp(prefix="isd-it-escape-", dir="/tmp")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def load_error(body):
    """Docker answers a load that fails with 200 and the error in the JSON stream (the SDK's ImageLoadError)."""
    assert isinstance(body, dict) and body["errorDetail"]["message"] == body["error"] != "", body
    return body["error"]


def test_bad_archives_are_refused_and_change_nothing(api):
    before = image_ids(api)
    status, body = api.call("POST", "/images/load", raw=os.urandom(4096))
    assert status == 200, body
    load_error(body)
    good = docker_archive("api-trunc:1", layer_tar([("hello", "file", b"x" * 100000)]))
    status, body = api.call("POST", "/images/load", raw=good[: len(good) // 2])
    assert status == 200 and load_error(body), body
    status, body = api.call("POST", "/images/load", raw=b"")
    assert status == 200 and load_error(body), body
    bad_manifest = io.BytesIO()
    with tarfile.open(fileobj=bad_manifest, mode="w") as t:
        ti = tarfile.TarInfo("manifest.json")
        ti.size = 5
        t.addfile(ti, io.BytesIO(b"[{]}x"))
    status, body = api.call("POST", "/images/load", raw=bad_manifest.getvalue())
    assert status == 200 and load_error(body), body
    assert image_ids(api) == before


def test_malicious_layer_writes_nothing_outside(api, daemon, host_target, isula):
    keeper = create(api, "api-keeper-" + uuid.uuid4().hex[:6])
    assert api.call("POST", "/containers/%s/start" % keeper)[0] == 204
    pid = api.call("GET", "/containers/%s/json" % keeper)[1]["State"]["Pid"]
    up = "../" * 40
    t = host_target.lstrip("/")
    victim = os.path.join(host_target, "victim")
    with open(victim, "w") as f:
        f.write("original\n")
    vectors = [
        [(up + t + "/escape-dotdot", "file", b"dotdot\n")],
        [("/" + t + "/escape-abs", "file", b"abs\n")],
        [("evil", "symlink", host_target), ("evil/escape-link", "file", b"link\n")],
        [("evil-rel", "symlink", up + t), ("evil-rel/escape-rel", "file", b"rel\n")],
        [("d", "dir", None), ("d/evil", "symlink", "../../../../../../../../../../.." + host_target),
         ("d/evil/escape-nested", "file", b"nested\n")],
        [("victim-link", "symlink", victim), ("victim-link", "file", b"overwritten\n")],
        [("hard", "hardlink", victim), ("hard", "file", b"overwritten\n")],
        [("hard2", "hardlink", up + t + "/victim"), ("hard2", "file", b"overwritten\n")],
    ]
    for i, entries in enumerate(vectors):
        tag = "api-evil-%d-%s:1" % (i, uuid.uuid4().hex[:6])
        layer = layer_tar([("safe.txt", "file", b"safe\n")] + entries)
        status, body = api.call("POST", "/images/load", raw=docker_archive(tag, layer))
        try:
            assert status == 200, (entries, status, body)
            assert sorted(os.listdir(host_target)) == ["victim"], entries
            with open(victim) as f:
                assert f.read() == "original\n", entries
            assert not os.path.exists("/escape-abs")
        finally:
            isula("rmi", "-f", tag)
    assert api.call("GET", "/_ping")[0] == 200
    st = api.call("GET", "/containers/%s/json" % keeper)[1]["State"]
    assert st["Running"] is True and st["Pid"] == pid
    os.kill(pid, 0)


def test_daemon_survives_garbage_requests(api, daemon):
    keeper = create(api, "api-alive-" + uuid.uuid4().hex[:6])
    assert api.call("POST", "/containers/%s/start" % keeper)[0] == 204
    for junk in (b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                 b"POST /v1.41/containers/create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                 b"\x00" * 100):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(daemon.sock)
        s.sendall(junk)
        try:
            s.recv(4096)
        except OSError:
            pass
        s.close()
    assert api.call("GET", "/_ping")[0] == 200
    st = api.call("GET", "/containers/%s/json" % keeper)[1]["State"]
    assert st["Running"] is True
