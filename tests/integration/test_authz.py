"""Authorization plugins (--authorization-plugin, Docker's AuthZPlugin protocol): a plugin of the test's own,
on a unix socket in /run/docker/plugins/, allows per user and per path. A denied request never reaches the
engine (a denied create creates nothing) and the client shows the plugin's message; the plugin sees the unix
peer's user name (SO_PEERCRED), the method, URI and the base64 body."""
import base64
import json
import os
import socketserver
import http.server
import subprocess
import threading
import time

import pytest

from conftest import bin_path
from registry import free_port
from tls_pki import TlsPki

PLUGINS = "/run/docker/plugins"


class Plugin:
    """Allows everything except: POST .../containers/create for user root when the body's Image is "denied",
    and any request of a user in self.denied_users."""

    def __init__(self, name):
        self.name = name
        self.path = os.path.join(PLUGINS, name + ".sock")
        self.requests = []
        self.denied_users = set()
        plugin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                reply = plugin.decide(self.path, body)
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.docker.plugins.v1.2+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

            def get_request(self):
                conn, _ = self.socket.accept()
                return conn, ("plugin", 0)

        os.makedirs(PLUGINS, exist_ok=True)
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.server = Server(self.path, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def decide(self, endpoint, req):
        self.requests.append((endpoint, req))
        if req.get("User") in self.denied_users:
            return {"Allow": False, "Msg": "user %s may not do anything" % req["User"]}
        if req["RequestMethod"] == "POST" and req["RequestURI"].split("?")[0].endswith("/containers/create"):
            body = json.loads(base64.b64decode(req.get("RequestBody") or "") or b"{}")
            if body.get("Image") == "denied":
                return {"Allow": False, "Msg": "image `denied` is forbidden by policy"}
        return {"Allow": True}

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        os.unlink(self.path)


@pytest.fixture
def plugin():
    p = Plugin("isd-test-authz-%d" % os.getpid())
    yield p
    p.close()


def test_denied_request_never_reaches_the_engine(plugin, new_daemon):  # the plugin outlives the daemon
    d = new_daemon(extra_args=["--authorization-plugin", plugin.name])
    d.start()
    isula = [bin_path("isula"), "-H", d.host]
    r = subprocess.run(isula + ["create", "--name", "nope", "denied"], capture_output=True, text=True)
    assert r.returncode != 0
    assert "authorization denied by plugin %s: image `denied` is forbidden by policy" % plugin.name in r.stderr
    r = subprocess.run(isula + ["ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True)
    assert r.returncode == 0 and "nope" not in r.stdout
    # allowed requests go through, and the plugin saw who asked and what
    r = subprocess.run(isula + ["run", "--rm", "busybox", "echo", "allowed"], capture_output=True, text=True)
    assert r.stdout == "allowed\n", r.stderr
    creates = [q for e, q in plugin.requests if e == "/AuthZPlugin.AuthZReq" and "/containers/create" in
               q["RequestURI"]]
    assert creates and all(q["User"] == "root" and q["UserAuthNMethod"] == "unix" for q in creates)
    assert json.loads(base64.b64decode(creates[-1]["RequestBody"]))["Image"] == "busybox"
    assert any(k.lower() == "content-type" for k in creates[-1]["RequestHeaders"])


def test_denied_user_and_docker_cli_message(plugin, new_daemon):
    d = new_daemon(extra_args=["--authorization-plugin", plugin.name])
    d.start()
    plugin.denied_users.add("root")
    env = dict(os.environ, DOCKER_HOST=d.host)
    r = subprocess.run(["/usr/local/bin/docker", "ps"], capture_output=True, text=True, env=env)
    assert r.returncode != 0 and "user root may not do anything" in r.stderr, r.stderr
    r = subprocess.run([bin_path("isula"), "-H", d.host, "ps"], capture_output=True, text=True)
    assert r.returncode != 0 and "user root may not do anything" in r.stderr


def test_unreachable_plugin_denies(new_daemon):
    d = new_daemon(extra_args=["--authorization-plugin", "isd-test-no-such-plugin"])
    try:
        d.start(timeout=1)  # its readiness probe (`isula version`) is denied too
    except RuntimeError:
        pass
    deadline = time.time() + 30
    while True:
        r = subprocess.run([bin_path("isula"), "-H", d.host, "ps"], capture_output=True, text=True)
        if "authorization denied" in r.stderr or time.time() > deadline:
            break
        time.sleep(0.1)
    assert r.returncode != 0
    assert "authorization denied by plugin isd-test-no-such-plugin: plugin isd-test-no-such-plugin not found" in \
        r.stderr, r.stderr


def test_tls_user_is_the_certificate_name(plugin, new_daemon, tmp_path):
    pki = TlsPki(str(tmp_path))
    port = free_port()
    d = new_daemon(extra_args=["--authorization-plugin", plugin.name, "-H", "tcp://127.0.0.1:%d" % port,
                               "--tlsverify", "--tlscacert", pki.ca_crt, "--tlscert", pki.server_crt, "--tlskey",
                               pki.server_key])
    d.start()
    plugin.denied_users.add("bob")

    def as_(who, *args):
        c = pki.path(who)
        return subprocess.run([bin_path("isula"), "-H", "tcp://127.0.0.1:%d" % port, "--tlsverify", "--tlscacert",
                               pki.ca_crt, "--tlscert", os.path.join(c, "cert.pem"), "--tlskey",
                               os.path.join(c, "key.pem")] + list(args), capture_output=True, text=True)
    r = as_("alice", "run", "--rm", "busybox", "echo", "alice ok")
    assert r.stdout == "alice ok\n", r.stderr
    r = as_("bob", "create", "--name", "bobs", "busybox", "true")
    assert r.returncode != 0 and "authorization denied by plugin %s: user bob may not do anything" % plugin.name \
        in r.stderr, r.stderr
    assert "bobs" not in subprocess.run([bin_path("isula"), "-H", d.host, "ps", "-a", "--format", "{{.Names}}"],
                                        capture_output=True, text=True).stdout
    seen = {(q["User"], q["UserAuthNMethod"]) for _, q in plugin.requests}
    assert ("alice", "TLS") in seen and ("bob", "TLS") in seen and ("root", "unix") in seen
