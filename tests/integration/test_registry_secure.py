"""Registries that need trust or credentials: TLS with the CA in $ISULAD_CERTS_DIR/<host:port>/, unverified TLS
for insecure-registries, two-way TLS (tls.cert/tls.key), basic auth and bearer-token auth with isula
login/logout and with the docker CLI."""
import os
import subprocess

import pytest

from conftest import Isula
from registry import (busybox_layer, daemon_factory, docker_cli, push_image, registry_factory,  # noqa: F401
                      trust_registry)


@pytest.fixture(scope="module")
def base_layer():
    return busybox_layer()


def pull(isula, reg, name):
    return isula("pull", "%s/%s" % (reg.host, name), timeout=120)


def test_tls_with_ca_in_certs_dir(registry_factory, isula, base_layer):
    reg = registry_factory("tls")
    res = push_image(registry=reg, name="tls/img", layers=[base_layer])
    r = pull(isula, reg, "tls/img")
    assert r.returncode == 1 and r.stderr.startswith("Error response from daemon:"), r.stdout  # untrusted
    assert isula("inspect", reg.host + "/tls/img").returncode != 0
    trust_registry(reg)
    r = pull(isula, reg, "tls/img")
    assert r.returncode == 0, r.stderr
    assert isula.inspect(reg.host + "/tls/img")["Id"] == res.image_id
    isula.ok("rmi", reg.host + "/tls/img")


def test_tls_insecure_registry_skips_verification(registry_factory, daemon_factory, base_layer):
    reg = registry_factory("tls")
    res = push_image(registry=reg, name="tls/insecure", layers=[base_layer])
    i = Isula(daemon_factory(insecure=[reg.host]))
    r = pull(i, reg, "tls/insecure")
    assert r.returncode == 0, r.stderr
    assert i.inspect(reg.host + "/tls/insecure")["Id"] == res.image_id


def test_two_way_tls(registry_factory, isula, base_layer):
    reg = registry_factory("tls", client_auth=True)
    res = push_image(registry=reg, name="mtls/img", layers=[base_layer])
    trust_registry(reg)  # the CA only: the registry refuses us without a client certificate
    r = pull(isula, reg, "mtls/img")
    assert r.returncode == 1 and r.stderr.startswith("Error response from daemon:"), r.stdout
    trust_registry(reg, client=True)
    r = pull(isula, reg, "mtls/img")
    assert r.returncode == 0, r.stderr
    assert isula.inspect(reg.host + "/mtls/img")["Id"] == res.image_id
    isula.ok("rmi", reg.host + "/mtls/img")


def test_encrypted_client_key_needs_use_decrypted_key_false(registry_factory, isula, daemon_factory, base_layer):
    """use-decrypted-key (D-35, IMG-21): true (default) refuses an encrypted tls.key with a clear message instead
    of letting TLS prompt for a passphrase; false decrypts it with the passphrase in tls.key.passphrase."""
    reg = registry_factory("tls", client_auth=True)
    push_image(registry=reg, name="enc/img", layers=[base_layer])
    d = trust_registry(reg, client=True)
    key = os.path.join(d, "tls.key")
    subprocess.run(["openssl", "pkey", "-in", reg.client_key, "-aes256", "-passout", "pass:s3cret word", "-out", key],
                   check=True, capture_output=True)
    r = pull(isula, reg, "enc/img")
    assert r.returncode == 1
    assert "is encrypted: start isulad with --use-decrypted-key=false" in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1

    i = Isula(daemon_factory(args=["--use-decrypted-key=false"]))
    r = pull(i, reg, "enc/img")
    assert r.returncode == 1 and "tls.key.passphrase` is missing" in r.stderr, r.stderr
    pw = os.path.join(d, "tls.key.passphrase")
    with open(pw, "w") as f:
        f.write("s3cret word\n")
    os.chmod(pw, 0o644)
    r = pull(i, reg, "enc/img")
    assert r.returncode == 1 and "not readable by group or others" in r.stderr, r.stderr
    os.chmod(pw, 0o600)
    r = pull(i, reg, "enc/img")
    assert r.returncode == 0, r.stderr
    assert i.inspect(reg.host + "/enc/img")["RepoTags"] == [reg.host + "/enc/img:latest"]
    i.ok("rmi", reg.host + "/enc/img")
    with open(pw, "w") as f:
        f.write("wrong\n")
    r = pull(i, reg, "enc/img")
    assert r.returncode == 1 and r.stderr.startswith("Error response from daemon:"), r.stderr
    assert i("inspect", reg.host + "/enc/img").returncode != 0


def test_insecure_skip_verify_enforce_skips_host_names_only(registry_factory, isula, daemon_factory, base_layer):
    """insecure-skip-verify-enforce (D-34): a certificate for another host name is accepted, one from an
    unknown CA still is not."""
    reg = registry_factory("tls", san="DNS:registry.invalid")
    res = push_image(registry=reg, name="skipv/img", layers=[base_layer], ca=False)
    trust_registry(reg)
    r = pull(isula, reg, "skipv/img")
    assert r.returncode == 1 and r.stderr.startswith("Error response from daemon:"), r.stdout
    i = Isula(daemon_factory(conf={"insecure-skip-verify-enforce": True}))
    r = pull(i, reg, "skipv/img")
    assert r.returncode == 0, r.stderr
    assert i.inspect(reg.host + "/skipv/img")["Id"] == res.image_id
    other = registry_factory("tls", san="DNS:registry.invalid")  # its CA is not trusted
    push_image(registry=other, name="skipv/img", layers=[base_layer], ca=False)
    r = pull(i, other, "skipv/img")
    assert r.returncode == 1 and r.stderr.startswith("Error response from daemon:"), r.stdout


@pytest.mark.parametrize("kind", ["basic", "token"])
def test_login_pull_logout(registry_factory, daemon_factory, base_layer, kind):
    reg = registry_factory(kind)
    res = push_image(registry=reg, name="auth/img", layers=[base_layer])
    push_image(registry=reg, name="auth/other", layers=[base_layer])
    i = Isula(daemon_factory(insecure=[reg.host]))
    r = pull(i, reg, "auth/img")
    assert r.returncode == 1 and r.stderr.startswith("Error response from daemon:"), r.stdout
    assert "unauthorized" in r.stderr.lower() or "authentication" in r.stderr.lower(), r.stderr
    r = i("login", "-u", reg.user, "-p", "wrong", reg.host)
    assert r.returncode == 1 and r.stderr.splitlines()[-1].startswith("Error response from daemon:")
    assert "Login Succeeded" not in r.stdout
    r = i("login", "-u", reg.user, "--password-stdin", reg.host, input=reg.password + "\n")
    assert r.returncode == 0 and r.stdout.strip() == "Login Succeeded", r.stderr
    assert reg.password not in i.daemon.read_log()  # credentials are never logged
    r = pull(i, reg, "auth/img")
    assert r.returncode == 0, r.stderr
    assert i.inspect(reg.host + "/auth/img")["Id"] == res.image_id
    if kind == "token":
        assert any(user == reg.user for user, _ in reg.token.requests)
    r = i("logout", reg.host)
    assert r.returncode == 0 and r.stdout.strip() == "Logout Succeeded", r.stderr
    r = pull(i, reg, "auth/other")
    assert r.returncode == 1, r.stdout


@pytest.mark.parametrize("kind", ["basic", "token"])
def test_docker_cli_login_and_pull(registry_factory, daemon_factory, base_layer, kind):
    reg = registry_factory(kind)
    res = push_image(registry=reg, name="dauth/img", layers=[base_layer])
    d = daemon_factory(insecure=[reg.host])
    r = docker_cli(d, "login", "-u", reg.user, "-p", "wrong", reg.host)
    assert r.returncode != 0
    r = docker_cli(d, "login", "-u", reg.user, "--password-stdin", reg.host, input=reg.password)
    assert r.returncode == 0 and "Login Succeeded" in r.stdout, r.stderr
    r = docker_cli(d, "pull", "%s/dauth/img" % reg.host)
    assert r.returncode == 0, r.stderr
    out = docker_cli(d, "image", "inspect", "-f", "{{.Id}}", "%s/dauth/img" % reg.host).stdout.strip()
    assert out == res.image_id
