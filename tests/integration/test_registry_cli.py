"""isula pull/login/logout/save/history against a fake API server on a unix socket: the requests the CLI
sends and how it renders the answers (progress stream, errors), independent of the daemon's registry code."""
import json
import os
import pty
import shutil
import socketserver
import subprocess
import tempfile
import threading
import http.server
import urllib.parse

import pytest

from conftest import bin_path

DIGEST = "sha256:" + "ab" * 32


class FakeApi:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="isd-fake-", dir="/tmp")
        self.sock = os.path.join(self.dir, "api.sock")
        self.calls = []
        self.pull_stream = []
        self.status = 200
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def address_string(self):
                return "unix"

            def handle_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                u = urllib.parse.urlparse(self.path)
                api.calls.append((self.command, u.path, urllib.parse.parse_qs(u.query), body))
                out, ctype, status = api.answer(self.command, u.path, body)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_DELETE = handle_any

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self.srv = Server(self.sock, Handler)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def answer(self, method, path, body):
        path = path.replace("/v1.41", "", 1)
        if self.status != 200:
            return json.dumps({"message": "boom from fake"}).encode(), "application/json", self.status
        if path == "/images/create":
            return b"".join(json.dumps(m).encode() + b"\r\n" for m in self.pull_stream), "application/json", 200
        if path == "/auth":
            return json.dumps({"Status": "Login Succeeded", "IdentityToken": ""}).encode(), "application/json", 200
        if path == "/isula/auth":
            return b"", "application/json", 200
        if path == "/images/get":
            return b"ARCHIVE-BYTES" * 1000, "application/x-tar", 200
        if path.endswith("/history"):
            return json.dumps([
                {"Id": "sha256:" + "cd" * 32, "Created": 1700000000, "CreatedBy": "/bin/sh -c #(nop) " + "x" * 80,
                 "Tags": ["a:b"], "Size": 1234567, "Comment": "hi"},
                {"Id": "<missing>", "Created": 1600000000, "CreatedBy": "ADD\tfile", "Tags": None, "Size": 0,
                 "Comment": ""}]).encode(), "application/json", 200
        return json.dumps({"message": "not found"}).encode(), "application/json", 404

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def fake():
    f = FakeApi()
    yield f
    f.stop()


def isula(fake, *args, input=None):
    return subprocess.run([bin_path("isula"), "-H", "unix://" + fake.sock] + list(args), capture_output=True,
                          text=True, timeout=30, input=input)


PULL_STREAM = [
    {"status": "Pulling from official/busybox", "id": "latest"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "aaaaaaaaaaaa"},
    {"status": "Downloading", "progressDetail": {"current": 500, "total": 1000}, "id": "aaaaaaaaaaaa"},
    {"status": "Download complete", "progressDetail": {}, "id": "aaaaaaaaaaaa"},
    {"status": "Pull complete", "progressDetail": {}, "id": "aaaaaaaaaaaa"},
    {"status": "Digest: " + DIGEST},
    {"status": "Status: Downloaded newer image for localhost:5000/official/busybox:latest"},
]


def test_pull_plain_output(fake):
    fake.pull_stream = PULL_STREAM
    r = isula(fake, "pull", "localhost:5000/official/busybox")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == 'Image "localhost:5000/official/busybox" pulling'
    assert lines[-1] == 'Image "localhost:5000/official/busybox@%s" pulled' % DIGEST
    assert "aaaaaaaaaaaa: Pull complete" in lines
    assert not any("Downloading" in l for l in lines)  # no progress updates without a terminal
    method, path, q, _ = fake.calls[-1]
    assert (method, path) == ("POST", "/v1.41/images/create")
    assert q == {"fromImage": ["localhost:5000/official/busybox"], "tag": ["latest"]}


def test_pull_tag_digest_and_quiet(fake):
    fake.pull_stream = PULL_STREAM
    r = isula(fake, "pull", "-q", "127.0.0.1:5000/a/b:v1")
    assert r.returncode == 0 and r.stdout.splitlines() == ['Image "127.0.0.1:5000/a/b@%s" pulled' % DIGEST]
    assert fake.calls[-1][2] == {"fromImage": ["127.0.0.1:5000/a/b"], "tag": ["v1"]}
    isula(fake, "pull", "127.0.0.1:5000/a/b@" + DIGEST)
    assert fake.calls[-1][2] == {"fromImage": ["127.0.0.1:5000/a/b"], "tag": [DIGEST]}
    assert isula(fake, "pull").returncode != 0
    assert isula(fake, "pull", "a", "b").returncode != 0


def test_pull_stream_error(fake):
    fake.pull_stream = PULL_STREAM[:2] + [{"errorDetail": {"message": "manifest unknown"}, "error": "manifest unknown"}]
    r = isula(fake, "pull", "x/y")
    assert r.returncode == 1
    assert r.stderr.strip() == "Error response from daemon: manifest unknown"
    assert "pulled" not in r.stdout
    fake.status = 404
    r = isula(fake, "pull", "x/y")
    assert r.returncode == 1 and r.stderr.strip() == "Error response from daemon: boom from fake"


def test_pull_tty_progress(fake):
    fake.pull_stream = PULL_STREAM
    master, slave = pty.openpty()
    p = subprocess.Popen([bin_path("isula"), "-H", "unix://" + fake.sock, "pull", "a/b"], stdout=slave,
                         stderr=subprocess.PIPE)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    p.wait(timeout=30)
    os.close(master)
    text = out.decode()
    assert p.returncode == 0
    assert "aaaaaaaaaaaa: Downloading [" in text and "500 B/1 KB" in text
    assert "\x1b[" in text  # the layer line is redrawn in place
    assert 'Image "a/b@%s" pulled' % DIGEST in text


def test_login_logout(fake):
    r = isula(fake, "login", "-u", "me", "-p", "pw", "127.0.0.1:5000")
    assert r.returncode == 0 and r.stdout.strip() == "Login Succeeded"
    assert "--password-stdin" in r.stderr  # the insecure -p warning
    body = json.loads(fake.calls[-1][3])
    assert fake.calls[-1][:2] == ("POST", "/v1.41/auth")
    assert body == {"username": "me", "password": "pw", "serveraddress": "127.0.0.1:5000"}
    r = isula(fake, "login", "-u", "me", "--password-stdin", "127.0.0.1:5000", input="secret\n")
    assert r.returncode == 0 and json.loads(fake.calls[-1][3])["password"] == "secret"
    assert isula(fake, "login", "--password-stdin", "h:1", input="x\n").returncode == 1
    assert isula(fake, "login", "-u", "me", "-p", "x", "--password-stdin", "h:1", input="x\n").returncode == 1
    r = isula(fake, "logout", "127.0.0.1:5000")
    assert r.returncode == 0 and r.stdout.strip() == "Logout Succeeded"
    assert fake.calls[-1][:3] == ("DELETE", "/v1.41/isula/auth", {"serveraddress": ["127.0.0.1:5000"]})
    fake.status = 401
    r = isula(fake, "login", "-u", "me", "-p", "bad", "127.0.0.1:5000")
    assert r.returncode == 1 and "Error response from daemon: boom from fake" in r.stderr
    assert "Login Succeeded" not in r.stdout


def test_save_and_history(fake, tmp_path):
    out = tmp_path / "a.tar"
    r = isula(fake, "save", "-o", str(out), "a:1", "b/c:2")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == b"ARCHIVE-BYTES" * 1000
    assert fake.calls[-1][1:3] == ("/v1.41/images/get", {"names": ["a:1", "b/c:2"]})
    fake.status = 404
    r = isula(fake, "save", "-o", str(tmp_path / "b.tar"), "nope")
    assert r.returncode == 1 and not (tmp_path / "b.tar").exists()
    fake.status = 200
    r = isula(fake, "history", "a:b")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["IMAGE", "CREATED", "CREATED", "BY", "SIZE", "COMMENT"]
    assert lines[1].startswith("cdcdcdcdcdcd ") and "   1.23MB   " in lines[1] and lines[1].rstrip().endswith("hi")
    assert "/bin/sh -c #(nop) " + "x" * 26 + "\u2026" in lines[1]
    assert lines[2].startswith("<missing> ") and "ADD file" in lines[2]
    assert fake.calls[-1][1] == "/v1.41/images/a:b/history"
    r = isula(fake, "history", "-q", "--no-trunc", "a:b")
    assert r.stdout.split() == ["sha256:" + "cd" * 32, "<missing>"]
