"""Registry credentials never reach the daemon's log, even at DEBUG (the test daemons run with -l DEBUG): the
password, the basic-auth header value, the X-Registry-Auth blob the docker SDK sends, and bearer tokens (JWTs)
issued by the token server, after a login and a pull with each client."""
import base64
import json
import os

import docker
import pytest

from conftest import Isula
from registry import busybox_layer, daemon_factory, push_image, registry_factory  # noqa: F401


@pytest.fixture(scope="module")
def base_layer():
    return busybox_layer()


def secrets_of(reg):
    basic = base64.b64encode(("%s:%s" % (reg.user, reg.password)).encode()).decode()
    sdk = base64.urlsafe_b64encode(json.dumps({"username": reg.user, "password": reg.password,
                                               "serveraddress": reg.host}).encode()).decode()
    return [reg.password, basic, sdk]


@pytest.mark.parametrize("kind", ["basic", "token"])
def test_no_credentials_in_debug_log(registry_factory, daemon_factory, base_layer, kind):  # noqa: F811
    reg = registry_factory(kind)
    push_image(registry=reg, name="sec/img", layers=[base_layer])
    d = daemon_factory(insecure=[reg.host])
    i = Isula(d)
    r = i("login", "-u", reg.user, "--password-stdin", reg.host, input=reg.password + "\n")
    assert r.returncode == 0, r.stderr
    r = i("pull", "%s/sec/img" % reg.host, timeout=120)
    assert r.returncode == 0, r.stderr
    r = i("login", "-u", reg.user, "-p", "wrong-" + reg.password, reg.host)
    assert r.returncode != 0
    env_backup = {k: os.environ.pop(k) for k in ("DOCKER_HOST",) if k in os.environ}
    try:
        client = docker.DockerClient(base_url=d.host)
        client.images.pull("%s/sec/img" % reg.host, tag="latest",
                           auth_config={"username": reg.user, "password": reg.password})
    finally:
        os.environ.update(env_backup)
    log = d.read_log()
    assert "DEBUG" in log  # the log really is at DEBUG
    for s in secrets_of(reg) + ["wrong-" + reg.password]:
        assert s not in log, "a credential is in the daemon log"
    assert "eyJ" not in log  # no JWT (bearer token) either
    assert "Bearer " not in log and "Basic " not in log
