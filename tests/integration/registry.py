"""Registry test helpers: a local Debian `docker-registry` (distribution 2.8) on 127.0.0.1, a token server,
an image builder/pusher speaking the Distribution API, a fault-injecting proxy, and daemons that trust them.

NOTE for the daemon (pull engineer): tests never write into /etc. The daemon must read per-registry
certificates from the directory named by the environment variable ISULAD_CERTS_DIR when it is set (default
/etc/isulad/certs.d), i.e. $ISULAD_CERTS_DIR/<host:port>/{ca.crt,tls.cert,tls.key}, and must look the
directory up at each pull (tests add registries while the daemon runs). This module sets ISULAD_CERTS_DIR
for every daemon started in the test process (the session daemon included) to a private temp dir.

Use from a test file:
    from registry import registry, registry_factory, daemon_factory, push_image, Proxy, trust_registry, ...
(importing a fixture into the test module makes pytest see it). Everything listens on 127.0.0.1 only and
every process and temp dir is removed at teardown, also when the test fails.

Objects:
  Registry(kind="http"|"tls"|"basic"|"token", client_auth=False): .url, .host ("127.0.0.1:port"), .ca_crt,
      .client_crt/.client_key (two-way TLS), .user/.password, .log_text(), .blob_gets(name), .stop()
  TokenServer: bearer realm; .requests lists (account, scopes) of every token request
  Proxy(upstream_url): plain-HTTP forwarder; .requests [(method, path)], .delay {digest: s}, .fault = None | "hang" |
      ("corrupt", digest) | ("truncate", digest) | ("cut", digest) | ("hang_blob", digest) | ("status", code)
  push_image(url, name, tag=..., layers=[...], platforms=[...], fmt="docker"|"oci", auth=..., ca=...) -> PushResult
  trust_registry(reg, certs_dir=None, client=False): writes <certs_dir>/<host>/ca.crt (+ tls.cert, tls.key)
  daemon_factory fixture: make(insecure=[...], mirrors=[...], conf={...}, args=[...]) -> started conftest.Daemon
      (start_daemon/stop_daemon for module-scoped ones); store_files(d): files under its graph
  busybox_layer(compression): a runnable rootfs layer (static busybox)
"""
import atexit
import base64
import contextlib
import gzip
import hashlib
import http.client
import http.server
import io
import json
import os
import shutil
import socket
import ssl
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.parse

import pytest
import requests

from conftest import Daemon, teardown_daemon

REGISTRY_BIN = "/usr/bin/docker-registry"
USER = "tester"
PASSWORD = "s3cret-pw"

# ---------------------------------------------------------------------------------------------------------
# certificates directory shared by every daemon of this test process

CERTS_DIR = os.environ.get("ISULAD_CERTS_DIR")
if not CERTS_DIR:
    CERTS_DIR = tempfile.mkdtemp(prefix="isd-certs-", dir="/tmp")
    os.environ["ISULAD_CERTS_DIR"] = CERTS_DIR
    atexit.register(shutil.rmtree, CERTS_DIR, True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def sha256_bytes(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def run(*cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, **kw)


# ---------------------------------------------------------------------------------------------------------
# certificates made with openssl


class Pki:
    """A CA, a server cert (for 127.0.0.1/localhost unless san says otherwise), a client cert, all made with
    the openssl CLI."""

    def __init__(self, d, san="IP:127.0.0.1,DNS:localhost"):
        self.dir = d
        self.ca_key, self.ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.ca_key, "-out",
            self.ca_crt, "-days", "2", "-subj", "/CN=isulad test CA")
        self.server_crt, self.server_key = self.issue("server", "/CN=localhost", "subjectAltName=%s\n"
                                                      "extendedKeyUsage=serverAuth\n" % san)
        self.client_crt, self.client_key = self.issue("client", "/CN=isulad test client",
                                                      "extendedKeyUsage=clientAuth\n")

    def issue(self, name, subj, ext):
        key, csr = os.path.join(self.dir, name + ".key"), os.path.join(self.dir, name + ".csr")
        crt, extf = os.path.join(self.dir, name + ".crt"), os.path.join(self.dir, name + ".ext")
        with open(extf, "w") as f:
            f.write("basicConstraints=CA:FALSE\n" + ext)
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", subj)
        run("openssl", "x509", "-req", "-in", csr, "-CA", self.ca_crt, "-CAkey", self.ca_key, "-CAcreateserial",
            "-out", crt, "-days", "2", "-extfile", extf)
        return crt, key


# ---------------------------------------------------------------------------------------------------------
# bearer token server


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """A Docker token server (GET /token?service=&scope=...) on 127.0.0.1 checking basic credentials.

    Tokens are RS256 JWTs with an "x5c" header holding the signing certificate, which distribution 2.8
    verifies against its rootcertbundle (no libtrust key id needed)."""

    def __init__(self, d, service, issuer, users, allow_anonymous=False):
        self.dir, self.service, self.issuer, self.users = d, service, issuer, dict(users)
        self.allow_anonymous = allow_anonymous
        self.key, self.crt = os.path.join(d, "token.key"), os.path.join(d, "token.crt")
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key, "-out", self.crt,
            "-days", "2", "-subj", "/CN=isulad test token issuer")
        der = run("openssl", "x509", "-in", self.crt, "-outform", "DER").stdout
        self.x5c = base64.b64encode(der).decode()
        self.requests = []
        self.port = free_port()
        self.realm = "http://127.0.0.1:%d/token" % self.port
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                server.handle(self)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def sign(self, claims):
        header = {"alg": "RS256", "typ": "JWT", "x5c": [self.x5c]}
        signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        sig = run("openssl", "dgst", "-sha256", "-sign", self.key, input=signing_input.encode()).stdout
        return signing_input + "." + b64url(sig)

    def account(self, h):
        auth = h.headers.get("Authorization", "")
        if not auth.lower().startswith("basic "):
            return None, False
        try:
            user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return None, True
        return (user, True) if self.users.get(user) == pw and pw else (None, True)

    def handle(self, h):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(h.path).query)
        user, tried = self.account(h)
        scopes = q.get("scope", [])
        self.requests.append((user, scopes))
        if user is None and (tried or not self.allow_anonymous):
            body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]}).encode()
            h.send_response(401)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        access = []
        for scope in scopes:
            for one in scope.split(" "):
                parts = one.split(":")
                if len(parts) < 3:
                    continue
                actions = parts[-1].split(",")
                if user is None:
                    actions = [a for a in actions if a == "pull"]
                access.append({"type": parts[0], "name": ":".join(parts[1:-1]), "actions": actions})
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": user or "", "aud": q.get("service", [self.service])[0],
                  "exp": now + 600, "nbf": now - 60, "iat": now, "jti": os.urandom(8).hex(), "access": access}
        token = self.sign(claims)
        body = json.dumps({"token": token, "access_token": token, "expires_in": 600,
                           "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------------------------------------------------
# the registry


class Registry:
    def __init__(self, kind="http", client_auth=False, allow_anonymous=False, san=None):
        assert kind in ("http", "tls", "basic", "token")
        self.kind, self.client_auth = kind, client_auth
        self.dir = tempfile.mkdtemp(prefix="isd-reg-", dir="/tmp")
        self.port = free_port()
        self.host = "127.0.0.1:%d" % self.port
        self.tls = kind == "tls" or client_auth
        self.url = ("https://" if self.tls else "http://") + self.host
        self.user, self.password = USER, PASSWORD
        self.san = san
        self.pki = (Pki(self.dir, san) if san else Pki(self.dir)) if self.tls else None
        self.ca_crt = self.pki.ca_crt if self.pki else None
        self.client_crt = self.pki.client_crt if self.pki else None
        self.client_key = self.pki.client_key if self.pki else None
        self.token = None
        self.proc = None
        self.log = os.path.join(self.dir, "registry.log")
        try:
            if kind == "token":
                self.token = TokenServer(self.dir, "isd-test-registry", "isd-test-issuer",
                                         {USER: PASSWORD}, allow_anonymous)
            self.config = os.path.join(self.dir, "config.yml")
            with open(self.config, "w") as f:
                f.write(self.config_yaml())
            self.start()
        except BaseException:
            self.stop()
            raise

    def config_yaml(self):
        y = ["version: 0.1", "log:", "  level: info", "storage:", "  filesystem:",
             "    rootdirectory: %s" % os.path.join(self.dir, "data"), "  delete:", "    enabled: true",
             "  maintenance:", "    uploadpurging:", "      enabled: false",
             "http:", "  addr: %s" % self.host, "  headers:", "    X-Content-Type-Options: [nosniff]"]
        if self.tls:
            y += ["  tls:", "    certificate: %s" % self.pki.server_crt, "    key: %s" % self.pki.server_key]
            if self.client_auth:
                y += ["    clientcas:", "      - %s" % self.pki.ca_crt]
        if self.kind == "basic":
            htp = os.path.join(self.dir, "htpasswd")
            out = run("htpasswd", "-Bbn", self.user, self.password).stdout
            with open(htp, "wb") as f:
                f.write(out)
            y += ["auth:", "  htpasswd:", "    realm: isd-test-realm", "    path: %s" % htp]
        elif self.kind == "token":
            y += ["auth:", "  token:", "    realm: %s" % self.token.realm, "    service: %s" % self.token.service,
                  "    issuer: %s" % self.token.issuer, "    rootcertbundle: %s" % self.token.crt]
        return "\n".join(y) + "\n"

    def start(self, timeout=15):
        if self.proc is not None and self.proc.poll() is None:
            return  # already running (the constructor starts it): a second process would leak
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen([REGISTRY_BIN, "serve", self.config], stdout=logf, stderr=logf,
                                     start_new_session=True)
        logf.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("docker-registry exited %s:\n%s" % (self.proc.returncode, self.log_text()))
            try:
                requests.get(self.url + "/v2/", timeout=2, **self.client_kw())
                return
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError("docker-registry did not come up:\n" + self.log_text())

    def client_kw(self):
        """Keyword arguments for `requests` to reach this registry (TLS trust, client cert)."""
        kw = {}
        if self.tls:
            kw["verify"] = self.ca_crt if not self.san else False  # a certificate for another name
            if self.client_auth:
                kw["cert"] = (self.client_crt, self.client_key)
        return kw

    def auth(self):
        return (self.user, self.password) if self.kind in ("basic", "token") else None

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def requests_log(self):
        """(method, path) of every request in the registry's access log."""
        out = []
        for line in self.log_text().splitlines():
            i = line.find('"')
            if i < 0 or '" ' not in line[i + 1:]:
                continue
            parts = line[i + 1:].split(" ")
            if len(parts) >= 2 and parts[0] in ("GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"):
                out.append((parts[0], parts[1]))
        return out

    def blob_gets(self, name=None):
        """Digests of every blob GET in the access log (of repository `name` when given)."""
        res = []
        for method, path in self.requests_log():
            if method != "GET" or "/blobs/sha256:" not in path:
                continue
            if name is not None and not path.startswith("/v2/%s/blobs/" % name):
                continue
            res.append(path.rsplit("/", 1)[1].split("?")[0])
        return res

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self.token is not None:
            self.token.stop()
            self.token = None
        shutil.rmtree(os.path.join(CERTS_DIR, self.host), ignore_errors=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def trust_registry(reg, certs_dir=None, client=False, host=None):
    """Installs reg's CA (and with client=True its client cert/key) as <certs_dir>/<host:port>/."""
    d = os.path.join(certs_dir or CERTS_DIR, host or reg.host)
    os.makedirs(d, exist_ok=True)
    shutil.copy(reg.ca_crt, os.path.join(d, "ca.crt"))
    if client:
        shutil.copy(reg.client_crt, os.path.join(d, "tls.cert"))
        shutil.copy(reg.client_key, os.path.join(d, "tls.key"))
    return d


@pytest.fixture
def registry_factory():
    """make(kind="http"|"tls"|"basic"|"token", client_auth=False) -> a started Registry, stopped at teardown."""
    made = []

    def make(kind="http", **kw):
        r = Registry(kind, **kw)
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()


@pytest.fixture
def registry(registry_factory):
    """A plain-HTTP registry without auth."""
    return registry_factory("http")


# ---------------------------------------------------------------------------------------------------------
# daemons with registry options


def start_daemon(insecure=(), mirrors=(), conf=None, args=()):
    """A started Daemon (conftest) with its own dirs and a daemon.json with these registry options;
    release it with stop_daemon()."""
    base = tempfile.mkdtemp(prefix="isd-rd-", dir="/tmp")
    c = dict(conf or {})
    if insecure:
        c["insecure-registries"] = list(insecure)
    if mirrors:
        c["registry-mirrors"] = list(mirrors)
    with open(os.path.join(base, "daemon.json"), "w") as f:
        json.dump(c, f)
    d = Daemon(base, extra_args=args)
    try:
        d.start()
    except BaseException:
        stop_daemon(d)
        raise
    return d


def stop_daemon(d):
    """Removes the daemon's containers (starting it again if a test stopped it with containers still running),
    stops it, kills stray shims, unmounts what is left and deletes its dir (conftest.teardown_daemon)."""
    teardown_daemon(d)


@pytest.fixture
def daemon_factory():
    """make(insecure=[...], mirrors=[...], conf={...}, args=[...]) -> a started Daemon (conftest) with its own
    dirs and daemon.json; stopped, its containers removed and its dir deleted at teardown."""
    made = []

    def make(*a, **kw):
        d = start_daemon(*a, **kw)
        made.append(d)
        return d

    yield make
    for d in made:
        stop_daemon(d)


def store_files(d):
    """Every file (not directory) under the daemon's graph, relative: to see that a failed pull left nothing."""
    out = set()
    for root, dirs, files in os.walk(d.graph):
        for f in files:
            out.add(os.path.relpath(os.path.join(root, f), d.graph))
    return out


def docker_cli(daemon, *args, timeout=120, input=None):
    """Runs the docker CLI against `daemon`."""
    env = dict(os.environ, DOCKER_CONFIG=os.path.join(daemon.base, "docker-config"))
    env.pop("DOCKER_HOST", None)
    return subprocess.run(["/usr/local/bin/docker", "-H", daemon.host] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=timeout, env=env, input=input)


# ---------------------------------------------------------------------------------------------------------
# building and pushing images

MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
MT_OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"

HOST_PLATFORM = "linux/amd64"


class Layer:
    """A layer to build: files {path: bytes|str} (a path ending in "/" is a directory), or random_size bytes
    of incompressible data in /random.bin; compression "gzip", "zstd" or "none"."""

    def __init__(self, files=None, compression="gzip", random_size=0, seed=None):
        self.files = dict(files or {})
        self.compression = compression
        self.random_size = random_size
        self.seed = seed
        self.built = None  # (path, digest, size, diff_id, media suffix) once built

    def build(self, workdir=None):
        """Builds the blob once, into a dir of its own (kept for reuse by later pushes; cleanup() or the end
        of the test process removes it)."""
        if self.built:
            return self.built
        self.dir = tempfile.mkdtemp(prefix="isd-layer-", dir="/tmp")
        _LAYER_DIRS.append(self.dir)
        fd, tar_path = tempfile.mkstemp(dir=self.dir, suffix=".tar")
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
            for path, content in sorted(self.files.items()):
                ti = tarfile.TarInfo(path.strip("/"))
                ti.mtime = 1600000000
                if path.endswith("/"):
                    ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                    tf.addfile(ti)
                    continue
                if isinstance(content, tuple) and content[0] == "symlink":
                    ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, content[1], 0o777
                    tf.addfile(ti)
                    continue
                data = content.encode() if isinstance(content, str) else content
                ti.size, ti.mode = len(data), 0o755 if path.startswith(("bin/", "/bin/")) else 0o644
                tf.addfile(ti, io.BytesIO(data))
            if self.random_size:
                ti = tarfile.TarInfo("random.bin")
                ti.size, ti.mode, ti.mtime = self.random_size, 0o644, 1600000000
                tf.addfile(ti, RandomReader(self.random_size))
        diff_id = sha256_file(tar_path)
        if self.compression == "none":
            blob = tar_path
        elif self.compression == "gzip":
            blob = tar_path + ".gz"
            with open(tar_path, "rb") as src, open(blob, "wb") as dst:
                with gzip.GzipFile(fileobj=dst, mode="wb", mtime=0, compresslevel=1) as gz:
                    shutil.copyfileobj(src, gz, 1 << 20)
            os.unlink(tar_path)
        elif self.compression == "zstd":
            blob = tar_path + ".zst"
            run("zstd", "-q", "-3", "--rm", "-o", blob, tar_path)
        else:
            raise ValueError(self.compression)
        self.built = (blob, sha256_file(blob), os.path.getsize(blob), diff_id)
        return self.built

    def cleanup(self):
        if self.built:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.built = None


_LAYER_DIRS = []


def _remove_layer_dirs():
    for d in _LAYER_DIRS:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_remove_layer_dirs)


def busybox_files():
    """Files of a runnable rootfs: the static /bin/busybox, sh/cat/echo/ls/sleep links, /etc, /tmp."""
    with open("/bin/busybox", "rb") as f:
        files = {"bin/": None, "etc/": None, "tmp/": None, "bin/busybox": f.read()}
    for applet in ("sh", "cat", "echo", "ls", "sleep", "true"):
        files["bin/" + applet] = ("symlink", "busybox")
    return files


def busybox_layer(compression="gzip"):
    return Layer(busybox_files(), compression=compression)


class RandomReader:
    """A file-like object giving n random (incompressible) bytes."""

    def __init__(self, n):
        self.left = n

    def read(self, n=-1):
        if n < 0 or n > self.left:
            n = self.left
        self.left -= n
        return os.urandom(n)


class Session:
    """Distribution API client for pushing: basic auth, or the bearer challenge flow, TLS options."""

    def __init__(self, url, auth=None, verify=True, cert=None):
        self.url = url.rstrip("/")
        self.s = requests.Session()
        self.tls_kw = {"verify": verify, "cert": cert}
        self.auth = auth
        self.tokens = {}

    def req(self, method, path, scope=None, **kw):
        url = path if path.startswith("http") else self.url + path
        headers = dict(kw.pop("headers", {}))
        data = kw.pop("data", None)
        for attempt in range(2):
            h = dict(headers)
            if scope in self.tokens:
                h["Authorization"] = "Bearer " + self.tokens[scope]
            body = data
            if hasattr(data, "seek"):
                data.seek(0)
            r = self.s.request(method, url, headers=h, data=body,
                               auth=self.auth if scope not in self.tokens else None, timeout=300,
                               **self.tls_kw, **kw)
            if r.status_code != 401 or attempt == 1:
                return r
            chal = r.headers.get("WWW-Authenticate", "")
            if not chal.lower().startswith("bearer "):
                return r
            params = dict(p.split("=", 1) for p in chal[7:].replace('"', "").split(","))
            q = {"service": params.get("service", "")}
            q["scope"] = scope or params.get("scope", "")
            t = self.s.get(params["realm"], params=q, auth=self.auth, timeout=30)
            t.raise_for_status()
            self.tokens[scope] = t.json()["token"]
        return r

    def put_blob(self, name, digest, size, path=None, data=None):
        scope = "repository:%s:pull,push" % name
        r = self.req("HEAD", "/v2/%s/blobs/%s" % (name, digest), scope)
        if r.status_code == 200:
            return False
        r = self.req("POST", "/v2/%s/blobs/uploads/" % name, scope)
        assert r.status_code == 202, (r.status_code, r.text)
        loc = urllib.parse.urljoin(self.url + "/", r.headers["Location"])
        loc += ("&" if "?" in loc else "?") + "digest=" + digest
        hdr = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        if path is not None:
            with open(path, "rb") as f:
                r = self.req("PUT", loc, scope, headers=hdr, data=f)
        else:
            r = self.req("PUT", loc, scope, headers=hdr, data=data)
        assert r.status_code == 201, (r.status_code, r.text)
        return True

    def put_manifest(self, name, ref, body, media_type):
        r = self.req("PUT", "/v2/%s/manifests/%s" % (name, ref), "repository:%s:pull,push" % name,
                     headers={"Content-Type": media_type}, data=body)
        assert r.status_code == 201, (r.status_code, r.text)
        return r.headers.get("Docker-Content-Digest")


class PushResult:
    def __init__(self):
        self.digest = None  # digest of what the tag points to (manifest, or list/index)
        self.media_type = None
        self.manifests = {}  # platform -> manifest digest
        self.configs = {}  # platform -> config digest (= image id)
        self.layers = {}  # platform -> [(digest, size, diff_id)]

    @property
    def image_id(self):
        return self.configs.get(HOST_PLATFORM) or next(iter(self.configs.values()))

    def __repr__(self):
        return "PushResult(%s %s %s)" % (self.digest, self.media_type, self.configs)


def layer_media(fmt, compression):
    if fmt == "docker" and compression == "gzip":
        return MT_DOCKER_LAYER_GZIP
    return {"gzip": MT_OCI_LAYER_GZIP, "zstd": MT_OCI_LAYER_ZSTD, "none": MT_OCI_LAYER}[compression]


def platform_parts(p):
    parts = p.split("/")
    return parts[0], parts[1], parts[2] if len(parts) > 2 else None


def make_config(platform, diff_ids, cmd, env, labels, fmt):
    os_, arch, variant = platform_parts(platform)
    cfg = {"created": "2024-01-01T00:00:00Z", "architecture": arch, "os": os_,
           "config": {"Env": env, "Cmd": cmd, "WorkingDir": "/", "Labels": labels or None},
           "rootfs": {"type": "layers", "diff_ids": diff_ids},
           "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) layer %d" % i}
                       for i in range(len(diff_ids))]}
    if variant:
        cfg["variant"] = variant
    if fmt == "docker":
        cfg["container_config"] = {"Cmd": cmd}
    return json.dumps(cfg, sort_keys=True).encode()


def default_layers():
    return [Layer({"etc/": None, "etc/hello.txt": "hello from the registry\n"})]


def push_image(url=None, name=None, tag="latest", layers=None, platforms=(HOST_PLATFORM,), fmt="docker", index=None,
               cmd=("/bin/sh",), env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",),
               labels=None, auth=None, ca=None, cert=None, registry=None, workdir=None, by_digest=False):
    """Builds an image in Python and pushes it over the Distribution API; returns a PushResult.

    layers: list of Layer (shared by every platform) or a function platform -> list of Layer. Every
    platform also gets a layer with /platform.txt holding its platform string, so a test can see which one
    was pulled. fmt "docker" (schema 2 / manifest list) or "oci" (OCI manifest / index). With more than one
    platform (or index=True) the tag points to a list/index. registry= a Registry fills url/auth/ca/cert;
    ca=False pushes without verifying the server's certificate. by_digest=True pushes without a tag (the
    manifest is reachable only by digest)."""
    if registry is not None:
        url, auth = registry.url, auth or registry.auth()
        ca, cert = registry.ca_crt if ca is None else ca, cert or ((registry.client_crt, registry.client_key)
                                                                 if registry.client_auth else None)
    sess = Session(url, auth=auth, verify=True if ca is None else ca, cert=cert)
    own_dir = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="isd-push-", dir="/tmp")
    res = PushResult()
    entries, temp_layers = [], []
    try:
        for plat in platforms:
            ls = layers(plat) if callable(layers) else (layers if layers is not None else default_layers())
            plat_layer = Layer({"platform.txt": plat + "\n"}, compression=ls[-1].compression if ls else "gzip")
            temp_layers.append(plat_layer)
            descs, diff_ids, built = [], [], []
            for lay in list(ls) + [plat_layer]:
                path, digest, size, diff_id = lay.build(workdir)
                sess.put_blob(name, digest, size, path=path)
                descs.append({"mediaType": layer_media(fmt, lay.compression), "size": size, "digest": digest})
                diff_ids.append(diff_id)
                built.append((digest, size, diff_id))
            cfg = make_config(plat, diff_ids, list(cmd), list(env), labels, fmt)
            cfg_digest = sha256_bytes(cfg)
            sess.put_blob(name, cfg_digest, len(cfg), data=cfg)
            mt = MT_DOCKER_MANIFEST if fmt == "docker" else MT_OCI_MANIFEST
            man = json.dumps({"schemaVersion": 2, "mediaType": mt,
                              "config": {"mediaType": MT_DOCKER_CONFIG if fmt == "docker" else MT_OCI_CONFIG,
                                         "size": len(cfg), "digest": cfg_digest},
                              "layers": descs}, indent=3).encode()
            man_digest = sha256_bytes(man)
            multi = index if index is not None else len(platforms) > 1
            got = sess.put_manifest(name, man_digest if (multi or by_digest) else tag, man, mt)
            assert got in (None, man_digest), (got, man_digest)
            res.manifests[plat], res.configs[plat], res.layers[plat] = man_digest, cfg_digest, built
            os_, arch, variant = platform_parts(plat)
            p = {"architecture": arch, "os": os_}
            if variant:
                p["variant"] = variant
            entries.append({"mediaType": mt, "size": len(man), "digest": man_digest, "platform": p})
            res.digest, res.media_type = man_digest, mt
        if index if index is not None else len(platforms) > 1:
            mt = MT_DOCKER_LIST if fmt == "docker" else MT_OCI_INDEX
            lst = json.dumps({"schemaVersion": 2, "mediaType": mt, "manifests": entries}, indent=3).encode()
            res.digest, res.media_type = sha256_bytes(lst), mt
            sess.put_manifest(name, res.digest if by_digest else tag, lst, mt)
        return res
    finally:
        for lay in temp_layers:
            lay.cleanup()
        if own_dir:
            shutil.rmtree(workdir, ignore_errors=True)


def skopeo_copy(src, dest, *extra):
    """skopeo copy with TLS verification off for the local registry (a second way to push)."""
    return subprocess.run(["skopeo", "copy", "--dest-tls-verify=false", "--src-tls-verify=false"]
                          + list(extra) + [src, dest], capture_output=True, text=True, timeout=300)


def registry_manifest(reg, name, ref, accept=(MT_DOCKER_MANIFEST, MT_DOCKER_LIST, MT_OCI_MANIFEST, MT_OCI_INDEX)):
    """GETs a manifest straight from the registry (with the test's own auth/TLS): (status, headers, body)."""
    sess = Session(reg.url, auth=reg.auth(), verify=reg.ca_crt or True,
                   cert=(reg.client_crt, reg.client_key) if reg.client_auth else None)
    r = sess.req("GET", "/v2/%s/manifests/%s" % (name, ref), "repository:%s:pull" % name,
                 headers={"Accept": ", ".join(accept)})
    return r.status_code, r.headers, r.content


# ---------------------------------------------------------------------------------------------------------
# a fault-injecting plain-HTTP proxy in front of a registry


class Proxy:
    """Forwards http://127.0.0.1:<port> to `upstream` (a plain-HTTP registry URL), recording requests.

    fault (settable at any time):
      None                   forward as is
      "hang"                 accept connections and never answer
      ("status", code)       answer every request with `code`
      ("body", suffix, bytes, content_type)  GET/HEAD of a path ending with suffix: 200 with that body
      ("corrupt", digest)    blob GETs of digest: same length, one byte flipped
      ("truncate", digest)   blob GETs of digest (ranged ones too): Content-Length says full size, half is
                             sent, then close
      ("cut", digest)        like truncate (an interrupted download), also for ranged GETs (206)
      ("cut_once", digest)   only the first GET of digest is cut: a resumed download then completes
      ("cut_once_norange", digest)  the same, and later GETs of digest lose their Range header (a server
                             that answers 200 with the whole blob)
      ("hang_blob", digest)  blob GETs of digest: headers and half the body, then hang
      ("redirect", digest)   blob GETs of digest: 307 to the upstream registry itself (blob storage elsewhere)
    .ranges lists (path, Range header) of every GET that asked for a range
    """

    def __init__(self, upstream):
        self.upstream = urllib.parse.urlparse(upstream)
        self.fault = None
        self.delay = {}  # digest -> seconds to wait before answering a GET of that blob
        self.requests = []
        self.ranges = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.port = free_port()
        self.host = "127.0.0.1:%d" % self.port
        self.url = "http://" + self.host
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                proxy.handle(self)

            do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = do_GET

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def blob_gets(self, digest=None):
        with self.lock:
            return [p for m, p in self.requests if m == "GET" and "/blobs/" in p and (digest is None or
                                                                                    p.endswith(digest))]

    def hang(self):
        self.stopping.wait(600)

    def handle(self, h):
        with self.lock:
            self.requests.append((h.command, h.path))
            if h.headers.get("Range"):
                self.ranges.append((h.path, h.headers.get("Range")))
        fault = self.fault
        once = False
        if isinstance(fault, tuple) and fault[0] == "norange" and h.path.endswith("/blobs/" + fault[1]):
            del h.headers["Range"]
            fault = None
        elif isinstance(fault, tuple) and fault[0] in ("cut_once", "cut_once_norange") and h.command == "GET" and \
                h.path.endswith("/blobs/" + fault[1]):
            after = ("norange", fault[1]) if fault[0] == "cut_once_norange" else None
            self.fault = fault = ("cut", fault[1])
            once = True
        if fault == "hang":
            return self.hang()
        if isinstance(fault, tuple) and fault[0] == "body" and h.command in ("GET", "HEAD") and \
                h.path.endswith(fault[1]):
            h.send_response(200)
            h.send_header("Content-Type", fault[3])
            h.send_header("Content-Length", str(len(fault[2])))
            h.end_headers()
            if h.command == "GET":
                h.wfile.write(fault[2])
            return
        if isinstance(fault, tuple) and fault[0] == "redirect" and h.command == "GET" and \
                h.path.endswith("/blobs/" + fault[1]):
            h.send_response(307)
            h.send_header("Location", "%s://%s%s" % (self.upstream.scheme, self.upstream.netloc, h.path))
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        if isinstance(fault, tuple) and fault[0] == "status":
            h.send_response(fault[1])
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        for digest, secs in list(self.delay.items()):
            if h.command == "GET" and h.path.endswith("/blobs/" + digest):
                self.stopping.wait(secs)
        n = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(n) if n else None
        hdrs = {k: v for k, v in h.headers.items() if k.lower() not in ("host", "connection")}
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        try:
            conn.request(h.command, h.path, body=body, headers=hdrs)
            r = conn.getresponse()
            target = isinstance(fault, tuple) and h.command == "GET" and h.path.endswith("/blobs/" + fault[1])
            h.send_response(r.status)
            for k, v in r.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                    h.send_header(k, v)
            if h.command == "HEAD" or r.status in (204, 304):
                if r.getheader("Content-Length"):
                    h.send_header("Content-Length", r.getheader("Content-Length"))
                h.end_headers()
                return
            data = r.read()
            h.send_header("Content-Length", str(len(data)))
            if target:
                h.send_header("Connection", "close")
            h.end_headers()
            if not target or r.status not in ((200, 206) if fault[0] in ("cut", "truncate") else (200,)):
                h.wfile.write(data)
                return
            self.send_faulty(h, fault[0], data)
        finally:
            conn.close()
            if once:
                self.fault = after

    def send_faulty(self, h, kind, data):
        if kind == "corrupt":
            b = bytearray(data)
            b[len(b) // 2] ^= 0xFF
            h.wfile.write(bytes(b))
            return
        h.wfile.write(data[:len(data) // 2])
        h.wfile.flush()
        if kind == "hang_blob":
            self.hang()
        h.close_connection = True
        with contextlib.suppress(OSError):
            h.connection.shutdown(socket.SHUT_RDWR)

    def stop(self):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def proxy_factory():
    """make(upstream_url) -> a started Proxy, stopped at teardown."""
    made = []

    def make(upstream):
        p = Proxy(upstream)
        made.append(p)
        return p

    yield make
    for p in made:
        p.stop()
