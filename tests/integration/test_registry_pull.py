"""Pull from a local docker-registry (plain HTTP, listed in insecure-registries of a daemon of this module)
with isula and with the docker CLI: tags, digests, multi-arch selection, gzip/zstd layers, layer reuse,
insecure-registries, mirrors, save/load round trips and history of pulled images."""
import json
import os
import subprocess

import pytest

from conftest import Isula
from registry import (HOST_PLATFORM, Layer, Registry, busybox_layer, daemon_factory, docker_cli,  # noqa: F401
                      free_port, proxy_factory, push_image, registry_factory, start_daemon, stop_daemon,
                      store_files)

ALL_PLATFORMS = ["linux/amd64", "linux/arm64", "linux/arm/v7"]


@pytest.fixture(scope="module")
def reg():
    r = Registry("http")
    yield r
    r.stop()


@pytest.fixture(scope="module")
def d(reg):
    dm = start_daemon(insecure=[reg.host])
    yield dm
    stop_daemon(dm)


@pytest.fixture(scope="module")
def isula(d):
    return Isula(d)


@pytest.fixture(scope="module")
def base_layer():
    return busybox_layer()


def ref(reg, name, tag="latest"):
    return "%s/%s:%s" % (reg.host, name, tag)


def run_cat(isula, image, path):
    return isula.ok("run", "--rm", image, "cat", path, timeout=60)


def test_pull_tag_output_and_run(reg, isula, base_layer):
    res = push_image(reg.url, "it/hello", tag="v1", layers=[base_layer, Layer({"etc/hello.txt": "hi there\n"})])
    r = isula("pull", ref(reg, "it/hello", "v1"), timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == 'Image "%s" pulling' % ref(reg, "it/hello", "v1")
    assert lines[-1] == 'Image "%s/it/hello@%s" pulled' % (reg.host, res.digest)
    img = isula.inspect(ref(reg, "it/hello", "v1"))
    assert img["Id"] == res.image_id
    assert "%s/it/hello@%s" % (reg.host, res.digest) in img["RepoDigests"]
    assert run_cat(isula, ref(reg, "it/hello", "v1"), "/etc/hello.txt") == "hi there"
    assert res.digest in isula.ok("images", "--digests")
    hist = isula.ok("history", ref(reg, "it/hello", "v1")).splitlines()
    assert len(hist) == 1 + 3 and hist[1].startswith(res.image_id[7:19])


def test_pull_again_is_up_to_date(reg, isula, base_layer):
    res = push_image(reg.url, "it/again", layers=[base_layer])
    isula.ok("pull", ref(reg, "it/again"), timeout=120)
    before = len(reg.blob_gets("it/again"))
    isula.ok("pull", ref(reg, "it/again"), timeout=120)
    again = reg.blob_gets("it/again")[before:]
    for digest, _, _ in res.layers[HOST_PLATFORM]:
        assert digest not in again  # no layer downloaded the second time
    assert isula.inspect(ref(reg, "it/again"))["Id"] == res.image_id


def test_pull_by_digest(reg, isula, base_layer):
    res = push_image(reg.url, "it/bydigest", layers=[base_layer, Layer({"d.txt": "digest\n"})], by_digest=True)
    name = "%s/it/bydigest@%s" % (reg.host, res.digest)
    r = isula("pull", name, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == 'Image "%s" pulled' % name
    assert isula.inspect(name)["Id"] == res.image_id
    assert run_cat(isula, name, "/d.txt") == "digest"
    bad = "%s/it/bydigest@sha256:%s" % (reg.host, "0" * 64)
    r = isula("pull", bad, timeout=120)
    assert r.returncode == 1 and r.stderr.startswith("Error response from daemon:")


def test_one_image_keeps_a_digest_per_repository(reg, isula, base_layer):
    """The same image pulled from two repositories keeps both digest refs (as docker's RepoDigests); images
    --digests shows each row's own; removing a digest ref keeps the image and its tags; removing the last tag
    removes the image with its digest refs."""
    extra = Layer({"two": "repos\n"})
    a = push_image(reg.url, "it/repo-a", layers=[base_layer, extra])
    b = push_image(reg.url, "it/repo-b", layers=[base_layer, extra])
    assert a.image_id == b.image_id
    isula.ok("pull", ref(reg, "it/repo-a"), timeout=120)
    isula.ok("pull", ref(reg, "it/repo-b"), timeout=120)
    da, db = "%s/it/repo-a@%s" % (reg.host, a.digest), "%s/it/repo-b@%s" % (reg.host, b.digest)
    img = isula.inspect(ref(reg, "it/repo-a"))
    assert sorted(img["RepoDigests"]) == sorted([da, db])
    rows = {line.split()[0]: line.split()[1] for line in isula.ok("images", "--digests").splitlines()[1:]}
    assert rows[ref(reg, "it/repo-a")] == a.digest and rows[ref(reg, "it/repo-b")] == b.digest
    assert isula.inspect(db)["Id"] == a.image_id
    r = isula("rmi", db)
    assert r.returncode == 0 and r.stdout.strip() == 'Image "%s" removed' % db, r.stdout
    img = isula.inspect(ref(reg, "it/repo-b"))
    assert img["RepoDigests"] == [da] and sorted(img["RepoTags"]) == sorted([ref(reg, "it/repo-a"),
                                                                          ref(reg, "it/repo-b")])
    assert isula("inspect", db).returncode != 0
    isula.ok("rmi", ref(reg, "it/repo-b"))
    assert isula.inspect(da)["Id"] == a.image_id
    isula.ok("rmi", ref(reg, "it/repo-a"))
    assert isula("inspect", da).returncode != 0 and isula("inspect", a.image_id).returncode != 0


def test_pull_unknown_tag_and_repo(reg, isula):
    for name in (ref(reg, "it/hello", "nope"), ref(reg, "it/no-such-repo")):
        r = isula("pull", name, timeout=120)
        assert r.returncode == 1
        assert r.stderr.startswith("Error response from daemon:") and "not found" in r.stderr.lower(), r.stderr
        assert isula("inspect", name).returncode != 0


@pytest.mark.parametrize("fmt", ["docker", "oci"])
def test_multi_arch_selects_host_platform(reg, isula, base_layer, fmt):
    name = "it/multi-" + fmt
    res = push_image(reg.url, name, layers=[base_layer], platforms=ALL_PLATFORMS, fmt=fmt)
    r = isula("pull", ref(reg, name), timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == 'Image "%s/%s@%s" pulled' % (reg.host, name, res.digest)
    assert isula.inspect(ref(reg, name))["Id"] == res.configs[HOST_PLATFORM]
    assert run_cat(isula, ref(reg, name), "/platform.txt") == HOST_PLATFORM
    fetched = set(reg.blob_gets(name))
    for plat in ALL_PLATFORMS[1:]:
        assert res.configs[plat] not in fetched  # only the host's image was downloaded


def test_index_without_host_platform(reg, isula, base_layer):
    push_image(reg.url, "it/armonly", layers=[base_layer], platforms=["linux/arm64", "linux/arm/v7"], fmt="oci")
    r = isula("pull", ref(reg, "it/armonly"), timeout=120)
    assert r.returncode == 1 and "amd64" in r.stderr, r.stderr
    assert isula("inspect", ref(reg, "it/armonly")).returncode != 0


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_layer_compressions(reg, isula, compression):
    layers = [busybox_layer(compression), Layer({"etc/c.txt": compression + "\n"}, compression=compression)]
    res = push_image(reg.url, "it/comp-" + compression, layers=layers, fmt="oci")
    isula.ok("pull", ref(reg, "it/comp-" + compression), timeout=120)
    assert isula.inspect(ref(reg, "it/comp-" + compression))["Id"] == res.image_id
    assert run_cat(isula, ref(reg, "it/comp-" + compression), "/etc/c.txt") == compression


def test_present_layers_not_downloaded_again(reg, isula, base_layer):
    shared = Layer({"shared.bin": os.urandom(200000)})
    a = push_image(reg.url, "it/share-a", layers=[base_layer, shared, Layer({"a": "a"})])
    b = push_image(reg.url, "it/share-b", layers=[base_layer, shared, Layer({"b": "b"})])
    isula.ok("pull", ref(reg, "it/share-a"), timeout=120)
    isula.ok("pull", ref(reg, "it/share-b"), timeout=120)
    got_b = reg.blob_gets("it/share-b")
    shared_digest = a.layers[HOST_PLATFORM][1][0]
    assert shared_digest == b.layers[HOST_PLATFORM][1][0]
    assert shared_digest not in got_b and base_layer.built[1] not in got_b
    assert b.layers[HOST_PLATFORM][2][0] in got_b
    assert run_cat(isula, ref(reg, "it/share-b"), "/b") == "b"


def test_plain_http_refused_unless_insecure(reg, daemon, base_layer):
    """The session daemon does not list this registry in insecure-registries: no plain HTTP."""
    push_image(reg.url, "it/notinsecure", layers=[base_layer])
    i = Isula(daemon)
    r = i("pull", ref(reg, "it/notinsecure"), timeout=120)
    assert r.returncode == 1, r.stdout
    assert r.stderr.startswith("Error response from daemon:") and reg.host in r.stderr, r.stderr
    assert i("inspect", ref(reg, "it/notinsecure")).returncode != 0


def mirrors_in_order_with_fallback(reg, daemon_factory, proxy_factory, base_layer, scheme):
    broken = proxy_factory(reg.url)
    broken.fault = ("status", 503)
    dead = "127.0.0.1:%d" % free_port()
    res = push_image(reg.url, "mirrored/img", tag="1", layers=[base_layer, Layer({"m": "mirror\n"})])
    dm = daemon_factory(insecure=[dead, broken.host, reg.host],
                        mirrors=[scheme + dead, scheme + broken.host, scheme + reg.host])
    i = Isula(dm)
    r = i("pull", "mirrored/img:1", timeout=120)
    assert r.returncode == 0, r.stderr
    assert broken.requests, "the second mirror was not tried"
    assert i.inspect("mirrored/img:1")["Id"] == res.image_id
    assert i.ok("run", "--rm", "mirrored/img:1", "cat", "/m") == "mirror"


def test_mirrors_in_order_with_fallback(reg, daemon_factory, proxy_factory, base_layer):
    """Mirrors as the guide writes them (host[:port], here listed in insecure-registries)."""
    mirrors_in_order_with_fallback(reg, daemon_factory, proxy_factory, base_layer, "")


def test_mirrors_with_scheme(reg, daemon_factory, proxy_factory, base_layer):
    """Mirrors as Docker writes them (http://host:port)."""
    mirrors_in_order_with_fallback(reg, daemon_factory, proxy_factory, base_layer, "http://")


def test_docker_cli_pull(reg, d, base_layer):
    res = push_image(reg.url, "it/dockercli", tag="t1", layers=[base_layer], platforms=ALL_PLATFORMS)
    r = docker_cli(d, "pull", ref(reg, "it/dockercli", "t1"))
    assert r.returncode == 0, r.stderr
    assert "Digest: " + res.digest in r.stdout
    out = docker_cli(d, "image", "inspect", "-f", "{{.Id}}", ref(reg, "it/dockercli", "t1"))
    assert out.stdout.strip() == res.configs[HOST_PLATFORM]
    by_digest = "%s/it/dockercli@%s" % (reg.host, res.digest)
    r = docker_cli(d, "pull", by_digest)
    assert r.returncode == 0, r.stderr
    r = docker_cli(d, "pull", ref(reg, "it/dockercli", "missing"))
    assert r.returncode != 0 and r.stderr.strip()


def test_save_load_roundtrip(reg, isula, base_layer, tmp_path):
    res = push_image(reg.url, "it/save-one", layers=[base_layer, Layer({"s": "one\n"})])
    name = ref(reg, "it/save-one")
    isula.ok("pull", name, timeout=120)
    archive = tmp_path / "one.tar"
    isula.ok("save", "-o", archive, name, timeout=120)
    isula.ok("rmi", name)
    assert isula("inspect", name).returncode != 0
    isula.ok("load", "-i", archive, timeout=120)
    assert isula.inspect(name)["Id"] == res.image_id
    assert run_cat(isula, name, "/s") == "one"


def test_save_several_images_in_one_archive(reg, isula, base_layer, tmp_path):
    a = push_image(reg.url, "it/save-a", layers=[base_layer, Layer({"s": "A\n"})])
    b = push_image(reg.url, "it/save-b", layers=[base_layer, Layer({"s": "B\n"})])
    isula.ok("pull", ref(reg, "it/save-a"), timeout=120)
    isula.ok("pull", ref(reg, "it/save-b"), timeout=120)
    archive = tmp_path / "two.tar"
    isula.ok("save", "-o", archive, ref(reg, "it/save-a"), ref(reg, "it/save-b"), timeout=120)
    isula.ok("rmi", ref(reg, "it/save-a"), ref(reg, "it/save-b"))
    assert isula("inspect", ref(reg, "it/save-a")).returncode != 0
    isula.ok("load", "-i", archive, timeout=120)
    assert isula.inspect(ref(reg, "it/save-a"))["Id"] == a.image_id
    assert isula.inspect(ref(reg, "it/save-b"))["Id"] == b.image_id
    assert run_cat(isula, ref(reg, "it/save-b"), "/s") == "B"


def test_docker_save_load(reg, d, base_layer, tmp_path):
    res = push_image(reg.url, "it/dsave", layers=[base_layer, Layer({"x": "docker\n"})])
    name = ref(reg, "it/dsave")
    assert docker_cli(d, "pull", name).returncode == 0
    archive = tmp_path / "d.tar"
    r = docker_cli(d, "save", "-o", archive, name)
    assert r.returncode == 0, r.stderr
    assert docker_cli(d, "rmi", name).returncode == 0
    r = docker_cli(d, "load", "-i", archive)
    assert r.returncode == 0 and "Loaded image: " + name in r.stdout, (r.stdout, r.stderr)
    assert docker_cli(d, "image", "inspect", "-f", "{{.Id}}", name).stdout.strip() == res.image_id
    hist = docker_cli(d, "history", "-q", name)
    assert hist.returncode == 0 and res.image_id[7:19] in hist.stdout, hist.stderr


def test_pull_of_a_loaded_image_records_its_repo_digest(reg, isula, base_layer, tmp_path):
    res = push_image(reg.url, "it/reloaded", layers=[base_layer, Layer({"r": "reloaded\n"})])
    name = ref(reg, "it/reloaded")
    isula.ok("pull", name, timeout=120)
    archive = tmp_path / "r.tar"
    isula.ok("save", "-o", archive, name, timeout=120)
    isula.ok("rmi", name)
    isula.ok("load", "-i", archive, timeout=120)
    assert isula.inspect(name)["RepoDigests"] == []
    isula.ok("pull", name, timeout=120)
    img = isula.inspect(name)
    assert img["Id"] == res.image_id
    assert "%s/it/reloaded@%s" % (reg.host, res.digest) in img["RepoDigests"]
