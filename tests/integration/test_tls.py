"""Remote access over TLS (guide D-36..D-39, D-72, D-93..D-97, G-02): the daemon's two server modes on a tcp
host (tlsverify: only clients with a certificate signed by the CA; tls: encrypted, client not verified), isula's
two client modes, the docker CLI and the Docker SDK against the same daemon, and the refusals (no certificate,
another CA, an expired certificate, TLS 1.0/1.1, weak ciphers). The unix socket stays plain. Listens only on
127.0.0.1 with a free port."""
import json
import os
import shutil
import subprocess
import tempfile

import docker
import pytest

from conftest import Daemon, bin_path, teardown_daemon
from registry import free_port
from tls_pki import TlsPki


@pytest.fixture(scope="module")
def pki():
    d = tempfile.mkdtemp(prefix="isd-tls-")
    yield TlsPki(d)
    shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(CLIENT_HOME, ignore_errors=True)


def tls_daemon(pki, mode, config=None):
    base = tempfile.mkdtemp(prefix="isd-it-tls-", dir="/tmp")
    port = free_port()
    args = ["-H", "tcp://127.0.0.1:%d" % port]
    if config is not None:
        with open(os.path.join(base, "daemon.json"), "w") as f:
            json.dump(config, f)
    else:
        args += ["--" + mode, "--tlscacert", pki.ca_crt, "--tlscert", pki.server_crt, "--tlskey", pki.server_key]
    d = Daemon(base, args)
    d.tcp = "tcp://127.0.0.1:%d" % port
    d.start()
    return d


@pytest.fixture(scope="module")
def verify_daemon(pki):
    d = tls_daemon(pki, "tlsverify")
    yield d
    teardown_daemon(d)


@pytest.fixture(scope="module")
def tls_only_daemon(pki):
    d = tls_daemon(pki, "tls")
    yield d
    teardown_daemon(d)


CLIENT_HOME = tempfile.mkdtemp(prefix="isd-tls-home-")  # isula keeps its TLS sessions under $HOME/.iSulad


def isula(d, *args, input=None, tls=(), home=None):
    env = dict(os.environ, HOME=home or CLIENT_HOME)
    env.pop("ISULAD_HOST", None)
    return subprocess.run([bin_path("isula")] + list(tls) + ["-H", d.tcp] + list(args), input=input,
                          capture_output=True, text=True, timeout=120, env=env)


def mode1(pki, who="alice"):
    c = pki.path(who)
    return ["--tlsverify", "--tlscacert", pki.ca_crt, "--tlscert", os.path.join(c, "cert.pem"), "--tlskey",
            os.path.join(c, "key.pem")]


def docker_cli(d, cert_dir, *args, input=None, verify=True):
    env = dict(os.environ, DOCKER_HOST=d.tcp, DOCKER_CERT_PATH=cert_dir, DOCKER_CONFIG=cert_dir)
    if verify:
        env["DOCKER_TLS_VERIFY"] = "1"
    return subprocess.run(["/usr/local/bin/docker"] + list(args), input=input, capture_output=True, text=True,
                          timeout=120, env=env)


# ---- server mode 1 (--tlsverify) ---------------------------------------------------------------------------

def test_isula_mode1_runs_and_streams(pki, verify_daemon):
    t = mode1(pki)
    r = isula(verify_daemon, "version", tls=t)
    assert r.returncode == 0 and "Server:" in r.stdout, r.stderr
    # the guide's example puts the flags after the command (D-97)
    r = subprocess.run([bin_path("isula"), "version", "-H=" + verify_daemon.tcp] + t, capture_output=True, text=True,
                       env=dict(os.environ, HOME=CLIENT_HOME))
    assert r.returncode == 0 and "Server:" in r.stdout, r.stderr
    # attach with stdin, its EOF carried over TLS to the container (cat ends), exit code and stderr kept
    r = isula(verify_daemon, "run", "-i", "--rm", "busybox", "cat", input="over tls\n", tls=t)
    assert (r.returncode, r.stdout) == (0, "over tls\n"), r.stderr
    r = isula(verify_daemon, "run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3", tls=t)
    assert (r.returncode, r.stdout, r.stderr.strip()) == (3, "out\n", "err")


def test_isula_exec_logs_events_over_tls(pki, verify_daemon):
    t = mode1(pki)
    cid = isula(verify_daemon, "run", "-d", "busybox", "sh", "-c", "echo logged; sleep 60", tls=t).stdout.strip()
    try:
        r = isula(verify_daemon, "exec", "-i", cid, "sh", "-c", "cat; echo done", input="piped\n", tls=t)
        assert (r.returncode, r.stdout) == (0, "piped\ndone\n"), r.stderr
        r = isula(verify_daemon, "logs", cid, tls=t)
        assert r.stdout == "logged\n", r.stderr
        r = isula(verify_daemon, "events", "--since", "0", "--until", "1", tls=t)  # bounded: returns
        assert r.returncode == 0, r.stderr
    finally:
        isula(verify_daemon, "rm", "-f", cid, tls=t)


# a certificate of another CA is not even offered (the daemon names its CA in the handshake): "required"
@pytest.mark.parametrize("who,why", [(None, "Certificate is required"), ("expired", "Certificate is bad"),
                                     ("stranger", "Certificate is required")])
def test_isula_refused_without_a_valid_client_certificate(pki, verify_daemon, who, why):
    t = ["--tlsverify", "--tlscacert", pki.ca_crt] if who is None else mode1(pki, who)
    before = isula(verify_daemon, "ps", "-a", "-q", tls=mode1(pki)).stdout
    r = isula(verify_daemon, "create", "busybox", "true", tls=t)
    assert r.returncode != 0 and why in r.stderr, (r.stdout, r.stderr)
    assert isula(verify_daemon, "ps", "-a", "-q", tls=mode1(pki)).stdout == before
    assert "TLS handshake with 127.0.0.1 refused" in verify_daemon.read_log()


def test_isula_refuses_a_daemon_of_another_ca(pki, verify_daemon):
    t = mode1(pki)
    t[t.index("--tlscacert") + 1] = pki.other_ca_crt
    r = isula(verify_daemon, "version", tls=t)
    assert r.returncode != 0 and "certificate verification" in r.stderr, r.stderr


def test_plain_clients_and_the_unix_socket(pki, verify_daemon):
    r = isula(verify_daemon, "version")  # no TLS against a TLS port
    assert r.returncode != 0 and "Server:" not in r.stdout
    r = subprocess.run([bin_path("isula"), "-H", verify_daemon.host, "version"], capture_output=True, text=True)
    assert r.returncode == 0 and "Server:" in r.stdout, r.stderr
    assert "without TLS" not in verify_daemon.read_log()


def port_of(d):
    return d.tcp.rsplit(":", 1)[1]


@pytest.mark.parametrize("flags", [["-tls1"], ["-tls1_1"], ["-tls1_2", "-cipher", "AES128-SHA"],
                                   ["-tls1_2", "-cipher", "DES-CBC3-SHA:RC4-SHA:NULL-SHA256"]])
def test_old_protocols_and_weak_ciphers_refused(pki, verify_daemon, flags):
    c = pki.path("alice")
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:" + port_of(verify_daemon), "-CAfile",
                        pki.ca_crt, "-cert", os.path.join(c, "cert.pem"), "-key", os.path.join(c, "key.pem"),
                        "-auth_level", "0"] + flags, input="", capture_output=True, text=True, timeout=30)
    assert "New, (NONE), Cipher is (NONE)" in r.stdout, r.stdout


def test_tls12_and_tls13_accepted_with_aead(pki, verify_daemon):
    c = pki.path("alice")
    for v in ("-tls1_2", "-tls1_3"):
        r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:" + port_of(verify_daemon), "-CAfile",
                            pki.ca_crt, "-cert", os.path.join(c, "cert.pem"), "-key", os.path.join(c, "key.pem"), v],
                           input="", capture_output=True, text=True, timeout=30)
        assert "Verify return code: 0 (ok)" in r.stdout, r.stdout + r.stderr
        cipher = [ln for ln in r.stdout.splitlines() if "Cipher is" in ln][0]
        assert "GCM" in cipher or "CHACHA20" in cipher, cipher


def test_docker_cli_mode1_and_refusals(pki, verify_daemon):
    r = docker_cli(verify_daemon, pki.path("alice"), "run", "-i", "--rm", "busybox", "cat", input="docker tls\n")
    assert (r.returncode, r.stdout) == (0, "docker tls\n"), r.stderr
    r = docker_cli(verify_daemon, pki.path("bob"), "version", "--format", "{{.Server.Version}}")
    assert r.returncode == 0 and r.stdout.strip(), r.stderr
    for who in ("expired", "stranger"):
        r = docker_cli(verify_daemon, pki.path(who), "ps")
        assert r.returncode != 0, (who, r.stdout)
    only_ca = tempfile.mkdtemp(dir=pki.dir)
    shutil.copy(pki.ca_crt, os.path.join(only_ca, "ca.pem"))
    r = docker_cli(verify_daemon, only_ca, "ps")
    assert r.returncode != 0


@pytest.fixture
def sdk_env(monkeypatch):
    """requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE (set on this machine) override the SDK's ca_cert."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


def test_sdk_tlsconfig(pki, verify_daemon, sdk_env):
    c = pki.path("alice")
    tls = docker.tls.TLSConfig(client_cert=(os.path.join(c, "cert.pem"), os.path.join(c, "key.pem")),
                               ca_cert=pki.ca_crt, verify=True)
    client = docker.DockerClient(base_url=verify_daemon.tcp, tls=tls)
    out = client.containers.run("busybox", ["echo", "sdk over tls"], remove=True)
    assert out == b"sdk over tls\n"
    # the client constructor asks the daemon for its version: refused in the handshake
    with pytest.raises(docker.errors.DockerException, match="SSL"):
        docker.DockerClient(base_url=verify_daemon.tcp, tls=docker.tls.TLSConfig(ca_cert=pki.ca_crt, verify=True))
    s = pki.path("stranger")
    with pytest.raises(docker.errors.DockerException, match="SSL"):
        docker.DockerClient(base_url=verify_daemon.tcp, tls=docker.tls.TLSConfig(
            client_cert=(os.path.join(s, "cert.pem"), os.path.join(s, "key.pem")), ca_cert=pki.ca_crt, verify=True))


# ---- server mode 2 (--tls): encrypted, the client is not verified --------------------------------------------

def test_tls_mode_accepts_anonymous_clients(pki, tls_only_daemon, sdk_env):
    r = isula(tls_only_daemon, "version", tls=["--tlsverify", "--tlscacert", pki.ca_crt])  # client mode 2
    assert r.returncode == 0 and "Server:" in r.stdout, r.stderr
    r = isula(tls_only_daemon, "run", "-i", "--rm", "busybox", "cat", input="one way\n",
              tls=["--tlsverify", "--tlscacert", pki.ca_crt])
    assert r.stdout == "one way\n", r.stderr
    r = isula(tls_only_daemon, "version", tls=mode1(pki))  # a certificate is fine too
    assert r.returncode == 0, r.stderr
    r = isula(tls_only_daemon, "version")
    assert r.returncode != 0
    sdk = docker.DockerClient(base_url=tls_only_daemon.tcp, tls=docker.tls.TLSConfig(ca_cert=pki.ca_crt,
                                                                                     verify=True))
    assert sdk.version()["Version"]


# ---- daemon.json: tls-config and the tls-verify spelling (G-02) ----------------------------------------------

def test_daemon_json_tls_config(pki):
    d = tls_daemon(pki, None, config={"tls-verify": True, "tls-config": {
        "CAFile": pki.ca_crt, "CertFile": pki.server_crt, "KeyFile": pki.server_key}})
    try:
        assert isula(d, "version", tls=mode1(pki)).returncode == 0
        r = isula(d, "version", tls=["--tlsverify", "--tlscacert", pki.ca_crt])
        assert r.returncode != 0 and "Certificate is required" in r.stderr
    finally:
        teardown_daemon(d)


def test_bad_key_refuses_to_start(pki):
    base = tempfile.mkdtemp(prefix="isd-it-tls-", dir="/tmp")
    d = Daemon(base, ["-H", "tcp://127.0.0.1:%d" % free_port(), "--tlsverify", "--tlscacert", pki.ca_crt,
                      "--tlscert", pki.server_crt, "--tlskey", os.path.join(base, "missing.pem")])
    try:
        with pytest.raises(RuntimeError, match="missing.pem"):
            d.start()
    finally:
        teardown_daemon(d)


def test_plain_tcp_warns(new_daemon):
    d = new_daemon(extra_args=["-H", "tcp://127.0.0.1:%d" % free_port()])
    d.start()
    assert "without TLS: anyone who can reach it controls isulad" in d.read_log()


# ---- D-72: the certificates default to $HOME/.iSulad/{ca,cert,key}.pem, for the daemon and for isula ----------

def test_default_cert_paths_follow_home(pki, monkeypatch, tmp_path):
    daemon_home, client_home = tmp_path / "daemon-home", tmp_path / "client-home"
    (daemon_home / ".iSulad").mkdir(parents=True)
    for src, dst in ((pki.ca_crt, "ca.pem"), (pki.server_crt, "cert.pem"), (pki.server_key, "key.pem")):
        shutil.copy(src, str(daemon_home / ".iSulad" / dst))
    shutil.copytree(pki.path("alice"), str(client_home / ".iSulad"))
    base = tempfile.mkdtemp(prefix="isd-it-tls-", dir="/tmp")
    port = free_port()
    d = Daemon(base, ["-H", "tcp://127.0.0.1:%d" % port, "--tlsverify"])
    d.tcp = "tcp://127.0.0.1:%d" % port
    monkeypatch.setenv("HOME", str(daemon_home))
    try:
        d.start()
        r = isula(d, "version", tls=["--tlsverify"], home=str(client_home))
        assert r.returncode == 0 and "Server:" in r.stdout, r.stderr
        r = isula(d, "info", tls=["--tls"], home=str(client_home))  # client mode 2 with the default files too
        assert r.returncode == 0, r.stderr
        # no .iSulad there: the error names the default path
        r = isula(d, "version", tls=["--tlsverify"], home=str(tmp_path))
        assert r.returncode != 0 and str(tmp_path / ".iSulad" / "ca.pem") in r.stderr, r.stderr
    finally:
        teardown_daemon(d)
    monkeypatch.setenv("HOME", str(tmp_path))
    d = Daemon(tempfile.mkdtemp(prefix="isd-it-tls-", dir="/tmp"), ["-H", "tcp://127.0.0.1:%d" % free_port(),
                                                                     "--tlsverify"])
    try:
        with pytest.raises(RuntimeError, match=str(tmp_path / ".iSulad")):
            d.start()
    finally:
        teardown_daemon(d)


# ---- isula resumes its TLS session (a ticket kept in $HOME/.iSulad/tls-sessions, mode 0600) -------------------

def test_isula_resumes_its_session_and_keeps_the_certificate_name(pki, new_daemon, tmp_path):
    import test_authz
    plugin = test_authz.Plugin("acc2-tls-resume-%d" % os.getpid())
    home = tmp_path / "home"
    home.mkdir()
    try:
        port = free_port()
        d = new_daemon(extra_args=["--authorization-plugin", plugin.name, "-H", "tcp://127.0.0.1:%d" % port,
                                   "--tlsverify", "--tlscacert", pki.ca_crt, "--tlscert", pki.server_crt,
                                   "--tlskey", pki.server_key])
        d.start()
        d.tcp = "tcp://127.0.0.1:%d" % port
        r = isula(d, "version", tls=mode1(pki), home=str(home))
        assert r.returncode == 0, r.stderr
        sessions = list((home / ".iSulad" / "tls-sessions").iterdir())
        assert len(sessions) == 1 and (sessions[0].stat().st_mode & 0o777) == 0o600
        assert "resumed" not in d.read_log()
        r = isula(d, "run", "--rm", "busybox", "echo", "resumed", tls=mode1(pki), home=str(home))
        assert r.stdout == "resumed\n", r.stderr
        assert "TLS session of 127.0.0.1 resumed" in d.read_log()
        # every tcp request, resumed sessions included, still carries the client certificate's name
        users = {(q["User"], q["UserAuthNMethod"]) for e, q in plugin.requests
                 if e == "/AuthZPlugin.AuthZReq" and q["UserAuthNMethod"] != "unix"}
        assert users == {("alice", "TLS")}, users
        # another certificate is another session: bob is bob, never alice's session
        r = isula(d, "version", tls=mode1(pki, "bob"), home=str(home))
        assert r.returncode == 0, r.stderr
        assert len(list((home / ".iSulad" / "tls-sessions").iterdir())) == 2
        assert ("bob", "TLS") in {(q["User"], q["UserAuthNMethod"]) for _, q in plugin.requests}
        # a restarted daemon has a new ticket key: the kept session is refused quietly, a full handshake follows
        d.stop()
        d.start()
        resumed = d.read_log().count("resumed")
        r = isula(d, "version", tls=mode1(pki), home=str(home))
        assert r.returncode == 0 and "Server:" in r.stdout, r.stderr
        assert d.read_log().count("resumed") == resumed
        r = isula(d, "version", tls=mode1(pki), home=str(home))  # with the new daemon's ticket
        assert r.returncode == 0, r.stderr
        assert d.read_log().count("resumed") == resumed + 1
        # a session file others could have written is not used
        before = d.read_log().count("resumed")
        for f in (home / ".iSulad" / "tls-sessions").iterdir():
            f.chmod(0o644)
        r = isula(d, "version", tls=mode1(pki), home=str(home))
        assert r.returncode == 0, r.stderr
        assert d.read_log().count("resumed") == before
    finally:
        plugin.close()


def test_ecdsa_certificates(new_daemon, tmp_path):
    """ECDSA P-256 certificates on both sides (cheaper signatures than RSA): the handshake picks them, x25519 for
    the key exchange."""
    (tmp_path / "pki").mkdir()
    pki = TlsPki(str(tmp_path / "pki"), ec=True)
    port = free_port()
    d = new_daemon(extra_args=["-H", "tcp://127.0.0.1:%d" % port, "--tlsverify", "--tlscacert", pki.ca_crt,
                               "--tlscert", pki.server_crt, "--tlskey", pki.server_key])
    d.start()
    d.tcp = "tcp://127.0.0.1:%d" % port
    r = isula(d, "run", "--rm", "busybox", "echo", "ecdsa", tls=mode1(pki), home=str(tmp_path))
    assert r.stdout == "ecdsa\n", r.stderr
    c = pki.path("alice")
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-CAfile", pki.ca_crt, "-cert",
                        os.path.join(c, "cert.pem"), "-key", os.path.join(c, "key.pem"), "-tls1_3"],
                       input="", capture_output=True, text=True, timeout=30)
    assert "Verify return code: 0 (ok)" in r.stdout, r.stdout + r.stderr
    assert "Peer signature type: ECDSA" in r.stdout and "X25519" in r.stdout, r.stdout
