"""Authorization plugins (--authorization-plugin, Docker's AuthZPlugin protocol): a plugin of the test's own,
on a unix socket in /run/docker/plugins/, allows per user and per path. A denied request never reaches the
engine (a denied create creates nothing) and the client shows the plugin's message; the plugin sees the unix
peer's user name (SO_PEERCRED), the method, URI and the base64 body."""
import base64
import json
import os
import socketserver
import http.server
import ssl
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
    any request of a user in self.denied_users, and (AuthZRes) any response whose body contains a string of
    self.denied_words. Answers /Plugin.Activate with `implements`. On a unix socket at `path` (default
    /run/docker/plugins/<name>.sock), or on 127.0.0.1 when tcp, over TLS when given an ssl.SSLContext (the
    common names of the client certificates it was shown go to self.peers)."""

    def __init__(self, name, path=None, tcp=False, implements=("authz",), log=None, tls=None):
        self.name = name
        self.path = path or os.path.join(PLUGINS, name + ".sock")
        self.requests = []
        self.log = log if log is not None else []  # (name, endpoint, request); a shared log shows a chain's order
        self.denied_users = set()
        self.denied_words = set()
        self.denied_answers = set()  # AuthZRes of URIs with one of these is denied (streamed answers too)
        self.implements = list(implements)
        self.peers = []
        plugin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                if tls is not None:
                    cert = self.connection.getpeercert() or {}
                    plugin.peers.append(dict(x[0] for x in cert.get("subject", ())).get("commonName"))
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                reply = plugin.decide(self.path, body)
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.docker.plugins.v1.2+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        if tcp:
            class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
                daemon_threads = True
            self.server = Server(("127.0.0.1", 0), Handler)
            self.addr = "tcp://127.0.0.1:%d" % self.server.server_address[1]
            if tls is not None:  # the handshake happens at accept
                self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            self.path = None
        else:
            class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
                daemon_threads = True

                def get_request(self):
                    conn, _ = self.socket.accept()
                    return conn, ("plugin", 0)

            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            if os.path.exists(self.path):
                os.unlink(self.path)
            self.server = Server(self.path, Handler)
            self.addr = "unix://" + self.path
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def decide(self, endpoint, req):
        if endpoint == "/Plugin.Activate":
            self.log.append((self.name, endpoint, req))
            return {"Implements": self.implements}
        self.requests.append((endpoint, req))
        self.log.append((self.name, endpoint, req))
        if req.get("User") in self.denied_users:
            return {"Allow": False, "Msg": "user %s may not do anything" % req["User"]}
        if endpoint == "/AuthZPlugin.AuthZRes":
            if any(u in req["RequestURI"] for u in self.denied_answers):
                return {"Allow": False, "Msg": "no answers to %s" % req["RequestURI"].split("?")[0]}
            text = base64.b64decode(req.get("ResponseBody") or "").decode(errors="replace")
            for w in self.denied_words:
                if w in text:
                    return {"Allow": False, "Msg": "the answer mentions `%s`" % w}
            return {"Allow": True}
        if req["RequestMethod"] == "POST" and req["RequestURI"].split("?")[0].endswith("/containers/create"):
            body = json.loads(base64.b64decode(req.get("RequestBody") or "") or b"{}")
            if body.get("Image") == "denied":
                return {"Allow": False, "Msg": "image `denied` is forbidden by policy"}
        return {"Allow": True}

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        if self.path is not None:
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
                               os.path.join(c, "key.pem")] + list(args), capture_output=True, text=True,
                              env=dict(os.environ, HOME=str(tmp_path)))  # its TLS sessions go there
    r = as_("alice", "run", "--rm", "busybox", "echo", "alice ok")
    assert r.stdout == "alice ok\n", r.stderr
    r = as_("bob", "create", "--name", "bobs", "busybox", "true")
    assert r.returncode != 0 and "authorization denied by plugin %s: user bob may not do anything" % plugin.name \
        in r.stderr, r.stderr
    assert "bobs" not in subprocess.run([bin_path("isula"), "-H", d.host, "ps", "-a", "--format", "{{.Names}}"],
                                        capture_output=True, text=True).stdout
    seen = {(q["User"], q["UserAuthNMethod"]) for _, q in plugin.requests}
    assert ("alice", "TLS") in seen and ("bob", "TLS") in seen and ("root", "unix") in seen


def test_response_phase_sees_the_answer_and_can_deny_it(plugin, new_daemon):
    d = new_daemon(extra_args=["--authorization-plugin", plugin.name])
    d.start()
    isula = [bin_path("isula"), "-H", d.host]
    r = subprocess.run(isula + ["create", "--name", "acc2-topsecret", "--label", "note=top-secret", "busybox",
                                "true"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    plugin.denied_words.add("top-secret")
    r = subprocess.run(isula + ["inspect", "acc2-topsecret"], capture_output=True, text=True)
    assert r.returncode != 0 and "top-secret" not in r.stdout
    assert "authorization denied by plugin %s: the answer mentions `top-secret`" % plugin.name in r.stderr, r.stderr
    env = dict(os.environ, DOCKER_HOST=d.host)
    r = subprocess.run(["/usr/local/bin/docker", "inspect", "acc2-topsecret"], capture_output=True, text=True, env=env)
    assert r.returncode != 0 and "the answer mentions `top-secret`" in r.stderr, r.stderr
    # the plugin saw the handler's status, headers and (base64) body of the answer it denied
    res = [q for e, q in plugin.requests if e == "/AuthZPlugin.AuthZRes" and "/containers/acc2-topsecret/json" in
           q["RequestURI"]]
    assert res and res[-1]["ResponseStatusCode"] == 200
    assert res[-1]["ResponseHeaders"].get("Content-Type") == "application/json"
    assert json.loads(base64.b64decode(res[-1]["ResponseBody"]))["Name"] == "/acc2-topsecret"
    # a streamed answer (logs) is judged on its status and headers; denied, the client gets the 403 instead
    plugin.denied_words.clear()
    plugin.denied_answers.add("/logs")
    r = subprocess.run(isula + ["logs", "acc2-topsecret"], capture_output=True, text=True)
    assert r.returncode != 0 and "authorization denied by plugin %s: no answers to" % plugin.name in r.stderr, \
        r.stderr
    logs = [q for e, q in plugin.requests if e == "/AuthZPlugin.AuthZRes" and "/logs" in q["RequestURI"]]
    assert logs and logs[-1]["ResponseStatusCode"] == 200 and logs[-1]["ResponseBody"] == ""
    plugin.denied_answers.clear()
    # a denied answer is only withheld: the container exists and an answer without the word passes
    r = subprocess.run(isula + ["rm", "acc2-topsecret"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_registry_credentials_never_reach_the_plugin(plugin, new_daemon):
    d = new_daemon(extra_args=["--authorization-plugin", plugin.name])
    d.start()
    r = subprocess.run([bin_path("isula"), "-H", d.host, "login", "-u", "acc2user", "-p", "acc2-s3cret-pw",
                        "127.0.0.1:1"], capture_output=True, text=True)
    assert r.returncode != 0  # nothing listens there
    auths = [q for e, q in plugin.requests if q["RequestURI"].split("?")[0].endswith("/auth")]
    assert auths, [q["RequestURI"] for _, q in plugin.requests]
    assert all(q["RequestBody"] == "" and q.get("ResponseBody", "") == "" for q in auths)
    assert "acc2-s3cret-pw" not in json.dumps(plugin.requests)


def test_plugins_found_in_plugin_dirs_activated_once_and_chained(new_daemon, tmp_path):
    """daemon.json lists two plugins: `authz-broker` (the guide's name) found through a .spec file holding a unix
    address, and a second one on tcp found through a .json file. Each is activated once; every request asks
    them in order, and the second one's denial names it."""
    socks, specs = tmp_path / "run", tmp_path / "etc"
    specs.mkdir()
    log = []
    broker = Plugin("authz-broker", path=str(socks / "elsewhere" / "broker.sock"), log=log)
    second = Plugin("acc2-second", tcp=True, log=log)
    try:
        (specs / "authz-broker.spec").write_text(broker.addr + "\n")
        (specs / "acc2-second.json").write_text(json.dumps({"Name": "acc2-second", "Addr": second.addr}))
        d = new_daemon(extra_args=["--plugin-dir", str(socks), "--plugin-dir", str(specs)],
                       config={"authorization-plugin": ["authz-broker", "acc2-second"]})
        d.start()
        isula = [bin_path("isula"), "-H", d.host]
        r = subprocess.run(isula + ["ps"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        activations = [n for n, e, _ in log if e == "/Plugin.Activate"]
        assert sorted(activations) == ["acc2-second", "authz-broker"]
        ps = [(n, e) for n, e, q in log if e != "/Plugin.Activate" and q["RequestURI"].split("?")[0].endswith(
            "/containers/json")]
        assert ps[-4:] == [("authz-broker", "/AuthZPlugin.AuthZReq"), ("acc2-second", "/AuthZPlugin.AuthZReq"),
                           ("authz-broker", "/AuthZPlugin.AuthZRes"), ("acc2-second", "/AuthZPlugin.AuthZRes")]
        second.denied_users.add("root")
        r = subprocess.run(isula + ["ps"], capture_output=True, text=True)
        assert r.returncode != 0
        assert "authorization denied by plugin acc2-second: user root may not do anything" in r.stderr, r.stderr
        assert [n for n, e, _ in log if e == "/Plugin.Activate"] == activations
    finally:
        broker.close()
        second.close()


def test_plugin_not_implementing_authz_is_refused(new_daemon, tmp_path):
    vol = Plugin("acc2-volumes", path=str(tmp_path / "acc2-volumes.sock"), implements=["VolumeDriver"])
    try:
        d = new_daemon(extra_args=["--plugin-dir", str(tmp_path), "--authorization-plugin", "acc2-volumes"])
        with pytest.raises(RuntimeError) as e:
            d.start()
        assert 'plugin acc2-volumes does not implement authz (it implements ["VolumeDriver"])' in str(e.value)
    finally:
        vol.close()


def test_plugin_started_after_the_daemon_is_activated_then(new_daemon, tmp_path):
    d = new_daemon(extra_args=["--plugin-dir", str(tmp_path), "--authorization-plugin", "acc2-late"])
    try:
        d.start(timeout=2)  # its readiness probe is denied: the plugin is not there yet
    except RuntimeError:
        pass
    isula = [bin_path("isula"), "-H", d.host]
    deadline = time.time() + 30
    while True:
        r = subprocess.run(isula + ["ps"], capture_output=True, text=True)
        if "authorization denied" in r.stderr or time.time() > deadline:
            break
        time.sleep(0.1)
    assert r.returncode != 0 and "plugin acc2-late not found (no acc2-late.sock, .spec or .json in %s)" % tmp_path \
        in r.stderr, r.stderr
    late = Plugin("acc2-late", path=str(tmp_path / "acc2-late" / "acc2-late.sock"))
    try:
        r = subprocess.run(isula + ["ps"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert any(e == "/AuthZPlugin.AuthZReq" for e, _ in late.requests)
    finally:
        late.close()


def tls_plugin(pki, name, client_ca=None):
    """A plugin serving HTTPS on 127.0.0.1 with the test PKI's server certificate; it asks for a client certificate
    signed by client_ca when given."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.server_crt, pki.server_key)
    if client_ca is not None:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(client_ca)
    return Plugin(name, tcp=True, tls=ctx)


def spec_json(d, name, addr, tls):
    with open(os.path.join(str(d), name + ".json"), "w") as f:
        json.dump({"Name": name, "Addr": addr, "TLSConfig": tls}, f)


def test_plugin_over_tcp_with_tls(new_daemon, tmp_path):
    """A plugin on tcp found through a .json spec with Docker's TLSConfig: the daemon checks the plugin's
    certificate against CAFile and shows its own (CertFile/KeyFile) to a plugin that asks for one."""
    pki = TlsPki(str(tmp_path))
    specs = tmp_path / "specs"
    specs.mkdir()
    c = pki.path("alice")
    p = tls_plugin(pki, "acc3-tls", client_ca=pki.ca_crt)
    try:
        spec_json(specs, "acc3-tls", p.addr, {"InsecureSkipVerify": False, "CAFile": pki.ca_crt,
                                              "CertFile": os.path.join(c, "cert.pem"),
                                              "KeyFile": os.path.join(c, "key.pem")})
        d = new_daemon(extra_args=["--plugin-dir", str(specs), "--authorization-plugin", "acc3-tls"])
        d.start()
        isula = [bin_path("isula"), "-H", d.host]
        r = subprocess.run(isula + ["ps"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        r = subprocess.run(isula + ["create", "--name", "acc3-denied", "denied", "true"], capture_output=True,
                           text=True)
        assert r.returncode != 0
        assert "authorization denied by plugin acc3-tls: image `denied` is forbidden by policy" in r.stderr, r.stderr
        assert any(e == "/AuthZPlugin.AuthZReq" and q["RequestURI"].split("?")[0].endswith("/containers/json")
                   for e, q in p.requests)
        assert p.peers and set(p.peers) == {"alice"}  # every call over TLS, with the daemon's certificate
    finally:
        p.close()


@pytest.mark.parametrize("case", ["wrong-ca", "no-client-cert", "insecure"])
def test_plugin_tls_certificate_checks(new_daemon, tmp_path, case):
    """The plugin's certificate from another CA is refused (the request denied, the reason shown); a plugin that
    asks for a client certificate refuses a daemon without one; InsecureSkipVerify reaches a plugin whose
    certificate is not checked."""
    pki = TlsPki(str(tmp_path))
    specs = tmp_path / "specs"
    specs.mkdir()
    p = tls_plugin(pki, "acc3-tls-" + case, client_ca=pki.ca_crt if case == "no-client-cert" else None)
    try:
        tls = {"wrong-ca": {"CAFile": pki.other_ca_crt}, "no-client-cert": {"CAFile": pki.ca_crt},
               "insecure": {"InsecureSkipVerify": True}}[case]
        spec_json(specs, p.name, p.addr, tls)
        d = new_daemon(extra_args=["--plugin-dir", str(specs), "--authorization-plugin", p.name])
        try:
            d.start(timeout=2 if case != "insecure" else 20)  # its readiness probe is denied when TLS fails
        except RuntimeError:
            assert case != "insecure"
        r = subprocess.run([bin_path("isula"), "-H", d.host, "ps"], capture_output=True, text=True)
        if case == "insecure":
            assert r.returncode == 0, r.stderr
            assert any(e == "/AuthZPlugin.AuthZReq" for e, _ in p.requests)
            return
        assert r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "authorization denied by plugin %s: plugin %s not reachable at %s: " % (p.name, p.name, p.addr) \
            in r.stderr, r.stderr
        if case == "wrong-ca":
            assert "TLS handshake failed: The certificate is NOT trusted. The certificate issuer is unknown.\n" \
                in r.stderr, r.stderr
        else:  # TLS 1.3: the plugin refuses after the handshake, with an alert
            assert "the plugin sent the TLS alert `Certificate is required`" in r.stderr, r.stderr
        assert not p.requests
    finally:
        p.close()


def test_plugin_tls_config_needs_a_tcp_address_and_a_key_pair(new_daemon, tmp_path):
    specs = tmp_path / "specs"
    specs.mkdir()
    spec_json(specs, "acc3-unix", "unix:///run/acc3-nowhere.sock", {"InsecureSkipVerify": True})
    spec_json(specs, "acc3-half", "tcp://127.0.0.1:1", {"CAFile": "/nonexistent", "CertFile": "/x.pem"})
    for name, why in (("acc3-unix", "plugin acc3-unix: a TLSConfig needs a tcp:// address, not "
                                    "`unix:///run/acc3-nowhere.sock`"),
                      ("acc3-half", "plugin acc3-half: TLSConfig needs both CertFile and KeyFile, or neither")):
        d = new_daemon(extra_args=["--plugin-dir", str(specs), "--authorization-plugin", name])
        try:
            d.start(timeout=2)  # its readiness probe is denied
        except RuntimeError:
            pass
        r = subprocess.run([bin_path("isula"), "-H", d.host, "ps"], capture_output=True, text=True)
        assert r.returncode != 0 and why in r.stderr, r.stderr
        d.stop()
