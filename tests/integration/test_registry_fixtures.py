"""Self-tests of the registry helpers (registry.py): every registry variant answers curl as the Distribution
API says, push_image uploads what a client can fetch back, and the proxy injects its faults. No daemon."""
import hashlib
import json
import subprocess

import pytest

from registry import (MT_DOCKER_LIST, MT_OCI_INDEX, MT_OCI_MANIFEST, Layer, Proxy, proxy_factory,  # noqa: F401
                      push_image, registry, registry_factory, registry_manifest)


def curl(*args):
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20"] + list(args),
                       capture_output=True, text=True)
    return r.stdout.strip()


def test_plain_http(registry):
    assert curl(registry.url + "/v2/") == "200"
    res = push_image(registry.url, "plain/img", layers=[Layer({"a.txt": "A"})])
    assert curl(registry.url + "/v2/plain/img/manifests/latest") == "200"
    assert curl(registry.url + "/v2/plain/img/blobs/" + res.image_id) == "200"
    assert registry.blob_gets("plain/img") == [res.image_id]


def test_tls(registry_factory):
    reg = registry_factory("tls")
    assert curl("--cacert", reg.ca_crt, reg.url + "/v2/") == "200"
    assert curl("--cacert", reg.ca_crt, "https://localhost:%d/v2/" % reg.port) == "200"
    assert curl(reg.url + "/v2/") == "000"  # untrusted without the CA
    push_image(registry=reg, name="tls/img")
    assert curl("--cacert", reg.ca_crt, reg.url + "/v2/tls/img/manifests/latest") == "200"


def test_two_way_tls(registry_factory):
    reg = registry_factory("tls", client_auth=True)
    assert curl("--cacert", reg.ca_crt, reg.url + "/v2/") == "000"  # no client cert: handshake refused
    assert curl("--cacert", reg.ca_crt, "--cert", reg.client_crt, "--key", reg.client_key, reg.url + "/v2/") == "200"
    push_image(registry=reg, name="mtls/img")


def test_basic_auth(registry_factory):
    reg = registry_factory("basic")
    assert curl(reg.url + "/v2/") == "401"
    assert curl("-u", "%s:wrong" % reg.user, reg.url + "/v2/") == "401"
    assert curl("-u", "%s:%s" % (reg.user, reg.password), reg.url + "/v2/") == "200"
    push_image(registry=reg, name="basic/img")
    assert curl("-u", "%s:%s" % (reg.user, reg.password), reg.url + "/v2/basic/img/manifests/latest") == "200"


def test_token_auth(registry_factory):
    reg = registry_factory("token")
    r = subprocess.run(["curl", "-sS", "-i", reg.url + "/v2/"], capture_output=True, text=True)
    assert " 401 " in r.stdout and 'Bearer realm="%s"' % reg.token.realm in r.stdout
    assert curl("-u", "%s:wrong" % reg.user, reg.token.realm + "?service=x") == "401"
    tok = subprocess.run(["curl", "-sS", "-u", "%s:%s" % (reg.user, reg.password), reg.token.realm
                          + "?service=isd-test-registry&scope=repository:tok/img:pull,push"],
                         capture_output=True, text=True).stdout
    token = json.loads(tok)["token"]
    assert curl("-H", "Authorization: Bearer " + token, reg.url + "/v2/") == "200"
    push_image(registry=reg, name="tok/img")
    assert curl("-H", "Authorization: Bearer " + token, reg.url + "/v2/tok/img/manifests/latest") == "200"
    assert curl("-H", "Authorization: Bearer " + token, reg.url + "/v2/other/manifests/latest") == "401"


def test_multi_arch_and_zstd(registry):
    res = push_image(registry.url, "multi/img", fmt="oci",
                     layers=[Layer({"z.txt": "zstd layer\n"}, compression="zstd")],
                     platforms=["linux/amd64", "linux/arm64", "linux/arm/v7"])
    assert res.media_type == MT_OCI_INDEX and len(res.manifests) == 3
    status, headers, body = registry_manifest(registry, "multi/img", "latest")
    assert status == 200 and headers["Content-Type"] == MT_OCI_INDEX
    assert "sha256:" + hashlib.sha256(body).hexdigest() == res.digest
    idx = json.loads(body)
    assert [m["platform"].get("variant") for m in idx["manifests"]] == [None, None, "v7"]
    status, headers, body = registry_manifest(registry, "multi/img", res.manifests["linux/arm64"])
    assert status == 200 and headers["Content-Type"] == MT_OCI_MANIFEST
    docker = push_image(registry.url, "multi/docker", platforms=["linux/amd64", "linux/arm64"])
    assert docker.media_type == MT_DOCKER_LIST


def test_proxy_faults(registry, proxy_factory):
    res = push_image(registry.url, "px/img", layers=[Layer({"f": "x" * 5000}, compression="none")])
    blob = res.layers["linux/amd64"][0][0]
    px = proxy_factory(registry.url)
    assert curl(px.url + "/v2/px/img/blobs/" + blob) == "200"
    px.fault = ("corrupt", blob)
    out = subprocess.run(["curl", "-sS", px.url + "/v2/px/img/blobs/" + blob], capture_output=True).stdout
    assert len(out) == res.layers["linux/amd64"][0][1] and "sha256:" + hashlib.sha256(out).hexdigest() != blob
    px.fault = ("truncate", blob)
    assert subprocess.run(["curl", "-sS", "-o", "/dev/null", px.url + "/v2/px/img/blobs/" + blob]).returncode != 0
    px.fault = "hang"
    assert curl("--max-time", "1", px.url + "/v2/") == "000"
    assert len(px.blob_gets(blob)) == 3


def test_skopeo_copy_from_oci_layout(registry, tmp_path):
    from registry import skopeo_copy
    res = push_image(registry.url, "sk/src", layers=[Layer({"s": "skopeo\n"})])
    layout = tmp_path / "layout"
    r = skopeo_copy("docker://%s/sk/src:latest" % registry.host, "oci:%s:v1" % layout)
    assert r.returncode == 0, r.stderr
    r = skopeo_copy("oci:%s:v1" % layout, "docker://%s/sk/dst:v1" % registry.host)
    assert r.returncode == 0, r.stderr
    status, _, body = registry_manifest(registry, "sk/dst", "v1")
    # skopeo rewrites the config for the OCI layout; the layers are the same blobs
    assert status == 200
    assert [l["digest"] for l in json.loads(body)["layers"]] == [l[0] for l in res.layers["linux/amd64"]]
